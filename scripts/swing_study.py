"""How swung songs meet the straight sixteenth grid the drums are learned and scored on.

Where their real off-beats land, what that teaches the drum VAE, and how the drums score when
scored as written (swing applied). The README's "How good are the drums" quotes this output.

The training and evaluation grids quantise every drum onset to the nearest straight sixteenth.
A swung off-beat eighth (at 2/3 of the beat in triplet swing) is nearer the beat's fourth
sixteenth (3/4) than its third (1/2), so in hard-swung songs the real hi-hats sit on the fourth.
drumgen writes off-beats on the third and swings them in step 5 (:mod:`drumgen.feel`).

1. Songs whose real timekeeper plays the fourth sixteenth more than the third ("swung off-beats").
2. In the other (straight) songs: the VAE's hi-hat chance on each sixteenth of the beat against how
   often the real hats play there.
3. Kit F1 of drumgen and ``repeat_common_bar`` as arranged (the grid) and as written (the grid
   played with the swing step 5 finds in the song's parts, then quantised as the real drums are),
   on all songs and on those step 5 swings hard (ratio >= 5:3, where a swung off-beat is nearer
   the fourth sixteenth).

    .venv/bin/python scripts/swing_study.py ../datasets/validation_all
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from drumgen import arrangement, dataset, evaluation, feel, generation, kit, metrics, representation
from drumgen.analysis import SongTiming, read_timing
from drumgen.config import Config
from drumgen.meter import meter_group
from drumgen.model.bundle import load_models

TIMEKEEPERS = [kit.KIT_CLASSES.index(name) for name in ("closed_hat", "open_hat", "ride")]
HARD_SWING = 5.0 / 3.0
"""Swing ratio from which a swung off-beat (at ratio / (1 + ratio) of the beat) is nearer the
beat's fourth sixteenth than its third."""


def keeper_positions(classes: np.ndarray) -> np.ndarray | None:
    """Share of the beats (of bars where it plays) on which the timekeeper strikes each sixteenth;
    None where it never plays. ``classes``: kit classes [shape=(n_bars, n_classes, 16), bool]."""
    keeper = classes[:, TIMEKEEPERS, :16].any(axis=1)
    keeper = keeper[keeper.any(axis=1)]
    return keeper.reshape(-1, 4).mean(axis=0) if len(keeper) else None


def kit_f1(generated: np.ndarray, real_classes: np.ndarray) -> float:
    """Kit F1 of a generated grid against the real drums' kit classes."""
    return metrics.onset_f1(kit.to_kit_classes(generated), real_classes)


def as_written(grid: np.ndarray, timing: SongTiming, config: Config) -> np.ndarray:
    """``grid`` as step 5 writes it (:func:`drumgen.evaluation.written_drums`: the swing found in the
    song's parts), quantised to the straight sixteenths as the real drums are."""
    drums = evaluation.written_drums(grid, timing, config=config, seed=0)
    return representation.drums_to_grid([drums], timing.step_times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a dataset folder (drumgen dataset build) with its MIDI files")
    parser.add_argument("--limit", type=int, default=2000)
    args = parser.parse_args(argv)
    models = load_models()
    config = models.config
    bars = evaluation.BaselineBars.from_meta(models.require("vae_meta")["baselines"])
    hat = kit.PIECES.index("hihat")
    swung_offbeats, chance, played_there, scores = [], [], [], []
    for song in dataset.load_songs(args.dataset, limit=args.limit):
        if meter_group(song.meter) != "4/4":
            continue
        real = song.arrays["drum_grids"]
        real_classes = kit.to_kit_classes(real)
        meta = json.loads((Path(args.dataset) / "songs" / f"{song.song_id}.json").read_text())
        timing = read_timing(meta["song"]["path"], config=config)
        if len(timing.step_times) != len(real):
            continue
        stored = generation.stored_predictions(
            song, ssm_generator=models.ssm_generator, vae=models.vae, config=config
        )
        predicted = stored.predicted
        arranged = generation.stored_arrangement(stored, drummer=models.drummer, config=config)
        common = evaluation.method_drums(
            "repeat_common_bar", song, models=models, bars=bars, seed=0, config=config
        )
        played = feel.choose_feel(  # the swing step 5 applies (written_drums finds the same)
            timing.part_onsets,
            step_times=timing.step_times,
            settings=config.feel,
            seed=0,
            swing_bars=~timing.meter.compound,
            report=False,
        )
        scores.append(
            (
                played.swing_ratio,
                kit_f1(arranged.grid, real_classes),
                kit_f1(as_written(arranged.grid, timing, config), real_classes),
                kit_f1(common, real_classes),
                kit_f1(as_written(common, timing, config), real_classes),
            )
        )
        positions = keeper_positions(real_classes)
        if positions is None:
            continue
        if positions[3] > positions[2]:
            swung_offbeats.append(song.song_id)
            continue
        plays = real_classes[:, TIMEKEEPERS].any(axis=(1, 2))
        chances = arrangement.piece_probabilities(predicted.probabilities)[plays, hat]
        chance.append(chances.reshape(-1, 4).mean(axis=0))
        played_there.append(positions)
    table = np.array(scores)
    print(
        f"{len(table)} 4/4 songs; {len(swung_offbeats)} with the real timekeeper on the 4th sixteenth "
        "more than on the 3rd"
    )
    chance_arr, real_arr = np.array(chance), np.array(played_there)
    print(f"straight songs ({len(chance_arr)}), sixteenths 1-4 of the beat:")
    print("  VAE hi-hat chance    ", np.round(chance_arr.mean(axis=0), 3).tolist())
    print("  real timekeeper share", np.round(real_arr.mean(axis=0), 3).tolist())
    for position in (1, 3):
        never = real_arr[:, position] < 0.1
        print(
            f"  songs whose real timekeeper (almost) never plays sixteenth {position + 1}: {never.sum()}; "
            f"the VAE's chance there above 0.3 in {np.mean(chance_arr[never, position] > 0.3):.3f} of them"
        )
    hard = table[:, 0] >= HARD_SWING
    groups = (("all", np.ones(len(table), bool)), (f"swung by step 5 (ratio >= {HARD_SWING:.2f})", hard))
    for label, rows in groups:
        means = table[rows, 1:].mean(axis=0)
        print(
            f"{label} ({rows.sum()} songs): kit F1 drumgen {means[0]:.4f} arranged / {means[1]:.4f} written; "
            f"repeat_common_bar {means[2]:.4f} / {means[3]:.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
