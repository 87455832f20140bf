"""Choice of each bar's nearest other bars (drumgen.selection)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drumgen import bars, features, midi, representation, similarity
from drumgen.config import Config
from drumgen.exceptions import ParameterError
from drumgen.selection import BarSelection, select_neighbors
from drumgen.synth import render_song


def _form_ssm(form: str, *, other: float = 0.8) -> np.ndarray:
    """Distance 0 between bars of the same letter, ``other`` otherwise."""
    letters = np.array(list(form))
    return np.where(letters[:, None] == letters[None, :], 0.0, other)


def _oracle(ssm: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort the other bars by (distance, distance in time, index) with Python's sorted."""
    n = len(ssm)
    idx = np.empty((n, k), dtype=np.int64)
    weights = np.zeros((n, k))
    for i in range(n):
        others = sorted((j for j in range(n) if j != i), key=lambda j: (round(ssm[i, j], 6), abs(i - j), j))
        chosen = others[:k]
        idx[i] = chosen + [i] * (k - len(chosen))
        weights[i, : len(chosen)] = [min(max(1 - ssm[i, j], 0), 1) for j in chosen]
    return idx, weights


def test_ababca_bar_0_nearest_are_2_and_5() -> None:
    selection = select_neighbors(_form_ssm("ABABCA"), n_neighbors=7)
    assert selection.neighbor_idx[0, :2].tolist() == [2, 5]


def test_ababca_full_answer() -> None:
    selection = select_neighbors(_form_ssm("ABABCA"), n_neighbors=7)
    assert isinstance(selection, BarSelection)
    assert selection.n_neighbors == 7
    assert selection.neighbor_idx.shape == (6, 7)
    assert selection.neighbor_idx.dtype == np.int64
    assert selection.neighbor_weights.dtype == np.float32
    # bar 0: same letter (2, 5), then the rest by distance in time (1, 3, 4), then padding
    assert selection.neighbor_idx[0].tolist() == [2, 5, 1, 3, 4, 0, 0]
    np.testing.assert_allclose(selection.neighbor_weights[0], [1, 1, 0.2, 0.2, 0.2, 0, 0], atol=1e-6)
    # bar 1 (B): bar 3, then the A bars 0 and 2 (both 1 bar away: earlier first), 4, 5
    assert selection.neighbor_idx[1].tolist() == [3, 0, 2, 4, 5, 1, 1]
    # bar 5 (A): 2 before 0 (nearer in time)
    assert selection.neighbor_idx[5, :2].tolist() == [2, 0]


def test_ties_nearer_in_time_then_earlier() -> None:
    ssm = np.full((7, 7), 0.5)
    np.fill_diagonal(ssm, 0)
    selection = select_neighbors(ssm, n_neighbors=6)
    assert selection.neighbor_idx[3].tolist() == [2, 4, 1, 5, 0, 6]
    assert selection.neighbor_idx[0].tolist() == [1, 2, 3, 4, 5, 6]
    assert selection.neighbor_idx[6].tolist() == [5, 4, 3, 2, 1, 0]


def test_float_noise_does_not_break_ties() -> None:
    ssm = np.full((5, 5), 0.3)
    ssm[2, 0] = 0.3 + 1e-9  # earlier bar, a hair farther: still a tie
    ssm[2, 4] = 0.3 - 1e-9
    selection = select_neighbors(ssm, n_neighbors=4)
    assert selection.neighbor_idx[2].tolist() == [1, 3, 0, 4]


def test_weights_are_clipped_one_minus_distance() -> None:
    ssm = np.array(
        [[0.0, 0.25, 1.5, -0.2], [0.25, 0.0, 0.5, 0.75], [1.5, 0.5, 0.0, 1.0], [-0.2, 0.75, 1.0, 0.0]]
    )
    selection = select_neighbors(ssm, n_neighbors=3)
    assert selection.neighbor_idx[0].tolist() == [3, 1, 2]
    np.testing.assert_allclose(selection.neighbor_weights[0], [1.0, 0.75, 0.0])
    assert np.all((selection.neighbor_weights >= 0) & (selection.neighbor_weights <= 1))


def test_padding_with_few_bars() -> None:
    ssm = np.array([[0.0, 0.4, 0.1], [0.4, 0.0, 0.3], [0.1, 0.3, 0.0]])
    selection = select_neighbors(ssm, n_neighbors=7)
    assert selection.neighbor_idx.shape == (3, 7)
    assert selection.neighbor_idx[0].tolist() == [2, 1, 0, 0, 0, 0, 0]
    np.testing.assert_allclose(selection.neighbor_weights[0], [0.9, 0.6, 0, 0, 0, 0, 0], atol=1e-6)
    for bar in range(3):
        assert selection.neighbor_idx[bar, 2:].tolist() == [bar] * 5
        assert np.all(selection.neighbor_weights[bar, 2:] == 0)


