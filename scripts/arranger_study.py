"""The figures behind the arranger's kick lock and section variants, from a validation dataset.

    .venv/bin/python scripts/arranger_study.py ../datasets/validation [--limit 117]

Prints, over the dataset's songs (mean over songs):

- kick F1 against the real kicks (per 16th step, pooled over each song's bars) of: the kick on
  the bass part's onsets plus beats 1 and 3; the drum VAE's kick chance above 0.3; the kick on
  beats 1 and 3 alone (the most common bar's kick);
- under a busy bass (bars with 7 or more bass onsets where the real drums kick): the real kicks
  per bar (median, mean), the share of them on bass onsets, and the arranged kicks per bar with
  the preset's settings;
- inside section labels (pairs of bars sharing one): the Pearson correlation of the real drum
  SSM with the predicted drum SSM and with the arranged drums' SSM, with and without variants;
- around the real drums' section changes (``evaluation.real_section_changes``), pooled over the
  songs' bars, for the real and the arranged drums: the share of the bars before a change that
  are fills (``metrics.fill_bars``) against the share of the other bars, and the share of the
  changes' first bars that open with a crash (``metrics.crash_bars``) against the other bars'.

Measured on this machine, not asserted by any test. The README's arranger section cites it.
"""

from __future__ import annotations

import argparse

import numpy as np

from drumgen import dataset, evaluation, generation, kit, metrics, parts, similarity
from drumgen.arrangement import KICK_ANCHOR_STEPS
from drumgen.model.bundle import load_models

KICK_ROWS = list(kit.piece_rows("kick"))
BASS = parts.PART_FAMILIES.index("bass")
BUSY_BASS = 7
"""Bass onsets in a bar from which it counts as busy."""


def f1(generated: np.ndarray, real: np.ndarray) -> float:
    """Onset F1 of two boolean arrays of the same shape (1 when both are empty)."""
    total = generated.sum() + real.sum()
    return 1.0 if total == 0 else float(2 * (generated & real).sum() / total)


def within_label_pearson(first: np.ndarray, second: np.ndarray, labels: np.ndarray) -> float:
    """Pearson correlation of two SSMs over the bar pairs ``i < j`` that share a label (NaN when
    fewer than three pairs or either is constant)."""
    upper = np.triu(labels[:, None] == labels[None, :], k=1)
    x, y = first[upper].astype(np.float64), second[upper].astype(np.float64)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def marks_around_changes(grid: np.ndarray, changes: np.ndarray, bar_steps: np.ndarray) -> np.ndarray:
    """Counts [fills before a change, bars before a change, fills elsewhere, other bars, crashes on
    a change, changes, crashes elsewhere, other bars] of one song's drums (int array of 8)."""
    n_bars = len(grid)
    changes = changes[(changes >= 1) & (changes < n_bars)]
    before = np.zeros(n_bars, dtype=bool)
    before[changes - 1] = True
    on = np.zeros(n_bars, dtype=bool)
    on[changes] = True
    fills = metrics.fill_bars(grid, bar_steps=bar_steps)
    crashes = metrics.crash_bars(grid)
    return np.array(
        [
            *(fills[before].sum(), before.sum(), fills[~before].sum(), (~before).sum()),
            *(crashes[on].sum(), on.sum(), crashes[~on].sum(), (~on).sum()),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a validation dataset folder (drumgen dataset build)")
    parser.add_argument("--limit", type=int, default=117)
    args = parser.parse_args()

    models = load_models()
    config = models.config
    whole = config.replace(arrangement={"variant_distance": 1.0})
    scores: dict[str, list[float]] = {}
    real_counts, on_bass, arranged_counts = [], [], []
    marks = {"real drums": np.zeros(8, dtype=np.int64), "arranged drums": np.zeros(8, dtype=np.int64)}
    for song in dataset.load_songs(args.dataset, limit=args.limit):
        a = song.arrays
        real_kick = (a["drum_grids"][:, KICK_ROWS] > 0).any(axis=1)  # (n_bars, 16)
        bass = a["part_onsets"][:, BASS] > 0
        anchors = np.zeros_like(bass)
        anchors[:, list(KICK_ANCHOR_STEPS)] = True
        stored = generation.stored_predictions(
            song, ssm_generator=models.ssm_generator, vae=models.vae, config=config
        )
        ssms = stored.ssms
        vae_kick = stored.predicted.probabilities[:, KICK_ROWS].sum(axis=1) > 0.3
        scores.setdefault("kick F1: bass onsets + beats 1 and 3", []).append(f1(bass | anchors, real_kick))
        scores.setdefault("kick F1: the VAE's kick chance > 0.3", []).append(f1(vae_kick, real_kick))
        scores.setdefault("kick F1: beats 1 and 3 (the common bar's)", []).append(f1(anchors, real_kick))

        grids = {}
        for name, settings in (("with variants", config), ("one groove per label", whole)):
            grids[name] = generation.stored_arrangement(stored, drummer=models.drummer, config=settings).grid
        busy = (bass.sum(axis=1) >= BUSY_BASS) & real_kick.any(axis=1)
        real_counts += list(real_kick[busy].sum(axis=1))
        on_bass += list((real_kick & bass)[busy].sum(axis=1) / real_kick[busy].sum(axis=1))
        arranged_kick = (grids["with variants"][:, KICK_ROWS] > 0).any(axis=1)
        arranged_counts += list(arranged_kick[busy & arranged_kick.any(axis=1)].sum(axis=1))

        changes = evaluation.real_section_changes(song, config=config)
        for name, grid in (("real drums", a["drum_grids"]), ("arranged drums", grids["with variants"])):
            marks[name] += marks_around_changes(grid, changes, song.meter.bar_steps)

        labels = stored.sections.bar_label_idx()
        real_ssm = ssms.drum
        scores.setdefault("inside labels: predicted drum SSM ~ real", []).append(
            within_label_pearson(ssms.predicted, real_ssm, labels)
        )
        for name, grid in grids.items():
            arranged_ssm = similarity.drum_ssm(grid, scale=config.similarity.drum_scale)
            scores.setdefault(f"inside labels: arranged drums ({name}) ~ real", []).append(
                within_label_pearson(arranged_ssm, real_ssm, labels)
            )

    for name, values in scores.items():
        print(f"{name:58s} {np.nanmean(values):.3f}")
    print(
        f"busy bass ({len(real_counts)} bars): real kicks per bar median {np.median(real_counts):.0f}, "
        f"mean {np.mean(real_counts):.2f}, {np.mean(on_bass):.0%} on bass onsets; "
        f"arranged kicks per bar mean {np.mean(arranged_counts):.2f}"
    )
    for name, c in marks.items():
        print(
            f"{name} around the real section changes ({c[5]}): fills in {c[0] / c[1]:.3f} of the bars "
            f"before one ({c[2] / c[3]:.3f} of the others), a crash on {c[4] / c[5]:.3f} of their first "
            f"bars ({c[6] / c[7]:.3f} of the others)"
        )


if __name__ == "__main__":
    main()
