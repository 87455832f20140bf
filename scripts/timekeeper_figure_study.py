"""How much kit F1 the timekeeper's beat figure (quarters, eighths or sixteenths) is worth, and
whether the song predicts it. The README's "How good are the drums" quotes this output.

On the validation songs, each section label's drums as shipped are scored by kit F1, then:

1. **Oracle.** Every bar where drumgen keeps time gets, on the same kit class (hi-hat or ride),
   the beat figure of the real drums' timekeeper in that label (a step of the beat is struck where
   the real hats or ride strike it in more than half of the label's playing bars), repeated on
   every beat.
2. **Prediction.** The same swap with the figure a logistic classifier predicts per section label,
   in 5 folds grouped by song, from the VAE's timekeeper chance on each sixteenth of the beat, the
   accompaniment's onsets on each sixteenth and per part family, the tempo, the label's share of
   the song and the genre. Each label gets the figure of the largest expected F1 under the
   predicted odds (eighths are the safe middle: F1 2/3 against quarters and against sixteenths).

Only 16-step bars are read and touched (their first 16 cells on a wider song canvas). Needs
scikit-learn (installed with librosa).

    .venv/bin/python scripts/timekeeper_figure_study.py ../datasets/validation
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from drumgen import arrangement, dataset, generation, kit, metrics
from drumgen.arrangement import N_STEPS
from drumgen.arrangement import PULSE_PERIOD as BEAT
from drumgen.model.bundle import load_models
from drumgen.parts import N_FAMILIES
from drumgen.songdata import GENRES

KEEPERS = [kit.KIT_CLASSES.index(name) for name in ("closed_hat", "open_hat", "ride")]
KEEPER_PIECES = [kit.PIECES.index(name) for name in kit.TIMEKEEPERS]
FIGURES = ("x...", "x.x.", "xxxx")
"""The beat figures predicted: quarters, eighths, sixteenths (one character per sixteenth)."""
FIGURE_STEPS = np.array([[char == "x" for char in figure] for figure in FIGURES])


def figure_f1(a: np.ndarray, b: np.ndarray) -> float:
    """F1 of one beat figure's strokes against another's, (4,) bool each."""
    total = a.sum() + b.sum()
    return float(2 * (a & b).sum() / total) if total else 1.0


UTILITY = np.array([[figure_f1(a, b) for b in FIGURE_STEPS] for a in FIGURE_STEPS])
"""F1 of playing figure i (row) when the real one is figure j (column)."""


def beat_figure(strokes: np.ndarray) -> np.ndarray:
    """The beat figure of 16-step bars' strokes, (n_bars, 16) bool -> (4,) bool: each sixteenth
    of the beat struck in more than half of the bars' beats."""
    return strokes.reshape(-1, BEAT).mean(axis=0) > 0.5


def nearest_figure(figure: np.ndarray) -> int:
    """Index in :data:`FIGURES` of the figure closest (by F1) to any beat figure."""
    return int(np.argmax([figure_f1(figure, steps) for steps in FIGURE_STEPS]))


def section_rows(
    song: dataset.SongData, labels: np.ndarray, probabilities: np.ndarray, generated: np.ndarray
):
    """Per section label with drumgen's timekeeper playing: (label, features, real figure index
    or -1 where the real drums keep no time there, drumgen's figure index)."""
    a = song.arrays
    full = song.meter.bar_steps == N_STEPS
    keeper_chance = arrangement.piece_probabilities(probabilities)[:, KEEPER_PIECES].max(axis=1)
    real = kit.to_kit_classes(a["drum_grids"])[:, KEEPERS, :N_STEPS].any(axis=1)
    ours = generated[:, KEEPERS, :N_STEPS].any(axis=1)
    onsets = a["part_onsets"][:, :, :N_STEPS] > 0
    genre = [song.genre == name for name in GENRES]
    for label in np.unique(labels):
        bars = np.flatnonzero((labels == label) & full & ours.any(axis=1))
        if not len(bars):
            continue
        playing = real[bars].any(axis=1)
        target = nearest_figure(beat_figure(real[bars][playing])) if playing.any() else -1
        features = np.concatenate(
            [
                keeper_chance[bars].reshape(-1, BEAT).mean(axis=0),
                onsets[bars].any(axis=1).reshape(-1, BEAT).mean(axis=0),
                onsets[bars].reshape(len(bars), N_FAMILIES, -1).mean(axis=(0, 2)),
                [np.log(np.median(a["bar_tempos"][bars]) / 120.0), len(bars) / song.n_bars],
                genre,
            ]
        )
        yield label, features, target, nearest_figure(beat_figure(ours[bars]))


