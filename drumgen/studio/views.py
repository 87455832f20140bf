"""What the page draws, as plain JSON-ready data: the song's structure and its piano roll.

- :func:`run_view` - bars, sections, the melodic and predicted drum SSMs, the song's notes.
- :func:`take_view` - a take's drum hits (as written to its drums-only MIDI file, swing and
  humanizing included) and the arranger's decisions per bar.

Numbers are rounded (SSMs to 3 decimals, times to milliseconds) to keep the answers small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi

from drumgen import io, midi, pipeline
from drumgen.kit import KIT_CLASS_PITCHES, KIT_CLASSES

_PITCH_TO_CLASS = {pitch: idx for idx, name in enumerate(KIT_CLASSES) for pitch in KIT_CLASS_PITCHES[name]}


def _rounded(array: np.ndarray | None, decimals: int) -> list[Any] | None:
    return None if array is None else np.round(np.asarray(array, dtype=np.float64), decimals).tolist()


def song_notes(song_path: str | Path) -> list[list[float]]:
    """The song's notes without its drums: ``[start_s, end_s, pitch, instrument_idx]`` each."""
    song = midi.read_midi(song_path)
    melody = midi.split_drums(song, name=str(song_path)).melody
    notes = [
        [round(note.start, 3), round(note.end, 3), note.pitch, idx]
        for idx, instrument in enumerate(melody.instruments)
        for note in instrument.notes
    ]
    return sorted(notes)


def drum_hits(drums_path: str | Path) -> list[list[float]]:
    """A drums-only MIDI file's hits: ``[time_s, pitch, velocity, kit_class_idx]`` each, the class
    an index of :data:`drumgen.kit.KIT_CLASSES` (-1 for a pitch of none of them)."""
    song = pretty_midi.PrettyMIDI(str(drums_path))
    hits = [
        [round(note.start, 3), note.pitch, note.velocity, _PITCH_TO_CLASS.get(note.pitch, -1)]
        for instrument in song.instruments
        if instrument.is_drum
        for note in instrument.notes
    ]
    return sorted(hits)


def run_view(run_dir: str | Path) -> dict[str, Any]:
    """Steps 1-3 of a run folder for the page.

    Returns
    -------
    dict
        ``n_bars``; ``bar_times`` [n_bars + 1, seconds]; ``sections`` (``starts``, ``ends``,
        ``labels``); ``ssms`` with ``melodic`` and ``predicted`` [n_bars x n_bars distances, 0 =
        alike, or None]; ``notes`` (:func:`song_notes`); ``kit_classes`` (names of the drum rows).
    """
    meta_1 = io.load_step_meta(run_dir, "step_1")
    step_1 = pipeline.load_step_1(run_dir)
    step_2 = pipeline.load_step_2(run_dir)
    found = pipeline.load_step_3(run_dir).sections
    return {
        "n_bars": step_1.n_bars,
        "bar_times": _rounded(step_1.bar_times, 3),
        "sections": {
            "starts": found.starts.tolist(),
            "ends": found.ends.tolist(),
            "labels": list(found.labels),
        },
        "ssms": {
            "melodic": _rounded(step_2.melodic_ssm, 3),
            "predicted": _rounded(step_2.predicted_drum_ssm, 3),
        },
        "notes": song_notes(meta_1["song"]["path"]),
        "kit_classes": list(KIT_CLASSES),
    }


def take_view(take_dir: str | Path, drums_path: str | Path) -> dict[str, Any]:
    """A take for the page: ``hits`` (:func:`drum_hits`) and, per arranger decision (``resting``,
    ``fills``, ``crashes``), the bars it holds for."""
    step_4 = pipeline.load_step_4(take_dir)
    decisions = next(iter(step_4.decisions.values()), {})
    return {
        "hits": drum_hits(drums_path),
        "decisions": {name: np.flatnonzero(values).tolist() for name, values in decisions.items()},
        "seed": step_4.seed,
    }
