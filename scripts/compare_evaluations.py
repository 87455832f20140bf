"""One method's scores in two `drumgen evaluate` runs, song by song: what a change to drumgen
moved on the test split. The README's "moved all songs' kit F1 ... (song by song ...)" figures
come from this output.

    .venv/bin/python scripts/compare_evaluations.py ../eval/before ../eval/after

Prints, per metric, the mean of (after - before) over the songs both runs scored, with its 95 %
bootstrap interval (:func:`drumgen.metrics.aggregate`), how many songs changed, and the songs that
moved most.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from drumgen import io, metrics

METRICS = ("kit_f1", "onset_f1", "ssm_pearson", "kick_f1", "snare_f1", "hats_f1")


def per_song_scores(evaluation_dir: Path, method: str) -> dict[str, dict[str, float]]:
    """``{song id: {metric: score}}`` of one method in an evaluation folder's details.json."""
    path = evaluation_dir / "details.json"
    if not path.is_file():
        raise SystemExit(f"{path} not found: give a finished `drumgen evaluate --out` folder")
    details = io.read_json(path)
    if method not in details["per_song"]:
        raise SystemExit(f"{evaluation_dir}: no method {method!r} (has {', '.join(details['per_song'])})")
    return details["per_song"][method]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="an evaluation folder (drumgen evaluate --out)")
    parser.add_argument("after", type=Path, help="another evaluation folder of the same songs")
    parser.add_argument("--method", default="drumgen")
    parser.add_argument("--show", type=int, default=5, help="songs to list at each end (by kit F1)")
    args = parser.parse_args(argv)

    before = per_song_scores(args.before, args.method)
    after = per_song_scores(args.after, args.method)
    songs = [song for song in after if song in before]
    differences = [{name: after[song][name] - before[song][name] for name in METRICS} for song in songs]
    print(f"{args.method}: {len(songs)} songs in both runs; after - before, song by song")
    for name, stats in metrics.aggregate(differences).items():
        print(f"  {name:12s} {stats['mean']:+.4f} [{stats['ci_low']:+.4f}, {stats['ci_high']:+.4f}]")
    kit_moves = np.array([difference["kit_f1"] for difference in differences])
    print(f"songs whose kit F1 changed: {int((np.abs(kit_moves) > 1e-9).sum())}")
    order = np.argsort(kit_moves)
    for idx in [*order[: args.show], *order[::-1][: args.show]]:
        moved = differences[idx]
        print(f"  {songs[idx]:32s} kit {moved['kit_f1']:+.3f}  hats {moved['hats_f1']:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
