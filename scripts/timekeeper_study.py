"""How much of the kit-F1 gap is the timekeeper (closed hat, open hat, ride or none), and whether
anything the song offers predicts it. The README's "How good are the drums" quotes this output.

1. On the validation songs: the arranged grooves (no fills, no rests) scored by kit F1, then the
   same grooves with their hats/ride moved to the real song's dominant timekeeper class.
2. On the training songs: a 5-fold logistic classifier of that timekeeper from song-level features
   (mean CQT spectrum, part-onset profile and densities, genre, tempo) against always guessing the
   majority class. Needs scikit-learn (installed with librosa).

    .venv/bin/python scripts/timekeeper_study.py ../datasets/validation ../datasets/train
"""

from __future__ import annotations

import argparse

import numpy as np

from drumgen import dataset, generation, kit, metrics
from drumgen.model.bundle import load_models
from drumgen.songdata import CQT_LEVELS, GENRES

KEEPERS = [kit.KIT_CLASSES.index(name) for name in ("closed_hat", "open_hat", "ride")]
NONE = len(KEEPERS)
NAMES = ("closed hat", "open hat", "ride", "none")


def dominant_timekeeper(real_grid: np.ndarray) -> int:
    """Index in :data:`NAMES` of the class keeping time in most of the song (none: fewer strokes
    than half a stroke per bar)."""
    counts = kit.to_kit_classes(real_grid).sum(axis=(0, 2))[KEEPERS]
    return int(np.argmax(counts)) if counts.max() > 0.5 * len(real_grid) else NONE


def song_features(song: dataset.SongData) -> np.ndarray:
    a = song.arrays
    spectrum = (a["bar_cqts"].astype(np.float32) / CQT_LEVELS).mean(axis=(0, 2))
    onsets = a["part_onsets"].astype(np.float32)
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
        ssms = generation.stored_similarities(song, ssm_generator=models.ssm_generator)
        chosen, _ = generation.select_and_segment(ssms, config=config, source="predicted")
        predicted = generation.stored_vae_predictions(song, chosen, vae=models.vae, config=config)
        arranged = generation.stored_arrangement(song, ssms, predicted, drummer=models.drummer, config=config)
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


def classifier(train: str, limit: int) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    songs = dataset.load_songs(train, limit=limit)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("validation", help="a validation dataset folder (drumgen dataset build)")
    parser.add_argument("train", help="a training dataset folder")
    parser.add_argument("--limit", type=int, default=5000)
    args = parser.parse_args(argv)
    oracle_swap(args.validation, args.limit)
    classifier(args.train, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
