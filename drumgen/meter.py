"""Meters: each bar's length and beat grouping, and the 4/4 models' bars fitted to any meter.

Units: a *step* is a sixteenth note. A bar of ``n/d`` has ``16 n / d`` steps
(:func:`drumgen.midi.bar_steps_of`): 2/4 -> 8, 3/4 -> 12, 4/4 -> 16, 5/4 -> 20, 6/8 -> 12,
7/8 -> 14, 12/8 -> 24. A song's bars share one canvas of ``n_steps`` steps
(:func:`drumgen.bars.canvas_steps`: 16, or its longest bar), so its grids stay rectangular
``(n_bars, n_rows, n_steps)``; the steps past a bar's own length are padding and always empty.

**Beats.** Every bar's steps are grouped into beats (:func:`beat_grouping`, in steps): simple
meters count quarter notes (3/4 -> 4 4 4), x/2 half notes; compound meters (3/8, 6/8, 9/8,
12/8: :func:`is_compound`) count dotted quarters of three eighths (6/8 -> 6 6), so their eighths
(steps 0, 2, 4 of each beat) are the beat's triplet; other eighth meters count pairs of eighths
with one group of three last (5/8 -> 4 6, 7/8 -> 4 4 6).

**Bars the model writes in their own meter.** The drum VAE and the arranger work on 16 cells per
bar. Their inputs are read as fractions of each bar (the CQT's 96 cells are; :func:`to_model_steps`
folds the per-step part onsets onto 16 cells). A meter-aware VAE (its conditioning ends with the
bar's meter, :class:`drumgen.model.data.ConditionEncoding`) writes the bars of a song whose
commonest bar is not 4/4 in their own length, in their first cells (a waltz's bar in cells 0-11,
:meth:`SongMeter.written_steps`), and :func:`fit_grid` keeps them as written. Every other bar (a
4/4 song's odd bars, bars longer than 16 steps, and every bar of a VAE without meter columns) is
written as a 4/4 bar and fitted to its meter by rule, from the arranged bar's four beats B1 B2 B3
B4:

- 16-step bars (4/4, 2/2, 8/8): unchanged.
- Simple meters, beat by beat: 1/4 (a pickup) plays B1; 2/4 the first half of the groove, B1 B2;
  3/4 a waltz: B1 then the backbeat beats B2 and B4 without their kicks (kick on 1, snare and
  hats on 2 and 3); four beats and more: the groove, then B3 B4 again (5/4 = the 4/4 groove and
  one more beat, B3). A group of three eighths (5/8, 7/8) ends with a timekeeper-only eighth.
- Compound meters: kick on the odd dotted-quarter beats (1, 3), snare on the even ones (2, 4:
  the 2nd of 6/8, the 2nd and 4th of 12/8), the timekeeper (hats or ride, as the groove plays)
  on every eighth, louder on the beats; the kit rows and velocities are the arranged bar's own.
- A fill ends its bar as it ended the 4/4 bar (its last ``16 - fill_start`` steps), shortened so
  that the bar's first beat still plays the groove; a 1/4 pickup has no room for one. A crash on
  the downbeat is kept.

The models train on songs of every meter (``drumgen dataset build --every-meter``), the drum VAE
on the bars it writes in their own length, with every bar among its inputs
(:class:`drumgen.model.data.BarTable`), so a 4/4 song's odd bar no longer keeps the song out of
training.

Used by notebook ``step_4_generate_drum_patterns`` (through :func:`drumgen.generation.drums`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from drumgen import kit
from drumgen.bars import N_STEPS, canvas_steps, meters_to_steps
from drumgen.midi import STEPS_PER_QUARTER

_KICK_ROWS = list(kit.piece_rows("kick"))
_SNARE_ROWS = list(kit.piece_rows("snare"))
_CRASH_ROWS = list(kit.piece_rows("crash"))
_TIMEKEEPER_ROWS = [row for piece in kit.TIMEKEEPERS for row in kit.piece_rows(piece)]
_DOTTED_BEAT = 3 * STEPS_PER_QUARTER // 2
"""Steps of a dotted quarter (three eighths), the beat of compound meters."""
_EIGHTH = STEPS_PER_QUARTER // 2


def is_compound(numerator: int, denominator: int) -> bool:
    """Whether a meter is felt in dotted-quarter beats: 3/8, 6/8, 9/8, 12/8 (... n/8, n % 3 == 0).

    Examples
    --------
    >>> [is_compound(n, d) for n, d in ((6, 8), (12, 8), (3, 4), (7, 8))]
    [True, True, False, False]
    """
    return denominator == 8 and numerator % 3 == 0


def beat_grouping(numerator: int, denominator: int) -> tuple[int, ...]:
    """The beats of a bar of ``numerator/denominator``, as their lengths in steps.

    Parameters
    ----------
    numerator, denominator : int
        A meter :func:`drumgen.midi.meter_problem` accepts.

    Returns
    -------
    tuple of int
        Beat lengths in sixteenth-note steps; they sum to the bar's steps.

    Examples
    --------
    >>> beat_grouping(3, 4), beat_grouping(6, 8), beat_grouping(7, 8), beat_grouping(2, 2)
    ((4, 4, 4), (6, 6), (4, 4, 6), (8, 8))
    """
    steps = numerator * 4 * STEPS_PER_QUARTER // denominator
    if is_compound(numerator, denominator):
        return (_DOTTED_BEAT,) * (numerator // 3)
    if denominator == 8:
        pairs, odd = divmod(numerator, 2)
        return (STEPS_PER_QUARTER,) * (pairs - odd) + ((_DOTTED_BEAT,) if odd else ())
    if denominator <= 4:
        return (4 * STEPS_PER_QUARTER // denominator,) * numerator
    whole, rest = divmod(steps, STEPS_PER_QUARTER)
    return (STEPS_PER_QUARTER,) * whole + ((rest,) if rest else ())


@dataclass(frozen=True)
class SongMeter:
    """The meter of every bar of a song.

    Attributes
    ----------
    bar_meters : np.ndarray [shape=(n_bars, 2), int64]
        ``(numerator, denominator)`` of each bar (:func:`drumgen.bars.bar_meters`).
    """

    bar_meters: np.ndarray

    @classmethod
    def from_meters(cls, meters: Sequence[tuple[int, int]] | np.ndarray) -> SongMeter:
        """From ``(numerator, denominator)`` per bar."""
        return cls(bar_meters=np.asarray(meters, dtype=np.int64).reshape(-1, 2))

    @classmethod
    def common_time(cls, n_bars: int) -> SongMeter:
        """``n_bars`` bars of 4/4 (what a run folder from before meters were read holds)."""
        return cls.from_meters([(4, 4)] * n_bars)

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return len(self.bar_meters)

    @property
    def bar_steps(self) -> np.ndarray:
        """Steps of each bar [shape=(n_bars,), int64]."""
        return meters_to_steps(self.bar_meters)

    @property
    def n_steps(self) -> int:
        """Width of the song's step canvas (:func:`drumgen.bars.canvas_steps`)."""
        return canvas_steps(self.bar_steps)

    @property
    def compound(self) -> np.ndarray:
        """Which bars are in a compound meter [shape=(n_bars,), bool]."""
        return np.array([is_compound(int(n), int(d)) for n, d in self.bar_meters], dtype=bool)

    @property
    def is_common_time(self) -> bool:
        """Whether every bar is 16 steps long (4/4, 2/2, 8/8): what the models were trained on."""
        return bool(np.all(self.bar_steps == N_STEPS))

    def beats(self, bar_idx: int) -> tuple[int, ...]:
        """Beat grouping of bar ``bar_idx`` in steps (:func:`beat_grouping`)."""
        numerator, denominator = self.bar_meters[bar_idx]
        return beat_grouping(int(numerator), int(denominator))

    def beat_starts(self) -> np.ndarray:
        """Where each bar's beats start [shape=(n_bars, n_steps), bool] (False on padding)."""
        starts = np.zeros((self.n_bars, self.n_steps), dtype=bool)
        for bar in range(self.n_bars):
            starts[bar, np.cumsum((0, *self.beats(bar)[:-1]))] = True
        return starts

    def step_mask(self) -> np.ndarray:
        """Each bar's own steps [shape=(n_bars, n_steps), bool]; False on padding."""
        return np.arange(self.n_steps)[None, :] < self.bar_steps[:, None]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """What step 1 saves: ``bar_meters``, ``bar_steps`` and ``beat_starts``."""
        return {
            "bar_meters": self.bar_meters.astype(np.int16),
            "bar_steps": self.bar_steps.astype(np.int16),
            "beat_starts": self.beat_starts(),
        }

    def written_steps(self) -> np.ndarray:
        """Steps of each bar that a meter-aware drum VAE writes itself [shape=(n_bars,), int64].

        A bar's own steps where the song's commonest bar is not 16 steps long and the bar fits the
        model's 16 cells (every bar of a 3/4 or 6/8 song, a 2/4 pickup of a waltz); 16 otherwise:
        a 4/4 song's odd bars, and bars longer than 16 steps (5/4, 12/8), are written as 4/4 bars
        and fitted by :func:`fit_grid`'s rules.

        Examples
        --------
        >>> SongMeter.from_meters([(3, 4), (3, 4), (2, 4), (6, 4)]).written_steps().tolist()
        [12, 12, 8, 16]
        >>> SongMeter.from_meters([(4, 4), (4, 4), (2, 4)]).written_steps().tolist()
        [16, 16, 16]
        """
        steps = self.bar_steps
        if not len(steps):
            return steps
        lengths, counts = np.unique(steps, return_counts=True)
        if lengths[np.argmax(counts)] == N_STEPS:
            return np.full(len(steps), N_STEPS, dtype=np.int64)
        return np.where(steps <= N_STEPS, steps, N_STEPS)

    def written_compound(self) -> np.ndarray:
        """Which bars a meter-aware drum VAE writes in a compound meter [shape=(n_bars,), bool]:
        compound bars written in their own length (:meth:`written_steps`)."""
        return self.compound & (self.written_steps() == self.bar_steps)

    def first_uncommon_bar(self) -> int | None:
        """Index of the first bar that is not 16 steps long, or None."""
        odd = np.flatnonzero(self.bar_steps != N_STEPS)
        return int(odd[0]) if len(odd) else None


