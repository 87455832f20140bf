"""Tests of the drum-SSM generator on synthetic songs built here (no files, no network)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drumgen.config import Config, config_from_dict, load_config
from drumgen.exceptions import ModelError, OutputExistsError, ParameterError
from drumgen.model import store
from drumgen.model.ssm_generator import (
    FEATURES,
    FORMAT_VERSION,
    KIND,
    N_FEATURES,
    SsmInputs,
    build_ssm_generator,
    input_features,
    load_ssm_generator,
    predict_drum_ssm,
)
from drumgen.model.train_ssm_generator import (
    MeanSsmBaseline,
    RescaledMelodicBaseline,
    ssm_errors,
    train_ssm_generator,
)
from drumgen.songdata import SongData

# Keras 3 (tensorflow backend) calls np.array on tensors when saving and reading weights
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def symmetric_ssm(values: np.ndarray) -> np.ndarray:
    """A symmetric, zero-diagonal float32 matrix in [0, 1] from any square array."""
    ssm = np.clip((values + values.T) / 2.0, 0.0, 1.0).astype(np.float32)
    np.fill_diagonal(ssm, 0.0)
    return ssm


def form_labels(n_bars: int, rng: np.random.Generator) -> np.ndarray:
    """Section label of each bar: 4-bar sections drawn from A..D (a form like AABBA...)."""
    sections = rng.integers(0, 4, size=-(-n_bars // 4))
    return np.repeat(sections, 4)[:n_bars]


def make_song(song_id: str, melodic: np.ndarray, drum: np.ndarray, *, genre: str = "rock") -> SongData:
    """A SongData with what the SSM generator reads (bar_cqts only sets ``n_bars``)."""
    n_bars = len(melodic)
    arrays = {
        "bar_cqts": np.zeros((n_bars, 1, 1), np.uint8),
        "melodic_ssm": melodic.astype(np.float16),
        "drum_ssm": drum.astype(np.float16),
    }
    return SongData(song_id=song_id, genre=genre, arrays=arrays)


def structured_songs(
    n_songs: int, rng: np.random.Generator, *, n_min: int = 12, n_max: int = 40
) -> list[SongData]:
    """Songs whose melodic SSM is section-label inequality (0.35) plus noise and whose drum SSM is
    ``clip(2 * melodic, 0, 1)``."""
    songs = []
    for idx in range(n_songs):
        n_bars = int(rng.integers(n_min, n_max + 1))
        labels = form_labels(n_bars, rng)
        differ = (labels[:, None] != labels[None, :]).astype(np.float64)
        melodic = symmetric_ssm(0.35 * differ + 0.1 * rng.random((n_bars, n_bars)))
        drum = symmetric_ssm(2.0 * melodic.astype(np.float16).astype(np.float64))
        songs.append(make_song(f"song{idx}", melodic, drum))
    return songs


@pytest.fixture(scope="module")
def train_config() -> Config:
    """The smoke preset with enough steps to learn the synthetic rule in a few seconds."""
    return load_config("smoke").replace(
        ssm_generator={"epochs": 6, "steps_per_epoch": 8, "learning_rate": 0.02, "patience": 6}
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, train_config: Config) -> dict[str, Any]:
    """One short training run, saved: its songs, result and model folder."""
    rng = np.random.default_rng(7)
    train_songs = structured_songs(12, rng)
    val_songs = structured_songs(4, rng)
    out_dir = tmp_path_factory.mktemp("ssm") / KIND
    result = train_ssm_generator(
        train_songs, val_songs, config=train_config, out_dir=out_dir, seed=3, progress=False
    )
    return {"train": train_songs, "val": val_songs, "result": result, "out_dir": out_dir}


# --- features and network ---------------------------------------------------------------------


def test_input_features_shape_and_channels(rng: np.random.Generator) -> None:
    melodic = symmetric_ssm(rng.random((9, 9)))
    features = input_features(melodic.astype(np.float16))
    assert features.shape == (9, 9, N_FEATURES)
    assert features.dtype == np.float32
    np.testing.assert_array_equal(features[..., 0], features[..., 0].T)
    np.testing.assert_allclose(features[..., 0], melodic, atol=1e-3)
    # row and column differences: zero on the first row / column, each other's transpose
    assert not features[0, :, 1].any() and not features[:, 0, 2].any()
    np.testing.assert_allclose(features[3, 5, 1], features[3, 5, 0] - features[2, 5, 0])
    np.testing.assert_allclose(features[3, 5, 2], features[3, 5, 0] - features[3, 4, 0])
    np.testing.assert_array_equal(features[..., 1], features[..., 2].T)
    # distance from the diagonal: 0 on it, log1p(|i - j|) / log1p(256), symmetric
    assert not np.diag(features[..., 3]).any()
    np.testing.assert_allclose(features[0, 8, 3], np.log1p(8) / np.log1p(256), rtol=1e-6)
    np.testing.assert_array_equal(features[..., 3], features[..., 3].T)


def test_input_constants_round_trip_and_scale_the_diagonal_channel(rng: np.random.Generator) -> None:
    assert SsmInputs().to_dict() == {"features": list(FEATURES), "diagonal_bars": 256.0}
    other = SsmInputs(diagonal_bars=16.0)
    assert SsmInputs.from_dict(other.to_dict()) == other
    melodic = symmetric_ssm(rng.random((20, 20)))
    features = input_features(melodic, inputs=other)
    np.testing.assert_allclose(features[0, 16, 3], 1.0, rtol=1e-6)
    np.testing.assert_array_equal(features[..., :3], input_features(melodic)[..., :3])
    with pytest.raises(ParameterError, match="computes"):
        SsmInputs(features=tuple(reversed(FEATURES)))
    with pytest.raises(ParameterError, match="diagonal_bars"):
        SsmInputs(diagonal_bars=0.0)


def test_input_features_rejects_non_square() -> None:
    with pytest.raises(ParameterError, match="square"):
        input_features(np.zeros((3, 4)))


@pytest.mark.parametrize("n_bars", [1, 2, 5, 37, 300])
def test_prediction_any_size_symmetric_zero_diagonal(n_bars: int, rng: np.random.Generator) -> None:
    model = build_ssm_generator(load_config("default").ssm_generator)
    melodic = symmetric_ssm(rng.random((n_bars, n_bars)))
    raw = np.asarray(model.model(input_features(melodic)[None], training=False))[0]
    assert raw.shape == (n_bars, n_bars)
    np.testing.assert_array_equal(raw, raw.T)  # symmetric inside the model, exactly
    predicted = predict_drum_ssm(model, melodic)
    assert predicted.shape == (n_bars, n_bars) and predicted.dtype == np.float32
    np.testing.assert_array_equal(predicted, predicted.T)
    assert not np.diag(predicted).any()
    assert predicted.min() >= 0.0 and predicted.max() <= 1.0


def test_default_model_is_small() -> None:
    n_params = build_ssm_generator(load_config("default").ssm_generator).count_params()
    assert 10_000 <= n_params <= 100_000


# --- baselines and errors ---------------------------------------------------------------------


def test_mean_baseline_predicts_pooled_off_diagonal_mean() -> None:
    a = symmetric_ssm(np.array([[0, 0.2, 0.4], [0.2, 0, 0.6], [0.4, 0.6, 0]]))
    b = symmetric_ssm(np.array([[0, 1.0], [1.0, 0]]))
    songs = [make_song("a", a, a), make_song("b", b, b)]
    baseline = MeanSsmBaseline().fit(songs)
    expected = (2 * (0.2 + 0.4 + 0.6) + 2 * 1.0) / 8  # every off-diagonal entry of both songs
    assert baseline.value == pytest.approx(expected, abs=1e-3)
    predicted = baseline.predict(np.zeros((4, 4)))
    assert predicted.shape == (4, 4)
    assert not np.diag(predicted).any()
    np.testing.assert_allclose(predicted[~np.eye(4, dtype=bool)], expected, atol=1e-3)
    assert MeanSsmBaseline.from_dict(json.loads(json.dumps(baseline.to_dict()))).value == baseline.value


def test_rescaled_baseline_recovers_linear_rule(rng: np.random.Generator) -> None:
    songs = []
    for idx, n_bars in enumerate((6, 11, 20)):
        melodic = symmetric_ssm(rng.random((n_bars, n_bars)))
        drum = symmetric_ssm(0.5 * melodic.astype(np.float16).astype(np.float64) + 0.2)
        songs.append(make_song(f"s{idx}", melodic, drum))
    baseline = RescaledMelodicBaseline().fit(songs)
    assert baseline.a == pytest.approx(0.5, abs=2e-3)  # float16 storage of the SSMs
    assert baseline.b == pytest.approx(0.2, abs=2e-3)
    predicted = baseline.predict(np.array([[0.0, 1.8], [1.8, 0.0]]))
    np.testing.assert_allclose(predicted, [[0.0, 1.0], [1.0, 0.0]], atol=1e-6)  # clipped to 1
    restored = RescaledMelodicBaseline.from_dict(baseline.to_dict())
    assert (restored.a, restored.b) == (baseline.a, baseline.b)


def test_unfitted_baseline_refuses() -> None:
    with pytest.raises(ParameterError, match="fit"):
        RescaledMelodicBaseline().predict(np.zeros((3, 3)))


def test_ssm_errors_perfect_and_constant_predictors(rng: np.random.Generator) -> None:
    songs = [*structured_songs(3, rng), make_song("one_bar", np.zeros((1, 1)), np.zeros((1, 1)))]

    def perfect(melodic: np.ndarray) -> np.ndarray:
        return symmetric_ssm(2.0 * melodic.astype(np.float64))

    errors = ssm_errors(perfect, songs)
    assert errors["n_songs"] == 3  # the one-bar song has no off-diagonal entries
    assert errors["mae"] == pytest.approx(0.0, abs=1e-3)
    assert errors["correlation"] == pytest.approx(1.0, abs=1e-4)
    constant = ssm_errors(lambda melodic: np.full(melodic.shape, 0.5, np.float32), songs)
    assert constant["correlation"] == 0.0
    assert constant["mae"] > 0.1


# --- training, saving, loading ----------------------------------------------------------------


def test_training_learns_and_records(trained: dict[str, Any], train_config: Config) -> None:
    result = trained["result"]
    val_loss = result["history"]["val_loss"]
    assert len(val_loss) == result["epochs_run"] == len(result["history"]["loss"])
    assert 1 <= result["best_epoch"] <= result["epochs_run"] <= train_config.ssm_generator.epochs
    metrics = result["metrics"]
    assert set(metrics) == {"model", "mean_baseline", "rescaled_melodic_baseline"}
    assert min(val_loss) < val_loss[0] or metrics["model"]["mae"] < metrics["mean_baseline"]["mae"]
    assert metrics["model"]["n_songs"] == len(trained["val"])
    assert result["n_params"] == build_ssm_generator(train_config.ssm_generator).count_params()
    json.dumps(result)  # JSON-ready


def test_save_load_round_trip(trained: dict[str, Any], train_config: Config) -> None:
    model, meta = load_ssm_generator(trained["out_dir"])
    assert meta["kind"] == KIND
    assert config_from_dict(meta["config"]) == train_config
    assert meta["training"]["n_train_songs"] == len(trained["train"])
    assert meta["baselines"]["mean_baseline"]["value"] == pytest.approx(
        MeanSsmBaseline().fit(trained["train"]).value
    )
    assert meta["architecture"]["dilations"] == list(train_config.ssm_generator.dilations)
    again, _ = load_ssm_generator(trained["out_dir"])
    for song in trained["val"]:
        melodic = song.arrays["melodic_ssm"]
        np.testing.assert_array_equal(predict_drum_ssm(model, melodic), predict_drum_ssm(again, melodic))
    # the loaded model is the one whose validation metrics were recorded
    recorded = meta["training"]["metrics"]["model"]["mae"]
    assert ssm_errors(lambda m: predict_drum_ssm(model, m), trained["val"])["mae"] == pytest.approx(recorded)


def test_training_refuses_to_overwrite(trained: dict[str, Any], train_config: Config) -> None:
    with pytest.raises(OutputExistsError):
        train_ssm_generator(trained["train"], trained["val"], config=train_config, out_dir=trained["out_dir"])


def test_time_limit_stops_training(trained: dict[str, Any]) -> None:
    config = load_config("smoke").replace(ssm_generator={"max_minutes": 0.0, "epochs": 5})
    result = train_ssm_generator(trained["train"], trained["val"], config=config, progress=False)
    assert result["stopped"] == "time_limit"
    assert result["epochs_run"] == 1


def copy_model(trained: dict[str, Any], tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(trained["out_dir"], target)
    return target


def test_corrupted_weights_are_refused(trained: dict[str, Any], tmp_path: Path) -> None:
    directory = copy_model(trained, tmp_path)
    weights = directory / store.WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_ssm_generator(directory)


def test_saved_input_constants_are_read_back(trained: dict[str, Any], tmp_path: Path) -> None:
    """The model makes its input with the constants in its config (config.json is outside the
    checksum, which covers the weights file only), not with today's code."""
    directory = copy_model(trained, tmp_path)
    config_path = directory / store.CONFIG_FILE
    config = json.loads(config_path.read_text())
    assert config["format_version"] == FORMAT_VERSION == 2
    assert config["inputs"] == {"features": list(FEATURES), "diagonal_bars": 256.0}
    config["inputs"]["diagonal_bars"] = 8.0
    config_path.write_text(json.dumps(config))
    edited, _ = load_ssm_generator(directory)
    original, _ = load_ssm_generator(trained["out_dir"])
    assert edited.inputs == SsmInputs(diagonal_bars=8.0) and original.inputs == SsmInputs()
    melodic = trained["val"][0].arrays["melodic_ssm"]
    assert not np.allclose(predict_drum_ssm(edited, melodic), predict_drum_ssm(original, melodic))
    del config["inputs"]["diagonal_bars"]
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelError, match="input constants") as caught:
        load_ssm_generator(directory)
    assert "\n" not in str(caught.value)
    del config["inputs"]
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelError, match="input constants"):
        load_ssm_generator(directory)


def test_unknown_format_version_is_refused(trained: dict[str, Any], tmp_path: Path) -> None:
    directory = copy_model(trained, tmp_path)
    config_path = directory / store.CONFIG_FILE
    config = json.loads(config_path.read_text())
    config["format_version"] = 99
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelError, match="version"):
        load_ssm_generator(directory)
