"""The trained models a generation run needs, loaded once and shared across songs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drumgen import io
from drumgen.config import Config, config_from_dict, load_config
from drumgen.drummer import DrummerModel, load_drummer
from drumgen.exceptions import ModelError
from drumgen.model.vae import DrumVae, load_drum_vae

RUN_TIME_SECTIONS: tuple[str, ...] = ("sections", "drum_changes", "arrangement", "feel", "audio")
"""Config sections taken from the preset at run time rather than from a model's saved config."""


def analysis_rate_of(saved: Config, preset: Config) -> dict[str, dict[str, int]]:
    """The preset's render sample rate and CQT hop, as config changes, where they give the CQT
    frames a model was trained on: the same frames a second (``sample_rate / hop_length``) and
    the same bins (fmin, bins per octave, count, dB floor); otherwise no change ({}).

    The CQT's top bin (4.2 kHz) lies far below Nyquist at either 22.05 or 44.1 kHz, so a model
    trained on 44.1 kHz renders hears the same notes in a 22.05 kHz render, which takes half the
    time (README, "Speed": the shipped models score the same on the validation songs either way).
    """
    same_frames = (
        saved.render.sample_rate * preset.features.hop_length
        == preset.render.sample_rate * saved.features.hop_length
    )
    same_bins = dataclasses.replace(saved.features, hop_length=preset.features.hop_length) == preset.features
    if not (same_frames and same_bins):
        return {}
    return {
        "render": {"sample_rate": preset.render.sample_rate},
        "features": {"hop_length": preset.features.hop_length},
    }


@dataclass(frozen=True)
class Models:
    """Loaded models and their saved configs.

    Attributes
    ----------
    model_dir : Path
        Holds ``drum_vae/`` and ``drum_ssm_generator/`` (see :mod:`drumgen.model.store`).
    vae, vae_meta
        The drum VAE and its config (None when not asked for).
    ssm_generator, ssm_meta
        The drum-SSM generator (an :class:`~drumgen.model.ssm_generator.SsmGenerator`) and its
        config (None when not asked for).
    drummer : DrummerModel
        Velocity, fill and lay-out tables (:mod:`drumgen.drummer`; None when not asked for).
    """

    model_dir: Path
    vae: DrumVae | None = None
    vae_meta: dict[str, Any] | None = None
    ssm_generator: Any = None
    ssm_meta: dict[str, Any] | None = None
    drummer: DrummerModel | None = None

    @property
    def config(self) -> Config:
        """The config songs are generated with: the drum VAE's own (songs are analysed as its
        training data was, and decoded as chosen on its validation songs), with the section
        finding and arranging settings of its preset as they are now (:data:`RUN_TIME_SECTIONS`:
        nothing is learned from them, so the preset, not the model, decides them), and the
        preset's render sample rate where it gives the model's CQT frames (:func:`analysis_rate_of`)."""
        saved = config_from_dict(self.require("vae_meta")["config"])
        preset = load_config(saved.preset)
        return saved.replace(
            **{name: dataclasses.asdict(getattr(preset, name)) for name in RUN_TIME_SECTIONS},
            **analysis_rate_of(saved, preset),
        )

    def require(self, name: str) -> Any:
        """A loaded attribute (e.g. ``"vae_meta"``), or :class:`ModelError` if it was not loaded."""
        value = getattr(self, name)
        if value is None:
            raise ModelError(f"{name} was not loaded from {self.model_dir}")
        return value


def load_models(
    model_dir: str | Path | None = None,
    *,
    vae: bool = True,
    ssm_generator: bool = True,
    drummer: bool = True,
) -> Models:
    """Load the drum VAE, the drum-SSM generator and/or the drummer model from a model folder.

    Raises
    ------
    ModelError
        If a requested model is missing or broken.
    """
    from drumgen.model.ssm_generator import load_ssm_generator

    model_dir = Path(model_dir) if model_dir is not None else io.DEFAULT_MODEL_DIR
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: no such model folder")
    loaded: dict[str, Any] = {}
    if vae:
        loaded["vae"], loaded["vae_meta"] = load_drum_vae(model_dir / io.VAE_SUBDIR)
    if ssm_generator:
        loaded["ssm_generator"], loaded["ssm_meta"] = load_ssm_generator(model_dir / io.SSM_GENERATOR_SUBDIR)
    if drummer:
        loaded["drummer"] = load_drummer(model_dir / io.DRUMMER_SUBDIR)
    return Models(model_dir=model_dir, **loaded)
