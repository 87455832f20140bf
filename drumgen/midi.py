"""Read MIDI songs, set their drums apart, and check that their meter suits the model.

Policy
------
- Drum instruments (``is_drum``, MIDI channel 10) are the training target and the evaluation
  reference; everything else is the "melody" that drumgen listens to.
- A file without any time signature is read as 4/4 from 0 s (the MIDI standard's default).
- Every bar gets a grid of its own length in sixteenth-note steps (2/4 -> 8, 3/4 -> 12,
  6/8 -> 12, 7/8 -> 14, 12/8 -> 24; :func:`bar_steps_of`). A meter is drummed when its bar is a
  whole number of sixteenths, from one beat (:data:`MIN_BAR_STEPS`, a quarter note: a pickup of
  1/4) to :data:`MAX_BAR_STEPS` (8/4, 16/8); a meter may change only on a bar line. Any other
  bar (e.g. a 1/16 bar of a broken file, a 3/4 time signature in the middle of a 4/4 bar)
  raises :class:`~drumgen.exceptions.TimeSignatureError` naming the first such bar. A time
  signature that repeats the meter in force is no change (:func:`meter_changes`).
- A file is checked chunk by chunk before its events are parsed, so every fault gets a message
  naming it (SMPTE timing, tempo 0, truncated at byte N ...); unknown chunks are skipped.
- :func:`check_song` (:func:`check_midi_file` for a file already read) refuses a song beyond
  the ``[limits]`` of the config (length, bars, notes, tracks, file size) before any rendering.

Used by notebook ``step_1_midi_data_preprocessing``.
"""

from __future__ import annotations

import copy
import io
import logging
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pretty_midi

from drumgen.config import LimitsConfig, limit_flag
from drumgen.exceptions import LimitError, MidiError, TimeSignatureError

log = logging.getLogger(__name__)

STEPS_PER_QUARTER = 4
"""Grid steps (sixteenth notes) per quarter note."""
MIN_BAR_STEPS = STEPS_PER_QUARTER
"""Shortest bar drumgen drums, in steps: one beat (a quarter note, e.g. a 1/4 pickup). A shorter
bar (1/8, 1/16, 3/32) is nearly always a broken or odd file; its message names the bar."""
MAX_BAR_STEPS = 32
"""Longest bar drumgen drums, in steps (8/4, 16/8; 7/4 = 28, 12/8 = 24, 15/8 = 30)."""

MAX_PRETTY_MIDI_TICK = 10_000_000
"""pretty_midi refuses a file whose last event lies past this tick (it keeps one float per tick);
:func:`read_midi` reads longer songs at a coarser resolution instead."""

MAX_METER_DENOMINATOR = 64
"""The finest note value a time signature may count in (its byte allows up to 2**255)."""
DRUM_CHANNEL = 9
"""0-based MIDI channel of drums: channel 10, General MIDI percussion (a song's own drums are
read from it, the generated drums written to it)."""
_CONDUCTOR_EVENTS = frozenset(("set_tempo", "time_signature", "key_signature"))
"""Meta events pretty_midi reads from the first track only."""
_DEFAULT_TEMPO = 500_000
"""Microseconds per quarter note before the first tempo event (120 bpm, the MIDI standard's)."""


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


@dataclass(frozen=True)
class SongStats:
    """What a song will cost to analyse, counted from its events before any rendering.

    Attributes
    ----------
    duration : float
        Seconds from 0 to the last note-off.
    n_bars : int
        Bars up to the last note-off, counted with the file's own meters.
    n_notes : int
        Note-ons (velocity > 0) of every track.
    n_tracks : int
        Track chunks in the file.
    end_tick : int
        Tick of the last note-off.
    gap_times : tuple of float
        Start and end in seconds of the song's longest silence (no note sounding) before its last
        note; ``(0.0, 0.0)`` for a song without notes.
    """

    duration: float
    n_bars: int
    n_notes: int
    n_tracks: int
    end_tick: int
    gap_times: tuple[float, float]


