"""Would section chances calibrated on the song's own parts raise kit F1?

The arranger decodes each section label from the VAE's chances pooled over the label's bars. This
study fits boosted regression trees, on the *training* songs, from those pooled chances plus what
the song offers (the parts' onsets on each step, tempo, genre, the label's share of the song) to
the share of the label's bars in which the real drums strike each kit class (:data:`KIT_CLASSES`)
on each step, and scores on the held-out songs:

1. a plain decode: every bar of a label plays each class on the steps whose chance exceeds a
   threshold, with the VAE's pooled chances against the calibrated ones;
2. the arranger as shipped, with each bar's rows scaled by its label's calibrated / pooled chance.

Only songs whose bars are all 16 steps (the "4/4" meter group). Needs scikit-learn (installed
with librosa). About 4 minutes on 1,100 training and 300 held-out songs:

    .venv/bin/python scripts/groove_calibration_study.py ../datasets/train_all ../datasets/validation_all
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import numpy as np

from drumgen import dataset, generation, kit, metrics
from drumgen.meter import meter_group, to_model_steps
from drumgen.model.bundle import load_models
from drumgen.songdata import GENRES

N_CLASSES = len(kit.KIT_CLASSES)
CLASS_ROWS = [list(kit.KIT_CLASS_ROWS[name]) for name in kit.KIT_CLASSES]
THRESHOLDS = (0.2, 0.25, 0.3, 0.35)


@dataclass
class PreparedSong:
    stored: generation.StoredPredictions  # the song, its SSMs, sections and the VAE's predictions
    labels: np.ndarray  # (n_bars,) section label of each bar
    features: np.ndarray  # (n_labels * N_CLASSES * 16, n_features)
    targets: np.ndarray  # (n_labels * N_CLASSES * 16,) share of the label's bars with the hit
    pooled: np.ndarray  # (n_labels, N_CLASSES, 16) the VAE's pooled class chances


def class_chances(probabilities: np.ndarray) -> np.ndarray:
    """(n, 46, 16) row chances -> (n, N_CLASSES, 16): each class's rows summed, capped at 1."""
    return np.stack([np.minimum(probabilities[:, rows].sum(axis=1), 1.0) for rows in CLASS_ROWS], axis=1)


def prepare(song: dataset.SongData, models) -> PreparedSong:
    config = models.config
    stored = generation.stored_predictions(
        song, ssm_generator=models.ssm_generator, vae=models.vae, config=config
    )
    chances = class_chances(stored.predicted.probabilities.astype(np.float64))
    real = metrics.to_kit_classes(song.arrays["drum_grids"] > 0)[..., :16].astype(np.float64)
    parts = to_model_steps(song.arrays["part_onsets"], song.meter.bar_steps) > 0
    labels = stored.sections.bar_label_idx()
    tempo = float(np.median(song.arrays["bar_tempos"]))
    genre = GENRES.index(song.genre) if song.genre in GENRES else -1
    steps = np.arange(16)
    rows, targets, pooled = [], [], []
    for label in range(labels.max() + 1):
        bars = np.flatnonzero(labels == label)
        label_chances = chances[bars].mean(axis=0)  # (N_CLASSES, 16)
        share = real[bars].mean(axis=0)
        part_share = parts[bars].mean(axis=0)  # (n_parts, 16)
        per_beat_position = label_chances.reshape(N_CLASSES, 4, 4).mean(axis=1)
        pooled.append(label_chances)
        for c in range(N_CLASSES):
            block = np.column_stack(
                [
                    label_chances[c],
                    np.full(16, label_chances[c].mean()),
                    per_beat_position[c, steps % 4],
                    label_chances.T,  # every class's chance on the step
                    steps,
                    steps % 4,
                    np.full(16, len(bars) / len(labels)),
                    np.full(16, tempo),
                    np.full(16, genre),
                    part_share.T,
                    np.tile(part_share.mean(axis=1), (16, 1)),
                    np.full(16, c),
                ]
            )
            rows.append(block)
            targets.append(share[c])
    return PreparedSong(
        stored,
        labels,
        np.concatenate(rows),
        np.concatenate(targets),
        np.stack(pooled),
    )


def plain_decode(labels: np.ndarray, chances: np.ndarray, threshold: float) -> np.ndarray:
    """(n_bars, N_CLASSES, 16) bool: every bar plays its label's classes above the threshold."""
    return chances[labels] > threshold


def calibrated_probabilities(prepared: PreparedSong, calibrated: np.ndarray) -> np.ndarray:
    """Each bar's 46 x 16 chances scaled row by row by its label's calibrated / pooled class chance."""
    p = prepared.stored.predicted.probabilities.astype(np.float64)
    factor = calibrated / np.maximum(prepared.pooled, 1e-6)  # (n_labels, N_CLASSES, 16)
    per_row = factor[:, kit.ROW_TO_KIT_CLASS]  # (n_labels, 46, 16)
    return np.clip(p * per_row[prepared.labels], 0.0, 1.0).astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", help="a dataset folder of the VAE's training songs")
    parser.add_argument("held_out", help="a dataset folder of songs the VAE never saw")
    parser.add_argument("--limit", type=int, default=2000, help="at most this many songs of each")
    args = parser.parse_args()
    from sklearn.ensemble import HistGradientBoostingRegressor

    models = load_models(None)

    def load(folder: str) -> list[PreparedSong]:
        songs = dataset.load_songs(folder, limit=args.limit)
        return [prepare(song, models) for song in songs if meter_group(song.meter) == "4/4"]

    train, held_out = load(args.train), load(args.held_out)
    x = np.concatenate([p.features for p in train])
    trees = HistGradientBoostingRegressor(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=31,
        categorical_features=[x.shape[1] - 1],
        random_state=0,
    )
    trees.fit(x, np.concatenate([p.targets for p in train]))
    print(f"{len(train)} training songs ({len(x)} label-class-steps), {len(held_out)} held-out songs")
    calibrated = [np.clip(trees.predict(p.features), 0.0, 1.0).reshape(p.pooled.shape) for p in held_out]
    real = [metrics.to_kit_classes(p.stored.song.arrays["drum_grids"] > 0)[..., :16] for p in held_out]
    print("plain decode, kit F1 | " + " | ".join(f"threshold {t}" for t in THRESHOLDS))
    for name, chances in (("VAE pooled", [p.pooled for p in held_out]), ("calibrated", calibrated)):
        scores = [
            np.mean(
                [
                    metrics.onset_f1(plain_decode(p.labels, c, t), r)
                    for p, c, r in zip(held_out, chances, real, strict=True)
                ]
            )
            for t in THRESHOLDS
        ]
        print(name + " | " + " | ".join(f"{s:.4f}" for s in scores))
    print("arranged | kit F1 | onset F1 | Pearson | consecutive | two-bar")
    for name in ("VAE", "calibrated"):
        rows = []
        for p, c in zip(held_out, calibrated, strict=True):
            stored = p.stored
            if name == "calibrated":
                calibrated_chances = calibrated_probabilities(p, c)
                stored = replace(
                    stored, predicted=replace(stored.predicted, probabilities=calibrated_chances)
                )
            arranged = generation.stored_arrangement(stored, drummer=models.drummer, config=models.config)
            rows.append(metrics.song_metrics(arranged.grid, p.stored.song.arrays["drum_grids"]))
        keys = ("kit_f1", "onset_f1", "ssm_pearson", "consecutive_repeat", "two_bar_repeat")
        print(name + " | " + " | ".join(f"{np.nanmean([r[k] for r in rows]):.4f}" for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
