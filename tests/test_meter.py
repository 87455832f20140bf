"""Every bar in its own meter (drumgen.meter, the meter policy of drumgen.midi, the step canvas of
drumgen.bars), and songs in 2/4, 3/4, 5/4, 6/8, 7/8, 12/8, with a pickup, one 2/4 bar and a meter
change drummed through ``drumgen generate``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from drumgen import analysis, bars, feel, kit, meter, midi, pipeline, testing
from drumgen.cli import main
from drumgen.exceptions import TimeSignatureError
from drumgen.meter import SongMeter, beat_grouping, fit_grid, to_model_steps
from drumgen.representation import pitch_to_row

KICK, SNARE, HAT, CRASH, TOM = (pitch_to_row(p) for p in (36, 38, 42, 49, 45))


# --- steps and beats ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "steps", "beats"),
    [
        (4, 4, 16, (4, 4, 4, 4)),
        (2, 4, 8, (4, 4)),
        (3, 4, 12, (4, 4, 4)),
        (5, 4, 20, (4, 4, 4, 4, 4)),
        (1, 4, 4, (4,)),
        (2, 2, 16, (8, 8)),
        (3, 8, 6, (6,)),
        (6, 8, 12, (6, 6)),
        (9, 8, 18, (6, 6, 6)),
        (12, 8, 24, (6, 6, 6, 6)),
        (5, 8, 10, (4, 6)),
        (7, 8, 14, (4, 4, 6)),
        (7, 16, 7, (4, 3)),
        (8, 4, 32, (4,) * 8),
    ],
)
def test_steps_and_beat_grouping(
    numerator: int, denominator: int, steps: int, beats: tuple[int, ...]
) -> None:
    assert midi.bar_steps_of(numerator, denominator) == steps
    assert midi.meter_problem(numerator, denominator) is None
    assert beat_grouping(numerator, denominator) == beats
    assert sum(beats) == steps
    assert meter.is_compound(numerator, denominator) == (denominator == 8 and numerator % 3 == 0)


@pytest.mark.parametrize(
    ("numerator", "denominator", "fragment"),
    [
        (1, 8, "shorter than one beat"),
        (1, 16, "shorter than one beat"),
        (3, 32, "not a whole number of sixteenth notes"),
        (9, 4, "longer than drumgen's longest bar of 8"),
        (18, 8, "longer than"),
    ],
)
def test_meters_no_one_can_drum_are_named(numerator: int, denominator: int, fragment: str) -> None:
    problem = midi.meter_problem(numerator, denominator)
    assert problem is not None and fragment in problem


def test_song_meter_records_steps_beats_and_canvas() -> None:
    song_meter = SongMeter.from_meters([(4, 4), (7, 8), (6, 8), (12, 8)])
    assert song_meter.bar_steps.tolist() == [16, 14, 12, 24]
    assert song_meter.n_steps == 24 and not song_meter.is_common_time
    assert song_meter.compound.tolist() == [False, False, True, True]
    starts = song_meter.beat_starts()
    assert starts.shape == (4, 24)
    assert [np.flatnonzero(row).tolist() for row in starts] == [
        [0, 4, 8, 12],
        [0, 4, 8],
        [0, 6],
        [0, 6, 12, 18],
    ]
    assert song_meter.step_mask().sum(axis=1).tolist() == [16, 14, 12, 24]
    assert song_meter.first_uncommon_bar() == 1
    arrays = song_meter.to_arrays()
    assert set(arrays) == {"bar_meters", "bar_steps", "beat_starts"}
    common = SongMeter.common_time(3)
    assert common.is_common_time and common.n_steps == 16 and common.first_uncommon_bar() is None


# --- the step canvas of drumgen.bars ------------------------------------------------------------


def test_step_times_give_each_bar_its_own_steps_on_a_shared_canvas() -> None:
    song = testing.make_song(
        "AB", bars_per_section=3, tempo=120.0, time_signatures=[(1, 3, 4), (2, 12, 8), (3, 4, 4)]
    )
    meters = bars.bar_meters(song)
    assert meters.tolist() == [[4, 4], [3, 4], [12, 8], [4, 4], [4, 4], [4, 4]]
    steps = bars.step_times(song)
    assert steps.shape == (6, 25)  # the 12/8 bar's 24 steps set the canvas
    own = bars.steps_in_bars(steps)
    assert own.sum(axis=1).tolist() == [16, 12, 24, 16, 16, 16]
    gaps = np.diff(steps, axis=1)
    np.testing.assert_allclose(gaps[own], 0.125, atol=1e-9)  # sixteenths at 120 bpm
    assert np.all(gaps[~own] == 0)  # padding: zero long, at the bar's end
    np.testing.assert_allclose(steps[:, -1], bars.bar_times(song)[1:], atol=1e-9)
    np.testing.assert_allclose(steps[:-1, -1], steps[1:, 0], atol=1e-12)


def test_a_4_4_song_keeps_its_16_step_grid(make_song) -> None:
    song = make_song(3, bpm=100.0)
    steps = bars.step_times(song)
    assert steps.shape == (3, 17)
    ticks = bars.bar_ticks(song)  # the grid before bars had meters of their own, bit for bit
    before = ticks[:-1, None] + np.linspace(0.0, 1.0, 17)[None, :] * np.diff(ticks)[:, None]
    np.testing.assert_array_equal(steps, bars.TempoMap.from_song(song).ticks_to_times(before))


def test_onsets_are_never_quantised_to_padding() -> None:
    song = testing.make_song("AB", tempo=120.0, time_signatures=[(0, 3, 4), (1, 4, 4)])
    steps = bars.step_times(song)  # bar 0: 12 steps of 0.125 s, ends at 1.5 s
    bar_idx, step_idx, inside = bars.nearest_steps(np.array([1.42, 1.45, 1.5, 1.52, 0.0]), steps)
    assert list(zip(bar_idx.tolist(), step_idx.tolist(), strict=True)) == [
        (0, 11),
        (1, 0),
        (1, 0),
        (1, 0),
        (0, 0),
    ]
    assert inside.all()


def test_preprocess_refuses_other_meters_for_the_dataset_before_rendering(tmp_path: Path) -> None:
    path = tmp_path / "waltz.mid"
    path.write_bytes(testing.make_song_bytes("AB", time_signatures=[(1, 3, 4)]))
    with pytest.raises(TimeSignatureError, match=r"bar 2 \(at 2\.00 s\) is in 3/4; the models train"):
        analysis.preprocess_song(path, common_time_only=True, renderer=object())  # type: ignore[arg-type]


# --- the 16-step models' bars fitted to each meter ----------------------------------------------


def _groove() -> np.ndarray:
    """A 4/4 rock bar: kick 1 and 3, snare 2 and 4, eighth hats, a crash on 1 (velocities)."""
    bar = np.zeros((46, 16), dtype=np.uint8)
    bar[KICK, [0, 8]] = 110
    bar[SNARE, [4, 12]] = 105
    bar[HAT, ::2] = 70
    bar[HAT, ::4] = 90
    bar[CRASH, 0] = 100
    return bar


def _steps(row: np.ndarray) -> list[int]:
    return np.flatnonzero(row).tolist()


def test_fit_grid_builds_each_meter_from_the_grooves_beats() -> None:
    meters = [(4, 4), (2, 4), (3, 4), (5, 4), (6, 8), (7, 8), (12, 8), (1, 4)]
    song_meter = SongMeter.from_meters(meters)
    fitted = fit_grid(np.stack([_groove()] * len(meters)), song_meter)
    assert fitted.shape == (8, 46, 24) and fitted.dtype == np.uint8
    assert not fitted[~np.broadcast_to(song_meter.step_mask()[:, None, :], fitted.shape)].any(), (
        "padding empty"
    )
    four, two, three, five, six, seven, twelve, one = fitted
    np.testing.assert_array_equal(four[:, :16], _groove())
    np.testing.assert_array_equal(two[:, :8], _groove()[:, :8])  # the first half of the groove
    # a waltz: kick on 1, snare on 2 and 3, the hats as the groove plays them
    assert (_steps(three[KICK]), _steps(three[SNARE]), _steps(three[HAT])) == (
        [0],
        [4, 8],
        list(range(0, 12, 2)),
    )
    # 5/4: the groove and one more beat (its third), no second crash
    np.testing.assert_array_equal(five[:, :16], _groove())
    assert (_steps(five[KICK]), _steps(five[SNARE]), _steps(five[CRASH])) == ([0, 8, 16], [4, 12], [0])
    # compound: kick on dotted beats 1 (and 3), snare on 2 (and 4), hats on every eighth
    assert (_steps(six[KICK]), _steps(six[SNARE]), _steps(six[HAT])) == ([0], [6], list(range(0, 12, 2)))
    assert six[HAT, [0, 6]].tolist() == [90, 90] and six[HAT, 2] == 70  # accents on the beats
    assert six[KICK, 0] == 110 and six[SNARE, 6] == 105 and six[CRASH, 0] == 100
    assert (_steps(twelve[KICK]), _steps(twelve[SNARE]), _steps(twelve[HAT])) == (
        [0, 12],
        [6, 18],
        list(range(0, 24, 2)),
    )
    # 7/8 = 2 + 2 + 3 eighths: kick, snare, kick and a last eighth of hats alone
    assert (_steps(seven[KICK]), _steps(seven[SNARE]), _steps(seven[HAT])) == (
        [0, 8],
        [4],
        list(range(0, 14, 2)),
    )
    # a 1/4 pickup plays the groove's first beat
    np.testing.assert_array_equal(one[:, :4], _groove()[:, :4])


def test_fit_grid_ends_a_bar_with_its_fill() -> None:
    def filled(start: int) -> np.ndarray:
        bar = _groove()
        bar[:, start:] = 0
        bar[TOM, start:] = 100
        return bar

    song_meter = SongMeter.from_meters([(3, 4), (2, 4), (1, 4), (6, 8), (4, 4)])
    grids = np.stack([filled(12), filled(8), filled(12), filled(8), filled(8)])
    fitted = fit_grid(grids, song_meter, fill_starts=np.array([12, 8, 12, 8, 8]))
    three, two, one, six, four = fitted
    assert _steps(three[TOM]) == [8, 9, 10, 11] and _steps(three[KICK]) == [0] and _steps(three[SNARE]) == [4]
    assert _steps(two[TOM]) == [4, 5, 6, 7] and _steps(two[KICK]) == [0]  # the first beat still grooves
    assert not one[TOM].any() and _steps(one[KICK]) == [0]  # no room for a fill in a pickup
    assert _steps(six[TOM]) == [6, 7, 8, 9, 10, 11] and _steps(six[KICK]) == [0]
    np.testing.assert_array_equal(four[:, :16], filled(8))


def test_written_steps_follow_the_songs_commonest_bar() -> None:
    """A meter-aware VAE writes a waltz's or a 6/8 song's bars (and their short bars) in their own
    length; a 4/4 song's odd bars, and any bar longer than 16 steps, as 4/4 bars."""
    waltz = SongMeter.from_meters([(1, 4), (3, 4), (3, 4), (3, 4), (4, 4), (5, 4)])
    assert waltz.written_steps().tolist() == [4, 12, 12, 12, 16, 16]
    assert not waltz.written_compound().any()
    six_eight = SongMeter.from_meters([(6, 8), (6, 8), (12, 8), (3, 8)])
    assert six_eight.written_steps().tolist() == [12, 12, 16, 6]
    assert six_eight.written_compound().tolist() == [True, True, False, True]
    four = SongMeter.from_meters([(4, 4), (2, 4), (4, 4), (3, 4), (1, 4)])
    assert four.written_steps().tolist() == [16] * 5 and not four.written_compound().any()
    twelve_eight = SongMeter.from_meters([(12, 8)] * 3 + [(6, 8)])
    assert twelve_eight.written_steps().tolist() == [16, 16, 16, 12]


