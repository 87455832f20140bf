"""Reading MIDI, splitting drums from the rest, and the meter policy (drumgen.midi)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pretty_midi
import pytest

from drumgen.exceptions import DrumgenError, MidiError, TimeSignatureError
from drumgen.midi import check_meter, ensure_time_signature, read_midi, song_end_time, split_drums


def _assert_one_line_naming(error: BaseException, path: Path) -> None:
    message = str(error)
    assert "\n" not in message
    assert str(path) in message


# --- read_midi ----------------------------------------------------------------------------------


def test_read_midi_reads_a_file(tmp_path: Path, midi_kit: SimpleNamespace) -> None:
    path = tmp_path / "song.mid"
    path.write_bytes(midi_kit.to_bytes(midi_kit.spec(4)))
    song = read_midi(path)
    assert isinstance(song, pretty_midi.PrettyMIDI)
    assert [inst.is_drum for inst in song.instruments] == [False, False, True]
    assert song_end_time(song) == pytest.approx(8.0)


def test_read_midi_accepts_str_path(tmp_path: Path, midi_kit: SimpleNamespace) -> None:
    path = tmp_path / "song.mid"
    path.write_bytes(midi_kit.to_bytes(midi_kit.spec(2)))
    assert len(read_midi(str(path)).instruments) == 3


def test_read_midi_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.mid"
    with pytest.raises(MidiError) as info:
        read_midi(path)
    _assert_one_line_naming(info.value, path)


def test_read_midi_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(MidiError):
        read_midi(tmp_path)


def test_read_midi_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mid"
    path.write_bytes(b"")
    with pytest.raises(MidiError) as info:
        read_midi(path)
    _assert_one_line_naming(info.value, path)
    assert "empty" in str(info.value)


def test_read_midi_random_bytes(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "noise.mid"
    path.write_bytes(rng.integers(0, 256, size=2000, dtype=np.uint8).tobytes())
    with pytest.raises(MidiError) as info:
        read_midi(path)
    _assert_one_line_naming(info.value, path)


def test_read_midi_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.mid"
    path.write_text("this is not MIDI\nsecond line\nthird line\n")
    with pytest.raises(MidiError) as info:
        read_midi(path)
    _assert_one_line_naming(info.value, path)


def test_read_midi_truncated_file(tmp_path: Path, midi_kit: SimpleNamespace) -> None:
    data = midi_kit.to_bytes(midi_kit.spec(4))
    path = tmp_path / "cut.mid"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MidiError) as info:
        read_midi(path)
    _assert_one_line_naming(info.value, path)


def test_midi_error_is_a_drumgen_error(tmp_path: Path) -> None:
    with pytest.raises(DrumgenError):
        read_midi(tmp_path / "x.mid")


# --- split_drums --------------------------------------------------------------------------------


def test_split_no_notes_raises() -> None:
    song = pretty_midi.PrettyMIDI()
    song.instruments.append(pretty_midi.Instrument(program=0))  # an instrument without notes
    with pytest.raises(MidiError, match="no notes"):
        split_drums(song, name="empty.mid")


def test_split_drums_only_raises(make_song) -> None:
    song = make_song(4, melody=False, drums=True)
    with pytest.raises(MidiError) as info:
        split_drums(song, name="drums.mid")
    assert "drums.mid" in str(info.value)
    assert "\n" not in str(info.value)


def test_split_separates_parts(make_song) -> None:
    song = make_song(4, tempo_changes=[(2, 90.0)])
    split = split_drums(song)
    assert split.drums is not None
    assert split.melody.instruments and all(not inst.is_drum for inst in split.melody.instruments)
    assert split.drums.instruments and all(inst.is_drum for inst in split.drums.instruments)
    n_melodic = sum(len(i.notes) for i in song.instruments if not i.is_drum)
    n_drum = sum(len(i.notes) for i in song.instruments if i.is_drum)
    assert sum(len(i.notes) for i in split.melody.instruments) == n_melodic
    assert sum(len(i.notes) for i in split.drums.instruments) == n_drum


def test_split_keeps_tempo_map_and_meter(make_song) -> None:
    song = make_song(6, tempo_changes=[(2, 90.0), (4, 150.0)], meters=[(3, 2, 2)])
    split = split_drums(song)
    times, tempos = song.get_tempo_changes()
    for part in (split.melody, split.drums):
        assert part is not None
        part_times, part_tempos = part.get_tempo_changes()
        np.testing.assert_allclose(part_times, times)
        np.testing.assert_allclose(part_tempos, tempos)
        assert [(ts.numerator, ts.denominator, ts.time) for ts in part.time_signature_changes] == [
            (ts.numerator, ts.denominator, ts.time) for ts in song.time_signature_changes
        ]
        assert part.resolution == song.resolution
        np.testing.assert_allclose(part.get_downbeats(), song.get_downbeats())


def test_split_does_not_modify_input(make_song) -> None:
    song = make_song(4)
    before = [(inst.is_drum, [(n.pitch, n.start, n.end) for n in inst.notes]) for inst in song.instruments]
    split = split_drums(song)
    split.melody.instruments[0].notes[0].pitch = 1  # editing the parts leaves the song alone
    after = [(inst.is_drum, [(n.pitch, n.start, n.end) for n in inst.notes]) for inst in song.instruments]
    assert after == before


def test_split_without_drums_gives_none(make_song) -> None:
    split = split_drums(make_song(2, drums=False))
    assert split.drums is None
    assert len(split.melody.instruments) == 2


def test_split_ignores_empty_instruments(make_song) -> None:
    song = make_song(2)
    song.instruments.append(pretty_midi.Instrument(program=5))
    song.instruments.append(pretty_midi.Instrument(program=0, is_drum=True))
    split = split_drums(song)
    assert all(inst.notes for inst in split.melody.instruments)
    assert split.drums is not None and all(inst.notes for inst in split.drums.instruments)


# --- meter policy -------------------------------------------------------------------------------


def test_check_meter_accepts_4_4(make_song) -> None:
    check_meter(make_song(4))


def test_check_meter_accepts_2_2_and_8_8(make_song) -> None:
    check_meter(make_song(6, meters=[(2, 2, 2), (4, 8, 8)]))


def test_check_meter_accepts_every_meter_drumgen_drums(make_song) -> None:
    # 3/4, 2/4, 6/8, 5/4, 7/8, 12/8 and a 1/4 bar, each starting on a bar line
    check_meter(
        make_song(8, meters=[(0, 1, 4), (1, 3, 4), (2, 2, 4), (3, 6, 8), (4, 5, 4), (5, 7, 8), (6, 12, 8)])
    )


def test_check_meter_names_the_bar_too_short_to_drum(make_song) -> None:
    song = make_song(6, meters=[(2, 1, 8)])  # bars 0, 1 in 4/4, bar 2 (the third) in 1/8
    with pytest.raises(TimeSignatureError) as info:
        check_meter(song, name="broken.mid")
    message = str(info.value)
    assert message.startswith("broken.mid: bar 3 (at 4.00 s) is in 1/8: 0.5 quarter notes long")
    assert "shorter than one beat" in message
    assert "\n" not in message


def test_check_meter_too_long_from_the_start_is_bar_1(make_song) -> None:
    song = make_song(2, meters=[(0, 9, 4)])
    with pytest.raises(TimeSignatureError, match=r"bar 1 .*9/4: 9 quarter notes long, longer than"):
        check_meter(song)


def test_check_meter_uses_given_downbeats(make_song) -> None:
    song = make_song(6, meters=[(4, 1, 16)])
    with pytest.raises(TimeSignatureError, match=r"bar 5 .*1/16"):
        check_meter(song, downbeat_times=list(song.get_downbeats()))


def test_time_signature_error_is_a_midi_error() -> None:
    assert issubclass(TimeSignatureError, MidiError)


def test_check_meter_ignores_a_change_after_the_last_note(midi_kit: SimpleNamespace) -> None:
    spec = midi_kit.spec(2)
    end_tick = midi_kit.bar_ticks(2)[-1]
    spec = midi_kit.SongSpec(
        tracks=spec.tracks, tempos=spec.tempos, time_signatures=[(0, 4, 4), (end_tick, 3, 4)]
    )
    check_meter(midi_kit.to_song(spec))


def test_ensure_time_signature_adds_4_4(make_song) -> None:
    song = make_song(2, meters=None)
    assert song.time_signature_changes == []
    fixed = ensure_time_signature(song)
    assert [(ts.numerator, ts.denominator, ts.time) for ts in fixed.time_signature_changes] == [(4, 4, 0.0)]
    assert song.time_signature_changes == []  # input untouched
    check_meter(fixed)


def test_ensure_time_signature_keeps_a_song_with_one() -> None:
    song = pretty_midi.PrettyMIDI()
    song.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0.0))
    assert ensure_time_signature(song) is song


def test_ensure_time_signature_prepends_before_a_late_one() -> None:
    song = pretty_midi.PrettyMIDI()
    song.time_signature_changes.append(pretty_midi.TimeSignature(2, 2, 4.0))
    fixed = ensure_time_signature(song)
    assert [(ts.numerator, ts.denominator, ts.time) for ts in fixed.time_signature_changes] == [
        (4, 4, 0.0),
        (2, 2, 4.0),
    ]


def test_song_end_time() -> None:
    song = pretty_midi.PrettyMIDI()
    assert song_end_time(song) == 0.0
    inst = pretty_midi.Instrument(program=0)
    inst.notes += [pretty_midi.Note(90, 60, 0.0, 1.5), pretty_midi.Note(90, 62, 0.5, 3.25)]
    song.instruments.append(inst)
    assert song_end_time(song) == pytest.approx(3.25)
