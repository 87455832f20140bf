"""The output MIDI passes the input through: every non-drum event at its own tick, plus one drum track.

Songs are written here as raw MIDI files with ``mido`` (formats 0, 1 and 2, 1 to 960 ticks per
quarter note, tempo on a second track, zero-length, unterminated and overlapping notes, sysex and
text events, 20 programs, a melody on channel 10), plus the example songs of ``input_midi/``. The
check compares (track, absolute tick, message) multisets of the input and the output.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from drumgen import bars, io, midi, midi_out, pipeline, representation
from drumgen.cli import main
from drumgen.exceptions import MidiError, OutputExistsError
from tests.run_folders import save_steps_1_and_4

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "input_midi").glob("*.mid"))
DRUM = midi_out.DRUM_CHANNEL

Event = tuple[int, mido.Message | mido.MetaMessage]


# --- songs made in code ------------------------------------------------------------------------


def _track(events: Sequence[Event]) -> mido.MidiTrack:
    """Events at absolute ticks (kept in the given order at equal ticks) as a track."""
    ordered = sorted(enumerate(events), key=lambda item: (item[1][0], item[0]))
    track = mido.MidiTrack()
    now = 0
    for _, (tick, message) in ordered:
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def _file(tracks: Sequence[Sequence[Event]], *, midi_format: int = 1, tpq: int = 480) -> mido.MidiFile:
    song = mido.MidiFile(type=midi_format, ticks_per_beat=tpq)
    song.tracks.extend(_track(events) for events in tracks)
    return song


def _tempo(bpm: float, tick: int = 0) -> Event:
    return tick, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))


def _meter(tick: int = 0, numerator: int = 4, denominator: int = 4) -> Event:
    return tick, mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)


def _note(pitch: int, start: int, end: int, *, channel: int = 0, velocity: int = 80) -> list[Event]:
    return [
        (start, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)),
        (end, mido.Message("note_off", note=pitch, velocity=0, channel=channel)),
    ]


def _held_bars(n_bars: int, tpq: int, *, channel: int, pitch: int = 60) -> list[Event]:
    bar = 4 * tpq
    return [e for b in range(n_bars) for e in _note(pitch + b % 3, b * bar, (b + 1) * bar, channel=channel)]


def _drum_hits(n_bars: int, tpq: int) -> list[Event]:
    bar = 4 * tpq
    hits = []
    for b in range(n_bars):
        for beat in range(4):
            tick = b * bar + beat * tpq
            hits += _note(36 if beat % 2 == 0 else 38, tick, tick + max(tpq // 8, 1), channel=DRUM)
    return hits


def tempo_on_second_track(tpq: int = 480) -> mido.MidiFile:
    """Format 1 whose tempo map lives on track 1 (not the conductor track), with a change in bar 3."""
    conductor = [
        (0, mido.MetaMessage("track_name", name="conductor")),
        _meter(),
        (0, mido.MetaMessage("key_signature", key="G")),
    ]
    piano = [
        (0, mido.MetaMessage("track_name", name="piano")),
        _tempo(120),
        _tempo(90, 8 * tpq),
        (0, mido.Message("program_change", program=0, channel=0)),
        *_held_bars(4, tpq, channel=0),
    ]
    bass = [
        (0, mido.Message("program_change", program=33, channel=1)),
        (tpq, mido.Message("pitchwheel", pitch=2000, channel=1)),
        (2 * tpq, mido.Message("control_change", control=7, value=90, channel=1)),
        (3 * tpq, mido.Message("aftertouch", value=40, channel=1)),
        (3 * tpq, mido.Message("polytouch", note=36, value=30, channel=1)),
        *_held_bars(4, tpq, channel=1, pitch=36),
    ]
    return _file([conductor, piano, bass], tpq=tpq)


def format_0_song(tpq: int = 480) -> mido.MidiFile:
    """Format 0: one track holding tempo changes, meter, text, sysex, two parts and drums."""
    events = [
        _tempo(100),
        _meter(),
        (0, mido.MetaMessage("copyright", text="(c) nobody")),
        (0, mido.Message("sysex", data=(0x7E, 0x7F, 0x09, 0x01))),
        (0, mido.Message("program_change", program=5, channel=0)),
        (0, mido.Message("program_change", program=40, channel=1)),
        _tempo(140, 8 * tpq),
        (4 * tpq, mido.MetaMessage("marker", text="verse")),
        (4 * tpq, mido.MetaMessage("lyrics", text="la")),
        *_held_bars(4, tpq, channel=0),
        *_held_bars(4, tpq, channel=1, pitch=48),
        *_drum_hits(4, tpq),
    ]
    return _file([events], midi_format=0, tpq=tpq)


def format_2_song(tpq: int = 480) -> mido.MidiFile:
    """Format 2: two independent patterns, each with its own tempo and meter."""
    first = [
        _tempo(110),
        _meter(),
        (0, mido.MetaMessage("key_signature", key="Eb")),
        _tempo(20, 6 * tpq),
        *_held_bars(4, tpq, channel=0),
    ]
    second = [_tempo(70), _meter(0, 2, 2), _tempo(95, 9 * tpq), *_held_bars(2, tpq, channel=1, pitch=40)]
    return _file([first, second], midi_format=2, tpq=tpq)


def awkward_notes_song(tpq: int = 480) -> mido.MidiFile:
    """Zero-length notes, a note-on never turned off, overlapping identical notes, note-on 0 offs."""
    conductor = [_tempo(120), _meter()]
    notes = [
        (0, mido.Message("note_on", note=60, velocity=90, channel=0)),
        (0, mido.Message("note_off", note=60, velocity=0, channel=0)),  # zero length
        (tpq, mido.Message("note_on", note=62, velocity=90, channel=0)),
        (tpq + 10, mido.Message("note_on", note=62, velocity=70, channel=0)),  # overlaps itself
        (2 * tpq, mido.Message("note_off", note=62, velocity=0, channel=0)),
        (3 * tpq, mido.Message("note_on", note=62, velocity=0, channel=0)),  # note-on 0 as off
        (4 * tpq, mido.Message("note_on", note=64, velocity=90, channel=0)),  # never ends
        (6 * tpq, mido.Message("note_on", note=65, velocity=90, channel=0)),
        (6 * tpq, mido.Message("note_on", note=65, velocity=0, channel=0)),  # zero length again
        (8 * tpq, mido.Message("note_on", note=67, velocity=90, channel=0)),
        (12 * tpq + 1, mido.Message("note_off", note=67, velocity=0, channel=0)),
    ]
    return _file([conductor, notes], tpq=tpq)


def text_and_sysex_song(tpq: int = 480) -> mido.MidiFile:
    """Every kind of non-note event: sysex, markers, cue points, copyright, lyrics, unknown metas."""
    conductor = [
        (0, mido.MetaMessage("track_name", name="song title")),
        (0, mido.MetaMessage("copyright", text="(c) 2026 someone")),
        (0, mido.MetaMessage("smpte_offset", hours=1)),
        _tempo(96),
        _meter(),
        (0, mido.MetaMessage("key_signature", key="Dm")),
        (0, mido.Message("sysex", data=(0x41, 0x10, 0x42, 0x12, 0x40, 0x00, 0x7F, 0x00, 0x41))),
        (4 * tpq, mido.MetaMessage("marker", text="chorus")),
        (4 * tpq, mido.MetaMessage("cue_marker", text="cue")),
        (5 * tpq, mido.MetaMessage("text", text="free text")),
        (5 * tpq, mido.MetaMessage("sequencer_specific", data=(0x00, 0x20, 0x29))),
        (6 * tpq, mido.UnknownMetaMessage(type_byte=0x60, data=(1, 2, 3))),
    ]
    voice = [
        (0, mido.MetaMessage("instrument_name", name="voice")),
        (0, mido.Message("program_change", program=52, channel=2)),
        *[(b * 4 * tpq, mido.MetaMessage("lyrics", text=f"syl{b}")) for b in range(4)],
        *_held_bars(4, tpq, channel=2, pitch=70),
        (7 * tpq, mido.Message("sysex", data=(0x43, 0x10, 0x4C))),
    ]
    return _file([conductor, voice], tpq=tpq)


def twenty_programs_song(tpq: int = 480) -> mido.MidiFile:
    """Twenty programs on the 15 melodic channels (five change program mid-song)."""
    channels = [c for c in range(16) if c != DRUM]
    tracks: list[list[Event]] = [[_tempo(120), _meter()]]
    for idx, channel in enumerate(channels):
        events = [(0, mido.Message("program_change", program=idx * 6, channel=channel))]
        if idx < 5:
            events.append((8 * tpq, mido.Message("program_change", program=100 + idx, channel=channel)))
        events += _held_bars(4, tpq, channel=channel, pitch=40 + idx)
        tracks.append(events)
    return _file(tracks, tpq=tpq)


def melody_on_channel_10_song(tpq: int = 480) -> mido.MidiFile:
    """A melody written on channel 10 (with its own controllers) next to a piano."""
    conductor = [_tempo(120), _meter()]
    melody = [
        (0, mido.Message("program_change", program=73, channel=DRUM)),
        (0, mido.Message("control_change", control=7, value=100, channel=DRUM)),
        *_held_bars(4, tpq, channel=DRUM, pitch=72),
    ]
    return _file([conductor, _held_bars(4, tpq, channel=0), melody], tpq=tpq)


SONGS: dict[str, Callable[[int], mido.MidiFile]] = {
    "tempo_on_second_track": tempo_on_second_track,
    "format_0": format_0_song,
    "format_2": format_2_song,
    "awkward_notes": awkward_notes_song,
    "text_and_sysex": text_and_sysex_song,
    "twenty_programs": twenty_programs_song,
    "melody_on_channel_10": melody_on_channel_10_song,
}


# --- the check ---------------------------------------------------------------------------------


def _absolute(track: mido.MidiTrack) -> list[Event]:
    tick, events = 0, []
    for message in track:
        tick += message.time
        events.append((tick, message))
    return events


def _key(message: mido.Message | mido.MetaMessage) -> str:
    return repr(message.copy(time=0))


def _is_drum(message: mido.Message | mido.MetaMessage) -> bool:
    return not message.is_meta and getattr(message, "channel", None) == DRUM


def _song_events(song: mido.MidiFile, *, tracks: range | None = None) -> Counter:
    """(track, tick, message) of every non-drum event but end-of-track."""
    tracks = range(len(song.tracks)) if tracks is None else tracks
    return Counter(
        (idx, tick, _key(message))
        for idx in tracks
        for tick, message in _absolute(song.tracks[idx])
        if not _is_drum(message) and message.type != "end_of_track"
    )


def _drum_notes(track: mido.MidiTrack) -> list[tuple[int, int, int, int]]:
    """(pitch, start, end, velocity) of the channel-10 notes of a track."""
    open_notes: dict[int, tuple[int, int]] = {}
    notes = []
    for tick, message in _absolute(track):
        if not _is_drum(message) or message.type not in ("note_on", "note_off"):
            continue
        if message.type == "note_on" and message.velocity > 0:
            assert message.note not in open_notes, f"two overlapping drum notes {message.note} at {tick}"
            open_notes[message.note] = (tick, message.velocity)
        else:
            start, velocity = open_notes.pop(message.note)
            notes.append((message.note, start, tick, velocity))
    assert not open_notes, "every drum note ends"
    return sorted(notes, key=lambda n: (n[1], n[0]))


def _conductor(song: mido.MidiFile) -> Counter:
    return Counter(
        (tick, _key(message))
        for track in song.tracks
        for tick, message in _absolute(track)
        if message.type in midi_out.CONDUCTOR_TYPES
    )


def _end_tick(song: mido.MidiFile) -> int:
    return max(tick for track in song.tracks for tick, _ in _absolute(track))


def assert_passes_through(
    song: mido.MidiFile, merged: mido.MidiFile, alone: mido.MidiFile, drum_notes: Sequence[tuple[int, ...]]
) -> None:
    """The merged file is the song's non-drum events at their ticks plus exactly ``drum_notes``."""
    assert (merged.type, merged.ticks_per_beat) == (song.type, song.ticks_per_beat)
    assert (alone.type, alone.ticks_per_beat) == (song.type, song.ticks_per_beat)
    n_song = len(song.tracks)
    if song.type == 0:
        assert len(merged.tracks) == 1
        drum_track = merged.tracks[0]
    else:
        assert len(merged.tracks) == n_song + 1
        drum_track = merged.tracks[-1]
        assert not any(_is_drum(m) for t in merged.tracks[:-1] for m in t), "the song's drums are left out"
        for before, after in zip(song.tracks, merged.tracks[:-1], strict=True):  # end of each track kept
            assert _absolute(before)[-1][0] == _absolute(after)[-1][0]
    # every non-drum event, at its tick, in its track, nothing added; and in the same order
    assert _song_events(merged, tracks=range(n_song)) == _song_events(song)
    for idx in range(n_song):
        ordered = [(t, _key(m)) for t, m in _absolute(song.tracks[idx]) if not _is_drum(m)]
        kept = [(t, _key(m)) for t, m in _absolute(merged.tracks[idx]) if not _is_drum(m)]
        if song.type == 0:
            ordered, kept = ordered[:-1], kept[:-1]  # end-of-track may move later to close the drums
        assert kept == ordered
    # the drum track: exactly the notes asked for, spanning the song
    assert _drum_notes(drum_track) == sorted(drum_notes, key=lambda n: (n[1], n[0]))
    assert _absolute(drum_track)[-1][0] >= _end_tick(song)
    assert _end_tick(merged) >= _end_tick(song)
    # drums alone: the song's tempo map, meters and keys, and the same drums
    assert _conductor(alone) == _conductor(song)
    assert [_drum_notes(t) for t in alone.tracks if _drum_notes(t)] == [_drum_notes(drum_track)]
    assert _end_tick(alone) >= _end_tick(song)
    assert not any(m.type == "note_on" and not _is_drum(m) for t in alone.tracks for m in t)