def with_figure(generated: np.ndarray, bars: np.ndarray, figure: np.ndarray) -> None:
    """Play ``figure`` (4,) on every beat of ``bars`` where ``generated`` (kit classes) keeps time,
    on the keeper class it strikes most there; in place."""
    for bar in bars:
        strokes = generated[bar, KEEPERS]
        if not strokes.any():
            continue
        keeper = KEEPERS[int(np.argmax(strokes.sum(axis=1)))]
        generated[bar, KEEPERS] = False
        generated[bar, keeper, :N_STEPS] = np.tile(figure, N_STEPS // BEAT)


def main(argv: list[str] | None = None) -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("validation", help="a validation dataset folder (drumgen dataset build)")
    parser.add_argument("--limit", type=int, default=5000)
    args = parser.parse_args(argv)
    models = load_models()
    config = models.config
    songs, rows = [], []
    for song in dataset.load_songs(args.validation, limit=args.limit):
        stored = generation.stored_predictions(
            song, ssm_generator=models.ssm_generator, vae=models.vae, config=config
        )
        predicted = stored.predicted
        sections = stored.sections
        arranged = generation.stored_arrangement(stored, drummer=models.drummer, config=config)
        labels = sections.bar_label_idx()
        generated = kit.to_kit_classes(arranged.grid)
        songs.append((song, labels, generated))
        rows += [
            (len(songs) - 1, *row) for row in section_rows(song, labels, predicted.probabilities, generated)
        ]
    song_idx = np.array([row[0] for row in rows])
    x = np.array([row[2] for row in rows])
    y = np.array([row[3] for row in rows])
    known = y >= 0
    ours = np.array([row[4] for row in rows])
    print(f"{len(songs)} songs, {len(y)} section labels where drumgen keeps time")
    print(f"  the real drums keep no time in {(~known).sum()} of them")
    print(
        "  real figures: "
        + ", ".join(f"{f} {n}" for f, n in zip(FIGURES, np.bincount(y[known], minlength=3), strict=True))
    )
    print(f"  drumgen plays the real figure (nearest of the three) in {np.mean(ours[known] == y[known]):.3f}")
    pairs = Counter((FIGURES[o], FIGURES[t]) for o, t in zip(ours[known], y[known], strict=True))
    print("  drumgen -> real: " + ", ".join(f"{a} -> {b} {n}" for (a, b), n in pairs.most_common()))

    guess = np.full(len(y), -1)
    for train, test in GroupKFold(5).split(x, y, song_idx):
        train = train[known[train]]
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=3000)).fit(
            x[train], y[train]
        )
        odds = np.zeros((len(test), len(FIGURES)))
        odds[:, model.classes_] = model.predict_proba(x[test])
        guess[test] = np.argmax(odds @ UTILITY.T, axis=1)
    print(f"  the classifier's figure is the real one in {np.mean(guess[known] == y[known]):.3f}")

    per_song = []
    for idx, (song, labels, generated) in enumerate(songs):
        real = kit.to_kit_classes(song.arrays["drum_grids"])
        oracle, predicted = generated.copy(), generated.copy()
        for row in np.flatnonzero(song_idx == idx):
            bars = np.flatnonzero((labels == rows[row][1]) & (song.meter.bar_steps == N_STEPS))
            if y[row] >= 0:
                with_figure(oracle, bars, FIGURE_STEPS[y[row]])
            with_figure(predicted, bars, FIGURE_STEPS[guess[row]])
        shipped = metrics.onset_f1(generated, real)
        result = {
            "shipped": shipped,
            "oracle": metrics.onset_f1(oracle, real),
            "predicted": metrics.onset_f1(predicted, real),
        }
        result["oracle - shipped"] = result["oracle"] - shipped
        result["predicted - shipped"] = result["predicted"] - shipped
        per_song.append(result)
    stats = metrics.aggregate(per_song)
    print(f"kit F1 over the {len(songs)} songs:")
    for key in ("shipped", "oracle", "predicted"):
        gain = stats.get(f"{key} - shipped")
        extra = f"  ({gain['mean']:+.3f} [{gain['ci_low']:+.3f}, {gain['ci_high']:+.3f}])" if gain else ""
        print(f"  {key:9s} {stats[key]['mean']:.3f}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
