"""Bar and step times from a song's own tempo map and time signatures, and time converters.

All times are in seconds. Bars are found in MIDI ticks (exact), then converted to seconds through
the tempo map, so tempo changes inside a song - or inside a bar - are honoured.

Every bar has its own length in sixteenth-note steps (``bar_steps``: 4/4 -> 16, 3/4 -> 12, 6/8 ->
12, 7/8 -> 14 ...). So that a song's grids stay rectangular, all its bars share one *canvas* of
``n_steps`` steps (:func:`canvas_steps`: 16, or the song's longest bar if that is longer, at most
:data:`drumgen.midi.MAX_BAR_STEPS`); a bar shorter than the canvas is padded at its end with
steps of zero length, all at the bar's end time. Padding steps hold nothing: onsets are never
quantised to them, and a grid's cells there are always empty. A 4/4 song's canvas is exactly the
16 steps it always had.

Used by notebook ``step_1_midi_data_preprocessing``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pretty_midi

from drumgen.midi import MAX_BAR_STEPS, bar_steps_of, meter_changes, song_end_time

N_STEPS = 16
"""Steps of a 4/4 bar: the drum models' grid, and the narrowest canvas."""


@dataclass(frozen=True)
class TempoMap:
    """Piecewise-constant tempo: segment ``i`` starts at ``start_ticks[i]`` / ``start_times[i]``.

    Attributes
    ----------
    start_ticks : np.ndarray [shape=(n_segments,), float64]
    start_times : np.ndarray [shape=(n_segments,), float64, seconds]
    seconds_per_tick : np.ndarray [shape=(n_segments,), float64]
    resolution : int
        Ticks per quarter note.
    """

    start_ticks: np.ndarray
    start_times: np.ndarray
    seconds_per_tick: np.ndarray
    resolution: int

    @classmethod
    def from_song(cls, song: pretty_midi.PrettyMIDI) -> TempoMap:
        """Read the tempo map of a song (120 bpm if it declares none)."""
        change_times, qpms = song.get_tempo_changes()
        if len(change_times) == 0 or change_times[0] > 0:
            change_times = np.concatenate([[0.0], change_times])
            qpms = np.concatenate([[120.0], qpms])
        seconds_per_tick = 60.0 / (np.asarray(qpms, float) * song.resolution)
        durations = np.diff(change_times)
        start_ticks = np.concatenate([[0.0], np.cumsum(durations / seconds_per_tick[:-1])])
        return cls(
            start_ticks=np.round(start_ticks),
            start_times=np.asarray(change_times, float),
            seconds_per_tick=seconds_per_tick,
            resolution=int(song.resolution),
        )

    def ticks_to_times(self, ticks: np.ndarray | float) -> np.ndarray:
        """Convert (fractional) MIDI ticks to seconds."""
        ticks = np.asarray(ticks, dtype=float)
        segment = np.searchsorted(self.start_ticks, ticks, side="right") - 1
        segment = np.clip(segment, 0, None)
        return (
            self.start_times[segment] + (ticks - self.start_ticks[segment]) * self.seconds_per_tick[segment]
        )

    def times_to_ticks(self, times: np.ndarray | float) -> np.ndarray:
        """Convert seconds to (fractional) MIDI ticks."""
        times = np.asarray(times, dtype=float)
        segment = np.searchsorted(self.start_times, times, side="right") - 1
        segment = np.clip(segment, 0, None)
        return (
            self.start_ticks[segment] + (times - self.start_times[segment]) / self.seconds_per_tick[segment]
        )

    def qpm_at(self, times: np.ndarray | float) -> np.ndarray:
        """Tempo in quarter notes per minute in force at each time."""
        segment = np.clip(
            np.searchsorted(self.start_times, np.asarray(times, float), side="right") - 1, 0, None
        )
        return 60.0 / (self.seconds_per_tick[segment] * self.resolution)


def bar_ticks(song: pretty_midi.PrettyMIDI, *, end_time: float | None = None) -> np.ndarray:
    """Bar boundaries in ticks, from the song's time signatures.

    A meter change starts a new bar (a time signature repeating the meter in force is none,
    :func:`drumgen.midi.meter_changes`); a song without one is read as 4/4 from tick 0.
    The bars cover the song up to its last note-off (or ``end_time``).

    Returns
    -------
    np.ndarray [shape=(n_bars + 1,), float64, ticks]
        Bar starts, then the end of the last bar.
    """
    return _bars(song, end_time=end_time)[0]


