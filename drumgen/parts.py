"""What the song's own MIDI says about its rhythm: per-16th note onsets of each instrument family.

The CQT hears the rendered accompaniment; this module reads the notes directly. For every bar and
grid step it counts the note onsets of the bass, guitar, keys, strings and the other melodic
instruments (GM program families). The arranger uses it to hear where the band plays and where it
rests (intros, breaks), and the dataset stores it so that models can learn from it.

Used by notebook ``step_1_midi_data_preprocessing``.
"""

from __future__ import annotations

import numpy as np
import pretty_midi

from drumgen.bars import nearest_steps

PART_FAMILIES: tuple[str, ...] = ("bass", "guitar", "keys", "strings", "other")
"""Instrument families of the onset profile, in its row order."""
N_FAMILIES = len(PART_FAMILIES)
MAX_COUNT = 255
"""Onset counts are clipped here (they are stored as uint8)."""


def family_of_program(program: int) -> int:
    """Row of :data:`PART_FAMILIES` for a GM program (0-127).

    Pianos, chromatic percussion and organs (0-23) are keys; 24-31 guitar; 32-39 bass; strings and
    ensembles (40-55) strings; everything else (brass, reeds, pipes, synths, ethnic, effects) other.
    """
    if not 0 <= program <= 127:
        raise ValueError(f"GM program must be in 0..127, got {program}")
    if program < 24:
        return PART_FAMILIES.index("keys")
    if program < 32:
        return PART_FAMILIES.index("guitar")
    if program < 40:
        return PART_FAMILIES.index("bass")
    if program < 56:
        return PART_FAMILIES.index("strings")
    return PART_FAMILIES.index("other")


def onset_profile(instruments: list[pretty_midi.Instrument], step_times: np.ndarray) -> np.ndarray:
    """Count the note onsets of each instrument family on every step of every bar.

    Parameters
    ----------
    instruments : list of pretty_midi.Instrument
        The song's melodic instruments (drum instruments are ignored).
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        From :func:`drumgen.bars.step_times`.

    Returns
    -------
    np.ndarray [shape=(n_bars, N_FAMILIES, n_steps), uint8]
        Onsets quantised to the nearest step (as the drums are), counted, clipped at 255.

    Examples
    --------
    >>> import pretty_midi, numpy as np
    >>> bass = pretty_midi.Instrument(program=33)
    >>> bass.notes.append(pretty_midi.Note(100, 40, 0.5, 0.9))
    >>> steps = np.linspace(0.0, 2.0, 17)[None, :]  # one 4/4 bar of 2 s
    >>> onset_profile([bass], steps)[0, 0].nonzero()[0]
    array([4])
    """
    n_bars, n_steps = step_times.shape[0], step_times.shape[1] - 1
    counts = np.zeros((n_bars, N_FAMILIES, n_steps), dtype=np.int64)
    for instrument in instruments:
        if instrument.is_drum or not instrument.notes:
            continue
        family = family_of_program(instrument.program)
        onsets = np.array([note.start for note in instrument.notes])
        bar_idx, step_idx, inside = nearest_steps(onsets, step_times)
        np.add.at(counts, (bar_idx[inside], family, step_idx[inside]), 1)
    return np.minimum(counts, MAX_COUNT).astype(np.uint8)
