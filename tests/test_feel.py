"""Feel: swing found in the song's own parts and applied to the drums, and seeded humanizing.

Songs are made in code (:func:`drumgen.testing.swung_song`); step 5 runs on run folders that
hold steps 1 and 4 as the pipeline saves them (bars from the song, a fixed groove), so these
tests need no rendering and no model, except the last one, which runs ``drumgen generate``
with the small test models.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import mido
import numpy as np
import pytest

from drumgen import bars, feel, io, pipeline, representation, testing
from drumgen.cli import _generation_config, build_parser, main
from drumgen.config import load_config
from drumgen.exceptions import ParameterError
from tests.run_folders import save_steps_1_and_4

TICKS_PER_BEAT = 480
BPM = 120.0
SECONDS_PER_TICK = 60.0 / (BPM * TICKS_PER_BEAT)
OPEN_HAT, CLOSED_HAT, KICK, SNARE = 46, 42, 36, 38


def _groove(n_bars: int) -> np.ndarray:
    """Closed hat on every 16th, open hat on every off-beat eighth, kick and snare on the beats."""
    grid = np.zeros((n_bars, representation.N_ROWS, bars.N_STEPS), dtype=np.uint8)
    grid[:, representation.pitch_to_row(CLOSED_HAT), :] = 60
    grid[:, representation.pitch_to_row(OPEN_HAT), 2::4] = 80
    grid[:, representation.pitch_to_row(KICK), [0, 8]] = 110
    grid[:, representation.pitch_to_row(SNARE), [4, 12]] = 100
    return grid


def _run_folder(song_path: Path, run_dir: Path, *, seed: int = 0) -> np.ndarray:
    """Steps 1 and 4 of a song as the pipeline saves them; returns the straight step times."""
    meta = {"source": "predicted", "seed": seed, "config": load_config("smoke").to_dict()}
    return save_steps_1_and_4(song_path, run_dir, _groove, step_4_meta=meta, force=True).step_times


def _write(tmp_path: Path, *, ratio: float, name: str = "song") -> Path:
    path = tmp_path / f"{name}.mid"
    path.write_bytes(testing.swung_song_bytes(8, ratio=ratio, tempo=BPM, ticks_per_beat=TICKS_PER_BEAT))
    return path


def _hits(path: Path) -> list[tuple[int, int, int]]:
    """(pitch, tick, velocity) of every note-on of a drums-alone file, in tick order."""
    found = []
    for track in mido.MidiFile(path).tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                found.append((message.note, tick, message.velocity))
    return sorted(found, key=lambda hit: (hit[1], hit[0]))


def _step_5(run_dir: Path, out_dir: Path, **feel_settings: object) -> pipeline.Step5Result:
    config = load_config("smoke").replace(feel=feel_settings)
    return pipeline.step_5_write_midi(run_dir, out_dir=out_dir, config=config, force=True)


def _offbeat_ratio(hits: list[tuple[int, int, int]], pitch: int = OPEN_HAT) -> float:
    """Swing ratio of a drum track measured on its off-beat eighths (the open hats)."""
    positions = np.array([tick % TICKS_PER_BEAT for p, tick, _ in hits if p == pitch]) / TICKS_PER_BEAT
    middle = float(np.median(positions))
    return middle / (1.0 - middle)


def _grid_ticks(n_bars: int) -> np.ndarray:
    """The straight grid's step ticks, shape (n_bars, 16)."""
    step = TICKS_PER_BEAT // 4
    return np.arange(n_bars)[:, None] * 16 * step + np.arange(16)[None, :] * step


# --- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", [1.5, 2.0, 2.5])
def test_swing_is_read_from_the_songs_off_beat_eighths(ratio: float) -> None:
    song = testing.swung_song(8, ratio=ratio)
    found = feel.estimate_swing(feel.song_onsets(song.instruments), step_times=bars.step_times(song))
    assert found.verdict is feel.SwingVerdict.SWUNG
    assert found.ratio == pytest.approx(ratio, rel=0.01)
    assert found.n_notes == 8 * 4 * 7  # bass, guitar chord (4 notes), piano stab (4) on alternate beats
    assert found.confidence > 0.9


