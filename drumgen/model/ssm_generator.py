"""The drum-SSM generator: a song's melodic SSM -> its predicted drum SSM (step 2).

Generation must need no drums in the input, so step 3 picks each bar's neighbours from a drum SSM
*predicted* from the melodic SSM. The network is fully convolutional, so it takes a song of any
number of bars at once (no 256-bar canvas):

- input: :func:`input_features` of the melodic SSM, ``(n_bars, n_bars, N_FEATURES)`` (its constants,
  :class:`SsmInputs`, are saved with the model and read back from it);
- a 3x3 convolution to ``channels`` channels, then one residual block per dilation (a dilated 3x3
  convolution with ReLU and a 1x1 convolution, added to the block's input);
- a 1x1 convolution to one channel, a sigmoid, and the average with its own transpose, so the
  predicted distances lie in [0, 1] and the matrix is exactly symmetric.

With the default dilations (1, 2, 4, 8, 16) every output cell sees 65 x 65 bars around it.

Training (:func:`train_ssm_generator`) uses random square crops along the diagonal of the training
songs' SSMs (:func:`drumgen.model.data.diagonal_crops`) and a masked L1 loss on the off-diagonal
entries that lie inside the song. Two trivial predictors are always reported with it
(:class:`MeanSsmBaseline`, :class:`RescaledMelodicBaseline`), with :func:`ssm_errors` on whole
songs: mean absolute error and Pearson correlation of the off-diagonal entries.

Used by notebooks ``step_2_generate_drum_ssm_from_melodic_ssm`` and ``train_drum_ssm_generator``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from drumgen import io
from drumgen.config import Config, SsmGeneratorConfig, config_from_dict
from drumgen.exceptions import ModelError, ParameterError
from drumgen.model import store
from drumgen.model.data import diagonal_crops
from drumgen.songdata import SongData

log = logging.getLogger(__name__)

KIND = "drum_ssm_generator"
"""The ``kind`` of a saved drum-SSM generator (see :mod:`drumgen.model.store`)."""
FORMAT_VERSION = 2
"""The drum-SSM generator's saved format. 1: the input constants in code only; 2: they are saved
in ``config.json`` as ``inputs`` (:class:`SsmInputs`) and read back from it."""
FEATURES = ("melodic", "row_difference", "column_difference", "diagonal_distance")
"""The input channels of the network, in order (see :func:`input_features`)."""
N_FEATURES = len(FEATURES)
DIAGONAL_BARS = 256.0
"""The distance-from-diagonal channel is log1p(|i - j|) / log1p(DIAGONAL_BARS) (1 at 256 bars apart)."""
DIAGONAL_SCALE = math.log1p(DIAGONAL_BARS)


@dataclass(frozen=True)
class SsmInputs:
    """The constants the network's input depends on; saved with the model (``config.json``,
    ``inputs``) and read back from it, so a later change in code never changes what trained weights
    see.

    Attributes
    ----------
    features : tuple of str
        The input channels, in order; this drumgen computes :data:`FEATURES` only.
    diagonal_bars : float
        The bar distance at which the distance-from-diagonal channel reaches 1.
    """

    features: tuple[str, ...] = FEATURES
    diagonal_bars: float = DIAGONAL_BARS

    def __post_init__(self) -> None:
        if self.features != FEATURES:
            raise ParameterError(
                f"input channels {list(self.features)}; this drumgen computes {list(FEATURES)}"
            )
        if self.diagonal_bars <= 0:
            raise ParameterError(f"diagonal_bars must be > 0, got {self.diagonal_bars}")

    @property
    def diagonal_scale(self) -> float:
        """``log1p(diagonal_bars)``: the distance-from-diagonal channel's divisor."""
        return math.log1p(self.diagonal_bars)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the model's config."""
        return {"features": list(self.features), "diagonal_bars": self.diagonal_bars}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SsmInputs:
        """Read back :meth:`to_dict`."""
        return cls(features=tuple(data["features"]), diagonal_bars=float(data["diagonal_bars"]))


