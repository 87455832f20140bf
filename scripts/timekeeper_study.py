"""How much of the kit-F1 gap is the timekeeper (closed hat, open hat, ride or none), and whether
anything the song offers predicts it, or the groove as a whole. The README's "How good are the
drums" quotes this output.

1. On the validation songs: the arranged grooves (no fills, no rests) scored by kit F1, then the
   same grooves with their hats/ride moved to the real song's dominant timekeeper class.
2. On the training songs in 4/4: a 5-fold logistic classifier of that timekeeper from song-level features
   (mean CQT spectrum, part-onset profile and densities, genre, tempo) against always guessing the
   majority class. Needs scikit-learn (installed with librosa).
3. On the validation songs: one groove per song from the training songs whose song-level features
   are nearest (the kit-class cells struck in more than :data:`GROOVE_SHARE` of their bars), played
   in every bar, against the same groove from all training songs (which is the most common bar's)
   and against each song's own most common bar (an upper bound for any single repeated groove).

    .venv/bin/python scripts/timekeeper_study.py ../datasets/validation ../datasets/train_all

The training dataset may hold songs of every meter (``--every-meter``); the classifier and the
retrieval read its songs in 4/4 only, as they did on the 4/4 builds.
"""

from __future__ import annotations

import argparse

import numpy as np

from drumgen import dataset, generation, kit, metrics
from drumgen.meter import to_model_steps
from drumgen.model.bundle import load_models
from drumgen.songdata import CQT_LEVELS, GENRES

KEEPERS = [kit.KIT_CLASSES.index(name) for name in ("closed_hat", "open_hat", "ride")]
NONE = len(KEEPERS)
NAMES = ("closed hat", "open hat", "ride", "none")
GROOVE_SHARE = 0.35
"""A groove's cell: a kit class and step struck in more than this share of the songs' bars (0.3 and
0.4 give the same groove over all training songs; 0.5 drops the off-beat hats)."""
NEIGHBOUR_COUNTS = (10, 30, 100)


def dominant_timekeeper(real_grid: np.ndarray) -> int:
    """Index in :data:`NAMES` of the class keeping time in most of the song (none: fewer strokes
    than half a stroke per bar)."""
    counts = kit.to_kit_classes(real_grid).sum(axis=(0, 2))[KEEPERS]
    return int(np.argmax(counts)) if counts.max() > 0.5 * len(real_grid) else NONE


def song_features(song: dataset.SongData) -> np.ndarray:
    a = song.arrays
    spectrum = (a["bar_cqts"].astype(np.float32) / CQT_LEVELS).mean(axis=(0, 2))
    onsets = to_model_steps(a["part_onsets"], song.meter.bar_steps).astype(np.float32)  # (n_bars, 5, 16)
    profile = np.log1p(onsets).mean(axis=0).ravel()
    density = (onsets > 0).mean(axis=(0, 2))
    genre = np.array([song.genre == name for name in GENRES], dtype=np.float32)
    tempo = np.log(np.median(a["bar_tempos"]) / 120.0)
    return np.concatenate([spectrum, profile, density, genre, [tempo]])


def oracle_swap(validation: str, limit: int) -> None:
    models = load_models()
    config = models.config.replace(arrangement={"fills": 0.0, "play_always": True})
    plain, swapped = [], []
    for song in dataset.load_songs(validation, limit=limit):
        a = song.arrays
        stored = generation.stored_predictions(
            song, ssm_generator=models.ssm_generator, vae=models.vae, config=config
        )
        arranged = generation.stored_arrangement(stored, drummer=models.drummer, config=config)
        generated, real = kit.to_kit_classes(arranged.grid), kit.to_kit_classes(a["drum_grids"])
        plain.append(metrics.onset_f1(generated, real))
        keeper = generated[:, KEEPERS].any(axis=1)
        moved = generated.copy()
        moved[:, KEEPERS] = False
        dominant = dominant_timekeeper(a["drum_grids"])
        if dominant != NONE:
            moved[:, KEEPERS[dominant]] = keeper
        swapped.append(metrics.onset_f1(moved, real))
    print(f"{len(plain)} validation songs, grooves without fills or rests: kit F1 {np.mean(plain):.3f}")
    print(f"  with the real song's timekeeper swapped in:            kit F1 {np.mean(swapped):.3f}")