METER_GROUPS = ("4/4", "4/4 with odd bars", "3/4", "compound", "other")
"""The evaluation's meter groups, in report order (:func:`meter_group`)."""


def meter_group(meter: SongMeter) -> str:
    """Which of :data:`METER_GROUPS` a song belongs to, by its most common bar meter.

    ``"4/4"``: every bar 16 steps long (4/4, 2/2, 8/8); ``"4/4 with odd bars"``: most bars are,
    but some are not (a 2/4 bar, a pickup, a 3/4 bridge); ``"3/4"``: most bars 3/4;
    ``"compound"``: most bars 3/8, 6/8, 9/8 or 12/8 (:func:`is_compound`); ``"other"``: the rest
    (5/4, 7/8, 6/4, ...). Ties between meters go to the one the song starts with first.

    Examples
    --------
    >>> meter_group(SongMeter.from_meters([(1, 4)] + [(4, 4)] * 7))
    '4/4 with odd bars'
    >>> meter_group(SongMeter.from_meters([(12, 8)] * 4)), meter_group(SongMeter.from_meters([(5, 4)]))
    ('compound', 'other')
    """
    if meter.is_common_time:
        return METER_GROUPS[0]
    meters = [(int(n), int(d)) for n, d in meter.bar_meters]
    numerator, denominator = max(meters, key=lambda m: (meters.count(m), -meters.index(m)))
    if numerator * 4 * STEPS_PER_QUARTER // denominator == N_STEPS:
        return METER_GROUPS[1]
    if (numerator, denominator) == (3, 4):
        return METER_GROUPS[2]
    if is_compound(numerator, denominator):
        return METER_GROUPS[3]
    return METER_GROUPS[4]