def _eighths(song: mido.MidiFile, *, note_seconds: float = 0.05) -> list[pretty_midi.Note]:
    """A hand-made drum part: kick / hats on every eighth note of the song, in seconds."""
    tempo = midi_out.tempo_map(song)
    end = _end_tick(song)
    ticks = np.arange(0, end, song.ticks_per_beat / 2)
    times = tempo.ticks_to_times(ticks)
    return [
        pretty_midi.Note(100 - 10 * (i % 2), 36 if i % 4 == 0 else 42, float(t), float(t) + note_seconds)
        for i, t in enumerate(times)
    ]


def _write_and_read(tmp_path: Path, song: mido.MidiFile | Path, notes, **kwargs):
    if isinstance(song, mido.MidiFile):
        path = tmp_path / "song.mid"
        song.save(path)
    else:
        path = song
    full, alone = tmp_path / "out" / "song_drumgen.mid", tmp_path / "out" / "song_drumgen_drums.mid"
    report = midi_out.write_song_with_drums(path, notes, full_path=full, drums_path=alone, **kwargs)
    return mido.MidiFile(path), mido.MidiFile(full), mido.MidiFile(alone), report


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_songs_pass_through(tmp_path: Path, path: Path) -> None:
    song = mido.MidiFile(path)
    notes = _eighths(song)
    song, merged, alone, report = _write_and_read(tmp_path, path, notes)
    expected = midi_out.drum_ticks(notes, tempo=midi_out.tempo_map(song)).notes
    assert_passes_through(song, merged, alone, expected)
    assert (
        report.song_drum_notes_removed
        == sum(1 for t in song.tracks for m in t if _is_drum(m) and m.type == "note_on" and m.velocity > 0)
        > 0
    )
    assert report.n_merged == report.n_lengthened == 0 and report.n_notes == len(notes)


