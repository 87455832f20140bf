"""Training data: every usable song of a corpus analysed once and stored as one ``.npz`` per song.

``drumgen dataset build CORPUS OUT`` walks a corpus, and for each song sets the drums apart,
renders the rest, and stores what training needs (the 8-bar input stacks are built on the fly at
training time, see :mod:`drumgen.model.data`):

    OUT/songs/<song_id>.npz     bar_cqts (uint8, CQT x 255), drum_grids (uint8 velocities),
                                melodic_ssm, drum_ssm (float16), neighbor_idx / neighbor_weights
                                (from the true drum SSM, as the method trains), bar_tempos,
                                part_onsets (uint8 note onsets per step of 5 instrument families),
                                bar_meters (int16 (numerator, denominator) of every bar),
                                file_features (float32, how the MIDI file is written:
                                :mod:`drumgen.filestyle`)
    OUT/log.jsonl               one line per song tried: id, status ("ok" or "skipped"), reason
    OUT/index.json              the songs kept (id, genre, split, n_bars) and the skip counts
    OUT/build.json              the resolved config and the command's arguments

A CORPUS is a folder of MIDI files, a ``.tar.xz`` of them, or a corpus folder holding
``index.csv`` and ``<split>.tar.xz`` archives (the layout of ``../shared/data/midi_corpus``; the
archive of ``--split`` is extracted once into ``OUT/midi/``, and genres come from the index).
Songs run in parallel worker processes; an interrupted build resumes where it stopped. A resumed
build also adds ``file_features`` to songs an older build stored without them, and reads them
again where an older build stored fewer than :data:`drumgen.filestyle.FILE_FEATURES` (from each
song's MIDI file, in seconds; every other array is kept).

**Meters.** A build keeps only songs whose every bar is four quarter notes long (skip reason
``"not 4/4"``) unless told to keep every meter (``--every-meter``, :class:`SongLimits`), as the
training build and the evaluation do; each song is stored on its step canvas
(:mod:`drumgen.meter`). Songs stored before ``bar_meters`` existed are all 4/4
(:attr:`drumgen.songdata.SongData.meter`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import multiprocessing
import os
import tarfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drumgen import analysis, filestyle, generation, io, midi
from drumgen.config import Config, config_from_dict
from drumgen.exceptions import CommonTimeError, DrumgenError, MidiError, ParameterError, TimeSignatureError
from drumgen.meter import SongMeter
from drumgen.songdata import CQT_LEVELS, GENRES, UNKNOWN_GENRE, SongData

__all__ = ["CQT_LEVELS", "GENRES", "UNKNOWN_GENRE", "SongData"]  # re-exported for callers of the builder

log = logging.getLogger(__name__)

DATA_SECTIONS = ("render", "features", "similarity", "selection")
"""Config sections that shape the stored data (a resumed build must match them)."""


def data_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a config (as a dict) that shape a dataset's stored arrays.

    ``selection.source`` is left out: stored neighbours always come from the true drum SSM.
    """
    settings = {section: dict(config[section]) for section in DATA_SECTIONS}
    settings["selection"].pop("source", None)
    return settings


@dataclass(frozen=True)
class SongSource:
    """One song to analyse: where its MIDI file is and what the corpus says of it."""

    song_id: str
    path: Path
    genre: str = UNKNOWN_GENRE
    split: str = ""


@dataclass(frozen=True)
class SongLimits:
    """Which songs the dataset keeps: by length in bars, and whether only 4/4 songs.

    ``common_time_only`` (the default) skips a song with any bar that is not 16 steps long (the
    validation songs the study scripts score are 4/4); the training build (``drumgen dataset build
    --every-meter``) and the evaluation set it False: every model trains on songs of every meter
    (the drum VAE on the bars it writes, :class:`drumgen.model.data.BarTable`), and the evaluation
    scores them.
    """

    min_bars: int = 8
    max_bars: int = 512
    common_time_only: bool = True


def song_id_of(relative: Path) -> str:
    """A file-name-safe id from a song's path inside the corpus (``rock/12.mid`` -> ``rock__12``)."""
    return "__".join(relative.with_suffix("").parts)


