"""Paired comparison of drumgen against the other methods, on hand-built scores."""

from __future__ import annotations

import pytest

from drumgen import evaluation


def _result(per_song: dict[str, dict[str, dict[str, float]]]) -> evaluation.EvaluationResult:
    return evaluation.EvaluationResult(per_song=per_song, aggregated={}, skipped=[], n_songs=3)


def test_differences_are_song_by_song() -> None:
    scores = {
        "drumgen": {"a": {"onset_f1": 0.5}, "b": {"onset_f1": 0.3}, "c": {"onset_f1": 0.9}},
        # always 0.1 below drumgen, though its songs' scores overlap drumgen's a lot
        "silence": {"a": {"onset_f1": 0.4}, "b": {"onset_f1": 0.2}, "c": {"onset_f1": 0.8}},
        "real": {"a": {"onset_f1": 1.0}, "b": {"onset_f1": 1.0}, "c": {"onset_f1": 1.0}},
    }
    differences = evaluation.paired_differences(_result(scores), metric_names=("onset_f1",))
    assert set(differences) == {"silence"}, "the real drums are not a method to beat"
    stats = differences["silence"]["onset_f1"]
    assert stats["mean"] == pytest.approx(0.1)
    assert stats["ci_low"] == pytest.approx(0.1) and stats["ci_high"] == pytest.approx(0.1)
    assert stats["n"] == 3


def test_differences_table_signs() -> None:
    scores = {
        "drumgen": {"a": {"onset_f1": 0.2}, "b": {"onset_f1": 0.4}},
        "repeat_common_bar": {"a": {"onset_f1": 0.5}, "b": {"onset_f1": 0.5}},
    }
    table = evaluation.differences_table(
        evaluation.paired_differences(_result(scores), metric_names=("onset_f1",))
    )
    assert "| repeat_common_bar | -0.200 [" in table
