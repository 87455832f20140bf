"""Write drumgen's MIDI files: the input song passed through untouched, plus one new drum track.

The song is never re-serialised through pretty_midi. Its file is read with ``mido`` and every
event is kept as it was - every track, tempo, time signature, key signature, lyric, marker,
copyright, controller, pitch bend, sysex and note, at its own tick and resolution - except the
song's own drums, which are left out (see below). The generated drums are added as one new track
written in the input's own ticks. Two files per song:

- **song + drums**: the input's format and resolution; format 0 stays format 0 (the drum events
  are merged into its single track), formats 1 and 2 get the drum track appended as the last
  track. drumgen reads a format-2 file as its patterns played together, with the tempo, meter
  and key events of all of them (:func:`drumgen.midi.read_midi`); its drum pattern carries its own
  copy of those events, so that it plays on its own as format 2 asks.
- **drums alone**: the input's tempo map, meters and key signatures, plus the same drum track
  (format 0: one track; format 1: a conductor track and the drum track; format 2: the drum
  pattern).

Channel 10 rule
---------------
General MIDI plays every event on channel 10 (0-based 9) as percussion, and drumgen's step 1 sets
that channel's notes aside as the song's own drums (it never listens to them). So:

- the generated drums always go on channel 10, the only channel every GM player sounds as drums;
- every channel-10 channel event of the song (notes, controllers, program changes, pitch bend,
  aftertouch) is left out of the song + drums file, the drum track it replaces; everything on the
  other 15 channels, and every meta and sysex event, is kept byte for byte at its tick. A song
  whose channel 10 holds a melody therefore loses it, as a GM player would have played it as
  drums anyway; ``keep_song_drums=True`` keeps every channel-10 event too (the new drums then
  play alongside them). The count of left-out events is in :class:`MidiReport`.

Timing
------
Drum notes come in seconds and are placed on the nearest tick through a tempo map (by default
the file's own: every ``set_tempo`` of every track, as :func:`drumgen.midi.read_midi` reads it).
What the resolution cannot hold is reported, never dropped silently: hits of one pitch that land
on the same tick are merged into one (the loudest), a note shorter than a tick is lengthened to
one tick, and a note running into the next hit of its pitch is cut there; each is counted in the
report and logged as a warning. The drum track ends no earlier than the song's last event, so
it spans the whole song.

Used by notebook ``step_5_write_midi`` (through :func:`drumgen.pipeline.step_5_write_midi`).
"""

from __future__ import annotations

import io as _bytes_io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pretty_midi

from drumgen import io, midi
from drumgen.bars import TempoMap
from drumgen.exceptions import MidiError
from drumgen.midi import DRUM_CHANNEL, is_song_drum_event

log = logging.getLogger(__name__)

DEFAULT_MICROSECONDS_PER_QUARTER = 500_000
"""The MIDI standard's tempo before any ``set_tempo``: 120 quarter notes per minute."""

CONDUCTOR_TYPES = ("set_tempo", "time_signature", "key_signature")
"""Meta events copied into the drums-alone file (and into a format-2 drum pattern)."""

CHANNEL_10_RULE = (
    "generated drums on channel 10; the song's own channel-10 events (its drums) left out, "
    "every other event kept at its tick"
)
CHANNEL_10_RULE_KEPT = "generated drums on channel 10; the song's own channel-10 events kept alongside"


@dataclass(frozen=True)
class DrumTicks:
    """Drum notes placed on ticks, and what the resolution could not hold.

    Attributes
    ----------
    notes : tuple of (pitch, start_tick, end_tick, velocity)
        Sorted by start tick, then pitch; every note lasts at least one tick and never overlaps
        the next note of its pitch.
    n_hits : int
        Notes given (before merging).
    n_merged : int
        Hits dropped because a hit of the same pitch landed on the same tick (the loudest kept).
    n_lengthened : int
        Notes shorter than a tick at this resolution, written one tick long.
    n_shortened : int
        Notes cut at the next hit of their pitch.
    max_shift_ticks : float
        Largest distance between a hit's exact (fractional) tick and the tick it was written on.
    """

    notes: tuple[tuple[int, int, int, int], ...]
    n_hits: int
    n_merged: int
    n_lengthened: int
    n_shortened: int
    max_shift_ticks: float


