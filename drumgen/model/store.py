"""Saving and loading trained models: Keras weights + a JSON config with a version and checksum.

A saved model is a folder::

    MODEL_DIR/
      model.weights.h5   the Keras weights (HDF5; no pickles, no serialized code)
      config.json        format_version, kind, architecture and preprocessing config, soundfont,
                         training data and metrics, and the SHA-256 of the weights file

Loading reads the config first, refuses an unknown format version, a different kind or a weights
file whose checksum does not match, then rebuilds the architecture from drumgen's own code and
loads the weights into it - so loading needs no custom-object registry.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import keras

from drumgen import io
from drumgen.exceptions import ModelError

FORMAT_VERSION = 1
"""The format a model kind starts at; a kind whose inputs change bumps its own (the drum VAE's:
:data:`drumgen.model.vae.FORMAT_VERSION`, the drum-SSM generator's:
:data:`drumgen.model.ssm_generator.FORMAT_VERSION`)."""
WEIGHTS_FILE = "model.weights.h5"
CONFIG_FILE = "config.json"


def save_model(
    directory: str | Path,
    model: keras.Model,
    *,
    kind: str,
    meta: dict[str, Any],
    force: bool = False,
    format_version: int = FORMAT_VERSION,
) -> Path:
    """Save a model's weights and its config (``meta`` plus format, kind, checksum, versions).

    Parameters
    ----------
    directory : str or Path
        The model folder (created).
    model : keras.Model
    kind : str
        What the model is, e.g. ``"drum_vae"`` or ``"drum_ssm_generator"``.
    meta : dict
        JSON-ready: at least ``config`` (the resolved drumgen config) and what training recorded.
    force : bool
        Replace an existing model.
    format_version : int
        The kind's current format (what :func:`read_model_config` will ask for).

    Returns
    -------
    Path
        The config file.
    """
    directory = Path(directory)
    io.check_writable(directory / CONFIG_FILE, force=force)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    with io.atomic_path(weights) as temporary:
        staged = temporary.with_name(temporary.name + ".weights.h5")  # Keras insists on the suffix
        try:
            model.save_weights(staged)
            staged.replace(temporary)
        finally:
            staged.unlink(missing_ok=True)
    config = {
        "format_version": format_version,
        "kind": kind,
        **meta,
        "n_params": int(model.count_params()),
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": io.file_digest(weights, "sha256"),
        "saved": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": {**io.versions(), "keras": keras.__version__},
    }
    io.write_json(directory / CONFIG_FILE, config)
    return directory / CONFIG_FILE


def read_model_config(
    directory: str | Path, *, kind: str, format_version: int = FORMAT_VERSION
) -> dict[str, Any]:
    """Read and check a saved model's config; return it.

    ``format_version`` is the one version of ``kind`` this drumgen reads.

    Raises
    ------
    ModelError
        Missing files, an unknown format version, another kind of model, or a weights file whose
        checksum differs from the one recorded (corrupted or replaced).
    """
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise ModelError(f"{directory}: no {CONFIG_FILE}; expected a model saved by drumgen")
    try:
        config = io.read_json(config_path)
    except ValueError as error:
        raise ModelError(f"{config_path} is not valid JSON ({error})") from error
    if config.get("format_version") != format_version:
        raise ModelError(
            f"{config_path}: {config.get('kind', 'model')} format version {config.get('format_version')!r}, "
            f"this drumgen reads version {format_version}; retrain the model with this drumgen"
        )
    if config.get("kind") != kind:
        raise ModelError(f"{config_path}: a {config.get('kind')!r} model, expected {kind!r}")
    weights = directory / config.get("weights_file", WEIGHTS_FILE)
    if not weights.is_file():
        raise ModelError(f"{weights} not found")
    if io.file_digest(weights, "sha256") != config.get("weights_sha256"):
        raise ModelError(f"{weights}: checksum mismatch; the weights file is corrupted or was replaced")
    return config


def load_weights_into(model: keras.Model, directory: str | Path) -> None:
    """Load checked weights (see :func:`read_model_config`) into a freshly built model."""
    weights = Path(directory) / WEIGHTS_FILE
    try:
        model.load_weights(weights)
    except Exception as error:  # h5py / Keras raise various types on a mismatched architecture
        raise ModelError(f"{weights} does not fit the architecture in its config ({error})") from error


def check_can_save(directory: str | Path, *, force: bool) -> None:
    """Refuse early (before training) if a model already lives in ``directory`` and not ``force``."""
    io.check_writable(Path(directory) / CONFIG_FILE, force=force)
