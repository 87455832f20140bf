"""Drum the bundled example songs with the shipped models and record what was written.

    .venv/bin/python scripts/example_drum_digests.py                       # print the digests
    .venv/bin/python scripts/example_drum_digests.py --out tests/data/example_drums.json

For every setting of :data:`SETTINGS` it runs ``drumgen generate input_midi/*.mid`` (seeded) into a
temporary folder and records, per written drum track, the number of its notes and the SHA-256 of
its notes (:func:`drumgen.testing.drum_notes_digest`); the file holds the settings too
(``{"settings": {NAME: [OPTION ...]}, "digests": {NAME: {FILE: {"n_notes", "sha256"}}}}``).
``tests/test_shipped_models.py`` reruns those settings and compares with
``tests/data/example_drums.json``: rewrite that file with this script when the models, the
arranger or step 5 change the drums on purpose, and say so in the commit.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from drumgen.cli import main as drumgen
from drumgen.testing import drum_notes, drum_notes_digest

log = logging.getLogger("example_drum_digests")

SETTINGS: dict[str, tuple[str, ...]] = {
    "default_seed_0": ("--seed", "0"),
    "seed_3_densities_always_play_humanize_swing": (
        *("--seed", "3", "--density", "0", "6", "--always-play"),
        *("--humanize", "0.5", "--swing", "0.4"),
    ),
}
"""``drumgen generate`` options of each recorded run (besides ``--no-plot --force``)."""


def example_digests(songs_dir: str | Path = "input_midi") -> dict[str, dict[str, dict[str, object]]]:
    """``{setting: {drum file name: {"n_notes": N, "sha256": HEX}}}`` for the songs of ``songs_dir``."""
    songs = sorted(str(path) for path in Path(songs_dir).glob("*.mid"))
    found: dict[str, dict[str, dict[str, object]]] = {}
    for name, options in SETTINGS.items():
        log.info("drumgen generate %s", " ".join(options))
        with tempfile.TemporaryDirectory() as work:
            out, runs = Path(work) / "out", Path(work) / "runs"
            if drumgen(["generate", *songs, "-o", str(out), "--runs-dir", str(runs), "--no-plot", *options]):
                raise RuntimeError(f"drumgen generate failed for setting {name}")
            found[name] = {
                path.name: {"n_notes": len(drum_notes(path)), "sha256": drum_notes_digest(path)}
                for path in sorted(out.glob("*_drums.mid"))
            }
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Print the digests, or write them to ``--out``; return the exit status."""
    parser = argparse.ArgumentParser(
        description="Record the drums the shipped models give the example songs."
    )
    parser.add_argument("--songs", default="input_midi", metavar="DIR", help="default: %(default)s")
    parser.add_argument("--out", metavar="FILE", help="JSON file to write (default: print)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="example_drum_digests: %(message)s")
    record = {"settings": {name: list(options) for name, options in SETTINGS.items()}}
    record["digests"] = example_digests(args.songs)
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        log.info("wrote %s", args.out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