@dataclass(frozen=True)
class MidiReport:
    """What :func:`write_song_with_drums` wrote (saved with the run's metadata).

    Attributes
    ----------
    full_path, drums_path : str
        The song + drums file and the drums-alone file.
    midi_format : int
        0, 1 or 2: the input's, kept for both files.
    ticks_per_beat : int
        The input's resolution, kept.
    drum_channel : int
        1-based, as players show it (10).
    drum_track_idx : int
        Index of the drum track in the song + drums file (0 in format 0, where it is merged).
    channel_10_rule : str
        How the song's own channel-10 events were treated.
    song_drum_events_removed, song_drum_notes_removed : int
        Channel-10 events (all kinds) and note-ons of the song left out.
    song_drum_tracks : tuple of int
        Input tracks that held channel-10 events.
    song_end_tick, drum_end_tick : int
        The song's last event, and the end of the drum track (never earlier).
    n_hits, n_notes, n_merged, n_lengthened, n_shortened, max_shift_ticks
        From :class:`DrumTicks`: notes given and written, and the timing report.
    """

    full_path: str
    drums_path: str
    midi_format: int
    ticks_per_beat: int
    drum_channel: int
    drum_track_idx: int
    channel_10_rule: str
    song_drum_events_removed: int
    song_drum_notes_removed: int
    song_drum_tracks: tuple[int, ...]
    song_end_tick: int
    drum_end_tick: int
    n_hits: int
    n_notes: int
    n_merged: int
    n_lengthened: int
    n_shortened: int
    max_shift_ticks: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        data = asdict(self)
        data["song_drum_tracks"] = list(self.song_drum_tracks)
        return data


@dataclass(frozen=True)
class SongWithDrums:
    """The two files in memory (see :func:`song_with_drums`)."""

    song: mido.MidiFile
    drums: mido.MidiFile
    drum_ticks: DrumTicks
    song_drum_events_removed: int
    song_drum_notes_removed: int
    song_drum_tracks: tuple[int, ...]
    song_end_tick: int
    drum_end_tick: int
    drum_track_idx: int
    keep_song_drums: bool


def tempo_map(song: mido.MidiFile) -> TempoMap:
    """The file's full tempo map: every ``set_tempo`` of every track (as drumgen reads songs).

    Tempo events are taken in playing order (tick, then track); of several at one tick the last
    one is in force. Before the first one the tempo is 120 bpm (the MIDI standard's default).

    Examples
    --------
    >>> song = mido.MidiFile(ticks_per_beat=480)
    >>> song.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=1_000_000, time=960)]))
    >>> [float(t) for t in tempo_map(song).ticks_to_times([480, 1440])]
    [0.5, 2.0]

    Raises
    ------
    MidiError
        On a tempo of 0 microseconds per quarter note.
    """
    changes = sorted(
        (tick, track_idx, position, msg.tempo)
        for track_idx, track in enumerate(song.tracks)
        for position, (tick, msg) in enumerate(_absolute(track))
        if msg.type == "set_tempo"
    )
    segments: list[tuple[int, int]] = [(0, DEFAULT_MICROSECONDS_PER_QUARTER)]
    for tick, _, _, tempo in changes:
        if tempo <= 0:
            raise MidiError(f"tempo 0 at tick {tick}: expected a positive tempo (microseconds per quarter)")
        if tick == segments[-1][0]:
            segments[-1] = (tick, tempo)
        else:
            segments.append((tick, tempo))
    start_ticks = np.array([tick for tick, _ in segments], dtype=float)
    seconds_per_tick = np.array([tempo for _, tempo in segments], dtype=float) / 1e6 / song.ticks_per_beat
    start_times = np.concatenate([[0.0], np.cumsum(np.diff(start_ticks) * seconds_per_tick[:-1])])
    return TempoMap(
        start_ticks=start_ticks,
        start_times=start_times,
        seconds_per_tick=seconds_per_tick,
        resolution=int(song.ticks_per_beat),
    )


def same_tempo(first: TempoMap, second: TempoMap, *, end_time: float, rtol: float = 1e-4) -> bool:
    """Whether two tempo maps (of any resolutions) play the same tempo everywhere up to ``end_time``
    seconds (compared between each pair of consecutive tempo changes of either map)."""
    changes = np.concatenate([first.start_times, second.start_times, [0.0, end_time]])
    changes = np.unique(changes[changes <= end_time])
    between = (changes[:-1] + changes[1:]) / 2 if len(changes) > 1 else changes
    return bool(np.allclose(first.qpm_at(between), second.qpm_at(between), rtol=rtol, atol=0))


