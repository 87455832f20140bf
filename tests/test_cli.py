"""The drumgen command, called through main([...])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drumgen import io, testing
from drumgen.cli import main


def help_text_without(command: str, heavy: tuple[str, ...]) -> str:
    """``drumgen COMMAND --help`` in a fresh interpreter, checked to exit 0 without importing any
    of the ``heavy`` modules; its output."""
    code = (
        "import sys\nfrom drumgen.cli import main\n"
        f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        f"heavy = [m for m in {heavy!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_is_instant_and_does_not_import_tensorflow() -> None:
    assert "--force" in help_text_without("analyze", ("tensorflow", "keras", "librosa", "matplotlib"))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert "drumgen" in capsys.readouterr().out


def test_bad_input_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    assert main(["analyze", str(empty), "--runs-dir", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "empty" in err[0] and "Traceback" not in err[0]


def test_missing_file_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "nope.mid"), "--runs-dir", str(tmp_path)]) == 1
    assert "no such MIDI file" in capsys.readouterr().err


def test_unknown_preset_is_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["analyze", "x.mid", "--preset", "huge"])
    assert caught.value.code == 2


@pytest.mark.slow
def test_analyze_then_refuse_then_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    song = tmp_path / "song.mid"
    testing.make_song("ABAB", drums=True).write(str(song))
    runs = tmp_path / "runs"
    assert main(["analyze", str(song), "--runs-dir", str(runs), "--preset", "smoke"]) == 0
    run_dir = runs / "song"
    assert all(io.step_path(run_dir, step).is_file() for step in io.ANALYSIS_STEPS)
    assert io.analysis_plot_path(run_dir).stat().st_size > 10_000
    capsys.readouterr()

    assert main(["analyze", str(song), "--runs-dir", str(runs), "--preset", "smoke"]) == 1
    assert "--force" in capsys.readouterr().err
    assert (
        main(["analyze", str(song), "--runs-dir", str(runs), "--preset", "smoke", "--force", "--no-plot"])
        == 0
    )


@pytest.mark.slow
def test_steps_one_by_one_and_oracle(tmp_path: Path) -> None:
    song = tmp_path / "song.mid"
    testing.make_song("ABAC", drums=True).write(str(song))
    runs = tmp_path / "runs"
    assert main(["preprocess", str(song), "--runs-dir", str(runs), "--preset", "smoke"]) == 0
    run_dir = str(runs / "song")
    assert main(["ssm", run_dir, "--preset", "smoke"]) == 0
    assert main(["select", run_dir, "--preset", "smoke", "--oracle"]) == 0
    _, meta = io.load_step(run_dir, "step_3")
    assert meta["source"] == "oracle" and meta["oracle"] is True


@pytest.mark.slow
def test_batch_folder_skips_bad_songs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    songs = tmp_path / "songs"
    songs.mkdir()
    testing.make_song("AB", seed=1).write(str(songs / "one.mid"))
    testing.make_song("BA", seed=2).write(str(songs / "two.MID"))
    (songs / "broken.mid").write_text("not midi")
    runs = tmp_path / "runs"
    status = main(["analyze", str(songs), "--runs-dir", str(runs), "--preset", "smoke", "--no-plot"])
    assert status == 1
    assert io.step_path(runs / "one", "step_3").is_file()
    assert io.step_path(runs / "two", "step_3").is_file()
    assert not (runs / "broken").exists()
    assert "1 of 3 songs failed" in capsys.readouterr().err


def test_empty_folder_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path)]) == 1
    assert "no .mid" in capsys.readouterr().err


@pytest.mark.slow
def test_missing_soundfont_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    song = tmp_path / "song.mid"
    testing.make_song("AB").write(str(song))
    assert (
        main(["analyze", str(song), "--soundfont", str(tmp_path / "none.sf2"), "--runs-dir", str(tmp_path)])
        == 1
    )
    assert "fluid-soundfont-gm" in capsys.readouterr().err
