"""Choose the section finder's settings on the validation songs: boundaries found on the melodic
and predicted drum SSMs, scored against where the real drums change section.

A real change is a boundary of the real drum SSM alone (:func:`drumgen.sections.drum_section_changes`,
what the evaluation's fill and crash placement uses); a found boundary counts within one bar
(:func:`drumgen.metrics.boundary_scores`). Prints one line per setting, mean over songs that have
a boundary on either side; the preset's ``[sections]`` defaults were chosen from this output.

    .venv/bin/python scripts/tune_sections.py ../datasets/validation --limit 117
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys

import numpy as np

from drumgen import dataset, evaluation, generation, metrics, sections
from drumgen.config import load_config
from drumgen.model.bundle import load_models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a validation dataset folder (drumgen dataset build)")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--model", default=None)
    parser.add_argument("--preset", default="default", help="the settings not searched come from here")
    parser.add_argument("--kernel-bars", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--peak-threshold", type=float, nargs="+", default=[0.1, 0.2, 0.35])
    parser.add_argument("--melodic-weight", type=float, nargs="+", default=[0.3, 0.5, 0.8])
    args = parser.parse_args(argv)

    models = load_models(args.model, vae=False, drummer=False)
    config = load_config(args.preset)
    prepared = []
    for song in dataset.load_songs(args.dataset, limit=args.limit):
        ssms = generation.stored_similarities(song, ssm_generator=models.ssm_generator)
        prepared.append((ssms, evaluation.real_section_changes(song, config=config)))

    print("setting | precision | recall | f1 | found per song | real per song")
    for kernel_bars, threshold, weight in itertools.product(
        args.kernel_bars, args.peak_threshold, args.melodic_weight
    ):
        settings = dataclasses.replace(
            config.sections, kernel_bars=kernel_bars, peak_threshold=threshold, melodic_weight=weight
        )
        rows = []
        for ssms, real in prepared:
            found = sections.find_sections_with(ssms.melodic, ssms.predicted, settings=settings).changes
            scores = metrics.boundary_scores(found, real)
            if not np.isnan(scores["f1"]):
                rows.append([scores["precision"], scores["recall"], scores["f1"], len(found), len(real)])
        means = np.mean(rows, axis=0)
        print(
            f"kernel={kernel_bars} threshold={threshold} melodic_weight={weight} | "
            + " | ".join(f"{value:.3f}" for value in means[:3])
            + f" | {means[3]:.1f} | {means[4]:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