def test_fit_grid_keeps_the_bars_written_in_their_own_meter() -> None:
    """A bar the VAE wrote in its own length keeps its first cells as written (no waltz rule); a
    fill still ends it, the first beat still grooves; a bar written as 4/4 is fitted by the rules."""
    written_waltz = np.zeros((46, 16), np.uint8)
    written_waltz[KICK, 0] = 110
    written_waltz[SNARE, [4, 8]] = 90
    written_waltz[HAT, [0, 2, 4, 6, 8, 10]] = 70
    written_six = np.zeros((46, 16), np.uint8)
    written_six[KICK, [0, 10]] = 100  # an off-beat kick that no rule would place
    written_six[SNARE, 6] = 100
    written_six[HAT, 0:12:2] = 60
    filled_waltz = written_waltz.copy()
    filled_waltz[:, 12:] = 0
    filled_waltz[TOM, 12:16] = 100  # the arranger's fill on the 4/4 bar's last beat
    song_meter = SongMeter.from_meters([(3, 4), (6, 8), (3, 4), (5, 4)])
    grids = np.stack([written_waltz, written_six, filled_waltz, _groove()])
    written = np.array([12, 12, 12, 16])
    fitted = fit_grid(grids, song_meter, fill_starts=np.array([-1, -1, 12, -1]), written_steps=written)
    three, six, three_filled, five = fitted
    np.testing.assert_array_equal(three[:, :12], written_waltz[:, :12])
    np.testing.assert_array_equal(six[:, :12], written_six[:, :12])
    assert _steps(six[KICK]) == [0, 10]
    assert _steps(three_filled[TOM]) == [8, 9, 10, 11]  # the fill's beat ends the bar
    np.testing.assert_array_equal(three_filled[:, :8], written_waltz[:, :8])
    assert _steps(five[KICK]) == [0, 8, 16]  # written as 4/4: the rules' 5/4
    # without written_steps the same bar is rebuilt by the waltz rule from beats 1, 2 and 4 (its
    # empty last four cells), losing the written third beat
    ruled = fit_grid(grids[:1], SongMeter.from_meters([(3, 4)]))[0]
    assert _steps(ruled[SNARE]) == [4] and _steps(ruled[HAT]) == [0, 2, 4, 6]


