"""Drum tracks as grids: 46 General MIDI drum rows x the steps of each bar (16 in 4/4), and back.

A grid cell holds the velocity (1-127) of the hit on that row and step, 0 for none. Every GM drum
pitch maps to one row: the 46 rows are the pitches listed in ``DRUM_PITCHES``; any other drum
pitch goes to the row of the musically nearest instrument (``EXTRA_PITCH_TO_ROW_PITCH``), or to the
nearest row pitch when it is not a GM drum sound at all. Decoding writes each row's own pitch.

Used by notebooks ``step_1_midi_data_preprocessing`` and ``step_5``.
"""

from __future__ import annotations

import numpy as np
import pretty_midi

from drumgen.bars import nearest_steps, steps_in_bars

DRUM_PITCHES: tuple[int, ...] = (
    27,
    28,
    33,
    35,
    36,
    37,
    38,
    39,
    40,
    41,
    42,
    43,
    44,
    45,
    46,
    47,
    48,
    49,
    51,
    53,
    54,
    55,
    56,
    57,
    59,
    60,
    61,
    62,
    63,
    64,
    65,
    67,
    68,
    69,
    70,
    73,
    74,
    75,
    76,
    77,
    80,
    81,
    82,
    83,
    85,
    87,
)
"""GM pitch of each of the 46 grid rows, ascending."""
N_ROWS = len(DRUM_PITCHES)

EXTRA_PITCH_TO_ROW_PITCH: dict[int, int] = {
    29: 28,  # Scratch Push -> Slap
    30: 28,  # Scratch Pull -> Slap
    31: 37,  # Sticks -> Side Stick
    32: 33,  # Square Click -> Metronome Click
    34: 33,  # Metronome Bell -> Metronome Click
    50: 48,  # High Tom -> Hi-Mid Tom
    52: 57,  # Chinese Cymbal -> Crash Cymbal 2
    58: 70,  # Vibraslap -> Maracas
    66: 65,  # Low Timbale -> High Timbale
    71: 73,  # Short Whistle -> Short Guiro
    72: 74,  # Long Whistle -> Long Guiro
    78: 77,  # Mute Cuica -> Low Wood Block
    79: 76,  # Open Cuica -> Hi Wood Block
    84: 83,  # Belltree -> Jingle Bell
    86: 87,  # Mute Surdo -> Open Surdo
}
"""GM drum pitches without a row of their own, and the row pitch that stands in for them."""

DEFAULT_VELOCITY = 100
"""Velocity written for hits of a grid that holds no velocities (a boolean grid)."""


def _build_pitch_to_row() -> np.ndarray:
    rows = np.asarray(DRUM_PITCHES)
    table = np.empty(128, dtype=np.int64)
    for pitch in range(128):
        target = EXTRA_PITCH_TO_ROW_PITCH.get(pitch, pitch)
        table[pitch] = int(np.argmin(np.abs(rows - target)))  # exact match, else nearest pitch
    return table


PITCH_TO_ROW = _build_pitch_to_row()
"""``PITCH_TO_ROW[p]`` is the grid row of MIDI drum pitch ``p`` (0-127)."""


def pitch_to_row(pitch: int) -> int:
    """Grid row of a MIDI drum pitch (0-127)."""
    return int(PITCH_TO_ROW[pitch])


def row_to_pitch(row: int) -> int:
    """GM pitch written for grid row ``row`` (0-45)."""
    return DRUM_PITCHES[row]


def drums_to_grid(drums: list[pretty_midi.Instrument], step_times: np.ndarray) -> np.ndarray:
    """Quantise drum notes to the nearest step of the song's own grid.

    Parameters
    ----------
    drums : list of pretty_midi.Instrument
        Drum instruments (their notes' pitches are GM drum pitches).
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        From :func:`drumgen.bars.step_times`.

    Returns
    -------
    np.ndarray [shape=(n_bars, 46, n_steps), uint8]
        Velocity of the loudest hit per cell, 0 where none. Hits nearer the end of the last bar
        than to its last step, or before the first bar, are dropped.
    """
    n_bars, n_steps = step_times.shape[0], step_times.shape[1] - 1
    grid = np.zeros((n_bars, N_ROWS, n_steps), dtype=np.uint8)
    notes = [note for instrument in drums for note in instrument.notes]
    if not notes or n_bars == 0:
        return grid
    bar_idx, step_idx, inside = nearest_steps(np.array([note.start for note in notes]), step_times)
    for note, bar, step, keep in zip(notes, bar_idx, step_idx, inside, strict=True):
        if keep:
            row = PITCH_TO_ROW[note.pitch]
            grid[bar, row, step] = max(grid[bar, row, step], note.velocity)
    return grid


def grid_to_drums(
    grid: np.ndarray,
    step_times: np.ndarray,
    *,
    name: str = "drumgen drums",
    note_steps: float = 0.5,
    time_offsets: np.ndarray | None = None,
    velocity_offsets: np.ndarray | None = None,
) -> pretty_midi.Instrument:
    """Write a drum grid as a GM drum instrument on the song's own step times.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, n_steps)]
        Velocities (integers 1-127, 0 = no hit) or booleans (hits get ``DEFAULT_VELOCITY``).
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        Where each step starts (straight, or swung by :func:`drumgen.feel.swing_step_times`).
    name : str
        Instrument name.
    note_steps : float
        Length of every note as a fraction of its step (drum sounds ignore note-off mostly).
    time_offsets : np.ndarray [shape=(n_bars, 46, n_steps), seconds], optional
        Added to each hit's start and end (:func:`drumgen.feel.humanize`); default none.
    velocity_offsets : np.ndarray [shape=(n_bars, 46, n_steps), int], optional
        Added to each hit's velocity before it is clipped to 1-127; default none.

    Returns
    -------
    pretty_midi.Instrument
        ``is_drum=True``; notes sorted by time then pitch. Hits on padding steps (zero long, past
        a bar's own length: :mod:`drumgen.bars`) are left out; :func:`drumgen.meter.fit_grid`
        never makes any.
    """
    grid = np.asarray(grid)
    velocities = np.where(grid.astype(bool), DEFAULT_VELOCITY, 0) if grid.dtype == bool else grid
    own = steps_in_bars(step_times)
    if not own.all():
        velocities = np.where(own[:, None, :], velocities, 0)
    instrument = pretty_midi.Instrument(program=0, is_drum=True, name=name)
    bar_idx, row_idx, step_idx = np.nonzero(velocities)
    for bar, row, step in zip(bar_idx, row_idx, step_idx, strict=True):
        start = step_times[bar, step]
        end = start + note_steps * (step_times[bar, step + 1] - start)
        if time_offsets is not None:
            start, end = start + time_offsets[bar, row, step], end + time_offsets[bar, row, step]
        velocity = int(velocities[bar, row, step])
        if velocity_offsets is not None:
            velocity += int(velocity_offsets[bar, row, step])
        velocity = int(np.clip(velocity, 1, 127))
        instrument.notes.append(pretty_midi.Note(velocity, DRUM_PITCHES[row], float(start), float(end)))
    instrument.notes.sort(key=lambda note: (note.start, note.pitch))
    return instrument


def hits(grid: np.ndarray) -> np.ndarray:
    """Boolean hit grid of a velocity grid (same shape)."""
    return np.asarray(grid) > 0
