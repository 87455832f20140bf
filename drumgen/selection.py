"""For every bar, the k most similar *other* bars of a distance SSM, and their weights.

Ties in distance go to the bar nearer in time, then to the earlier bar, so the choice is
deterministic. A neighbour's weight is ``clip(1 - distance, 0, 1)``; the bar itself weighs 1.
A song with fewer than ``k + 1`` bars pads each row with the bar itself at weight 0.

Used by notebook ``step_3_extract_bar_selection_info``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgen.exceptions import ParameterError

DISTANCE_DECIMALS = 6
"""Distances are compared after rounding, so float noise cannot break a tie."""


@dataclass(frozen=True)
class BarSelection:
    """Each bar's most similar other bars.

    Attributes
    ----------
    neighbor_idx : np.ndarray [shape=(n_bars, k), int64]
        ``neighbor_idx[i]`` lists bar ``i``'s neighbours, most similar first.
    neighbor_weights : np.ndarray [shape=(n_bars, k), float32, in [0, 1]]
        Weight of each neighbour (0 for padding).
    """

    neighbor_idx: np.ndarray
    neighbor_weights: np.ndarray

    @property
    def n_neighbors(self) -> int:
        """k, the number of neighbours per bar."""
        return int(self.neighbor_idx.shape[1])


def select_neighbors(ssm: np.ndarray, *, n_neighbors: int) -> BarSelection:
    """Pick each bar's ``n_neighbors`` nearest other bars in a distance SSM.

    Parameters
    ----------
    ssm : np.ndarray [shape=(n_bars, n_bars)]
        Distances (0 = identical), e.g. a drum SSM.
    n_neighbors : int
        k (7 in the method).

    Returns
    -------
    BarSelection
    """
    ssm = np.asarray(ssm, dtype=np.float64)
    if ssm.ndim != 2 or ssm.shape[0] != ssm.shape[1]:
        raise ParameterError(f"expected a square SSM, got shape {ssm.shape}")
    if n_neighbors < 1:
        raise ParameterError(f"n_neighbors must be >= 1, got {n_neighbors}")
    n_bars = ssm.shape[0]
    neighbor_idx = np.empty((n_bars, n_neighbors), dtype=np.int64)
    neighbor_weights = np.zeros((n_bars, n_neighbors), dtype=np.float32)
    bars = np.arange(n_bars)
    rounded = np.round(ssm, DISTANCE_DECIMALS)
    for bar in range(n_bars):
        others = bars[bars != bar]
        # lexsort: last key is primary -> distance, then distance in time, then index
        order = others[np.lexsort((others, np.abs(others - bar), rounded[bar, others]))]
        chosen = order[:n_neighbors]
        neighbor_idx[bar, : len(chosen)] = chosen
        neighbor_idx[bar, len(chosen) :] = bar
        neighbor_weights[bar, : len(chosen)] = np.clip(1.0 - ssm[bar, chosen], 0.0, 1.0)
    return BarSelection(neighbor_idx=neighbor_idx, neighbor_weights=neighbor_weights)
