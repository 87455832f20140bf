"""Model inputs built from analysed songs: 8-bar CQT stacks, conditioning, targets, SSM crops.

Everything here is NumPy: the arrays are what the Keras models in this package consume, and
they are built on the fly at training time (never stored).

Used by notebooks ``step_4``, ``train_drum_vae`` and ``train_drum_ssm_generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgen.songdata import CQT_LEVELS, GENRES, SongData

TEMPO_CENTER = 120.0
"""Tempo conditioning is (bpm - TEMPO_CENTER) / TEMPO_SCALE, clipped to [-3, 3]."""
TEMPO_SCALE = 40.0
N_CONDITIONS = 2 + len(GENRES)
"""Conditioning vector: tempo, song progress, genre one-hot (all zero when unknown)."""


def conditions(bar_tempos: np.ndarray, *, genre: str) -> np.ndarray:
    """Conditioning of every bar of a song.

    Parameters
    ----------
    bar_tempos : np.ndarray [shape=(n_bars,), bpm]
    genre : str
        One of ``GENRES``, or anything else for unknown.

    Returns
    -------
    np.ndarray [shape=(n_bars, N_CONDITIONS), float32]
        Columns: normalised tempo, progress (bar index / n_bars), genre one-hot.
    """
    n_bars = len(bar_tempos)
    out = np.zeros((n_bars, N_CONDITIONS), dtype=np.float32)
    out[:, 0] = np.clip((np.asarray(bar_tempos) - TEMPO_CENTER) / TEMPO_SCALE, -3.0, 3.0)
    out[:, 1] = np.arange(n_bars) / max(n_bars, 1)
    if genre in GENRES:
        out[:, 2 + GENRES.index(genre)] = 1.0
    return out


def stack_bars(
    bar_cqts: np.ndarray, bar_idx: np.ndarray, neighbor_idx: np.ndarray, neighbor_weights: np.ndarray
) -> np.ndarray:
    """Stack bars with their weighted neighbours: the drum VAE's input.

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, n_bins, n_cells)]
        uint8 (stored, value x 255) or float in [0, 1].
    bar_idx : np.ndarray [shape=(batch,), int]
    neighbor_idx : np.ndarray [shape=(n_bars, k), int]
    neighbor_weights : np.ndarray [shape=(n_bars, k), float in [0, 1]]

    Returns
    -------
    np.ndarray [shape=(batch, n_bins, n_cells, k + 1), float32, in [0, 1]]
        Channel 0 is the bar itself (weight 1), channels 1..k its neighbours times their weights.
    """
    bar_idx = np.asarray(bar_idx)
    members = np.concatenate([bar_idx[:, None], neighbor_idx[bar_idx]], axis=1)  # (batch, k+1)
    weights = np.concatenate(
        [np.ones((len(bar_idx), 1), np.float32), neighbor_weights[bar_idx].astype(np.float32)], axis=1
    )
    stacked = bar_cqts[members].astype(np.float32)  # (batch, k+1, bins, cells)
    if bar_cqts.dtype == np.uint8:
        stacked /= CQT_LEVELS
    stacked *= weights[:, :, None, None]
    return np.transpose(stacked, (0, 2, 3, 1))


def neighboring_bars(n_bars: int, *, n_before: int = 4, n_after: int = 3) -> np.ndarray:
    """The paper's NB baseline selection: the bars just before and after each bar.

    Near the song's edges the window shifts inward so every bar still gets
    ``n_before + n_after`` other bars (when the song has that many).

    Returns
    -------
    np.ndarray [shape=(n_bars, n_before + n_after), int64]
    """
    k = n_before + n_after
    out = np.empty((n_bars, k), dtype=np.int64)
    for bar in range(n_bars):
        start = min(max(bar - n_before, 0), max(n_bars - k - 1, 0))
        window = [j for j in range(start, min(start + k + 1, n_bars)) if j != bar]
        window = (window + [bar] * k)[:k]
        out[bar] = window
    return out


@dataclass(frozen=True)
class BarTable:
    """All bars of many songs in one table (what the VAE trains on).

    Attributes
    ----------
    bar_cqts : np.ndarray [shape=(n_total, n_bins, n_cells), uint8]
    drum_hits : np.ndarray [shape=(n_total, 46, 16), float32 0/1]
    neighbor_idx : np.ndarray [shape=(n_total, k), int64]
        Rows of this table (song offsets applied).
    neighbor_weights : np.ndarray [shape=(n_total, k), float32]
    conditions : np.ndarray [shape=(n_total, N_CONDITIONS), float32]
    song_of_bar : np.ndarray [shape=(n_total,), int64]
    """

    bar_cqts: np.ndarray
    drum_hits: np.ndarray
    neighbor_idx: np.ndarray
    neighbor_weights: np.ndarray
    conditions: np.ndarray
    song_of_bar: np.ndarray

    @property
    def n_bars(self) -> int:
        """Bars in the table."""
        return len(self.bar_cqts)

    @classmethod
    def from_songs(cls, songs: list[SongData]) -> BarTable:
        """Concatenate songs from :func:`drumgen.dataset.load_songs`."""
        offsets = np.cumsum([0] + [song.n_bars for song in songs])
        return cls(
            bar_cqts=np.concatenate([s.arrays["bar_cqts"] for s in songs]),
            drum_hits=np.concatenate([(s.arrays["drum_grids"] > 0).astype(np.float32) for s in songs]),
            neighbor_idx=np.concatenate(
                [
                    s.arrays["neighbor_idx"].astype(np.int64) + off
                    for s, off in zip(songs, offsets, strict=False)
                ]
            ),
            neighbor_weights=np.concatenate([s.arrays["neighbor_weights"].astype(np.float32) for s in songs]),
            conditions=np.concatenate([conditions(s.arrays["bar_tempos"], genre=s.genre) for s in songs]),
            song_of_bar=np.concatenate([np.full(s.n_bars, i) for i, s in enumerate(songs)]),
        )

    def batch(self, bar_idx: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Model inputs and targets for some bars of the table."""
        stack = stack_bars(self.bar_cqts, bar_idx, self.neighbor_idx, self.neighbor_weights)
        hits = self.drum_hits[bar_idx]
        inputs = {"cqt_stack": stack, "conditions": self.conditions[bar_idx]}
        targets = {"drums": hits, "note_count": hits.sum(axis=(1, 2))[:, None]}
        return inputs, targets