@pytest.mark.parametrize("tpq", [1, 96, 480, 960])
@pytest.mark.parametrize("name", list(SONGS))
def test_songs_made_in_code_pass_through(tmp_path: Path, name: str, tpq: int) -> None:
    made = SONGS[name](tpq)
    notes = _eighths(made)
    song, merged, alone, report = _write_and_read(tmp_path, made, notes)
    placed = midi_out.drum_ticks(notes, tempo=midi_out.tempo_map(song))
    assert_passes_through(song, merged, alone, placed.notes)
    assert report.n_hits == len(notes) == report.n_notes + report.n_merged
    if tpq == 1:  # eighths land half a tick apart: the resolution cannot hold them, and says so
        assert report.n_merged > 0
    if tpq >= 96:
        assert report.n_merged == report.n_lengthened == report.n_shortened == 0
        assert report.max_shift_ticks < 1e-6 or tpq % 2


def test_format_2_drum_pattern_carries_the_tempo_map(tmp_path: Path) -> None:
    song, merged, alone, _ = _write_and_read(tmp_path, format_2_song(480), _eighths(format_2_song(480)))
    pattern = merged.tracks[-1]
    meta = Counter((t, _key(m)) for t, m in _absolute(pattern) if m.type in midi_out.CONDUCTOR_TYPES)
    assert meta == _conductor(song)
    assert len(alone.tracks) == 1