def test_single_bar_is_all_padding() -> None:
    selection = select_neighbors(np.zeros((1, 1)), n_neighbors=3)
    assert selection.neighbor_idx.tolist() == [[0, 0, 0]]
    assert selection.neighbor_weights.tolist() == [[0.0, 0.0, 0.0]]


def test_never_picks_itself_when_it_need_not(rng: np.random.Generator) -> None:
    ssm = rng.uniform(0, 1, size=(12, 12))
    selection = select_neighbors((ssm + ssm.T) / 2, n_neighbors=7)
    for bar in range(12):
        row = selection.neighbor_idx[bar].tolist()
        assert bar not in row
        assert len(set(row)) == 7


def test_matches_sorted_oracle(rng: np.random.Generator) -> None:
    ssm = np.round(rng.uniform(0, 1.3, size=(15, 15)), 1)  # coarse values: many ties
    ssm = np.minimum(ssm, ssm.T)
    np.fill_diagonal(ssm, 0)
    for k in (1, 7, 14, 20):
        selection = select_neighbors(ssm, n_neighbors=k)
        idx, weights = _oracle(ssm, k)
        np.testing.assert_array_equal(selection.neighbor_idx, idx)
        np.testing.assert_allclose(selection.neighbor_weights, weights, atol=1e-6)


def test_deterministic(rng: np.random.Generator) -> None:
    ssm = np.round(rng.uniform(0, 1, size=(20, 20)), 1)
    first = select_neighbors(ssm, n_neighbors=7)
    second = select_neighbors(ssm.copy(), n_neighbors=7)
    np.testing.assert_array_equal(first.neighbor_idx, second.neighbor_idx)
    np.testing.assert_array_equal(first.neighbor_weights, second.neighbor_weights)


def test_input_not_modified(rng: np.random.Generator) -> None:
    ssm = rng.uniform(0, 1, size=(6, 6))
    before = ssm.copy()
    select_neighbors(ssm, n_neighbors=3)
    np.testing.assert_array_equal(ssm, before)


@pytest.mark.parametrize("shape", [(3, 4), (5,), (2, 2, 2)])
def test_non_square_raises(shape: tuple[int, ...]) -> None:
    with pytest.raises(ParameterError, match="square"):
        select_neighbors(np.zeros(shape), n_neighbors=2)


def test_bad_k_raises() -> None:
    with pytest.raises(ParameterError):
        select_neighbors(np.zeros((3, 3)), n_neighbors=0)


# --- structure recovery on a synthetic song (drumgen.testing) -----------------------------------

FORM = "ABABCA"


def _same_letter_first(selection: BarSelection, form: str) -> None:
    for bar, letter in enumerate(form):
        same = {other for other, o in enumerate(form) if o == letter and other != bar}
        assert set(selection.neighbor_idx[bar, : len(same)].tolist()) == same, bar


def test_structure_from_drum_grids() -> None:
    testing = pytest.importorskip("drumgen.testing")
    song = testing.make_song(FORM, seed=3)
    parts = midi.split_drums(song)
    assert parts.drums is not None
    grids = representation.drums_to_grid(parts.drums.instruments, bars.step_times(song))
    assert grids.shape[0] == len(FORM)
    selection = select_neighbors(similarity.drum_ssm(grids, scale=15.0), n_neighbors=7)
    assert selection.neighbor_idx[0, :2].tolist() == [2, 5]
    _same_letter_first(selection, FORM)


def test_structure_from_rendered_melody(smoke_config: Config) -> None:
    testing = pytest.importorskip("drumgen.testing")
    if not Path(smoke_config.render.soundfont).is_file():
        pytest.skip("soundfont not installed (fluid-soundfont-gm)")
    song = testing.make_song(FORM, seed=3)
    melody = midi.split_drums(song).melody
    bar_times = bars.bar_times(song)
    render, feat = smoke_config.render, smoke_config.features
    audio = render_song(
        melody,
        soundfont=render.soundfont,
        sr=render.sample_rate,
        gain=render.gain,
        peak=render.peak,
        duration=float(bar_times[-1]),
    )
    cqts = features.bar_features_with(audio, bar_times, sr=render.sample_rate, settings=feat)
    ssm = similarity.melodic_ssm(cqts, scale=smoke_config.similarity.melodic_scale)
    selection = select_neighbors(ssm, n_neighbors=smoke_config.selection.n_neighbors)
    assert selection.neighbor_idx[0, :2].tolist() == [2, 5]
    _same_letter_first(selection, FORM)