def diagonal_crops(
    songs: list[SongData], *, size: int, n_crops: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random square crops along the diagonal of the songs' SSMs, for the drum-SSM generator.

    Returns
    -------
    melodic : np.ndarray [shape=(n_crops, size, size), float32]
    drum : np.ndarray [shape=(n_crops, size, size), float32]
    mask : np.ndarray [shape=(n_crops, size, size), float32]
        1 where the crop lies inside its song (shorter songs are zero-padded).
    """
    melodic = np.zeros((n_crops, size, size), np.float32)
    drum = np.zeros((n_crops, size, size), np.float32)
    mask = np.zeros((n_crops, size, size), np.float32)
    weights = np.array([song.n_bars for song in songs], float)
    picks = rng.choice(len(songs), size=n_crops, p=weights / weights.sum())
    for crop, song_idx in enumerate(picks):
        arrays = songs[song_idx].arrays
        n = songs[song_idx].n_bars
        start = int(rng.integers(0, max(n - size, 0) + 1))
        stop = min(start + size, n)
        span = stop - start
        melodic[crop, :span, :span] = arrays["melodic_ssm"][start:stop, start:stop]
        drum[crop, :span, :span] = arrays["drum_ssm"][start:stop, start:stop]
        mask[crop, :span, :span] = 1.0
    return melodic, drum, mask
