"""Bar-to-bar distance matrices (drumgen.similarity) against scipy and naive oracles."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from drumgen.config import Config
from drumgen.similarity import drum_ssm, melodic_ssm


@pytest.fixture
def bar_cqts(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 1, size=(7, 12, 10)).astype(np.float32)


@pytest.fixture
def drum_grids(rng: np.random.Generator) -> np.ndarray:
    on = rng.random((9, 46, 16)) < 0.08
    return np.where(on, rng.integers(1, 128, size=on.shape), 0).astype(np.uint8)


def _melodic_loop_oracle(bar_cqts: np.ndarray, scale: float) -> np.ndarray:
    n_bars, _, n_cells = bar_cqts.shape
    out = np.zeros((n_bars, n_bars))
    for i in range(n_bars):
        for j in range(n_bars):
            out[i, j] = (
                np.mean(
                    [
                        np.linalg.norm(bar_cqts[i, :, c].astype(float) - bar_cqts[j, :, c])
                        for c in range(n_cells)
                    ]
                )
                / scale
            )
    return out


def test_melodic_matches_cdist_oracle(bar_cqts: np.ndarray) -> None:
    scale = 3.0
    oracle = (
        np.mean([cdist(bar_cqts[:, :, c], bar_cqts[:, :, c]) for c in range(bar_cqts.shape[2])], axis=0)
        / scale
    )
    ssm = melodic_ssm(bar_cqts, scale=scale)
    assert ssm.shape == (7, 7)
    assert ssm.dtype == np.float32
    np.testing.assert_allclose(ssm, oracle, rtol=1e-5, atol=1e-6)


def test_melodic_matches_loop_oracle(bar_cqts: np.ndarray) -> None:
    np.testing.assert_allclose(
        melodic_ssm(bar_cqts, scale=1.7), _melodic_loop_oracle(bar_cqts, 1.7), rtol=1e-5, atol=1e-6
    )


def test_melodic_default_scale_keeps_unit_range(default_config: Config) -> None:
    n_bins = default_config.features.n_bins
    cqts = np.zeros((2, n_bins, 4), dtype=np.float32)
    cqts[1] = 1.0  # the farthest two bars of [0, 1] values can be
    ssm = melodic_ssm(cqts, scale=default_config.similarity.melodic_scale)
    assert ssm[0, 1] == pytest.approx(1.0, rel=1e-6)


def test_drum_matches_cdist_oracle(drum_grids: np.ndarray) -> None:
    flat = (drum_grids > 0).reshape(len(drum_grids), -1).astype(float)
    oracle = np.clip(cdist(flat, flat) / 15.0, 0, 1)
    ssm = drum_ssm(drum_grids, scale=15.0)
    assert ssm.shape == (9, 9)
    assert ssm.dtype == np.float32
    np.testing.assert_allclose(ssm, oracle, rtol=1e-6, atol=1e-7)


def test_drum_known_values() -> None:
    grids = np.zeros((3, 46, 16), dtype=np.uint8)
    grids[1, 0, :4] = 100  # 4 hits more than bar 0
    grids[2, :, :] = 1  # 736 hits: far beyond the scale
    ssm = drum_ssm(grids, scale=15.0)
    assert ssm[0, 1] == pytest.approx(2.0 / 15.0)  # sqrt(4) / 15
    assert ssm[0, 2] == 1.0  # clipped
    assert ssm[1, 2] == 1.0


def test_drum_ignores_velocity(drum_grids: np.ndarray) -> None:
    np.testing.assert_array_equal(drum_ssm(drum_grids, scale=15.0), drum_ssm(drum_grids > 0, scale=15.0))


@pytest.mark.parametrize("which", ["melodic", "drum"])
def test_ssm_properties(which: str, bar_cqts: np.ndarray, drum_grids: np.ndarray) -> None:
    ssm = melodic_ssm(bar_cqts, scale=3.0) if which == "melodic" else drum_ssm(drum_grids, scale=15.0)
    np.testing.assert_array_equal(ssm, ssm.T)
    np.testing.assert_array_equal(np.diag(ssm), 0.0)
    assert np.all(ssm >= 0)
    off_diagonal = ssm[~np.eye(len(ssm), dtype=bool)]
    assert np.all(off_diagonal > 0)  # random bars all differ


def test_identical_bars_are_at_distance_zero(rng: np.random.Generator) -> None:
    a, b = rng.uniform(0, 1, size=(2, 12, 10))
    cqts = np.stack([a, b, a, b, a]).astype(np.float32)
    ssm = melodic_ssm(cqts, scale=2.0)
    for i in range(5):
        for j in range(5):
            assert (ssm[i, j] == 0) == (i % 2 == j % 2)
    grids = (rng.random((2, 46, 16)) < 0.1)[[0, 1, 0, 0]]
    dssm = drum_ssm(grids, scale=15.0)
    assert dssm[0, 2] == 0 and dssm[0, 3] == 0 and dssm[2, 3] == 0
    assert dssm[0, 1] > 0


def test_single_bar() -> None:
    assert melodic_ssm(np.ones((1, 4, 3)), scale=1.0).shape == (1, 1)
    assert drum_ssm(np.ones((1, 46, 16)), scale=15.0).tolist() == [[0.0]]


def test_scale_divides(bar_cqts: np.ndarray) -> None:
    np.testing.assert_allclose(
        melodic_ssm(bar_cqts, scale=2.0) * 2.0, melodic_ssm(bar_cqts, scale=1.0), rtol=1e-6
    )


def test_inputs_not_modified(bar_cqts: np.ndarray, drum_grids: np.ndarray) -> None:
    cqts_before, grids_before = bar_cqts.copy(), drum_grids.copy()
    melodic_ssm(bar_cqts, scale=1.0)
    drum_ssm(drum_grids, scale=15.0)
    np.testing.assert_array_equal(bar_cqts, cqts_before)
    np.testing.assert_array_equal(drum_grids, grids_before)
