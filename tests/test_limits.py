"""Limits with reasons, outputs checked before work, and batches that finish (issue 10).

- What a song will cost (:func:`drumgen.midi.song_stats`) against ``[limits]``, which the
  ``--max-*`` options override; a song beyond a limit is refused in one line naming it.
- The 10,000-bar song and the song with a 2-hour silence are answered within 30 s and 2 GB.
- Output folders and names are checked before step 1; a batch skips a song that raises an
  unexpected error and finishes the others; an evaluation of unusable songs lists them.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from drumgen import cli, io, midi, pipeline, testing
from drumgen.config import LimitsConfig, limit_flag, load_config
from drumgen.exceptions import LimitError, OutputError, OutputExistsError, ParameterError


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _limits(**changes: float) -> LimitsConfig:
    return dataclasses.replace(load_config().limits, **changes)


# --- the limits and what a song costs -------------------------------------------------------------


def test_limits_live_in_the_preset_and_every_one_has_an_option() -> None:
    limits = load_config().limits
    assert limits == load_config("smoke").limits
    assert {field for field, *_ in cli.LIMIT_OPTIONS} == {f.name for f in dataclasses.fields(LimitsConfig)}
    assert limit_flag("max_minutes") == "--max-minutes"
    help_text = cli.build_parser().parse_args(["generate", "x.mid"])  # parses without them
    assert help_text.max_minutes is None


def test_options_override_the_preset() -> None:
    args = cli.build_parser().parse_args(["preprocess", "x.mid", "--max-minutes", "5", "--max-bars", "12"])
    config = cli._config(args)
    assert config.limits.max_minutes == 5.0 and config.limits.max_bars == 12
    assert config.limits.max_notes == load_config().limits.max_notes


def test_limits_must_be_positive() -> None:
    with pytest.raises(ParameterError, match=r"limits\.max_bars"):
        load_config(limits={"max_bars": 0})


def test_song_stats_known_answers() -> None:
    stats = midi.song_stats(midi.midi_file_from_bytes(testing.smf_bytes(testing.bar_song_tracks(4))))
    assert stats.duration == pytest.approx(8.0)
    assert (stats.n_bars, stats.n_notes, stats.n_tracks) == (4, 4 + 16 + 16, 4)
    gap = midi.song_stats(midi.midi_file_from_bytes(testing.gap_song_bytes(gap_seconds=60.0)))
    assert gap.gap_times == pytest.approx((8.0, 68.0))
    assert gap.n_bars == 38 and gap.duration == pytest.approx(76.0)


def test_song_stats_read_the_tempo_of_every_track() -> None:
    bar = 4 * 480
    conductor = testing.smf_track([testing.meter_event(0, 4, 4)])
    second = testing.smf_track(
        [*testing.note_events([(60, 0, 2 * bar, 80)]), testing.tempo_event(bar, bpm=60)]
    )
    stats = midi.song_stats(midi.midi_file_from_bytes(testing.smf_bytes([conductor, second])))
    assert stats.duration == pytest.approx(2.0 + 4.0)  # a bar at 120 bpm, then one at 60


def test_each_limit_is_named_with_its_option() -> None:
    stats = midi.song_stats(midi.midi_file_from_bytes(testing.smf_bytes(testing.bar_song_tracks(4))))
    midi.check_limits(stats, _limits(max_minutes=8 / 60, max_bars=4, max_notes=36, max_tracks=4))  # at them
    for field, value, fragment in (
        ("max_minutes", 0.1, "0.1 minutes long (last note-off at 8.0 s), beyond the limit of 0.1 minutes"),
        ("max_bars", 3, "4 bars, beyond the limit of 3 bars"),
        ("max_notes", 35, "36 notes, beyond the limit of 35 notes"),
        ("max_tracks", 3, "4 tracks, beyond the limit of 3 tracks"),
    ):
        with pytest.raises(LimitError) as info:
            midi.check_limits(stats, _limits(**{field: value}), name="song.mid")
        message = str(info.value)
        assert message.startswith("song.mid: ") and fragment in message and "\n" not in message
        assert f"raise it with {limit_flag(field)} (or [limits] {field} in a preset)" in message


def test_file_size_and_tracks_are_refused_before_parsing(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.mid", testing.smf_bytes(testing.bar_song_tracks(4)))
    with pytest.raises(LimitError, match="--max-file-mb"):
        midi.read_midi_file(path, limits=_limits(max_file_mb=path.stat().st_size / 2e6))
    with pytest.raises(LimitError, match="declares 4 tracks, beyond the limit of 3"):
        midi.read_midi_file(path, limits=_limits(max_tracks=3))


def test_a_raised_limit_lets_the_song_through(tmp_path: Path) -> None:
    path = _write(tmp_path, "gap.mid", testing.gap_song_bytes(gap_seconds=1500.0))
    with pytest.raises(LimitError, match="a silence"):
        midi.check_song(path, limits=load_config().limits)
    assert midi.check_song(path, limits=_limits(max_minutes=30.0)).duration == pytest.approx(1516.0)


def _run_measured(args: list[str], *, cwd: Path) -> tuple[int, str, float, float]:
    """Run ``python -m drumgen.cli ARGS``; return (status, stderr, wall seconds, peak RSS in GB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "drumgen.cli", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    err = process.stderr.read().decode() if process.stderr else ""
    process.stdout.close() if process.stdout else None
    process.stderr.close() if process.stderr else None
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, err, wall, usage.ru_maxrss / 2**20  # ru_maxrss is in KiB


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("bars_10000", testing.long_song_bytes(10_000, ticks_per_beat=96), "333.3 minutes long"),
        ("gap_2_hours", testing.gap_song_bytes(gap_seconds=7200.0), "120.0 minutes of it a silence"),
    ],
)
def test_huge_songs_get_one_line_within_30_s_and_2_gb(
    tmp_path: Path, name: str, data: bytes, fragment: str
) -> None:
    song = _write(tmp_path, f"{name}.mid", data)
    status, err, wall, peak_gb = _run_measured(
        ["preprocess", str(song), "--runs-dir", str(tmp_path / "runs")], cwd=tmp_path
    )
    assert status == 1
    assert err.strip().count("\n") == 0 and err.startswith(f"drumgen: error: {song}: ") and fragment in err
    assert "--max-minutes" in err
    assert wall < 30.0 and peak_gb < 2.0
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_huge_songs_through_generate_within_30_s_and_2_gb(tmp_path: Path, tiny_models: Path) -> None:
    for name, data in (
        ("bars_10000", testing.long_song_bytes(10_000, ticks_per_beat=96)),
        ("gap_2_hours", testing.gap_song_bytes(gap_seconds=7200.0)),
    ):
        song = _write(tmp_path, f"{name}.mid", data)
        args = ["generate", str(song), "--model", str(tiny_models), "-o", str(tmp_path / "out")]
        status, err, wall, peak_gb = _run_measured(
            [*args, "--runs-dir", str(tmp_path / "runs")], cwd=tmp_path
        )
        assert status == 1, err
        assert f"drumgen: error: {song}: " in err and "--max-minutes" in err and "Traceback" not in err
        assert wall < 30.0 and peak_gb < 2.0


