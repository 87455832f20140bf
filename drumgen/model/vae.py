"""The drum VAE: a bar's CQT and its 7 neighbours', and the note onsets of its parts -> a 46 x 16
drum pattern.

Encoder: four stride-2 3x3 convolutions over the (84, 96, 8) CQT stack, flattened; the parts input
(2 x 5 x 16 onset levels: the bar's own and its neighbours' mean, :func:`drumgen.model.data.stack_parts`)
through a small dense layer; both joined with the conditioning (tempo, song progress, genre) into
a dense layer (with dropout while training), then the mean and log-variance of a 32-dim latent.
Decoder: the latent and the conditioning -> dense layers -> 46 x 16 hit probabilities (sigmoid)
and 46 x 16 velocities (sigmoid, velocity / 127; trained on the real hits only), and a note-count
head (softplus) that predicts how many hits the bar has.

Generation samples the latent from the encoder's distribution with a seeded NumPy generator, so
the same seed gives the same drums. The density control adds ``delta`` to the predicted note count
and keeps that many most probable cells.

:func:`build_drum_vae` builds the network, :func:`load_drum_vae` rebuilds a saved one (training:
:mod:`drumgen.model.train_vae`; sampling: :mod:`drumgen.model.generate`).

Only this package imports TensorFlow / Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
from keras import layers, ops

from drumgen.bars import N_STEPS
from drumgen.config import VaeConfig, config_from_dict
from drumgen.exceptions import ModelError, ParameterError
from drumgen.model import store
from drumgen.model.data import (
    CURRENT_CONDITIONING,
    CURRENT_PARTS_ENCODING,
    N_PART_CHANNELS,
    ConditionEncoding,
    PartsEncoding,
)
from drumgen.representation import N_ROWS

KIND = "drum_vae"
FORMAT_VERSION = 3
"""The drum VAE's saved format. 1: CQT stack and conditioning only; 2: adds the parts input (its
encoding saved in ``config.json`` as ``inputs``); 3: adds the decoder's velocity output, and
``inputs`` also holds the conditioning constants (tempo centre and scale, genre order) and the
stored CQT scale (:class:`drumgen.model.data.ConditionEncoding`); since meter-aware models, also
``meter_columns`` (absent: False, the conditioning has no meter columns)."""


@dataclass(frozen=True)
class VaeShape:
    """Input sizes of a VAE: CQT bins, cells, stacked bars, conditioning length, part families."""

    n_bins: int
    n_cells: int
    n_stacked: int
    n_conditions: int
    n_families: int


class KlDivergence(layers.Layer):
    """Adds ``weight * KL(N(mean, exp(log_var)) || N(0, 1))`` (mean over latent dims) as a loss;
    passes the mean through."""

    def __init__(self, weight: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.weight = weight

    def call(self, mean: Any, log_var: Any) -> Any:
        kl = -0.5 * ops.mean(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
        self.add_loss(self.weight * ops.mean(kl))
        return mean


class Sample(layers.Layer):
    """Reparameterised latent sample during training; the mean otherwise."""

    def __init__(self, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, mean: Any, log_var: Any, training: bool | None = None) -> Any:
        if not training:
            return mean
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * noise


@dataclass(frozen=True)
class DrumVae:
    """The three Keras models of the VAE, sharing weights.

    Attributes
    ----------
    encoder : keras.Model
        {"cqt_stack", "parts", "conditions"} -> [mean, log_var]
    decoder : keras.Model
        {"latent", "conditions"} -> {"drums": (46, 16) probabilities, "velocity": (46, 16)
        velocities / 127, "note_count": (1,)}
    trainer : keras.Model
        {"cqt_stack", "parts", "conditions"} -> decoder outputs, with the KL loss attached.
    cqt_features : keras.Model
        The encoder's first half: "cqt_stack" -> its flattened convolution features.
    encoder_head : keras.Model
        The encoder's second half: {"cqt_features", "parts", "conditions"} -> [mean, log_var];
        with ``cqt_features`` it computes what ``encoder`` does, and lets generation run the
        convolutions once for all genres of a song (:func:`drumgen.model.generate.bar_probabilities`).
    parts : PartsEncoding
        How the "parts" input is made from a song's ``part_onsets`` (saved with the model).
    conditioning : ConditionEncoding
        How the "conditions" input is made and stored CQTs are scaled (saved with the model).
    """

    encoder: keras.Model
    decoder: keras.Model
    trainer: keras.Model
    cqt_features: keras.Model
    encoder_head: keras.Model
    parts: PartsEncoding = CURRENT_PARTS_ENCODING
    conditioning: ConditionEncoding = CURRENT_CONDITIONING

    def count_params(self) -> int:
        """Trainable and non-trainable parameters of the whole VAE."""
        return int(self.trainer.count_params())

    @property
    def latent_dim(self) -> int:
        """Size of the latent (the decoder's "latent" input)."""
        return int(self.decoder.input["latent"].shape[-1])


def build_drum_vae(
    shape: VaeShape,
    config: VaeConfig,
    *,
    parts: PartsEncoding = CURRENT_PARTS_ENCODING,
    conditioning: ConditionEncoding = CURRENT_CONDITIONING,
    seed: int = 0,
) -> DrumVae:
    """Build the (untrained) drum VAE.

    ``parts`` must have ``shape.n_families`` families and ``conditioning`` make
    ``shape.n_conditions`` columns; both are kept on the result so that generation encodes a
    song as the model was trained.
    """
    if len(parts.families) != shape.n_families:
        raise ParameterError(f"{len(parts.families)} part families for a VAE of {shape.n_families}")
    if conditioning.n_conditions != shape.n_conditions:
        raise ParameterError(
            f"{len(conditioning.genres)} genres make {conditioning.n_conditions} conditions "
            f"for a VAE of {shape.n_conditions}"
        )
    cqt_stack = keras.Input((shape.n_bins, shape.n_cells, shape.n_stacked), name="cqt_stack")
    parts_input = keras.Input((N_PART_CHANNELS, shape.n_families, N_STEPS), name="parts")
    conditions = keras.Input((shape.n_conditions,), name="conditions")
    x = cqt_stack
    for filters in config.conv_filters:
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    cqt_flat = layers.Flatten()(x)
    # the layers after the convolutions, made in the order the saved weights were made in
    parts_dense = layers.Dense(config.parts_units, activation="relu", name="parts_dense")
    parts_flatten = layers.Flatten()
    joined = layers.Concatenate()
    dense = layers.Dense(config.dense_units, activation="relu")
    dropout = layers.Dropout(config.dropout, seed=seed, name="encoder_dropout")
    mean_dense = layers.Dense(config.latent_dim, name="latent_mean")
    log_var_dense = layers.Dense(config.latent_dim, name="latent_log_var")

    def encoder_head(cqt_features: Any, parts_in: Any, conditions_in: Any) -> tuple[Any, Any]:
        h = dropout(dense(joined([cqt_features, parts_dense(parts_flatten(parts_in)), conditions_in])))
        return mean_dense(h), log_var_dense(h)

    mean, log_var = encoder_head(cqt_flat, parts_input, conditions)
    inputs = {"cqt_stack": cqt_stack, "parts": parts_input, "conditions": conditions}
    encoder = keras.Model(inputs, [mean, log_var], name="encoder")

    latent = keras.Input((config.latent_dim,), name="latent")
    decoder_conditions = keras.Input((shape.n_conditions,), name="conditions")
    h = layers.Concatenate()([latent, decoder_conditions])
    for units in config.decoder_units:
        h = layers.Dense(units, activation="relu")(h)
    logits = layers.Dense(N_ROWS * N_STEPS)(h)
    drums = layers.Activation("sigmoid", name="drums")(layers.Reshape((N_ROWS, N_STEPS))(logits))
    velocity_logits = layers.Dense(N_ROWS * N_STEPS, name="velocity_dense")(h)
    velocity = layers.Activation("sigmoid", name="velocity")(
        layers.Reshape((N_ROWS, N_STEPS))(velocity_logits)
    )
    c = layers.Dense(64, activation="relu")(layers.Concatenate()([latent, decoder_conditions]))
    note_count = layers.Dense(1, activation="softplus", name="note_count")(c)
    decoder = keras.Model(
        {"latent": latent, "conditions": decoder_conditions},
        {"drums": drums, "velocity": velocity, "note_count": note_count},
        name="decoder",
    )

    mean_out, log_var_out = encoder(inputs)
    mean_out = KlDivergence(config.kl_weight, name="kl")(mean_out, log_var_out)
    z = Sample(seed=seed, name="sample")(mean_out, log_var_out)
    outputs = decoder({"latent": z, "conditions": conditions})
    trainer = keras.Model(inputs, outputs, name="drum_vae")

    # the encoder in two halves on the same layers, for generation: the convolutions, which do not
    # depend on the conditions, and the rest, run once per genre
    cqt_features = keras.Model(cqt_stack, cqt_flat, name="cqt_features")
    head_inputs = {
        "cqt_features": keras.Input((int(cqt_flat.shape[-1]),), name="cqt_features"),
        "parts": keras.Input((N_PART_CHANNELS, shape.n_families, N_STEPS), name="parts"),
        "conditions": keras.Input((shape.n_conditions,), name="conditions"),
    }
    head = keras.Model(
        head_inputs,
        list(encoder_head(head_inputs["cqt_features"], head_inputs["parts"], head_inputs["conditions"])),
        name="encoder_head",
    )
    return DrumVae(
        encoder=encoder,
        decoder=decoder,
        trainer=trainer,
        cqt_features=cqt_features,
        encoder_head=head,
        parts=parts,
        conditioning=conditioning,
    )


def load_drum_vae(directory: str | Path) -> tuple[DrumVae, dict[str, Any]]:
    """Load a drum VAE saved by :func:`drumgen.model.train_vae.train_drum_vae`.

    Raises
    ------
    ModelError
        Missing, corrupted, of another format version (see :mod:`drumgen.model.store`), made
        with part families this drumgen does not count, or without its conditioning constants
        (``inputs`` in ``config.json``).
    """
    meta = store.read_model_config(directory, kind=KIND, format_version=FORMAT_VERSION)
    config = config_from_dict(meta["config"])
    try:
        parts = PartsEncoding.from_dict(meta["inputs"])
    except (KeyError, TypeError, ParameterError) as error:
        raise ModelError(f"{directory}: unusable parts encoding in its config ({error!r})") from error
    try:
        conditioning = ConditionEncoding.from_dict(meta["inputs"])
    except (KeyError, TypeError, ValueError, ParameterError) as error:
        raise ModelError(
            f"{directory}: unusable conditioning constants in its config's inputs ({error!r})"
        ) from error
    try:
        vae = build_drum_vae(
            VaeShape(**meta["architecture"]["shape"]), config.vae, parts=parts, conditioning=conditioning
        )
    except ParameterError as error:
        raise ModelError(f"{directory}: its inputs do not fit its architecture ({error})") from error
    store.load_weights_into(vae.trainer, directory)
    return vae, meta
