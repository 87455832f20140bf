"""Run folders: where each step's results live, written atomically as ``.npz`` + JSON sidecar.

A run folder holds one song's results, step by step::

    RUN_DIR/
      step_1_bars.npz / .json       bar and step times, tempos, per-bar CQTs, true drum grids
      step_1_melody.wav             the rendered non-drum part (16-bit PCM)
      step_2_ssm.npz / .json        melodic SSM, true drum SSM (when the song has drums)
      step_3_selection.npz / .json  each bar's 7 neighbours and their weights
      step_4_drums.npz / .json      generated drum grids, one per density offset
      analysis.png                  a picture of steps 1-3 (written by the CLI)
      drums.png                     a picture of the generated drums and their SSM (CLI generate)

Arrays are saved without pickling; each sidecar records the resolved config, the source song
(path, MD5) and the versions of drumgen and its main dependencies. Files appear only when
complete (written to a temporary name, then renamed), and an existing result is kept unless
``force=True``.

This module is the only one that knows this layout; notebooks hand results to each other
through it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from scipy.io import wavfile

import drumgen
from drumgen.exceptions import OutputExistsError, ParameterError, RunFolderError

STEP_FILES = {
    "step_1": "step_1_bars",
    "step_2": "step_2_ssm",
    "step_3": "step_3_selection",
    "step_4": "step_4_drums",
}
"""Stem of each step's result in a run folder."""
ANALYSIS_STEPS = ("step_1", "step_2", "step_3")
"""The steps ``drumgen analyze`` runs."""
MELODY_AUDIO = "step_1_melody.wav"
ANALYSIS_PLOT = "analysis.png"
GENERATION_PLOT = "drums.png"
DEFAULT_RUNS_DIR = Path("runs")
DEFAULT_OUTPUT_DIR = Path("output_midi")
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "drum_generator_model"
"""The shipped models: ``drum_generator_model/`` at the repository root."""
VAE_SUBDIR = "drum_vae"
SSM_GENERATOR_SUBDIR = "drum_ssm_generator"
DRUMMER_SUBDIR = "drummer"
_VERSIONED_PACKAGES = ("numpy", "librosa", "pretty_midi", "pyfluidsynth", "scipy")


def default_run_dir(song_path: str | Path, *, runs_dir: str | Path = DEFAULT_RUNS_DIR) -> Path:
    """Run folder of a song: ``runs/<song file stem>``."""
    return Path(runs_dir) / Path(song_path).stem


def file_digest(path: str | Path, algorithm: str = "md5") -> str:
    """Hex digest of a file's bytes (``algorithm``: any name :mod:`hashlib` knows, e.g. "sha256")."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def versions() -> dict[str, str]:
    """Versions of drumgen and the packages that shape its results."""
    found = {"drumgen": drumgen.__version__}
    for package in _VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    return found


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp makes files private
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (indented, keys in insertion order)."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def read_json(path: str | Path) -> dict[str, Any]:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text())


def check_writable(path: str | Path, *, force: bool) -> None:
    """Raise :class:`OutputExistsError` if ``path`` exists and ``force`` is False."""
    if Path(path).exists() and not force:
        raise OutputExistsError(f"{path} already exists; pass --force (force=True) to overwrite it")


def save_arrays(
    path: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, Any], *, force: bool = False
) -> Path:
    """Save arrays to ``path`` (``.npz``) with a JSON sidecar beside it (same stem, ``.json``).

    The sidecar gets ``meta`` plus ``created`` (UTC, ISO 8601), ``versions`` and ``arrays``
    (name -> shape and dtype). The ``.npz`` is written last, so its presence means complete.
    """
    path = Path(path).with_suffix(".npz")
    check_writable(path, force=force)
    sidecar = {
        **meta,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "arrays": {
            name: {"shape": list(np.shape(a)), "dtype": str(np.asarray(a).dtype)}
            for name, a in arrays.items()
        },
    }
    for name, array in arrays.items():
        if np.asarray(array).dtype == object:
            raise TypeError(f"array {name!r} holds Python objects; drumgen saves only plain arrays")
    # Both files are written under temporary names first; only then renamed (.npz first), so a
    # failure while writing leaves the previous pair untouched.
    with atomic_path(path.with_suffix(".json")) as json_temporary, atomic_path(path) as npz_temporary:
        json_temporary.write_text(json.dumps(sidecar, indent=2, default=_json_default) + "\n")
        with open(npz_temporary, "wb") as handle:
            np.savez_compressed(handle, allow_pickle=False, **{n: np.asarray(a) for n, a in arrays.items()})
    return path


def load_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load arrays and sidecar saved by :func:`save_arrays` (never unpickles)."""
    path = Path(path).with_suffix(".npz")
    if not path.is_file():
        raise RunFolderError(f"{path} not found; run the step that makes it first")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        meta = read_json(path.with_suffix(".json"))
    except (OSError, ValueError) as error:
        raise RunFolderError(f"{path} is unreadable ({error}); run its step again with --force") from error
    return arrays, meta