def to_model_steps(values: np.ndarray, bar_steps: np.ndarray) -> np.ndarray:
    """Fold per-step values of each bar onto the models' 16 cells, as fractions of the bar.

    Cell ``j`` of a bar of ``L`` steps sums the bar's steps ``s`` with ``floor(16 s / L) == j``
    (a 3/4 bar's 12 steps go to cells 0, 1, 2, 4, 5, 6, 8, ...; a 12/8 bar's 24 to 16 cells), as
    the CQT's 96 cells are fractions of the bar whatever its length.

    Parameters
    ----------
    values : np.ndarray [shape=(n_bars, ..., n_steps)]
        E.g. part onsets [shape=(n_bars, 5, n_steps), uint8 counts] on the song's canvas.
    bar_steps : np.ndarray [shape=(n_bars,), int, steps]

    Returns
    -------
    np.ndarray [shape=(n_bars, ..., 16)], dtype of ``values``
        Integer counts are clipped to the dtype's range. ``values`` itself when every bar is 16
        steps on a 16-step canvas.
    """
    values = np.asarray(values)
    steps = np.asarray(bar_steps, dtype=np.int64)
    if values.shape[-1] == N_STEPS and np.all(steps == N_STEPS):
        return values
    out = np.zeros((*values.shape[:-1], N_STEPS), dtype=np.float64)
    for bar, length in enumerate(steps):
        cells = np.arange(length) * N_STEPS // length
        np.add.at(np.moveaxis(out[bar], -1, 0), cells, np.moveaxis(values[bar, ..., :length], -1, 0))
    if np.issubdtype(values.dtype, np.integer):
        info = np.iinfo(values.dtype)
        out = np.clip(np.round(out), info.min, info.max)
    return out.astype(values.dtype)