def drum_ticks(notes: Iterable[pretty_midi.Note], *, tempo: TempoMap) -> DrumTicks:
    """Place drum notes (seconds) on ticks and report what the resolution cannot hold.

    Parameters
    ----------
    notes : iterable of pretty_midi.Note
        Start and end in seconds, GM drum pitch, velocity 1-127.
    tempo : TempoMap
        Converts seconds to ticks.

    Returns
    -------
    DrumTicks
        Each start and end on its nearest tick (halves round up); see the class for the report.

    Examples
    --------
    At 1 tick per quarter note (120 bpm: 0.5 s per tick) two 16th-note kicks fall on one tick:

    >>> song = mido.MidiFile(ticks_per_beat=1)
    >>> kicks = [pretty_midi.Note(100, 36, 0.0, 0.06), pretty_midi.Note(90, 36, 0.125, 0.19)]
    >>> placed = drum_ticks(kicks, tempo=tempo_map(song))
    >>> placed.notes, placed.n_merged, placed.n_lengthened
    (((36, 0, 1, 100),), 1, 1)
    """
    given = list(notes)
    if not given:
        return DrumTicks((), 0, 0, 0, 0, 0.0)
    exact_starts = tempo.times_to_ticks(np.array([note.start for note in given], dtype=float))
    exact_ends = tempo.times_to_ticks(np.array([note.end for note in given], dtype=float))
    starts = np.maximum(np.floor(exact_starts + 0.5), 0).astype(np.int64)
    ends = np.floor(exact_ends + 0.5).astype(np.int64)
    max_shift = float(np.max(np.abs(starts - exact_starts)))
    by_onset: dict[tuple[int, int], tuple[int, int]] = {}  # (pitch, start) -> (end, velocity)
    for note, start, end in zip(given, starts.tolist(), ends.tolist(), strict=True):
        key = (int(note.pitch), start)
        if key in by_onset:
            other_end, other_velocity = by_onset[key]
            end, velocity = max(end, other_end), max(int(note.velocity), other_velocity)
        else:
            velocity = int(note.velocity)
        by_onset[key] = (end, velocity)
    placed: list[tuple[int, int, int, int]] = []
    n_lengthened = n_shortened = 0
    ordered = sorted(by_onset.items())
    for idx, ((pitch, start), (end, velocity)) in enumerate(ordered):
        if end <= start:
            end = start + 1
            n_lengthened += 1
        following = ordered[idx + 1][0] if idx + 1 < len(ordered) else None
        if following is not None and following[0] == pitch and end > following[1]:
            end = following[1]
            n_shortened += 1
        placed.append((pitch, start, end, velocity))
    placed.sort(key=lambda note: (note[1], note[0]))
    result = DrumTicks(
        notes=tuple(placed),
        n_hits=len(given),
        n_merged=len(given) - len(placed),
        n_lengthened=n_lengthened,
        n_shortened=n_shortened,
        max_shift_ticks=max_shift,
    )
    if result.n_merged or result.n_lengthened or result.n_shortened:
        log.warning(
            "at %d ticks per quarter note the drums do not fit exactly: %d of %d hits merged with a "
            "hit of their pitch on the same tick, %d notes lengthened to one tick, %d cut at the next hit",
            tempo.resolution,
            result.n_merged,
            result.n_hits,
            result.n_lengthened,
            result.n_shortened,
        )
    return result


