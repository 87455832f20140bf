"""Would bars of other meters sound more like the corpus' if they were written from the real
drummers' patterns of each bar shape instead of by :func:`drumgen.meter.fit_grid`'s rules?

Per bar shape (beat grouping; 3/4, 6/8, 12/8, 2/4, 5/4, 7/8 ...) and voice (kick, snare, hats or
ride), the real bars of the other half of the songs give, per number of strokes, either the
commonest exact pattern ("mode") or the steps struck most often ("marginal"). A bar is then
written from the arranged 16-step groove by keeping each voice's stroke count (kick and snare
scaled by the number of beats, the timekeeper by the number of steps) and playing the learned
pattern with that many strokes, in the groove's sound and velocities. Scored two-fold on the songs
of both datasets that are not plain 4/4 (every "3/4", "compound" and "other" song, and the
first 40 "4/4 with odd bars"), with drumgen and ``repeat_common_bar`` written each way. Then the
3/4 rule's alternatives (which 4/4 beats play a waltz's three, with or without their kick).

The rules fit only the bars the VAE writes as 4/4 bars. A meter-aware VAE (the shipped one since
2026-12-06) writes the bars of 3/4 and 6/8 songs itself, so there only the other bars (a 4/4
song's odd bars, 5/4, 12/8 ...) are fitted, and the waltz alternatives change nothing; the figures
in the README were made with the VAE before it (``--model``, a model folder without meter columns).

    .venv/bin/python scripts/meter_fitting_study.py ../datasets/train_all ../datasets/validation_all
"""

from __future__ import annotations

import argparse
import functools
from collections import Counter, defaultdict

import numpy as np

from drumgen import dataset, evaluation, generation, kit, metrics
from drumgen import meter as meter_module
from drumgen.bars import N_STEPS
from drumgen.model.bundle import load_models

VOICE_ROWS = {
    "kick": list(kit.piece_rows("kick")),
    "snare": list(kit.piece_rows("snare")),
    "timekeeper": [row for piece in kit.TIMEKEEPERS for row in kit.piece_rows(piece)],
}
CRASH_ROWS = list(kit.piece_rows("crash"))
MIN_SHAPE_BARS = 100
GROUPS = ("4/4 with odd bars", "3/4", "compound", "other")
WALTZES = {
    "B1 B2 B4, kick on 1 only (shipped)": [(0, True), (1, False), (3, False)],
    "B1 B2 B4 with their kicks": [(0, True), (1, True), (3, True)],
    "B1 B2 B3, kick on 1 only": [(0, True), (1, False), (2, False)],
    "B1 B2 B3 with their kicks": [(0, True), (1, True), (2, True)],
}


class LearnedShapes:
    """Per (bar shape, voice, stroke count): the counted patterns of real bars."""

    def __init__(self, songs: list[dataset.SongData], *, marginal: bool) -> None:
        self.marginal = marginal
        self.counts: dict[tuple, Counter] = defaultdict(Counter)
        n_bars: Counter = Counter()
        for song in songs:
            m = song.meter
            for bar, length in enumerate(m.bar_steps):
                hits = song.arrays["drum_grids"][bar, :, :length] > 0
                if length == N_STEPS or not hits.any():
                    continue
                shape = (m.beats(bar), bool(m.compound[bar]))
                n_bars[shape] += 1
                for voice, rows in VOICE_ROWS.items():
                    steps = hits[rows].any(axis=0)
                    if steps.any():
                        self.counts[(shape, voice, int(steps.sum()))][tuple(np.flatnonzero(steps))] += 1
        self.shapes = {shape for shape, n in n_bars.items() if n >= MIN_SHAPE_BARS}

    def knows(self, beats: tuple[int, ...], compound: bool) -> bool:
        return (tuple(beats), compound) in self.shapes

    def pattern(self, shape: tuple, voice: str, n_strokes: int, length: int) -> np.ndarray:
        seen = [n for (s, v, n) in self.counts if s == shape and v == voice]
        n = min(seen, key=lambda count: (abs(count - n_strokes), count))
        patterns = self.counts[(shape, voice, n)]
        steps = np.zeros(length, dtype=bool)
        if self.marginal:
            per_step = np.zeros(length)
            for pattern, count in patterns.items():
                per_step[list(pattern)] += count
            steps[np.argsort(-per_step, kind="stable")[:n]] = True
        else:
            steps[list(patterns.most_common(1)[0][0])] = True
        return steps

    def fit_bar(self, groove: np.ndarray, beats: tuple[int, ...], compound: bool) -> np.ndarray:
        length = sum(beats)
        bar = np.zeros((groove.shape[0], length), dtype=groove.dtype)
        starts = np.zeros(length, dtype=bool)
        starts[np.cumsum((0, *beats[:-1]))] = True
        for voice, rows in VOICE_ROWS.items():
            strokes = int((groove[rows] > 0).any(axis=0).sum())
            if strokes == 0:
                continue
            scale = length / N_STEPS if voice == "timekeeper" else len(beats) / 4
            steps = self.pattern((tuple(beats), compound), voice, max(1, round(strokes * scale)), length)
            row = rows[int(np.argmax((groove[rows] > 0).sum(axis=1)))]
            played = groove[row][groove[row] > 0]
            bar[row, steps & starts] = played.max()
            bar[row, steps & ~starts] = played.min()
        bar[CRASH_ROWS, 0] = groove[CRASH_ROWS, 0]
        return bar


