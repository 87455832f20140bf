"""Model inputs built from analysed songs: 8-bar CQT stacks, part onsets, conditioning, targets,
SSM crops, and the VAE's training augmentation (CQT pitch shifts).

Everything here is NumPy: the arrays are what the Keras models in this package consume, and
they are built on the fly at training time (never stored).

Used by notebooks ``step_4``, ``train_drum_vae`` and ``train_drum_ssm_generator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from drumgen.bars import N_STEPS
from drumgen.exceptions import ParameterError
from drumgen.meter import to_model_steps
from drumgen.parts import PART_FAMILIES
from drumgen.songdata import CQT_LEVELS, GENRES, SongData

TEMPO_CENTER = 120.0
"""Tempo conditioning is (bpm - TEMPO_CENTER) / TEMPO_SCALE, clipped to [-3, 3]."""
TEMPO_SCALE = 40.0
N_METER_COLUMNS = 2
"""Meter columns of a meter-aware VAE's conditioning: how much shorter than a 4/4 bar the bar is
written (``1 - steps / 16``: 0 for 4/4, 0.25 for 3/4 and 6/8) and whether it is compound; both 0
for a 4/4 bar, so a 4/4 song's inputs are those of a VAE without them."""
BEAT_POSITIONS = 4
"""Sixteenth positions of a beat, over which the song context averages the parts' onsets."""
N_CONTEXT_COLUMNS = len(PART_FAMILIES) * (BEAT_POSITIONS + 1)
"""Song-context columns (:func:`song_context`): per part family, its mean onset level on each
sixteenth position of the beat over the whole song, and the share of bars it plays in."""
N_CONDITIONS = 2 + len(GENRES) + N_CONTEXT_COLUMNS + N_METER_COLUMNS
"""Conditioning vector: tempo, song progress, genre one-hot (a soft mix when unknown), the song's
context, the meter."""


