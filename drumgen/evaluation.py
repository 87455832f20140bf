"""Honest evaluation: generated drums against the real drums of songs the model never saw.

``drumgen evaluate SONGS_DIR`` analyses every song once (in parallel, with the dataset builder, so
the drums are set apart and never reach the generator), then for every song and every method
makes drums for all bars and scores them against the real drum track with :mod:`drumgen.metrics`.

Methods (same songs, same seeds):

- ``drumgen``: neighbours and sections from the drum SSM *predicted* from the melody (no drums
  needed), the VAE's output arranged (:mod:`drumgen.arrangement`).
- ``drumgen_oracle``: the same with the song's true drum SSM - an upper bound, not a result.
- ``vae_per_bar``: predicted neighbours, every bar decoded on its own (drumgen before the arranger).
- ``neighbor_bars``: the paper's NB baseline - the VAE fed the 4 bars before and 3 after.
- ``no_context``: the VAE fed the bar alone (neighbour weights 0).
- ``repeat_common_bar``: the most common bar of the training songs, in every bar.
- ``random_bar``: a random training bar in every bar (seeded).
- ``silence``: no drums.
- ``real``: the real drums scored against themselves, where a metric allows (a ceiling).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drumgen import generation, io, metrics, sections, selection
from drumgen.sections import Sections
from drumgen.songdata import SongData

log = logging.getLogger(__name__)

METHODS = (
    "drumgen",
    "drumgen_oracle",
    "vae_per_bar",
    "neighbor_bars",
    "no_context",
    "repeat_common_bar",
    "random_bar",
    "silence",
    "real",
)
SUMMARY_METRICS = (
    "onset_f1",
    "ssm_cosine",
    "ssm_pearson",
    "density_error",
    "empty_bar_rate",
    "drum_pattern",
    "cell_accuracy",
    "kit_f1",
    "backbeat_rate",
    "consecutive_repeat",
    "two_bar_repeat",
    "layered_rate",
    "change_coverage",
    "silent_bar_play",
    "velocity_std",
)
"""The metrics of ``summary.json`` (other tools read these names)."""


@dataclass(frozen=True)
class BaselineBars:
    """Training bars for the bar baselines (binary 46 x 16 grids)."""

    most_common: np.ndarray
    bank: np.ndarray

    @classmethod
    def from_meta(cls, baselines: dict[str, Any]) -> BaselineBars:
        """Read the ``baselines`` a trained VAE recorded (lists of [row, step] hits)."""

        def grid(hits: list[list[int]]) -> np.ndarray:
            out = np.zeros((46, 16), dtype=bool)
            if hits:
                rows, steps = np.asarray(hits).T
                out[rows, steps] = True
            return out

        return cls(
            most_common=grid(baselines["most_common_bar"]),
            bank=np.stack([grid(bar) for bar in baselines["random_bars"]]),
        )


VAE_METHODS = {
    # method: (neighbour source, arranged)
    "drumgen": ("predicted", True),
    "drumgen_oracle": ("oracle", True),
    "vae_per_bar": ("predicted", False),
    "neighbor_bars": ("neighbor_bars", False),
    "no_context": ("no_context", False),
}
"""The methods that run the drum VAE: which bars feed it, and whether its output is arranged."""


def _fixed_selection(kind: str, n_bars: int, k: int) -> selection.BarSelection:
    from drumgen.model.data import neighboring_bars

    if kind == "neighbor_bars":
        idx = neighboring_bars(n_bars, n_before=4, n_after=k - 4)
        weights = (idx != np.arange(n_bars)[:, None]).astype(np.float32)
    else:
        idx = np.repeat(np.arange(n_bars)[:, None], k, axis=1)
        weights = np.zeros((n_bars, k), dtype=np.float32)
    return selection.BarSelection(neighbor_idx=idx, neighbor_weights=weights)


def method_drums(
    method: str, song: SongData, *, models: Any, bars: BaselineBars, seed: int, config: Any
) -> np.ndarray:
    """Drums for every bar of one song by one method.

    Returns
    -------
    np.ndarray [shape=(n_bars, 46, 16), bool or uint8]
    """
    arrays = song.arrays
    n_bars = song.n_bars
    if method == "silence":
        return np.zeros((n_bars, 46, 16), dtype=bool)
    if method == "real":
        return arrays["drum_grids"]
    if method == "repeat_common_bar":
        return np.repeat(bars.most_common[None], n_bars, axis=0)
    if method == "random_bar":
        rng = np.random.default_rng([seed, zlib.crc32(song.song_id.encode())])
        return bars.bank[rng.integers(0, len(bars.bank), size=n_bars)]
    if method not in VAE_METHODS:
        raise ValueError(f"unknown method {method!r}")
    source, arranged = VAE_METHODS[method]
    ssms = generation.stored_similarities(
        song, ssm_generator=models.ssm_generator if source == "predicted" else None
    )
    if source in ("predicted", "oracle"):
        chosen, found = generation.select_and_segment(ssms, config=config, source=source)
    else:
        chosen = _fixed_selection(source, n_bars, config.selection.n_neighbors)
        found = Sections.whole_song(n_bars)
    result = generation.drums(
        arrays["bar_cqts"],
        arrays["bar_tempos"],
        chosen,
        found,
        vae=models.vae,
        drummer=models.drummer,
        config=config,
        part_onsets=arrays.get("part_onsets"),
        drum_ssm=generation.ssm_for(ssms, source) if source in ("predicted", "oracle") else None,
        seed=seed,
        genre=song.genre,
        arranged=arranged,
    )
    return result.grids[0]


def real_section_changes(song: SongData, *, config: Any) -> np.ndarray:
    """Bars where the song's real drums begin a new section (on the real drum SSM alone)."""
    return sections.drum_section_changes_with(
        song.arrays["drum_ssm"].astype(np.float32), settings=config.drum_changes
    )