def fit_grid_learned(
    grid, meter, *, fill_starts=None, written_steps=None, learned: LearnedShapes | None, rules
) -> np.ndarray:
    """``rules`` (:func:`drumgen.meter.fit_grid`), then the bars of a shape ``learned`` knows that
    the rules fitted (not those the VAE wrote in their own length) written again from their groove,
    a fill ending them as the rules end it (the same tail as ``fit_grid``'s, which has no hook for
    another bar writer)."""
    out = rules(grid, meter, fill_starts=fill_starts, written_steps=written_steps)
    if learned is None:
        return out
    fills = np.full(meter.n_bars, -1) if fill_starts is None else np.asarray(fill_starts)
    written = np.full(meter.n_bars, N_STEPS) if written_steps is None else np.asarray(written_steps)
    for bar, length in enumerate(meter.bar_steps):
        beats, compound = meter.beats(bar), bool(meter.compound[bar])
        if length == N_STEPS or written[bar] == length or not learned.knows(beats, compound):
            continue
        groove = np.concatenate(meter_module._clean_beats(grid[bar], int(fills[bar])), axis=1)
        fitted = learned.fit_bar(groove, beats, compound)
        if fills[bar] >= 0:
            tail = min(N_STEPS - int(fills[bar]), int(length) - beats[0])
            if tail > 0:
                fitted[:, length - tail :] = grid[bar][:, N_STEPS - tail :]
        out[bar, :, :length] = fitted
    return out


def score(songs, groups, *, fitter_of, models, bars, methods) -> dict:
    """Mean kit and onset F1 per (method, group), every song's bars fitted by ``fitter_of(song)``."""
    rows: dict = defaultdict(list)
    fit_grid = meter_module.fit_grid
    try:
        for song in songs:
            patched = functools.partial(fit_grid_learned, learned=fitter_of(song), rules=fit_grid)
            generation.fit_grid = evaluation.fit_grid = patched  # type: ignore[attr-defined]
            for method in methods:
                grid = evaluation.method_drums(
                    method, song, models=models, bars=bars, seed=0, config=models.config
                )
                scores = metrics.song_metrics(grid, song.arrays["drum_grids"])
                rows[(method, groups[song.song_id])].append((scores["kit_f1"], scores["onset_f1"]))
    finally:
        generation.fit_grid = evaluation.fit_grid = fit_grid  # type: ignore[attr-defined]
    return {key: np.mean(values, axis=0) for key, values in rows.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", help="dataset folders built with --every-meter")
    parser.add_argument("--model", default=None, help="model folder (default: drum_generator_model/)")
    args = parser.parse_args(argv)
    songs = [song for folder in args.datasets for song in dataset.load_songs(folder)]
    groups = {song.song_id: meter_module.meter_group(song.meter) for song in songs}
    chosen = [s for s in songs if groups[s.song_id] in GROUPS[1:]]
    chosen += [s for s in songs if groups[s.song_id] == GROUPS[0]][:40]
    print(
        f"{len(chosen)} songs: "
        + ", ".join(f"{g} {sum(groups[s.song_id] == g for s in chosen)}" for g in GROUPS)
    )
    half = {song.song_id: idx % 2 for idx, song in enumerate(chosen)}
    models = load_models(args.model)
    bars = evaluation.BaselineBars.from_meta(models.require("vae_meta")["baselines"])
    methods = ("drumgen", "repeat_common_bar")
    print("bars written by | method | " + " | ".join(f"{g} kit / onset F1" for g in GROUPS))
    for name in ("rules", "mode", "marginal"):
        learned = {}
        if name != "rules":
            for fold in (0, 1):
                rest = [s for s in songs if half.get(s.song_id) != fold]
                learned[fold] = LearnedShapes(rest, marginal=name == "marginal")
        result = score(
            chosen,
            groups,
            fitter_of=lambda song, learned=learned: learned.get(half[song.song_id]),
            models=models,
            bars=bars,
            methods=methods,
        )
        for method in methods:
            cells = [f"{result[(method, g)][0]:.3f} / {result[(method, g)][1]:.3f}" for g in GROUPS]
            print(f"{name} | {method} | " + " | ".join(cells))
    waltzes = [s for s in chosen if groups[s.song_id] == "3/4"]
    source_beats = meter_module._source_beats
    try:
        for name, sources in WALTZES.items():
            meter_module._source_beats = lambda n, *, waltz, s=sources: (
                s if waltz else source_beats(n, waltz=False)
            )
            result = score(
                waltzes, groups, fitter_of=lambda song: None, models=models, bars=bars, methods=methods
            )
            cells = [
                f"{method} {result[(method, '3/4')][0]:.3f} / {result[(method, '3/4')][1]:.3f}"
                for method in methods
            ]
            print(f"3/4 as {name}: " + ", ".join(cells))
    finally:
        meter_module._source_beats = source_beats
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
