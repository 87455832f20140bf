"""The drum VAE's learning curve: validation onset F1 for growing training sets.

    .venv/bin/python scripts/learning_curve.py ../datasets/train ../datasets/validation \\
        --sizes 100 300 1000 --minutes 10 --out ../learning_curve

Trains one VAE on the first N songs of TRAIN_DATASET for each --sizes N (the same --minutes budget
and --seed each), scores the bar-by-bar decoding's onset F1 on VALIDATION_DATASET, and writes
OUT/learning_curve.json (after every size) and OUT/learning_curve.png. Rerunning skips the sizes
already in the JSON (--force retrains them). The logic lives in drumgen.model.learning_curve.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from drumgen.config import PRESETS, load_config
from drumgen.exceptions import DrumgenError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "train_data", metavar="TRAIN_DATASET", help="a dataset folder (drumgen dataset build)"
    )
    parser.add_argument("val_data", metavar="VALIDATION_DATASET", help="a dataset folder")
    parser.add_argument("--sizes", type=int, nargs="+", required=True, help="training songs per point")
    parser.add_argument("--minutes", type=float, required=True, help="training time budget of each point")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the JSON and the plot")
    parser.add_argument(
        "--preset", choices=PRESETS, default="default", help="config preset (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="training seed of every point (default: %(default)s)"
    )
    parser.add_argument("--force", action="store_true", help="retrain sizes already in the JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from drumgen import display
    from drumgen.model.learning_curve import CURVE_FILE, PLOT_FILE, learning_curve_from_datasets

    config = load_config(args.preset, vae={"max_minutes": args.minutes})
    try:
        curve = learning_curve_from_datasets(
            args.train_data,
            args.val_data,
            sizes=args.sizes,
            config=config,
            out_dir=args.out,
            seed=args.seed,
            force=args.force,
            progress=sys.stderr.isatty(),
        )
    except DrumgenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    figure = display.plot_learning_curve([p.n_songs for p in curve.points], curve.scores())
    plot = display.save_figure(figure, Path(args.out) / PLOT_FILE)
    for point in curve.points:
        print(
            f"{point.n_songs:6d} songs {point.n_bars:8d} bars  F1 {point.f1:.3f}  ({point.epochs_run} epochs)"
        )
    logging.getLogger("learning_curve").info("-> %s, %s", Path(args.out) / CURVE_FILE, plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