@dataclass(frozen=True)
class EvaluationResult:
    """Scores of every method on every song."""

    per_song: dict[str, dict[str, dict[str, float]]]  # method -> song id -> metric -> value
    aggregated: dict[str, dict[str, dict[str, float]]]  # method -> metric -> mean / ci / n
    skipped: list[dict[str, str]]
    n_songs: int


def evaluate_songs(
    songs: list[SongData],
    *,
    models: Any,
    config: Any,
    seed: int = 0,
    methods: tuple[str, ...] = METHODS,
    skipped: list[dict[str, str]] | None = None,
    progress: bool = True,
) -> EvaluationResult:
    """Score every method on every song (see the module docstring)."""
    from tqdm import tqdm

    bars = BaselineBars.from_meta(models.require("vae_meta")["baselines"])
    scale = config.similarity.drum_scale
    per_song: dict[str, dict[str, dict[str, float]]] = {method: {} for method in methods}
    for song in tqdm(songs, desc="evaluating", unit="song", disable=not progress):
        real = song.arrays["drum_grids"]
        changes = real_section_changes(song, config=config)
        for method in methods:
            drums = method_drums(method, song, models=models, bars=bars, seed=seed, config=config)
            per_song[method][song.song_id] = metrics.song_metrics(
                drums, real, scale=scale, change_bars=changes
            )
    aggregated = {
        method: metrics.aggregate(list(scores.values()), seed=seed) for method, scores in per_song.items()
    }
    return EvaluationResult(
        per_song=per_song, aggregated=aggregated, skipped=skipped or [], n_songs=len(songs)
    )


def ssm_generator_errors(songs: list[SongData], *, models: Any) -> dict[str, dict[str, float]]:
    """Error of the drum-SSM generator on these songs next to the two trivial predictors it was
    trained against (the mean drum distance, and the melodic SSM linearly rescaled; both fitted on
    the training songs and saved with the generator)."""
    from drumgen.model.ssm_generator import predict_drum_ssm
    from drumgen.model.train_ssm_generator import MeanSsmBaseline, RescaledMelodicBaseline, ssm_errors

    baselines = models.require("ssm_meta")["baselines"]
    predictors = {
        "generator": lambda melodic: predict_drum_ssm(models.ssm_generator, melodic),
        "mean drum SSM": MeanSsmBaseline.from_dict(baselines["mean_baseline"]).predict,
        "rescaled melodic SSM": RescaledMelodicBaseline.from_dict(
            baselines["rescaled_melodic_baseline"]
        ).predict,
    }
    return {name: ssm_errors(predict, songs) for name, predict in predictors.items()}


