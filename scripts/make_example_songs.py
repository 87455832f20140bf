"""Write the bundled example songs (``drumgen.testing.example_songs``) as MIDI files.

    .venv/bin/python scripts/make_example_songs.py                 # into input_midi/
    .venv/bin/python scripts/make_example_songs.py --out /tmp/songs --force

Without ``--force``, if any of the files already exists the command writes nothing, prints one line
naming them and exits with status 1. The songs are composed in code, so the same version of drumgen
always writes the same bytes.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from drumgen.testing import example_song_bytes

log = logging.getLogger("make_example_songs")


def main(argv: Sequence[str] | None = None) -> int:
    """Write every example song to ``<out>/<stem>.mid``; return the exit status."""
    parser = argparse.ArgumentParser(description="Write drumgen's bundled example songs as MIDI files.")
    parser.add_argument(
        "--out",
        default="input_midi",
        metavar="DIR",
        help="folder to write into, created if missing (default: %(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="make_example_songs: %(message)s")

    songs = example_song_bytes()
    out_dir = Path(args.out)
    paths = {stem: out_dir / f"{stem}.mid" for stem in songs}
    existing = [str(path) for path in paths.values() if path.exists()]
    if existing and not args.force:
        log.error("refusing to overwrite %s (use --force)", ", ".join(existing))
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    for stem, data in songs.items():
        paths[stem].write_bytes(data)
        log.info("wrote %s (%d bytes)", paths[stem], len(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