def test_a_straight_song_is_exactly_straight() -> None:
    song = testing.swung_song(8, ratio=1.0)
    found = feel.estimate_swing(feel.song_onsets(song.instruments), step_times=bars.step_times(song))
    assert (found.ratio, found.fitted_ratio, found.verdict) == (1.0, 1.0, feel.SwingVerdict.STRAIGHT)
    made = testing.make_song("ABAB", parts=("piano", "bass", "guitar"), drums=False)
    found = feel.estimate_swing(feel.song_onsets(made.instruments), step_times=bars.step_times(made))
    assert found.ratio == 1.0 and not found.swung


def test_few_off_beat_notes_are_straight_with_a_logged_reason(caplog: pytest.LogCaptureFixture) -> None:
    steps = bars.step_times(testing.swung_song(4))
    onsets = np.array([0.0, 0.5, 1.0, 1.0 + 0.5 * 2 / 3, 2.0 + 0.5 * 2 / 3])  # two swung off-beats
    with caplog.at_level(logging.INFO, logger="drumgen.feel"):
        found = feel.estimate_swing(onsets, step_times=steps, min_notes=8, name="sparse.mid")
    assert found.ratio == 1.0 and found.verdict is feel.SwingVerdict.FEW_NOTES and found.n_notes == 2
    assert "sparse.mid: 2 off-beat eighth onsets" in caplog.text and "too few" in caplog.text
    assert feel.estimate_swing(np.zeros(0), step_times=steps).verdict is feel.SwingVerdict.FEW_NOTES


def test_random_onsets_are_not_swing(rng: np.random.Generator) -> None:
    steps = bars.step_times(testing.swung_song(16))
    swung = [
        feel.estimate_swing(rng.uniform(0.0, 32.0, n), step_times=steps).swung
        for n in (16, 64, 256)
        for _ in range(20)
    ]
    assert sum(swung) <= 2, "random onsets rarely look swung"


def test_straight_sixteenths_with_timing_noise_stay_straight(rng: np.random.Generator) -> None:
    steps = bars.step_times(testing.swung_song(8))
    onsets = np.arange(128) * 0.125 + rng.normal(0.0, 0.008, 128)  # 16ths at 120 bpm, 8 ms spread
    assert feel.estimate_swing(onsets, step_times=steps).ratio == 1.0


def test_beat_positions_follow_a_tempo_change_inside_the_beat() -> None:
    # one bar whose first beat has two slow sixteenths (0.25 s) then two fast ones (0.125 s)
    steps = np.array([[0.0, 0.25, 0.5, 0.625, 0.75, *np.linspace(0.875, 2.25, 12)]])
    positions = feel.beat_positions(np.array([0.5, 0.6875, 0.125]), steps)
    np.testing.assert_allclose(positions, [0.5, 0.875, 0.125])


# --- the mapping and the warp ------------------------------------------------------------------


def test_swing_amount_maps_to_ratio() -> None:
    assert [feel.swing_ratio(s) for s in (0.0, 0.25, 0.5, 1.0)] == [1.0, 1.25, 1.5, 2.0]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        feel.swing_ratio(1.5)


def test_swing_moves_the_off_beats_and_their_sixteenths_consistently() -> None:
    steps = np.linspace(0.0, 2.0, 17)[None, :]
    assert np.array_equal(feel.swing_step_times(steps, ratio=1.0), steps)
    swung = feel.swing_step_times(steps, ratio=2.0)
    within = (swung[0, :16] % 0.5) / 0.5
    np.testing.assert_allclose(within, np.tile([0.0, 1 / 3, 2 / 3, 5 / 6], 4), atol=1e-12)
    assert np.array_equal(swung[:, ::4], steps[:, ::4]), "beats and the bar end stay"
    assert (np.diff(swung) > 0).all()
    # a tempo change inside a bar: each beat is warped through its own step times
    uneven = np.concatenate([np.linspace(0, 1, 9), np.linspace(1, 3, 9)[1:]])[None, :]
    swung = feel.swing_step_times(uneven, ratio=2.0)
    assert (np.diff(swung) > 0).all() and np.array_equal(swung[:, ::4], uneven[:, ::4])
    np.testing.assert_allclose(swung[0, 10], 1.0 + 1.0 * 2 / 3)  # the slow beat: 1 s long


