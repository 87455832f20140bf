"""The drum VAE: a bar's CQT and its 7 neighbours' -> a 46 x 16 drum pattern.

Encoder: four stride-2 3x3 convolutions over the (84, 96, 8) stack, a dense layer joined with the
conditioning (tempo, song progress, genre), then the mean and log-variance of a 32-dim latent.
Decoder: the latent and the conditioning -> dense layers -> 46 x 16 hit probabilities (sigmoid),
and a note-count head (softplus) that predicts how many hits the bar has.

Generation samples the latent from the encoder's distribution with a seeded NumPy generator, so
the same seed gives the same drums. The density control adds ``delta`` to the predicted note count
and keeps that many most probable cells.

Only this package imports TensorFlow / Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
from keras import layers, ops

from drumgen.config import VaeConfig
from drumgen.representation import N_ROWS

N_STEPS = 16


@dataclass(frozen=True)
class VaeShape:
    """Input sizes of a VAE: CQT bins, cells, stacked bars, conditioning length."""

    n_bins: int
    n_cells: int
    n_stacked: int
    n_conditions: int


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
        {"cqt_stack", "conditions"} -> [mean, log_var]
    decoder : keras.Model
        {"latent", "conditions"} -> {"drums": (46, 16) probabilities, "note_count": (1,)}
    trainer : keras.Model
        {"cqt_stack", "conditions"} -> decoder outputs, with the KL loss attached.
    """

    encoder: keras.Model
    decoder: keras.Model
    trainer: keras.Model

    def count_params(self) -> int:
        """Trainable and non-trainable parameters of the whole VAE."""
        return int(self.trainer.count_params())


def build_drum_vae(shape: VaeShape, config: VaeConfig, *, seed: int = 0) -> DrumVae:
    """Build the (untrained) drum VAE."""
    cqt_stack = keras.Input((shape.n_bins, shape.n_cells, shape.n_stacked), name="cqt_stack")
    conditions = keras.Input((shape.n_conditions,), name="conditions")
    x = cqt_stack
    for filters in config.conv_filters:
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Concatenate()([x, conditions])
    x = layers.Dense(config.dense_units, activation="relu")(x)
    mean = layers.Dense(config.latent_dim, name="latent_mean")(x)
    log_var = layers.Dense(config.latent_dim, name="latent_log_var")(x)
    encoder = keras.Model({"cqt_stack": cqt_stack, "conditions": conditions}, [mean, log_var], name="encoder")

    latent = keras.Input((config.latent_dim,), name="latent")
    decoder_conditions = keras.Input((shape.n_conditions,), name="conditions")
    h = layers.Concatenate()([latent, decoder_conditions])
    for units in config.decoder_units:
        h = layers.Dense(units, activation="relu")(h)
    logits = layers.Dense(N_ROWS * N_STEPS)(h)
    drums = layers.Activation("sigmoid", name="drums")(layers.Reshape((N_ROWS, N_STEPS))(logits))
    c = layers.Dense(64, activation="relu")(layers.Concatenate()([latent, decoder_conditions]))
    note_count = layers.Dense(1, activation="softplus", name="note_count")(c)
    decoder = keras.Model(
        {"latent": latent, "conditions": decoder_conditions},
        {"drums": drums, "note_count": note_count},
        name="decoder",
    )

    mean_out, log_var_out = encoder({"cqt_stack": cqt_stack, "conditions": conditions})
    mean_out = KlDivergence(config.kl_weight, name="kl")(mean_out, log_var_out)
    z = Sample(seed=seed, name="sample")(mean_out, log_var_out)
    outputs = decoder({"latent": z, "conditions": conditions})
    trainer = keras.Model({"cqt_stack": cqt_stack, "conditions": conditions}, outputs, name="drum_vae")
    return DrumVae(encoder=encoder, decoder=decoder, trainer=trainer)
