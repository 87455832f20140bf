"""Broken and awkward MIDI files: each gets its own one-line answer, never a traceback or a hang.

The corpus is :func:`drumgen.testing.awkward_midi_files` (made in code, byte by byte). Every file
goes through the input-checking path that step 1 runs before rendering (:func:`check_song`, then
reading, splitting drums and the meter check); :data:`EXPECTED` says what each must answer.
Hypothesis then writes random files - tracks, meters, tempo maps, resolutions, overlapping and
zero-length notes - and random corruptions of them through the same path.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import hypothesis.strategies as st
import mido
import numpy as np
import pretty_midi
import pytest
from hypothesis import HealthCheck, given, settings

from drumgen import bars, midi, testing
from drumgen.cli import main
from drumgen.config import load_config
from drumgen.exceptions import DrumgenError, LimitError, MidiError, TimeSignatureError

LIMITS = load_config().limits

EXPECTED: dict[str, str | None] = {
    # file kind -> a fragment the error message must hold (None: read as a song)
    "empty": "empty (0 bytes)",
    "text": "not a readable MIDI file: it starts with",
    "random_bytes": "not a readable MIDI file: it starts with",
    "riff_wave": "not a readable MIDI file: it starts with",
    "header_cut_at_10": "truncated at byte 10",
    "header_only": "truncated at byte 14",
    "header_length_4": "header chunk declares 4 bytes",
    "header_length_8_ok": None,
    "zero_tracks": "0 tracks",
    "format_3": "MIDI format 3",
    "smpte_25fps": "SMPTE timing (25 frames per second",
    "smpte_30fps": "SMPTE timing (30 frames per second",
    "zero_resolution": "0 ticks per quarter note",
    "declares_more_tracks": "declares 5 tracks, the file ends after 4",
    "cut_in_half": "truncated at byte",
    "cut_in_chunk_header": "truncated at byte",
    "cut_last_byte": "truncated at byte",
    "track_length_too_long": "wrong length",
    "track_length_too_short": "wrong length",
    "last_track_length_too_long": "truncated at byte",
    "last_track_length_short": "ends inside an event",
    "garbage_between_tracks": "no chunk at byte",
    "unknown_chunk_first_ok": None,
    "unknown_chunk_between_ok": None,
    "unknown_chunk_after_ok": None,
    "trailing_garbage_ok": None,
    "rmid_wrapped_ok": None,
    "undefined_status_byte": "undefined status byte",
    "running_status_first": "running status",
    "data_byte_over_127": "data byte",
    "meta_runs_past_chunk": "ends inside an event",
    "sysex_runs_past_chunk": "ends inside an event",
    "bad_key_signature": "unreadable event",
    "tempo_zero": "tempo 0",
    "tempo_zero_mid_song_track_2": "track 2 sets tempo 0",
    "meter_numerator_zero": "positive numerator",
    "meter_denominator_2_to_the_100": "denominator of at most 64",
    "huge_delta_before_note": "--max-minutes",
    "huge_delta_before_end_of_track_ok": None,
    "no_end_of_track_ok": None,
    "empty_track_chunk_ok": None,
    "only_empty_tracks": "no notes",
    "no_notes": "no notes",
    "only_note_offs": "no notes",
    "unterminated_notes_only": "no notes",
    "zero_length_notes_ok": None,
    "overlapping_same_notes_ok": None,
    "drums_only": "only drum notes",
    "in_3_4_ok": None,
    "in_6_8_ok": None,
    "in_1_16": "bar 1 (at 0.00 s) is in 1/16: 0.25 quarter notes long, shorter than one beat",
    "in_3_32": "is in 3/32: 0.375 quarter notes long, not a whole number of sixteenth notes",
    "9_4_from_bar_2": "bar 2 (at 2.00 s) is in 9/4: 9 quarter notes long, longer than drumgen's longest bar",
    "3_4_from_bar_3_ok": None,
    "3_4_in_mid_bar": "bar 2 (at 2.00 s) is cut short",
    "2_2_in_mid_bar": "bar 3 (at 4.00 s) is cut short",
    "4_4_repeated_in_mid_bar_ok": None,
    "no_time_signature_ok": None,
    "no_tempo_ok": None,
    "tempo_on_second_track_ok": None,
    "format_0_ok": None,
    "format_2_ok": None,
    "resolution_1_ok": None,
    "resolution_32767_long_ok": None,
    "lyrics_and_markers_ok": None,
    "melody_on_channel_10_only": "only drum notes",
    "too_many_tracks": "--max-tracks",
    "too_large_file": "--max-file-mb",
    "1100_bars_fast": "1100 bars, beyond the limit of 1000 bars; raise it with --max-bars",
    "10000_bars": "333.3 minutes long",
    "2_hour_gap": "120.0 minutes of it a silence (from 8.0 s to 7208.0 s)",
    "2_hour_intro_silence": "a silence (from 0.0 s",
    "ok": None,
}


def answer(path: Path) -> pretty_midi.PrettyMIDI:
    """What step 1 does with a file before it renders anything; the song if it is usable."""
    midi.check_song(path, limits=LIMITS)
    song = midi.ensure_time_signature(midi.read_midi(path))
    midi.split_drums(song, name=str(path))
    midi.check_meter(song, name=str(path))
    return song


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("awkward")
    for name, data in testing.awkward_midi_files().items():
        (folder / f"{name}.mid").write_bytes(data)
    return folder


def test_the_corpus_has_50_files_each_with_a_documented_answer() -> None:
    names = set(testing.awkward_midi_files())
    assert names == set(EXPECTED)
    assert len(names) >= 50
    assert all(name.endswith("ok") == (EXPECTED[name] is None) for name in names)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_file_gets_its_documented_answer(corpus: Path, name: str) -> None:
    path = corpus / f"{name}.mid"
    started = time.perf_counter()
    expected = EXPECTED[name]
    if expected is None:
        song = answer(path)
        assert bars.bar_times(song)[-1] >= midi.song_end_time(song) - 1e-9
    else:
        with pytest.raises(DrumgenError) as info:
            answer(path)
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith(f"{path}: ")
        assert expected in message, message
    assert time.perf_counter() - started < 10.0


def test_limit_errors_are_limit_errors_and_meter_errors_meter_errors(corpus: Path) -> None:
    for name, kind in (
        ("10000_bars", LimitError),
        ("2_hour_gap", LimitError),
        ("too_many_tracks", LimitError),
        ("in_1_16", TimeSignatureError),
        ("9_4_from_bar_2", TimeSignatureError),
        ("3_4_in_mid_bar", TimeSignatureError),
        ("smpte_25fps", MidiError),
        ("tempo_zero", MidiError),
    ):
        with pytest.raises(kind):
            answer(corpus / f"{name}.mid")


def test_unknown_chunks_are_skipped_and_change_nothing(corpus: Path) -> None:
    plain = midi.read_midi(corpus / "ok.mid")
    for name in (
        "unknown_chunk_first_ok",
        "unknown_chunk_between_ok",
        "unknown_chunk_after_ok",
        "rmid_wrapped_ok",
    ):
        song = midi.read_midi(corpus / f"{name}.mid")
        assert [[(n.pitch, n.start, n.end) for n in i.notes] for i in song.instruments] == [
            [(n.pitch, n.start, n.end) for n in i.notes] for i in plain.instruments
        ]


def test_a_song_past_pretty_midis_tick_limit_keeps_its_times(corpus: Path) -> None:
    # 90 bars at 32,767 ticks per quarter note: 11.8 million ticks
    song = midi.read_midi(corpus / "resolution_32767_long_ok.mid")
    assert song.resolution < 32767
    np.testing.assert_allclose(bars.bar_times(song), np.arange(91) * 2.0, atol=1e-3)
    assert midi.song_end_time(song) == pytest.approx(180.0, abs=1e-3)


def test_a_repeated_meter_inside_a_bar_is_no_new_bar(corpus: Path) -> None:
    song = midi.ensure_time_signature(midi.read_midi(corpus / "4_4_repeated_in_mid_bar_ok.mid"))
    np.testing.assert_allclose(bars.bar_times(song), [0, 2, 4, 6, 8], atol=1e-9)


def test_the_cli_batch_answers_every_file_in_one_line(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name, expected in EXPECTED.items():
        if expected is not None:
            (bad / f"{name}.mid").write_bytes((corpus / f"{name}.mid").read_bytes())
    status = main(["preprocess", str(bad), "--runs-dir", str(tmp_path / "runs"), "--preset", "smoke"])
    assert status == 1
    err = capsys.readouterr().err
    # progress bars end with \r, so a line may hold the bar, then the message
    skipped = ["drumgen: skipped " + line for line in re.findall(r"drumgen: skipped (.*)", err)]
    assert len(skipped) == sum(expected is not None for expected in EXPECTED.values())
    for name, expected in EXPECTED.items():
        if expected is not None:
            (line,) = [m for m in skipped if m.startswith(f"drumgen: skipped {bad / name}.mid: ")]
            assert expected in line and "unexpected" not in line
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing was rendered


# --- property and fuzz tests --------------------------------------------------------------------

METERS = ((4, 4), (2, 2), (8, 8), (3, 4), (6, 8), (5, 4), (2, 4), (12, 8), (7, 8), (1, 4), (1, 8))


@st.composite
def midi_files(
    draw: st.DrawFn, *, max_bars: int = 6, formats: tuple[int, ...] = (0, 1, 1, 2)
) -> tuple[bytes, int]:
    """A random standard MIDI file and the number of note-ons it holds."""
    resolution = draw(st.sampled_from((1, 3, 24, 96, 120, 480, 960)) | st.integers(1, 4000))
    midi_format = draw(st.sampled_from(formats))
    n_bars = draw(st.integers(1, max_bars))
    span = n_bars * 4 * resolution
    ticks = st.integers(0, span)
    conductor: list[tuple[int, bytes]] = []
    for tick, bpm in draw(st.lists(st.tuples(ticks, st.floats(20.0, 400.0)), max_size=3)):
        conductor.append(testing.tempo_event(tick, bpm=bpm))
    on_bar_lines = st.integers(0, n_bars - 1).map(lambda bar: bar * 4 * resolution)
    for tick, (numerator, denominator) in draw(
        st.lists(st.tuples(on_bar_lines | ticks, st.sampled_from(METERS)), max_size=2)
    ):
        conductor.append(testing.meter_event(tick, numerator, denominator))
    tracks: list[list[tuple[int, bytes]]] = []
    n_note_ons = 0
    for _ in range(draw(st.integers(1, 4))):
        channel = draw(st.integers(0, 15))
        events: list[tuple[int, bytes]] = [(0, bytes([0xC0 | channel, draw(st.integers(0, 127))]))]
        notes = draw(
            st.lists(
                st.tuples(
                    st.integers(0, 127), ticks, st.integers(0, 2 * 4 * resolution), st.integers(1, 127)
                ),
                max_size=12,
            )
        )
        for pitch, start, length, velocity in notes:  # overlapping and zero-length ones too
            events.append((start, bytes([0x90 | channel, pitch, velocity])))
            if draw(st.integers(0, 9)):  # one in ten never ends
                events.append((start + length, bytes([0x80 | channel, pitch, 0])))
        n_note_ons += len(notes)
        tracks.append(events)
    home = draw(st.integers(0, len(tracks)))  # conductor events on a track of their own, or in another
    if home == len(tracks):
        tracks.insert(0, conductor)
    else:
        tracks[home] = tracks[home] + conductor
    if midi_format == 0:
        tracks = [[event for track in tracks for event in track]]
    payloads = [testing.smf_track(track) for track in tracks]
    return testing.smf_bytes(payloads, midi_format=midi_format, division=resolution), n_note_ons


def _check_answer(path: Path) -> pretty_midi.PrettyMIDI | None:
    """Run the input path; an error must be drumgen's, in one line naming the file."""
    started = time.perf_counter()
    try:
        song = answer(path)
    except DrumgenError as error:
        assert "\n" not in str(error) and str(path) in str(error)
        song = None
    assert time.perf_counter() - started < 10.0
    return song


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(song=midi_files())
def test_random_songs_are_read_or_refused_in_one_line(tmp_path: Path, song: tuple[bytes, int]) -> None:
    data, n_note_ons = song
    path = tmp_path / "random.mid"
    path.write_bytes(data)
    stats = midi.song_stats(midi.read_midi_file(path))
    assert stats.n_notes == n_note_ons
    read = _check_answer(path)
    if read is not None:
        # a usable song's grid: every bar as long as its meter, with its own steps, covering every note
        ticks = bars.bar_ticks(read)
        bar_steps = bars.meters_to_steps(bars.bar_meters(read))
        np.testing.assert_allclose(np.diff(ticks), bar_steps * read.resolution / 4, rtol=1e-12)
        assert bars.steps_in_bars(bars.step_times(read)).sum(axis=1).tolist() == bar_steps.tolist()
        assert bars.bar_times(read)[-1] >= midi.song_end_time(read) - 1e-6
        assert stats.duration == pytest.approx(midi.song_end_time(read), abs=1e-6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    song=midi_files(max_bars=3),
    cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
    truncate=st.none() | st.integers(0, 10**6),
)
def test_corrupted_songs_are_read_or_refused_in_one_line(
    tmp_path: Path, song: tuple[bytes, int], cuts: list[tuple[int, int]], truncate: int | None
) -> None:
    data = bytearray(song[0])
    for position, value in cuts:  # overwrite random bytes, header and chunk lengths included
        data[position % len(data)] = value
    if truncate is not None:
        data = data[: truncate % (len(data) + 1)]
    path = tmp_path / "corrupt.mid"
    path.write_bytes(bytes(data))
    _check_answer(path)