# --- step 5 -----------------------------------------------------------------------------------


def test_swung_song_gets_swung_drums(tmp_path: Path) -> None:
    song = _write(tmp_path, ratio=2.0)
    steps = _run_folder(song, tmp_path / "run")
    result = _step_5(tmp_path / "run", tmp_path / "out", swing="auto")
    assert result.feel is not None and result.feel.swing_ratio == pytest.approx(2.0, rel=0.01)
    hits = _hits(result.files[0][1])
    measured = _offbeat_ratio(hits)
    assert measured == pytest.approx(2.0, rel=0.10)
    onsets = np.array([tick for _, tick, _ in hits]) * SECONDS_PER_TICK
    assert feel.estimate_swing(onsets, step_times=steps).ratio == pytest.approx(2.0, rel=0.10)
    positions = {tick % TICKS_PER_BEAT for _, tick, _ in hits}
    assert positions == {0, 160, 320, 400}, "16ths on 0, 1/3, 2/3, 5/6 of the beat"
    report = io.read_json(result.report_path)["feel"]
    assert report["swing"] == "auto" and report["detected_swing"]["verdict"] == "swung"
    assert report["detected_swing"]["ratio"] == pytest.approx(2.0, rel=0.01)
    assert report["swing_ratio"] == result.feel.swing_ratio and report["humanize"] == 0.0


def test_light_swing_is_followed_too(tmp_path: Path) -> None:
    song = _write(tmp_path, ratio=1.5)
    _run_folder(song, tmp_path / "run")
    result = _step_5(tmp_path / "run", tmp_path / "out", swing="auto")
    assert _offbeat_ratio(_hits(result.files[0][1])) == pytest.approx(1.5, rel=0.10)


def test_straight_song_gets_drums_exactly_on_the_grid(tmp_path: Path) -> None:
    song = _write(tmp_path, ratio=1.0)
    _run_folder(song, tmp_path / "run")
    result = _step_5(tmp_path / "run", tmp_path / "out", swing="auto")
    assert result.feel is not None and result.feel.detected.verdict is feel.SwingVerdict.STRAIGHT
    assert result.feel.swing_ratio == 1.0 and result.feel.on_grid
    hits = _hits(result.files[0][1])
    assert _offbeat_ratio(hits) == pytest.approx(1.0, rel=0.10)
    assert sorted({tick for _, tick, _ in hits}) == sorted(_grid_ticks(8).ravel().tolist())


def test_swing_zero_and_humanize_zero_are_exactly_today_s_output(tmp_path: Path) -> None:
    song = _write(tmp_path, ratio=2.0)
    steps = _run_folder(song, tmp_path / "run")
    result = _step_5(tmp_path / "run", tmp_path / "out", swing=0.0, humanize=0.0)
    hits = _hits(result.files[0][1])
    grid = _groove(8)
    expected = sorted(
        (representation.DRUM_PITCHES[row], int(_grid_ticks(8)[bar, step]), int(grid[bar, row, step]))
        for bar, row, step in zip(*np.nonzero(grid), strict=True)
    )
    assert sorted(hits) == expected, "every hit on its grid step's tick, with its grid velocity"
    drums = representation.grid_to_drums(grid, steps, name="x")
    played = feel.apply_feel(grid, steps, feel=result.feel, name="x")
    assert [(n.pitch, n.start, n.end, n.velocity) for n in played.notes] == [
        (n.pitch, n.start, n.end, n.velocity) for n in drums.notes
    ]


def test_a_set_swing_amount_applies_to_a_straight_song(tmp_path: Path) -> None:
    song = _write(tmp_path, ratio=1.0)
    _run_folder(song, tmp_path / "run")
    result = _step_5(tmp_path / "run", tmp_path / "out", swing=0.5)
    assert result.feel is not None and result.feel.detected.ratio == 1.0 and result.feel.swing_ratio == 1.5
    assert _offbeat_ratio(_hits(result.files[0][1])) == pytest.approx(1.5, rel=0.02)


