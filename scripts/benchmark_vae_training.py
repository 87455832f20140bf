"""Benchmark of the drum VAE's training step: Keras's own PyDataset feed against drumgen's.

    .venv/bin/python scripts/benchmark_vae_training.py DATASET [--songs 200] [--steps 30] [--rounds 2]

Builds the VAE as `drumgen train vae` does (`drumgen.model.train_vae.training_setup`) on the first
--songs songs of a dataset build, then times --steps training steps of `fit` fed two ways with
batches of the same bars (Keras reshuffles them as it starts), alternating for --rounds rounds
after a warm-up of each:

- `keras`: the `BarBatches` PyDataset handed to `fit`, which Keras wraps in a generator dataset
  prefetched with `tf.data.AUTOTUNE` (how drumgen trained before session 24);
- `drumgen`: `BarBatches.as_tf_dataset()`, tf.data's autotuning off, one batch made ahead (what
  `drumgen train vae` uses now).

Prints milliseconds a step (CPU milliseconds beside them, all threads) and the ratio. Ratios
measured in one run on this machine; not asserted by any test.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from drumgen import dataset
from drumgen.config import load_config
from drumgen.exceptions import DrumgenError
from drumgen.model.train_vae import training_batches, training_setup


def timed_steps(trainer: Any, data: Any, steps: int) -> tuple[float, float]:
    """Milliseconds of wall time and of CPU time (user + system, all threads) a step."""
    cpu_before, started = os.times(), time.perf_counter()
    trainer.fit(data, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    wall, cpu_after = time.perf_counter() - started, os.times()
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    return 1000 * wall / steps, 1000 * cpu / steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", help="a dataset build (drumgen dataset build)")
    parser.add_argument("--songs", type=int, default=200, help="songs to train on")
    parser.add_argument("--steps", type=int, default=30, help="timed steps a round and feed")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    args = parser.parse_args()
    if min(args.songs, args.steps, args.rounds) < 1:
        parser.error("--songs, --steps and --rounds must be at least 1")

    config = load_config()
    try:
        songs = dataset.load_songs(args.dataset, limit=args.songs)
    except DrumgenError as error:
        parser.error(str(error))
    setup = training_setup(songs, songs[:1], config=config)
    batches, _ = training_batches(setup, config=config)
    if len(batches) < args.steps + 3:
        parser.error(f"{len(songs)} songs make {len(batches)} batches; ask for fewer --steps")
    print(
        f"{len(songs)} songs, {setup.train.n_targets} bars, {len(batches)} batches of {config.vae.batch_size}"
    )
    trainer = setup.vae.trainer
    feeds = {"keras": lambda: batches, "drumgen": batches.as_tf_dataset}
    for make in feeds.values():  # warm-up: tracing, first allocations
        trainer.fit(make(), epochs=1, steps_per_epoch=3, shuffle=False, verbose=0)
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in feeds}
    for round_index in range(args.rounds):
        for name, make in feeds.items():
            timings[name].append(timed_steps(trainer, make(), args.steps))
            wall, cpu = timings[name][-1]
            print(f"round {round_index + 1} {name:8s} {wall:6.0f} ms a step (CPU {cpu:6.0f} ms)")
    best = {name: min(wall for wall, _ in rounds) for name, rounds in timings.items()}
    print(
        f"best: keras {best['keras']:.0f} ms, drumgen {best['drumgen']:.0f} ms a step; "
        f"drumgen / keras = {best['drumgen'] / best['keras']:.2f}"
    )


if __name__ == "__main__":
    main()