CURRENT_SSM_INPUTS = SsmInputs()
"""This drumgen's input constants, for models trained now (a loaded model keeps its own)."""


# --- inputs -----------------------------------------------------------------------------------


def _check_ssm(ssm: np.ndarray, name: str) -> np.ndarray:
    ssm = np.asarray(ssm, dtype=np.float32)
    if ssm.ndim != 2 or ssm.shape[0] != ssm.shape[1] or ssm.shape[0] == 0:
        raise ParameterError(
            f"{name} must be a non-empty square (n_bars, n_bars) matrix, got shape {ssm.shape}"
        )
    return ssm


def input_features(melodic_ssm: np.ndarray, *, inputs: SsmInputs = CURRENT_SSM_INPUTS) -> np.ndarray:
    """The network's input channels for one melodic SSM.

    Parameters
    ----------
    melodic_ssm : np.ndarray [shape=(n_bars, n_bars), distances in [0, 1]]
        Symmetric, zero diagonal (:func:`drumgen.similarity.melodic_ssm`); any float dtype.
    inputs : SsmInputs
        The constants (a trained model's own: ``SsmGenerator.inputs``).

    Returns
    -------
    np.ndarray [shape=(n_bars, n_bars, N_FEATURES), float32]
        Channels (see ``FEATURES``): the SSM ``d``; its row-wise difference
        ``d[i, j] - d[i - 1, j]`` and column-wise difference ``d[i, j] - d[i, j - 1]`` (zero on the
        first row / column; for a symmetric ``d`` each is the other's transpose); and the distance
        from the diagonal, ``log1p(|i - j|) / log1p(inputs.diagonal_bars)`` (256 by default).
        Transposing the output is the same as transposing the input, with channels 1 and 2 swapped.
    """
    d = _check_ssm(melodic_ssm, "melodic_ssm")
    n_bars = len(d)
    rows = np.zeros_like(d)
    rows[1:, :] = d[1:, :] - d[:-1, :]
    columns = np.zeros_like(d)
    columns[:, 1:] = d[:, 1:] - d[:, :-1]
    idx = np.arange(n_bars)
    diagonal = (np.log1p(np.abs(idx[:, None] - idx[None, :])) / inputs.diagonal_scale).astype(np.float32)
    return np.stack([d, rows, columns, diagonal], axis=-1)


def _batch_features(melodic: np.ndarray, inputs: SsmInputs) -> np.ndarray:
    """:func:`input_features` of a stack of SSMs ``(batch, n, n)`` -> ``(batch, n, n, N_FEATURES)``."""
    return np.stack([input_features(m, inputs=inputs) for m in melodic])


def off_diagonal_mask(n_bars: int) -> np.ndarray:
    """``np.ndarray [shape=(n_bars, n_bars), bool]``: True off the diagonal."""
    return ~np.eye(n_bars, dtype=bool)


# --- the network ------------------------------------------------------------------------------


class Symmetrize(layers.Layer):
    """``(x + x^T) / 2`` over the two bar axes of ``(batch, n, n, channels)``, then the channel axis
    dropped: ``(batch, n, n)``. Addition commutes exactly, so the output is exactly symmetric."""

    def call(self, x: Any) -> Any:
        symmetric = 0.5 * (x + ops.transpose(x, (0, 2, 1, 3)))
        return ops.squeeze(symmetric, axis=-1)

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(input_shape[:-1])


def receptive_field(config: SsmGeneratorConfig) -> int:
    """Bars along each axis that one output cell sees (3x3 stem, then each dilated 3x3)."""
    return 1 + 2 * (1 + sum(config.dilations))


@dataclass(frozen=True)
class SsmGenerator:
    """The drum-SSM generator's Keras model and the input constants it was trained with.

    Attributes
    ----------
    model : keras.Model
        ``(batch, n_bars, n_bars, N_FEATURES)`` float32 -> ``(batch, n_bars, n_bars)`` distances in
        [0, 1], exactly symmetric; any ``n_bars``.
    inputs : SsmInputs
        How :func:`input_features` makes its input (saved with the model).
    """

    model: keras.Model
    inputs: SsmInputs = CURRENT_SSM_INPUTS

    def count_params(self) -> int:
        """Trainable and non-trainable parameters."""
        return int(self.model.count_params())


