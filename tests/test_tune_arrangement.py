"""scripts/tune_arrangement.py: the grid over the arranger's knobs, scored on a dataset's songs."""

from __future__ import annotations

import pytest

from drumgen.model.bundle import load_models
from tests.conftest import load_script


def setting_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("hit_threshold=")]


@pytest.mark.slow
def test_knobs_left_out_take_the_models_configured_values(tiny_dataset, tiny_models, capsys) -> None:
    configured = load_models(tiny_models).config.arrangement
    script = load_script("tune_arrangement")
    args = [str(tiny_dataset), "--model", str(tiny_models), "--no-baselines", "--limit", "3"]
    assert script.main(args) == 0
    lines = setting_lines(capsys.readouterr().out)
    assert len(lines) == 1, "no knob given: one setting, the configured arranger"
    assert f"hit_threshold={configured.hit_threshold} " in lines[0]
    assert f"contrast={configured.contrast} " in lines[0]
    assert f"bass_lock={configured.bass_lock} " in lines[0]
    assert "layout=never" not in lines[0]

    assert script.main([*args, "--contrast", "0", "5", "--fills", "0", "--play-always"]) == 0
    out = capsys.readouterr().out
    lines = setting_lines(out)
    assert len(lines) == 2 * 1 * 2, "two contrasts x one fills value x with and without lay-out"
    assert sum("layout=never" in line for line in lines) == 2
    assert all("fills=0.0 " in line for line in lines)
    assert all(f"hit_threshold={configured.hit_threshold} " in line for line in lines)
    assert "3 songs" in out
    n_columns = len(script.COLUMNS)
    assert all(len(line.split(" | ")[1:]) == n_columns for line in lines)


def test_column_means_skip_the_songs_without_a_value_and_say_nan_where_none_has_one() -> None:
    script = load_script("tune_arrangement")
    rows = [dict.fromkeys(script.COLUMNS, float("nan")) for _ in range(2)]
    rows[0]["kit_f1"], rows[1]["kit_f1"] = 0.5, 0.25
    rows[1]["change_coverage"] = 0.6
    cells = script.column_means(rows).split(" | ")
    assert len(cells) == len(script.COLUMNS)
    assert cells[script.COLUMNS.index("kit_f1")] == "0.375"
    assert cells[script.COLUMNS.index("change_coverage")] == "0.600"
    assert cells[script.COLUMNS.index("onset_f1")] == "nan"


def test_a_folder_that_is_no_dataset_is_a_one_line_error(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        load_script("tune_arrangement").main([str(tmp_path)])
    err = capsys.readouterr().err
    assert "no index.json; build it with `drumgen dataset build`" in err
    assert "Traceback" not in err