def written_cells(written_steps: np.ndarray) -> np.ndarray:
    """Which of the model's 16 cells each bar is written on: its first ``written_steps``.

    Parameters
    ----------
    written_steps : np.ndarray [shape=(n_bars,), int, steps]
        :meth:`SongMeter.written_steps`.

    Returns
    -------
    np.ndarray [shape=(n_bars, 1, 16), bool]
        Broadcasts over a grid's rows, e.g. ``grid * written_cells(steps)``.

    Examples
    --------
    >>> written_cells(np.array([12]))[0, 0].astype(int)
    array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    """
    return (np.arange(N_STEPS)[None, :] < np.asarray(written_steps)[:, None])[:, None, :]


def to_written_steps(values: np.ndarray, bar_steps: np.ndarray, written_steps: np.ndarray) -> np.ndarray:
    """Per-step values of each bar on the 16 cells the model writes it on.

    A bar written in its own length (:meth:`SongMeter.written_steps`) keeps its steps in its first
    cells, as its drums are written (a waltz's 12 steps in cells 0-11); every other bar is folded
    as a fraction of the bar (:func:`to_model_steps`).

    Parameters
    ----------
    values : np.ndarray [shape=(n_bars, ..., n_steps)]
        On the song's canvas (``n_steps >= 16``).
    bar_steps, written_steps : np.ndarray [shape=(n_bars,), int, steps]

    Returns
    -------
    np.ndarray [shape=(n_bars, ..., 16)], dtype of ``values``

    Examples
    --------
    >>> onsets = np.zeros((2, 16), np.uint8); onsets[:, [0, 4, 8]] = 1
    >>> to_written_steps(onsets, np.array([12, 12]), np.array([12, 16]))
    array([[1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
           [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]], dtype=uint8)
    """
    values = np.asarray(values)
    out = np.array(to_model_steps(values, bar_steps), copy=True)
    own = (np.asarray(written_steps) == np.asarray(bar_steps)) & (np.asarray(bar_steps) < N_STEPS)
    out[own] = values[own][..., :N_STEPS]
    return out


def fit_grid(
    grid: np.ndarray,
    meter: SongMeter,
    *,
    fill_starts: np.ndarray | None = None,
    written_steps: np.ndarray | None = None,
) -> np.ndarray:
    """Fit 16-step 4/4 drum bars to each bar's own meter (see the module docstring).

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16), uint8 velocities or bool]
        One arranged (or decoded) bar per bar of the song, on the models' 16 cells.
    meter : SongMeter
    fill_starts : np.ndarray [shape=(n_bars,), int, steps of the 16], optional
        Where each bar's fill starts (-1: no fill), from :class:`drumgen.arrangement.Arrangement`.
    written_steps : np.ndarray [shape=(n_bars,), int], optional
        How many of its 16 cells the model wrote for each bar (:meth:`SongMeter.written_steps`, for
        a meter-aware VAE). A bar written in its own length keeps its first ``bar_steps`` cells as
        they are (a fill's tail still ends the bar); the others are fitted by the rules. Default:
        every bar was written as a 16-step 4/4 bar.

    Returns
    -------
    np.ndarray [shape=(n_bars, 46, meter.n_steps)], dtype of ``grid``
        Bar ``i`` fills its first ``meter.bar_steps[i]`` steps; padding is empty. ``grid`` itself
        when every bar is 16 steps long.
    """
    grid = np.asarray(grid)
    if grid.shape[0] != meter.n_bars or grid.shape[-1] != N_STEPS:
        raise ValueError(f"grid must have shape ({meter.n_bars}, n_rows, 16), got {grid.shape}")
    if meter.is_common_time:
        return grid
    fills = np.full(meter.n_bars, -1) if fill_starts is None else np.asarray(fill_starts)
    written = np.full(meter.n_bars, N_STEPS) if written_steps is None else np.asarray(written_steps)
    out = np.zeros((*grid.shape[:2], meter.n_steps), dtype=grid.dtype)
    compound = meter.compound
    for bar, length in enumerate(meter.bar_steps):
        source = grid[bar]
        if length == N_STEPS:
            out[bar, :, :N_STEPS] = source
            continue
        beats = meter.beats(bar)
        fill_start = int(fills[bar])
        if written[bar] == length:
            fitted = source[:, :length].copy()
        else:
            groove = _clean_beats(source, fill_start)
            fitted = _compound_bar(groove, beats) if compound[bar] else _simple_bar(groove, beats)
        if fill_start >= 0:
            tail = min(N_STEPS - fill_start, int(length) - beats[0])
            if tail > 0:
                fitted[:, length - tail :] = source[:, N_STEPS - tail :]
        out[bar, :, :length] = fitted
    return out


