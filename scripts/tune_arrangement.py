"""Choose the arranger's settings on the validation songs: a grid over its knobs, scored with the
evaluation's own metrics (notes, structure and musical behaviour, not F1 alone).

The VAE's probabilities do not depend on the arranger, so they are computed once per song and
every setting re-arranges them. Prints one line per setting; the preset's defaults
(``drumgen/presets/default.toml``, ``[arrangement]``) were chosen from this output.

    .venv/bin/python scripts/tune_arrangement.py ../datasets/validation --limit 117

Songs of every meter are arranged and scored as step 4 and the evaluation do (an every-meter build
such as ../datasets/validation_all); ``--meter-group`` keeps one group of them (e.g. "3/4").
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

from drumgen import dataset, evaluation, generation, metrics
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a validation dataset folder (drumgen dataset build)")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--model", default=None)
    parser.add_argument("--hit-threshold", type=float, nargs="+", default=[0.3, 0.4, 0.5])
    parser.add_argument("--keeper-threshold", type=float, nargs="+", default=[0.3])
    parser.add_argument("--snare-threshold", type=float, nargs="+", default=[0.3])
    parser.add_argument("--variation", type=float, nargs="+", default=[0.0, 0.3])
    parser.add_argument("--fills", type=float, nargs="+", default=[0.6])
    parser.add_argument("--layout-threshold", type=float, nargs="+", default=[0.25])
    parser.add_argument("--max-rest-share", type=float, nargs="+", default=[0.3])
    parser.add_argument("--velocity-source", nargs="+", default=["vae"], choices=["vae", "table"])
    parser.add_argument("--contrast", type=float, nargs="+", default=[15.0])
    parser.add_argument("--label-distance", type=float, nargs="+", default=[0.3])
    parser.add_argument("--variant-distance", type=float, nargs="+", default=[0.17])
    parser.add_argument("--bass-lock", type=float, nargs="+", default=[0.5])
    parser.add_argument(
        "--play-always", action="store_true", help="also score every setting without laying out"
    )
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--meter-group", choices=METER_GROUPS, default=None, help="only these songs")
    args = parser.parse_args(argv)

    models = load_models(args.model)
    config = models.config
    songs = dataset.load_songs(args.dataset, limit=args.limit)
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
    print("real | " + " | ".join(f"{np.nanmean([r[c] for r in real_rows]):.3f}" for c in COLUMNS))
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
        print(method + " | " + " | ".join(f"{np.nanmean([r[c] for r in rows]):.3f}" for c in COLUMNS))
    grid = itertools.product(
        args.hit_threshold,
        args.keeper_threshold,
        args.variation,
        args.fills,
        args.layout_threshold,
        args.max_rest_share,
        (False, True) if args.play_always else (False,),
        args.velocity_source,
        args.contrast,
        args.label_distance,
        args.variant_distance,
        args.bass_lock,
        args.snare_threshold,
    )
    for setting in grid:
        (hit_threshold, keeper_threshold, variation, fills, layout, max_rest) = setting[:6]
        always, velocity_source, contrast, label_distance, variant, bass_lock, snare = setting[6:]
        tuned = config.replace(
            arrangement={
                "hit_threshold": hit_threshold,
                "snare_threshold": snare,
                "keeper_threshold": keeper_threshold,
                "variation": variation,
                "fills": fills,
                "layout_threshold": layout,
                "max_rest_share": max_rest,
                "play_always": always,
                "velocity_source": velocity_source,
                "contrast": contrast,
                "variant_distance": variant,
                "bass_lock": bass_lock,
            },
            sections={"label_distance": label_distance},
        )
        rows = []
        for stored, changes in prepared:
            arranged = generation.stored_arrangement(stored, drummer=models.drummer, config=tuned)
            real = stored.song.arrays["drum_grids"]
            bar_steps = stored.song.meter.bar_steps
            rows.append(metrics.song_metrics(arranged.grid, real, change_bars=changes, bar_steps=bar_steps))
        label = (
            f"thr={hit_threshold} snare={snare} keeper={keeper_threshold} var={variation} fills={fills} "
            f"layout={'never' if always else layout} max_rest={max_rest} "
            f"velocity={velocity_source} contrast={contrast} label_distance={label_distance} "
            f"variant_distance={variant} bass_lock={bass_lock}"
        )
        print(label + " | " + " | ".join(f"{np.nanmean([r[c] for r in rows]):.3f}" for c in COLUMNS))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