def _events(song: mido.MidiFile) -> Counter:
    """Every event of a file but its drums (channel 10) and track ends: (absolute tick, bytes)."""
    found: Counter = Counter()
    for track in song.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "end_of_track" or getattr(message, "channel", None) == testing.DRUM_CHANNEL:
                continue
            found[(tick, bytes(message.bytes()))] += 1
    return found


@pytest.mark.slow
def test_random_songs_through_generate(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> None:
    """A few random songs through steps 1-5 with the tiny test models: a one-line drumgen error,
    or the song's own events at their ticks in the output and drums inside its bars."""
    from drumgen import pipeline
    from drumgen.model.bundle import load_models
    from drumgen.synth import Renderer

    models = load_models(tiny_models)
    config = models.config
    outcomes: list[str] = []
    with Renderer.from_config(config.render) as renderer:

        @settings(max_examples=8, deadline=None, database=None, derandomize=True)
        @given(song=midi_files(max_bars=4))
        def through_generate(song: tuple[bytes, int]) -> None:
            folder = tmp_path_factory.mktemp("generate")
            path = _write_song(folder, song[0])
            try:
                result = pipeline.generate_song(
                    path,
                    out_dir=folder / "out",
                    run_dir=folder / "run",
                    config=config,
                    models=models,
                    renderer=renderer,
                )
            except DrumgenError as error:
                assert "\n" not in str(error) and str(path) in str(error)
                outcomes.append(type(error).__name__)
                return
            full, drums_only = result.step_5.files[0]
            assert not _events(midi.read_midi_file(path)) - _events(midi.read_midi_file(full))
            song_end = float(result.analysis.step_1.bar_times[-1])
            for output in (full, drums_only):
                drums = [n for i in midi.read_midi(output).instruments if i.is_drum for n in i.notes]
                assert all(0.0 <= note.start < song_end + 1e-6 for note in drums)
            outcomes.append("generated")

        through_generate()
    assert "generated" in outcomes, outcomes  # the examples reach step 5, not only refusals


def _write_song(folder: Path, data: bytes) -> Path:
    path = folder / "song.mid"
    path.write_bytes(data)
    return path


@pytest.mark.slow
def test_format_2_with_a_tempo_change_through_step_5(tmp_path: Path) -> None:
    """Found by :func:`test_random_songs_through_generate`: midi_out wrote a negative delta time."""
    import pretty_midi

    from drumgen import midi_out

    track = testing.smf_track([*testing.note_events([(60, 0, 480, 80)]), testing.tempo_event(480, bpm=20.0)])
    path = _write_song(tmp_path, testing.smf_bytes([track], midi_format=2))
    drums = [pretty_midi.Note(100, 36, 0.0, 0.1), pretty_midi.Note(100, 38, 1.5, 1.6)]
    midi_out.write_song_with_drums(path, drums, full_path=tmp_path / "a.mid", drums_path=tmp_path / "b.mid")