def test_format_0_stays_one_track_and_drops_only_channel_10(tmp_path: Path) -> None:
    made = format_0_song(960)
    _song, merged, _, report = _write_and_read(tmp_path, made, _eighths(made))
    assert merged.type == 0 and len(merged.tracks) == 1
    assert report.drum_track_idx == 0 and report.song_drum_tracks == (0,)
    assert report.song_drum_notes_removed == 16
    names = [m for m in merged.tracks[0] if m.type == "track_name"]
    assert names == [], "the single track is not renamed"


def test_tempo_on_a_second_track_times_the_drums(tmp_path: Path) -> None:
    song = tempo_on_second_track(480)
    tempo = midi_out.tempo_map(song)
    # bar 3 starts at tick 3840 = 8 quarters at 120 bpm = 4 s; a quarter at 90 bpm is 2/3 s
    assert float(tempo.ticks_to_times(3840)) == pytest.approx(4.0)
    assert float(tempo.ticks_to_times(3840 + 480)) == pytest.approx(4.0 + 2 / 3)
    placed = midi_out.drum_ticks([pretty_midi.Note(100, 36, 4.0 + 2 / 3, 4.8)], tempo=tempo)
    assert placed.notes[0][1] == 3840 + 480


def test_format_2_tempo_map_is_all_patterns_played_together() -> None:
    # as drumgen.midi.read_midi reads it: of the two tempos at tick 0, the later pattern's is in force
    tempo = midi_out.tempo_map(format_2_song(480))
    assert float(tempo.ticks_to_times(480)) == pytest.approx(60 / 70)


