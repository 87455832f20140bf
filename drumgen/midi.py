"""Read MIDI songs, set their drums apart, and check that their meter suits the model.

Policy
------
- Drum instruments (``is_drum``, MIDI channel 10) are the training target and the evaluation
  reference; everything else is the "melody" that drumgen listens to.
- A file without any time signature is read as 4/4 from 0 s (the MIDI standard's default).
- The model's grid is 16 steps per 4/4 bar, so every bar must last four quarter notes
  (4/4, 2/2, 8/8 ...). Any other bar raises :class:`~drumgen.exceptions.TimeSignatureError`
  naming the first such bar.

Used by notebook ``step_1_midi_data_preprocessing``.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path

import pretty_midi

from drumgen.exceptions import MidiError, TimeSignatureError

log = logging.getLogger(__name__)

QUARTERS_PER_BAR = 4.0
"""Length of every bar the model serves, in quarter notes (a 4/4 bar)."""


@dataclass(frozen=True)
class SplitSong:
    """A song with its drums set apart; both parts keep the full tempo map and meter.

    Attributes
    ----------
    melody : pretty_midi.PrettyMIDI
        Every non-drum instrument, unchanged.
    drums : pretty_midi.PrettyMIDI or None
        Every drum instrument, or None when the song has no drum notes.
    """

    melody: pretty_midi.PrettyMIDI
    drums: pretty_midi.PrettyMIDI | None


def read_midi(path: str | Path) -> pretty_midi.PrettyMIDI:
    """Read a standard MIDI file.

    Raises
    ------
    MidiError
        If the file is missing, empty, or not a readable MIDI file.
    """
    path = Path(path)
    if not path.is_file():
        raise MidiError(f"{path}: no such MIDI file")
    if path.stat().st_size == 0:
        raise MidiError(f"{path}: the file is empty (0 bytes), expected a standard MIDI file")
    try:
        return pretty_midi.PrettyMIDI(str(path))
    except Exception as error:  # mido and pretty_midi raise many types on broken files
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MidiError(f"{path}: not a readable MIDI file ({detail})") from error


def _with_instruments(
    song: pretty_midi.PrettyMIDI, instruments: list[pretty_midi.Instrument]
) -> pretty_midi.PrettyMIDI:
    """Return a copy of ``song`` (tempo map, meter, key) holding only ``instruments``."""
    part = copy.copy(song)
    part.instruments = [copy.deepcopy(instrument) for instrument in instruments]
    part.time_signature_changes = list(song.time_signature_changes)
    part.key_signature_changes = list(song.key_signature_changes)
    part.lyrics = []
    part.text_events = []
    return part


def split_drums(song: pretty_midi.PrettyMIDI, *, name: str = "song") -> SplitSong:
    """Set a song's drum instruments apart from the rest.

    Parameters
    ----------
    song : pretty_midi.PrettyMIDI
        The full song; it is not modified.
    name : str
        How to name the song in error messages (e.g. its path).

    Raises
    ------
    MidiError
        If the song has no notes at all, or only drum notes.
    """
    melodic = [inst for inst in song.instruments if not inst.is_drum and inst.notes]
    drums = [inst for inst in song.instruments if inst.is_drum and inst.notes]
    if not melodic and not drums:
        raise MidiError(f"{name}: the MIDI file has no notes")
    if not melodic:
        raise MidiError(f"{name}: the MIDI file has only drum notes, expected melodic instruments too")
    return SplitSong(
        melody=_with_instruments(song, melodic),
        drums=_with_instruments(song, drums) if drums else None,
    )


def song_end_time(song: pretty_midi.PrettyMIDI) -> float:
    """Time in seconds of the last note-off of any instrument (0.0 for a song without notes)."""
    ends = [note.end for inst in song.instruments for note in inst.notes]
    return max(ends, default=0.0)


def check_meter(
    song: pretty_midi.PrettyMIDI, downbeat_times: list[float] | None = None, *, name: str = "song"
) -> None:
    """Check that every bar of ``song`` lasts four quarter notes.

    Parameters
    ----------
    song : pretty_midi.PrettyMIDI
        The song (its time-signature changes are read).
    downbeat_times : list of float, optional
        Bar start times in seconds, to name the offending bar; computed if omitted.
    name : str
        How to name the song in the error message.

    Raises
    ------
    TimeSignatureError
        Naming the first bar whose meter is not 4/4-long, e.g. ``bar 17 (at 32.00 s) is in 3/4``.
    """
    end_time = song_end_time(song)
    for change in song.time_signature_changes:
        if change.time >= end_time:
            break
        quarters = change.numerator * 4.0 / change.denominator
        if abs(quarters - QUARTERS_PER_BAR) > 1e-9:
            if downbeat_times is None:
                downbeat_times = list(song.get_downbeats())
            bar_idx = sum(1 for t in downbeat_times if t < change.time - 1e-6)
            raise TimeSignatureError(
                f"{name}: bar {bar_idx + 1} (at {change.time:.2f} s) is in "
                f"{change.numerator}/{change.denominator}; drumgen's 16-step grid serves only "
                "bars of four quarter notes (4/4, 2/2)"
            )


def ensure_time_signature(song: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """Return ``song`` itself if it declares a meter at 0 s, else a copy declaring 4/4 there.

    A time signature first declared after 0 s also governs the bars before it in MIDI players'
    eyes only if it is 4/4, so the copy adds an explicit 4/4 at 0 s for those leading bars.
    """
    changes = song.time_signature_changes
    if changes and changes[0].time <= 1e-9:
        return song
    log.info("no time signature at 0 s: reading the song's opening as 4/4")
    fixed = copy.copy(song)
    fixed.time_signature_changes = [pretty_midi.TimeSignature(4, 4, 0.0), *changes]
    return fixed


def with_drums(
    song: pretty_midi.PrettyMIDI, drums: list[pretty_midi.Instrument], *, keep_melody: bool = True
) -> pretty_midi.PrettyMIDI:
    """A copy of ``song`` whose drum instruments are replaced by ``drums``.

    Parameters
    ----------
    song : pretty_midi.PrettyMIDI
        Not modified. Its tempo map, meter and key are kept.
    drums : list of pretty_midi.Instrument
        The new drum instruments.
    keep_melody : bool
        Keep every non-drum instrument (and lyrics, text) as it was; False keeps only ``drums``.
    """
    melodic = [inst for inst in song.instruments if not inst.is_drum] if keep_melody else []
    out = _with_instruments(song, melodic + list(drums))
    if keep_melody:
        out.lyrics = list(song.lyrics)
        out.text_events = list(song.text_events)
    return out
