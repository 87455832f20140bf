"""Training the drum VAE on a built dataset (``drumgen train vae``).

Batches of 8-bar stacks and the bars' part onsets are built on the fly from the stored per-bar
CQTs and ``part_onsets``; training batches are augmented with random CQT pitch shifts (whole
semitones, ``vae.pitch_shift_semitones``; the onsets, which do not depend on pitch, stay). The losses:
hit BCE, the velocity head's squared error on the real hits only (:func:`masked_velocity_loss`,
weight ``vae.velocity_weight``), the note count's squared error, and the KL term. Training runs on
whatever TensorFlow sees (CPU here, a CUDA GPU when TensorFlow has one), keeps the weights of the
best validation epoch, checkpoints every epoch, stops early when the validation loss stops
improving or after ``max_minutes``, and saves the model with its config and training history.
:func:`training_setup` and :func:`training_batches` build what it trains, for the benchmark
``scripts/benchmark_vae_training.py`` as well.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from drumgen.bars import N_STEPS
from drumgen.config import Config
from drumgen.model import store
from drumgen.model.data import (
    CURRENT_CONDITIONING,
    CURRENT_PARTS_ENCODING,
    BarTable,
    ConditionEncoding,
    PartsEncoding,
    genre_shares,
    random_pitch_shifts,
    shift_pitch,
)
from drumgen.model.generate import decode_hits, sample_decoder
from drumgen.model.vae import FORMAT_VERSION, KIND, DrumVae, VaeShape, build_drum_vae
from drumgen.songdata import SongData

log = logging.getLogger(__name__)


EARLY_STOPPING_MONITOR = "val_drums_loss"
"""Early stopping watches the hit cells' validation loss: they are what generation uses (the
arranger never reads the note-count head), and the count head's error, which keeps falling on the
training songs while it stays flat on new ones, would otherwise decide which epoch is kept."""


class BarBatches(keras.utils.PyDataset):
    """Batches of (inputs, targets) from a :class:`BarTable`, reshuffled every epoch when asked.

    With ``max_semitones`` > 0 every example's CQT stack is shifted by a random whole number of
    semitones in ``[-max_semitones, max_semitones]`` (:func:`drumgen.model.data.shift_pitch`; the
    same shift for all its stacked bars). The shifts of batch ``index`` in epoch ``e`` are drawn
    from ``default_rng([seed, e, index])``, so they do not depend on the order Keras asks for batches.
    An epoch shows every target bar once, and the bars written in another meter
    ``other_meter_repeats`` times (:meth:`BarTable.epoch_examples`).
    """

    def __init__(
        self,
        table: BarTable,
        *,
        batch_size: int,
        shuffle: bool,
        seed: int,
        max_semitones: int = 0,
        bins_per_octave: int = 12,
        encoding: PartsEncoding = CURRENT_PARTS_ENCODING,
        other_meter_repeats: int = 1,
    ) -> None:
        super().__init__()
        self.table = table
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.max_semitones = max_semitones
        self.bins_per_octave = bins_per_octave
        self.encoding = encoding
        self.epoch = 0
        self.rng = np.random.default_rng(seed)
        self.examples = table.epoch_examples(other_meter_repeats)
        self.order = self.rng.permutation(self.examples) if shuffle else self.examples

    def __len__(self) -> int:
        return int(np.ceil(len(self.examples) / self.batch_size))

    def __getitem__(self, index: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        bar_idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        inputs, targets = self.table.batch(bar_idx, encoding=self.encoding)
        if self.max_semitones > 0:
            shifts = random_pitch_shifts(
                len(bar_idx),
                max_semitones=self.max_semitones,
                bins_per_octave=self.bins_per_octave,
                rng=np.random.default_rng([self.seed, self.epoch, index]),
            )
            inputs["cqt_stack"] = shift_pitch(inputs["cqt_stack"], shifts)
        return inputs, targets

    def on_epoch_end(self) -> None:
        self.epoch += 1
        if self.shuffle:
            self.order = self.rng.permutation(self.examples)

    def as_tf_dataset(self) -> tf.data.Dataset:
        """These batches as a ``tf.data.Dataset``: one pass is one epoch.

        Every pass after the first starts with :meth:`on_epoch_end` (the reshuffle). Keras's
        ``fit`` opens the next epoch's pass right after the last step, without reading the
        previous pass to its end, so a reshuffle at the end of a pass would depend on the
        previous pass's prefetch thread getting there before the new pass reads its first batch.

        What ``fit`` trains on. Given the PyDataset itself, Keras wraps it in a generator dataset
        prefetched with ``tf.data.AUTOTUNE``. On a 2-core CPU that feed ran a step about a quarter
        slower on 200 songs; on the full training set 4 % (best rounds) to 15 % (mean of six)
        slower, within the machine's noise (``scripts/benchmark_vae_training.py``; README,
        "Training"). Here tf.data's autotuning is off and one batch is made ahead while the step
        runs.
        """
        inputs, targets = self[0]

        def spec(arrays: dict[str, np.ndarray]) -> dict[str, tf.TensorSpec]:
            return {
                name: tf.TensorSpec((None, *array.shape[1:]), tf.as_dtype(array.dtype))
                for name, array in arrays.items()
            }

        passes = itertools.count()

        def one_epoch() -> Any:
            if next(passes) > 0:
                self.on_epoch_end()
            for index in range(len(self)):
                yield self[index]

        options = tf.data.Options()
        options.autotune.enabled = False
        dataset = tf.data.Dataset.from_generator(one_epoch, output_signature=(spec(inputs), spec(targets)))
        return (
            dataset.apply(tf.data.experimental.assert_cardinality(len(self)))
            .prefetch(1)
            .with_options(options)
        )


class TimeLimit(keras.callbacks.Callback):
    """Stop training once ``minutes`` have passed (checked after every batch; the cut epoch is
    still validated, and early stopping then restores the best epoch's weights)."""

    def __init__(self, minutes: float) -> None:
        super().__init__()
        self.seconds = minutes * 60.0
        self.started = 0.0
        self.stopped_early = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if time.perf_counter() - self.started > self.seconds:
            self.stopped_early = True
            self.model.stop_training = True


def masked_velocity_loss(y_true: Any, y_pred: Any) -> Any:
    """Squared error of the predicted velocities on the real hits only, per bar.

    ``y_true`` is velocity / 127 on the hits and 0 elsewhere, so the hits are its non-zero cells;
    each bar's loss is the mean over its hits (0 for a bar without hits, which teaches nothing).

    Returns
    -------
    tensor [shape=(batch,)]
    """
    mask = ops.cast(y_true > 0, y_pred.dtype)
    squared = ops.square(y_pred - ops.cast(y_true, y_pred.dtype)) * mask
    n_hits = ops.sum(mask, axis=(1, 2))
    return ops.sum(squared, axis=(1, 2)) / ops.maximum(n_hits, 1.0)


def compile_vae(vae: DrumVae, config: Config) -> None:
    """Attach optimizer and losses (cell-wise BCE, velocity squared error on the real hits,
    note-count squared error)."""
    vae.trainer.compile(
        optimizer=keras.optimizers.Adam(config.vae.learning_rate),
        loss={"drums": "binary_crossentropy", "velocity": masked_velocity_loss, "note_count": "mse"},
        loss_weights={
            "drums": 1.0,
            "velocity": config.vae.velocity_weight,
            "note_count": config.vae.count_weight,
        },
    )


DECODINGS = ((1.0, "count"), (0.0, "count"), (1.0, "threshold"), (0.0, "threshold"))
"""(temperature, decode) pairs tried on the validation songs after training; the best is kept."""


def onset_scores(
    vae: DrumVae,
    table: BarTable,
    *,
    seed: int,
    temperature: float = 1.0,
    decode: str = "count",
    batch_size: int = 256,
) -> dict[str, float]:
    """Cell-level precision, recall and F1 of generated bars (density delta 0) against the truth,
    over the table's target bars (``target_idx``: the 16-step bars and, for a meter-aware VAE, the
    bars it writes in another meter)."""
    rng = np.random.default_rng(seed)
    true_positive = n_predicted = actual = 0
    for start in range(0, table.n_targets, batch_size):
        bar_idx = table.target_idx[start : start + batch_size]
        inputs, targets = table.batch(bar_idx, encoding=vae.parts)
        predicted = sample_decoder(vae, inputs, rng=rng, temperature=temperature)
        hits = decode_hits(predicted.probabilities, predicted.counts, delta=0, mode=decode)
        truth = targets["drums"] > 0.5
        true_positive += int(np.sum(hits & truth))
        n_predicted += int(hits.sum())
        actual += int(truth.sum())
    precision = true_positive / n_predicted if n_predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


BANK_SIZE = 256
"""Real training bars kept with the model for the random-bar baseline of the evaluation."""


def baseline_bars(table: BarTable, *, seed: int) -> dict[str, Any]:
    """Training-set drum bars for the evaluation's baselines, as lists of [row, step] hits.

    Returns
    -------
    dict
        ``most_common_bar``: the most frequent non-empty bar of the training songs;
        ``random_bars``: ``BANK_SIZE`` training bars drawn with ``seed`` (empty ones included).
        Both from the 16-step target bars (a meter-aware table's waltz bars are left out: the
        baselines' bars are 4/4 bars, fitted to other meters by rule).
    """
    rows = table.target_idx[table.written_steps[table.target_idx] == N_STEPS]
    hits = table.drum_hits[rows] > 0.5
    flat = np.packbits(hits.reshape(len(hits), -1), axis=1)
    non_empty = hits.any(axis=(1, 2))
    patterns, counts = np.unique(flat[non_empty], axis=0, return_counts=True)
    most_common = np.unpackbits(patterns[np.argmax(counts)])[: hits[0].size].reshape(hits.shape[1:])
    picks = np.random.default_rng(seed).choice(len(hits), size=min(BANK_SIZE, len(hits)), replace=False)
    return {
        "most_common_bar": np.argwhere(most_common).tolist(),
        "random_bars": [np.argwhere(hits[i]).tolist() for i in picks],
    }


@dataclasses.dataclass(frozen=True)
class TrainingSetup:
    """A compiled, untrained drum VAE and the bar tables it trains and validates on."""

    vae: DrumVae
    shape: VaeShape
    train: BarTable
    val: BarTable
    parts: PartsEncoding
    conditioning: ConditionEncoding


def training_setup(
    train_songs: list[SongData], val_songs: list[SongData], *, config: Config, seed: int = 0
) -> TrainingSetup:
    """Build the bar tables and a compiled VAE shaped for them (what :func:`train_drum_vae` trains).

    A song of unknown genre is conditioned like an average training song: the conditioning's
    ``unknown_genre_mix`` holds the training songs' genre shares.
    """
    conditioning = dataclasses.replace(
        CURRENT_CONDITIONING,
        song_context=config.vae.song_context,
        unknown_genre_mix=genre_shares(
            [song.genre for song in train_songs], known=CURRENT_CONDITIONING.genres
        ),
    )
    train = BarTable.from_songs(train_songs, conditioning=conditioning)
    val = BarTable.from_songs(val_songs, conditioning=conditioning)
    parts = CURRENT_PARTS_ENCODING
    shape = VaeShape(
        n_bins=train.bar_cqts.shape[1],
        n_cells=train.bar_cqts.shape[2],
        n_stacked=train.neighbor_idx.shape[1] + 1,
        n_conditions=conditioning.n_conditions,
        n_families=len(parts.families),
    )
    vae = build_drum_vae(shape, config.vae, parts=parts, conditioning=conditioning, seed=seed)
    compile_vae(vae, config)
    return TrainingSetup(vae, shape, train, val, parts, conditioning)


def training_batches(setup: TrainingSetup, *, config: Config, seed: int = 0) -> tuple[BarBatches, BarBatches]:
    """The training batches (reshuffled and pitch-shifted every epoch) and the validation ones."""
    train = BarBatches(
        setup.train,
        batch_size=config.vae.batch_size,
        shuffle=True,
        seed=seed,
        max_semitones=config.vae.pitch_shift_semitones,
        bins_per_octave=config.features.bins_per_octave,
        encoding=setup.parts,
        other_meter_repeats=config.vae.other_meter_repeats,
    )
    val = BarBatches(
        setup.val, batch_size=config.vae.batch_size, shuffle=False, seed=seed, encoding=setup.parts
    )
    return train, val


def train_drum_vae(
    train_songs: list[SongData],
    val_songs: list[SongData],
    *,
    config: Config,
    out_dir: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
    force: bool = False,
    data_info: dict[str, Any] | None = None,
) -> tuple[DrumVae, dict[str, Any]]:
    """Train the drum VAE; save it to ``out_dir`` if given.

    Parameters
    ----------
    train_songs, val_songs : list of SongData
        From :func:`drumgen.dataset.load_songs` (training and validation splits); each needs
        ``part_onsets``.
    config : Config
        ``config.vae`` holds the architecture, training and augmentation settings
        (``dropout``, ``pitch_shift_semitones``).
    data_info : dict, optional
        What to record about the data (corpus, split, dataset folders ...).

    Returns
    -------
    vae : DrumVae
    report : dict
        History per epoch, epochs run, seconds, parameter count, device, validation onset scores.
        The decoding (latent temperature, count or threshold) with the best validation F1 is
        written into the saved config's ``generation`` section.
    """
    if out_dir is not None:
        store.check_can_save(out_dir, force=force)
    keras.utils.set_random_seed(seed)
    setup = training_setup(train_songs, val_songs, config=config, seed=seed)
    vae, train, val = setup.vae, setup.train, setup.val
    log.info(
        "training the drum VAE (%d parameters) on %d bars of %d songs, validating on %d bars of %d songs",
        vae.count_params(),
        train.n_targets,
        len(train_songs),
        val.n_targets,
        len(val_songs),
    )
    time_limit = TimeLimit(config.vae.max_minutes)
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(
            monitor=EARLY_STOPPING_MONITOR,
            mode="min",
            patience=config.vae.patience,
            restore_best_weights=True,
        ),
        time_limit,
    ]
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(Path(out_dir) / "checkpoint.weights.h5"), save_weights_only=True
            )
        )
    started = time.perf_counter()
    train_batches, val_batches = training_batches(setup, config=config, seed=seed)
    history = vae.trainer.fit(
        train_batches.as_tf_dataset(),
        validation_data=val_batches.as_tf_dataset(),
        epochs=config.vae.epochs,
        shuffle=False,  # BarBatches reshuffles every epoch itself
        callbacks=callbacks,
        verbose=1 if progress else 2,
    )
    seconds = time.perf_counter() - started
    decodings = {
        f"temperature {temperature:g}, {decode}": onset_scores(
            vae, val, seed=seed, temperature=temperature, decode=decode
        )
        for temperature, decode in DECODINGS
    }
    best = max(DECODINGS, key=lambda pair: decodings[f"temperature {pair[0]:g}, {pair[1]}"]["f1"])
    config = config.replace(generation={"temperature": best[0], "decode": best[1]})
    scores = decodings[f"temperature {best[0]:g}, {best[1]}"]
    gpus = tf.config.list_physical_devices("GPU")
    report = {
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
        "epochs_run": len(history.history["loss"]),
        "best_val_loss": float(min(history.history["val_loss"])),
        "early_stopping_monitor": EARLY_STOPPING_MONITOR,
        "best_epoch": int(np.argmin(history.history[EARLY_STOPPING_MONITOR])) + 1,
        "stopped_by_time_limit": time_limit.stopped_early,
        "seconds": round(seconds, 1),
        "device": f"GPU ({gpus[0].name})" if gpus else "CPU",
        "n_params": vae.count_params(),
        "n_train_songs": len(train_songs),
        "n_train_bars": train.n_targets,
        "n_val_songs": len(val_songs),
        "n_val_bars": val.n_targets,
        "val_onset_scores": scores,
        "val_onset_scores_by_decoding": decodings,
        "chosen_decoding": {"temperature": best[0], "decode": best[1]},
    }
    log.info(
        "trained in %.0f s over %d epochs; validation onset F1 %.3f",
        seconds,
        report["epochs_run"],
        scores["f1"],
    )
    if out_dir is not None:
        store.save_model(
            out_dir,
            vae.trainer,
            kind=KIND,
            meta={
                "config": config.to_dict(),
                "architecture": {"shape": setup.shape.__dict__, "vae": config.vae.__dict__},
                "inputs": {**setup.parts.to_dict(), **setup.conditioning.to_dict()},
                "soundfont": config.render.soundfont,
                "data": data_info or {},
                "training": report,
                "baselines": baseline_bars(train, seed=seed),
            },
            force=True,
            format_version=FORMAT_VERSION,
        )
        (Path(out_dir) / "checkpoint.weights.h5").unlink(missing_ok=True)
    return vae, report
