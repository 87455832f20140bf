"""Datasets, training (smoke preset, tiny songs made in code), generation, steps 4-5, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from drumgen import dataset, io, pipeline, testing
from drumgen.cli import main
from drumgen.config import load_config
from drumgen.drummer import load_drummer
from drumgen.exceptions import ModelError, OutputExistsError
from tests.conftest import TINY_CORPUS_FORMS

pytestmark = pytest.mark.slow

FORMS = TINY_CORPUS_FORMS


@pytest.fixture(scope="module")
def smoke():
    return load_config("smoke")


@pytest.fixture(scope="module")
def corpus(tiny_corpus: Path) -> Path:
    return tiny_corpus


@pytest.fixture(scope="module")
def built(tiny_dataset: Path) -> Path:
    return tiny_dataset


@pytest.fixture(scope="module")
def model_dir(tiny_models: Path) -> Path:
    return tiny_models


def test_dataset_keeps_usable_songs_and_logs_skips(built: Path) -> None:
    index = io.read_json(built / "index.json")
    assert sorted(song["id"] for song in index["songs"]) == [f"song_{i}" for i in range(len(FORMS))]
    reasons = {
        r["id"]: r["reason"]
        for r in map(json.loads, (built / "log.jsonl").read_text().splitlines())
        if r["status"] == "skipped"
    }
    assert reasons == {"no_drums": "no drums", "waltz": "not 4/4", "broken": "broken file"}
    assert index["summary"]["skipped"] == {"no drums": 1, "not 4/4": 1, "broken file": 1}
    song = dataset.load_songs(built)[0]
    assert song.arrays["bar_cqts"].dtype == np.uint8 and song.arrays["bar_cqts"].shape[1:] == (84, 96)
    assert song.arrays["drum_grids"].shape == (song.n_bars, 46, 16)
    assert song.arrays["neighbor_idx"].shape == (song.n_bars, 7)
    # neighbours come from the true drum SSM: bar 0's nearest bar has the same drums
    first = int(song.arrays["neighbor_idx"][0, 0])
    assert float(song.arrays["drum_ssm"][0, first]) == 0.0


def test_dataset_build_resumes_without_redoing(built: Path, corpus: Path, smoke) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in (built / "songs").glob("*.npz")}
    summary = dataset.build_dataset(
        corpus, built, config=smoke, workers=1, progress=False, limits=dataset.SongLimits(min_bars=4)
    )
    assert summary.n_processed_now == 0 and summary.n_kept == len(FORMS)
    assert before == {p.name: p.stat().st_mtime_ns for p in (built / "songs").glob("*.npz")}


def test_models_are_saved_with_config_and_checksum(model_dir: Path) -> None:
    for sub, kind, version in (
        (io.VAE_SUBDIR, "drum_vae", 3),
        (io.SSM_GENERATOR_SUBDIR, "drum_ssm_generator", 2),
    ):
        config = io.read_json(model_dir / sub / "config.json")
        assert config["kind"] == kind and config["format_version"] == version
        assert len(config["weights_sha256"]) == 64
        assert config["config"]["preset"] == "smoke"
        assert not list((model_dir / sub).glob("*.pkl"))


def test_vae_keeps_the_epoch_with_the_best_hit_loss(model_dir: Path) -> None:
    training = io.read_json(model_dir / io.VAE_SUBDIR / "config.json")["training"]
    watched = training["history"]["val_drums_loss"]
    assert training["early_stopping_monitor"] == "val_drums_loss"
    assert training["best_epoch"] == int(np.argmin(watched)) + 1 <= training["epochs_run"]


def test_generation_arranges_with_the_presets_settings_not_the_saved_ones(
    model_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from drumgen.model.bundle import load_models

    copy = tmp_path / "models"
    shutil.copytree(model_dir, copy)
    config_path = copy / io.VAE_SUBDIR / "config.json"
    saved = io.read_json(config_path)
    saved["config"]["arrangement"]["variation"] = 0.99  # as if the preset had changed since training
    saved["config"]["sections"]["min_bars"] = 99
    io.write_json(config_path, saved)
    config = load_models(copy).config
    preset = load_config("smoke")
    assert config.arrangement == preset.arrangement and config.sections == preset.sections
    assert config.features == preset.features, "analysis settings are the model's (here equal to the preset)"


def test_corrupted_model_is_refused(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    from drumgen.model.bundle import load_models

    copy = tmp_path / "models"
    shutil.copytree(model_dir, copy)
    weights = copy / io.VAE_SUBDIR / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_models(copy)


@pytest.fixture(scope="module")
def generated(model_dir: Path, smoke, tmp_path_factory: pytest.TempPathFactory):
    from drumgen.model.bundle import load_models

    folder = tmp_path_factory.mktemp("generate")
    song_path = folder / "drumless.mid"
    testing.make_song(
        "ABAB",
        bars_per_section=2,
        drums=False,
        tempo=100.0,
        tempo_changes=[(4, 130.0)],
        parts=("piano", "bass"),
    ).write(str(song_path))
    models = load_models(model_dir)
    result = pipeline.generate_song(
        song_path,
        out_dir=folder / "out",
        run_dir=folder / "run",
        config=smoke,
        models=models,
        seed=3,
        densities=(0, 12),
    )
    return song_path, folder, models, result


def test_generate_writes_song_and_drums_on_the_songs_bar_times(generated) -> None:
    song_path, folder, _, result = generated
    assert set(result.step_5.files) == {0, 12}
    full_path, drums_path = result.step_5.files[0]
    assert full_path.name == "drumless_drumgen.mid" and drums_path.name == "drumless_drumgen_drums.mid"
    original = pretty_midi.PrettyMIDI(str(song_path))
    full = pretty_midi.PrettyMIDI(str(full_path))
    melodic = [inst for inst in full.instruments if not inst.is_drum]
    assert [(n.pitch, round(n.start, 4), round(n.end, 4), n.velocity) for i in melodic for n in i.notes] == [
        (n.pitch, round(n.start, 4), round(n.end, 4), n.velocity)
        for i in original.instruments
        for n in i.notes
    ]
    drums = [inst for inst in full.instruments if inst.is_drum]
    assert len(drums) == 1 and drums[0].notes
    step_times = pipeline.load_step_1(folder / "run").step_times
    onsets = np.array([n.start for n in drums[0].notes])
    assert np.abs(onsets[:, None] - step_times[:, :-1].ravel()[None, :]).min(axis=1).max() < 1e-3
    only = pretty_midi.PrettyMIDI(str(drums_path))
    assert all(inst.is_drum for inst in only.instruments)
    assert (folder / "out" / "drumless_drumgen_density+12.mid").is_file()


def test_density_offset_adds_hits(generated) -> None:
    # (the tiny model is unsure everywhere, so most cells are already on; the exact number of
    # added piece-steps is tested in test_arrangement)
    grids = generated[3].step_4.grids
    dense, base = (grids[12] > 0).sum(axis=(1, 2)), (grids[0] > 0).sum(axis=(1, 2))
    assert (dense >= base).all()


def test_same_seed_same_drums(generated, smoke) -> None:
    _, folder, models, result = generated
    again = pipeline.step_4_generate(
        folder / "run",
        config=smoke,
        vae=models.vae,
        drummer=models.drummer,
        seed=3,
        densities=(0,),
        force=True,
    )
    np.testing.assert_array_equal(again.grids[0], result.step_4.grids[0])
    other = pipeline.step_4_generate(
        folder / "run",
        config=smoke,
        vae=models.vae,
        drummer=models.drummer,
        seed=4,
        densities=(0,),
        force=True,
    )
    assert not np.array_equal(other.grids[0], result.step_4.grids[0])


def test_predicted_ssm_is_the_default_source(generated) -> None:
    result = generated[3]
    assert result.analysis.step_3.source == "predicted"
    predicted = result.analysis.step_2.predicted_drum_ssm
    assert predicted is not None and np.allclose(predicted, predicted.T)


def test_outputs_are_not_overwritten_without_force(generated) -> None:
    _, folder, _, _ = generated
    with pytest.raises(OutputExistsError):
        pipeline.step_5_write_midi(folder / "run", out_dir=folder / "out")


def test_cli_generate_oracle_is_labelled(model_dir: Path, tmp_path: Path) -> None:
    song = tmp_path / "with_drums.mid"
    testing.make_song("ABAB", drums=True).write(str(song))
    out = tmp_path / "out"
    args = [
        "generate",
        str(song),
        "-o",
        str(out),
        "--runs-dir",
        str(tmp_path / "runs"),
        "--model",
        str(model_dir),
    ]
    assert main([*args, "--oracle", "--density", "0", "6"]) == 0
    assert (out / "with_drums_drumgen_oracle.mid").is_file()
    assert (out / "with_drums_drumgen_oracle_density+6_drums.mid").is_file()
    _, meta = io.load_step(tmp_path / "runs" / "with_drums", "step_4")
    assert meta["oracle"] is True and meta["source"] == "oracle"
    assert (tmp_path / "runs" / "with_drums" / "drums.png").stat().st_size > 10_000
    assert main(args) == 0  # the predicted path on the same song: other file names
    assert (out / "with_drums_drumgen.mid").is_file()


def test_cli_temperature_zero_ignores_the_seed(model_dir: Path, tmp_path: Path) -> None:
    song = tmp_path / "s.mid"
    testing.make_song("ABAB", drums=False).write(str(song))
    grids = []
    for seed in ("1", "2"):
        args = [
            "generate",
            str(song),
            "-o",
            str(tmp_path / seed),
            "--runs-dir",
            str(tmp_path / f"runs{seed}"),
        ]
        assert main([*args, "--model", str(model_dir), "--temperature", "0", "--seed", seed]) == 0
        grids.append(pipeline.load_step_4(tmp_path / f"runs{seed}" / "s").grids[0])
    np.testing.assert_array_equal(grids[0], grids[1])
    bad = ["generate", str(song), "-o", str(tmp_path / "x"), "--model", str(model_dir), "--temperature", "-1"]
    assert main(bad) == 1


def test_cli_steps_one_at_a_time_match_generate(model_dir: Path, tmp_path: Path) -> None:
    song = tmp_path / "s.mid"
    testing.make_song("ABAB", drums=False).write(str(song))
    common = ["--preset", "smoke"]
    run = tmp_path / "runs" / "s"
    assert main(["generate", str(song), "-o", str(tmp_path / "all"), "--runs-dir", str(tmp_path / "all_runs"),
                 "--model", str(model_dir), "--seed", "5"]) == 0  # fmt: skip
    assert main(["preprocess", str(song), "--runs-dir", str(tmp_path / "runs"), *common]) == 0
    assert main(["ssm", str(run), "--model", str(model_dir), *common]) == 0
    assert main(["select", str(run), *common]) == 0
    assert main(["drums", str(run), "--model", str(model_dir), "--seed", "5", "--density", "0", "4"]) == 0
    assert main(["write", str(run), "-o", str(tmp_path / "out")]) == 0
    assert main(["write", str(run), "-o", str(tmp_path / "out")]) == 1, "no overwrite without --force"
    stepwise = pipeline.load_step_4(run).grids
    assert set(stepwise) == {0, 4}
    np.testing.assert_array_equal(stepwise[0], pipeline.load_step_4(tmp_path / "all_runs" / "s").grids[0])
    assert (tmp_path / "out" / "s_drumgen.mid").is_file()
    assert (tmp_path / "out" / "s_drumgen_density+4_drums.mid").is_file()
    assert main(["drums", str(run), "--model", str(model_dir), "--genre", "polka", "--force"]) == 1


def test_cli_generate_without_models_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    song = tmp_path / "s.mid"
    testing.make_song("AB", drums=False).write(str(song))
    assert main(["generate", str(song), "--model", str(tmp_path / "none"), "-o", str(tmp_path)]) == 1
    assert "no such model folder" in capsys.readouterr().err


def test_cli_train_and_dataset(corpus: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert main(["dataset", "build", str(corpus), str(data), "--preset", "smoke", "--workers", "1"]) == 0
    index = io.read_json(data / "index.json")
    assert len(index["songs"]) == len(FORMS)
    out = tmp_path / "vae"
    assert main(["train", "vae", str(data), str(data), "--preset", "smoke", "--out", str(out)]) == 0
    assert (out / "config.json").is_file()
    assert main(["train", "vae", str(data), str(data), "--preset", "smoke", "--out", str(out)]) == 1
    drummer_dir = tmp_path / "drummer"
    assert main(["train", "drummer", str(data), "--preset", "smoke", "--out", str(drummer_dir)]) == 0
    drummer = load_drummer(drummer_dir)
    assert drummer.info["n_songs"] == len(FORMS)
    n_patterns = 0 if drummer.fill_patterns is None else len(drummer.fill_patterns)
    assert drummer.info["n_fill_patterns"] == n_patterns
    assert main(["train", "drummer", str(data), "--preset", "smoke", "--out", str(drummer_dir)]) == 1
