"""Evaluation metrics (drumgen.metrics): hand-computed cases, edge conventions and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from drumgen import metrics
from drumgen.exceptions import ParameterError
from drumgen.representation import N_ROWS, pitch_to_row

KICK, SNARE, HAT, RIDE = (pitch_to_row(p) for p in (36, 38, 42, 51))
N_CELLS_PER_BAR = N_ROWS * 16


def grid(n_bars: int, hits: list[tuple[int, int, int]], velocity: int = 100) -> np.ndarray:
    """A uint8 grid with ``velocity`` at each (bar, row, step) in ``hits``."""
    out = np.zeros((n_bars, N_ROWS, 16), dtype=np.uint8)
    for bar, row, step in hits:
        out[bar, row, step] = velocity
    return out


def groove(variant: int = 0) -> list[tuple[int, int, int]]:
    """One bar's hits (bar index 0): kick on 0 and 8, snare on 4 and 12, hats on the 8ths;
    ``variant`` adds that many extra kicks on odd steps (a fill)."""
    hits = [(0, KICK, 0), (0, KICK, 8), (0, SNARE, 4), (0, SNARE, 12)]
    hits += [(0, HAT, s) for s in range(0, 16, 2)]
    hits += [(0, KICK, 2 * k + 1) for k in range(variant)]
    return hits


def song(variants: list[int]) -> np.ndarray:
    """A song whose bar ``b`` is ``groove(variants[b])``: equal variants are identical bars."""
    return grid(len(variants), [(b, r, s) for b, v in enumerate(variants) for _, r, s in groove(v)])


@pytest.fixture
def real_song() -> np.ndarray:
    return song([0, 1, 0, 3, 0, 1, 0, 5])  # A B A C A B A D


@pytest.fixture
def hand_pair() -> tuple[np.ndarray, np.ndarray]:
    # real: kick 0/0, kick 0/8, snare 0/4, kick 1/0        -> R = 4
    # gen:  kick 0/0, snare 0/4, hat 1/2                   -> G = 3, matched m = 2
    real = grid(2, [(0, KICK, 0), (0, KICK, 8), (0, SNARE, 4), (1, KICK, 0)])
    generated = grid(2, [(0, KICK, 0), (0, SNARE, 4), (1, HAT, 2)], velocity=7)
    return generated, real


# ------------------------------------------------------------------------------------------------
# Onset precision / recall / F1


def test_onset_prf_hand_case(hand_pair: tuple[np.ndarray, np.ndarray]) -> None:
    # P = 2/3, R = 2/4, F1 = 2 m / (G + R) = 4/7 (= harmonic mean of 2/3 and 1/2)
    prf = metrics.onset_prf(*hand_pair)
    assert prf == pytest.approx({"precision": 2 / 3, "recall": 1 / 2, "f1": 4 / 7})
    assert metrics.onset_f1(*hand_pair) == pytest.approx(4 / 7)


def test_per_row_onset_f1_hand_case(hand_pair: tuple[np.ndarray, np.ndarray]) -> None:
    # kick: G = 1, R = 3, m = 1 -> 2/4 = 0.5; snare: 1, 1, 1 -> 1; hat: G = 1, R = 0 -> 0; rest NaN
    f1 = metrics.per_row_onset_f1(*hand_pair)
    assert f1.shape == (N_ROWS,)
    assert f1[KICK] == pytest.approx(0.5)
    assert f1[SNARE] == pytest.approx(1.0)
    assert f1[HAT] == 0.0
    assert np.isnan(np.delete(f1, [KICK, SNARE, HAT])).all()
    # the project's mean: rows the real drums use (kick, snare) only -> (0.5 + 1) / 2
    assert metrics.mean_row_onset_f1(*hand_pair) == pytest.approx(0.75)


def test_identical_grids_score_perfectly(real_song: np.ndarray) -> None:
    other_velocities = np.where(real_song > 0, 33, 0).astype(np.int16)  # velocities do not matter
    assert metrics.onset_prf(other_velocities, real_song) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert metrics.onset_f1(real_song, real_song, tolerance=1) == 1.0
    assert metrics.mean_row_onset_f1(real_song, real_song) == 1.0
    assert metrics.cell_accuracy(real_song, real_song) == 1.0
    assert metrics.density_error(real_song, real_song) == 0.0
    assert metrics.ssm_pearson(real_song, real_song) == pytest.approx(1.0)
    assert metrics.ssm_cosine(real_song, real_song) == pytest.approx(1.0)
    assert metrics.repetition_consistency(real_song, real_song) == 1.0
    assert metrics.repetition_distance(real_song, real_song) == 0.0


def test_silence_against_a_groove(real_song: np.ndarray) -> None:
    silence = np.zeros_like(real_song)
    assert metrics.onset_prf(silence, real_song) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert metrics.onset_f1(silence, real_song, tolerance=1) == 0.0
    assert metrics.mean_row_onset_f1(silence, real_song) == 0.0
    empty_share = 1.0 - (real_song > 0).mean()
    assert metrics.cell_accuracy(silence, real_song) == pytest.approx(empty_share)
    assert metrics.cell_accuracy(silence, real_song) > 0.95  # why it is never reported alone
    assert metrics.ssm_pearson(silence, real_song) == 0.0
    assert metrics.empty_bar_rate(silence) == 1.0
    assert metrics.density_error(silence, real_song) == pytest.approx((real_song > 0).sum() / 8)


def test_onset_conventions_for_empty_sides() -> None:
    empty, some = grid(2, []), grid(2, [(0, KICK, 0)])
    assert metrics.onset_prf(empty, empty) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert metrics.onset_prf(some, empty) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert metrics.onset_prf(empty, some) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert np.isnan(metrics.per_row_onset_f1(empty, empty)).all()
    assert math.isnan(metrics.mean_row_onset_f1(empty, empty))
    assert math.isnan(metrics.mean_row_onset_f1(some, empty))  # no real row to average over


def test_one_step_shift_needs_tolerance_one() -> None:
    real = grid(2, [(b, KICK, s) for b in range(2) for s in (0, 4, 8, 12)])
    late = grid(2, [(b, KICK, s + 1) for b in range(2) for s in (0, 4, 8, 12)])
    assert metrics.onset_f1(late, real) == 0.0
    assert metrics.onset_f1(late, real, tolerance=1) == 1.0
    two_late = grid(2, [(b, KICK, s + 2) for b in range(2) for s in (0, 4, 8, 12)])
    assert metrics.onset_f1(two_late, real, tolerance=1) == 0.0
    assert metrics.onset_f1(two_late, real, tolerance=2) == 1.0


def test_tolerance_crosses_bar_lines_but_not_rows() -> None:
    real = grid(2, [(1, KICK, 0)])
    assert metrics.onset_f1(grid(2, [(0, KICK, 15)]), real) == 0.0
    assert metrics.onset_f1(grid(2, [(0, KICK, 15)]), real, tolerance=1) == 1.0  # 15 -> 16
    assert metrics.onset_f1(grid(2, [(1, KICK, 15)]), grid(2, [(0, KICK, 0)]), tolerance=1) == 0.0
    assert metrics.onset_f1(grid(2, [(0, SNARE, 15)]), real, tolerance=1) == 0.0


def test_tolerance_matching_is_one_to_one() -> None:
    # two generated hits either side of one real hit: m = 1, P = 1/2, R = 1, F1 = 2/3
    prf = metrics.onset_prf(grid(1, [(0, KICK, 3), (0, KICK, 5)]), grid(1, [(0, KICK, 4)]), tolerance=1)
    assert prf == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3})


def test_greedy_takes_the_earliest_free_real_hit() -> None:
    # gen 5 is 1 step from real 4 and 6; taking 4 leaves 6 for gen 7: m = 2
    generated, real = grid(1, [(0, KICK, 5), (0, KICK, 7)]), grid(1, [(0, KICK, 4), (0, KICK, 6)])
    assert metrics.onset_f1(generated, real, tolerance=1) == 1.0


@pytest.mark.parametrize("tolerance", [1, 2])
def test_greedy_matching_is_maximum(rng: np.random.Generator, tolerance: int) -> None:
    generated = (rng.random((4, N_ROWS, 16)) < 0.2).astype(np.uint8)
    real = (rng.random((4, N_ROWS, 16)) < 0.2).astype(np.uint8)
    n_matched = 0
    for row in range(N_ROWS):  # oracle: maximum bipartite matching per row
        gen_steps = np.flatnonzero(generated[:, row].ravel())
        real_steps = np.flatnonzero(real[:, row].ravel())
        if len(gen_steps) and len(real_steps):
            near = np.abs(gen_steps[:, None] - real_steps[None, :]) <= tolerance
            n_matched += int((maximum_bipartite_matching(csr_matrix(near)) >= 0).sum())
    prf = metrics.onset_prf(generated, real, tolerance=tolerance)
    assert prf["precision"] * generated.sum() == pytest.approx(n_matched)
    assert prf["f1"] >= metrics.onset_f1(generated, real)


# ------------------------------------------------------------------------------------------------
# Density, cells, single-grid sanity


def test_density_error_hand_case(hand_pair: tuple[np.ndarray, np.ndarray]) -> None:
    # hits per bar: gen (2, 1), real (3, 1) -> (|2 - 3| + |1 - 1|) / 2 = 0.5
    assert metrics.density_error(*hand_pair) == 0.5


def test_cell_accuracy_hand_case(hand_pair: tuple[np.ndarray, np.ndarray]) -> None:
    # disagreements: hat 1/2 (gen only), kick 0/8 and kick 1/0 (real only): 3 of 2 * 46 * 16 cells
    assert metrics.cell_accuracy(*hand_pair) == pytest.approx(1 - 3 / (2 * N_CELLS_PER_BAR))


def test_empty_bar_rate() -> None:
    assert metrics.empty_bar_rate(grid(4, [(0, KICK, 0), (2, SNARE, 3), (3, HAT, 15)])) == 0.25
    assert metrics.empty_bar_rate(grid(3, [])) == 1.0


def test_drum_pattern_share() -> None:
    assert metrics.drum_pattern_share(grid(2, [(0, KICK, 0), (1, HAT, 14), (1, SNARE, 4)])) == 1.0
    half = grid(1, [(0, KICK, 0), (0, KICK, 2), (0, HAT, 3), (0, SNARE, 15)])  # 2 even, 2 odd
    assert metrics.drum_pattern_share(half) == 0.5
    assert math.isnan(metrics.drum_pattern_share(grid(2, [])))


# ------------------------------------------------------------------------------------------------
# Structure


def test_ssm_cosine_hand_case() -> None:
    # real: bar 0 empty, bar 1 nine hits -> distance sqrt(9) / 15 = 0.2, similarities [[1, .8], [.8, 1]]
    # silence: similarities all 1 -> cosine = 3.6 / (2 * sqrt(3.28)) = 0.993884...
    real = grid(2, [(1, KICK, s) for s in range(9)])
    expected = 3.6 / (2 * math.sqrt(3.28))
    assert metrics.ssm_cosine(np.zeros_like(real), real) == pytest.approx(expected, abs=1e-6)


def test_ssm_cosine_is_high_for_silence_on_a_structured_song() -> None:
    # A A B A with a few hits per bar: silence has no structure at all but scores > 0.9
    a = [(KICK, 0), (SNARE, 4), (KICK, 8), (SNARE, 12)]
    b = [(KICK, 0), (KICK, 6), (SNARE, 10), (HAT, 14)]
    real = grid(4, [(bar, r, s) for bar, pattern in enumerate([a, a, b, a]) for r, s in pattern])
    silence = np.zeros_like(real)
    assert metrics.ssm_cosine(silence, real) > 0.9
    assert metrics.ssm_pearson(silence, real) == 0.0


def test_ssm_pearson_hand_case() -> None:
    # real A A B: upper entries (0,1), (0,2), (1,2) = (0, x, x); gen A B B: (x, x, 0)
    # corr((0, 1, 1), (1, 1, 0)): deviations (-2, 1, 1)/3 and (1, 1, -2)/3 -> (-3/9) / (6/9) = -0.5
    a, b = groove(0), groove(2)
    real = grid(3, [(0, r, s) for _, r, s in a] + [(1, r, s) for _, r, s in a] + [(2, r, s) for _, r, s in b])
    gen = grid(3, [(0, r, s) for _, r, s in a] + [(1, r, s) for _, r, s in b] + [(2, r, s) for _, r, s in b])
    assert metrics.ssm_pearson(gen, real) == pytest.approx(-0.5)


def test_ssm_pearson_properties(real_song: np.ndarray, rng: np.random.Generator) -> None:
    generated = song([0, 1, 0, 1, 0, 3, 0, 2])
    value = metrics.ssm_pearson(generated, real_song)
    assert 0.0 < value < 1.0
    assert metrics.ssm_pearson(real_song, generated) == pytest.approx(value)  # symmetric
    offset = generated.copy()
    offset[:, RIDE, ::4] = 90  # the same extra hits in every bar: distances unchanged
    assert metrics.ssm_pearson(offset, real_song) == pytest.approx(value)
    assert metrics.ssm_pearson(generated, real_song, scale=40.0) == pytest.approx(value)  # no clipping
    repeated = song([0] * 8)
    assert metrics.ssm_pearson(repeated, real_song) == 0.0  # constant output has no structure
    assert metrics.ssm_pearson(real_song[:2], real_song[:2]) == 0.0  # n_bars < 3
    noise = (rng.random(real_song.shape) < 0.1).astype(np.uint8)
    assert -1.0 <= metrics.ssm_pearson(noise, real_song) <= 1.0


def test_repetition_consistency_and_distance() -> None:
    # real A B A B: repeated pairs (0, 2) and (1, 3); gen A B A C repeats A/A only -> 1/2
    real = song([0, 2, 0, 2])
    generated = song([0, 2, 0, 4])  # C = B + 2 kicks: distance sqrt(2) / 15
    assert metrics.repetition_consistency(generated, real) == 0.5
    assert metrics.repetition_distance(generated, real) == pytest.approx((0 + math.sqrt(2) / 15) / 2)
    assert math.isnan(metrics.repetition_consistency(generated, song([0, 1, 2, 3])))
    assert math.isnan(metrics.repetition_distance(generated, song([0, 1, 2, 3])))


# ------------------------------------------------------------------------------------------------
# One song, many songs


def test_song_metrics_keys_and_values(real_song: np.ndarray) -> None:
    result = metrics.song_metrics(real_song, real_song)
    assert list(result) == [
        "onset_f1",
        "onset_precision",
        "onset_recall",
        "onset_f1_tol1",
        "row_onset_f1",
        "ssm_cosine",
        "ssm_pearson",
        "density_error",
        "empty_bar_rate",
        "drum_pattern",
        "repetition_consistency",
        "cell_accuracy",
    ]
    assert list(result) == list(metrics.SONG_METRIC_KEYS)
    assert all(isinstance(v, float) for v in result.values())
    assert result["onset_f1"] == result["onset_f1_tol1"] == result["cell_accuracy"] == 1.0
    assert result["empty_bar_rate"] == 0.0
    assert result["drum_pattern"] < 1.0  # the fills' odd kicks


def test_bootstrap_ci(rng: np.random.Generator) -> None:
    assert metrics.bootstrap_ci([0.3] * 5) == (pytest.approx(0.3),) * 3
    low_eq = metrics.bootstrap_ci([0.3] * 5)
    assert low_eq[0] == low_eq[1] == low_eq[2]
    values = rng.random(30)
    mean, low, high = metrics.bootstrap_ci(values)
    assert mean == pytest.approx(values.mean())
    assert low < mean < high
    assert metrics.bootstrap_ci(values) == (mean, low, high)  # seeded
    assert metrics.bootstrap_ci(np.append(values, [np.nan, np.nan])) == (mean, low, high)
    assert all(math.isnan(v) for v in metrics.bootstrap_ci([np.nan, np.nan]))
    assert all(math.isnan(v) for v in metrics.bootstrap_ci([]))
    with pytest.raises(ParameterError, match="confidence"):
        metrics.bootstrap_ci(values, confidence=95)


def test_aggregate_keys_and_counts() -> None:
    per_song = [
        {"onset_f1": 0.5, "repetition_consistency": float("nan")},
        {"onset_f1": 0.7, "repetition_consistency": 1.0},
        {"onset_f1": 0.6, "repetition_consistency": 0.5},
    ]
    result = metrics.aggregate(per_song)
    assert list(result) == ["onset_f1", "repetition_consistency"]
    assert all(list(entry) == ["mean", "ci_low", "ci_high", "n"] for entry in result.values())
    assert result["onset_f1"]["n"] == 3
    assert result["onset_f1"]["mean"] == pytest.approx(0.6)
    assert result["onset_f1"]["ci_low"] <= 0.6 <= result["onset_f1"]["ci_high"]
    assert result["repetition_consistency"]["n"] == 2
    assert result["repetition_consistency"]["mean"] == pytest.approx(0.75)
    assert metrics.aggregate([]) == {}


def test_bad_inputs_raise_parameter_error(real_song: np.ndarray) -> None:
    with pytest.raises(ParameterError, match="same shape"):
        metrics.onset_f1(real_song, real_song[:3])
    with pytest.raises(ParameterError, match="n_bars"):
        metrics.empty_bar_rate(real_song[0])
    with pytest.raises(ParameterError, match="tolerance"):
        metrics.onset_f1(real_song, real_song, tolerance=-1)
