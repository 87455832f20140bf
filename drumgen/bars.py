"""Bar and step times from a song's own tempo map and time signatures, and time converters.

All times are in seconds. Bars are found in MIDI ticks (exact), then converted to seconds through
the tempo map, so tempo changes inside a song - or inside a bar - are honoured.

Used by notebook ``step_1_midi_data_preprocessing``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pretty_midi

from drumgen.midi import meter_changes, song_end_time

N_STEPS = 16
"""Steps per bar of the drum grid (16th notes of a 4/4 bar)."""


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
    tempo = TempoMap.from_song(song)
    end_time = song_end_time(song) if end_time is None else end_time
    end_tick = float(tempo.times_to_ticks(end_time))
    signatures = [
        (float(tick), numerator, denominator) for tick, numerator, denominator in meter_changes(song)
    ]
    boundaries: list[float] = []
    for idx, (start_tick, numerator, denominator) in enumerate(signatures):
        bar_length = numerator * 4.0 / denominator * tempo.resolution
        stop_tick = signatures[idx + 1][0] if idx + 1 < len(signatures) else np.inf
        tick = start_tick
        while tick < stop_tick and tick < end_tick - 1e-9:
            boundaries.append(tick)
            tick += bar_length
        if tick >= end_tick - 1e-9 and stop_tick > end_tick - 1e-9:
            boundaries.append(tick)
            break
    if len(boundaries) < 2:  # a song with no notes still gets one (empty) bar
        boundaries = [0.0, 4.0 * tempo.resolution]
    return np.asarray(boundaries, dtype=float)


def bar_times(song: pretty_midi.PrettyMIDI, *, end_time: float | None = None) -> np.ndarray:
    """Bar boundaries in seconds.

    Returns
    -------
    np.ndarray [shape=(n_bars + 1,), float64, seconds]
        ``bar_times[i]`` is the start of bar ``i``; the last entry is the end of the last bar.
    """
    return TempoMap.from_song(song).ticks_to_times(bar_ticks(song, end_time=end_time))


def step_times(
    song: pretty_midi.PrettyMIDI, *, n_steps: int = N_STEPS, end_time: float | None = None
) -> np.ndarray:
    """Start time of every grid step of every bar, plus each bar's end.

    Steps divide each bar equally in ticks (i.e. in beats), so a tempo change inside a bar
    moves the later steps in time as a musician would expect.

    Returns
    -------
    np.ndarray [shape=(n_bars, n_steps + 1), float64, seconds]
        ``step_times[i, s]`` is the start of step ``s`` of bar ``i``; ``step_times[i, -1]`` is the
        end of bar ``i`` (= ``step_times[i + 1, 0]``).
    """
    ticks = bar_ticks(song, end_time=end_time)
    fractions = np.linspace(0.0, 1.0, n_steps + 1)
    grid_ticks = ticks[:-1, None] + fractions[None, :] * np.diff(ticks)[:, None]
    return TempoMap.from_song(song).ticks_to_times(grid_ticks)


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
    points = np.concatenate([step_times_[:, :-1].ravel(), step_times_[-1:, -1]])
    right = np.clip(np.searchsorted(points, onsets), 1, len(points) - 1)
    nearer_left = (onsets - points[right - 1]) <= (points[right] - onsets)
    flat_steps = np.where(nearer_left, right - 1, right)
    inside = (flat_steps < n_bars * n_steps) & (onsets >= points[0] - (points[1] - points[0]) / 2)
    flat_steps = np.minimum(flat_steps, n_bars * n_steps - 1)
    bar_idx, step_idx = np.divmod(flat_steps, n_steps)
    return bar_idx.astype(np.int64), step_idx.astype(np.int64), inside