def test_fit_grid_leaves_common_time_alone_and_rests_empty() -> None:
    grid = np.stack([_groove(), _groove()])
    assert fit_grid(grid, SongMeter.common_time(2)) is grid
    rested = fit_grid(np.zeros((2, 46, 16), np.uint8), SongMeter.from_meters([(3, 4), (6, 8)]))
    assert rested.shape == (2, 46, 16) and not rested.any()
    with pytest.raises(ValueError, match="grid must have shape"):
        fit_grid(np.zeros((3, 46, 16)), SongMeter.common_time(2))


def test_to_model_steps_reads_bars_as_fractions() -> None:
    onsets = np.zeros((3, 5, 24), dtype=np.uint8)
    onsets[0, 0, [0, 3, 6, 9]] = 1  # a 3/4 bar's beats 1, 2 at steps 0, 4, 8 and off-beats
    onsets[1, 1, :24] = 200  # every sixteenth of a 12/8 bar: 1.5 per cell, two clipped at 255
    onsets[2, 2, [0, 8]] = 3
    folded = to_model_steps(onsets, np.array([12, 24, 16]))
    assert folded.shape == (3, 5, 16) and folded.dtype == np.uint8
    assert _steps(folded[0, 0]) == [0, 4, 8, 12]
    assert folded[1, 1].tolist() == [255, 200] * 8
    assert folded[2, 2, [0, 8]].tolist() == [3, 3] and folded[2].sum() == 6
    common = np.ones((2, 5, 16), dtype=np.uint8)
    assert to_model_steps(common, np.array([16, 16])) is common