def test_tempo_0_is_a_midi_error() -> None:
    song = _file([[(0, mido.MetaMessage("set_tempo", tempo=0))]])
    with pytest.raises(MidiError, match="tempo 0 at tick 0"):
        midi_out.tempo_map(song)


def test_drum_ticks_reports_what_the_resolution_cannot_hold(caplog: pytest.LogCaptureFixture) -> None:
    tempo = midi_out.tempo_map(_file([[_tempo(120)]], tpq=1))  # one tick = 0.5 s
    notes = [
        pretty_midi.Note(80, 36, 0.0, 0.1),
        pretty_midi.Note(120, 36, 0.1, 0.2),  # same tick as the first kick: merged, loudest kept
        pretty_midi.Note(90, 38, 0.1, 0.2),  # another pitch on that tick: kept
        pretty_midi.Note(90, 42, 1.0, 2.5),  # runs into the next hat: cut there
        pretty_midi.Note(90, 42, 1.5, 1.6),
    ]
    with caplog.at_level(logging.WARNING, logger="drumgen.midi_out"):
        placed = midi_out.drum_ticks(notes, tempo=tempo)
    assert placed.notes == ((36, 0, 1, 120), (38, 0, 1, 90), (42, 2, 3, 90), (42, 3, 4, 90))
    assert (placed.n_hits, placed.n_merged, placed.n_lengthened, placed.n_shortened) == (5, 1, 3, 1)
    assert "1 of 5 hits merged" in caplog.text


def test_drum_ticks_round_halves_up_and_measure_the_shift() -> None:
    tempo = midi_out.tempo_map(_file([[_tempo(120)]], tpq=480))  # 960 ticks per second
    placed = midi_out.drum_ticks([pretty_midi.Note(90, 36, 0.5 / 960, 0.1)], tempo=tempo)
    assert placed.notes[0][1] == 1 and placed.max_shift_ticks == pytest.approx(0.5)
    assert midi_out.drum_ticks([], tempo=tempo).notes == ()


def test_melody_on_channel_10_is_left_out_by_the_rule_and_counted(tmp_path: Path) -> None:
    made = melody_on_channel_10_song(480)
    song, merged, _, report = _write_and_read(tmp_path, made, _eighths(made))
    assert report.song_drum_tracks == (2,) and report.song_drum_notes_removed == 4
    assert report.song_drum_events_removed == 4 * 2 + 2  # notes on and off, program, volume
    assert report.channel_10_rule == midi_out.CHANNEL_10_RULE
    assert merged.tracks[2][-1].type == "end_of_track" and len(merged.tracks[2]) == 1
    assert _absolute(merged.tracks[2])[-1][0] == _absolute(song.tracks[2])[-1][0]


def test_keep_song_drums_keeps_every_event(tmp_path: Path) -> None:
    made = melody_on_channel_10_song(480)
    song, merged, _, report = _write_and_read(tmp_path, made, [], keep_song_drums=True)
    assert report.song_drum_events_removed == 0 and report.channel_10_rule == midi_out.CHANNEL_10_RULE_KEPT
    for before, after in zip(song.tracks, merged.tracks, strict=False):
        assert list(after) == list(before)
    assert not [m for m in merged.tracks[-1] if m.type == "program_change"], "the song's kit stays in force"


