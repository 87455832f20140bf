"""How often the kit-sound trees choose a song's own kick and snare notes on files they never saw,
with the file features' sequencer traces and without them. The README's "Kit sounds" quotes this
output.

The trees are fitted as ``drumgen train drummer`` fits them (:func:`drumgen.drummer.fit_sound_trees`)
on every MIDI file of a training dataset's split, once on all of
:data:`drumgen.filestyle.FILE_FEATURES` and once on the features before the traces
(:data:`drumgen.filestyle.N_BASIC_FEATURES`), and scored on every MIDI file of another dataset
(e.g. the test split's files that ``drumgen evaluate`` extracted): the share of the files whose
piece is mostly written with the chosen note, next to always choosing the training files'
commonest note. Reads every file once (about 5 min for the 9,932 training files with 2 workers).

    .venv/bin/python scripts/kit_note_accuracy.py ../datasets/train_all ../eval/test/analysis
"""

from __future__ import annotations

import argparse

import numpy as np

from drumgen import dataset, drummer, filestyle, kit
from drumgen.drummer import SOUND_PIECES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_dataset", help="the dataset whose split's MIDI files the trees learn from")
    parser.add_argument(
        "test_dataset", help="a dataset (or evaluation analysis folder) whose MIDI files are scored"
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    train_x, train_counts = drummer.sound_examples(
        dataset.source_midi_files(args.train_dataset), workers=args.workers, progress=True
    )
    test_x, test_counts = drummer.sound_examples(
        dataset.source_midi_files(args.test_dataset), workers=args.workers, progress=True
    )
    basic = slice(0, filestyle.N_BASIC_FEATURES)
    with_traces = drummer.fit_sound_trees(train_x, train_counts)
    without = drummer.fit_sound_trees(train_x[:, basic], train_counts)
    print(f"{len(train_x)} training files, {len(test_x)} scored files")
    for piece in SOUND_PIECES:
        played, written = drummer.written_notes(test_counts, piece)
        commonest = int(np.argmax(np.bincount(drummer.written_notes(train_counts, piece)[1])))
        shares = {
            "with the traces": np.mean(with_traces[piece].predict(test_x[played]) == written),
            "without": np.mean(without[piece].predict(test_x[played][:, basic]) == written),
            f"always {kit.PIECE_PITCHES[piece][commonest]}": np.mean(written == commonest),
        }
        print(
            f"{piece}: note right in "
            + ", ".join(f"{v:.3f} {k}" for k, v in shares.items())
            + f" ({played.sum()} files)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