# --- outputs checked before any work ------------------------------------------------------------


@pytest.fixture
def song(tmp_path: Path) -> Path:
    return _write(tmp_path, "song.mid", testing.smf_bytes(testing.bar_song_tracks(4)))


def _generate(song: Path, out_dir: Path, *, force: bool = False) -> None:
    # models are never touched when a check fails first
    pipeline.generate_song(song, out_dir=out_dir, run_dir=song.parent / "run", models=object(), force=force)


def test_out_naming_a_file_is_refused_before_any_work(song: Path, tmp_path: Path) -> None:
    target = _write(tmp_path, "taken.mid", b"x")
    with pytest.raises(
        OutputError, match=r"the output folder is a file; expected a folder \(choose one with -o/--out\)"
    ):
        _generate(song, target)
    with pytest.raises(OutputError, match=r"cannot be made: .*taken\.mid is a file"):
        _generate(song, target / "below")
    assert not (tmp_path / "run").exists()


def test_existing_outputs_are_refused_without_force(song: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    full, _ = io.output_midi_paths(out, "song", oracle=False, density=0)
    out.mkdir()
    full.write_bytes(b"")
    with pytest.raises(OutputExistsError, match="--force"):
        _generate(song, out)
    full.unlink()
    full.mkdir()
    with pytest.raises(OutputError, match="a folder stands where the MIDI file goes"):
        _generate(song, out, force=True)
    assert not (tmp_path / "run").exists()


def test_a_run_folder_under_a_file_is_refused(song: Path, tmp_path: Path) -> None:
    blocker = _write(tmp_path, "runs", b"")
    with pytest.raises(OutputError, match="run folder cannot be made"):
        pipeline.generate_song(song, out_dir=tmp_path / "out", run_dir=blocker / "song", models=object())


def test_cli_checks_out_before_loading_the_models(song: Path, tmp_path: Path, capsys) -> None:
    target = _write(tmp_path, "file.txt", b"")
    status = cli.main(["generate", str(song), "-o", str(target), "--model", str(tmp_path / "no_models")])
    assert status == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the output folder is a file" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused_before_any_work(song: Path, tmp_path: Path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        status = cli.main(["generate", str(song), "-o", str(locked), "--model", str(tmp_path / "no_models")])
    finally:
        locked.chmod(0o755)
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1
    assert f"{locked}: the output folder is not writable (Permission denied" in err


def test_an_unwritable_output_folder_is_refused_before_any_work(
    song: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Whoever runs the tests (root writes into read-only folders): the probe file cannot be made."""

    def refused(*_, **__):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    out = tmp_path / "out"
    status = cli.main(["generate", str(song), "-o", str(out), "--model", str(tmp_path / "no_models")])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1
    assert (
        f"{out}: the output folder is not writable (Permission denied in {tmp_path}); choose another" in err
    )
    assert not out.exists() and not (tmp_path / "runs").exists()


# --- batches finish ----------------------------------------------------------------------------


def test_an_unexpected_error_skips_only_its_song(tmp_path: Path, monkeypatch, capsys) -> None:
    songs = [_write(tmp_path, f"{name}.mid", b"") for name in ("a", "b", "c")]
    done: list[str] = []

    def fake_step_1(song_path, run_dir, **_):
        if Path(song_path).stem == "b":
            raise PermissionError(13, "Permission denied", str(run_dir))
        done.append(Path(song_path).stem)
        return type("Result", (), {"n_bars": 4})()

    monkeypatch.setattr(pipeline, "step_1_preprocess", fake_step_1)
    status = cli.main(["preprocess", *map(str, songs), "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert status == 1 and done == ["a", "c"]
    assert f"skipped {songs[1]}: unexpected PermissionError: [Errno 13] Permission denied" in err
    assert "-v shows the traceback" in err and "Traceback" not in err
    assert "1 of 3 songs failed" in err
    cli.main(["preprocess", *map(str, songs), "--runs-dir", str(tmp_path / "runs"), "-v"])
    assert "Traceback" in capsys.readouterr().err


def test_an_unexpected_error_of_a_single_song_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    song = _write(tmp_path, "a.mid", b"")

    def broken(*_, **__):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(pipeline, "step_1_preprocess", broken)
    assert cli.main(["preprocess", str(song), "--runs-dir", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected RuntimeError: something inside broke" in err


@pytest.mark.slow
def test_evaluating_only_unusable_songs_lists_them_as_skipped(
    tmp_path: Path, tiny_models: Path, capsys
) -> None:
    songs = tmp_path / "songs"
    songs.mkdir()
    testing.make_song("AB", time_signatures=[(0, 3, 4)]).write(str(songs / "waltz.mid"))  # 2 bars
    (songs / "sixteenth.mid").write_bytes(testing.awkward_midi_files()["in_1_16"])  # bars of 1/16
    (songs / "broken.mid").write_bytes(b"MThd garbage")
    out = tmp_path / "report"
    args = ["evaluate", str(songs), "--model", str(tiny_models), "--out", str(out), "--workers", "1"]
    assert cli.main(args) == 1
    summary = io.read_json(out / "summary.json")
    assert summary["n_songs"] == 0
    assert sorted(s["reason"] for s in summary["skipped"]) == [
        "broken file",
        "too short",
        "unsupported meter",
    ]
    report = (out / "summary.md").read_text()
    assert "No song could be scored: all 3 were skipped" in report
    assert "| waltz | too short |" in report and "| sixteenth | unsupported meter |" in report
    assert "Traceback" not in capsys.readouterr().err