def test_tracks_without_drums_are_the_same_events(tmp_path: Path) -> None:
    made = twenty_programs_song(480)
    song, merged, _, _ = _write_and_read(tmp_path, made, _eighths(made))
    for before, after in zip(song.tracks, merged.tracks, strict=False):
        assert list(after) == list(before)  # same messages, same delta times


def test_input_is_not_modified(tmp_path: Path) -> None:
    song = format_0_song(480)
    before = [list(track) for track in song.tracks]
    built = midi_out.song_with_drums(
        song, midi_out.drum_ticks(_eighths(song), tempo=midi_out.tempo_map(song))
    )
    assert [list(track) for track in song.tracks] == before
    assert built.song is not song


def test_unreadable_input_is_a_midi_error_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.mid").write_bytes(b"MThd not really")
    for song in (tmp_path / "none.mid", tmp_path / "bad.mid"):
        with pytest.raises(MidiError):
            midi_out.write_song_with_drums(
                song, [], full_path=tmp_path / "o.mid", drums_path=tmp_path / "d.mid"
            )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mid"]


# --- through step 5 and `drumgen write` ---------------------------------------------------------


def _groove(n_bars: int) -> np.ndarray:
    grid = np.zeros((n_bars, len(representation.DRUM_PITCHES), bars.N_STEPS), dtype=np.uint8)
    grid[:, representation.pitch_to_row(36), [0, 8]] = 110
    grid[:, representation.pitch_to_row(38), [4, 12]] = 100
    grid[:, representation.pitch_to_row(42), ::2] = 70
    return grid


def make_run_folder(song_path: Path, run_dir: Path, *, densities: Sequence[int] = (0,)) -> np.ndarray:
    """A run folder holding steps 1 and 4 (:func:`tests.run_folders.save_steps_1_and_4`, the song
    ending at its last note-off); returns the step ticks the drums must land on."""
    song = midi.ensure_time_signature(midi.read_midi(song_path))
    end_time = max(n.end for inst in song.instruments for n in inst.notes)
    run = save_steps_1_and_4(song_path, run_dir, _groove, densities=densities, end_time=end_time)
    ticks = bars.bar_ticks(run.song, end_time=run.end_time)
    step_ticks = ticks[:-1, None] + np.arange(bars.N_STEPS)[None, :] * np.diff(ticks)[:, None] / bars.N_STEPS
    return np.unique(step_ticks[:, ::2])


@pytest.mark.parametrize("name", ["format_0", "tempo_on_second_track", "text_and_sysex", "awkward_notes"])
def test_step_5_passes_the_song_through(tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture) -> None:
    song_path = tmp_path / f"{name}.mid"
    SONGS[name](960).save(song_path)
    step_ticks = make_run_folder(song_path, tmp_path / "run", densities=(0, 3))
    with caplog.at_level(logging.WARNING):
        result = pipeline.step_5_write_midi(tmp_path / "run", out_dir=tmp_path / "out")
    full_path, drums_path = result.files[0]
    assert full_path.name == f"{name}_drumgen.mid" and drums_path.name == f"{name}_drumgen_drums.mid"
    song, merged, alone = (mido.MidiFile(p) for p in (song_path, full_path, drums_path))
    drums = _drum_notes(merged.tracks[0] if song.type == 0 else merged.tracks[-1])
    assert_passes_through(song, merged, alone, drums)
    assert sorted({start for _, start, _, _ in drums}) == list(step_ticks), "every hit on its step's tick"
    assert set(result.files) == {0, 3} and all(p.is_file() for pair in result.files.values() for p in pair)
    report = io.read_json(result.report_path)
    assert report["densities"]["+0"]["midi_format"] == song.type
    assert report["densities"]["+0"]["ticks_per_beat"] == 960
    assert report["densities"]["+0"]["n_merged"] == 0
    assert report["file_tempo_map_agrees"] is True and report["tempo_map"] == "file"
    assert "tempo map differs" not in caplog.text
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


