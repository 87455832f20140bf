"""Tests of drumgen.testing: the synthetic songs really have the structure they promise."""

from __future__ import annotations

import inspect
import itertools
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from drumgen import bars, testing
from drumgen.exceptions import ParameterError
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[1]


Notes = list[tuple[int, int, float, float]]


def _bar_content(song: pretty_midi.PrettyMIDI, bar_idx: int) -> dict[str, Notes]:
    """Notes starting in one bar, per instrument name, as (pitch, velocity, start, end) relative to the
    bar's start in seconds (rounded to the microsecond)."""
    edges = [*song.get_downbeats(), song.get_end_time()]
    start, stop = edges[bar_idx], edges[bar_idx + 1]
    content = {}
    for inst in song.instruments:
        notes = [n for n in inst.notes if start - 1e-6 <= n.start < stop - 1e-6]
        content[inst.name] = sorted(
            (n.pitch, n.velocity, round(n.start - start, 6), round(n.end - start, 6)) for n in notes
        )
    return content


def _n_bars(song: pretty_midi.PrettyMIDI) -> int:
    """Number of bars up to the end, each in its own meter (drumgen.bars); the song must end on a
    bar line."""
    bar_times = bars.bar_times(song, end_time=song.get_end_time())
    assert bar_times[-1] == pytest.approx(song.get_end_time()), "the song does not end on a bar line"
    return len(bar_times) - 1


@pytest.fixture(scope="module")
def abab() -> pretty_midi.PrettyMIDI:
    return testing.make_song("ABABCA", bars_per_section=1)


@pytest.fixture(scope="module")
def examples() -> dict[str, pretty_midi.PrettyMIDI]:
    return testing.example_songs()


def test_one_bar_per_letter_ending_on_the_last_bar_line(abab: pretty_midi.PrettyMIDI) -> None:
    np.testing.assert_allclose(abab.get_downbeats(), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0], atol=1e-6)
    assert abab.get_end_time() == pytest.approx(12.0, abs=1e-6)


def test_repeated_letters_repeat_exactly_and_different_letters_differ(abab: pretty_midi.PrettyMIDI) -> None:
    bars = [_bar_content(abab, bar_idx) for bar_idx in range(6)]
    assert set(bars[0]) == {"Piano (acoustic grand)", "Bass (fingered electric)", "Drums (GM kit)"}
    assert all(bars[0].values())
    assert bars[0] == bars[2] == bars[5]
    assert bars[1] == bars[3]
    for name in bars[0]:  # every instrument, drums included, changes between A, B and C
        assert bars[0][name] != bars[1][name]
        assert bars[0][name] != bars[4][name]
        assert bars[1][name] != bars[4][name]


def test_sections_of_several_bars_repeat_bar_for_bar() -> None:
    song = testing.make_song("ABA", bars_per_section=2, parts=("guitar", "strings"))
    bars = [_bar_content(song, bar_idx) for bar_idx in range(6)]
    assert bars[0] == bars[4] and bars[1] == bars[5]
    assert bars[0] != bars[1]  # the chord moves on inside a section


def test_different_letters_use_different_chords(abab: pretty_midi.PrettyMIDI) -> None:
    bars = [_bar_content(abab, bar_idx) for bar_idx in (0, 1)]
    piano = [{pitch % 12 for pitch, *_ in bar["Piano (acoustic grand)"]} for bar in bars]
    bass = [min(pitch for pitch, *_ in bar["Bass (fingered electric)"]) for bar in bars]
    assert piano[0] != piano[1]
    assert bass[0] % 12 != bass[1] % 12


def test_tempo_changes_at_bar_starts() -> None:
    song = testing.make_song("AABB", tempo=120.0, tempo_changes=[(2, 80.0)])
    times, qpms = song.get_tempo_changes()
    np.testing.assert_allclose(times, [0.0, 4.0], atol=1e-6)
    np.testing.assert_allclose(qpms, [120.0, 80.0], atol=1e-3)
    np.testing.assert_allclose(song.get_downbeats(), [0.0, 2.0, 4.0, 7.0], atol=1e-5)
    assert song.get_end_time() == pytest.approx(10.0, abs=1e-5)


def test_tempo_change_at_bar_zero_overrides_the_tempo() -> None:
    _, qpms = testing.make_song("AB", tempo=120.0, tempo_changes=[(0, 90.0)]).get_tempo_changes()
    np.testing.assert_allclose(qpms, [90.0], atol=1e-3)