def bar_meters(song: pretty_midi.PrettyMIDI, *, end_time: float | None = None) -> np.ndarray:
    """The time signature of every bar (the bars of :func:`bar_ticks`).

    Returns
    -------
    np.ndarray [shape=(n_bars, 2), int64]
        ``(numerator, denominator)`` of each bar.
    """
    return _bars(song, end_time=end_time)[1]


def _bars(song: pretty_midi.PrettyMIDI, *, end_time: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Bar boundaries [shape=(n_bars + 1,), ticks] and meters [shape=(n_bars, 2)]."""
    tempo = TempoMap.from_song(song)
    end_time = song_end_time(song) if end_time is None else end_time
    end_tick = float(tempo.times_to_ticks(end_time))
    signatures = [
        (float(tick), numerator, denominator) for tick, numerator, denominator in meter_changes(song)
    ]
    boundaries: list[float] = []
    meters: list[tuple[int, int]] = []
    for idx, (start_tick, numerator, denominator) in enumerate(signatures):
        bar_length = numerator * 4.0 / denominator * tempo.resolution
        stop_tick = signatures[idx + 1][0] if idx + 1 < len(signatures) else np.inf
        tick = start_tick
        while tick < stop_tick and tick < end_tick - 1e-9:
            boundaries.append(tick)
            meters.append((numerator, denominator))
            tick += bar_length
        if tick >= end_tick - 1e-9 and stop_tick > end_tick - 1e-9:
            boundaries.append(tick)
            break
    if len(boundaries) < 2:  # a song with no notes still gets one (empty) bar
        boundaries, meters = [0.0, 4.0 * tempo.resolution], [(4, 4)]
    return np.asarray(boundaries, dtype=float), np.asarray(meters, dtype=np.int64).reshape(-1, 2)


def bar_times(song: pretty_midi.PrettyMIDI, *, end_time: float | None = None) -> np.ndarray:
    """Bar boundaries in seconds.

    Returns
    -------
    np.ndarray [shape=(n_bars + 1,), float64, seconds]
        ``bar_times[i]`` is the start of bar ``i``; the last entry is the end of the last bar.
    """
    return TempoMap.from_song(song).ticks_to_times(bar_ticks(song, end_time=end_time))


def meters_to_steps(bar_meters_: np.ndarray) -> np.ndarray:
    """Steps (sixteenth notes) of each bar from its meter.

    Parameters
    ----------
    bar_meters_ : np.ndarray [shape=(n_bars, 2), int]
        ``(numerator, denominator)`` per bar, each checked by :func:`drumgen.midi.check_meter`.

    Returns
    -------
    np.ndarray [shape=(n_bars,), int64, steps]

    Examples
    --------
    >>> meters_to_steps(np.array([[4, 4], [3, 4], [6, 8], [1, 4]])).tolist()
    [16, 12, 12, 4]
    """
    return np.array([int(bar_steps_of(int(n), int(d))) for n, d in np.asarray(bar_meters_)], dtype=np.int64)


def canvas_steps(bar_steps_: np.ndarray) -> int:
    """Width of a song's step canvas: 16, or its longest bar's steps when that is longer.

    Parameters
    ----------
    bar_steps_ : np.ndarray [shape=(n_bars,), int, steps]

    Returns
    -------
    int
        At most :data:`drumgen.midi.MAX_BAR_STEPS` (longer bars are refused by the meter check).
    """
    steps = np.asarray(bar_steps_, dtype=np.int64)
    longest = int(steps.max()) if len(steps) else N_STEPS
    if longest > MAX_BAR_STEPS:
        raise ValueError(f"a bar of {longest} steps is longer than the longest canvas ({MAX_BAR_STEPS})")
    return max(N_STEPS, longest)


def step_times(song: pretty_midi.PrettyMIDI, *, end_time: float | None = None) -> np.ndarray:
    """Start time of every grid step of every bar, plus each bar's end, on the song's canvas.

    Bar ``i`` has ``bar_steps[i]`` sixteenth-note steps (from its meter, :func:`meters_to_steps`);
    they divide the bar equally in ticks (i.e. in beats), so a tempo change inside a bar moves the
    later steps in time as a musician would expect. Steps past a bar's own length (padding up to
    the canvas width, :func:`canvas_steps`) all lie at the bar's end, zero long.

    Returns
    -------
    np.ndarray [shape=(n_bars, n_steps + 1), float64, seconds]
        ``step_times[i, s]`` is the start of step ``s`` of bar ``i``; ``step_times[i, -1]`` is the
        end of bar ``i`` (= ``step_times[i + 1, 0]``). A 4/4 song has ``n_steps`` 16.
    """
    ticks, meters = _bars(song, end_time=end_time)
    steps = meters_to_steps(meters)
    n_steps = canvas_steps(steps)
    fractions = np.minimum(np.arange(n_steps + 1)[None, :] / steps[:, None], 1.0)
    grid_ticks = ticks[:-1, None] + fractions * np.diff(ticks)[:, None]
    return TempoMap.from_song(song).ticks_to_times(grid_ticks)


def steps_in_bars(step_times_: np.ndarray) -> np.ndarray:
    """Each bar's own steps, read from a step grid: the steps of positive length.

    Parameters
    ----------
    step_times_ : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        From :func:`step_times` (padding steps are zero long).

    Returns
    -------
    np.ndarray [shape=(n_bars, n_steps), bool]
        True on the bar's own steps, False on its padding.
    """
    return np.diff(np.asarray(step_times_, dtype=float), axis=1) > 0


def bar_tempos(song: pretty_midi.PrettyMIDI, bar_times_: np.ndarray) -> np.ndarray:
    """Tempo at the start of each bar, in quarter notes per minute.

    Parameters
    ----------
    bar_times_ : np.ndarray [shape=(n_bars + 1,), seconds]

    Returns
    -------
    np.ndarray [shape=(n_bars,), float64, bpm]
    """
    return TempoMap.from_song(song).qpm_at(np.asarray(bar_times_)[:-1])


def times_to_frames(times: np.ndarray | float, *, sr: int, hop_length: int) -> np.ndarray:
    """Convert seconds to the index of the nearest spectrogram frame (frame ``f`` is centred at
    ``f * hop_length / sr`` seconds)."""
    return np.round(np.asarray(times, dtype=float) * sr / hop_length).astype(int)


def frames_to_times(frames: np.ndarray | int, *, sr: int, hop_length: int) -> np.ndarray:
    """Convert spectrogram frame indices to seconds (inverse of :func:`times_to_frames`)."""
    return np.asarray(frames, dtype=float) * hop_length / sr


def nearest_steps(onsets: np.ndarray, step_times_: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid cell each onset falls in: the nearest step start of the song's own grid.

    Padding steps (zero long, past a bar's own length; see the module docstring) are never
    chosen: an onset near a bar line goes to the next bar's first step or this bar's last.

    Parameters
    ----------
    onsets : np.ndarray [shape=(n_onsets,), seconds]
    step_times_ : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        From :func:`step_times`.

    Returns
    -------
    bar_idx, step_idx : np.ndarray [shape=(n_onsets,), int64]
    inside : np.ndarray [shape=(n_onsets,), bool]
        False for onsets nearer the end of the last bar than to its last step, or more than half
        a step before the first bar (their indices are meaningless).
    """
    onsets = np.asarray(onsets, dtype=float)
    n_bars, n_steps = step_times_.shape[0], step_times_.shape[1] - 1
    if n_bars == 0 or len(onsets) == 0:
        empty = np.zeros(len(onsets), dtype=np.int64)
        return empty, empty, np.zeros(len(onsets), dtype=bool)
    own = steps_in_bars(step_times_).ravel()
    cells = np.flatnonzero(own) if not own.all() else np.arange(n_bars * n_steps)
    points = np.concatenate([step_times_[:, :-1].ravel()[cells], step_times_[-1:, -1]])
    right = np.clip(np.searchsorted(points, onsets), 1, len(points) - 1)
    nearer_left = (onsets - points[right - 1]) <= (points[right] - onsets)
    flat_steps = np.where(nearer_left, right - 1, right)
    inside = (flat_steps < len(cells)) & (onsets >= points[0] - (points[1] - points[0]) / 2)
    flat_steps = cells[np.minimum(flat_steps, len(cells) - 1)]
    bar_idx, step_idx = np.divmod(flat_steps, n_steps)
    return bar_idx.astype(np.int64), step_idx.astype(np.int64), inside