def test_swing_leaves_compound_bars_and_partial_beats_straight() -> None:
    song = testing.make_song("AB", tempo=120.0, time_signatures=[(0, 7, 8), (1, 6, 8)])
    steps = bars.step_times(song)
    swung = feel.swing_step_times(steps, ratio=2.0, swing_bars=np.array([True, False]))
    assert swung[0, 2] > steps[0, 2]  # the 7/8 bar's first beat swings
    np.testing.assert_array_equal(swung[0, 12:], steps[0, 12:])  # its last eighth does not
    np.testing.assert_array_equal(swung[1], steps[1])  # nor does the 6/8 bar


# --- through the real command ---------------------------------------------------------------------


def _kit_hits(path: Path, piece: str) -> np.ndarray:
    song = pretty_midi.PrettyMIDI(str(path))
    pitches = kit.KIT_CLASS_PITCHES[piece]
    return np.array(sorted(n.start for i in song.instruments for n in i.notes if n.pitch in pitches))


@pytest.mark.slow
def test_generate_drums_every_bar_in_its_own_meter(tiny_models: Path, tmp_path: Path) -> None:
    songs = tmp_path / "songs"
    songs.mkdir()
    for name, data in testing.meter_song_bytes().items():
        (songs / f"{name}.mid").write_bytes(data)
    out, runs = tmp_path / "out", tmp_path / "runs"
    common = ["-o", str(out), "--runs-dir", str(runs), "--model", str(tiny_models), "--no-plot"]
    assert main(["generate", str(songs), *common, "--always-play", "--swing", "0", "--humanize", "0"]) == 0

    for name, changes in testing.METER_SONGS.items():
        source = midi.read_midi(songs / f"{name}.mid")
        bar_lines = bars.bar_times(source)  # the input's own bar lines
        meters = bars.bar_meters(source)
        expected_meters = [(4, 4)] * len(meters)
        for bar_idx, numerator, denominator in changes:
            expected_meters[bar_idx:] = [(numerator, denominator)] * (len(meters) - bar_idx)
        assert meters.tolist() == [list(m) for m in expected_meters], name
        expected_steps = [int(midi.bar_steps_of(n, d)) for n, d in expected_meters]

        step_1 = pipeline.load_step_1(runs / name)
        assert step_1.meter.bar_steps.tolist() == expected_steps, name
        grid = pipeline.load_step_4(runs / name).grids[0]
        n_steps = max(16, *expected_steps)
        assert grid.shape == (len(meters), 46, n_steps), name
        assert not grid[~np.broadcast_to(step_1.meter.step_mask()[:, None, :], grid.shape)].any(), name

        drums_path = out / f"{name}_drumgen_drums.mid"
        written = pretty_midi.PrettyMIDI(str(drums_path))
        assert [
            (ts.numerator, ts.denominator, round(ts.time, 6)) for ts in written.time_signature_changes
        ] == [(ts.numerator, ts.denominator, round(ts.time, 6)) for ts in source.time_signature_changes], name
        onsets = np.array(sorted(n.start for i in written.instruments for n in i.notes))
        kicks = _kit_hits(drums_path, "kick")
        for bar_idx, steps in enumerate(expected_steps):
            start, end = bar_lines[bar_idx], bar_lines[bar_idx + 1]
            inside = onsets[(onsets >= start - 1e-6) & (onsets < end - 1e-6)]
            assert len(inside), f"{name}: bar {bar_idx} has no drums"
            position = (inside - start) / ((end - start) / steps)  # in the bar's own sixteenths
            np.testing.assert_allclose(position, np.round(position), atol=1e-3, err_msg=name)
            assert np.round(position).max() < steps, f"{name}: bar {bar_idx} plays past its {steps} steps"
            assert np.isclose(kicks, start, atol=1e-3).any(), f"{name}: no kick on bar {bar_idx}'s downbeat"
        compound = [bar for bar, (n, d) in enumerate(expected_meters) if meter.is_compound(n, d)]
        for bar_idx in compound:  # the second dotted-quarter beat is played too
            second = (
                bar_lines[bar_idx]
                + (bar_lines[bar_idx + 1] - bar_lines[bar_idx]) * 6 / expected_steps[bar_idx]
            )
            assert np.isclose(onsets, second, atol=1e-3).any(), f"{name}: bar {bar_idx}"


