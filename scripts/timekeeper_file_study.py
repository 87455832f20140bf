"""Whether how a MIDI file is written, or its genre, tells which sound keeps time in its drums.

The drummer model already learns a song's kick and snare notes from its file features
(:func:`drumgen.filestyle.file_features`, ``scripts/kit_sounds_study.py``); this asks the same of
the timekeeper: is the file's drum part led by the closed hi-hat, the open hi-hat or the ride (the
kit classes of :mod:`drumgen.kit`, the one struck most often over the whole file)? With the real
song's timekeeper the arranger's grooves would score far higher (README, "How good are the
drums"), and ``scripts/timekeeper_study.py`` found that the song's sound (spectrum, part onsets,
tempo, genre) does not predict it. Here every MIDI file of a corpus split is read (file features
of its non-drum parts, genre from the corpus index, files grouped by the index's ``group`` so
that versions of one song never straddle two folds), and boosted trees are scored by grouped
5-fold cross-validation against always guessing the majority class.

    .venv/bin/python scripts/timekeeper_file_study.py ../shared/data/midi_corpus --work ../datasets/files

Reading the 9,932 training files takes about 8 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from drumgen import dataset, filestyle, kit, midi
from drumgen.exceptions import DrumgenError

KEEPERS = ("closed_hat", "open_hat", "ride")


def file_keeper(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """A file's features and its drums' note-ons per class of :data:`KEEPERS` (None: unreadable)."""
    try:
        midi_file = midi.read_midi_file(path)
    except DrumgenError:
        return None
    counts = midi.drum_note_ons(midi_file)
    per_class = [counts[list(kit.KIT_CLASS_PITCHES[name])].sum() for name in KEEPERS]
    return filestyle.file_features(midi_file), np.array(per_class, dtype=np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", help="a corpus folder with index.csv and <split>.tar.xz")
    parser.add_argument("--split", default="train")
    parser.add_argument("--work", required=True, help="where the split's archive is extracted")
    parser.add_argument("--limit", type=int, help="read only the first N files (a quick look)")
    args = parser.parse_args()

    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import log_loss
    from sklearn.model_selection import GroupKFold, cross_val_predict

    songs = dataset.list_songs(args.corpus, args.work, split=args.split)[: args.limit]
    with open(Path(args.corpus) / "index.csv", newline="") as handle:
        groups_by_path = {row["path"]: row["group"] for row in csv.DictReader(handle)}
    root = Path(args.work) / "midi" / args.split
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        read = list(
            tqdm(
                pool.map(file_keeper, [song.path for song in songs], chunksize=16),
                total=len(songs),
                desc="reading files",
                unit="file",
                disable=not sys.stderr.isatty(),
            )
        )
    kept = [(song, result) for song, result in zip(songs, read, strict=True) if result is not None]
    features = np.stack([result[0] for _, result in kept]).astype(np.float64)
    counts = np.stack([result[1] for _, result in kept])
    genres = sorted({song.genre for song, _ in kept})
    genre_columns = np.array(
        [[song.genre == genre for genre in genres] for song, _ in kept], dtype=np.float64
    )
    groups = np.array(
        [groups_by_path.get(song.path.relative_to(root).as_posix(), song.song_id) for song, _ in kept]
    )
    played = counts.sum(axis=1) > 0
    keeper = np.argmax(counts[played], axis=1)
    print(f"{len(kept)} of {len(songs)} files read, {played.sum()} with a timekeeper")
    for idx, name in enumerate(KEEPERS):
        print(f"  led by the {name.replace('_', ' ')}: {np.mean(keeper == idx):.3f}")
    prior = np.bincount(keeper, minlength=len(KEEPERS)) / len(keeper)
    prior_loss = log_loss(keeper, np.tile(prior, (len(keeper), 1)))
    print(f"majority guess: accuracy {prior.max():.3f}, log loss {prior_loss:.3f}")
    for name, x in (
        ("genre", genre_columns),
        ("file features", features),
        ("file features + genre", np.hstack([features, genre_columns])),
    ):
        chances = cross_val_predict(
            HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0),
            x[played],
            keeper,
            cv=GroupKFold(5),
            groups=groups[played],
            method="predict_proba",
        )
        guess = np.argmax(chances, axis=1)
        print(f"{name}: accuracy {np.mean(guess == keeper):.3f}, log loss {log_loss(keeper, chances):.3f}")
        for floor in (0.5, 0.6, 0.7):
            called = (guess > 0) & (chances.max(axis=1) > floor)
            right = np.mean(guess[called] == keeper[called]) if called.any() else float("nan")
            print(f"  open hat or ride called at chance > {floor}: {called.sum()} files, {right:.2f} right")


if __name__ == "__main__":
    main()
