"""Honest evaluation: generated drums against the real drums of songs the model never saw.

``drumgen evaluate SONGS_DIR`` analyses every song once (in parallel, with the dataset builder, so
the drums are set apart and never reach the generator), then for every song and every method
makes drums for all bars and scores them against the real drum track with :mod:`drumgen.metrics`.

Songs of every meter are scored: each bar on its own steps (:mod:`drumgen.meter`; the 16-step bars
of the models and of the bar baselines fitted to it by :func:`drumgen.meter.fit_grid`). The report
gives the main metrics per meter group (:data:`drumgen.meter.METER_GROUPS`, :func:`group_results`),
and a timing/feel section: drumgen's drums as written (swing, humanize) against the real drums'
onsets as played (:func:`drumgen.feel.timing_scores`, :func:`feel_summary`).

Methods (same songs, same seeds):

- ``drumgen``: neighbours and sections from the drum SSM *predicted* from the melody (no drums
  needed), the VAE's output arranged (:mod:`drumgen.arrangement`).
- ``drumgen_unknown_genre``: ``drumgen`` with the song's genre withheld, as a user's folder of
  MIDI files gives it (the corpus index knows each song's genre; a user's file does not).
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
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from drumgen import feel, generation, io, metrics, sections, selection
from drumgen.analysis import SongTiming
from drumgen.meter import METER_GROUPS, fit_grid, meter_group
from drumgen.sections import Sections
from drumgen.songdata import SongData

log = logging.getLogger(__name__)

METHODS = (
    "drumgen",
    "drumgen_unknown_genre",
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
    # method: (neighbour source, arranged, song's genre given)
    "drumgen": ("predicted", True, True),
    "drumgen_unknown_genre": ("predicted", True, False),
    "drumgen_oracle": ("oracle", True, True),
    "vae_per_bar": ("predicted", False, True),
    "neighbor_bars": ("neighbor_bars", False, True),
    "no_context": ("no_context", False, True),
}
"""The methods that run the drum VAE: which bars feed it, whether its output is arranged, and
whether it is told the song's genre (else "unknown")."""


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
    np.ndarray [shape=(n_bars, 46, n_steps), bool or uint8]
        On the song's step canvas (16 steps for a 4/4 song); the bar baselines' 16-step training
        bars are fitted to each bar's meter as drumgen's are (:func:`drumgen.meter.fit_grid`).
    """
    arrays = song.arrays
    n_bars = song.n_bars
    meter = song.meter
    if method == "silence":
        return np.zeros((n_bars, 46, meter.n_steps), dtype=bool)
    if method == "real":
        return arrays["drum_grids"]
    if method == "repeat_common_bar":
        return fit_grid(np.repeat(bars.most_common[None], n_bars, axis=0), meter)
    if method == "random_bar":
        rng = np.random.default_rng([seed, zlib.crc32(song.song_id.encode())])
        return fit_grid(bars.bank[rng.integers(0, len(bars.bank), size=n_bars)], meter)
    if method not in VAE_METHODS:
        raise ValueError(f"unknown method {method!r}")
    source, arranged, genre_given = VAE_METHODS[method]
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
        genre=song.genre if genre_given else "unknown",
        arranged=arranged,
        meter=meter,
        file_features=arrays.get("file_features"),
    )
    return result.grids[0]


def real_section_changes(song: SongData, *, config: Any) -> np.ndarray:
    """Bars where the song's real drums begin a new section (on the real drum SSM alone)."""
    return sections.drum_section_changes_with(
        song.arrays["drum_ssm"].astype(np.float32), settings=config.drum_changes
    )


@dataclass(frozen=True)
class EvaluationResult:
    """Scores of every method on every song.

    ``groups`` names each song's meter group (:func:`drumgen.meter.meter_group`); ``timing`` holds
    drumgen's timing scores per song (:func:`drumgen.feel.timing_scores`) where the songs' played
    onsets were read.
    """

    per_song: dict[str, dict[str, dict[str, float]]]  # method -> song id -> metric -> value
    aggregated: dict[str, dict[str, dict[str, float]]]  # method -> metric -> mean / ci / n
    skipped: list[dict[str, str]]
    n_songs: int
    groups: dict[str, str] = field(default_factory=dict)  # song id -> meter group
    timing: dict[str, dict[str, float]] = field(default_factory=dict)  # song id -> timing metric -> value