def build_ssm_generator(
    config: SsmGeneratorConfig, *, inputs: SsmInputs = CURRENT_SSM_INPUTS
) -> SsmGenerator:
    """Build the (untrained) drum-SSM generator.

    Parameters
    ----------
    config : SsmGeneratorConfig
        Uses ``channels`` and ``dilations``.
    inputs : SsmInputs
        Kept on the result, so that prediction makes the input as the model was trained.

    Returns
    -------
    SsmGenerator
    """
    if config.channels < 1 or not config.dilations or min(config.dilations) < 1:
        raise ParameterError(
            f"ssm_generator needs channels >= 1 and dilations >= 1, got {config.channels}, {config.dilations}"
        )
    features = keras.Input((None, None, N_FEATURES), name="features")
    x = layers.Conv2D(config.channels, 3, padding="same", name="stem")(features)
    for block, dilation in enumerate(config.dilations):
        h = layers.Conv2D(
            config.channels,
            3,
            padding="same",
            dilation_rate=dilation,
            activation="relu",
            name=f"block{block}_dilated",
        )(x)
        h = layers.Conv2D(config.channels, 1, name=f"block{block}_mix")(h)
        x = layers.Add(name=f"block{block}_add")([x, h])
    x = layers.Activation("relu", name="head_relu")(x)
    x = layers.Conv2D(1, 1, activation="sigmoid", name="head")(x)
    outputs = Symmetrize(name="drum_ssm")(x)
    return SsmGenerator(model=keras.Model(features, outputs, name="drum_ssm_generator"), inputs=inputs)


def architecture(config: SsmGeneratorConfig) -> dict[str, Any]:
    """What a saved model records about its network (the config section rebuilds it)."""
    return {
        "type": "dilated residual fully convolutional network, symmetric sigmoid output",
        "features": list(FEATURES),
        "channels": config.channels,
        "dilations": list(config.dilations),
        "receptive_field_bars": receptive_field(config),
        "loss": "masked L1 on off-diagonal entries inside the song",
    }


def masked_l1_loss(y_true: Any, y_pred: Any) -> Any:
    """Mean absolute error over the weighted entries of a batch (a scalar).

    Parameters
    ----------
    y_true : tensor [shape=(batch, n, n, 2), float32]
        Channel 0 the true drum distances, channel 1 the weight of each entry (1 off the diagonal
        inside the song, 0 on the diagonal and in the zero padding).
    y_pred : tensor [shape=(batch, n, n), float32]
    """
    target = y_true[..., 0]
    weight = y_true[..., 1]
    total = ops.sum(ops.abs(y_pred - target) * weight)
    return total / ops.maximum(ops.sum(weight), 1.0)