def song_with_drums(
    song: mido.MidiFile,
    drums: DrumTicks,
    *,
    name: str = "drumgen drums",
    keep_song_drums: bool = False,
) -> SongWithDrums:
    """Build the song + drums file and the drums-alone file in memory.

    Parameters
    ----------
    song : mido.MidiFile
        The input as read by :func:`drumgen.midi.read_midi_file`; not modified.
    drums : DrumTicks
        The new drums, in the song's ticks (:func:`drum_ticks`).
    name : str
        The drum track's name.
    keep_song_drums : bool
        Keep the song's own channel-10 events (default: left out, see the module's rule).

    Returns
    -------
    SongWithDrums
    """
    if song.type not in (0, 1, 2):
        raise MidiError(f"MIDI format {song.type}: expected format 0, 1 or 2")
    song_end = max((tick for track in song.tracks for tick, _ in _absolute(track)), default=0)
    drum_end = max([song_end, *(end for _, _, end, _ in drums.notes)])
    drum_events = _drum_events(drums)
    conductor = _conductor_events(song.tracks)

    n_removed = n_notes_removed = 0
    drum_tracks: list[int] = []
    tracks: list[mido.MidiTrack] = []
    kept_events: list[list[_Event]] = []
    for track_idx, track in enumerate(song.tracks):
        events = _absolute(track)
        removed = [message for _, message in events if is_song_drum_event(message)]
        if removed:
            drum_tracks.append(track_idx)
        if removed and not keep_song_drums:
            n_removed += len(removed)
            n_notes_removed += sum(1 for m in removed if m.type == "note_on" and m.velocity > 0)
            events = [(tick, message) for tick, message in events if not is_song_drum_event(message)]
            tracks.append(_to_track(events))
        else:
            tracks.append(track)  # untouched: the very same events and delta times
        kept_events.append(events)
    if n_removed:
        log.info(
            "left out the song's own drums: %d channel-10 events (%d notes) on track(s) %s",
            n_removed,
            n_notes_removed,
            ", ".join(str(idx) for idx in drum_tracks),
        )

    header = [(0, mido.MetaMessage("track_name", name=name))]
    setup = [(0, mido.Message("program_change", channel=DRUM_CHANNEL, program=0))]  # GM standard kit
    own_kit = keep_song_drums and any(
        message.type == "program_change" and is_song_drum_event(message) for t in song.tracks for message in t
    )
    song_setup = [] if own_kit else setup  # drums kept alongside keep their kit
    if song.type == 0 and tracks:
        # one track: the drums join it (a second track_name would rename the song's track)
        tracks[0] = _merged_track(kept_events[0], [*song_setup, *drum_events], end_tick=drum_end)
        drum_track_idx = 0
    elif song.type == 1:
        tracks.append(_to_track([*header, *song_setup, *drum_events], end_tick=drum_end))
        drum_track_idx = len(tracks) - 1
    else:  # format 2: the pattern carries the tempo map, meters and keys it is played with
        tracks.append(_merged_track([*header, *conductor], [*song_setup, *drum_events], end_tick=drum_end))
        drum_track_idx = len(tracks) - 1

    if song.type == 0:
        alone = [_merged_track([*header, *conductor], [*setup, *drum_events], end_tick=drum_end)]
    elif song.type == 1:
        alone = [
            _to_track(conductor, end_tick=drum_end),
            _to_track([*header, *setup, *drum_events], end_tick=drum_end),
        ]
    else:
        alone = [_merged_track([*header, *conductor], [*setup, *drum_events], end_tick=drum_end)]
    return SongWithDrums(
        song=_file_like(song, tracks),
        drums=_file_like(song, alone),
        drum_ticks=drums,
        song_drum_events_removed=n_removed,
        song_drum_notes_removed=n_notes_removed,
        song_drum_tracks=tuple(drum_tracks),
        song_end_tick=int(song_end),
        drum_end_tick=int(drum_end),
        drum_track_idx=drum_track_idx,
        keep_song_drums=keep_song_drums,
    )


def to_bytes(midi_file: mido.MidiFile) -> bytes:
    """A ``mido.MidiFile`` as standard MIDI file bytes."""
    buffer = _bytes_io.BytesIO()
    midi_file.save(file=buffer)
    return buffer.getvalue()


def write_song_with_drums(
    song: str | Path | mido.MidiFile,
    drums: pretty_midi.Instrument | Sequence[pretty_midi.Note],
    *,
    full_path: str | Path,
    drums_path: str | Path,
    tempo: TempoMap | None = None,
    keep_song_drums: bool = False,
) -> MidiReport:
    """Write a song with its new drums, and the drums alone, as one atomic set of two files.

    Parameters
    ----------
    song : str, Path or mido.MidiFile
        The input MIDI file (or its events, :func:`drumgen.midi.read_midi_file`), passed through
        untouched (see the module's rules).
    drums : pretty_midi.Instrument or sequence of pretty_midi.Note
        The new drums, times in seconds (an instrument's name becomes the track name).
    full_path, drums_path : str or Path
        Where to write the song + drums and the drums alone (one folder; callers check
        overwriting first). Both appear together or not at all (:func:`drumgen.io.write_file_set`).
    tempo : TempoMap, optional
        Seconds -> ticks for the drums; default the file's own full tempo map (:func:`tempo_map`).
        Pass the map the drums' times were computed with, if that was another.
    keep_song_drums : bool
        Keep the song's channel-10 events in the song + drums file.

    Returns
    -------
    MidiReport

    Raises
    ------
    MidiError
        If the input cannot be read.

    Examples
    --------
    >>> report = write_song_with_drums(  # doctest: +SKIP
    ...     "input_midi/example_pop_aabacb.mid", drums, full_path="out/s.mid", drums_path="out/s_drums.mid"
    ... )
    """
    song = song if isinstance(song, mido.MidiFile) else midi.read_midi_file(song)
    tempo = tempo_map(song) if tempo is None else tempo
    notes = drums.notes if isinstance(drums, pretty_midi.Instrument) else drums
    name = drums.name if isinstance(drums, pretty_midi.Instrument) and drums.name else "drumgen drums"
    built = song_with_drums(song, drum_ticks(notes, tempo=tempo), name=name, keep_song_drums=keep_song_drums)
    full_path, drums_path = Path(full_path), Path(drums_path)
    io.write_file_set({full_path: to_bytes(built.song), drums_path: to_bytes(built.drums)})
    placed = built.drum_ticks
    return MidiReport(
        full_path=str(full_path),
        drums_path=str(drums_path),
        midi_format=int(song.type),
        ticks_per_beat=int(song.ticks_per_beat),
        drum_channel=DRUM_CHANNEL + 1,
        drum_track_idx=built.drum_track_idx,
        channel_10_rule=CHANNEL_10_RULE_KEPT if keep_song_drums else CHANNEL_10_RULE,
        song_drum_events_removed=built.song_drum_events_removed,
        song_drum_notes_removed=built.song_drum_notes_removed,
        song_drum_tracks=built.song_drum_tracks,
        song_end_tick=built.song_end_tick,
        drum_end_tick=built.drum_end_tick,
        n_hits=placed.n_hits,
        n_notes=len(placed.notes),
        n_merged=placed.n_merged,
        n_lengthened=placed.n_lengthened,
        n_shortened=placed.n_shortened,
        max_shift_ticks=placed.max_shift_ticks,
    )