def _clean_beats(bar: np.ndarray, fill_start: int) -> list[np.ndarray]:
    """The four beats [46 x 4] of a 16-step bar that hold groove, not fill: a beat the fill
    reaches is replaced by the groove beat two before it (B3 by B1 without its crash, B4 by B2)."""
    beats = [bar[:, b * STEPS_PER_QUARTER : (b + 1) * STEPS_PER_QUARTER].copy() for b in range(4)]
    if fill_start < 0:
        return beats
    clean = max(1, fill_start // STEPS_PER_QUARTER)
    for b in range(clean, 4):
        beats[b] = beats[b % 2 if b % 2 < clean else 0].copy()
        beats[b][_CRASH_ROWS] = 0
    return beats


def _source_beats(n_beats: int, *, waltz: bool) -> list[tuple[int, bool]]:
    """Which 4/4 beat (0-3) plays each quarter of a simple bar, and whether it keeps its kick."""
    if waltz:
        return [(0, True), (1, False), (3, False)]
    cycle = [0, 1, 2, 3]
    while len(cycle) < n_beats:
        cycle.append(2 + (len(cycle) % 2))
    return [(b, True) for b in cycle[:n_beats]]


def _simple_bar(beats16: list[np.ndarray], beats: tuple[int, ...]) -> np.ndarray:
    """A simple-meter bar built quarter by quarter from the groove's beats."""
    units: list[int] = []
    for group in beats:
        whole, rest = divmod(group, STEPS_PER_QUARTER)
        units.extend([STEPS_PER_QUARTER] * whole + ([rest] if rest else []))
    n_whole = sum(unit == STEPS_PER_QUARTER for unit in units)
    waltz = n_whole == 3 and len(units) == 3
    sources = _source_beats(n_whole + 1, waltz=waltz)
    bar = np.zeros((beats16[0].shape[0], sum(units)), dtype=beats16[0].dtype)
    position, used = 0, 0
    for unit in units:
        source_idx, keep_kick = sources[min(used, len(sources) - 1)]
        beat = beats16[source_idx].copy()
        if position > 0:
            beat[_CRASH_ROWS] = 0
        if not keep_kick:
            beat[_KICK_ROWS] = 0
        if unit < STEPS_PER_QUARTER:  # part of a beat: the timekeeper alone
            keeper = np.zeros_like(beat)
            keeper[_TIMEKEEPER_ROWS] = beat[_TIMEKEEPER_ROWS]
            beat = keeper
        else:
            used += 1
        bar[:, position : position + unit] = beat[:, :unit]
        position += unit
    return bar


def _voice(bar: np.ndarray, rows: list[int]) -> tuple[int, int, int] | None:
    """The most played row of a piece in a bar, its loudest and its softest velocity (None if
    the piece is silent)."""
    counts = (bar[rows] > 0).sum(axis=1)
    if not counts.any():
        return None
    row = rows[int(np.argmax(counts))]
    played = bar[row][bar[row] > 0].astype(np.int64) if bar.dtype != bool else np.ones(1, np.int64)
    return row, int(played.max()), int(played.min())


def _compound_bar(beats16: list[np.ndarray], beats: tuple[int, ...]) -> np.ndarray:
    """A compound-meter bar: kick on dotted beats 1 and 3, snare on 2 and 4, the timekeeper on
    every eighth, in the groove's own rows and velocities."""
    groove = np.concatenate(beats16, axis=1)
    bar = np.zeros((groove.shape[0], sum(beats)), dtype=groove.dtype)
    if not groove.any():
        return bar
    kick, snare = _voice(groove, _KICK_ROWS), _voice(groove, _SNARE_ROWS)
    keeper = _voice(groove, _TIMEKEEPER_ROWS)
    start = 0
    for idx, length in enumerate(beats):
        if keeper is not None:
            row, loud, soft = keeper
            bar[row, start : start + length : _EIGHTH] = soft
            bar[row, start] = loud
        piece = kick if idx % 2 == 0 else snare
        if piece is not None:
            bar[piece[0], start] = piece[1]
        start += length
    bar[_CRASH_ROWS, 0] = groove[_CRASH_ROWS, 0]
    if groove[_KICK_ROWS, 0].any():  # the downbeat kick as the groove plays it
        bar[_KICK_ROWS, 0] = groove[_KICK_ROWS, 0]
    return bar