def read_midi(path: str | Path, *, limits: LimitsConfig | None = None) -> pretty_midi.PrettyMIDI:
    """Read a standard MIDI file as pretty_midi sees a song, ready for analysis.

    The file is checked chunk by chunk first (:func:`read_midi_file`), so a broken file is named
    by its real fault. Then, for pretty_midi: tempo, meter and key events written on any track
    count (pretty_midi reads them from the first track only), events after the last note-off are
    left out, and a song past pretty_midi's tick limit (:data:`MAX_PRETTY_MIDI_TICK`) is read at a
    coarser resolution (its times in seconds move by less than half a tick of the new resolution).
    A format-2 file is read as format 1 (its tracks played together).

    Parameters
    ----------
    path : str or Path
    limits : LimitsConfig, optional
        Refuse a song beyond these (:func:`check_limits`); default: no limits.

    Raises
    ------
    MidiError
        If the file is missing, empty or broken; the message names the fault (SMPTE timing,
        tempo 0, truncated at byte N, a bad chunk ...).
    LimitError
        If ``limits`` are given and the song exceeds one.

    Examples
    --------
    >>> song = read_midi("input_midi/example_pop_aabacb.mid")  # doctest: +SKIP
    """
    return song_from_file(read_midi_file(path, limits=limits), name=str(path), limits=limits)


def song_from_file(
    midi_file: mido.MidiFile, *, name: str, limits: LimitsConfig | None = None
) -> pretty_midi.PrettyMIDI:
    """:func:`read_midi` of a file already read by :func:`read_midi_file` (for a caller that also
    reads its events as they are). Consumes ``midi_file``: its messages' times are rewritten.

    Raises
    ------
    MidiError, LimitError
        As :func:`read_midi`.
    """
    if limits is not None:
        check_limits(song_stats(midi_file), limits, name=name)
    return _to_pretty_midi(midi_file, name=name)


def is_song_drum_event(message: mido.Message | mido.MetaMessage) -> bool:
    """Whether an event of a song belongs to its own drums: a channel event on channel 10."""
    return not message.is_meta and getattr(message, "channel", None) == DRUM_CHANNEL


def drum_note_ons(midi_file: mido.MidiFile) -> np.ndarray:
    """How often a file's own drums strike each GM note: note-ons of positive velocity on
    channel 10 (:func:`is_song_drum_event`).

    Returns
    -------
    np.ndarray [shape=(128,), int64]
        Indexed by MIDI note number.
    """
    counts = np.zeros(128, dtype=np.int64)
    for track in midi_file.tracks:
        for message in track:
            if is_song_drum_event(message) and message.type == "note_on" and message.velocity > 0:
                counts[message.note] += 1
    return counts


def read_midi_file(path: str | Path, *, limits: LimitsConfig | None = None) -> mido.MidiFile:
    """Read a standard MIDI file's events as they are, checking its structure on the way.

    Unknown chunks are skipped (as the MIDI standard asks); a RIFF ``RMID`` wrapper is opened.
    Times are mido's: delta ticks per track.

    Parameters
    ----------
    limits : LimitsConfig, optional
        Refuse a file larger than ``limits.max_file_mb`` or with more than ``limits.max_tracks``
        tracks before parsing its events.

    Raises
    ------
    MidiError, LimitError
        See :func:`read_midi`.
    """
    path = Path(path)
    if not path.is_file():
        raise MidiError(f"{path}: no such MIDI file")
    size = path.stat().st_size
    if size == 0:
        raise MidiError(f"{path}: the file is empty (0 bytes), expected a standard MIDI file")
    if limits is not None:
        check_file_size(size, limits=limits, name=str(path))
    return midi_file_from_bytes(
        path.read_bytes(), name=str(path), max_tracks=None if limits is None else limits.max_tracks
    )


def check_file_size(size: int, *, limits: LimitsConfig, name: str = "song") -> None:
    """Refuse a MIDI file of ``size`` bytes beyond ``limits.max_file_mb``, before reading it
    (:func:`read_midi_file`; the studio checks an upload's size with it as the bytes arrive).

    Raises
    ------
    LimitError
    """
    if size > limits.max_file_mb * 1e6:
        raise LimitError(
            f"{name}: the file holds {size / 1e6:.1f} MB, beyond the limit of "
            f"{limits.max_file_mb:g} MB; {_raise_hint('max_file_mb')}"
        )