def step_path(run_dir: str | Path, step: str) -> Path:
    """Path of a step's ``.npz`` result in a run folder (``step`` is "step_1", "step_2", ...)."""
    if step not in STEP_FILES:
        raise ParameterError(f"unknown step {step!r}; expected one of {', '.join(STEP_FILES)}")
    return Path(run_dir) / f"{STEP_FILES[step]}.npz"


def save_step(
    run_dir: str | Path,
    step: str,
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
    *,
    force: bool = False,
) -> Path:
    """Save a step's result into a run folder (see :func:`save_arrays`)."""
    return save_arrays(step_path(run_dir, step), arrays, {"step": step, **meta}, force=force)


def load_step(run_dir: str | Path, step: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load a step's result from a run folder."""
    return load_arrays(step_path(run_dir, step))


def save_audio(path: str | Path, audio: np.ndarray, *, sr: int, force: bool = False) -> Path:
    """Write mono float audio in [-1, 1] as 16-bit PCM WAV, atomically."""
    path = Path(path)
    check_writable(path, force=force)
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with atomic_path(path) as temporary:
        wavfile.write(temporary, sr, pcm)
    return path


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a WAV written by :func:`save_audio`: (float32 mono audio in [-1, 1], sample rate)."""
    if not Path(path).is_file():
        raise RunFolderError(f"{path} not found; run step 1 first")
    sr, pcm = wavfile.read(path)
    return (pcm.astype(np.float32) / 32767.0), int(sr)


def melody_audio_path(run_dir: str | Path) -> Path:
    """Path of the rendered non-drum audio in a run folder."""
    return Path(run_dir) / MELODY_AUDIO


def analysis_plot_path(run_dir: str | Path) -> Path:
    """Path of the picture of steps 1-3 in a run folder."""
    return Path(run_dir) / ANALYSIS_PLOT


def generation_plot_path(run_dir: str | Path) -> Path:
    """Path of the picture of the generated drums in a run folder."""
    return Path(run_dir) / GENERATION_PLOT


def output_midi_paths(
    out_dir: str | Path, song_name: str, *, oracle: bool, density: int
) -> tuple[Path, Path]:
    """Where step 5 writes a song's results: (song + drums, drums alone).

    Names: ``<song>_drumgen[_oracle][_density+D].mid`` and the same with ``_drums`` appended.
    """
    label = (
        f"{song_name}_drumgen" + ("_oracle" if oracle else "") + (f"_density{density:+d}" if density else "")
    )
    return Path(out_dir) / f"{label}.mid", Path(out_dir) / f"{label}_drums.mid"


def write_midi(song: Any, path: str | Path) -> Path:
    """Write a ``pretty_midi.PrettyMIDI`` atomically (callers check overwriting first)."""
    path = Path(path)
    with atomic_path(path) as temporary:
        song.write(str(temporary))
    return path