def test_humanize_is_seeded_bounded_and_keeps_hits_in_their_bars(tmp_path: Path) -> None:
    song = _write(tmp_path, ratio=1.0)
    amount = 0.5
    runs = {}
    for label, seed in (("a", 7), ("b", 7), ("c", 8)):
        _run_folder(song, tmp_path / f"run_{label}", seed=seed)
        result = _step_5(tmp_path / f"run_{label}", tmp_path / f"out_{label}", swing=0.0, humanize=amount)
        runs[label] = _hits(result.files[0][1])
    assert result.feel is not None and result.feel.seed == 8 and not result.feel.on_grid
    assert runs["a"] == runs["b"], "same seed, same drums"
    assert runs["a"] != runs["c"], "another seed, other drums"

    grid = _groove(8)
    for hits in (runs["a"], runs["c"]):
        assert len(hits) == int((grid > 0).sum()), "no hit lost or merged"
        shifts_ms, velocity_changes, beat_shifts, other_shifts = [], [], [], []
        ticks = _grid_ticks(8)
        for pitch, tick, velocity in hits:
            row = representation.pitch_to_row(pitch)
            bar_steps = np.argwhere(grid[:, row, :] > 0)
            candidates = ticks[bar_steps[:, 0], bar_steps[:, 1]]
            nearest = int(np.argmin(np.abs(candidates - tick)))
            bar, step = bar_steps[nearest]
            assert ticks[bar, 0] <= tick < ticks[bar, 0] + 16 * TICKS_PER_BEAT // 4, "inside its bar"
            shift = (tick - candidates[nearest]) * SECONDS_PER_TICK * 1000
            shifts_ms.append(shift)
            (beat_shifts if step % 4 == 0 else other_shifts).append(abs(shift))
            velocity_changes.append(velocity - int(grid[bar, row, step]))
        half_tick_ms = 0.5 * SECONDS_PER_TICK * 1000
        assert max(abs(s) for s in shifts_ms) <= 20.0 * amount + half_tick_ms, "at most 20 ms x humanize"
        assert np.std(shifts_ms) > 1.0, "and not on the grid"
        assert np.mean(beat_shifts) < np.mean(other_shifts), "the beats held tighter"
        assert max(abs(v) for v in velocity_changes) <= 8 * amount + 0.5
        assert any(velocity_changes)


def test_humanize_offsets_are_bounded_and_depend_only_on_the_seed() -> None:
    steps = feel.swing_step_times(bars.step_times(testing.swung_song(8)), ratio=2.0)
    shape = (8, representation.N_ROWS, bars.N_STEPS)
    first = feel.humanize(shape, step_times=steps, amount=1.0, seed=3)
    again = feel.humanize(shape, step_times=steps, amount=1.0, seed=3)
    other = feel.humanize(shape, step_times=steps, amount=1.0, seed=4)
    assert np.array_equal(first.time_offsets, again.time_offsets)
    assert np.array_equal(first.velocity_offsets, again.velocity_offsets)
    assert not np.array_equal(first.time_offsets, other.time_offsets)
    assert np.abs(first.time_offsets).max() <= 0.020 + 1e-12
    assert np.abs(first.velocity_offsets).max() <= 8
    placed = steps[:, :-1][:, None, :] + first.time_offsets
    assert (placed >= steps[:, :1, None]).all() and (placed < steps[:, -1:, None]).all()
    assert (first.time_offsets[:, :, 0] >= 0).all(), "never before the bar line"
    half = feel.humanize(shape, step_times=steps, amount=0.5, seed=3)
    assert np.abs(half.time_offsets).max() <= 0.010 + 1e-12
    zero = feel.humanize(shape, step_times=steps, amount=0.0, seed=3)
    assert not zero.time_offsets.any() and not zero.velocity_offsets.any()
    # hits of one step stay together: the limbs spread much less than the kit moves
    limb_spread = first.time_offsets.std(axis=1).mean()
    assert limb_spread < first.time_offsets.std() / 2


def test_step_5_takes_the_feel_step_4_was_run_with(tmp_path: Path) -> None:
    song = _write(tmp_path, ratio=1.0)
    _run_folder(song, tmp_path / "run")
    _, meta = io.load_step(tmp_path / "run", "step_4")
    meta["config"]["feel"]["swing"] = 1.0
    arrays, _ = io.load_step(tmp_path / "run", "step_4")
    io.save_step(tmp_path / "run", "step_4", arrays, meta, force=True)
    result = pipeline.step_5_write_midi(tmp_path / "run", out_dir=tmp_path / "out")
    assert result.feel is not None and result.feel.swing_ratio == 2.0
    assert _offbeat_ratio(_hits(result.files[0][1])) == pytest.approx(2.0, rel=0.02)


