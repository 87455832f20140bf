"""Bar-to-bar self-similarity matrices (SSMs), held as *distances*: 0 = identical bars.

- Melodic SSM: for bars ``i`` and ``j``, the mean over the time cells of the Euclidean distance
  between their CQT columns, divided by ``scale`` (the default ``sqrt(n_bins)`` keeps it in [0, 1]).
- Drum SSM: Euclidean distance between the bars' binary 46 x 16 hit grids, divided by ``scale``
  (the reference's 15), clipped to 1.

Both are symmetric with a zero diagonal. ``similarity = 1 - distance`` where a picture wants it.

Used by notebook ``step_2_generate_drum_ssm_from_melodic_ssm``.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist


def _symmetrise(distances: np.ndarray) -> np.ndarray:
    distances = (distances + distances.T) / 2.0
    np.fill_diagonal(distances, 0.0)
    return distances


def melodic_ssm(bar_cqts: np.ndarray, *, scale: float) -> np.ndarray:
    """Melodic distance matrix of a song's bars.

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, n_bins, n_cells), values in [0, 1]]
        Per-bar CQT matrices from :func:`drumgen.features.bar_features`.
    scale : float
        Divisor of the mean cell-to-cell Euclidean distance.

    Returns
    -------
    np.ndarray [shape=(n_bars, n_bars), float32]
        Symmetric, zero diagonal.
    """
    bar_cqts = np.asarray(bar_cqts, dtype=np.float64)
    n_bars, _, n_cells = bar_cqts.shape
    total = np.zeros((n_bars, n_bars))
    for cell in range(n_cells):
        columns = bar_cqts[:, :, cell]
        total += cdist(columns, columns)
    return _symmetrise(total / n_cells / scale).astype(np.float32)


def drum_ssm(drum_grids: np.ndarray, *, scale: float) -> np.ndarray:
    """Drum distance matrix of a song's bars.

    Parameters
    ----------
    drum_grids : np.ndarray [shape=(n_bars, 46, 16)]
        Velocity or hit grids (only hit / no hit counts).
    scale : float
        Divisor of the Euclidean distance of the binary grids (clipped to 1 after dividing).

    Returns
    -------
    np.ndarray [shape=(n_bars, n_bars), float32]
        Symmetric, zero diagonal, in [0, 1].
    """
    flat = (np.asarray(drum_grids) > 0).reshape(len(drum_grids), -1).astype(np.float64)
    return np.clip(_symmetrise(cdist(flat, flat) / scale), 0.0, 1.0).astype(np.float32)
