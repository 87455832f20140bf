"""Per-bar constant-Q features (drumgen.features): known answers on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from drumgen.config import Config
from drumgen.features import bar_features_with, cqt_db_with, db_to_unit, pool_bars

A4_BIN = 45
"""A4 (MIDI 69) counted in semitones from C1 (MIDI 24), bin 0 of the CQT."""


def _sine(freq_hz: float, *, duration: float, sr: int) -> np.ndarray:
    t = np.arange(round(duration * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _features(audio: np.ndarray, bar_times: np.ndarray, config: Config) -> np.ndarray:
    return bar_features_with(audio, bar_times, sr=config.render.sample_rate, settings=config.features)


@pytest.fixture(scope="module")
def sine_features(smoke_config: Config) -> np.ndarray:
    sr = smoke_config.render.sample_rate
    return _features(_sine(440.0, duration=2.0, sr=sr), np.array([0.0, 0.5, 1.0, 1.5, 2.0]), smoke_config)


def test_a4_bin_index(smoke_config: Config) -> None:
    f = smoke_config.features
    assert f.fmin_hz * 2 ** (A4_BIN / f.bins_per_octave) == pytest.approx(440.0, rel=1e-6)


def test_sine_shape_and_range(sine_features: np.ndarray, smoke_config: Config) -> None:
    f = smoke_config.features
    assert sine_features.shape == (4, f.n_bins, f.n_cells)
    assert sine_features.dtype == np.float32
    assert sine_features.min() >= 0.0
    assert sine_features.max() <= 1.0
    assert sine_features.max() == pytest.approx(1.0, abs=0.02)  # the song's maximum maps to 1


def test_sine_peaks_in_a4_bin_every_bar(sine_features: np.ndarray) -> None:
    per_bar = sine_features.mean(axis=2)
    np.testing.assert_array_equal(np.argmax(per_bar, axis=1), [A4_BIN] * 4)


def test_sine_peaks_in_a4_bin_every_inner_cell(sine_features: np.ndarray) -> None:
    # every cell of the inner bars (the outer ones touch the signal's edges)
    np.testing.assert_array_equal(np.argmax(sine_features[1:3], axis=1), A4_BIN)


def test_sine_far_bins_are_quiet(sine_features: np.ndarray) -> None:
    per_bar = sine_features[1:3].mean(axis=2)
    assert np.all(per_bar[:, A4_BIN] > 0.9)
    assert np.all(per_bar[:, : A4_BIN - 24] < per_bar[:, [A4_BIN]] - 0.3)  # two octaves below


def test_silence_gives_zeros(smoke_config: Config) -> None:
    sr = smoke_config.render.sample_rate
    features = _features(np.zeros(sr, dtype=np.float32), np.array([0.0, 0.5, 1.0]), smoke_config)
    assert features.shape == (2, smoke_config.features.n_bins, smoke_config.features.n_cells)
    assert np.all(features == 0.0)


def test_cqt_db_range_and_frames(smoke_config: Config) -> None:
    f, sr = smoke_config.features, smoke_config.render.sample_rate
    audio = _sine(220.0, duration=1.0, sr=sr)
    db = cqt_db_with(audio, sr=sr, settings=f)
    assert db.shape == (f.n_bins, 1 + len(audio) // f.hop_length)
    assert db.dtype == np.float32
    assert db.max() == pytest.approx(0.0, abs=1e-4)
    assert db.min() >= -f.top_db


def test_downbeat_clicks_fill_the_first_cells(smoke_config: Config) -> None:
    sr = smoke_config.render.sample_rate
    bar_times = np.arange(0.0, 8.01, 2.0)
    audio = np.zeros(int(8.5 * sr), dtype=np.float32)
    audio[(bar_times[:-1] * sr).astype(int)] = 1.0
    features = _features(audio, bar_times, smoke_config)
    energy = features.mean(axis=1)  # (n_bars, n_cells)
    middle = energy[:, 32:64].max(axis=1)
    assert np.all(energy[:, 0] > 0.3)
    assert np.all(energy[:, 0] > middle + 0.3)
    assert np.all(energy[:, :4].mean(axis=1) > energy[:, 20:76].mean(axis=1))


def test_db_to_unit() -> None:
    np.testing.assert_allclose(
        db_to_unit(np.array([-80.0, -40.0, -20.0, 0.0]), top_db=80.0), [0.0, 0.5, 0.75, 1.0]
    )
    np.testing.assert_allclose(db_to_unit(np.array([-120.0, 5.0]), top_db=80.0), [0.0, 1.0])
    np.testing.assert_allclose(db_to_unit(np.array([-30.0]), top_db=60.0), [0.5])
    assert db_to_unit(np.zeros((2, 3)), top_db=80.0).dtype == np.float32


def test_db_to_unit_monotonic(rng: np.random.Generator) -> None:
    db = np.sort(rng.uniform(-80, 0, size=100))
    assert np.all(np.diff(db_to_unit(db, top_db=80.0)) >= 0)


# --- pool_bars ----------------------------------------------------------------------------------


def _ramp(n_bins: int, n_frames: int) -> np.ndarray:
    """spectrogram[b, f] = f + 1000 b: each frame says which it is."""
    return (np.arange(n_frames)[None, :] + 1000.0 * np.arange(n_bins)[:, None]).astype(np.float32)


def _pool_oracle(
    spectrogram: np.ndarray, bar_times: np.ndarray, *, sr: int, hop_length: int, n_cells: int
) -> np.ndarray:
    """Plain loops: cell [t0, t1) averages frames round(t0 * sr / hop) ... round(t1 * sr / hop) - 1,
    at least one frame (the one nearest t0)."""
    n_bins, n_frames = spectrogram.shape
    out = np.zeros((len(bar_times) - 1, n_bins, n_cells))
    for bar in range(len(bar_times) - 1):
        length = bar_times[bar + 1] - bar_times[bar]
        for cell in range(n_cells):
            t0 = bar_times[bar] + length * cell / n_cells
            t1 = bar_times[bar] + length * (cell + 1) / n_cells
            start = round(t0 * sr / hop_length)
            stop = max(round(t1 * sr / hop_length), start + 1)
            frames = [min(frame, n_frames - 1) for frame in range(start, stop)]
            out[bar, :, cell] = spectrogram[:, frames].mean(axis=1)
    return out


def test_pool_bars_known_means() -> None:
    # sr / hop = 100 frames per second; bars of 0.08 s and 4 cells: 2 frames per cell
    spectrogram = _ramp(3, 40)
    bar_times = np.array([0.0, 0.08, 0.16, 0.24])
    pooled = pool_bars(spectrogram, bar_times, sr=1000, hop_length=10, n_cells=4)
    assert pooled.shape == (3, 3, 4)
    assert pooled.dtype == np.float32
    expected = np.array([[8 * bar + 2 * cell + 0.5 for cell in range(4)] for bar in range(3)])
    np.testing.assert_allclose(pooled[:, 0, :], expected)
    np.testing.assert_allclose(pooled[:, 2, :], expected + 2000.0)


def test_pool_bars_matches_loop_oracle(rng: np.random.Generator) -> None:
    sr, hop, n_cells = 22050, 128, 96
    spectrogram = rng.uniform(0, 1, size=(7, 800)).astype(np.float32)
    lengths = rng.uniform(0.4, 1.2, size=4)
    bar_times = np.concatenate([[0.13], 0.13 + np.cumsum(lengths)])
    assert bar_times[-1] * sr / hop < 800 - 1  # all bars inside the spectrogram
    pooled = pool_bars(spectrogram, bar_times, sr=sr, hop_length=hop, n_cells=n_cells)
    oracle = _pool_oracle(spectrogram, bar_times, sr=sr, hop_length=hop, n_cells=n_cells)
    np.testing.assert_allclose(pooled, oracle, rtol=1e-5, atol=1e-6)


def test_pool_bars_short_cells_take_one_frame() -> None:
    # 10 cells in a bar of 3 frames: every cell still gets a value, the frame nearest its start
    spectrogram = _ramp(1, 20)
    pooled = pool_bars(spectrogram, np.array([0.05, 0.08]), sr=1000, hop_length=10, n_cells=10)
    assert pooled.shape == (1, 1, 10)
    cell_starts = 0.05 + 0.003 * np.arange(10)
    np.testing.assert_array_equal(pooled[0, 0], np.round(cell_starts * 100))


def test_pool_bars_constant_spectrogram(rng: np.random.Generator) -> None:
    column = rng.uniform(0, 1, size=(5, 1)).astype(np.float32)
    spectrogram = np.repeat(column, 300, axis=1)
    pooled = pool_bars(spectrogram, np.array([0.0, 0.7, 1.3, 2.9]), sr=1000, hop_length=10, n_cells=16)
    np.testing.assert_allclose(pooled, np.broadcast_to(column[None], (3, 5, 16)), rtol=1e-6)


def test_pool_bars_past_the_end_uses_last_frame() -> None:
    spectrogram = _ramp(1, 10)
    pooled = pool_bars(spectrogram, np.array([0.2, 0.3]), sr=1000, hop_length=10, n_cells=4)
    np.testing.assert_allclose(pooled, 9.0)


def test_pool_bars_last_cell_keeps_the_last_frame() -> None:
    spectrogram = _ramp(1, 8)  # frames 0..7, one bar of exactly 8 frames, 2 frames per cell
    pooled = pool_bars(spectrogram, np.array([0.0, 0.08]), sr=1000, hop_length=10, n_cells=4)
    np.testing.assert_allclose(pooled[0, 0], [0.5, 2.5, 4.5, 6.5])