def test_time_signature_change_makes_three_beat_bars() -> None:
    song = testing.make_song("ABAB", time_signatures=[(2, 3, 4)])
    signatures = [(ts.numerator, ts.denominator, round(ts.time, 6)) for ts in song.time_signature_changes]
    assert signatures == [(4, 4, 0.0), (3, 4, 4.0)]
    np.testing.assert_allclose(song.get_downbeats(), [0.0, 2.0, 4.0, 5.5], atol=1e-6)
    assert song.get_end_time() == pytest.approx(7.0, abs=1e-6)


def test_bar_zero_time_signature_replaces_the_default() -> None:
    song = testing.make_song("AB", time_signatures=[(0, 3, 4)])
    assert [(ts.numerator, ts.denominator) for ts in song.time_signature_changes] == [(3, 4)]
    assert song.get_end_time() == pytest.approx(3.0, abs=1e-6)


def test_every_part_sounds_in_every_bar() -> None:
    song = testing.make_song(
        "ABCDEF",
        parts=tuple(testing.PARTS),
        time_signatures=[(3, 3, 4), (4, 6, 8)],
        tempo_changes=[(2, 100.0)],
    )
    edges = [*song.get_downbeats(), song.get_end_time()]
    assert len(edges) == 7
    melodic = [inst for inst in song.instruments if not inst.is_drum]
    assert sorted(inst.program for inst in melodic) == [0, 27, 33, 48, 73]
    for inst in melodic:
        for start, stop in itertools.pairwise(edges):
            assert any(start - 1e-6 <= n.start < stop - 1e-6 for n in inst.notes), (inst.name, start)
        assert max(n.end for n in inst.notes) == pytest.approx(edges[-1], abs=1e-6)


@pytest.mark.parametrize("tempo_changes", [(), [(3, 95.0)]])
def test_drum_onsets_lie_on_the_sixteenth_grid(tempo_changes: list[tuple[int, float]]) -> None:
    song = testing.make_song("ABCDEF", bars_per_section=2, tempo_changes=tempo_changes, ticks_per_beat=96)
    drums = [inst for inst in song.instruments if inst.is_drum]
    assert len(drums) == 1 and drums[0].program == 0
    sixteenth = song.resolution // 4
    onset_ticks = np.array([song.time_to_tick(n.start) for n in drums[0].notes])
    length_ticks = np.array([song.time_to_tick(n.end) for n in drums[0].notes]) - onset_ticks
    assert np.all(onset_ticks % sixteenth == 0)
    assert np.all(length_ticks == sixteenth // 2)  # a 32nd note
    pitches = {n.pitch for n in drums[0].notes}
    assert {testing.KICK, testing.CRASH} <= pitches
    assert pitches & {testing.LOW_TOM, testing.MID_TOM, testing.HIGH_MID_TOM}  # section fills


def test_crash_on_each_section_start_only() -> None:
    song = testing.make_song("AAB", bars_per_section=2)
    drums = next(inst for inst in song.instruments if inst.is_drum)
    crashes = sorted(round(n.start, 6) for n in drums.notes if n.pitch == testing.CRASH)
    assert crashes == [0.0, 4.0, 8.0]


def test_same_arguments_give_the_same_bytes() -> None:
    arguments = {
        "tempo_changes": [(2, 100.0)],
        "time_signatures": [(3, 3, 4)],
        "seed": 5,
        "parts": ("lead", "bass", "strings"),
    }
    first = testing.make_song_bytes("ABACA", **arguments)
    assert first == testing.make_song_bytes("ABACA", **arguments)
    assert first != testing.make_song_bytes("ABACA", **{**arguments, "seed": 6})
    assert first[:4] == b"MThd"


def test_make_song_and_make_song_bytes_share_their_signature() -> None:
    assert (
        inspect.signature(testing.make_song).parameters
        == inspect.signature(testing.make_song_bytes).parameters
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"form": ""},
        {"form": "AbC"},
        {"parts": ("piano", "banjo")},
        {"parts": ("bass", "bass")},
        {"parts": (), "drums": False},
        {"tempo": 0.0},
        {"tempo_changes": [(6, 100.0)]},
        {"tempo_changes": [(1, -5.0)]},
        {"time_signatures": [(1, 7, 32)]},
        {"bars_per_section": 0},
        {"seed": -1},
        {"ticks_per_beat": 100},
        {"key": "H"},
    ],
)
def test_arguments_outside_their_domain_raise(kwargs: dict) -> None:
    kwargs = {"form": "ABC", **kwargs}
    with pytest.raises(ParameterError, match="expected"):
        testing.make_song(**kwargs)