# --- helpers: events with absolute ticks ----------------------------------------------------

_Event = tuple[int, mido.Message | mido.MetaMessage]


def _absolute(track: Iterable[mido.Message | mido.MetaMessage]) -> list[_Event]:
    """A track's events with absolute ticks, in file order."""
    events = []
    tick = 0
    for message in track:
        tick += message.time
        events.append((tick, message))
    return events


def _to_track(events: Sequence[_Event], *, end_tick: int | None = None) -> mido.MidiTrack:
    """Events (absolute ticks, in order) as a track of delta times; with ``end_tick``, an
    end-of-track event is added there (or at the last event, if later)."""
    track = mido.MidiTrack()
    now = 0
    for tick, message in events:
        if tick < now:
            raise ValueError(f"events out of order: tick {tick} after tick {now}")
        track.append(message.copy(time=tick - now))
        now = tick
    if end_tick is not None:
        track.append(mido.MetaMessage("end_of_track", time=max(end_tick - now, 0)))
    return track


def _merged_track(
    song_events: Sequence[_Event], drum_events: Sequence[_Event], *, end_tick: int
) -> mido.MidiTrack:
    """One track from a track's events and drum events: each keeps its own order, the drums go
    after the song's events of the same tick, and one end-of-track closes it at the later of
    ``end_tick`` and its last event."""
    body = [(t, m) for t, m in song_events if m.type != "end_of_track"]
    keyed = [(tick, 0, idx, msg) for idx, (tick, msg) in enumerate(body)]
    keyed += [(tick, 1, idx, msg) for idx, (tick, msg) in enumerate(drum_events)]
    keyed.sort(key=lambda item: item[:3])
    last = max([end_tick, *(tick for tick, _ in song_events)])
    return _to_track([(tick, msg) for tick, _, _, msg in keyed], end_tick=last)


def _drum_events(drums: DrumTicks) -> list[_Event]:
    """Note-on / note-off events of the drums on channel 10, note-offs first at each tick."""
    keyed = []
    for pitch, start, end, velocity in drums.notes:
        keyed.append((end, 0, pitch, mido.Message("note_off", channel=DRUM_CHANNEL, note=pitch, velocity=0)))
        keyed.append(
            (start, 1, pitch, mido.Message("note_on", channel=DRUM_CHANNEL, note=pitch, velocity=velocity))
        )
    keyed.sort(key=lambda item: item[:3])
    return [(tick, message) for tick, _, _, message in keyed]


def _conductor_events(tracks: Sequence[mido.MidiTrack]) -> list[_Event]:
    """Every tempo, time-signature and key-signature event, in playing order (tick, then track)."""
    keyed = [
        (tick, track_idx, position, message)
        for track_idx, track in enumerate(tracks)
        for position, (tick, message) in enumerate(_absolute(track))
        if message.type in CONDUCTOR_TYPES
    ]
    keyed.sort(key=lambda item: item[:3])
    return [(tick, message) for tick, _, _, message in keyed]


def _file_like(song: mido.MidiFile, tracks: list[mido.MidiTrack]) -> mido.MidiFile:
    """A new file with the song's format, resolution and text charset, holding ``tracks``."""
    out = mido.MidiFile(type=song.type, ticks_per_beat=song.ticks_per_beat, charset=song.charset)
    out.tracks.extend(tracks)
    return out