def _read_index(index_csv: Path) -> dict[str, dict[str, str]]:
    with open(index_csv, newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def _extract_once(archive: Path, target: Path) -> Path:
    done = target / ".extracted"
    if not done.exists():
        log.info("extracting %s into %s", archive, target)
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        done.write_text(str(archive) + "\n")
    return target


def source_midi_files(dataset_dir: str | Path) -> list[Path]:
    """Every MIDI file of the corpus split a dataset was built from, kept or skipped by the build.

    The files the build extracted under ``dataset_dir/midi/``, or, for a dataset built from a
    folder of MIDI files, that folder's files (as ``build.json`` names it). Sorted; empty if
    neither is there. The drummer model's kit sounds are fitted on these (they need only the
    files, so every song of the split counts, not only the songs the build kept).
    """
    dataset_dir = Path(dataset_dir)
    root = dataset_dir / "midi"
    if not root.is_dir():
        build = dataset_dir / "build.json"
        corpus = Path(io.read_json(build).get("corpus", "")) if build.is_file() else None
        if corpus is None or not corpus.is_dir() or (corpus / "index.csv").is_file():
            return []
        root = corpus
    return sorted(
        path for path in root.rglob("*") if path.suffix.lower() in (".mid", ".midi") and path.is_file()
    )


def list_songs(corpus: str | Path, work_dir: str | Path, *, split: str | None = None) -> list[SongSource]:
    """Find the songs of a corpus (see the module docstring for the three forms it may take).

    Parameters
    ----------
    corpus : str or Path
    work_dir : str or Path
        Where archives are extracted (``work_dir/midi/...``).
    split : str, optional
        With a corpus folder holding ``index.csv``: which archive (``train``, ``validation``,
        ``test``). Required there.

    Returns
    -------
    list of SongSource
        Sorted by id.
    """
    corpus = Path(corpus)
    work_dir = Path(work_dir)
    index: dict[str, dict[str, str]] = {}
    if corpus.is_dir() and (corpus / "index.csv").is_file():
        if split is None:
            raise ParameterError(f"{corpus} holds split archives; choose one with --split")
        archive = corpus / f"{split}.tar.xz"
        if not archive.is_file():
            raise ParameterError(f"{archive} not found; expected a split archive of the corpus")
        index = _read_index(corpus / "index.csv")
        root = _extract_once(archive, work_dir / "midi" / split)
    elif corpus.is_file() and corpus.name.endswith((".tar.xz", ".tar.gz", ".tar", ".tgz")):
        root = _extract_once(corpus, work_dir / "midi" / corpus.name.split(".")[0])
    elif corpus.is_dir():
        root = corpus
    else:
        raise ParameterError(f"{corpus}: expected a folder of MIDI files, a .tar.xz of them, or a corpus")
    songs = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in (".mid", ".midi") or not path.is_file():
            continue
        relative = path.relative_to(root)
        row = index.get(relative.as_posix(), {})
        genre = row.get("genre", UNKNOWN_GENRE)
        songs.append(
            SongSource(
                song_id=song_id_of(relative),
                path=path,
                genre=genre if genre in GENRES else UNKNOWN_GENRE,
                split=row.get("split", split or ""),
            )
        )
    if not songs:
        raise ParameterError(f"{corpus}: no .mid or .midi files found")
    return songs


def choose_songs(songs: list[SongSource], *, limit: int | None, seed: int) -> list[SongSource]:
    """A seeded random sample of ``limit`` songs (all of them if ``limit`` is None), in sample order,
    so a larger limit extends a smaller one."""
    order = np.random.default_rng(seed).permutation(len(songs))
    chosen = [songs[i] for i in order]
    return chosen if limit is None else chosen[:limit]


def analyse_training_song(
    source: SongSource, *, config: Config, limits: SongLimits, renderer: Any
) -> dict[str, np.ndarray]:
    """Everything training needs from one song (see the module docstring for the arrays).

    Raises
    ------
    DrumgenError
        With the reason the song cannot be used (no drums, meter, too short or long, broken).
    """
    result, _ = analysis.preprocess_song(
        source.path, config=config, renderer=renderer, common_time_only=limits.common_time_only
    )
    if result.drum_grids is None or not result.drum_grids.any():
        raise MidiError(f"{source.path}: no drum notes")
    if result.n_bars < limits.min_bars:
        raise ParameterError(f"too short: {result.n_bars} bars < {limits.min_bars}")
    if result.n_bars > limits.max_bars:
        raise ParameterError(f"too long: {result.n_bars} bars > {limits.max_bars}")
    ssms = generation.similarities(result.bar_cqts, result.drum_grids, config=config)
    chosen, _ = generation.select_and_segment(ssms, config=config, source="oracle")
    melodic, drum = ssms.melodic, ssms.drum
    # drums checked above; step 1 counts onsets and reads the file features
    assert drum is not None and result.part_onsets is not None and result.file_features is not None
    return {
        "bar_cqts": np.round(result.bar_cqts * CQT_LEVELS).astype(np.uint8),
        "drum_grids": result.drum_grids,
        "melodic_ssm": melodic.astype(np.float16),
        "drum_ssm": drum.astype(np.float16),
        "neighbor_idx": chosen.neighbor_idx.astype(np.int16),
        "neighbor_weights": chosen.neighbor_weights.astype(np.float16),
        "bar_tempos": result.bar_tempos.astype(np.float32),
        "part_onsets": result.part_onsets,
        "bar_meters": result.meter.bar_meters.astype(np.int16),
        "file_features": result.file_features,
    }


METER_REASONS = ("not 4/4", "unsupported meter")
"""Skip reasons of a song's meter: retried by a build that keeps every meter (an evaluation
resuming a training-style analysis), since the song may be usable now."""


def skip_reason(error: Exception) -> str:
    """A short category for a song that could not be used."""
    text = str(error)
    if isinstance(error, CommonTimeError):
        return "not 4/4"
    if isinstance(error, TimeSignatureError):
        return "unsupported meter"
    if "no drum notes" in text:
        return "no drums"
    if "only drum notes" in text or "no notes" in text:
        return "no melody"
    if text.startswith("too short"):
        return "too short"
    if text.startswith("too long"):
        return "too long"
    if isinstance(error, MidiError):
        return "broken file"
    return "other"


# --- worker processes -------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(config_data: dict[str, Any], limits: SongLimits, songs_dir: str) -> None:
    # An initializer that raises makes the pool respawn workers forever, so failures are kept and
    # reported per song instead (status "error": retried when the build is resumed).
    try:
        from drumgen.synth import Renderer

        logging.getLogger("drumgen").setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pretty_midi")
        config = config_from_dict(config_data)
        _WORKER.update(
            config=config,
            limits=limits,
            songs_dir=Path(songs_dir),
            renderer=Renderer.from_config(config.render),
        )
    except Exception as error:
        _WORKER["error"] = f"worker could not start: {type(error).__name__}: {error}"


def _process(source: SongSource) -> dict[str, Any]:
    started = time.perf_counter()
    record: dict[str, Any] = {"id": source.song_id, "genre": source.genre, "split": source.split}
    if "error" in _WORKER:
        record.update(status="error", reason="worker error", detail=_WORKER["error"][:300], seconds=0.0)
        return record
    try:
        arrays = analyse_training_song(
            source, config=_WORKER["config"], limits=_WORKER["limits"], renderer=_WORKER["renderer"]
        )
        meta = {"song": {"id": source.song_id, "path": str(source.path), "genre": source.genre}}
        io.save_arrays(_WORKER["songs_dir"] / f"{source.song_id}.npz", arrays, meta, force=True)
        common = SongMeter.from_meters(arrays["bar_meters"]).is_common_time
        record.update(status="ok", n_bars=len(arrays["bar_cqts"]), common_time=common)
    except DrumgenError as error:
        record.update(status="skipped", reason=skip_reason(error), detail=str(error)[:300])
    except Exception as error:  # a broken file can raise anything inside mido or FluidSynth
        record.update(status="skipped", reason="broken file", detail=f"{type(error).__name__}: {error}"[:300])
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


# --- the build --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSummary:
    """What a build did: songs kept and skipped (by reason), bars kept, and timing."""

    n_songs: int
    n_kept: int
    n_bars: int
    skipped: dict[str, int]
    n_processed_now: int
    seconds: float
    workers: int

    @property
    def songs_per_minute_per_core(self) -> float:
        """Throughput of this run."""
        if self.seconds <= 0 or self.n_processed_now == 0:
            return 0.0
        return self.n_processed_now / (self.seconds / 60.0) / self.workers

    def table(self) -> str:
        """A plain-text summary table."""
        lines = [
            f"{'songs tried':<24}{self.n_songs:>8}",
            f"{'kept':<24}{self.n_kept:>8}",
            f"{'bars kept':<24}{self.n_bars:>8}",
        ]
        lines += [f"{'skipped: ' + reason:<24}{count:>8}" for reason, count in sorted(self.skipped.items())]
        lines.append(
            f"{'this run':<24}{self.n_processed_now:>8} songs in {self.seconds:.0f} s "
            f"({self.songs_per_minute_per_core:.1f} songs/min/core, {self.workers} workers)"
        )
        return "\n".join(lines)


def _read_log(path: Path) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                with_id = json.loads(line)
                records[with_id["id"]] = with_id
    return records


def _done(record: dict[str, Any] | None, songs_dir: Path, limits: SongLimits) -> bool:
    """A song is done if it was skipped for a reason of its own, or its result file exists. Its meter
    decides again when the limits changed: a song skipped for its meter (:data:`METER_REASONS`) is
    tried again when ``limits`` keep every meter, and a kept song not in 4/4 (``common_time``
    False in its record) when they keep only 4/4 (it is then skipped)."""
    if record is None or record["status"] == "error":
        return False
    if record["status"] == "skipped":
        return limits.common_time_only or record.get("reason") not in METER_REASONS
    if limits.common_time_only and record.get("common_time") is False:
        return False
    return (songs_dir / f"{record['id']}.npz").is_file()


def _add_file_features(done: list[SongSource], songs_dir: Path, *, progress: bool) -> None:
    """Give the kept songs of an earlier build the ``file_features`` array it did not store yet, or
    stored shorter than :data:`drumgen.filestyle.FILE_FEATURES` (read from each song's MIDI file;
    every other array is kept as it is). A song whose file cannot be read keeps what it had
    (logged): no features, and its drums use the VAE's notes, or the older features."""
    from tqdm import tqdm

    lacking = []
    for source in done:
        path = songs_dir / f"{source.song_id}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as data:
                stored = data["file_features"] if "file_features" in data.files else None
                if not filestyle.are_current(stored):
                    lacking.append(source)
    for source in tqdm(
        lacking, desc="reading file features", unit="song", disable=not progress or not lacking
    ):
        path = songs_dir / f"{source.song_id}.npz"
        try:
            features = filestyle.file_features(midi.read_midi_file(source.path))
        except DrumgenError as error:  # e.g. the MIDI file moved since the song was stored
            log.warning("%s: file features not read (%s)", source.song_id, error)
            continue
        arrays, meta = io.load_arrays(path)
        arrays["file_features"] = features
        meta = {key: value for key, value in meta.items() if key not in ("created", "versions", "arrays")}
        io.save_arrays(path, arrays, meta, force=True)


def _imap(
    todo: list[SongSource], *, workers: int, config: Config, limits: SongLimits, songs_dir: Path
) -> Iterator[dict[str, Any]]:
    init_args = (config.to_dict(), limits, str(songs_dir))
    if workers <= 1:
        _init_worker(*init_args)
        yield from map(_process, todo)
        return
    context = multiprocessing.get_context("spawn")  # no TensorFlow or FluidSynth state is forked
    with context.Pool(workers, initializer=_init_worker, initargs=init_args, maxtasksperchild=200) as pool:
        yield from pool.imap_unordered(_process, todo, chunksize=1)


def build_dataset(
    corpus: str | Path,
    out_dir: str | Path,
    *,
    config: Config,
    split: str | None = None,
    limit: int | None = None,
    workers: int | None = None,
    seed: int = 0,
    limits: SongLimits | None = None,
    progress: bool = True,
) -> BuildSummary:
    """Analyse a corpus into a training dataset (see the module docstring); resumes if interrupted.

    Parameters
    ----------
    corpus, split
        See :func:`list_songs`.
    out_dir : str or Path
        The dataset folder (created; outside the repository for real corpora).
    config : Config
        Must match an earlier build of the same ``out_dir`` (checked).
    limit : int, optional
        Use a seeded random sample of this many songs (tried, not kept).
    workers : int, optional
        Worker processes; default: all CPU cores.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    songs_dir = out_dir / "songs"
    songs_dir.mkdir(parents=True, exist_ok=True)
    limits = limits or SongLimits()
    workers = workers or os.cpu_count() or 1
    build_path = out_dir / "build.json"
    if build_path.is_file():
        earlier = io.read_json(build_path)["config"]
        now = config.to_dict()
        if data_settings(earlier) != data_settings(now):
            raise ParameterError(f"{out_dir} was built with another analysis config; use a new folder")
    else:
        io.write_json(
            build_path,
            {
                "config": config.to_dict(),
                "corpus": str(corpus),
                "split": split,
                "seed": seed,
                "limits": dataclasses.asdict(limits),
                "versions": io.versions(),
            },
        )

    chosen = choose_songs(list_songs(corpus, out_dir, split=split), limit=limit, seed=seed)
    log_path = out_dir / "log.jsonl"
    records = _read_log(log_path)
    todo = [s for s in chosen if not _done(records.get(s.song_id), songs_dir, limits)]
    todo_ids = {s.song_id for s in todo}
    _add_file_features([s for s in chosen if s.song_id not in todo_ids], songs_dir, progress=progress)
    log.info(
        "%d songs chosen, %d already done, %d to analyse with %d workers",
        len(chosen),
        len(chosen) - len(todo),
        len(todo),
        workers,
    )
    started = time.perf_counter()
    with open(log_path, "a") as log_file:
        results = _imap(todo, workers=workers, config=config, limits=limits, songs_dir=songs_dir)
        for record in tqdm(results, total=len(todo), desc="songs", unit="song", disable=not progress):
            records[record["id"]] = record
            log_file.write(json.dumps(record) + "\n")
            log_file.flush()
    seconds = time.perf_counter() - started

    chosen_ids = {s.song_id for s in chosen}
    kept = [records[i] for i in sorted(chosen_ids) if records.get(i, {}).get("status") == "ok"]
    skipped = Counter(
        records[i]["reason"] for i in chosen_ids if records.get(i, {}).get("status") in ("skipped", "error")
    )
    summary = BuildSummary(
        n_songs=len(chosen),
        n_kept=len(kept),
        n_bars=sum(r["n_bars"] for r in kept),
        skipped=dict(skipped),
        n_processed_now=len(todo),
        seconds=seconds,
        workers=workers,
    )
    io.write_json(
        out_dir / "index.json",
        {
            "songs": [{k: r[k] for k in ("id", "genre", "split", "n_bars")} for r in kept],
            "summary": {k: v for k, v in dataclasses.asdict(summary).items()},
        },
    )
    return summary


# --- reading a built dataset -------------------------------------------------------------------


def load_songs(
    dataset_dir: str | Path, *, limit: int | None = None, progress: bool = False
) -> list[SongData]:
    """Load the songs a build kept (in index order)."""
    from tqdm import tqdm

    dataset_dir = Path(dataset_dir)
    index_path = dataset_dir / "index.json"
    if not index_path.is_file():
        raise ParameterError(f"{dataset_dir}: no index.json; build it with `drumgen dataset build`")
    entries = io.read_json(index_path)["songs"][:limit]
    songs = []
    for entry in tqdm(entries, desc=f"loading {dataset_dir.name}", unit="song", disable=not progress):
        arrays, _ = io.load_arrays(dataset_dir / "songs" / f"{entry['id']}.npz")
        songs.append(SongData(song_id=entry["id"], genre=entry["genre"], arrays=arrays))
    return songs


def dataset_sections(dataset_dir: str | Path) -> dict[str, Any]:
    """The settings a dataset was built with (see :func:`data_settings`)."""
    config = io.read_json(Path(dataset_dir) / "build.json")["config"]
    return data_settings(config)