# --- settings and flags --------------------------------------------------------------------------


def test_feel_settings_are_checked() -> None:
    config = load_config("smoke")
    assert config.feel.swing == "auto" and config.feel.humanize == 0.0
    for bad in ({"swing": "sometimes"}, {"swing": 1.5}, {"swing": -0.1}, {"humanize": 2.0}):
        with pytest.raises(ParameterError, match="feel"):
            config.replace(feel=bad)


def test_cli_flags_set_the_feel() -> None:
    models = SimpleNamespace(config=load_config("smoke"))
    parser = build_parser()
    args = parser.parse_args(["generate", "x.mid", "--swing", "0.5", "--humanize", "0.3"])
    assert _generation_config(args, models).feel.swing == 0.5  # type: ignore[arg-type]
    assert _generation_config(args, models).feel.humanize == 0.3  # type: ignore[arg-type]
    args = parser.parse_args(["drums", "run", "--swing", "auto"])
    assert _generation_config(args, models).feel.swing == "auto"  # type: ignore[arg-type]
    args = parser.parse_args(["generate", "x.mid"])
    assert _generation_config(args, models).feel == models.config.feel  # type: ignore[arg-type]
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "x.mid", "--swing", "lots"])
    with pytest.raises(ParameterError, match=r"feel\.swing"):
        _generation_config(parser.parse_args(["generate", "x.mid", "--swing", "2"]), models)  # type: ignore[arg-type]


# --- through the real command --------------------------------------------------------------------


@pytest.mark.slow
def test_generate_swings_the_drums_of_a_swung_song(tiny_models: Path, tmp_path: Path) -> None:
    swung = _write(tmp_path, ratio=2.0, name="swung")
    straight = _write(tmp_path, ratio=1.0, name="straight")
    common = ["-o", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs"), "--model", str(tiny_models)]
    assert main(["generate", str(swung), *common, "--swing", "auto", "--no-plot"]) == 0
    assert main(["generate", str(straight), *common, "--no-plot"]) == 0  # auto is the default

    steps = pipeline.load_step_1(tmp_path / "runs" / "swung").step_times
    hits = _hits(tmp_path / "out" / "swung_drumgen_drums.mid")
    onsets = np.array([tick for _, tick, _ in hits]) * SECONDS_PER_TICK
    measured = feel.estimate_swing(onsets, step_times=steps)
    assert measured.ratio == pytest.approx(2.0, rel=0.10)
    assert {tick % TICKS_PER_BEAT for _, tick, _ in hits} <= {0, 160, 320, 400}
    report = io.read_json(io.midi_report_path(tmp_path / "runs" / "swung"))["feel"]
    assert report["detected_swing"]["ratio"] == pytest.approx(2.0, rel=0.01)
    assert report["swing_ratio"] == report["detected_swing"]["ratio"]

    hits = _hits(tmp_path / "out" / "straight_drumgen_drums.mid")
    assert {tick % (TICKS_PER_BEAT // 4) for _, tick, _ in hits} == {0}, "every hit on a 16th's tick"
    report = io.read_json(io.midi_report_path(tmp_path / "runs" / "straight"))["feel"]
    assert report["swing_ratio"] == 1.0 and report["on_grid"] is True


def test_the_swing_verdict_is_logged_only_when_asked(caplog) -> None:
    starts = np.linspace(0.0, 8.0, 65)[:-1].reshape(4, 16)
    steps = np.concatenate([starts, starts[:, :1] + 2.0], axis=1)
    onsets = np.sort(np.concatenate([np.arange(16) * 0.5, np.arange(16) * 0.5 + 0.333]))
    with caplog.at_level(logging.INFO, logger="drumgen.feel"):
        feel.estimate_swing(onsets, step_times=steps, name="quiet song", report=False)
        assert not [r for r in caplog.records if "quiet song" in r.getMessage()]
        feel.estimate_swing(onsets, step_times=steps, name="told song")
        assert [r for r in caplog.records if "told song" in r.getMessage()]
