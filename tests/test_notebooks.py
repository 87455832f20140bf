"""The numbered notebooks: stripped in git, thin, and runnable top to bottom (smoke preset)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from drumgen import io, testing

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
PIPELINE_NOTEBOOKS = (
    "step_1_midi_data_preprocessing.ipynb",
    "step_2_generate_drum_ssm_from_melodic_ssm.ipynb",
    "step_3_extract_bar_selection_info.ipynb",
    "step_4_generate_drum_patterns.ipynb",
    "step_5_write_midi.ipynb",
)
TRAINING_NOTEBOOKS = ("train_drum_ssm_generator.ipynb", "train_drum_vae.ipynb")
ALL_NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def _parameters_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "each notebook has exactly one cell tagged 'parameters'"
    return tagged[0]


def run_notebook(name: str, parameters: dict[str, object], *, timeout: int = 600) -> nbformat.NotebookNode:
    """Execute a notebook with its parameters overridden; return the executed notebook."""
    notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    cell = _parameters_cell(notebook)
    overrides = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    cell.source = f"{cell.source}\n# overridden by the test\n{overrides}\n"
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS_DIR)}}
    )
    client.execute()
    return notebook


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_thin(path: Path) -> None:
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert cell["outputs"] == [], f"{path.name}: outputs must be stripped in git"
        assert cell["execution_count"] is None, f"{path.name}: execution counts must be stripped"
        source = "".join(cell["source"])
        assert "def " not in source and "class " not in source, f"{path.name}: no definitions in notebooks"


def test_pipeline_notebooks_exist() -> None:
    for name in PIPELINE_NOTEBOOKS:
        assert (NOTEBOOKS_DIR / name).is_file(), name


@pytest.mark.slow
def test_training_notebooks_run_on_tiny_data(tmp_path: Path, tiny_corpus: Path) -> None:
    models = tmp_path / "models"
    data = {
        "TRAIN_CORPUS": str(tiny_corpus),
        "TRAIN_SPLIT": None,
        "TRAIN_LIMIT": None,
        "VAL_CORPUS": str(tiny_corpus),
        "VAL_SPLIT": None,
        "VAL_LIMIT": 3,
        "DATASETS_DIR": str(tmp_path / "datasets"),
        "PRESET": "smoke",
        "WORKERS": 1,
    }
    run_notebook(TRAINING_NOTEBOOKS[0], {**data, "OUT": str(models / io.SSM_GENERATOR_SUBDIR)})
    run_notebook(TRAINING_NOTEBOOKS[1], {**data, "OUT": str(models / io.VAE_SUBDIR)})
    assert (models / io.SSM_GENERATOR_SUBDIR / "config.json").is_file()
    assert (models / io.VAE_SUBDIR / "config.json").is_file()
    index = io.read_json(tmp_path / "datasets" / "train" / "index.json")
    assert len(index["songs"]) == 6


@pytest.mark.slow
def test_steps_1_to_5_notebooks_run_through_the_run_folder(tmp_path: Path, tiny_models: Path) -> None:
    song_path = tmp_path / "song.mid"
    testing.make_song("AABA", bars_per_section=2, drums=True).write(str(song_path))
    run_dir = tmp_path / "run"
    common = {"RUN_DIR": str(run_dir), "PRESET": "smoke", "FORCE": True}

    executed = run_notebook(PIPELINE_NOTEBOOKS[0], {"SONG": str(song_path), **common})
    assert io.step_path(run_dir, "step_1").is_file()
    printed = "".join(
        out.get("text", "") for cell in executed.cells if cell.cell_type == "code" for out in cell.outputs
    )
    assert "8 bars" in printed

    run_notebook(PIPELINE_NOTEBOOKS[1], {**common, "MODEL_DIR": str(tiny_models)})
    arrays, _ = io.load_step(run_dir, "step_2")
    assert arrays["melodic_ssm"].shape == (8, 8)
    assert {"drum_ssm", "predicted_drum_ssm"} <= set(arrays)

    run_notebook(PIPELINE_NOTEBOOKS[2], {**common, "SOURCE": "oracle"})
    arrays, meta = io.load_step(run_dir, "step_3")
    assert arrays["neighbor_idx"].shape == (8, 7)
    assert meta["source"] == "oracle"

    run_notebook(PIPELINE_NOTEBOOKS[3], {**common, "MODEL_DIR": str(tiny_models), "DENSITIES": (0, 6)})
    arrays, _ = io.load_step(run_dir, "step_4")
    assert arrays["grids"].shape == (2, 8, 46, 16)

    executed = run_notebook(PIPELINE_NOTEBOOKS[4], {**common, "OUT_DIR": str(tmp_path / "out")})
    assert (tmp_path / "out" / "song_drumgen_oracle.mid").is_file()
    outputs = [out for cell in executed.cells if cell.cell_type == "code" for out in cell.outputs]
    assert any("text/html" in out.get("data", {}) and "<audio" in out["data"]["text/html"] for out in outputs)


@pytest.mark.slow
def test_dataset_and_evaluation_notebooks(tmp_path: Path, tiny_corpus: Path, tiny_models: Path) -> None:
    run_notebook(
        "build_dataset.ipynb",
        {
            "CORPUS": str(tiny_corpus),
            "SPLIT": None,
            "LIMIT": None,
            "OUT": str(tmp_path / "data"),
            "PRESET": "smoke",
            "WORKERS": 1,
        },
    )
    assert len(io.read_json(tmp_path / "data" / "index.json")["songs"]) == 6
    executed = run_notebook(
        "evaluation.ipynb",
        {
            "SONGS_DIR": str(tiny_corpus),
            "SPLIT": None,
            "LIMIT": None,
            "MODEL_DIR": str(tiny_models),
            "OUT": str(tmp_path / "report"),
            "WORKERS": 1,
            "SEED": 0,
            "FORCE": True,
        },
    )
    assert io.read_json(tmp_path / "report" / "summary.json")["n_songs"] == 7  # the waltz too
    outputs = [out for cell in executed.cells if cell.cell_type == "code" for out in cell.outputs]
    assert any("image/png" in out.get("data", {}) for out in outputs)