@pytest.mark.filterwarnings("ignore:Tempo, Key or Time signature change events")
def test_step_5_follows_the_analysed_bars_when_the_tempo_maps_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A run folder whose step 1 read only the first track's tempo (as pretty_midi alone does)."""
    song_path = tmp_path / "s.mid"
    tempo_on_second_track(960).save(song_path)
    monkeypatch.setattr(midi, "read_midi", lambda path, **_: pretty_midi.PrettyMIDI(str(path)))
    step_ticks = make_run_folder(song_path, tmp_path / "run")
    with caplog.at_level(logging.WARNING):
        result = pipeline.step_5_write_midi(tmp_path / "run", out_dir=tmp_path / "out")
    assert "tempo map differs" in caplog.text
    merged = mido.MidiFile(result.files[0][0])
    assert sorted({start for _, start, _, _ in _drum_notes(merged.tracks[-1])}) == list(step_ticks)
    report = io.read_json(result.report_path)
    assert report["tempo_map"] == "analysis" and report["file_tempo_map_agrees"] is False


def test_step_5_at_one_tick_per_quarter_reports_merged_hits(tmp_path: Path) -> None:
    song_path = tmp_path / "coarse.mid"
    awkward_notes_song(1).save(song_path)
    make_run_folder(song_path, tmp_path / "run")
    result = pipeline.step_5_write_midi(tmp_path / "run", out_dir=tmp_path / "out")
    report = result.reports[0]
    assert report.n_merged > 0 and report.n_notes + report.n_merged == report.n_hits
    assert io.read_json(result.report_path)["densities"]["+0"]["n_merged"] == report.n_merged


def test_cli_write_passes_through_and_refuses_to_overwrite(tmp_path: Path) -> None:
    song_path = tmp_path / "s.mid"
    text_and_sysex_song(480).save(song_path)
    make_run_folder(song_path, tmp_path / "run")
    out = tmp_path / "out"
    assert main(["write", str(tmp_path / "run"), "-o", str(out)]) == 0
    song, merged, alone = (
        mido.MidiFile(p) for p in (song_path, out / "s_drumgen.mid", out / "s_drumgen_drums.mid")
    )
    assert_passes_through(song, merged, alone, _drum_notes(merged.tracks[-1]))
    assert main(["write", str(tmp_path / "run"), "-o", str(out)]) == 1
    with pytest.raises(OutputExistsError):
        pipeline.step_5_write_midi(tmp_path / "run", out_dir=out)
    assert main(["write", str(tmp_path / "run"), "-o", str(out), "--force"]) == 0


def test_cli_write_keep_song_drums(tmp_path: Path) -> None:
    song_path = tmp_path / "d.mid"
    melody_on_channel_10_song(480).save(song_path)
    make_run_folder(song_path, tmp_path / "run")
    for flags, out in (([], tmp_path / "plain"), (["--keep-song-drums"], tmp_path / "kept")):
        assert main(["write", str(tmp_path / "run"), "-o", str(out), *flags]) == 0
    song = mido.MidiFile(song_path)
    plain, kept = (mido.MidiFile(tmp_path / folder / "d_drumgen.mid") for folder in ("plain", "kept"))
    assert any(midi_out.is_song_drum_event(m) for t in song.tracks for m in t), "it plays on channel 10"
    song_tracks = plain.tracks[: len(song.tracks)]
    assert not any(midi_out.is_song_drum_event(m) for t in song_tracks for m in t)
    for before, after in zip(song.tracks, kept.tracks, strict=False):
        assert list(after) == list(before)


# --- through `drumgen generate` with the small test models ----------------------------------------


@pytest.mark.slow
def test_generate_passes_awkward_songs_through(tiny_models: Path, tmp_path: Path) -> None:
    songs = tmp_path / "songs"
    songs.mkdir()
    format_0_song(960).save(songs / "zero.mid")
    text_and_sysex_song(96).save(songs / "texts.mid")
    out = tmp_path / "out"
    args = ["generate", str(songs), "-o", str(out), "--runs-dir", str(tmp_path / "runs")]
    assert main([*args, "--model", str(tiny_models), "--no-plot"]) == 0
    for stem in ("zero", "texts"):
        song = mido.MidiFile(songs / f"{stem}.mid")
        merged = mido.MidiFile(out / f"{stem}_drumgen.mid")
        alone = mido.MidiFile(out / f"{stem}_drumgen_drums.mid")
        drums = _drum_notes(merged.tracks[0] if song.type == 0 else merged.tracks[-1])
        assert drums, "the model wrote drums"
        assert_passes_through(song, merged, alone, drums)
