"""Run folders: where each step's results live, written atomically as ``.npz`` + JSON sidecar.

A run folder holds one song's results, step by step::

    RUN_DIR/
      step_1_bars.npz / .json       bar and step times, tempos, per-bar CQTs, true drum grids
      step_1_melody.wav             the rendered non-drum part (16-bit PCM, at the analysis rate)
      step_1_melody_44100.wav/.json the same at the audio files' rate, and its gain (with audio)
      step_2_ssm.npz / .json        melodic SSM, true drum SSM (when the song has drums)
      step_3_selection.npz / .json  each bar's 7 neighbours and their weights
      step_4_drums.npz / .json      generated drum grids, one per density offset
      analysis.png                  a picture of steps 1-3 (written by the CLI)
      drums.png                     a picture of the generated drums and their SSM (CLI generate)
      step_5_midi.json              what step 5 wrote: per density, the MIDI files and their report
      takes/<n>/                    the studio's takes: each a run folder of its own, steps 1-3
                                    hard-linked from this one (:func:`link_analysis`), its own step 4

Arrays are saved without pickling; each sidecar records the resolved config, the source song
(path, MD5) and the versions of drumgen and its main dependencies. Files appear only when
complete (written to a temporary name, then renamed), and an existing result is kept unless
``force=True``.

``drumgen generate --audio`` adds, beside the MIDI files, the song alone and the song with its
drums as compressed audio (:func:`output_audio_paths`, :func:`save_encoded_audio`).

Step 5's MIDI files go to an output folder (default ``output_midi/``) in sets - a song with its
drums and the drums alone - that appear together or not at all (:func:`write_file_set`); an
interrupted set is finished or removed by the next step 5 in that folder
(:func:`recover_file_sets`).

This module is the only one that knows this layout; notebooks hand results to each other
through it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import time
import wave
from collections import defaultdict
from collections.abc import Iterator, Mapping
from importlib import metadata
from io import BytesIO as _BytesIO
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
MIDI_REPORT = "step_5_midi.json"
TAKES_DIR = "takes"
DEFAULT_RUNS_DIR = Path("runs")
DEFAULT_OUTPUT_DIR = Path("output_midi")
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "drum_generator_model"
"""The shipped models: ``drum_generator_model/`` at the repository root."""
VAE_SUBDIR = "drum_vae"
SSM_GENERATOR_SUBDIR = "drum_ssm_generator"
DRUMMER_SUBDIR = "drummer"
_VERSIONED_PACKAGES = ("numpy", "librosa", "pretty_midi", "mido", "pyfluidsynth", "scipy")

log = logging.getLogger(__name__)


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
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    The temporary is ``.<name>.<pid>-<8 chars>.tmp``; one that a killed process left beside
    ``path`` is removed the next time ``path`` is written (:func:`remove_stale_temporaries`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, name=path.name)
    prefix = f".{path.name}.{os.getpid()}-"
    handle, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp makes files private
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


_ATOMIC_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:(?P<pid>\d+)-)?[a-z0-9_]{8}\.tmp$")
"""Names of :func:`atomic_path`'s temporaries (those of drumgen versions before it named the
process have no ``<pid>-``)."""


def remove_stale_temporaries(folder: str | Path, *, name: str | None = None) -> list[Path]:
    """Remove the temporaries of :func:`atomic_path` in ``folder`` whose process is gone (or,
    without a process id in the name, that are older than :data:`STALE_SET_SECONDS`).

    Parameters
    ----------
    folder : str or Path
    name : str, optional
        Only the temporaries of this target name.

    Returns
    -------
    list of Path
        The files removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _ATOMIC_TEMPORARY.match(entry.name)
        if not match or (name is not None and match["name"] != name) or not entry.is_file():
            continue
        if match["pid"] is not None:
            stale = not _in_flight(int(match["pid"]), [entry])
        else:
            try:
                stale = time.time() - entry.stat().st_mtime > STALE_SET_SECONDS
            except FileNotFoundError:
                continue
        if stale:
            log.info("removing %s, a temporary left by an interrupted drumgen", entry)
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


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


def load_step_meta(run_dir: str | Path, step: str) -> dict[str, Any]:
    """A step's JSON sidecar alone (what :func:`load_step` returns second), its arrays not read."""
    path = step_path(run_dir, step)
    if not path.is_file():
        raise RunFolderError(f"{path} not found; run the step that makes it first")
    try:
        return read_json(path.with_suffix(".json"))
    except (OSError, ValueError) as error:
        raise RunFolderError(f"{path} is unreadable ({error}); run its step again with --force") from error


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


def audio_sample_rate(path: str | Path) -> int:
    """The sample rate in Hz of a WAV written by :func:`save_audio`, without reading its samples."""
    with wave.open(str(path)) as header:
        return int(header.getframerate())


ENCODE_BLOCK = 1 << 16
"""Frames per write when encoding audio: libsndfile 1.2.2's Vorbis encoder crashes (segfault) on
one write of a few million frames (a 3-minute song), never on blocks of this size."""


