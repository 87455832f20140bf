"""The drum-SSM generator: a song's melodic SSM -> its predicted drum SSM (step 2): the network,
its inputs, prediction and loading (training, losses and baselines: :mod:`drumgen.model.train_ssm_generator`).

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

Used by notebooks ``step_2_generate_drum_ssm_from_melodic_ssm`` and ``train_drum_ssm_generator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from drumgen.config import SsmGeneratorConfig, config_from_dict
from drumgen.exceptions import ModelError, ParameterError
from drumgen.model import store

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


def check_ssm(ssm: np.ndarray, name: str) -> np.ndarray:
    """``ssm`` as float32, refused (ParameterError) unless a non-empty square matrix."""
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
    d = check_ssm(melodic_ssm, "melodic_ssm")
    n_bars = len(d)
    rows = np.zeros_like(d)
    rows[1:, :] = d[1:, :] - d[:-1, :]
    columns = np.zeros_like(d)
    columns[:, 1:] = d[:, 1:] - d[:, :-1]
    idx = np.arange(n_bars)
    diagonal = (np.log1p(np.abs(idx[:, None] - idx[None, :])) / inputs.diagonal_scale).astype(np.float32)
    return np.stack([d, rows, columns, diagonal], axis=-1)


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


# --- loading ----------------------------------------------------------------------------------


def load_ssm_generator(directory: str | Path) -> tuple[SsmGenerator, dict[str, Any]]:
    """Load a drum-SSM generator saved by :func:`drumgen.model.train_ssm_generator.train_ssm_generator`.

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