def midi_file_from_bytes(data: bytes, *, name: str = "song", max_tracks: int | None = None) -> mido.MidiFile:
    """Parse standard MIDI file bytes (see :func:`read_midi_file`); ``name`` names the song in
    error messages."""
    if not data:
        raise MidiError(f"{name}: the file is empty (0 bytes), expected a standard MIDI file")
    data = _unwrap_riff(data)
    midi_format, resolution, chunks = _track_chunks(data, name=name, max_tracks=max_tracks)
    if midi_format == 2 and len(chunks) > 1:
        log.info("%s: a format-2 file (independent sequences); its tracks are read as played together", name)
    tracks = [
        _parse_track(payload, idx=idx + 1, offset=offset, name=name)
        for idx, (offset, payload) in enumerate(chunks)
    ]
    _check_events(tracks, name=name)
    return mido.MidiFile(type=midi_format, ticks_per_beat=resolution, tracks=tracks)


def _unwrap_riff(data: bytes) -> bytes:
    """The standard MIDI file inside a RIFF ``RMID`` file (its ``data`` chunk), else ``data``."""
    if data[:4] != b"RIFF" or data[8:12] != b"RMID":
        return data
    position = 12
    while position + 8 <= len(data):
        kind, length = (
            data[position : position + 4],
            int.from_bytes(data[position + 4 : position + 8], "little"),
        )
        if kind == b"data":
            return data[position + 8 : position + 8 + length]
        position += 8 + length + (length & 1)
    return data


def _track_chunks(
    data: bytes, *, name: str, max_tracks: int | None
) -> tuple[int, int, list[tuple[int, bytes]]]:
    """Check the header and chunk structure; return (format, ticks per quarter note,
    [(byte offset, payload) of each track chunk])."""
    if data[:4] != b"MThd":
        raise MidiError(
            f"{name}: not a readable MIDI file: it starts with {data[:4]!r}, "
            "expected b'MThd' (a standard MIDI file)"
        )
    if len(data) < 14:
        raise MidiError(f"{name}: truncated at byte {len(data)}: a MIDI header takes 14 bytes")
    header_length = int.from_bytes(data[4:8], "big")
    if header_length < 6:
        raise MidiError(f"{name}: the header chunk declares {header_length} bytes, expected at least 6")
    midi_format, n_tracks, division = struct.unpack(">HHH", data[8:14])
    if midi_format > 2:
        raise MidiError(f"{name}: MIDI format {midi_format} in the header, expected format 0, 1 or 2")
    if division & 0x8000:
        frames, ticks = 256 - (division >> 8), division & 0xFF
        raise MidiError(
            f"{name}: the file uses SMPTE timing ({frames} frames per second, {ticks} ticks per frame), "
            "which has no beats; drumgen needs a file timed in ticks per quarter note to find its bars"
        )
    if division == 0:
        raise MidiError(f"{name}: the header gives 0 ticks per quarter note, expected a positive resolution")
    if n_tracks == 0:
        raise MidiError(f"{name}: the header declares 0 tracks, so the file holds no music")
    if max_tracks is not None and n_tracks > max_tracks:
        raise LimitError(
            f"{name}: the file declares {n_tracks} tracks, beyond the limit of {max_tracks}; "
            f"{_raise_hint('max_tracks')}"
        )
    position = 8 + header_length
    chunks: list[tuple[int, bytes]] = []
    while len(chunks) < n_tracks:
        if position >= len(data):
            raise MidiError(
                f"{name}: truncated at byte {len(data)}: the header declares {n_tracks} tracks, "
                f"the file ends after {len(chunks)}"
            )
        if position + 8 > len(data):
            raise MidiError(
                f"{name}: truncated at byte {len(data)}: a chunk header at byte {position} takes 8 bytes"
            )
        kind = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8], "big")
        if not all(0x20 <= byte <= 0x7E for byte in kind):
            raise MidiError(
                f"{name}: no chunk at byte {position} (found {kind!r}), expected a track chunk b'MTrk'; "
                "the chunk before it declares a wrong length"
            )
        end = position + 8 + length
        what = f"track {len(chunks) + 1}" if kind == b"MTrk" else f"chunk {kind!r}"
        if end > len(data):
            raise MidiError(
                f"{name}: truncated at byte {len(data)}: {what} at byte {position} declares {length} bytes, "
                f"{len(data) - position - 8} follow"
            )
        if kind == b"MTrk":
            chunks.append((position, data[position + 8 : end]))
        else:
            log.info("%s: skipped an unknown %s of %d bytes at byte %d", name, what, length, position)
        position = end
    if position < len(data):
        log.debug("%s: ignored %d bytes after the last track", name, len(data) - position)
    return midi_format, division, chunks