def save_encoded_audio(
    path: str | Path, audio: np.ndarray, *, sr: int, format: str, quality: float, force: bool = False
) -> Path:
    """Write mono float audio in [-1, 1] as OGG Vorbis or FLAC (16-bit), atomically.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,), float32]
    sr : int
        Sample rate in Hz.
    format : {"ogg", "flac"}
    quality : float
        Vorbis quality in [0, 1] (FLAC is lossless and ignores it).
    """
    import soundfile

    path = Path(path)
    check_writable(path, force=force)
    subtype = {"ogg": "VORBIS", "flac": "PCM_16"}[format]
    level = {"compression_level": 1.0 - quality} if format == "ogg" else {}
    samples = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    with (
        atomic_path(path) as temporary,
        soundfile.SoundFile(
            temporary, "w", samplerate=sr, channels=1, format=format.upper(), subtype=subtype, **level
        ) as handle,
    ):
        for start in range(0, len(samples), ENCODE_BLOCK):
            handle.write(samples[start : start + ENCODE_BLOCK])
    return path


def output_audio_paths(
    out_dir: str | Path, song_name: str, *, oracle: bool, density: int, format: str
) -> tuple[Path, Path]:
    """Where ``drumgen generate --audio`` writes a song's audio: (song + drums, song alone).

    The first is named as the merged MIDI file (:func:`output_midi_paths`) with the audio suffix;
    the second ``<song>_song.<format>``: the song as step 1 rendered it, its own drums left out.
    """
    full, _ = output_midi_paths(out_dir, song_name, oracle=oracle, density=density)
    return full.with_suffix(f".{format}"), Path(out_dir) / f"{song_name}_song.{format}"


def take_dir(run_dir: str | Path, take_idx: int) -> Path:
    """Folder of take ``take_idx`` (an int >= 1) of a run (the studio's takes)."""
    if isinstance(take_idx, bool) or not isinstance(take_idx, int) or take_idx < 1:
        raise ParameterError(f"a take number is an int >= 1, got {take_idx!r}")
    return Path(run_dir) / TAKES_DIR / str(take_idx)


def link_analysis(run_dir: str | Path, target_dir: str | Path) -> Path:
    """Make ``target_dir`` a run folder holding the analysis (steps 1-3 and the melody render, and
    the melody rendered for listening where it was, :func:`listening_melody_path`) of
    ``run_dir``, hard-linked (copied where links are not possible), so steps 4 and 5 can run
    there without touching ``run_dir``'s own results.

    Raises
    ------
    RunFolderError
        If a step of the analysis is missing from ``run_dir``.
    """
    import shutil

    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    names = [MELODY_AUDIO]
    for step in ANALYSIS_STEPS:
        names += [f"{STEP_FILES[step]}.npz", f"{STEP_FILES[step]}.json"]
    for name in names:
        source = Path(run_dir) / name
        if not source.is_file():
            raise RunFolderError(f"{source} not found; analyse the song (steps 1-3) first")
    names += [path.name for path in listening_melody_files(run_dir)]
    for name in names:
        source = Path(run_dir) / name
        destination = target_dir / name
        destination.unlink(missing_ok=True)
        try:
            os.link(source, destination)
        except OSError:
            shutil.copyfile(source, destination)
    return target_dir


def melody_audio_path(run_dir: str | Path) -> Path:
    """Path of the rendered non-drum audio in a run folder."""
    return Path(run_dir) / MELODY_AUDIO


def listening_melody_path(run_dir: str | Path, sr: int) -> Path:
    """Path of the non-drum audio rendered again at ``sr`` Hz for listening (when step 1's render,
    made for analysis, has another rate); its gain is in the JSON file of the same stem."""
    return Path(run_dir) / f"{Path(MELODY_AUDIO).stem}_{int(sr)}.wav"


def listening_melody_files(run_dir: str | Path) -> list[Path]:
    """The listening renders in a run folder (:func:`listening_melody_path`, WAV and JSON), sorted."""
    stem = Path(MELODY_AUDIO).stem
    return sorted(p for p in Path(run_dir).glob(f"{stem}_*") if p.suffix in (".wav", ".json"))


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


def midi_report_path(run_dir: str | Path) -> Path:
    """Path of step 5's report (which MIDI files, and how they were written) in a run folder."""
    return Path(run_dir) / MIDI_REPORT


def write_midi(song: Any, path: str | Path) -> Path:
    """Write a ``pretty_midi.PrettyMIDI`` atomically (callers check overwriting first).

    Step 5 does not use this (it passes the input through, :mod:`drumgen.midi_out`)."""
    path = Path(path)
    buffer = _BytesIO()
    song.write(buffer)
    write_file_set({path: buffer.getvalue()})
    return path


# --- sets of files that appear together -------------------------------------------------------

_SET_TEMPORARY = re.compile(
    r"^\.(?P<name>.+)\.(?P<pid>\d+)-(?P<nonce>[0-9a-f]{8})\.drumgen-(?P<stage>partial|ready)$"
)
"""``.<target name>.<pid>-<nonce>.drumgen-partial`` while written, ``...drumgen-ready`` once the
whole set is written."""
_LEGACY_TEMPORARY = re.compile(r"^\..+\.mid\.[a-z0-9_]{8}\.tmp$")
"""Temporaries of MIDI files written by drumgen before file sets (``atomic_path``'s names)."""
STALE_SET_SECONDS = 3600.0
"""A set's temporaries older than this are leftovers even if their process id is alive again."""