def written_drums(grid: np.ndarray, timing: SongTiming, *, config: Any, seed: int) -> Any:
    """Generated drums as step 5 writes them: the feel of ``config.feel`` (swing found in the
    song's own parts or set, humanize) applied on the song's grid; a ``pretty_midi.Instrument``.
    Compound bars are not swung (their eighths are triplets already), as in the pipeline."""
    swing_bars = ~timing.meter.compound
    played = feel.choose_feel(
        timing.part_onsets,
        step_times=timing.step_times,
        settings=config.feel,
        seed=seed,
        swing_bars=swing_bars,
        report=False,
    )
    return feel.apply_feel(grid, timing.step_times, feel=played, swing_bars=swing_bars)


def song_timing_scores(grid: np.ndarray, timing: SongTiming, *, config: Any, seed: int) -> dict[str, float]:
    """:func:`drumgen.feel.timing_scores` of a generated grid, written with the song's feel
    (:func:`written_drums`), against the song's real drum onsets."""
    return feel.timing_scores(
        timing.drum_onsets,
        timing.drum_pitches,
        written_drums(grid, timing, config=config, seed=seed),
        step_times=timing.step_times,
        swing_bars=~timing.meter.compound,
    )


def evaluate_songs(
    songs: list[SongData],
    *,
    models: Any,
    config: Any,
    seed: int = 0,
    methods: tuple[str, ...] = METHODS,
    skipped: list[dict[str, str]] | None = None,
    progress: bool = True,
    timings: dict[str, SongTiming] | None = None,
) -> EvaluationResult:
    """Score every method on every song (see the module docstring).

    Parameters
    ----------
    timings : dict, optional
        Song id -> its played onsets (:func:`drumgen.analysis.read_timing`): the songs whose
        drumgen drums get timing scores (``EvaluationResult.timing``); needs "drumgen" in
        ``methods``.
    """
    from tqdm import tqdm

    bars = BaselineBars.from_meta(models.require("vae_meta")["baselines"])
    scale = config.similarity.drum_scale
    timings = timings or {}
    per_song: dict[str, dict[str, dict[str, float]]] = {method: {} for method in methods}
    timing: dict[str, dict[str, float]] = {}
    for song in tqdm(songs, desc="evaluating", unit="song", disable=not progress):
        real = song.arrays["drum_grids"]
        changes = real_section_changes(song, config=config)
        bar_steps = song.meter.bar_steps
        for method in methods:
            drums = method_drums(method, song, models=models, bars=bars, seed=seed, config=config)
            per_song[method][song.song_id] = metrics.song_metrics(
                drums, real, scale=scale, change_bars=changes, bar_steps=bar_steps
            )
            if method == "drumgen" and song.song_id in timings:
                timing[song.song_id] = song_timing_scores(
                    drums, timings[song.song_id], config=config, seed=seed
                )
    aggregated = {
        method: metrics.aggregate(list(scores.values()), seed=seed) for method, scores in per_song.items()
    }
    return EvaluationResult(
        per_song=per_song,
        aggregated=aggregated,
        skipped=skipped or [],
        n_songs=len(songs),
        groups={song.song_id: meter_group(song.meter) for song in songs},
        timing=timing,
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


def summary_dict(result: EvaluationResult, *, groups: dict[str, GroupResult] | None = None) -> dict[str, Any]:
    """``summary.json``: ``{"methods": {METHOD: {METRIC: mean}}, "n_songs": N, "skipped": [...],
    "meter_groups": {...}, "feel": {...}}``.

    METHOD and METRIC use exactly the names of ``METHODS`` (the ceiling "real" is left to
    ``details.json``) and ``SUMMARY_METRICS``: other tools read this file. ``meter_groups`` is
    :func:`group_summary` (of ``groups``, default :func:`group_results`), ``feel``
    :func:`feel_summary`.
    """
    groups = group_results(result) if groups is None else groups
    return {
        "methods": {
            method: {name: _plain(values[name]["mean"]) for name in SUMMARY_METRICS if name in values}
            for method, values in result.aggregated.items()
            if method != "real"
        },
        "n_songs": result.n_songs,
        "skipped": result.skipped,
        "meter_groups": group_summary(groups),
        "feel": feel_summary(result.timing),
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
    "steady_pulse",
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
    songs: Collection[str] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """``method`` minus every other method, song by song, with 95 % bootstrap intervals.

    ``songs`` limits the comparison to these song ids (e.g. one meter group); default all.

    Both methods are scored on the same songs, so the per-song difference removes the songs'
    own difficulty: an interval above 0 means ``method`` scores higher on that metric.

    Returns
    -------
    dict
        other method -> metric -> ``{"mean", "ci_low", "ci_high", "n"}`` (:func:`metrics.aggregate`
        of the per-song differences); the real drums are left out.
    """
    ours = {
        song: scores for song, scores in result.per_song[method].items() if songs is None or song in songs
    }
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
    groups = group_results(result)
    io.write_json(paths["summary"], summary_dict(result, groups=groups))
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
            "meter_groups": result.groups,
            "timing": result.timing,
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
    text += groups_markdown(groups) + feel_markdown(feel_summary(result.timing))
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
    resumable, with the models' own analysis settings, every meter kept); a song that cannot be
    used is listed in the report's ``skipped`` with its reason. The kept songs' MIDI files are read
    once more for their played onsets (:func:`drumgen.analysis.read_timing`, the feel section).

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
    from drumgen.analysis import read_timing
    from drumgen.exceptions import DrumgenError
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
        limits=dataset.SongLimits(common_time_only=False),
    )
    songs = dataset.load_songs(analysis)
    lines = (analysis / "log.jsonl").read_text().splitlines()
    records = {record["id"]: record for record in map(json.loads, filter(None, lines))}  # the last try counts
    skipped = [
        {"song": r["id"], "reason": r["reason"], "detail": r.get("detail", "")}
        for r in records.values()
        if r["status"] != "ok"
    ]
    if not songs:
        log.error("no song of %s could be scored: all %d were skipped", songs_dir, len(skipped))
        result = EvaluationResult(per_song={}, aggregated={}, skipped=skipped, n_songs=0)
        paths = write_report(result, report_dir, command=command, extra={"model": str(models.model_dir)})
        return result, paths
    paths_of = {
        source.song_id: source.path for source in dataset.list_songs(songs_dir, analysis, split=split)
    }
    timings: dict[str, SongTiming] = {}
    for song in songs:
        try:
            timing = read_timing(paths_of[song.song_id], config=config)
        except (DrumgenError, KeyError) as error:  # analysed before, so this is rare
            log.warning("%s: no timing scores: %s", song.song_id, error)
            continue
        if timing.step_times.shape != (song.n_bars, song.arrays["drum_grids"].shape[-1] + 1):
            # an analysis stored by an earlier drumgen may cut the song into other bars
            log.warning(
                "%s: no timing scores: %d bars on the MIDI's grid, %d in the stored analysis",
                song.song_id,
                len(timing.step_times),
                song.n_bars,
            )
            continue
        timings[song.song_id] = timing
    result = evaluate_songs(
        songs, models=models, config=config, seed=seed, skipped=skipped, progress=progress, timings=timings
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


GROUP_METRICS = (
    "kit_f1",
    "onset_f1",
    "ssm_pearson",
    "consecutive_repeat",
    "two_bar_repeat",
    "empty_bar_rate",
)
"""The main metrics reported per meter group (:func:`group_results`)."""
GROUP_COMPARISONS = (
    ("repeat_common_bar", "kit_f1"),
    ("neighbor_bars", "kit_f1"),
    ("repeat_common_bar", "onset_f1"),
    ("neighbor_bars", "ssm_pearson"),
)
"""Per meter group, drumgen minus these (method, metric) pairs song by song, with 95 % intervals:
kit F1 against both bar baselines (issue 9's headline margin, which differs much between the songs
wholly in 4/4 and the others), onset F1 against the most common bar, Pearson against NB."""


@dataclass(frozen=True)
class GroupResult:
    """One meter group's scores.

    Attributes
    ----------
    n_songs : int
    aggregated : dict
        method -> metric (:data:`GROUP_METRICS`) -> ``{"mean", "ci_low", "ci_high", "n"}``; the
        real drums left out.
    drumgen_minus : dict
        other method -> metric -> the same, of drumgen's per-song differences
        (:data:`GROUP_COMPARISONS`, :func:`paired_differences`).
    """

    n_songs: int
    aggregated: dict[str, dict[str, dict[str, float]]]
    drumgen_minus: dict[str, dict[str, dict[str, float]]]


def group_results(result: EvaluationResult, *, seed: int = 0) -> dict[str, GroupResult]:
    """The evaluation per meter group, in :data:`drumgen.meter.METER_GROUPS` order (groups
    without songs left out)."""
    out: dict[str, GroupResult] = {}
    for group in METER_GROUPS:
        ids = {song for song, name in result.groups.items() if name == group}
        if not ids:
            continue
        aggregated = {
            method: metrics.aggregate(
                [
                    {name: scores[song][name] for name in GROUP_METRICS}
                    for song in sorted(ids)
                    if song in scores
                ],
                seed=seed,
            )
            for method, scores in result.per_song.items()
            if method != "real"
        }
        minus: dict[str, dict[str, dict[str, float]]] = {}
        if "drumgen" in result.per_song:
            names = tuple(dict.fromkeys(name for _, name in GROUP_COMPARISONS))
            differences = paired_differences(result, metric_names=names, seed=seed, songs=ids)
            for other, name in GROUP_COMPARISONS:
                if other in differences:
                    minus.setdefault(other, {})[name] = differences[other][name]
        out[group] = GroupResult(n_songs=len(ids), aggregated=aggregated, drumgen_minus=minus)
    return out


def group_summary(groups: dict[str, GroupResult]) -> dict[str, Any]:
    """``summary.json``'s ``meter_groups``: per group ``n_songs``, ``methods`` (method -> metric ->
    mean) and ``drumgen_minus`` (method -> metric -> mean, ci_low, ci_high)."""
    return {
        group: {
            "n_songs": found.n_songs,
            "methods": {
                method: {name: _plain(stats["mean"]) for name, stats in values.items()}
                for method, values in found.aggregated.items()
            },
            "drumgen_minus": {
                other: {
                    name: {key: _plain(stats[key]) for key in ("mean", "ci_low", "ci_high")}
                    for name, stats in values.items()
                }
                for other, values in found.drumgen_minus.items()
            },
        }
        for group, found in groups.items()
    }


GROUP_TABLE_METHODS = (
    "drumgen",
    "drumgen_unknown_genre",
    "drumgen_oracle",
    "vae_per_bar",
    "neighbor_bars",
    "repeat_common_bar",
    "random_bar",
)
"""The methods of the report's per-group tables."""


def groups_markdown(groups: dict[str, GroupResult]) -> str:
    """The report's "By meter group" section: the verdict table (drumgen minus each compared
    method, with intervals), then each group's means per method."""
    header = "| group | songs | " + " | ".join(f"drumgen - {o} ({m})" for o, m in GROUP_COMPARISONS) + " |"
    lines = [header, "| --- | --- |" + " --- |" * len(GROUP_COMPARISONS)]
    for group, found in groups.items():
        cells = []
        for other, name in GROUP_COMPARISONS:
            stats = found.drumgen_minus.get(other, {}).get(name)
            if stats is None or not np.isfinite(stats["mean"]):
                cells.append("n/a")
            else:
                cells.append(f"{stats['mean']:+.3f} [{stats['ci_low']:+.3f}, {stats['ci_high']:+.3f}]")
        lines.append(f"| {group} | {found.n_songs} | " + " | ".join(cells) + " |")
    text = (
        "\n## By meter group\n\nSongs by their most common bar meter (4/4 with odd bars: mostly 4/4, "
        "with some bar of another meter, e.g. a 2/4 bar or a pickup). drumgen minus a baseline, song by "
        "song: mean [95 % bootstrap interval]; an interval above 0 means drumgen scores higher.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    for group, found in groups.items():
        rows = {m: found.aggregated[m] for m in GROUP_TABLE_METHODS if m in found.aggregated}
        text += (
            f"\n### {group} ({found.n_songs} songs)\n\n"
            + _stats_table("method", rows, GROUP_METRICS, number=".3f", intervals=False)
            + "\n"
        )
    return text


def feel_summary(timing: dict[str, dict[str, float]]) -> dict[str, Any]:
    """``summary.json``'s ``feel``: the timing scores of drumgen's drums over the songs read.

    Keys: ``n_songs`` (songs with timing scores); ``real_swung_songs``,
    ``generated_swung_songs`` (songs whose real / generated drums count as swung,
    :func:`drumgen.feel.estimate_swing`); ``swung_agreement`` (share of songs where both agree
    on swung or straight); ``real_swing_ratio``, ``generated_swing_ratio`` (mean ratios, 1.0 for a
    straight track) and ``swing_ratio_error`` (mean absolute difference), each over all songs and
    ``..._real_swung`` over the songs with swung real drums; ``real_off_grid_share`` (mean share
    of real onsets more than :data:`drumgen.feel.OFF_GRID_MS` ms off the straight 16th grid);
    ``microtiming_songs`` (songs whose real drums have microtiming, at least
    :data:`drumgen.feel.MICROTIMING_MIN_SHARE` of onsets off the grid); ``offset_error_ms`` and
    ``on_grid_offset_error_ms`` (means over the microtiming songs of the per-song mean
    ``|real - generated offset|`` of matched onsets, and of ``|real offset|``: what straight
    drums would score).
    """
    rows = list(timing.values())
    if not rows:
        return {"n_songs": 0}

    def mean(key: str, where: list[dict[str, float]]) -> float | None:
        values = [row[key] for row in where if np.isfinite(row[key])]
        return _plain(float(np.mean(values))) if values else None

    swung = [row for row in rows if row["real_swung"] == 1.0]
    micro = [row for row in rows if row["real_microtiming"] == 1.0]
    return {
        "n_songs": len(rows),
        "real_swung_songs": len(swung),
        "generated_swung_songs": sum(row["generated_swung"] == 1.0 for row in rows),
        "swung_agreement": _plain(
            float(np.mean([row["real_swung"] == row["generated_swung"] for row in rows]))
        ),
        "real_swing_ratio": mean("real_swing_ratio", rows),
        "generated_swing_ratio": mean("generated_swing_ratio", rows),
        "swing_ratio_error": mean("swing_ratio_error", rows),
        "real_swing_ratio_real_swung": mean("real_swing_ratio", swung),
        "generated_swing_ratio_real_swung": mean("generated_swing_ratio", swung),
        "swing_ratio_error_real_swung": mean("swing_ratio_error", swung),
        "real_off_grid_share": mean("real_off_grid_share", rows),
        "microtiming_songs": len(micro),
        "offset_error_ms": mean("offset_error_ms", micro),
        "on_grid_offset_error_ms": mean("on_grid_offset_error_ms", micro),
    }


def feel_markdown(summary: dict[str, Any]) -> str:
    """The report's "Timing and feel" section (:func:`feel_summary` in words and a table)."""
    if not summary.get("n_songs"):
        return ""

    def number(key: str, fmt: str = ".3f") -> str:
        value = summary.get(key)
        return "n/a" if value is None else f"{value:{fmt}}"

    rows = [
        ("songs with swung real drums", str(summary["real_swung_songs"])),
        ("songs with swung generated drums", str(summary["generated_swung_songs"])),
        ("share of songs where both agree (swung / straight)", number("swung_agreement")),
        (
            "swing ratio, real / generated (all songs)",
            f"{number('real_swing_ratio')} / {number('generated_swing_ratio')}",
        ),
        ("mean abs swing ratio difference (all songs)", number("swing_ratio_error")),
        (
            "swing ratio, real / generated (swung real drums)",
            f"{number('real_swing_ratio_real_swung')} / {number('generated_swing_ratio_real_swung')}",
        ),
        ("mean abs swing ratio difference (swung real drums)", number("swing_ratio_error_real_swung")),
        (
            f"real onsets > {feel.OFF_GRID_MS:g} ms off the 16th grid (mean share)",
            number("real_off_grid_share"),
        ),
        (
            f"songs with microtiming (>= {feel.MICROTIMING_MIN_SHARE:.0%} of onsets off the grid)",
            str(summary["microtiming_songs"]),
        ),
        ("offset error of matched onsets, ms (microtiming songs)", number("offset_error_ms", ".1f")),
        ("same for straight drums (generated offset 0), ms", number("on_grid_offset_error_ms", ".1f")),
    ]
    return (
        f"\n## Timing and feel\n\ndrumgen's drums as written (the `[feel]` settings: swing found in the "
        f"song's parts, humanize) against the real drums' onsets as played, on {summary['n_songs']} songs. "
        "Swing ratio: first eighth / second eighth of a beat (1.0 for a track that does not count as "
        "swung). Offset: an onset's time minus its nearest straight 16th step; matched onsets share bar, "
        "drum row and step.\n\n| measure | value |\n| --- | --- |\n"
        + "\n".join(f"| {label} | {value} |" for label, value in rows)
        + "\n"
    )