@dataclass(frozen=True)
class ConditionEncoding:
    """How the VAE's "conditions" input is made from a song's tempo and genre, and how stored
    CQTs are scaled; saved with the model (``config.json``, ``inputs``) and read back from it, so
    a later change of these constants in code never changes what trained weights see.

    Attributes
    ----------
    tempo_center, tempo_scale : float, bpm
        Tempo conditioning is ``(bpm - tempo_center) / tempo_scale``, clipped to [-3, 3].
    genres : tuple of str
        The genre one-hot's order.
    cqt_levels : int
        Stored uint8 CQTs are ``round(value * cqt_levels)``.
    unknown_genre_mix : tuple of float, optional
        The training songs' genre shares (:func:`genre_shares`, written by training; one share per
        genre, summing to 1); ``None`` (models saved before this was recorded): equal shares. Step 4
        averages a song of unknown genre's predictions under each genre with these weights
        (:func:`drumgen.model.generate.genre_weights`), or, with ``generation.unknown_genre =
        "mix"``, the genre columns hold them (:meth:`genre_columns`). All zeros, which the VAE never
        saw in training, made it play about 4.7 snares per bar instead of 1.9; the mix of shares
        2.84 against 2.33 with the song's own genre, the average 2.33 (validation songs,
        ``scripts/genre_conditioning_study.py``).
    meter_columns : bool
        Whether the vector ends with the bar's meter (:data:`N_METER_COLUMNS` columns: how much
        shorter than 16 steps the VAE writes it, and 1 for a compound meter): a meter-aware VAE,
        trained on bars of up to 16 steps of every meter, writes a 3/4 or 6/8 bar in its own
        first 12 cells. False (models saved before): no meter columns, every bar a 4/4 bar.
    song_context : bool
        Whether the genre columns are followed by the song's context (:func:`song_context`,
        :data:`N_CONTEXT_COLUMNS` columns: what the song's parts play over the whole song). False
        (models saved before): none.
    """

    tempo_center: float = TEMPO_CENTER
    tempo_scale: float = TEMPO_SCALE
    genres: tuple[str, ...] = GENRES
    cqt_levels: int = CQT_LEVELS
    unknown_genre_mix: tuple[float, ...] | None = None
    meter_columns: bool = False
    song_context: bool = False

    def __post_init__(self) -> None:
        if self.tempo_scale <= 0:
            raise ParameterError(f"the tempo scale must be > 0, got {self.tempo_scale}")
        if self.cqt_levels < 1:
            raise ParameterError(f"the CQT levels must be >= 1, got {self.cqt_levels}")
        mix = self.unknown_genre_mix
        if mix is not None and (len(mix) != len(self.genres) or min(mix) < 0 or abs(sum(mix) - 1.0) > 1e-3):
            raise ParameterError(
                f"the unknown-genre mix must be {len(self.genres)} shares >= 0 summing to 1, got {list(mix)}"
            )

    def genre_columns(self, genre: str) -> np.ndarray:
        """The genre part of the conditioning vector.

        Returns
        -------
        np.ndarray [shape=(len(genres),), float32]
            A one-hot for a genre of ``genres``; ``unknown_genre_mix`` (or equal shares) otherwise.
        """
        out = np.zeros(len(self.genres), dtype=np.float32)
        if genre in self.genres:
            out[self.genres.index(genre)] = 1.0
        elif self.unknown_genre_mix is not None:
            out[:] = self.unknown_genre_mix
        elif self.genres:
            out[:] = 1.0 / len(self.genres)
        return out

    @property
    def n_conditions(self) -> int:
        """Length of the conditioning vector: tempo, progress, one column per genre, the song's
        context, the meter."""
        return (
            2
            + len(self.genres)
            + (N_CONTEXT_COLUMNS if self.song_context else 0)
            + (N_METER_COLUMNS if self.meter_columns else 0)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the model's config."""
        return {
            "tempo_center": self.tempo_center,
            "tempo_scale": self.tempo_scale,
            "genres": list(self.genres),
            "cqt_levels": self.cqt_levels,
            "unknown_genre_mix": None if self.unknown_genre_mix is None else list(self.unknown_genre_mix),
            "meter_columns": self.meter_columns,
            "song_context": self.song_context,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConditionEncoding:
        """Read back :meth:`to_dict`."""
        return cls(
            tempo_center=float(data["tempo_center"]),
            tempo_scale=float(data["tempo_scale"]),
            genres=tuple(str(genre) for genre in data["genres"]),
            cqt_levels=int(data["cqt_levels"]),
            unknown_genre_mix=(
                None
                if data.get("unknown_genre_mix") is None
                else tuple(float(share) for share in data["unknown_genre_mix"])
            ),
            meter_columns=bool(data.get("meter_columns", False)),
            song_context=bool(data.get("song_context", False)),
        )


CURRENT_CONDITIONING = ConditionEncoding(meter_columns=True, song_context=True)
"""This drumgen's conditioning, for models trained now (a loaded model keeps its own)."""


def conditions(
    bar_tempos: np.ndarray,
    *,
    genre: str,
    encoding: ConditionEncoding = CURRENT_CONDITIONING,
    bar_steps: np.ndarray | None = None,
    compound: np.ndarray | None = None,
    part_onsets: np.ndarray | None = None,
) -> np.ndarray:
    """Conditioning of every bar of a song.

    Parameters
    ----------
    bar_tempos : np.ndarray [shape=(n_bars,), bpm]
    genre : str
        One of ``encoding.genres``, or anything else for unknown
        (:meth:`ConditionEncoding.genre_columns`).
    encoding : ConditionEncoding
        Tempo scale, genre order and whether the meter is an input (a trained model's own:
        ``DrumVae.conditioning``).
    bar_steps : np.ndarray [shape=(n_bars,), int, steps], optional
        The length each bar is written in (its own, or 16 for a bar written as 4/4:
        :meth:`drumgen.meter.SongMeter.written_steps`); default every bar 16. Read only when
        ``encoding.meter_columns``.
    compound : np.ndarray [shape=(n_bars,), bool], optional
        Which bars are written in a compound meter; default none.
    part_onsets : np.ndarray [shape=(n_bars, 5, 16), counts], optional
        The song's part onsets on the model's 16 cells: the song context
        (:func:`song_context`), the same in every bar. Required when ``encoding.song_context``.

    Returns
    -------
    np.ndarray [shape=(n_bars, encoding.n_conditions), float32]
        Columns: normalised tempo, progress (bar index / n_bars), genre one-hot (a mix if
        unknown), with ``encoding.song_context`` the :data:`N_CONTEXT_COLUMNS` of the song's
        context, and with ``encoding.meter_columns`` ``1 - written steps / 16`` and the compound
        flag.

    Examples
    --------
    >>> onsets = np.zeros((2, 5, 16))
    >>> conditions(np.array([160.0, 160.0]), genre="pop", part_onsets=onsets)[:, :4]
    array([[1. , 0. , 0. , 1. ],
           [1. , 0.5, 0. , 1. ]], dtype=float32)
    >>> six_eight = conditions(
    ...     np.array([120.0]), genre="pop", bar_steps=np.array([12]), compound=[True], part_onsets=onsets[:1]
    ... )
    >>> six_eight[:, -2:]
    array([[0.25, 1.  ]], dtype=float32)
    """
    n_bars = len(bar_tempos)
    out = np.zeros((n_bars, encoding.n_conditions), dtype=np.float32)
    out[:, 0] = np.clip((np.asarray(bar_tempos) - encoding.tempo_center) / encoding.tempo_scale, -3.0, 3.0)
    out[:, 1] = np.arange(n_bars) / max(n_bars, 1)
    out[:, 2 : 2 + len(encoding.genres)] = encoding.genre_columns(genre)
    if encoding.song_context:
        if part_onsets is None or np.shape(part_onsets)[0] != n_bars:
            raise ParameterError(f"the song context needs the song's part onsets, one row per bar ({n_bars})")
        start = 2 + len(encoding.genres)
        out[:, start : start + N_CONTEXT_COLUMNS] = song_context(part_onsets)
    if encoding.meter_columns:
        steps = np.full(n_bars, N_STEPS) if bar_steps is None else np.asarray(bar_steps)
        flags = np.zeros(n_bars, dtype=bool) if compound is None else np.asarray(compound, dtype=bool)
        if steps.shape != (n_bars,) or flags.shape != (n_bars,):
            raise ParameterError(f"need one written length and one compound flag per bar ({n_bars})")
        out[:, -2] = 1.0 - steps / N_STEPS
        out[:, -1] = flags
    return out


def song_context(part_onsets: np.ndarray) -> np.ndarray:
    """What the whole song's parts play, for every bar's conditioning.

    A bar and its 7 neighbours show the VAE one passage; a drummer hears the song. Per part family
    (:data:`drumgen.parts.PART_FAMILIES`): its onset level (:func:`onset_counts_to_levels`)
    averaged over the song's bars and beats on each of the 4 sixteenth positions of a beat
    (whether the song moves in eighths or sixteenths), then the share of bars it plays in.
    On 192 held-out 4/4 validation songs, not used in training or tuning, a VAE given these
    columns raised the arranged kit F1 by 0.018 [0.010, 0.027] (hats F1 +0.029).

    Parameters
    ----------
    part_onsets : np.ndarray [shape=(n_bars, 5, 16), counts]
        On the model's 16 cells (:func:`drumgen.meter.to_model_steps`).

    Returns
    -------
    np.ndarray [shape=(N_CONTEXT_COLUMNS,), float32, in [0, 1]]
        The 5 x 4 position levels (family-major), then the 5 shares.

    Examples
    --------
    >>> onsets = np.zeros((2, 5, 16))
    >>> onsets[:, 0, ::4] = 8  # the bass on every beat, in both bars
    >>> song_context(onsets)[:4].tolist(), song_context(onsets)[-5:].tolist()
    ([1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0])
    """
    onsets = np.asarray(part_onsets, dtype=np.float64)
    if onsets.ndim != 3 or onsets.shape[1:] != (len(PART_FAMILIES), N_STEPS):
        raise ParameterError(f"part_onsets must have shape (n_bars, 5, 16), got {onsets.shape}")
    if len(onsets) == 0:
        return np.zeros(N_CONTEXT_COLUMNS, dtype=np.float32)
    levels = onset_counts_to_levels(onsets).astype(np.float64)  # (n_bars, 5, 16)
    per_position = levels.mean(axis=0).reshape(len(PART_FAMILIES), -1, BEAT_POSITIONS).mean(axis=1)
    plays = (onsets.sum(axis=2) > 0).mean(axis=0)
    return np.concatenate([per_position.ravel(), plays]).astype(np.float32)


def genre_shares(genres: Sequence[str], *, known: Sequence[str] = GENRES) -> tuple[float, ...]:
    """Share of each known genre among songs' genres (songs of other genres not counted).

    Returns
    -------
    tuple of float [len(known)], summing to 1 (equal shares if no song has a known genre)

    Examples
    --------
    >>> genre_shares(["rock", "rock", "pop", "unknown"], known=("rock", "pop", "country"))
    (0.6667, 0.3333, 0.0)
    """
    counts = np.array([sum(g == name for g in genres) for name in known], dtype=np.float64)
    if counts.sum() == 0:
        return tuple(round(1.0 / len(known), 4) for _ in known)
    return tuple(round(float(c), 4) for c in counts / counts.sum())


def stack_bars(
    bar_cqts: np.ndarray,
    bar_idx: np.ndarray,
    neighbor_idx: np.ndarray,
    neighbor_weights: np.ndarray,
    *,
    cqt_levels: int = CQT_LEVELS,
) -> np.ndarray:
    """Stack bars with their weighted neighbours: the drum VAE's input.

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, n_bins, n_cells)]
        uint8 (stored, value x ``cqt_levels``) or float in [0, 1].
    bar_idx : np.ndarray [shape=(batch,), int]
    neighbor_idx : np.ndarray [shape=(n_bars, k), int]
    neighbor_weights : np.ndarray [shape=(n_bars, k), float in [0, 1]]
    cqt_levels : int
        The scale of uint8 CQTs (a trained model's own: ``DrumVae.conditioning.cqt_levels``).

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
        stacked /= cqt_levels
    stacked *= weights[:, :, None, None]
    return np.transpose(stacked, (0, 2, 3, 1))


MAX_MIDI_VELOCITY = 127
"""The VAE's velocity output and target are velocity / MAX_MIDI_VELOCITY."""
PART_ONSET_SATURATION = 8.0
"""Onset counts map to ``min(log1p(count) / log1p(PART_ONSET_SATURATION), 1)``: one note on a step
gives 0.32, two 0.5, a three-note chord 0.63, eight or more 1 (a chord is louder than a single
note, not three times as loud)."""
N_PART_CHANNELS = 2
"""Channels of the VAE's parts input: the bar's own onsets, its neighbours' weighted mean."""


@dataclass(frozen=True)
class PartsEncoding:
    """How the VAE's "parts" input is made from a song's ``part_onsets``; saved with the model
    (``config.json``, ``inputs``) and read back from it, so a later change of the constants in
    code never changes what trained weights see.

    Attributes
    ----------
    families : tuple of str
        The model's family rows, in order; each one of :data:`drumgen.parts.PART_FAMILIES` (the row
        order of stored ``part_onsets``).
    saturation : float
        Onset count that maps to 1 (see :func:`onset_counts_to_levels`).
    """

    families: tuple[str, ...] = PART_FAMILIES
    saturation: float = PART_ONSET_SATURATION

    def __post_init__(self) -> None:
        unknown = [family for family in self.families if family not in PART_FAMILIES]
        if unknown:
            raise ParameterError(
                f"part families {unknown} are not among this drumgen's {list(PART_FAMILIES)}"
            )
        if self.saturation < 1:
            raise ParameterError(f"the onset saturation must be >= 1, got {self.saturation}")

    @property
    def rows(self) -> list[int]:
        """Rows of the stored ``part_onsets`` (in :data:`PART_FAMILIES` order) the model reads."""
        return [PART_FAMILIES.index(family) for family in self.families]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the model's config."""
        return {"part_families": list(self.families), "part_onset_saturation": self.saturation}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PartsEncoding:
        """Read back :meth:`to_dict`."""
        return cls(families=tuple(data["part_families"]), saturation=float(data["part_onset_saturation"]))


CURRENT_PARTS_ENCODING = PartsEncoding()
"""This drumgen's encoding, for models trained now (a loaded model keeps its own)."""


def onset_counts_to_levels(counts: np.ndarray, *, saturation: float = PART_ONSET_SATURATION) -> np.ndarray:
    """Note-onset counts -> levels in [0, 1]: ``min(log1p(count) / log1p(saturation), 1)``.

    Parameters
    ----------
    counts : np.ndarray [shape=(...), int or float >= 0]
    saturation : float
        The count that (and any above it) maps to 1.

    Returns
    -------
    np.ndarray [shape=(...), float32, in [0, 1]]

    Examples
    --------
    >>> onset_counts_to_levels(np.array([0, 1, 8, 40])).round(3)
    array([0.   , 0.315, 1.   , 1.   ], dtype=float32)
    """
    levels = np.log1p(np.asarray(counts, dtype=np.float64)) / np.log1p(saturation)
    return np.clip(levels, 0.0, 1.0).astype(np.float32)


def stack_parts(
    part_onsets: np.ndarray,
    bar_idx: np.ndarray,
    neighbor_idx: np.ndarray,
    neighbor_weights: np.ndarray,
    *,
    encoding: PartsEncoding = CURRENT_PARTS_ENCODING,
) -> np.ndarray:
    """The drum VAE's "parts" input: what the MIDI says each part plays in the bar.

    Channel 0 is the bar's own onset levels; channel 1 the weighted mean of its neighbours'
    (the same neighbours and weights as the CQT stack; zeros when all weights are 0). The mean
    is a second, steadier reading of the bar's rhythm from the bars that share its drums, as the
    CQT stack is for the sound; its 80 numbers cost next to nothing beside the 8 CQTs.

    Parameters
    ----------
    part_onsets : np.ndarray [shape=(n_bars, len(PART_FAMILIES), n_steps), uint8 counts]
        From :func:`drumgen.parts.onset_profile` (rows in :data:`PART_FAMILIES` order).
    bar_idx : np.ndarray [shape=(batch,), int]
    neighbor_idx : np.ndarray [shape=(n_bars, k), int]
    neighbor_weights : np.ndarray [shape=(n_bars, k), float in [0, 1]]
    encoding : PartsEncoding
        Family rows and onset transform (a trained model's own: ``DrumVae.parts``).

    Returns
    -------
    np.ndarray [shape=(batch, N_PART_CHANNELS, len(encoding.families), n_steps), float32, in [0, 1]]
    """
    bar_idx = np.asarray(bar_idx)
    members = np.concatenate([bar_idx[:, None], np.asarray(neighbor_idx)[bar_idx]], axis=1)  # (batch, k+1)
    onsets = np.asarray(part_onsets)[members][:, :, encoding.rows]  # (batch, k+1, n_families, n_steps)
    levels = onset_counts_to_levels(onsets, saturation=encoding.saturation)
    weights = np.asarray(neighbor_weights, dtype=np.float32)[bar_idx]  # (batch, k)
    total = weights.sum(axis=1)
    neighbors = np.einsum("bk,bkfs->bfs", weights, levels[:, 1:])
    neighbors /= np.where(total > 0, total, 1.0)[:, None, None]
    return np.stack([levels[:, 0], neighbors], axis=1).astype(np.float32)


def shift_pitch(cqt_stack: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Shift each example's CQT stack along the frequency axis, zeros filling in (never wrapping).

    The same shift moves every channel (the bar and its neighbours) of one example.

    Parameters
    ----------
    cqt_stack : np.ndarray [shape=(batch, n_bins, n_cells, n_channels)]
        From :func:`stack_bars`.
    shifts : np.ndarray [shape=(batch,), int, bins]
        Positive moves energy up: bin ``b`` goes to ``b + shift``.

    Returns
    -------
    np.ndarray [shape=(batch, n_bins, n_cells, n_channels)], a new array of the input's dtype.

    Examples
    --------
    >>> x = np.zeros((1, 5, 1, 1)); x[0, 1] = 1.0
    >>> shift_pitch(x, np.array([2]))[0, :, 0, 0]
    array([0., 0., 0., 1., 0.])
    """
    shifts = np.asarray(shifts, dtype=np.int64)
    if shifts.shape != (len(cqt_stack),):
        raise ParameterError(f"expected one shift per example ({len(cqt_stack)}), got shape {shifts.shape}")
    n_bins = cqt_stack.shape[1]
    out = np.zeros_like(cqt_stack)
    for example, shift in enumerate(shifts):
        if abs(shift) >= n_bins:
            continue
        if shift >= 0:
            out[example, shift:] = cqt_stack[example, : n_bins - shift]
        else:
            out[example, :shift] = cqt_stack[example, -shift:]
    return out


def random_pitch_shifts(
    n_examples: int, *, max_semitones: int, bins_per_octave: int, rng: np.random.Generator
) -> np.ndarray:
    """Random whole-semitone shifts in ``[-max_semitones, max_semitones]``, in CQT bins.

    Returns
    -------
    np.ndarray [shape=(n_examples,), int64, bins]
    """
    if bins_per_octave % 12:
        raise ParameterError(f"pitch shifts need 12k bins per octave (semitone steps), got {bins_per_octave}")
    semitones = rng.integers(-max_semitones, max_semitones + 1, size=n_examples)
    return semitones * (bins_per_octave // 12)


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

    Songs of every meter join it. Every bar is an input (a bar and its neighbours, the CQT's 96
    cells and the part onsets read as fractions of the bar, as step 4 reads them:
    :func:`drumgen.meter.to_model_steps`). The targets (``target_idx``) are the bars the VAE
    writes in their own length: the 16-step bars (4/4), and with a meter-aware ``conditioning``
    also the bars of up to 16 steps of songs whose commonest bar is not 4/4 (a waltz's 12, in
    cells 0-11: :meth:`drumgen.meter.SongMeter.written_steps`). The others are fitted to their
    meter after generation (:func:`drumgen.meter.fit_grid`), so a 4/4 song's one 2/4 bar is an
    input but not a target.

    Attributes
    ----------
    bar_cqts : np.ndarray [shape=(n_total, n_bins, n_cells), uint8]
    drum_hits : np.ndarray [shape=(n_total, 46, 16), float32 0/1]
        The first 16 steps of each bar's drums (only the rows of ``target_idx`` are ever targets).
    drum_velocities : np.ndarray [shape=(n_total, 46, 16), uint8 MIDI velocities, 0 = no hit]
    neighbor_idx : np.ndarray [shape=(n_total, k), int64]
        Rows of this table (song offsets applied).
    neighbor_weights : np.ndarray [shape=(n_total, k), float32]
    conditions : np.ndarray [shape=(n_total, N_CONDITIONS), float32]
    part_onsets : np.ndarray [shape=(n_total, len(PART_FAMILIES), N_STEPS), uint8 counts]
    song_of_bar : np.ndarray [shape=(n_total,), int64]
    target_idx : np.ndarray [shape=(n_targets,), int64]
        Rows written in their own length (16-step bars, and other meters' bars for a meter-aware
        conditioning): what training, validation and the baselines use.
    written_steps : np.ndarray [shape=(n_total,), int64]
        The length each bar is written in (16 for a 4/4 bar, or one written as 4/4).
    conditioning : ConditionEncoding
        What made ``conditions`` and scales ``bar_cqts`` in :meth:`batch`.
    """

    bar_cqts: np.ndarray
    drum_hits: np.ndarray
    drum_velocities: np.ndarray
    neighbor_idx: np.ndarray
    neighbor_weights: np.ndarray
    conditions: np.ndarray
    part_onsets: np.ndarray
    song_of_bar: np.ndarray
    target_idx: np.ndarray
    written_steps: np.ndarray
    conditioning: ConditionEncoding = CURRENT_CONDITIONING

    @property
    def n_bars(self) -> int:
        """Bars in the table."""
        return len(self.bar_cqts)

    @property
    def n_targets(self) -> int:
        """Target bars in the table (training or validation examples)."""
        return len(self.target_idx)

    def epoch_examples(self, other_meter_repeats: int = 1) -> np.ndarray:
        """The rows one training epoch shows: every target once, and the targets written in
        another meter (shorter than 16 steps) ``other_meter_repeats`` times in all.

        Returns
        -------
        np.ndarray [shape=(n_examples,), int64], in table order (the batches shuffle it)
        """
        short = self.target_idx[self.written_steps[self.target_idx] < N_STEPS]
        return np.sort(np.concatenate([self.target_idx, *([short] * (other_meter_repeats - 1))]))

    @classmethod
    def from_songs(
        cls, songs: list[SongData], *, conditioning: ConditionEncoding = CURRENT_CONDITIONING
    ) -> BarTable:
        """Concatenate songs from :func:`drumgen.dataset.load_songs`; ``conditioning`` makes
        their "conditions" (a trained model's own when scoring it).

        Raises
        ------
        ParameterError
            If a song has no ``part_onsets`` (a dataset built before drumgen counted note onsets).
        """
        lacking = [s.song_id for s in songs if "part_onsets" not in s.arrays]
        if lacking:
            raise ParameterError(
                f"{len(lacking)} of {len(songs)} songs (e.g. {lacking[0]}) have no part_onsets; "
                "rebuild the dataset with `drumgen dataset build`"
            )
        for song in songs:
            expected = (song.n_bars, len(PART_FAMILIES), song.arrays["drum_grids"].shape[-1])
            if song.arrays["part_onsets"].shape != expected:
                raise ParameterError(
                    f"song {song.song_id}: part_onsets of shape {song.arrays['part_onsets'].shape}, "
                    f"expected {expected}; rebuild the dataset with `drumgen dataset build`"
                )
        offsets = np.cumsum([0] + [song.n_bars for song in songs])
        drums = [s.arrays["drum_grids"][..., :N_STEPS] for s in songs]
        written = [
            s.meter.written_steps() if conditioning.meter_columns else np.full(s.n_bars, N_STEPS)
            for s in songs
        ]
        is_target = np.concatenate([w == s.meter.bar_steps for w, s in zip(written, songs, strict=True)])
        return cls(
            bar_cqts=np.concatenate([s.arrays["bar_cqts"] for s in songs]),
            drum_hits=np.concatenate([(grid > 0).astype(np.float32) for grid in drums]),
            drum_velocities=np.concatenate([grid.astype(np.uint8) for grid in drums]),
            neighbor_idx=np.concatenate(
                [
                    s.arrays["neighbor_idx"].astype(np.int64) + off
                    for s, off in zip(songs, offsets, strict=False)
                ]
            ),
            neighbor_weights=np.concatenate([s.arrays["neighbor_weights"].astype(np.float32) for s in songs]),
            conditions=np.concatenate(
                [
                    conditions(
                        s.arrays["bar_tempos"],
                        genre=s.genre,
                        encoding=conditioning,
                        bar_steps=w,
                        compound=s.meter.written_compound(),
                        part_onsets=to_model_steps(s.arrays["part_onsets"], s.meter.bar_steps),
                    )
                    for w, s in zip(written, songs, strict=True)
                ]
            ),
            part_onsets=np.concatenate(
                [to_model_steps(s.arrays["part_onsets"], s.meter.bar_steps) for s in songs]
            ),
            song_of_bar=np.concatenate([np.full(s.n_bars, i) for i, s in enumerate(songs)]),
            target_idx=np.flatnonzero(is_target),
            written_steps=np.concatenate(written).astype(np.int64),
            conditioning=conditioning,
        )

    def batch(
        self,
        bar_idx: np.ndarray,
        *,
        encoding: PartsEncoding = CURRENT_PARTS_ENCODING,
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Model inputs ("cqt_stack", "parts", "conditions") and targets ("drums", "note_count",
        "velocity": real velocity / 127 on hits, 0 elsewhere) for some bars of the table."""
        stack = stack_bars(
            self.bar_cqts,
            bar_idx,
            self.neighbor_idx,
            self.neighbor_weights,
            cqt_levels=self.conditioning.cqt_levels,
        )
        parts = stack_parts(
            self.part_onsets, bar_idx, self.neighbor_idx, self.neighbor_weights, encoding=encoding
        )
        hits = self.drum_hits[bar_idx]
        inputs = {"cqt_stack": stack, "parts": parts, "conditions": self.conditions[bar_idx]}
        targets = {
            "drums": hits,
            "note_count": hits.sum(axis=(1, 2))[:, None],
            "velocity": self.drum_velocities[bar_idx].astype(np.float32) / MAX_MIDI_VELOCITY,
        }
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
