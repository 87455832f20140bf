"""Choose the arranger's settings on the validation songs: a grid over its knobs, scored with the
evaluation's own metrics (notes, structure and musical behaviour, not F1 alone).

The VAE's probabilities do not depend on the arranger, so they are computed once per song and
every setting re-arranges them. Prints the real drums' and the baselines' rows, then one line per
setting of the grid: every combination of the values given, each knob left out at the model's
configured value (so with no knob given, one line: the arranger as shipped). The preset's
defaults (``drumgen/presets/default.toml``, ``[arrangement]``) were chosen from this output.

    .venv/bin/python scripts/tune_arrangement.py ../datasets/validation --limit 117

Songs of every meter are arranged and scored as step 4 and the evaluation do (an every-meter build
such as ../datasets/validation_all); ``--meter-group`` keeps one group of them (e.g. "3/4").
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys

import numpy as np

from drumgen import dataset, evaluation, generation, metrics
from drumgen.config import VELOCITY_SOURCES
from drumgen.exceptions import DrumgenError
from drumgen.meter import METER_GROUPS, meter_group
from drumgen.model.bundle import load_models

COLUMNS = (
    "kit_f1",
    "onset_f1",
    "ssm_pearson",
    "consecutive_repeat",
    "two_bar_repeat",
    "missing_snare_rate",
    "layered_rate",
    "change_coverage",
    "fills_elsewhere",
    "silent_bar_play",
    "empty_bar_rate",
    "velocity_std",
    "backbeat_hat_gap",
    "steady_pulse",
)


KNOBS = (
    ("hit_threshold", float),
    ("keeper_threshold", float),
    ("snare_threshold", float),
    ("variation", float),
    ("fills", float),
    ("layout_threshold", float),
    ("max_rest_share", float),
    ("velocity_source", str),
    ("contrast", float),
    ("label_distance", float),
    ("variant_distance", float),
    ("bass_lock", float),
)
"""The grid's knobs (``[arrangement]``, and ``[sections]`` for ``label_distance``) and their types."""


def column_means(rows: list[dict[str, float]]) -> str:
    """Each of :data:`COLUMNS`' mean over the songs that have it (NaN where none has), as a table row."""
    means = []
    for column in COLUMNS:
        values = np.array([row[column] for row in rows], dtype=np.float64)
        values = values[~np.isnan(values)]
        means.append(f"{values.mean():.3f}" if len(values) else "nan")
    return " | ".join(means)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a validation dataset folder (drumgen dataset build)")
    parser.add_argument("--limit", type=int, default=None, help="only the first songs (default: all)")
    parser.add_argument("--model", default=None, help="model folder (default: drum_generator_model/)")
    for name, kind in KNOBS:
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            nargs="+",
            default=None,
            choices=VELOCITY_SOURCES if name == "velocity_source" else None,
            help="values to try (default: the model's configured value alone)",
        )
    parser.add_argument(
        "--play-always", action="store_true", help="also score every setting without laying out"
    )
    parser.add_argument("--no-baselines", action="store_true", help="skip the bar baselines' rows")
    parser.add_argument("--meter-group", choices=METER_GROUPS, default=None, help="only these songs")
    args = parser.parse_args(argv)

    try:
        songs = dataset.load_songs(args.dataset, limit=args.limit)
        models = load_models(args.model)
    except DrumgenError as error:
        parser.error(str(error))
    config = models.config
    configured = {**dataclasses.asdict(config.arrangement), "label_distance": config.sections.label_distance}
    tried = {name: getattr(args, name) or [configured[name]] for name, _ in KNOBS}
    if args.meter_group is not None:
        songs = [song for song in songs if meter_group(song.meter) == args.meter_group]
    print(f"{len(songs)} songs")
    prepared = []
    for song in songs:
        stored = generation.stored_predictions(
            song, ssm_generator=models.ssm_generator, vae=models.vae, config=config
        )
        prepared.append((stored, evaluation.real_section_changes(song, config=config)))

    print("setting | " + " | ".join(COLUMNS))
    real_rows = [
        metrics.song_metrics(
            stored.song.arrays["drum_grids"],
            stored.song.arrays["drum_grids"],
            change_bars=changes,
            bar_steps=stored.song.meter.bar_steps,
        )
        for stored, changes in prepared
    ]
    print("real | " + column_means(real_rows))
    bars = evaluation.BaselineBars.from_meta(models.require("vae_meta")["baselines"])
    for method in () if args.no_baselines else ("repeat_common_bar", "neighbor_bars", "vae_per_bar"):
        rows = [
            metrics.song_metrics(
                evaluation.method_drums(method, stored.song, models=models, bars=bars, seed=0, config=config),
                stored.song.arrays["drum_grids"],
                change_bars=changes,
                bar_steps=stored.song.meter.bar_steps,
            )
            for stored, changes in prepared
        ]
        print(method + " | " + column_means(rows))
    always_values = (False, True) if args.play_always else (config.arrangement.play_always,)
    for *values, always in itertools.product(*tried.values(), always_values):
        setting = dict(zip(tried, values, strict=True))
        arrangement = {name: value for name, value in setting.items() if name != "label_distance"}
        tuned = config.replace(
            arrangement={**arrangement, "play_always": always},
            sections={"label_distance": setting["label_distance"]},
        )
        rows = []
        for stored, changes in prepared:
            arranged = generation.stored_arrangement(stored, drummer=models.drummer, config=tuned)
            real = stored.song.arrays["drum_grids"]
            bar_steps = stored.song.meter.bar_steps
            rows.append(metrics.song_metrics(arranged.grid, real, change_bars=changes, bar_steps=bar_steps))
        label = " ".join(f"{name}={value}" for name, value in setting.items())
        label += " layout=never" if always else ""
        print(label + " | " + column_means(rows))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
