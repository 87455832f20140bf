"""The drum VAE's learning curve: validation onset F1 against the number of training songs.

One VAE is trained on the first N songs of a training dataset for each N, each with the same
time budget (``vae.max_minutes``) and seed; its score is the validation onset F1 that training
reports (``val_onset_scores``: bar-by-bar decoding, the best of the tried decodings, see
:func:`drumgen.model.train_vae.train_drum_vae`). The curve is saved as JSON after every size,
so an interrupted run resumes where it stopped (``scripts/learning_curve.py``).

Whether more data would still help (the curve still rising at the largest N) or the model is
limited by its inputs (a plateau) is what this answers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from drumgen import dataset, io
from drumgen.config import Config
from drumgen.exceptions import ParameterError
from drumgen.songdata import SongData

log = logging.getLogger(__name__)

CURVE_FILE = "learning_curve.json"
PLOT_FILE = "learning_curve.png"


@dataclass(frozen=True)
class CurvePoint:
    """One training-set size of the learning curve.

    Attributes
    ----------
    n_songs, n_bars : int
        Training songs (the dataset's first ``n_songs``) and their bars.
    f1, precision, recall : float
        Validation onset scores (``val_onset_scores`` of the training report).
    best_val_loss : float
    epochs_run : int
    stopped_by_time_limit : bool
    seconds : float
        Training wall time.
    """

    n_songs: int
    n_bars: int
    f1: float
    precision: float
    recall: float
    best_val_loss: float
    epochs_run: int
    stopped_by_time_limit: bool
    seconds: float

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> CurvePoint:
        """The point of a :func:`~drumgen.model.train_vae.train_drum_vae` report."""
        scores = report["val_onset_scores"]
        return cls(
            n_songs=int(report["n_train_songs"]),
            n_bars=int(report["n_train_bars"]),
            f1=float(scores["f1"]),
            precision=float(scores["precision"]),
            recall=float(scores["recall"]),
            best_val_loss=float(report["best_val_loss"]),
            epochs_run=int(report["epochs_run"]),
            stopped_by_time_limit=bool(report["stopped_by_time_limit"]),
            seconds=float(report["seconds"]),
        )


@dataclass(frozen=True)
class LearningCurve:
    """The points measured so far (sorted by size) and the settings they were measured with.

    ``settings`` holds what must agree for points to be comparable: the VAE config (including
    the time budget), the seed and the validation songs.
    """

    settings: dict[str, Any]
    points: tuple[CurvePoint, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"settings": self.settings, "points": [asdict(point) for point in self.points]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearningCurve:
        """Read back :meth:`to_dict`."""
        return cls(settings=data["settings"], points=tuple(CurvePoint(**p) for p in data["points"]))

    def scores(self) -> dict[str, list[float]]:
        """Per score name, the values in size order (for :func:`drumgen.display.plot_learning_curve`)."""
        return {name: [getattr(p, name) for p in self.points] for name in ("f1", "precision", "recall")}


def save_learning_curve(curve: LearningCurve, path: str | Path) -> Path:
    """Write the curve as JSON (atomically; it is rewritten after every size)."""
    io.write_json(path, curve.to_dict())
    return Path(path)


def load_learning_curve(path: str | Path) -> LearningCurve:
    """Read a curve written by :func:`save_learning_curve`."""
    return LearningCurve.from_dict(io.read_json(path))


def curve_settings(
    config: Config, *, seed: int, val_songs: list[SongData], data_info: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the points of one curve share (compared when resuming), as JSON reads it back."""
    settings = {
        "vae": config.to_dict()["vae"],
        "seed": seed,
        "data": data_info or {},
        "validation_songs": [song.song_id for song in val_songs],
    }
    return json.loads(json.dumps(settings))  # tuples become lists, as in the saved file


def learning_curve(
    train_songs: list[SongData],
    val_songs: list[SongData],
    *,
    sizes: list[int],
    config: Config,
    seed: int = 0,
    path: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
    data_info: dict[str, Any] | None = None,
) -> LearningCurve:
    """Train one drum VAE per training-set size and score it on the validation songs.

    Parameters
    ----------
    train_songs : list of SongData
        In dataset order; size N trains on ``train_songs[:N]``.
    val_songs : list of SongData
    sizes : list of int
        Training songs per point; each at most ``len(train_songs)``.
    config : Config
        ``config.vae`` (with ``max_minutes``, the budget of every point) is used for all sizes.
    seed : int
        The same for every size.
    path : str or Path, optional
        The JSON file: read first (its sizes are skipped unless ``force``), rewritten after each size.
    force : bool
        Retrain sizes already in the file; replace a file made with other settings.
    data_info : dict, optional
        What to record about the data (e.g. the dataset folders); part of the settings.

    Returns
    -------
    LearningCurve

    Raises
    ------
    ParameterError
        A size outside ``1..len(train_songs)``, or an existing file made with other settings
        (without ``force``).

    Examples
    --------
    >>> curve = learning_curve(train, val, sizes=[100, 300], config=config, path="lc/learning_curve.json")
    ... # doctest: +SKIP
    """
    from drumgen.model.train_vae import train_drum_vae

    bad = [n for n in sizes if not 1 <= n <= len(train_songs)]
    if bad:
        raise ParameterError(f"sizes {bad} outside 1..{len(train_songs)} (the training songs available)")
    settings = curve_settings(config, seed=seed, val_songs=val_songs, data_info=data_info)
    points: dict[int, CurvePoint] = {}
    if path is not None and Path(path).is_file():
        existing = load_learning_curve(path)
        if existing.settings == settings:
            points = {point.n_songs: point for point in existing.points}
        elif not force:
            raise ParameterError(
                f"{path} was measured with other settings (VAE config, time budget, seed or "
                "validation songs); pass --force (force=True) to replace it, or choose another --out"
            )
    curve = LearningCurve(settings=settings, points=tuple(points[n] for n in sorted(points)))
    for n_songs in sorted(set(sizes)):
        if n_songs in points and not force:
            log.info(
                "learning curve: %d songs already measured (F1 %.3f); skipped", n_songs, points[n_songs].f1
            )
            continue
        _, report = train_drum_vae(
            train_songs[:n_songs], val_songs, config=config, seed=seed, progress=progress
        )
        points[n_songs] = CurvePoint.from_report(report)
        log.info("learning curve: %d songs -> validation onset F1 %.3f", n_songs, points[n_songs].f1)
        curve = LearningCurve(settings=settings, points=tuple(points[n] for n in sorted(points)))
        if path is not None:
            save_learning_curve(curve, path)
    return curve


def learning_curve_from_datasets(
    train_dir: str | Path,
    val_dir: str | Path,
    *,
    sizes: list[int],
    config: Config,
    out_dir: str | Path,
    seed: int = 0,
    force: bool = False,
    progress: bool = False,
) -> LearningCurve:
    """:func:`learning_curve` on two built datasets, saved as ``out_dir/learning_curve.json``.

    Loads only the training songs the largest size needs.

    Raises
    ------
    ParameterError
        If a dataset was analysed with other settings than ``config`` (its preset), or as
        :func:`learning_curve`.
    """
    for folder in (train_dir, val_dir):
        if dataset.dataset_sections(folder) != dataset.data_settings(config.to_dict()):
            raise ParameterError(
                f"{folder} was built with another analysis config than preset {config.preset}"
            )
    train_songs = dataset.load_songs(train_dir, limit=max(sizes), progress=progress)
    val_songs = dataset.load_songs(val_dir, progress=progress)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return learning_curve(
        train_songs,
        val_songs,
        sizes=sizes,
        config=config,
        seed=seed,
        path=Path(out_dir) / CURVE_FILE,
        force=force,
        progress=progress,
        data_info={
            "train_dataset": str(Path(train_dir).resolve()),
            "validation_dataset": str(Path(val_dir).resolve()),
        },
    )