def summary_dict(result: EvaluationResult) -> dict[str, Any]:
    """``summary.json``: ``{"methods": {METHOD: {METRIC: mean}}, "n_songs": N, "skipped": [...]}``.

    METHOD and METRIC use exactly the names of ``METHODS`` (the ceiling "real" is left to
    ``details.json``) and ``SUMMARY_METRICS``: other tools read this file.
    """
    return {
        "methods": {
            method: {name: _plain(values[name]["mean"]) for name in SUMMARY_METRICS if name in values}
            for method, values in result.aggregated.items()
            if method != "real"
        },
        "n_songs": result.n_songs,
        "skipped": result.skipped,
    }


def _plain(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


COMPARED_METRICS = ("kit_f1", "onset_f1", "row_onset_f1", "ssm_pearson", "density_error")
NOTE_METRICS = (
    "kit_f1",
    "onset_f1",
    "onset_precision",
    "onset_recall",
    "row_onset_f1",
    "kick_f1",
    "snare_f1",
    "hats_f1",
    "toms_f1",
    "cymbals_f1",
    "ssm_pearson",
    "ssm_cosine",
    "density_error",
    "cell_accuracy",
)
"""Columns of the report's first table: notes and structure against the real drums."""
MUSICAL_METRICS = (
    "empty_bar_rate",
    "silent_bar_play",
    "backbeat_rate",
    "missing_snare_rate",
    "layered_rate",
    "consecutive_repeat",
    "two_bar_repeat",
    "repetition_consistency",
    "fill_rate",
    "change_coverage",
    "fills_elsewhere",
    "velocity_std",
    "backbeat_hat_gap",
    "drum_pattern",
)
"""Columns of the report's second table: how the drums behave as music."""
"""The metrics of the paired comparison of drumgen against each other method."""


def paired_differences(
    result: EvaluationResult,
    *,
    method: str = "drumgen",
    metric_names: tuple[str, ...] = COMPARED_METRICS,
    seed: int = 0,
) -> dict[str, dict[str, dict[str, float]]]:
    """``method`` minus every other method, song by song, with 95 % bootstrap intervals.

    Both methods are scored on the same songs, so the per-song difference removes the songs'
    own difficulty: an interval above 0 means ``method`` scores higher on that metric.

    Returns
    -------
    dict
        other method -> metric -> ``{"mean", "ci_low", "ci_high", "n"}`` (:func:`metrics.aggregate`
        of the per-song differences); the real drums are left out.
    """
    ours = result.per_song[method]
    differences: dict[str, dict[str, dict[str, float]]] = {}
    for other, scores in result.per_song.items():
        if other in (method, "real"):
            continue
        per_song = [
            {name: ours[song][name] - scores[song][name] for name in metric_names}
            for song in ours
            if song in scores
        ]
        differences[other] = metrics.aggregate(per_song, seed=seed)
    return differences


def _stats_table(
    first_header: str,
    rows: dict[str, dict[str, dict[str, float]]],
    names: tuple[str, ...],
    *,
    number: str,
    intervals: bool,
) -> str:
    """A Markdown table: a row per label, a column per metric; each cell the mean (and with
    ``intervals`` its 95 % interval) formatted with ``number`` (e.g. ".3f"), or n/a."""
    lines = [f"| {first_header} | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for label, values in rows.items():
        cells = []
        for name in names:
            stats = values.get(name, {})
            mean = stats.get("mean", float("nan"))
            if mean is None or not np.isfinite(mean):
                cells.append("n/a")
            elif intervals:
                cells.append(f"{mean:{number}} [{stats['ci_low']:{number}}, {stats['ci_high']:{number}}]")
            else:
                cells.append(f"{mean:{number}}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def differences_table(differences: dict[str, dict[str, dict[str, float]]], *, method: str = "drumgen") -> str:
    """:func:`paired_differences` as a Markdown table (mean [95 % interval])."""
    names = tuple(next(iter(differences.values())).keys()) if differences else COMPARED_METRICS
    return _stats_table(f"{method} minus", differences, names, number="+.3f", intervals=True)


def markdown_table(
    result: EvaluationResult, *, metric_names: tuple[str, ...] | None = None, intervals: bool = True
) -> str:
    """The summary as a Markdown table: per method and metric, the mean over songs and (with
    ``intervals``) its 95 % bootstrap interval."""
    names = metric_names or tuple(next(iter(result.aggregated.values())).keys())
    labels = {"drumgen_oracle": "drumgen_oracle (upper bound)", "real": "real drums (ceiling)"}
    rows = {labels.get(method, method): values for method, values in result.aggregated.items()}
    return _stats_table("method", rows, names, number=".3f", intervals=intervals)


def write_report(
    result: EvaluationResult,
    report_dir: str | Path,
    *,
    command: str,
    example: tuple[SongData, dict[str, np.ndarray]] | None = None,
    generator_errors: dict[str, dict[str, float]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write summary.json, details.json, summary.md and plots into ``report_dir``."""
    from drumgen import display

    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": report_dir / "summary.json",
        "details": report_dir / "details.json",
        "markdown": report_dir / "summary.md",
    }
    io.write_json(paths["summary"], summary_dict(result))
    if result.n_songs == 0:  # nothing to score: the report says why every song was skipped
        io.write_json(
            paths["details"],
            {"command": command, **(extra or {}), "skipped": result.skipped, "n_songs": 0},
        )
        paths["markdown"].write_text(
            f"# drumgen evaluation\n\n`{command}`\n\nNo song could be scored: all "
            f"{len(result.skipped)} were skipped.\n" + skipped_table(result.skipped)
        )
        return paths
    differences = paired_differences(result) if "drumgen" in result.per_song else {}
    io.write_json(
        paths["details"],
        {
            "command": command,
            **(extra or {}),
            "aggregated": result.aggregated,
            "drumgen_minus": differences,
            "per_song": result.per_song,
            "skipped": result.skipped,
            "n_songs": result.n_songs,
        },
    )
    text = (
        f"# drumgen evaluation\n\n`{command}`\n\n{result.n_songs} songs, {len(result.skipped)} skipped. "
        "Mean over songs.\n\n"
        + "## Notes and structure\n\n"
        + markdown_table(result, metric_names=NOTE_METRICS, intervals=False)
        + "\n\n## Musical behaviour\n\n"
        + markdown_table(result, metric_names=MUSICAL_METRICS, intervals=False)
        + "\n\n## With 95 % bootstrap intervals over songs\n\n"
        + markdown_table(result, metric_names=NOTE_METRICS)
        + "\n"
    )
    if differences:
        text += (
            "\n## drumgen against each method, song by song\n\nMean per-song difference [95 % "
            "bootstrap interval]; an interval above 0 means drumgen scores higher (lower is better "
            "only for density_error).\n\n" + differences_table(differences) + "\n"
        )
    if generator_errors:
        rows = [
            f"| {name} | {e['mae']:.4f} | {e['correlation']:.3f} |" for name, e in generator_errors.items()
        ]
        text += (
            "\n## Drum-SSM generator\n\nPredicting the real drum SSM from the melodic SSM (off-diagonal "
            "entries; mean over songs).\n\n| predictor | MAE | Pearson r |\n| --- | --- | --- |\n"
            + "\n".join(rows)
            + "\n"
        )
    paths["markdown"].write_text(text + skipped_table(result.skipped))
    figure = display.plot_metric_bars(result.aggregated, SUMMARY_METRICS)
    paths["metrics_plot"] = display.save_figure(figure, report_dir / "metrics.png")
    if example is not None:
        song, drums = example
        figure = display.plot_evaluation_example(song.song_id, song.arrays["drum_grids"], drums)
        paths["example_plot"] = display.save_figure(figure, report_dir / "example.png")
    return paths


def skipped_table(skipped: list[dict[str, str]]) -> str:
    """The report's list of skipped songs (Markdown): how many per reason, then each song with its
    reason and detail; empty when none was skipped."""
    if not skipped:
        return ""
    counts: dict[str, int] = {}
    for record in skipped:
        counts[record["reason"]] = counts.get(record["reason"], 0) + 1
    by_reason = ", ".join(f"{count} {reason}" for reason, count in sorted(counts.items()))
    rows = [
        f"| {record['song']} | {record['reason']} | {record.get('detail', '').replace('|', '/')[:160]} |"
        for record in skipped
    ]
    return (
        f"\n## Skipped songs\n\n{len(skipped)} skipped: {by_reason}.\n\n"
        "| song | reason | detail |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )


def run_evaluation(
    songs_dir: str | Path,
    report_dir: str | Path,
    *,
    split: str | None = None,
    model_dir: str | Path | None = None,
    limit: int | None = None,
    workers: int | None = None,
    seed: int = 0,
    temperature: float | None = None,
    force: bool = False,
    command: str = "",
    progress: bool = True,
) -> tuple[EvaluationResult, dict[str, Path]]:
    """Analyse, generate with every method, score, and write the report (``drumgen evaluate``).

    The songs are analysed into ``report_dir/analysis`` with the dataset builder (in parallel,
    resumable, with the models' own analysis settings); a song that cannot be used is listed in
    the report's ``skipped`` with its reason.

    Parameters
    ----------
    songs_dir : str or Path
        A folder of MIDI songs with drums, a ``.tar.xz`` of them, or a corpus folder (with ``split``).
    report_dir : str or Path
        Where the report goes; an existing report is kept unless ``force``.
    model_dir : str or Path, optional
        Default: the shipped models.
    limit : int, optional
        A seeded random sample of this many songs.
    temperature : float, optional
        Latent sampling temperature of the VAE methods; default: the model's.
    command : str
        The command line to print above the tables.
    """
    import json

    from drumgen import dataset
    from drumgen.model.bundle import load_models

    report_dir = Path(report_dir)
    io.check_writable(report_dir / "summary.json", force=force)
    models = load_models(model_dir)
    config = models.config  # analyse as the training data was
    if temperature is not None:
        config = config.replace(generation={"temperature": temperature})
    analysis = report_dir / "analysis"
    dataset.build_dataset(
        songs_dir,
        analysis,
        config=config,
        split=split,
        limit=limit,
        workers=workers,
        seed=seed,
        progress=progress,
    )
    songs = dataset.load_songs(analysis)
    records = [json.loads(line) for line in (analysis / "log.jsonl").read_text().splitlines() if line]
    skipped = [
        {"song": r["id"], "reason": r["reason"], "detail": r.get("detail", "")}
        for r in records
        if r["status"] != "ok"
    ]
    if not songs:
        log.error("no song of %s could be scored: all %d were skipped", songs_dir, len(skipped))
        result = EvaluationResult(per_song={}, aggregated={}, skipped=skipped, n_songs=0)
        paths = write_report(result, report_dir, command=command, extra={"model": str(models.model_dir)})
        return result, paths
    result = evaluate_songs(
        songs, models=models, config=config, seed=seed, skipped=skipped, progress=progress
    )
    bars = BaselineBars.from_meta(models.require("vae_meta")["baselines"])
    example_song = sorted(songs, key=lambda song: song.n_bars)[len(songs) // 2]
    example = (
        example_song,
        {
            method: method_drums(method, example_song, models=models, bars=bars, seed=seed, config=config)
            for method in ("drumgen", "drumgen_oracle")
        },
    )
    paths = write_report(
        result,
        report_dir,
        command=command,
        example=example,
        generator_errors=ssm_generator_errors(songs, models=models),
        extra={"model": str(models.model_dir)},
    )
    return result, paths