def _targets(drum: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Stack crops' drum SSMs and their loss weights: ``(batch, n, n, 2)`` float32."""
    weight = mask * off_diagonal_mask(drum.shape[-1])[None]
    return np.stack([drum, weight], axis=-1).astype(np.float32)


# --- prediction -------------------------------------------------------------------------------


def predict_drum_ssm(generator: SsmGenerator, melodic_ssm: np.ndarray) -> np.ndarray:
    """Predict a song's drum SSM from its melodic SSM.

    Parameters
    ----------
    generator : SsmGenerator
        From :func:`build_ssm_generator` or :func:`load_ssm_generator`; its input is made with its
        own constants (``generator.inputs``).
    melodic_ssm : np.ndarray [shape=(n_bars, n_bars), distances in [0, 1]]

    Returns
    -------
    np.ndarray [shape=(n_bars, n_bars), float32]
        Predicted drum distances: symmetric, zero diagonal, in [0, 1].
    """
    features = input_features(melodic_ssm, inputs=generator.inputs)
    predicted = keras.ops.convert_to_numpy(generator.model(features[None], training=False))[0]
    predicted = np.asarray(predicted, dtype=np.float32)
    predicted = 0.5 * (predicted + predicted.T)
    np.fill_diagonal(predicted, 0.0)
    return np.clip(predicted, 0.0, 1.0).astype(np.float32)


# --- baselines --------------------------------------------------------------------------------


def _off_diagonal_pairs(songs: list[SongData]) -> list[tuple[np.ndarray, np.ndarray]]:
    pairs = []
    for song in songs:
        melodic = np.asarray(song.arrays["melodic_ssm"], dtype=np.float64)
        drum = np.asarray(song.arrays["drum_ssm"], dtype=np.float64)
        off = off_diagonal_mask(len(melodic))
        pairs.append((melodic[off], drum[off]))
    if not any(len(m) for m, _ in pairs):
        raise ParameterError(f"fitting a baseline needs songs of >= 2 bars; got {len(songs)} songs")
    return pairs


def _finish(predicted: np.ndarray) -> np.ndarray:
    predicted = np.clip(predicted, 0.0, 1.0).astype(np.float32)
    np.fill_diagonal(predicted, 0.0)
    return predicted


class MeanSsmBaseline:
    """Trivial predictor: the training songs' mean off-diagonal drum distance everywhere.

    The mean is pooled over every off-diagonal entry of every training song (the constant with the
    least squared error). Zero diagonal.
    """

    name = "mean"

    def __init__(self, value: float | None = None) -> None:
        self.value = value

    def fit(self, songs: list[SongData]) -> MeanSsmBaseline:
        """Fit on songs with ``drum_ssm`` arrays; returns itself."""
        pairs = _off_diagonal_pairs(songs)
        total = sum(float(d.sum()) for _, d in pairs)
        count = sum(len(d) for _, d in pairs)
        self.value = total / count
        return self

    def predict(self, melodic_ssm: np.ndarray) -> np.ndarray:
        """``np.ndarray [shape=(n_bars, n_bars), float32]``: the mean off the diagonal, 0 on it."""
        if self.value is None:
            raise ParameterError("MeanSsmBaseline must be fitted (.fit(songs)) before predicting")
        n_bars = len(_check_ssm(melodic_ssm, "melodic_ssm"))
        return _finish(np.full((n_bars, n_bars), self.value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (:meth:`from_dict` reads them back)."""
        return {"name": self.name, "value": self.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeanSsmBaseline:
        """Rebuild a baseline saved with :meth:`to_dict`."""
        return cls(value=data["value"])


class RescaledMelodicBaseline:
    """Trivial predictor: ``clip(a * melodic + b, 0, 1)`` with a zero diagonal.

    ``a`` and ``b`` are the least-squares fit of the drum distance on the melodic distance over
    every off-diagonal entry of every training song (``a = 0`` when the melodic entries are constant).
    """

    name = "rescaled_melodic"

    def __init__(self, a: float | None = None, b: float | None = None) -> None:
        self.a = a
        self.b = b

    def fit(self, songs: list[SongData]) -> RescaledMelodicBaseline:
        """Fit on songs with ``melodic_ssm`` and ``drum_ssm`` arrays; returns itself."""
        pairs = _off_diagonal_pairs(songs)
        count = sum(len(m) for m, _ in pairs)
        mean_m = sum(float(m.sum()) for m, _ in pairs) / count
        mean_d = sum(float(d.sum()) for _, d in pairs) / count
        covariance = sum(float(((m - mean_m) * (d - mean_d)).sum()) for m, d in pairs)
        variance = sum(float(((m - mean_m) ** 2).sum()) for m, _ in pairs)
        self.a = covariance / variance if variance > 0 else 0.0
        self.b = mean_d - self.a * mean_m
        return self

    def predict(self, melodic_ssm: np.ndarray) -> np.ndarray:
        """``np.ndarray [shape=(n_bars, n_bars), float32]``: ``clip(a * melodic + b, 0, 1)``, 0 diagonal."""
        if self.a is None or self.b is None:
            raise ParameterError("RescaledMelodicBaseline must be fitted (.fit(songs)) before predicting")
        melodic = _check_ssm(melodic_ssm, "melodic_ssm").astype(np.float64)
        return _finish(self.a * melodic + self.b)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (:meth:`from_dict` reads them back)."""
        return {"name": self.name, "a": self.a, "b": self.b}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RescaledMelodicBaseline:
        """Rebuild a baseline saved with :meth:`to_dict`."""
        return cls(a=data["a"], b=data["b"])


# --- errors -----------------------------------------------------------------------------------


def ssm_errors(predict: Callable[[np.ndarray], np.ndarray], songs: list[SongData]) -> dict[str, Any]:
    """How well a predictor recovers the songs' drum SSMs from their melodic SSMs.

    Parameters
    ----------
    predict : callable
        ``melodic_ssm (n_bars, n_bars) -> predicted drum_ssm (n_bars, n_bars)``, e.g.
        ``functools.partial(predict_drum_ssm, model)`` or a baseline's ``predict``.
    songs : list of SongData
        With ``melodic_ssm`` and ``drum_ssm`` arrays; songs of one bar are skipped.

    Returns
    -------
    dict
        ``mae``: mean absolute error of the off-diagonal entries (per song, then the mean over
        songs; distance units); ``correlation``: Pearson correlation of the predicted and true
        off-diagonal entries (per song, then the mean; 0 for a song where either is constant);
        ``n_songs``: songs scored.
    """
    maes = []
    correlations = []
    for song in songs:
        melodic = np.asarray(song.arrays["melodic_ssm"], dtype=np.float32)
        if len(melodic) < 2:
            continue
        truth = np.asarray(song.arrays["drum_ssm"], dtype=np.float64)
        predicted = np.asarray(predict(melodic), dtype=np.float64)
        if predicted.shape != truth.shape:
            raise ParameterError(
                f"song {song.song_id}: predicted SSM has shape {predicted.shape}, expected {truth.shape}"
            )
        off = off_diagonal_mask(len(truth))
        p, t = predicted[off], truth[off]
        maes.append(float(np.mean(np.abs(p - t))))
        if np.ptp(p) == 0 or np.ptp(t) == 0:
            correlations.append(0.0)
        else:
            correlations.append(float(np.corrcoef(p, t)[0, 1]))
    if not maes:
        raise ParameterError(f"ssm_errors needs songs of >= 2 bars; got {len(songs)} songs")
    return {"mae": float(np.mean(maes)), "correlation": float(np.mean(correlations)), "n_songs": len(maes)}


# --- training ---------------------------------------------------------------------------------


def _n_val_crops(songs: list[SongData], settings: SsmGeneratorConfig) -> int:
    """About one crop per ``crop_size`` bars of the validation songs, at least one batch and at most
    one epoch's worth of training crops."""
    wanted = math.ceil(sum(song.n_bars for song in songs) / settings.crop_size)
    return int(np.clip(wanted, settings.batch_size, settings.batch_size * settings.steps_per_epoch))


def _validation_loss(model: keras.Model, features: np.ndarray, targets: np.ndarray, batch_size: int) -> float:
    total = 0.0
    for start in range(0, len(features), batch_size):
        predicted = np.asarray(model.predict_on_batch(features[start : start + batch_size]), np.float64)
        chunk = targets[start : start + batch_size]
        total += float(np.sum(np.abs(predicted - chunk[..., 0]) * chunk[..., 1]))
    return total / max(float(targets[..., 1].sum()), 1.0)


def train_ssm_generator(
    train_songs: list[SongData],
    val_songs: list[SongData],
    *,
    config: Config,
    out_dir: Path | None = None,
    seed: int = 0,
    progress: bool = True,
    force: bool = False,
    data_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the drum-SSM generator, report it against the baselines, and optionally save it.

    Each epoch runs ``steps_per_epoch`` Adam steps on batches of ``batch_size`` random
    ``crop_size``-bar crops along the diagonal of the training songs (a masked L1 loss, see
    :func:`masked_l1_loss`), then scores a fixed, seeded set of validation crops. Training stops
    after ``epochs``, after ``patience`` epochs without a better validation loss, or once
    ``max_minutes`` of wall time have passed (checked after every step), and keeps the weights of
    the best epoch.

    Parameters
    ----------
    train_songs, val_songs : list of SongData
        From :func:`drumgen.dataset.load_songs` (``melodic_ssm`` and ``drum_ssm`` arrays).
    config : Config
        The resolved configuration; its ``ssm_generator`` section sets the network and training.
    out_dir : Path, optional
        Save the trained model here (:func:`drumgen.model.store.save_model`, kind ``KIND``).
    seed : int
        Seeds Keras (weights), the training crops and the validation crops.
    progress : bool
        Show a tqdm progress bar over the training steps.
    force : bool
        Replace a model already saved in ``out_dir`` (checked before training).
    data_info : dict, optional
        What to record about the data (corpus, split, dataset folders ...) in the saved config.

    Returns
    -------
    dict
        JSON-ready: ``history`` (``loss`` and ``val_loss`` per epoch, as a Keras history), ``best_epoch``
        (1-based), ``epochs_run``, ``stopped`` (``"epochs"``, ``"early_stopping"`` or
        ``"time_limit"``), ``n_params``, ``seconds``, ``n_train_songs``, ``n_val_songs``,
        ``n_val_crops``, ``seed``, and ``metrics``: :func:`ssm_errors` on the whole validation
        songs for ``model``, ``mean_baseline`` and ``rescaled_melodic_baseline`` (both fitted on the
        training songs).
    """
    from tqdm import tqdm

    settings = config.ssm_generator
    if not train_songs or not val_songs:
        raise ParameterError(
            f"training needs training and validation songs, got {len(train_songs)} and {len(val_songs)}"
        )
    if out_dir is not None:
        io.check_writable(Path(out_dir) / store.CONFIG_FILE, force=force)

    keras.utils.set_random_seed(seed)
    train_seed, val_seed = np.random.SeedSequence(seed).spawn(2)
    train_rng = np.random.default_rng(train_seed)
    val_rng = np.random.default_rng(val_seed)

    generator = build_ssm_generator(settings)
    model = generator.model
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss=masked_l1_loss)
    n_params = int(model.count_params())
    n_val_crops = _n_val_crops(val_songs, settings)
    val_melodic, val_drum, val_mask = diagonal_crops(
        val_songs, size=settings.crop_size, n_crops=n_val_crops, rng=val_rng
    )
    val_features = _batch_features(val_melodic, generator.inputs)
    val_targets = _targets(val_drum, val_mask)
    log.info(
        "training the drum-SSM generator (%d params) on %d songs, validating on %d crops of %d songs",
        n_params,
        len(train_songs),
        n_val_crops,
        len(val_songs),
    )

    history: dict[str, list[float]] = {"loss": [], "val_loss": []}  # Keras names
    best_loss = math.inf
    best_epoch = 0
    best_weights = model.get_weights()
    stopped = "epochs"
    limit_s = settings.max_minutes * 60.0
    started = time.perf_counter()
    bar = tqdm(
        total=settings.epochs * settings.steps_per_epoch,
        desc="drum-SSM generator",
        unit="step",
        disable=not progress,
    )
    try:
        for epoch in range(settings.epochs):
            batch_losses = []
            for _ in range(settings.steps_per_epoch):
                melodic, drum, mask = diagonal_crops(
                    train_songs, size=settings.crop_size, n_crops=settings.batch_size, rng=train_rng
                )
                logs = model.train_on_batch(
                    _batch_features(melodic, generator.inputs), _targets(drum, mask), return_dict=True
                )
                batch_losses.append(float(logs["loss"]))  # this batch's loss (Keras resets per call)
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{np.mean(batch_losses):.4f}")
                if time.perf_counter() - started > limit_s:
                    stopped = "time_limit"
                    break
            train_loss = float(np.mean(batch_losses))
            val_loss = _validation_loss(model, val_features, val_targets, settings.batch_size)
            history["loss"].append(train_loss)
            history["val_loss"].append(val_loss)
            log.info("epoch %d: train loss %.4f, validation loss %.4f", epoch + 1, train_loss, val_loss)
            if val_loss < best_loss:
                best_loss, best_epoch, best_weights = val_loss, epoch + 1, model.get_weights()
            elif epoch + 1 - best_epoch >= settings.patience:
                stopped = "early_stopping"
            if stopped != "epochs":
                break
    finally:
        bar.close()
    model.set_weights(best_weights)
    seconds = time.perf_counter() - started
    log.info("stopped (%s) after %d epochs; best epoch %d", stopped, len(history["val_loss"]), best_epoch)

    mean_baseline = MeanSsmBaseline().fit(train_songs)
    rescaled_baseline = RescaledMelodicBaseline().fit(train_songs)
    metrics = {
        "model": ssm_errors(lambda melodic: predict_drum_ssm(generator, melodic), val_songs),
        "mean_baseline": ssm_errors(mean_baseline.predict, val_songs),
        "rescaled_melodic_baseline": ssm_errors(rescaled_baseline.predict, val_songs),
    }
    for name, values in metrics.items():
        log.info("validation %s: MAE %.4f, correlation %.3f", name, values["mae"], values["correlation"])
    result: dict[str, Any] = {
        "history": history,
        "best_epoch": best_epoch,
        "best_val_loss": best_loss,
        "epochs_run": len(history["val_loss"]),
        "stopped": stopped,
        "n_params": n_params,
        "seconds": round(seconds, 3),
        "n_train_songs": len(train_songs),
        "n_val_songs": len(val_songs),
        "n_val_crops": n_val_crops,
        "seed": seed,
        "metrics": metrics,
    }
    if out_dir is not None:
        meta = {
            "config": config.to_dict(),
            "architecture": architecture(settings),
            "inputs": generator.inputs.to_dict(),
            "data": data_info or {},
            "training": result,
            "baselines": {
                "mean_baseline": mean_baseline.to_dict(),
                "rescaled_melodic_baseline": rescaled_baseline.to_dict(),
            },
        }
        path = store.save_model(
            out_dir, model, kind=KIND, meta=meta, force=force, format_version=FORMAT_VERSION
        )
        log.info("saved the drum-SSM generator to %s", path.parent)
    return result


def load_ssm_generator(directory: str | Path) -> tuple[SsmGenerator, dict[str, Any]]:
    """Load a drum-SSM generator saved by :func:`train_ssm_generator`.

    Parameters
    ----------
    directory : str or Path
        The model folder (``config.json`` and ``model.weights.h5``).

    Returns
    -------
    generator : SsmGenerator
        Rebuilt from the saved config's ``ssm_generator`` section, with the saved weights and the
        saved input constants (``inputs``).
    meta : dict
        The saved config (drumgen config, architecture, training record, baselines, checksum).

    Raises
    ------
    ModelError
        Missing files, unknown format version, another kind of model, a checksum mismatch,
        unusable input constants, or weights that do not fit the architecture.
    """
    meta = store.read_model_config(directory, kind=KIND, format_version=FORMAT_VERSION)
    try:
        config = config_from_dict(meta["config"])
    except (KeyError, TypeError, ParameterError) as error:
        raise ModelError(
            f"{directory}: its config.json holds no usable drumgen config ({error!r})"
        ) from error
    try:
        inputs = SsmInputs.from_dict(meta["inputs"])
    except (KeyError, TypeError, ValueError, ParameterError) as error:
        raise ModelError(f"{directory}: unusable input constants in its config ({error!r})") from error
    generator = build_ssm_generator(config.ssm_generator, inputs=inputs)
    store.load_weights_into(generator.model, directory)
    return generator, meta