def set_temporary_path(path: str | Path, token: str, stage: str) -> Path:
    """The temporary of ``path`` in the set ``token`` ("<pid>-<8 hex digits>") at ``stage``
    ("partial" or "ready"): a hidden file beside it that :func:`recover_file_sets` recognises."""
    path = Path(path)
    return path.parent / f".{path.name}.{token}.drumgen-{stage}"


def write_file_set(files: Mapping[Path, bytes]) -> list[Path]:
    """Write files that must appear together or not at all (e.g. a song and its drums alone).

    1. Each file is written to ``.<name>.<pid>-<nonce>.drumgen-partial`` beside its target and
       flushed to disk.
    2. Only when all are written, each is renamed to ``...drumgen-ready``.
    3. Each ready file is renamed onto its target.

    A process killed during 1 or 2 leaves only temporaries, some still partial: the next
    :func:`recover_file_sets` removes them (the targets were never touched). Killed during 3, it
    leaves ready files only: the recovery renames them onto their targets, completing the set.
    An error while renaming onto the targets (3) removes every target of the set (the new files
    already in place and the old ones not yet replaced) and re-raises: never a mixed set.

    Parameters
    ----------
    files : mapping of Path to bytes
        Targets (all in one folder, which is created if needed) and their contents. Callers
        check overwriting first.

    Returns
    -------
    list of Path
        The targets written.
    """
    targets = [Path(path) for path in files]
    folders = {target.parent for target in targets}
    if len(folders) > 1:
        raise ParameterError(
            f"a file set lives in one folder; got {len(folders)}: {sorted(map(str, folders))}"
        )
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    partial = [set_temporary_path(target, token, "partial") for target in targets]
    ready = [set_temporary_path(target, token, "ready") for target in targets]
    placed: list[Path] = []
    try:
        for temporary, data in zip(partial, files.values(), strict=True):
            _write_durably(temporary, data)
        for temporary, finished in zip(partial, ready, strict=True):
            os.replace(temporary, finished)
        for finished, target in zip(ready, targets, strict=True):
            os.replace(finished, target)
            placed.append(target)
    except BaseException:
        if placed:  # some targets are new, the others old: remove them all rather than mix
            log.warning(
                "writing %s failed after %d of %d files were in place; removing the set",
                targets[0],
                len(placed),
                len(targets),
            )
            for target in targets:
                with contextlib.suppress(OSError):
                    target.unlink(missing_ok=True)
        for temporary in (*partial, *ready):
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        raise
    return targets


def _write_durably(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist), write ``data`` and flush it to disk."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            written = os.write(handle, view)
            view = view[written:]
        os.fsync(handle)
    finally:
        os.close(handle)


def recover_file_sets(folder: str | Path) -> list[Path]:
    """Finish or remove the file sets that an interrupted :func:`write_file_set` left in ``folder``.

    A set whose temporaries are all ready is completed (renamed onto its targets); a set with a
    partial temporary was never complete and its temporaries are removed. Sets of a process that
    is still running (and younger than :data:`STALE_SET_SECONDS`) are left alone. Temporaries of
    MIDI files from drumgen versions before file sets (``.<name>.mid.<8 chars>.tmp``) are removed.

    Returns
    -------
    list of Path
        The targets completed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    sets: defaultdict[str, list[tuple[Path, str, str]]] = defaultdict(list)
    for entry in folder.iterdir():
        match = _SET_TEMPORARY.match(entry.name)
        if match:
            token = f"{match['pid']}-{match['nonce']}"
            sets[token].append((entry, match["name"], match["stage"]))
        elif _LEGACY_TEMPORARY.match(entry.name) and entry.is_file():
            log.info("removing %s, a temporary left by an interrupted drumgen", entry)
            entry.unlink(missing_ok=True)
    completed: list[Path] = []
    for token, members in sets.items():
        if _in_flight(int(token.split("-")[0]), [path for path, _, _ in members]):
            continue
        if any(stage == "partial" for _, _, stage in members):
            log.info(
                "removing %d temporaries of an interrupted, incomplete file set in %s", len(members), folder
            )
            for path, _, _ in members:
                path.unlink(missing_ok=True)
            continue
        names = [name for _, name, _ in members]
        for path, name, _ in members:
            os.replace(path, folder / name)
            completed.append(folder / name)
        log.info("completed an interrupted file set in %s: %s", folder, ", ".join(names))
    return completed


def _in_flight(pid: int, paths: list[Path]) -> bool:
    """Whether a set's temporaries may still be written by a running process."""
    if pid == os.getpid():
        return True
    try:
        newest = max(path.stat().st_mtime for path in paths)
    except FileNotFoundError:  # its writer just renamed them: it is running
        return True
    if time.time() - newest > STALE_SET_SECONDS:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's running process
        return True
    return True