def test_example_songs(examples: dict[str, pretty_midi.PrettyMIDI]) -> None:
    assert len(examples) >= 3
    n_tempo_changes = []
    for stem, song in examples.items():
        assert stem.startswith("example_")
        melodic = [inst for inst in song.instruments if not inst.is_drum]
        assert len(melodic) >= 3, stem
        assert sum(inst.is_drum for inst in song.instruments) == 1, stem
        assert 45.0 <= song.get_end_time() <= 90.0, stem
        assert _n_bars(song) == len(bars.bar_meters(song)) >= 24, stem
        n_tempo_changes.append(len(song.get_tempo_changes()[0]) - 1)
    assert max(n_tempo_changes) >= 1
    first_tempos = sorted(float(song.get_tempo_changes()[1][0]) for song in examples.values())
    assert first_tempos[-1] - first_tempos[0] >= 30.0  # one song at a clearly different tempo


def test_example_songs_in_other_meters(examples: dict[str, pretty_midi.PrettyMIDI]) -> None:
    meters = {
        stem: [tuple(int(x) for x in m) for m in bars.bar_meters(song)] for stem, song in examples.items()
    }
    assert set(meters["example_waltz_3_4"]) == {(3, 4)}
    assert set(meters["example_ballad_6_8"]) == {(6, 8)}
    pickup = meters["example_pickup_2_4_bar"]
    assert pickup[0] == (1, 4) and pickup[7] == (2, 4)
    assert set(pickup[1:7] + pickup[8:]) == {(4, 4)}
    assert sum(set(m) == {(4, 4)} for m in meters.values()) == 3


def test_bundled_example_files_are_up_to_date() -> None:
    for stem, data in testing.example_song_bytes().items():
        path = REPO / "input_midi" / f"{stem}.mid"
        assert path.is_file(), f"{path} missing: run scripts/make_example_songs.py"
        assert path.read_bytes() == data, f"{path} is stale: run scripts/make_example_songs.py --force"


def test_make_example_songs_refuses_to_overwrite(tmp_path: Path) -> None:
    script = load_script("make_example_songs")
    out = tmp_path / "songs"
    assert script.main(["--out", str(out)]) == 0
    written = sorted(path.name for path in out.iterdir())
    assert written == sorted(f"{stem}.mid" for stem in testing.example_song_bytes())
    (out / written[0]).write_bytes(b"mine")
    assert script.main(["--out", str(out)]) == 1
    assert (out / written[0]).read_bytes() == b"mine"
    assert script.main(["--out", str(out), "--force"]) == 0
    assert (out / written[0]).read_bytes() != b"mine"


def test_downbeat_click_song_hits_every_downbeat() -> None:
    song = testing.downbeat_click_song(6, tempo=100.0, tempo_changes=[(3, 140.0)])
    bar_starts = np.concatenate([np.arange(4) * 2.4, 7.2 + np.arange(1, 4) * 4 * 60 / 140])
    clicks = next(inst for inst in song.instruments if inst.is_drum)
    np.testing.assert_allclose(sorted(n.start for n in clicks.notes), bar_starts[:-1], atol=1e-5)
    assert {n.pitch for n in clicks.notes} == {testing.SIDE_STICK}
    piano = next(inst for inst in song.instruments if not inst.is_drum)
    np.testing.assert_allclose(sorted({n.start for n in piano.notes}), bar_starts[:-1], atol=1e-5)
    assert len(piano.notes) == 3 * 6
    assert song.get_end_time() == pytest.approx(bar_starts[-1], abs=1e-5)


def test_drum_only_and_empty_songs() -> None:
    drums_only = testing.drum_only_song(3)
    assert drums_only.instruments and all(inst.is_drum for inst in drums_only.instruments)
    assert drums_only.instruments[0].notes
    empty = testing.empty_song()
    assert [inst.is_drum for inst in empty.instruments] == [False]
    assert not any(inst.notes for inst in empty.instruments)


def test_sine_wave_known_answer() -> None:
    sr = 8000
    wave = testing.sine_wave(440.0, duration=1.0, sr=sr)
    assert wave.shape == (sr,) and wave.dtype == np.float32
    assert np.max(np.abs(wave)) == pytest.approx(0.5, abs=1e-3)
    spectrum = np.abs(np.fft.rfft(wave))
    assert np.argmax(spectrum) * sr / len(wave) == pytest.approx(440.0)
