"""Constant-Q spectrogram of a song, cut into a fixed-size matrix per bar.

Pipeline: audio -> CQT magnitude in dB relative to the song's maximum (floor ``-top_db``) ->
mapped to [0, 1] by ``(dB + top_db) / top_db`` -> each bar cut into ``n_cells`` equal time cells,
the frames of a cell averaged -> one ``(n_bins, n_cells)`` matrix per bar (84 x 96 by default).

Used by notebook ``step_1_midi_data_preprocessing``.
"""

from __future__ import annotations

import numpy as np

from drumgen.bars import times_to_frames
from drumgen.config import FeatureConfig


def cqt_db(
    audio: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    fmin_hz: float,
    n_bins: int,
    bins_per_octave: int,
    top_db: float,
) -> np.ndarray:
    """Constant-Q magnitude spectrogram in dB relative to its own maximum.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,), float]
        Mono audio.
    sr, hop_length, fmin_hz, n_bins, bins_per_octave
        As in :func:`librosa.cqt`.
    top_db : float
        Floor in dB below the maximum.

    Returns
    -------
    np.ndarray [shape=(n_bins, n_frames), float32, dB in [-top_db, 0]]
        Frame ``f`` is centred at ``f * hop_length / sr`` seconds. Silent audio gives ``-top_db``
        everywhere.
    """
    import librosa  # imported here: it is slow to import and only this stage needs it

    magnitude = np.abs(
        librosa.cqt(
            np.asarray(audio, dtype=np.float32),
            sr=sr,
            hop_length=hop_length,
            fmin=fmin_hz,
            n_bins=n_bins,
            bins_per_octave=bins_per_octave,
        )
    )
    if not np.any(magnitude > 0):
        return np.full(magnitude.shape, -top_db, dtype=np.float32)
    db = librosa.amplitude_to_db(magnitude, ref=np.max, top_db=top_db)
    return np.maximum(db, -top_db).astype(np.float32)


def db_to_unit(db: np.ndarray, *, top_db: float) -> np.ndarray:
    """Map dB in ``[-top_db, 0]`` linearly to ``[0, 1]`` (silence 0, the song's maximum 1)."""
    return np.clip((np.asarray(db, dtype=np.float32) + top_db) / top_db, 0.0, 1.0)


def pool_bars(
    spectrogram: np.ndarray, bar_times: np.ndarray, *, sr: int, hop_length: int, n_cells: int
) -> np.ndarray:
    """Cut a spectrogram into bars of ``n_cells`` equal time cells, averaging frames per cell.

    A cell shorter than one frame takes the frame nearest its start, so very fast bars still get
    ``n_cells`` values. Frames past the end of the spectrogram count as its last frame.

    Parameters
    ----------
    spectrogram : np.ndarray [shape=(n_bins, n_frames)]
    bar_times : np.ndarray [shape=(n_bars + 1,), seconds]
        Bar boundaries.

    Returns
    -------
    np.ndarray [shape=(n_bars, n_bins, n_cells), float32]
    """
    bar_times = np.asarray(bar_times, dtype=float)
    n_frames = spectrogram.shape[1]
    cell_times = (
        bar_times[:-1, None] + np.linspace(0.0, 1.0, n_cells + 1)[None, :] * np.diff(bar_times)[:, None]
    )
    edges = np.clip(times_to_frames(cell_times, sr=sr, hop_length=hop_length), 0, n_frames)
    starts = edges[:, :-1]
    stops = np.maximum(edges[:, 1:], starts + 1)  # at least one frame per cell
    padded = np.concatenate([spectrogram, spectrogram[:, -1:]], axis=1).astype(np.float64)
    cumulative = np.concatenate([np.zeros((spectrogram.shape[0], 1)), np.cumsum(padded, axis=1)], axis=1)
    sums = cumulative[:, stops] - cumulative[:, starts]  # (n_bins, n_bars, n_cells)
    means = sums / (stops - starts)[None, :, :]
    return np.transpose(means, (1, 0, 2)).astype(np.float32)


def bar_features(
    audio: np.ndarray,
    bar_times: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    fmin_hz: float,
    n_bins: int,
    bins_per_octave: int,
    top_db: float,
    n_cells: int,
) -> np.ndarray:
    """The per-bar CQT matrices of a song, values in [0, 1].

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,), float]
        Mono audio at ``sr``.
    bar_times : np.ndarray [shape=(n_bars + 1,), seconds]

    Returns
    -------
    np.ndarray [shape=(n_bars, n_bins, n_cells), float32, in [0, 1]]
    """
    db = cqt_db(
        audio,
        sr=sr,
        hop_length=hop_length,
        fmin_hz=fmin_hz,
        n_bins=n_bins,
        bins_per_octave=bins_per_octave,
        top_db=top_db,
    )
    unit = db_to_unit(db, top_db=top_db)
    return pool_bars(unit, bar_times, sr=sr, hop_length=hop_length, n_cells=n_cells)


def cqt_db_with(audio: np.ndarray, *, sr: int, settings: FeatureConfig) -> np.ndarray:
    """:func:`cqt_db` with the settings of a config's ``features`` section."""
    return cqt_db(
        audio,
        sr=sr,
        hop_length=settings.hop_length,
        fmin_hz=settings.fmin_hz,
        n_bins=settings.n_bins,
        bins_per_octave=settings.bins_per_octave,
        top_db=settings.top_db,
    )


def bar_features_with(
    audio: np.ndarray, bar_times: np.ndarray, *, sr: int, settings: FeatureConfig
) -> np.ndarray:
    """:func:`bar_features` with the settings of a config's ``features`` section."""
    return bar_features(
        audio,
        bar_times,
        sr=sr,
        hop_length=settings.hop_length,
        fmin_hz=settings.fmin_hz,
        n_bins=settings.n_bins,
        bins_per_octave=settings.bins_per_octave,
        top_db=settings.top_db,
        n_cells=settings.n_cells,
    )