def classifier(songs: list[dataset.SongData]) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    songs = [song for song in songs if song.meter.is_common_time]
    x = np.array([song_features(song) for song in songs])
    y = np.array([dominant_timekeeper(song.arrays["drum_grids"]) for song in songs])
    counts = np.bincount(y, minlength=len(NAMES))
    print(
        f"{len(songs)} training songs: " + ", ".join(f"{n} {c}" for n, c in zip(NAMES, counts, strict=True))
    )
    print(f"  always the majority class: accuracy {counts.max() / len(y):.3f}")
    for c in (0.01, 0.1, 1.0):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
        guess = cross_val_predict(model, x, y, cv=5)
        print(f"  logistic C={c}: 5-fold accuracy {np.mean(guess == y):.3f}")


def bar_shares(classes: np.ndarray) -> np.ndarray:
    """Share of a song's non-empty 16-step bars striking each kit class on each step, (9, 16)."""
    playing = classes[classes.reshape(len(classes), -1).any(axis=1)]
    return playing.mean(axis=0) if len(playing) else np.zeros(classes.shape[1:])


def most_common_bar(classes: np.ndarray) -> np.ndarray:
    """The song's most frequent non-empty kit-class bar, (9, 16) bool."""
    playing = classes[classes.reshape(len(classes), -1).any(axis=1)]
    if not len(playing):
        return np.zeros(classes.shape[1:], dtype=bool)
    patterns, counts = np.unique(playing.reshape(len(playing), -1), axis=0, return_counts=True)
    return patterns[np.argmax(counts)].reshape(classes.shape[1:])


def retrieval(train_songs: list[dataset.SongData], validation: str, limit: int) -> None:
    train = [song for song in train_songs if song.meter.is_common_time]
    songs = [song for song in dataset.load_songs(validation, limit=limit) if song.meter.is_common_time]
    train_shares = np.array([bar_shares(kit.to_kit_classes(s.arrays["drum_grids"])) for s in train])
    x_train = np.array([song_features(s) for s in train])
    centre, scale = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
    x_train = (x_train - centre) / scale
    overall = train_shares.mean(axis=0) > GROOVE_SHARE
    rows = []
    for song in songs:
        real = kit.to_kit_classes(song.arrays["drum_grids"])

        def score(groove: np.ndarray, real: np.ndarray = real) -> float:
            return metrics.onset_f1(np.repeat(groove[None], len(real), axis=0), real)

        distances = np.linalg.norm(x_train - (song_features(song) - centre) / scale, axis=1)
        row = {"all": score(overall), "own": score(most_common_bar(real))}
        for k in NEIGHBOUR_COUNTS:
            nearest = np.argsort(distances)[:k]
            row[f"{k} nearest"] = score(train_shares[nearest].mean(axis=0) > GROOVE_SHARE)
            row[f"{k} nearest - all"] = row[f"{k} nearest"] - row["all"]
        rows.append(row)
    stats = metrics.aggregate(rows)
    print(f"{len(songs)} validation songs, one groove in every bar (kit F1; {len(train)} training songs):")
    print(f"  all training songs' groove (the most common bar): {stats['all']['mean']:.3f}")
    for k in NEIGHBOUR_COUNTS:
        gain = stats[f"{k} nearest - all"]
        print(
            f"  the {k:3d} nearest training songs' groove:        {stats[f'{k} nearest']['mean']:.3f}"
            f"  ({gain['mean']:+.3f} [{gain['ci_low']:+.3f}, {gain['ci_high']:+.3f}])"
        )
    print(f"  the song's own most common bar (upper bound):     {stats['own']['mean']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("validation", help="a validation dataset folder (drumgen dataset build)")
    parser.add_argument("train", help="a training dataset folder")
    parser.add_argument("--limit", type=int, default=5000)
    args = parser.parse_args(argv)
    oracle_swap(args.validation, args.limit)
    train_songs = dataset.load_songs(args.train, limit=args.limit)
    classifier(train_songs)
    retrieval(train_songs, args.validation, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
