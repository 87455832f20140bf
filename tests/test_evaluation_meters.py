"""Evaluation of songs in every meter (issue 11): meter groups, metrics on wide canvases, the
training build still 4/4 only, and the timing/feel scores against real drums as played."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drumgen import analysis, bars, dataset, evaluation, feel, io, metrics, testing
from drumgen.cli import main
from drumgen.config import load_config
from drumgen.drummer import fit_drummer
from drumgen.exceptions import ParameterError
from drumgen.meter import SongMeter, meter_group
from drumgen.model.data import BarTable, ConditionEncoding
from drumgen.representation import pitch_to_row

HAT, SNARE, KICK = pitch_to_row(42), pitch_to_row(38), pitch_to_row(36)

EXPECTED_GROUPS = {
    "in_2_4": "other",
    "in_3_4": "3/4",
    "in_5_4": "other",
    "in_6_8": "compound",
    "in_7_8": "other",
    "in_12_8": "compound",
    "pickup": "4/4 with odd bars",
    "one_2_4_bar": "4/4 with odd bars",
    "change_midway": "4/4 with odd bars",  # 3 bars of 4/4, then 3 of 3/4: the tie goes to the first
}


@pytest.mark.parametrize("name", sorted(EXPECTED_GROUPS))
def test_meter_groups_of_code_made_songs(name: str) -> None:
    song = testing.read_song_bytes(testing.meter_song_bytes()[name])
    assert meter_group(SongMeter.from_meters(bars.bar_meters(song))) == EXPECTED_GROUPS[name]


def test_plain_4_4_and_2_2_are_the_4_4_group() -> None:
    assert meter_group(SongMeter.from_meters([(4, 4)] * 8)) == "4/4"
    assert meter_group(SongMeter.from_meters([(2, 2)] * 4 + [(4, 4)] * 4)) == "4/4"
    assert meter_group(SongMeter.from_meters([(3, 4)] * 7 + [(4, 4)])) == "3/4"


# --- metrics on a canvas wider than 16 steps, bars shorter than the canvas ------------------------


def _canvas(bar_steps: list[int], n_steps: int) -> np.ndarray:
    return np.zeros((len(bar_steps), 46, n_steps), dtype=np.uint8)


def test_cell_accuracy_counts_only_the_bars_own_steps() -> None:
    steps = [12, 24]  # a 3/4 bar and a 12/8 bar on a 24-step canvas
    real, generated = _canvas(steps, 24), _canvas(steps, 24)
    real[0, KICK, 0] = 100
    own_cells = 46 * (12 + 24)
    assert metrics.cell_accuracy(generated, real, bar_steps=steps) == pytest.approx(1 - 1 / own_cells)
    assert metrics.cell_accuracy(generated, real) == pytest.approx(1 - 1 / (46 * 48))


def test_tolerant_onsets_cross_a_short_bars_line_not_its_padding() -> None:
    steps = [12, 12]  # 3/4 bars on a 16-step canvas (the song has a 4/4 bar elsewhere)
    real, generated = _canvas(steps, 16), _canvas(steps, 16)
    generated[0, SNARE, 11] = 100  # last step of bar 0 ...
    real[1, SNARE, 0] = 100  # ... one step before bar 1's first
    assert metrics.onset_f1(generated, real, tolerance=1, bar_steps=steps) == 1.0
    assert metrics.onset_f1(generated, real, tolerance=1) == 0.0  # 5 canvas steps apart


def test_backbeat_is_read_in_16_step_bars_only() -> None:
    steps = [16, 12]
    grid = _canvas(steps, 16)
    grid[:, SNARE, 4] = grid[:, SNARE, 12] = 100
    grid[1, SNARE, 12] = 0  # padding of the 3/4 bar stays empty
    grid[1, HAT, 0] = 80
    assert metrics.backbeat_rate(grid) == 0.5
    assert metrics.backbeat_rate(grid, bar_steps=steps) == 1.0
    assert np.isnan(metrics.backbeat_rate(grid[1:], bar_steps=steps[1:]))


def test_fills_compare_the_halves_of_each_bars_own_steps() -> None:
    grid = _canvas([12], 16)
    grid[0, SNARE, [7, 9, 11]] = 100  # three snares in the second half of a 3/4 bar (steps 6-11)
    assert metrics.fill_bars(grid, bar_steps=[12]).tolist() == [True]
    assert metrics.fill_bars(grid).tolist() == [False]  # read as 16 steps: only 2 in steps 8-15


def test_song_metrics_take_a_24_step_canvas() -> None:
    steps = [24, 24, 24, 12]
    real = _canvas(steps, 24)
    real[:, KICK, 0] = 100
    real[:, HAT, 0:24:4] = 80
    real[3, HAT, 12:] = 0
    scores = metrics.song_metrics(real, real, bar_steps=steps, change_bars=[0])
    assert scores["onset_f1"] == scores["kit_f1"] == scores["cell_accuracy"] == 1.0
    assert np.isnan(scores["backbeat_rate"]) and scores["empty_bar_rate"] == 0.0
    with pytest.raises(ParameterError, match=r"bar_steps must be 4 values in 1\.\.24"):
        metrics.song_metrics(real, real, bar_steps=[24, 24, 24, 25])


# --- a plain build stays 4/4; the training build (--every-meter) and the evaluation's keep every meter


@pytest.mark.slow
def test_a_plain_build_skips_other_meters_and_an_every_meter_build_keeps_and_trains_on_them(
    tmp_path: Path, smoke_config
) -> None:
    songs = tmp_path / "songs"
    songs.mkdir()
    for name in ("in_3_4", "one_2_4_bar"):
        (songs / f"{name}.mid").write_bytes(testing.meter_song_bytes(bars_per_section=4)[name])
    common = dict(config=smoke_config, workers=1, progress=False)
    built = tmp_path / "built"
    summary = dataset.build_dataset(songs, built, **common)
    assert summary.n_kept == 0 and summary.skipped == {"not 4/4": 2}
    # resumed with every meter kept (as the evaluation does), the meter skips are tried again
    summary = dataset.build_dataset(songs, built, limits=dataset.SongLimits(common_time_only=False), **common)
    assert summary.n_kept == 2 and summary.n_processed_now == 2
    found = {song.song_id: song for song in dataset.load_songs(built)}
    assert found["in_3_4"].arrays["drum_grids"].shape[2] == 16  # 12-step bars on the 16-step canvas
    assert found["in_3_4"].meter.bar_steps.tolist() == [12] * 8
    assert found["one_2_4_bar"].meter.bar_steps.tolist() == [16, 16, 16, 8, 16, 16, 16, 16]
    # the models train on them: the VAE on the bars it writes in their own length (the waltz's
    # 12-step bars and the other song's 16-step ones; all bars are its inputs), the drummer on all
    table = BarTable.from_songs([found["in_3_4"], found["one_2_4_bar"]])
    assert table.n_bars == 16 and table.target_idx.tolist() == [*range(8), 8, 9, 10, 12, 13, 14, 15]
    assert table.conditions[:8, -2:].tolist() == [[0.25, 0.0]] * 8  # written 4 steps short, simple
    assert not table.conditions[8:, -2:].any()  # 4/4 bars, the 2/4 bar among them, as before
    assert not table.drum_hits[:8, :, 12:].any() and table.drum_hits[:8, :, :12].any()
    assert table.written_steps.tolist() == [12] * 8 + [16] * 8
    # an epoch may show the waltz's bars more often than the 4/4 ones (vae.other_meter_repeats)
    assert table.epoch_examples().tolist() == table.target_idx.tolist()
    shown = np.bincount(table.epoch_examples(3), minlength=16)
    assert shown.tolist() == [3] * 8 + [1, 1, 1, 0, 1, 1, 1, 1]
    # a VAE without meter columns trains on the 16-step bars only
    assert BarTable.from_songs(list(found.values()), conditioning=ConditionEncoding()).n_targets == 7
    drummer = fit_drummer(list(found.values()), settings=smoke_config.drum_changes)
    assert drummer.info["n_songs"] == 2 and drummer.info["n_bars"] == 16
    # and a training build resumed on that folder drops them again
    summary = dataset.build_dataset(songs, built, **common)
    assert summary.n_kept == 0 and summary.skipped == {"not 4/4": 2}
    assert dataset.load_songs(built) == []
    # the command line's training build keeps them (--every-meter)
    assert (
        main(
            [
                "dataset",
                "build",
                str(songs),
                str(built),
                "--every-meter",
                "--preset",
                "smoke",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert {song.song_id for song in dataset.load_songs(built)} == {"in_3_4", "one_2_4_bar"}


def test_a_song_stored_without_bar_meters_is_4_4() -> None:
    song = dataset.SongData("old", "rock", {"bar_cqts": np.zeros((5, 84, 96), np.uint8)})
    assert song.meter.is_common_time and song.meter.n_bars == 5


# --- timing and feel -------------------------------------------------------------------------------


def _timing(tmp_path: Path, ratio: float) -> analysis.SongTiming:
    path = tmp_path / f"swung_{ratio:g}.mid"
    path.write_bytes(testing.swung_song_bytes(8, ratio=ratio, drums=True))
    return analysis.read_timing(path)


def _eighth_grid(timing: analysis.SongTiming) -> np.ndarray:
    """Straight drums as drumgen writes them: hats on every eighth, kick 1 3, snare 2 4."""
    grid = np.zeros((timing.meter.n_bars, 46, 16), dtype=np.uint8)
    grid[:, HAT, 0::2] = 80
    grid[:, KICK, [0, 8]] = grid[:, SNARE, [4, 12]] = 100
    return grid


def test_timing_scores_of_a_swung_song_are_near_its_swing(tmp_path: Path) -> None:
    timing = _timing(tmp_path, 2.0)
    config = load_config()  # swing "auto": found in the song's parts
    scores = evaluation.song_timing_scores(_eighth_grid(timing), timing, config=config, seed=0)
    assert set(scores) == set(feel.TIMING_KEYS)
    assert scores["real_swing_ratio"] == pytest.approx(2.0, rel=0.1)
    assert scores["generated_swing_ratio"] == pytest.approx(2.0, rel=0.1)
    assert scores["real_swung"] == scores["generated_swung"] == 1.0
    # the swung off-beat eighth (2/3 of a 0.5 s beat) is quantised to the beat's 4th sixteenth: a
    # third of the real onsets (the off-beat hats) sit 41.7 ms early, the generated ones alike
    assert scores["real_off_grid_share"] == pytest.approx(1 / 3, abs=0.02)
    assert scores["real_microtiming"] == 1.0
    assert scores["offset_error_ms"] < 1.0
    assert scores["on_grid_offset_error_ms"] > 10.0


def test_timing_scores_of_straight_drums_against_swung_ones(tmp_path: Path) -> None:
    timing = _timing(tmp_path, 2.0)
    config = load_config().replace(feel={"swing": 0.0})
    scores = evaluation.song_timing_scores(_eighth_grid(timing), timing, config=config, seed=0)
    assert scores["generated_swing_ratio"] == 1.0 and scores["generated_swung"] == 0.0
    assert scores["swing_ratio_error"] == pytest.approx(scores["real_swing_ratio"] - 1.0)
    assert scores["offset_error_ms"] == pytest.approx(scores["on_grid_offset_error_ms"])


def test_a_straight_song_scores_straight_and_on_the_grid(tmp_path: Path) -> None:
    timing = _timing(tmp_path, 1.0)
    scores = evaluation.song_timing_scores(_eighth_grid(timing), timing, config=load_config(), seed=0)
    assert scores["real_swing_ratio"] == scores["generated_swing_ratio"] == 1.0
    assert scores["real_off_grid_share"] == 0.0 and scores["real_microtiming"] == 0.0
    assert scores["offset_error_ms"] == pytest.approx(0.0, abs=1e-6)


def test_grid_offsets_in_ms() -> None:
    steps = np.linspace(0.0, 2.0, 17)[None, :]  # one 4/4 bar at 120 bpm: 125 ms steps
    found = feel.grid_offsets(np.array([0.010, 0.240, 5.0]), np.array([36, 42, 36]), steps)
    assert found.offsets_ms.round(6).tolist() == [10.0, -10.0]  # the onset past the song is left out
    assert found.cells.tolist() == [KICK * 16 + 0, HAT * 16 + 2]


def test_feel_summary_counts_and_means() -> None:
    rows = {
        "a": dict.fromkeys(feel.TIMING_KEYS, 0.0) | {"real_swing_ratio": 2.0, "real_swung": 1.0},
        "b": dict.fromkeys(feel.TIMING_KEYS, 0.0) | {"real_microtiming": 1.0, "offset_error_ms": 8.0},
    }
    rows["a"]["generated_swing_ratio"] = rows["b"]["real_swing_ratio"] = rows["b"][
        "generated_swing_ratio"
    ] = 1.0
    summary = evaluation.feel_summary(rows)
    assert summary["n_songs"] == 2 and summary["real_swung_songs"] == 1 and summary["swung_agreement"] == 0.5
    assert summary["real_swing_ratio"] == 1.5 and summary["microtiming_songs"] == 1
    assert summary["offset_error_ms"] == 8.0
    assert "## Timing and feel" in evaluation.feel_markdown(summary)
    assert evaluation.feel_summary({}) == {"n_songs": 0} and evaluation.feel_markdown({"n_songs": 0}) == ""


# --- the whole command over code-made songs of several meters, shipped models -------------------


@pytest.mark.slow
def test_evaluate_reports_each_meter_group_and_the_feel(tmp_path: Path) -> None:
    songs = tmp_path / "songs"
    songs.mkdir()
    made = testing.meter_song_bytes(bars_per_section=4)
    for name in ("in_3_4", "in_6_8", "in_12_8", "one_2_4_bar", "pickup", "in_5_4"):
        (songs / f"{name}.mid").write_bytes(made[name])
    (songs / "swung.mid").write_bytes(testing.swung_song_bytes(8, drums=True))
    out = tmp_path / "report"
    assert main(["evaluate", str(songs), "--out", str(out), "--workers", "1"]) == 0
    summary = io.read_json(out / "summary.json")
    assert summary["n_songs"] == 7 and summary["skipped"] == []
    counts = {group: found["n_songs"] for group, found in summary["meter_groups"].items()}
    assert counts == {"4/4": 1, "4/4 with odd bars": 2, "3/4": 1, "compound": 2, "other": 1}
    for found in summary["meter_groups"].values():
        assert set(found["methods"]["drumgen"]) == set(evaluation.GROUP_METRICS)
        for other, metric in evaluation.GROUP_COMPARISONS:
            interval = found["drumgen_minus"][other][metric]
            assert interval["ci_low"] <= interval["mean"] <= interval["ci_high"]
        assert set(found["drumgen_minus"]["neighbor_bars"]) == {"kit_f1", "ssm_pearson"}
    assert summary["feel"]["n_songs"] == 7
    swung = io.read_json(out / "details.json")["timing"]["swung"]
    assert swung["real_swing_ratio"] == pytest.approx(2.0, rel=0.1)
    assert swung["generated_swing_ratio"] == pytest.approx(2.0, rel=0.1)
    text = (out / "summary.md").read_text()
    assert "## By meter group" in text and "### compound (2 songs)" in text and "## Timing and feel" in text
    assert "| drumgen - repeat_common_bar (kit_f1) | drumgen - neighbor_bars (kit_f1) |" in text
