"""How often drums open the hi-hat, and which songs use the open hat as their main timekeeper.
The README's "Playable kit" quotes this output.

On the songs of a dataset (the validation songs, or an evaluation's analysis folder): the share of
hi-hat strokes (closed and open hat kit classes) that are open in the real drums, in the paper's
NB baseline and in the arranged drums, the arranged drums' kit, onset and hats F1, and how many
songs' real drums play the open hat (46) more than any other timekeeper sound.

    .venv/bin/python scripts/open_hat_study.py ../datasets/validation --limit 117
"""

from __future__ import annotations

import argparse

import numpy as np
from tqdm import tqdm

from drumgen import dataset, evaluation, generation, kit, metrics
from drumgen.model.bundle import load_models
from drumgen.representation import DRUM_PITCHES

HAT_CLASSES = [kit.KIT_CLASSES.index("closed_hat"), kit.KIT_CLASSES.index("open_hat")]
TIMEKEEPER_PITCHES = (42, 44, 46, 49, 51, 53, 54, 59, 69, 70)
"""The sounds a real drummer keeps time on (hats, ride, crash and hat-like percussion)."""


def hat_strokes(grid: np.ndarray) -> np.ndarray:
    """Closed and open hi-hat strokes of a grid [shape=(2,), counts], by kit class."""
    return kit.to_kit_classes(grid)[:, HAT_CLASSES].sum(axis=(0, 2))


def main_timekeeper(grid: np.ndarray) -> int:
    """The GM note of :data:`TIMEKEEPER_PITCHES` a song's drums strike most."""
    strokes = (grid > 0).sum(axis=(0, 2))
    return max(TIMEKEEPER_PITCHES, key=lambda pitch: strokes[DRUM_PITCHES.index(pitch)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a dataset folder (drumgen dataset build)")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)

    models = load_models(None)
    config = models.config
    bars = evaluation.BaselineBars.from_meta(models.require("vae_meta")["baselines"])
    songs = dataset.load_songs(args.dataset, limit=args.limit, progress=True)
    strokes = {"real": np.zeros(2), "neighbor_bars": np.zeros(2), "drumgen": np.zeros(2)}
    scores = []
    open_hat_songs = 0
    for song in tqdm(songs, desc="arranging", unit="song"):
        real = song.arrays["drum_grids"]
        stored = generation.stored_predictions(
            song, ssm_generator=models.ssm_generator, vae=models.vae, config=config
        )
        arranged = generation.stored_arrangement(stored, drummer=models.drummer, config=config)
        nb = evaluation.method_drums("neighbor_bars", song, models=models, bars=bars, seed=0, config=config)
        strokes["real"] += hat_strokes(real)
        strokes["neighbor_bars"] += hat_strokes(nb)
        strokes["drumgen"] += hat_strokes(arranged.grid)
        scores.append(metrics.song_metrics(arranged.grid, real, bar_steps=song.meter.bar_steps))
        open_hat_songs += main_timekeeper(real) == 46
    print(f"{len(songs)} songs; {open_hat_songs} play the open hat more than any other timekeeper sound")
    for name, (closed, opened) in strokes.items():
        print(f"  {name:14s} open share of hi-hat strokes {opened / max(closed + opened, 1):.4f}")
    for name in ("kit_f1", "onset_f1", "hats_f1"):
        print(f"  drumgen {name} {np.nanmean([score[name] for score in scores]):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
