"""scripts/compare_evaluations.py: one method's per-song moves between two evaluation runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import load_script


def write_run(folder: Path, kit_f1: dict[str, float]) -> Path:
    folder.mkdir()
    other = {"onset_f1": 0.3, "ssm_pearson": 0.4, "kick_f1": 0.5, "snare_f1": 0.5, "hats_f1": 0.5}
    per_song = {"drumgen": {song: {"kit_f1": value, **other} for song, value in kit_f1.items()}}
    (folder / "details.json").write_text(json.dumps({"per_song": per_song}))
    return folder


def test_the_moves_are_after_minus_before_on_the_songs_both_runs_scored(tmp_path, capsys) -> None:
    before = write_run(tmp_path / "before", {"a": 0.5, "b": 0.4, "gone": 0.9})
    after = write_run(tmp_path / "after", {"a": 0.7, "b": 0.4, "new": 0.1})
    assert load_script("compare_evaluations").main([str(before), str(after), "--show", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 songs in both runs" in out
    assert "kit_f1       +0.1000" in out, "the mean of +0.2 (song a) and 0 (song b)"
    assert "onset_f1     +0.0000" in out
    assert "songs whose kit F1 changed: 1" in out


def test_a_method_missing_from_a_run_is_a_one_line_error(tmp_path) -> None:
    before = write_run(tmp_path / "before", {"a": 0.5})
    with pytest.raises(SystemExit, match="no method 'nb'"):
        load_script("compare_evaluations").main([str(before), str(before), "--method", "nb"])


def test_an_unfinished_run_is_a_one_line_error(tmp_path) -> None:
    before = write_run(tmp_path / "before", {"a": 0.5})
    (tmp_path / "running").mkdir()  # an evaluation still analysing: no details.json yet
    with pytest.raises(SystemExit, match=r"details\.json not found: give a finished"):
        load_script("compare_evaluations").main([str(before), str(tmp_path / "running")])