@pytest.mark.parametrize("offset", [4, -3, 30])
def test_a_meter_change_a_few_ticks_off_the_bar_line_is_read_on_it(offset: int) -> None:
    bar = 4 * 480
    events = [testing.tempo_event(0, bpm=120), testing.meter_event(0, 4, 4)]
    conductor = testing.smf_track([*events, testing.meter_event(bar + offset, 3, 4)])
    song = testing.read_song_bytes(testing.smf_bytes([conductor, *testing.bar_song_tracks(4)[1:]]))
    assert midi.meter_changes(song) == [(0, 4, 4), (bar, 3, 4)]
    midi.check_meter(song)
    assert [tuple(m) for m in bars.bar_meters(song)][:2] == [(4, 4), (3, 4)]


def test_a_meter_change_a_sixteenth_off_the_bar_line_still_cuts_the_bar_short() -> None:
    bar = 4 * 480
    conductor = testing.smf_track(
        [testing.tempo_event(0, bpm=120), testing.meter_event(0, 4, 4), testing.meter_event(bar + 120, 3, 4)]
    )
    song = testing.read_song_bytes(testing.smf_bytes([conductor, *testing.bar_song_tracks(4)[1:]]))
    with pytest.raises(TimeSignatureError, match=r"bar 2 \(at 2\.00 s\) is cut short after 0\.25 of its 4"):
        midi.check_meter(song)
