"""Evaluation metrics (drumgen.metrics): hand-computed cases, edge conventions and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from drumgen import kit, metrics
from drumgen.exceptions import ParameterError
from drumgen.representation import N_ROWS, pitch_to_row

KICK, SNARE, HAT, RIDE = (pitch_to_row(p) for p in (36, 38, 42, 51))
KICK_35, SIDE_STICK, CLAP, SNARE_40 = (pitch_to_row(p) for p in (35, 37, 39, 40))
PEDAL_HAT, OPEN_HAT, CRASH, CRASH_2 = (pitch_to_row(p) for p in (44, 46, 49, 57))
TOM_41, TOM_43, TOM_45, TOM_48 = (pitch_to_row(p) for p in (41, 43, 45, 48))
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
# Musical metrics: kit classes and pieces


def test_kit_onset_f1_merges_equivalent_notes() -> None:
    generated, real = grid(1, [(0, KICK_35, 0)]), grid(1, [(0, KICK, 0)])
    assert metrics.onset_f1(generated, real) == 0.0
    assert metrics.kit_onset_f1(generated, real) == 1.0
    assert metrics.kit_onset_f1(grid(1, [(0, SNARE_40, 4)]), grid(1, [(0, SNARE, 4)])) == 1.0
    assert metrics.kit_onset_f1(grid(1, [(0, OPEN_HAT, 2)]), grid(1, [(0, HAT, 2)])) == 0.0  # not equal
    assert metrics.kit_onset_f1(grid(2, []), grid(2, [])) == 1.0  # the onset_prf convention


def test_kit_onset_f1_and_group_f1_hand_case() -> None:
    # real classes: kick 0/0, snare 0/4 (38 + 40 layered: one class hit), kick 0/8 -> R = 3
    # gen classes:  kick 0/0 (35), snare 0/4, closed hat 0/2                      -> G = 3, m = 2
    real = grid(1, [(0, KICK, 0), (0, SNARE, 4), (0, SNARE_40, 4), (0, KICK, 8)])
    generated = grid(1, [(0, KICK_35, 0), (0, SNARE, 4), (0, HAT, 2)])
    assert metrics.kit_onset_f1(generated, real) == pytest.approx(2 * 2 / (3 + 3))
    groups = metrics.piece_group_f1(generated, real)
    assert list(groups) == ["kick", "snare", "hats", "toms", "cymbals"]
    assert groups["kick"] == pytest.approx(2 / 3)  # G = 1, R = 2, m = 1
    assert groups["snare"] == 1.0
    assert groups["hats"] == 0.0  # generated only
    assert math.isnan(groups["toms"]) and math.isnan(groups["cymbals"])  # neither grid


def test_group_f1_pools_the_group_classes() -> None:
    # toms 45 and 41 are both tom_low: right; ride for crash is a miss inside "cymbals"
    groups = metrics.piece_group_f1(
        grid(1, [(0, TOM_45, 3), (0, RIDE, 0)]), grid(1, [(0, TOM_41, 3), (0, CRASH, 0)])
    )
    assert groups["toms"] == 1.0
    assert groups["cymbals"] == 0.0


def test_kit_onset_f1_ignores_row_swaps_within_a_class(rng: np.random.Generator) -> None:
    real = (rng.random((6, N_ROWS, 16)) < 0.1).astype(np.uint8) * 90
    swapped = np.zeros_like(real)
    for bar, row, step in zip(*np.nonzero(real), strict=True):
        rows = kit.KIT_CLASS_ROWS[kit.KIT_CLASSES[kit.ROW_TO_KIT_CLASS[row]]]
        swapped[bar, rows[rng.integers(len(rows))], step] = 50
    assert metrics.kit_onset_f1(swapped, real) == 1.0
    assert all(v == 1.0 for v in metrics.piece_group_f1(swapped, real).values())
    assert metrics.onset_f1(swapped, real) < 1.0


def test_backbeat_rate() -> None:
    # bar 0: snare 4 + 12; bar 1: clap 4 + side stick 12 (same class); bar 2: snare 4 only; bar 3 empty
    drums = grid(4, [(0, SNARE, 4), (0, SNARE, 12), (1, CLAP, 4), (1, SIDE_STICK, 12), (2, SNARE, 4)])
    assert metrics.backbeat_rate(drums) == pytest.approx(2 / 3)
    assert metrics.backbeat_rate(grid(1, [(0, KICK, 4), (0, KICK, 12)])) == 0.0
    assert metrics.backbeat_rate(grid(1, [(0, SNARE, 5), (0, SNARE, 13)])) == 0.0
    assert math.isnan(metrics.backbeat_rate(grid(3, [])))


def test_missing_snare_rate() -> None:
    # real backbeat in bars 0 and 1 (bar 2 has none); gen: snare on step 7 in bar 0, kick only in bar 1
    real = grid(3, [(0, SNARE, 4), (0, SNARE, 12), (1, CLAP, 4), (1, SNARE_40, 12), (2, KICK, 0)])
    generated = grid(3, [(0, SNARE, 7), (1, KICK, 4)])
    assert metrics.missing_snare_rate(generated, real) == 0.5
    assert metrics.missing_snare_rate(real, real) == 0.0
    assert metrics.missing_snare_rate(np.zeros_like(real), real) == 1.0
    assert math.isnan(metrics.missing_snare_rate(generated, grid(3, [(0, SNARE, 4)])))


def test_repeat_rates_known_answers() -> None:
    assert metrics.consecutive_repeat_rate(song([0, 0, 0, 0])) == 1.0
    assert metrics.two_bar_repeat_rate(song([0, 0, 0, 0])) == 1.0
    assert metrics.consecutive_repeat_rate(song([0, 1, 0, 1])) == 0.0  # A B A B
    assert metrics.two_bar_repeat_rate(song([0, 1, 0, 1])) == 1.0
    assert metrics.consecutive_repeat_rate(song([0, 1, 2, 3])) == 0.0
    assert metrics.two_bar_repeat_rate(song([0, 1, 2, 3])) == 0.0
    # A A B A: consecutive 1 / 3; two-bar: bar 2 new, bar 3 = bar 1 -> 1 / 2
    assert metrics.consecutive_repeat_rate(song([0, 0, 1, 0])) == pytest.approx(1 / 3)
    assert metrics.two_bar_repeat_rate(song([0, 0, 1, 0])) == 0.5


def test_repeat_rates_ignore_velocities_and_silence() -> None:
    loud, soft = song([0]), song([0]) // 2
    assert metrics.consecutive_repeat_rate(np.concatenate([loud, soft])) == 1.0
    # A A _ _ A: pairs (0,1) repeat, (1,2) and (3,4) counted, (2,3) both silent and skipped -> 1 / 3
    a_silence_a = np.concatenate([song([0, 0]), grid(2, []), song([0])])
    assert metrics.consecutive_repeat_rate(a_silence_a) == pytest.approx(1 / 3)
    # two-bar: bars 2 (A A _), 3 (A _ _), 4 (_ _ A) counted; silence never repeats, A != _ -> 0 of 3
    assert metrics.two_bar_repeat_rate(a_silence_a) == 0.0
    assert metrics.two_bar_repeat_rate(np.concatenate([song([0]), grid(1, []), song([0])])) == 1.0
    silence = grid(4, [])
    assert math.isnan(metrics.consecutive_repeat_rate(silence))
    assert math.isnan(metrics.two_bar_repeat_rate(silence))
    assert math.isnan(metrics.consecutive_repeat_rate(song([0])))  # one bar: no pair
    assert math.isnan(metrics.two_bar_repeat_rate(song([0, 0])))  # two bars: no bar 2


def test_layered_rate() -> None:
    assert metrics.layered_rate(grid(1, [(0, KICK, 0), (0, KICK_35, 0)])) == 1.0
    # layered kick at 0, lone hat at 2, closed + open hat at 4: 2 layered of 3 onsets
    drums = grid(1, [(0, KICK, 0), (0, KICK_35, 0), (0, HAT, 2), (0, HAT, 4), (0, OPEN_HAT, 4)])
    assert metrics.layered_rate(drums) == pytest.approx(2 / 3)
    assert metrics.layered_rate(grid(1, [(0, KICK, 0), (0, SNARE, 0), (0, HAT, 0)])) == 0.0  # 3 pieces
    assert metrics.layered_rate(grid(1, [(0, SNARE, 4), (0, CLAP, 12)])) == 0.0  # not at once
    assert metrics.layered_rate(song([0, 1, 0, 3])) == 0.0
    assert math.isnan(metrics.layered_rate(grid(1, [(0, CRASH, 0), (0, CRASH_2, 0)])))  # no such piece


def test_fill_bars_rules() -> None:
    bars = [
        [(TOM_48, 12), (TOM_45, 14)],  # 0: two toms -> fill
        [(TOM_48, 12)],  # 1: one tom
        [(TOM_41, 12), (TOM_43, 12)],  # 2: two rows of one tom class on one step: one hit
        [(SNARE, 4), (SNARE, 8), (SNARE, 10), (SNARE, 12)],  # 3: late 3 > early 1 -> fill
        [(SNARE, 0), (SNARE, 2), (SNARE, 4), (SNARE, 8), (SNARE, 10), (SNARE, 12)],  # 4: late 3 = early 3
        [(SNARE, 13), (CLAP, 15)],  # 5: late 2 < 3
        [(CLAP, 9), (SNARE_40, 11), (SIDE_STICK, 15)],  # 6: snare class -> fill
        [],  # 7
    ]
    drums = grid(len(bars), [(b, r, s) for b, hits in enumerate(bars) for r, s in hits])
    fills = metrics.fill_bars(drums)
    assert fills.dtype == bool and fills.shape == (8,)
    assert fills.tolist() == [True, False, False, True, False, False, True, False]
    assert metrics.fill_rate(drums) == pytest.approx(3 / 8)
    assert not metrics.fill_bars(song([0, 1, 2, 5])).any()  # kicks do not make a fill


def test_crash_bars() -> None:
    drums = grid(5, [(0, CRASH, 0), (1, CRASH_2, 1), (2, CRASH, 2), (3, RIDE, 0)])
    assert metrics.crash_bars(drums).tolist() == [True, True, False, False, False]


def test_change_coverage() -> None:
    crash_at_4 = grid(8, [(4, CRASH, 0)])
    assert metrics.change_coverage(crash_at_4, [4]) == 1.0
    assert metrics.change_coverage(crash_at_4, np.array([4, 4])) == 1.0  # a change counts once
    assert metrics.change_coverage(crash_at_4, [2, 4]) == 0.5
    assert metrics.change_coverage(grid(8, [(5, CRASH, 0)]), [4]) == 0.0  # a bar late
    assert metrics.change_coverage(grid(8, [(4, CRASH, 4)]), [4]) == 0.0  # not on the downbeat
    toms = [(TOM_48, 12), (TOM_45, 14)]
    for fill_bar, covered in [(2, 0.0), (3, 1.0), (4, 1.0), (5, 0.0)]:
        drums = grid(8, [(fill_bar, r, s) for r, s in toms])
        assert metrics.change_coverage(drums, [4]) == covered, fill_bar
    assert metrics.change_coverage(grid(8, [(0, CRASH, 0)]), [0]) == 1.0
    assert metrics.change_coverage(grid(8, [(7, r, s) for r, s in toms]), [0]) == 0.0  # no bar -1
    assert math.isnan(metrics.change_coverage(crash_at_4, []))
    with pytest.raises(ParameterError, match="change_bars"):
        metrics.change_coverage(crash_at_4, [8])
    with pytest.raises(ParameterError, match="change_bars"):
        metrics.change_coverage(crash_at_4, [-1])


def test_fills_elsewhere_rate() -> None:
    toms = [(TOM_48, 12), (TOM_45, 14)]
    # fills in bars 2 (= c - 2 of change 4, near) and 6; bars away from change 4: 0, 1, 5, 6, 7
    drums = grid(8, [(b, r, s) for b in (2, 6) for r, s in toms])
    assert metrics.fills_elsewhere_rate(drums, [4]) == pytest.approx(1 / 5)
    assert metrics.fills_elsewhere_rate(drums, [4, 7]) == 0.0  # 6 is now c - 1 of 7; away: 0, 1
    assert metrics.fills_elsewhere_rate(drums, []) == metrics.fill_rate(drums) == 0.25
    assert math.isnan(metrics.fills_elsewhere_rate(grid(4, []), [2, 3]))  # every bar is near


def test_silent_bar_play_rate() -> None:
    real = grid(3, [(1, KICK, 0)])  # bars 0 and 2 silent
    assert metrics.silent_bar_play_rate(grid(3, [(0, HAT, 3), (1, KICK, 0)]), real) == 0.5
    assert metrics.silent_bar_play_rate(grid(3, []), real) == 0.0
    assert metrics.silent_bar_play_rate(real, real) == 0.0
    assert math.isnan(metrics.silent_bar_play_rate(real, song([0, 1, 0])))


def test_velocity_std() -> None:
    drums = grid(2, [(0, KICK, 0), (1, HAT, 3)])
    drums[1, HAT, 3] = 60  # velocities 100 and 60: std 20
    assert metrics.velocity_std(drums) == pytest.approx(20.0)
    assert metrics.velocity_std(song([0, 0])) == 0.0  # flat dynamics
    assert math.isnan(metrics.velocity_std(drums > 0))  # bool: no velocities
    assert math.isnan(metrics.velocity_std(grid(2, [(0, KICK, 0)])))  # one hit
    assert math.isnan(metrics.velocity_std(grid(2, [])))


def test_backbeat_hat_velocity_gap() -> None:
    drums = grid(1, [])
    drums[0, SNARE, 4], drums[0, CLAP, 12], drums[0, SNARE, 7] = 120, 100, 10  # step 7: not a backbeat
    drums[0, HAT, 0], drums[0, OPEN_HAT, 2], drums[0, PEDAL_HAT, 6] = 60, 80, 70
    drums[0, RIDE, 8] = 1  # not a hi-hat
    assert metrics.backbeat_hat_velocity_gap(drums) == pytest.approx(110.0 - 70.0)
    assert math.isnan(metrics.backbeat_hat_velocity_gap(drums > 0))
    no_hats = drums.copy()
    no_hats[:, [HAT, OPEN_HAT, PEDAL_HAT]] = 0
    assert math.isnan(metrics.backbeat_hat_velocity_gap(no_hats))
    no_backbeat = drums.copy()
    no_backbeat[0, :, [4, 12]] = 0
    assert math.isnan(metrics.backbeat_hat_velocity_gap(no_backbeat))


def test_musical_metrics_reject_other_shapes() -> None:
    classes = np.zeros((2, len(kit.KIT_CLASSES), 16), dtype=bool)
    with pytest.raises(ParameterError, match="46"):
        metrics.backbeat_rate(classes)
    with pytest.raises(ParameterError, match="same shape"):
        metrics.kit_onset_f1(grid(2, []), grid(3, []))


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
        "kit_f1",
        "kick_f1",
        "snare_f1",
        "hats_f1",
        "toms_f1",
        "cymbals_f1",
        "backbeat_rate",
        "missing_snare_rate",
        "consecutive_repeat",
        "two_bar_repeat",
        "layered_rate",
        "fill_rate",
        "change_coverage",
        "fills_elsewhere",
        "silent_bar_play",
        "velocity_std",
        "backbeat_hat_gap",
        "steady_pulse",
    ]
    assert list(result) == list(metrics.SONG_METRIC_KEYS)
    assert all(isinstance(v, float) for v in result.values())
    assert result["onset_f1"] == result["onset_f1_tol1"] == result["cell_accuracy"] == 1.0
    assert result["empty_bar_rate"] == 0.0
    assert result["drum_pattern"] < 1.0  # the fills' odd kicks
    assert result["kit_f1"] == result["kick_f1"] == result["snare_f1"] == result["hats_f1"] == 1.0
    assert math.isnan(result["toms_f1"]) and math.isnan(result["cymbals_f1"])
    assert result["missing_snare_rate"] == 0.0
    assert result["backbeat_rate"] == 1.0
    assert result["layered_rate"] == 0.0
    assert result["consecutive_repeat"] == 0.0  # A B A C A B A D
    assert result["two_bar_repeat"] == 0.5  # bars 2..7 = A C A B A D: the three As repeat bar b - 2
    assert math.isnan(result["change_coverage"]) and math.isnan(result["fills_elsewhere"])
    assert math.isnan(result["silent_bar_play"])  # the real drums never rest
    assert result["velocity_std"] == 0.0


def test_song_metrics_match_the_musical_functions(rng: np.random.Generator) -> None:
    # song_metrics computes the musical part on shared kit-class grids: it must agree with the functions
    real = (rng.random((12, N_ROWS, 16)) < 0.06) * rng.integers(1, 128, (12, N_ROWS, 16))
    real = real.astype(np.uint8)
    real[:, SNARE, 4] = real[:, SNARE, 12] = 110
    real[[3, 7], :, :] = 0  # silent bars
    generated = real.copy()
    generated[[1, 5, 9]] = ((rng.random((3, N_ROWS, 16)) < 0.15) * 64).astype(np.uint8)
    generated[10] = generated[8]
    changes = [0, 4, 8]
    for gen in (generated, generated > 0):
        result = metrics.song_metrics(gen, real, change_bars=changes)
        groups = metrics.piece_group_f1(gen, real)
        expected = {
            "kit_f1": metrics.kit_onset_f1(gen, real),
            **{f"{group}_f1": value for group, value in groups.items()},
            "backbeat_rate": metrics.backbeat_rate(gen),
            "missing_snare_rate": metrics.missing_snare_rate(gen, real),
            "consecutive_repeat": metrics.consecutive_repeat_rate(gen),
            "two_bar_repeat": metrics.two_bar_repeat_rate(gen),
            "layered_rate": metrics.layered_rate(gen),
            "fill_rate": metrics.fill_rate(gen),
            "change_coverage": metrics.change_coverage(gen, changes),
            "fills_elsewhere": metrics.fills_elsewhere_rate(gen, changes),
            "silent_bar_play": metrics.silent_bar_play_rate(gen, real),
            "velocity_std": metrics.velocity_std(gen),
            "backbeat_hat_gap": metrics.backbeat_hat_velocity_gap(gen),
            "steady_pulse": metrics.steady_pulse_rate(gen),
        }
        assert list(result)[-len(expected) :] == list(expected)
        for key, value in expected.items():
            assert result[key] == pytest.approx(value, nan_ok=True), key
        assert all(isinstance(v, float) for v in result.values())
    assert math.isnan(metrics.song_metrics(generated > 0, real)["velocity_std"])
    assert math.isnan(metrics.song_metrics(generated > 0, real)["backbeat_hat_gap"])
    assert metrics.song_metrics(real, real)["silent_bar_play"] == 0.0


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


def test_boundary_scores_count_matches_within_the_tolerance() -> None:
    exact = metrics.boundary_scores([8, 16], [8, 17], tolerance=0)
    assert exact == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    near = metrics.boundary_scores([8, 16], [8, 17], tolerance=1)
    assert near == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    one_to_many = metrics.boundary_scores([8], [7, 8, 9], tolerance=1)
    assert one_to_many["precision"] == 1.0 and one_to_many["recall"] == 1.0
    assert metrics.boundary_scores([], [8]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert all(math.isnan(v) for v in metrics.boundary_scores([], []).values())


def test_steady_pulse_rate_counts_bars_whose_timekeeper_is_the_same_on_every_beat() -> None:
    hat, open_hat, ride = pitch_to_row(42), pitch_to_row(46), pitch_to_row(51)
    grid = np.zeros((5, N_ROWS, 16), dtype=bool)
    grid[0, hat, 0::2] = True  # eighths: steady
    grid[1, hat, 0::2] = True
    grid[1, open_hat, 14] = True  # the hat opens on the last "and", still one stroke per eighth
    grid[1, hat, 14] = False
    grid[2, ride, [0, 4, 6, 8, 12]] = True  # an extra "and" on beat 2: not steady
    grid[3, hat, 11] = True  # one lone stroke: not counted
    grid[4, SNARE, [4, 12]] = True  # no timekeeper: not counted
    assert metrics.steady_pulse_rate(grid) == pytest.approx(2 / 3)
    assert math.isnan(metrics.steady_pulse_rate(grid[3:]))
    assert math.isnan(metrics.steady_pulse_rate(grid, bar_steps=[12] * 5)), "16-step bars only"
    wide = np.zeros((5, N_ROWS, 20), dtype=bool)  # a song with 5/4 bars: 16-step bars padded to 20
    wide[..., :16] = grid
    wide[0, hat, 16:] = True  # a 5/4 bar
    assert metrics.steady_pulse_rate(wide, bar_steps=[20, 16, 16, 16, 16]) == pytest.approx(1 / 2)
