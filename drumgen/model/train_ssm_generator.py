"""Training the drum-SSM generator (``drumgen train ssm``): its loss, the two trivial baselines it
is reported against, and the training loop (the network, its inputs and loading:
:mod:`drumgen.model.ssm_generator`).

Training (:func:`train_ssm_generator`) uses random square crops along the diagonal of the training
songs' SSMs (:func:`drumgen.model.data.diagonal_crops`) and a masked L1 loss on the off-diagonal
entries that lie inside the song. Two trivial predictors are always reported with it
(:class:`MeanSsmBaseline`, :class:`RescaledMelodicBaseline`), with :func:`ssm_errors` on whole
songs: mean absolute error and Pearson correlation of the off-diagonal entries.

Used by notebook ``train_drum_ssm_generator``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from drumgen import io
from drumgen.config import Config, SsmGeneratorConfig
from drumgen.exceptions import ParameterError
from drumgen.model import store
from drumgen.model.data import diagonal_crops
from drumgen.model.ssm_generator import (
    FORMAT_VERSION,
    KIND,
    SsmInputs,
    architecture,
    build_ssm_generator,
    check_ssm,
    input_features,
    off_diagonal_mask,
    predict_drum_ssm,
)
from drumgen.songdata import SongData

log = logging.getLogger(__name__)


# --- losses -----------------------------------------------------------------------------------


def _batch_features(melodic: np.ndarray, inputs: SsmInputs) -> np.ndarray:
    """:func:`~drumgen.model.ssm_generator.input_features` of a stack of SSMs ``(batch, n, n)``
    -> ``(batch, n, n, N_FEATURES)``."""
    return np.stack([input_features(m, inputs=inputs) for m in melodic])


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
        n_bars = len(check_ssm(melodic_ssm, "melodic_ssm"))
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
        melodic = check_ssm(melodic_ssm, "melodic_ssm").astype(np.float64)
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
        ``functools.partial(predict_drum_ssm, generator)`` or a baseline's ``predict``.
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