def _parse_track(payload: bytes, *, idx: int, offset: int, name: str) -> mido.MidiTrack:
    """Parse one track chunk's events with mido, on its own, so that a fault is named by track."""
    alone = b"MThd" + struct.pack(">LHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">L", len(payload)) + payload
    try:
        return mido.MidiFile(file=io.BytesIO(alone)).tracks[0]
    except EOFError:
        raise MidiError(
            f"{name}: truncated at byte {offset + 8 + len(payload)}: track {idx} (from byte {offset}) ends "
            f"inside an event; its chunk length ({len(payload)} bytes) is wrong or the track was cut"
        ) from None
    except Exception as error:  # mido raises OSError, ValueError, KeyError ... on bad event bytes
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MidiError(
            f"{name}: track {idx} (from byte {offset}) holds an unreadable event ({detail})"
        ) from error


def _absolute(track: mido.MidiTrack) -> Iterator[tuple[int, Any]]:
    """(absolute tick, message) of a track whose times are deltas."""
    tick = 0
    for message in track:
        tick += message.time
        yield tick, message


def _check_events(tracks: list[mido.MidiTrack], *, name: str) -> None:
    """Refuse meta events the analysis cannot take: tempo 0, a meter with numerator 0 or a
    denominator past :data:`MAX_METER_DENOMINATOR` (bars of almost no ticks)."""
    for idx, track in enumerate(tracks):
        for tick, message in _absolute(track):
            if message.type == "set_tempo" and message.tempo <= 0:
                raise MidiError(
                    f"{name}: track {idx + 1} sets tempo 0 (0 microseconds per quarter note) at tick {tick}, "
                    "expected a positive tempo"
                )
            if message.type == "time_signature" and message.denominator > MAX_METER_DENOMINATOR:
                raise MidiError(
                    f"{name}: track {idx + 1} has a time signature {message.numerator}/{message.denominator} "
                    f"at tick {tick}, expected a denominator of at most {MAX_METER_DENOMINATOR}"
                )
            if message.type == "time_signature" and message.numerator <= 0:
                raise MidiError(
                    f"{name}: track {idx + 1} has a time signature {message.numerator}/{message.denominator} "
                    f"at tick {tick}, expected a positive numerator"
                )


def song_stats(midi_file: mido.MidiFile) -> SongStats:
    """Count what a song will cost (see :class:`SongStats`), from its events alone.

    The tempo map and meters are read from every track (as :func:`read_midi` does); notes are
    paired as pretty_midi pairs them: a note-off closes every open note of its channel and pitch
    struck before its tick.
    """
    tempo_changes: list[tuple[int, int]] = []
    meter_changes: list[tuple[int, int, int]] = []
    notes: list[tuple[int, int]] = []
    n_notes = 0
    for track in midi_file.tracks:
        open_notes: dict[tuple[int, int], list[int]] = {}
        for tick, message in _absolute(track):
            kind = message.type
            if kind == "note_on" and message.velocity > 0:
                n_notes += 1
                open_notes.setdefault((message.channel, message.note), []).append(tick)
            elif kind in ("note_off", "note_on") and (message.channel, message.note) in open_notes:
                starts = open_notes.pop((message.channel, message.note))
                closed = [start for start in starts if start != tick]
                notes.extend((start, tick) for start in closed)
                if closed and len(closed) < len(starts):  # a note struck on this tick sounds on
                    open_notes[(message.channel, message.note)] = [tick] * (len(starts) - len(closed))
            elif kind == "set_tempo":
                tempo_changes.append((tick, message.tempo))
            elif kind == "time_signature":
                meter_changes.append((tick, message.numerator, message.denominator))
    resolution = midi_file.ticks_per_beat
    if not notes:
        return SongStats(0.0, 0, n_notes, len(midi_file.tracks), 0, (0.0, 0.0))
    notes.sort()
    end_tick = max(end for _, end in notes)
    gap = (0, notes[0][0])
    sounding_until = notes[0][1]
    for start, end in notes[1:]:
        if start - sounding_until > gap[1] - gap[0]:
            gap = (sounding_until, start)
        sounding_until = max(sounding_until, end)
    seconds = _ticks_to_seconds(np.array([end_tick, *gap], dtype=float), tempo_changes, resolution)
    return SongStats(
        duration=float(seconds[0]),
        n_bars=_count_bars(meter_changes, end_tick, resolution),
        n_notes=n_notes,
        n_tracks=len(midi_file.tracks),
        end_tick=int(end_tick),
        gap_times=(float(seconds[1]), float(seconds[2])),
    )


def _ticks_to_seconds(ticks: np.ndarray, tempo_changes: list[tuple[int, int]], resolution: int) -> np.ndarray:
    """Seconds of absolute ticks under a tempo map of (tick, microseconds per quarter) changes."""
    changes = sorted(tempo_changes, key=lambda change: change[0])
    starts = np.array([0] + [tick for tick, _ in changes], dtype=float)
    tempos = np.array([_DEFAULT_TEMPO] + [tempo for _, tempo in changes], dtype=float)
    seconds_per_tick = tempos / 1e6 / resolution
    start_seconds = np.concatenate([[0.0], np.cumsum(np.diff(starts) * seconds_per_tick[:-1])])
    segment = np.searchsorted(starts, ticks, side="right") - 1
    return start_seconds[segment] + (ticks - starts[segment]) * seconds_per_tick[segment]


def _count_bars(meter_changes: list[tuple[int, int, int]], end_tick: int, resolution: int) -> int:
    """Bars up to ``end_tick``; a time signature starts a new bar, 4/4 before the first."""
    changes = sorted(meter_changes, key=lambda change: change[0])
    starts = [(0, 4, 4), *changes]
    n_bars = 0
    for idx, (start, numerator, denominator) in enumerate(starts):
        stop = min(starts[idx + 1][0] if idx + 1 < len(starts) else end_tick, end_tick)
        if stop > start:
            n_bars += math.ceil((stop - start) * denominator / (numerator * 4 * resolution))
    return max(n_bars, 1)


def check_limits(stats: SongStats, limits: LimitsConfig, *, name: str = "song") -> None:
    """Refuse a song whose length, bars or notes exceed ``limits``.

    Raises
    ------
    LimitError
        One line naming the limit, the song's value and the flag that raises the limit, e.g.
        ``song.mid: 120.1 minutes long ... beyond the limit of 20 minutes; raise it with --max-minutes``.
    """
    minutes = stats.duration / 60
    if minutes > limits.max_minutes:
        gap_start, gap_end = stats.gap_times
        silence = ""
        if gap_end - gap_start > 0.5 * stats.duration:
            silence = (
                f", {(gap_end - gap_start) / 60:.1f} minutes of it a silence "
                f"(from {gap_start:.1f} s to {gap_end:.1f} s)"
            )
        raise LimitError(
            f"{name}: {minutes:.1f} minutes long (last note-off at {stats.duration:.1f} s){silence}, "
            f"beyond the limit of {limits.max_minutes:g} minutes; {_raise_hint('max_minutes')}"
        )
    if stats.n_bars > limits.max_bars:
        raise LimitError(
            f"{name}: {stats.n_bars} bars, beyond the limit of {limits.max_bars} bars; "
            f"{_raise_hint('max_bars')}"
        )
    if stats.n_notes > limits.max_notes:
        raise LimitError(
            f"{name}: {stats.n_notes} notes, beyond the limit of {limits.max_notes} notes; "
            f"{_raise_hint('max_notes')}"
        )
    if stats.n_tracks > limits.max_tracks:
        raise LimitError(
            f"{name}: {stats.n_tracks} tracks, beyond the limit of {limits.max_tracks} tracks; "
            f"{_raise_hint('max_tracks')}"
        )


def _raise_hint(field: str) -> str:
    return f"raise it with {limit_flag(field)} (or [limits] {field} in a preset)"


def check_song(path: str | Path, *, limits: LimitsConfig) -> SongStats:
    """Read a song's events and refuse it, before any work, if it is broken or beyond ``limits``.

    Returns
    -------
    SongStats
        What the song will cost.

    Raises
    ------
    MidiError, LimitError
    """
    return check_midi_file(read_midi_file(path, limits=limits), name=str(path), limits=limits)


def check_midi_file(midi_file: mido.MidiFile, *, name: str, limits: LimitsConfig) -> SongStats:
    """:func:`check_song` of a file already read (:func:`read_midi_file`), named ``name`` in the
    messages; what step 1 runs first (:func:`drumgen.analysis.preprocess_song`). The file is not
    modified."""
    stats = song_stats(midi_file)
    check_limits(stats, limits, name=name)
    log.debug(
        "%s: %.1f s, %d bars, %d notes, %d tracks",
        name,
        stats.duration,
        stats.n_bars,
        stats.n_notes,
        stats.n_tracks,
    )
    return stats


def _to_pretty_midi(midi_file: mido.MidiFile, *, name: str) -> pretty_midi.PrettyMIDI:
    """Hand a file read by :func:`read_midi_file` to pretty_midi (see :func:`read_midi` for what
    changes). Consumes ``midi_file``: its messages' times are rewritten."""
    tracks = [list(_absolute(track)) for track in midi_file.tracks]
    note_ticks = [
        tick for track in tracks for tick, message in track if message.type in ("note_on", "note_off")
    ]
    end_tick = max(note_ticks, default=0)
    last_tick = max((track[-1][0] for track in tracks if track), default=0)
    conductor_elsewhere = any(
        message.type in _CONDUCTOR_EVENTS for track in tracks[1:] for _, message in track
    )
    resolution = midi_file.ticks_per_beat
    if conductor_elsewhere or last_tick >= MAX_PRETTY_MIDI_TICK - 1 or not all(tracks):
        if conductor_elsewhere:
            log.info("%s: tempo, meter or key events on tracks after the first are read as the song's", name)
        moved = [
            (tick, message)
            for track in tracks[1:]
            for tick, message in track
            if message.type in _CONDUCTOR_EVENTS
        ]
        first = sorted(tracks[0] + moved, key=lambda event: event[0]) if tracks else moved
        tracks = [first] + [[e for e in track if e[1].type not in _CONDUCTOR_EVENTS] for track in tracks[1:]]
        scale = 1.0
        if end_tick >= MAX_PRETTY_MIDI_TICK - 1:
            coarser = max(1, int(resolution * (MAX_PRETTY_MIDI_TICK - 2) // end_tick))
            if end_tick * coarser / resolution >= MAX_PRETTY_MIDI_TICK - 1:
                raise MidiError(
                    f"{name}: its last note is {end_tick / resolution:.0f} quarter notes in, beyond the "
                    f"{MAX_PRETTY_MIDI_TICK - 2} that drumgen can read"
                )
            log.info(
                "%s: last note at tick %d, past pretty_midi's %d: read at %d, not %d, ticks per quarter",
                name,
                end_tick,
                MAX_PRETTY_MIDI_TICK,
                coarser,
                resolution,
            )
            scale, resolution = coarser / resolution, coarser
        rebuilt = []
        for track in tracks:
            kept = [(tick, message) for tick, message in track if tick <= end_tick]
            out = mido.MidiTrack()
            now = 0
            for tick, message in kept:
                new_tick = round(tick * scale)
                message.time = new_tick - now
                now = new_tick
                out.append(message)
            if not out:
                out.append(mido.MetaMessage("end_of_track", time=0))
            rebuilt.append(out)
        midi_file = mido.MidiFile(type=1, ticks_per_beat=resolution, tracks=rebuilt)
    try:
        return pretty_midi.PrettyMIDI(mido_object=midi_file)
    except Exception as error:  # pretty_midi raises ValueError, KeyError ... on odd content
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MidiError(f"{name}: not a readable MIDI file ({detail})") from error


def _with_instruments(
    song: pretty_midi.PrettyMIDI, instruments: list[pretty_midi.Instrument]
) -> pretty_midi.PrettyMIDI:
    """Return a copy of ``song`` (tempo map, meter, key) holding only ``instruments``.

    The copy's instruments and their events are new objects, so editing them leaves ``song`` as
    it was (made field by field: 1.4 ms for the 3,180 notes of the benchmark song, where
    ``copy.deepcopy`` took 23 ms).
    """
    part = copy.copy(song)
    part.instruments = [_instrument_copy(instrument) for instrument in instruments]
    part.time_signature_changes = list(song.time_signature_changes)
    part.key_signature_changes = list(song.key_signature_changes)
    part.lyrics = []
    part.text_events = []
    return part


def _instrument_copy(instrument: pretty_midi.Instrument) -> pretty_midi.Instrument:
    """A copy of an instrument: program, kind, name, notes, pitch bends and controller changes."""
    copied = pretty_midi.Instrument(instrument.program, is_drum=instrument.is_drum, name=instrument.name)
    copied.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, n.end) for n in instrument.notes]
    copied.pitch_bends = [pretty_midi.PitchBend(b.pitch, b.time) for b in instrument.pitch_bends]
    copied.control_changes = [
        pretty_midi.ControlChange(c.number, c.value, c.time) for c in instrument.control_changes
    ]
    return copied


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


METER_SNAP_QUARTERS = Fraction(1, 16)
"""A meter change this close to a bar line (in quarter notes, a 64th note) counts as on it: the
corpus has files whose time signature sits a few ticks after (or before) the bar line it means."""


def _snapped_tick(tick: int, in_force: tuple[int, int, int], resolution: int) -> int:
    """``tick`` moved onto the nearest bar line of the meter in force when it lies within
    :data:`METER_SNAP_QUARTERS` of it, else unchanged."""
    start, numerator, denominator = in_force
    bar_length = Fraction(numerator * 4 * resolution, denominator)
    n_whole, rest = divmod(Fraction(tick - start), bar_length)
    limit = METER_SNAP_QUARTERS * resolution
    if 0 < rest <= limit:
        return int(start + n_whole * bar_length)
    if 0 < bar_length - rest <= limit:
        return int(start + (n_whole + 1) * bar_length)
    return tick


def meter_changes(song: pretty_midi.PrettyMIDI) -> list[tuple[int, int, int]]:
    """The song's meter changes in ticks: ``(tick, numerator, denominator)``, 4/4 at tick 0 first.

    A time signature repeating the meter in force is not a change and is left out, wherever it
    falls (12 of 509 validation songs repeat their 4/4 a few ticks or a beat into a bar; a new bar
    there would be a bar of a few ticks). Of several at one tick the last counts. A change within
    a 64th note of a bar line of the meter in force is read as on that bar line
    (:data:`METER_SNAP_QUARTERS`; 4 of 562 test songs have one a few ticks off).
    """
    changes = [(0, 4, 4)]
    for change in sorted(song.time_signature_changes, key=lambda ts: ts.time):
        tick = _snapped_tick(int(song.time_to_tick(change.time)), changes[-1], song.resolution)
        if tick <= changes[-1][0]:
            changes[-1] = (changes[-1][0], change.numerator, change.denominator)
            if len(changes) > 1 and changes[-1][1:] == changes[-2][1:]:
                changes.pop()
        elif (change.numerator, change.denominator) != changes[-1][1:]:
            changes.append((tick, change.numerator, change.denominator))
        else:
            log.debug(
                "a repeated %d/%d at %.3f s is not a meter change",
                change.numerator,
                change.denominator,
                change.time,
            )
    return changes


def bar_steps_of(numerator: int, denominator: int) -> Fraction:
    """Length of a bar of ``numerator/denominator`` in sixteenth-note steps (may be fractional).

    Examples
    --------
    >>> [int(bar_steps_of(n, d)) for n, d in ((4, 4), (2, 4), (3, 4), (6, 8), (7, 8), (12, 8))]
    [16, 8, 12, 12, 14, 24]
    """
    return Fraction(numerator * 4 * STEPS_PER_QUARTER, denominator)


def meter_problem(numerator: int, denominator: int) -> str | None:
    """Why bars of ``numerator/denominator`` cannot be drummed, or None when they can.

    Returns
    -------
    str or None
        A phrase for an error message, e.g. ``"0.5 quarter notes long, shorter than one beat"``.
    """
    steps = bar_steps_of(numerator, denominator)
    quarters = f"{float(steps / STEPS_PER_QUARTER):g} quarter notes long"
    if steps.denominator != 1:
        return f"{quarters}, not a whole number of sixteenth notes (drumgen's grid step)"
    if steps < MIN_BAR_STEPS:
        return f"{quarters}, shorter than one beat (a quarter note)"
    if steps > MAX_BAR_STEPS:
        return f"{quarters}, longer than drumgen's longest bar of {MAX_BAR_STEPS // STEPS_PER_QUARTER}"
    return None


def check_meter(
    song: pretty_midi.PrettyMIDI, downbeat_times: list[float] | None = None, *, name: str = "song"
) -> None:
    """Check that every bar of ``song`` can be drummed and that every meter change falls on a bar
    line.

    A bar can be drummed when its meter gives a whole number of sixteenth-note steps from one beat
    to eight quarter notes (:func:`meter_problem`): 2/4, 3/4, 5/4, 6/8, 7/8, 12/8, a 1/4 pickup ...

    Parameters
    ----------
    song : pretty_midi.PrettyMIDI
        The song (its time-signature changes are read).
    downbeat_times : list of float, optional
        Unused (bars are counted in ticks, from :func:`meter_changes`); kept for older callers.
    name : str
        How to name the song in the error message.

    Raises
    ------
    TimeSignatureError
        Naming the first bar whose meter cannot be drummed, e.g. ``bar 17 (at 32.00 s) is in 1/16:
        0.25 quarter notes long, shorter than one beat (a quarter note)``, or the first bar a time
        signature cuts short, e.g. ``bar 5 (at 8.00 s) is cut short after 1.5 of its 4 quarter
        notes by a 3/4 time signature``.
    """
    del downbeat_times
    end_tick = song.time_to_tick(song_end_time(song))
    changes = meter_changes(song)
    resolution = song.resolution
    n_bars_before = 0
    for idx, (start_tick, numerator, denominator) in enumerate(changes):
        if start_tick >= end_tick and idx > 0:
            break
        problem = meter_problem(numerator, denominator)
        if problem is not None:
            raise TimeSignatureError(
                f"{name}: bar {n_bars_before + 1} (at {song.tick_to_time(start_tick):.2f} s) is in "
                f"{numerator}/{denominator}: {problem}; drumgen drums bars of 1 to "
                f"{MAX_BAR_STEPS // STEPS_PER_QUARTER} quarter notes in whole sixteenths"
            )
        if idx + 1 == len(changes) or changes[idx + 1][0] >= end_tick:
            break
        next_tick, next_numerator, next_denominator = changes[idx + 1]
        bar_length = Fraction(numerator * 4 * resolution, denominator)
        n_whole, rest = divmod(Fraction(next_tick - start_tick), bar_length)
        if rest:
            bar_tick = start_tick + n_whole * bar_length
            raise TimeSignatureError(
                f"{name}: bar {n_bars_before + n_whole + 1} (at {song.tick_to_time(int(bar_tick)):.2f} s) "
                f"is cut short after {float(rest / resolution):g} of its {float(bar_length / resolution):g} "
                f"quarter notes by a {next_numerator}/{next_denominator} time signature at "
                f"{song.tick_to_time(next_tick):.2f} s; drumgen's grid needs meter changes on bar lines"
            )
        n_bars_before += int(n_whole)


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
