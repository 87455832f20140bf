"""Bar and step times from the tempo map, and the time converters (drumgen.bars)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pretty_midi

from drumgen.bars import (
    N_STEPS,
    TempoMap,
    bar_tempos,
    bar_ticks,
    bar_times,
    frames_to_times,
    step_times,
    times_to_frames,
)


def test_constant_tempo_bar_times(make_song) -> None:
    song = make_song(8, bpm=120.0)
    times = bar_times(song)
    assert times.shape == (9,)
    np.testing.assert_allclose(times, np.arange(0.0, 17.0, 2.0), atol=1e-9)


def test_constant_tempo_matches_pretty_midi_downbeats(make_song) -> None:
    song = make_song(8, bpm=97.0)
    np.testing.assert_allclose(bar_times(song)[:-1], song.get_downbeats()[:8], atol=1e-9)


def test_bar_ticks_are_whole_bars(make_song, midi_kit: SimpleNamespace) -> None:
    ticks = bar_ticks(make_song(5))
    np.testing.assert_array_equal(ticks, np.arange(6) * 4 * midi_kit.RESOLUTION)


def test_tempo_change_on_a_bar_line(make_song) -> None:
    song = make_song(6, bpm=120.0, tempo_changes=[(2, 60.0)])
    times = bar_times(song)
    np.testing.assert_allclose(np.diff(times), [2, 2, 4, 4, 4, 4], atol=1e-9)
    np.testing.assert_allclose(times, [0, 2, 4, 8, 12, 16, 20], atol=1e-9)


def test_bar_tempos(make_song) -> None:
    song = make_song(6, bpm=120.0, tempo_changes=[(2, 60.0), (4, 150.0)])
    times = bar_times(song)
    np.testing.assert_allclose(bar_tempos(song, times), [120, 120, 60, 60, 150, 150], rtol=1e-9)


def test_meter_change_gives_shorter_bars(make_song) -> None:
    song = make_song(4, bpm=120.0, meters=[(2, 3, 4)])
    np.testing.assert_allclose(np.diff(bar_times(song)), [2.0, 2.0, 1.5, 1.5], atol=1e-9)


def test_song_without_time_signature_is_4_4(make_song) -> None:
    song = make_song(3, meters=None)
    np.testing.assert_allclose(bar_times(song), [0, 2, 4, 6], atol=1e-9)


def test_song_without_notes_gets_one_bar() -> None:
    song = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    np.testing.assert_allclose(bar_times(song), [0.0, 2.0])
    assert step_times(song).shape == (1, N_STEPS + 1)


def test_last_bar_covers_a_note_that_ends_mid_bar() -> None:
    song = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    inst = pretty_midi.Instrument(program=0)
    inst.notes.append(pretty_midi.Note(90, 60, 0.0, 4.5))  # ends in the third bar
    song.instruments.append(inst)
    np.testing.assert_allclose(bar_times(song), [0, 2, 4, 6], atol=1e-9)


def test_end_time_argument(make_song) -> None:
    song = make_song(4)
    np.testing.assert_allclose(bar_times(song, end_time=4.0), [0, 2, 4], atol=1e-9)


def test_step_times_shape_and_continuity(make_song) -> None:
    song = make_song(5, tempo_changes=[(2, 75.0)])
    steps = step_times(song)
    assert steps.shape == (5, N_STEPS + 1)
    np.testing.assert_allclose(steps[:-1, -1], steps[1:, 0], atol=1e-12)
    np.testing.assert_allclose(steps[:, 0], bar_times(song)[:-1], atol=1e-12)
    np.testing.assert_allclose(steps[-1, -1], bar_times(song)[-1], atol=1e-12)
    assert np.all(np.diff(steps, axis=1) > 0)


def test_step_times_constant_tempo_are_sixteenths(make_song) -> None:
    steps = step_times(make_song(2, bpm=120.0))
    np.testing.assert_allclose(np.diff(steps, axis=1), 0.125, atol=1e-12)  # 16th at 120 bpm


def test_a_3_4_bar_has_12_steps_and_4_of_padding(make_song) -> None:
    steps = step_times(make_song(2, bpm=120.0, meters=[(1, 3, 4)]))
    assert steps.shape == (2, N_STEPS + 1)
    np.testing.assert_allclose(steps[1, :13], 2.0 + np.arange(13) * 0.125, atol=1e-12)
    np.testing.assert_allclose(steps[1, 12:], 3.5, atol=1e-12)  # padding at the bar's end


def test_tempo_change_mid_bar_moves_later_steps(midi_kit: SimpleNamespace) -> None:
    res = midi_kit.RESOLUTION
    spec = midi_kit.spec(3, bpm=120.0)
    # 120 -> 60 bpm halfway through bar 1 (its third beat)
    spec = midi_kit.SongSpec(
        tracks=spec.tracks,
        tempos=[(0, 120.0), (4 * res + 2 * res, 60.0)],
        time_signatures=spec.time_signatures,
    )
    song = midi_kit.to_song(spec)
    steps = step_times(song)
    assert steps.shape == (3, N_STEPS + 1)
    flat = np.concatenate([steps[:, :-1].ravel(), steps[-1:, -1]])
    assert np.all(np.diff(flat) > 0)
    spacing = np.diff(steps[1])
    np.testing.assert_allclose(spacing[:8], 0.125, atol=1e-9)  # first half at 120 bpm
    np.testing.assert_allclose(spacing[8:], 0.25, atol=1e-9)  # second half at 60 bpm
    np.testing.assert_allclose(bar_times(song), [0.0, 2.0, 5.0, 9.0], atol=1e-9)
    np.testing.assert_allclose(bar_tempos(song, bar_times(song)), [120, 120, 60])


def test_tempo_map_defaults_to_120() -> None:
    song = pretty_midi.PrettyMIDI(resolution=100)
    tempo = TempoMap.from_song(song)
    np.testing.assert_allclose(tempo.qpm_at(np.array([0.0, 10.0])), 120.0)
    assert tempo.resolution == 100


def test_tempo_map_known_values(make_song, midi_kit: SimpleNamespace) -> None:
    res = midi_kit.RESOLUTION
    tempo = TempoMap.from_song(make_song(4, bpm=120.0, tempo_changes=[(2, 60.0)]))
    ticks = np.array([0, res, 8 * res, 9 * res])
    np.testing.assert_allclose(tempo.ticks_to_times(ticks), [0.0, 0.5, 4.0, 5.0], atol=1e-12)
    np.testing.assert_allclose(tempo.times_to_ticks([0.0, 0.5, 4.0, 5.0]), ticks, atol=1e-9)


def test_tempo_map_round_trip(make_song, rng: np.random.Generator) -> None:
    song = make_song(12, bpm=133.0, tempo_changes=[(3, 71.0), (5, 200.0), (9, 88.5)])
    tempo = TempoMap.from_song(song)
    end_tick = 12 * 4 * tempo.resolution
    ticks = rng.uniform(0, end_tick, size=500)
    np.testing.assert_allclose(tempo.times_to_ticks(tempo.ticks_to_times(ticks)), ticks, atol=1e-6)
    times = rng.uniform(0, float(tempo.ticks_to_times(end_tick)), size=500)
    np.testing.assert_allclose(tempo.ticks_to_times(tempo.times_to_ticks(times)), times, atol=1e-9)


def test_tempo_map_agrees_with_pretty_midi(make_song, rng: np.random.Generator) -> None:
    song = make_song(8, bpm=110.0, tempo_changes=[(2, 70.0), (6, 180.0)])
    tempo = TempoMap.from_song(song)
    ticks = rng.integers(0, 8 * 4 * tempo.resolution, size=200)
    expected = np.array([song.tick_to_time(int(t)) for t in ticks])
    np.testing.assert_allclose(tempo.ticks_to_times(ticks), expected, atol=1e-9)


def test_ticks_to_times_monotonic(make_song) -> None:
    tempo = TempoMap.from_song(make_song(6, tempo_changes=[(1, 40.0), (4, 240.0)]))
    times = tempo.ticks_to_times(np.linspace(0, 6 * 4 * tempo.resolution, 1000))
    assert np.all(np.diff(times) > 0)


def test_times_frames_known_values() -> None:
    frames = times_to_frames(np.array([0.0, 1.0, 0.5]), sr=22050, hop_length=128)
    assert frames.dtype.kind == "i"
    np.testing.assert_array_equal(frames, [0, round(22050 / 128), round(0.5 * 22050 / 128)])
    np.testing.assert_allclose(frames_to_times(np.array([0, 10]), sr=1000, hop_length=10), [0.0, 0.1])


def test_frames_to_times_to_frames_round_trip(rng: np.random.Generator) -> None:
    frames = rng.integers(0, 100_000, size=1000)
    for sr, hop in ((44100, 256), (22050, 128), (16000, 160)):
        times = frames_to_times(frames, sr=sr, hop_length=hop)
        np.testing.assert_array_equal(times_to_frames(times, sr=sr, hop_length=hop), frames)


def test_times_to_frames_is_nearest(rng: np.random.Generator) -> None:
    sr, hop = 44100, 256
    times = rng.uniform(0, 100, size=1000)
    frames = times_to_frames(times, sr=sr, hop_length=hop)
    error = np.abs(frames_to_times(frames, sr=sr, hop_length=hop) - times)
    assert np.all(error <= hop / sr / 2 + 1e-12)


def test_times_to_frames_scalar() -> None:
    assert int(times_to_frames(2.0, sr=1000, hop_length=10)) == 200
