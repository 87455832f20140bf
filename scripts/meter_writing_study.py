"""Does a meter-aware VAE that writes other meters' bars itself beat the rules that fit a 4/4
VAE's bars to them?

Two model folders are scored song by song (kit F1, onset F1, drum-SSM Pearson and the kit pieces'
F1, with :func:`drumgen.evaluation.evaluate_songs`, as ``drumgen evaluate`` scores "drumgen") on
the songs whose commonest bar is not a 4/4 one (:meth:`drumgen.meter.SongMeter.written_steps`
differs from 16 somewhere) and that neither model trained on: those of the validation dataset,
and those of an extra dataset not in the training one (e.g. the songs a 2,700-song build adds to
the 1,500-song training sample). Prints each group's means and the second model's mean
difference with a 95 % bootstrap interval, then the same for the second model against
``repeat_common_bar`` (the most common training bar, fitted to each bar's meter).

    .venv/bin/python scripts/meter_writing_study.py OLD_MODEL drum_generator_model \\
        --validation ../datasets/validation_all --extra ../datasets/train_2700 --train ../datasets/train_all
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from drumgen import dataset, evaluation
from drumgen.meter import meter_group
from drumgen.model.bundle import load_models

METRICS = ("kit_f1", "onset_f1", "ssm_pearson", "kick_f1", "snare_f1", "hats_f1")


def other_meter_songs(args: argparse.Namespace) -> list:
    """The validation songs, and the extra songs not in the training set, that the VAE would
    write (partly) in another meter."""

    def written_short(song) -> bool:
        return bool((song.meter.written_steps() != 16).any())

    songs = [s for s in dataset.load_songs(args.validation) if written_short(s)]
    if args.extra:
        seen = {s.song_id for s in dataset.load_songs(args.train)} if args.train else set()
        songs += [s for s in dataset.load_songs(args.extra) if s.song_id not in seen and written_short(s)]
    return songs


def bootstrap(differences: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95 % interval of the mean of ``differences`` (2,000 resamples)."""
    means = [rng.choice(differences, len(differences)).mean() for _ in range(2000)]
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_a", help="model folder scored first (e.g. a VAE without meter columns)")
    parser.add_argument("model_b", help="model folder compared with it")
    parser.add_argument("--validation", required=True, help="an every-meter validation dataset")
    parser.add_argument("--extra", default=None, help="another dataset, its songs not in --train")
    parser.add_argument("--train", default=None, help="the models' training dataset (left out of --extra)")
    args = parser.parse_args(argv)
    songs = other_meter_songs(args)
    scores = []
    for folder, methods in ((args.model_a, ("drumgen",)), (args.model_b, ("drumgen", "repeat_common_bar"))):
        models = load_models(folder)
        result = evaluation.evaluate_songs(
            songs, models=models, config=models.config, methods=methods, progress=False
        )
        scores.append(result.per_song["drumgen"])
    baseline = result.per_song["repeat_common_bar"]
    groups: dict[str, list[str]] = defaultdict(list)
    for song in songs:
        groups[meter_group(song.meter)].append(song.song_id)
        groups["all"].append(song.song_id)
    rng = np.random.default_rng(0)
    comparisons = (("A | B | B - A", scores[0], scores[1]), ("rcb | B | B - rcb", baseline, scores[1]))
    for title, first, second in comparisons:
        print(f"group | songs | metric | {title} [95 %]")
        for group, ids in groups.items():
            for metric in METRICS:
                a = np.array([first[i][metric] for i in ids])
                b = np.array([second[i][metric] for i in ids])
                difference = (b - a)[~np.isnan(b - a)]
                low, high = bootstrap(difference, rng)
                print(
                    f"{group} | {len(ids)} | {metric} | {np.nanmean(a):.3f} | {np.nanmean(b):.3f} | "
                    f"{difference.mean():+.3f} [{low:+.3f}, {high:+.3f}]"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
