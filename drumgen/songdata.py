"""Shared records of analysed songs: the genre vocabulary, the stored CQT scale, and one song's
analysed arrays.

A small module of its own so that the dataset builder, the models, the generation core and the
evaluation can all use these without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgen.meter import SongMeter

GENRES = ("rock", "pop", "country", "rap_hip_hop", "rnb_soul", "classic")
"""Genre labels of the corpus, in the order of the model's one-hot style input."""
UNKNOWN_GENRE = "unknown"
CQT_LEVELS = 255
"""Stored CQTs are round(value * 255) as uint8 (values in [0, 1]; steps of 0.31 dB)."""


@dataclass(frozen=True)
class SongData:
    """One song of a built dataset, arrays as stored (see the module docstring)."""

    song_id: str
    genre: str
    arrays: dict[str, np.ndarray]

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return len(self.arrays["bar_cqts"])

    @property
    def meter(self) -> SongMeter:
        """Every bar's meter (:class:`drumgen.meter.SongMeter`); all 4/4 for a song stored before
        ``bar_meters`` was (the training builds kept only 4/4 songs then)."""
        if "bar_meters" not in self.arrays:
            return SongMeter.common_time(self.n_bars)
        return SongMeter.from_meters(self.arrays["bar_meters"])
