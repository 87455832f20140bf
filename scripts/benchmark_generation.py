"""Benchmark of generation end to end (steps 1-5) on a 3-minute drumless song.

    .venv/bin/python scripts/benchmark_generation.py [--model drum_generator_model] [--repeat 3]

Times each step (best of --repeat runs) with the shipped models, after loading them once
(loading is reported on its own: a batch of songs pays it once), then the whole `drumgen generate`
command once in a fresh process (which also pays Python, TensorFlow and librosa start-up). Ratios
measured in one run on this machine; not asserted by any test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from drumgen import pipeline, testing
from drumgen.model.bundle import load_models
from drumgen.synth import Renderer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="model folder (default: the shipped models)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the best counts")
    args = parser.parse_args()

    started = time.perf_counter()
    models = load_models(args.model)
    load_seconds = time.perf_counter() - started
    config = models.config
    with tempfile.TemporaryDirectory() as scratch:
        song = Path(scratch) / "three_minutes.mid"
        testing.make_song(
            "ABACBA",
            bars_per_section=15,
            tempo=120.0,
            drums=False,
            parts=("piano", "bass", "guitar", "strings"),
        ).write(str(song))
        run_dir, out_dir = Path(scratch) / "run", Path(scratch) / "out"
        steps = {
            "1 render + CQT": lambda: pipeline.step_1_preprocess(
                song, run_dir, config=config, force=True, renderer=renderer
            ),
            "2 SSMs (+ generator)": lambda: pipeline.step_2_similarity(
                run_dir, config=config, force=True, ssm_generator=models.ssm_generator
            ),
            "3 selection": lambda: pipeline.step_3_select(
                run_dir, config=config, source="predicted", force=True
            ),
            "4 VAE + arranger": lambda: pipeline.step_4_generate(
                run_dir, config=config, vae=models.vae, drummer=models.drummer, force=True
            ),
            "5 MIDI out": lambda: pipeline.step_5_write_midi(run_dir, out_dir=out_dir, force=True),
        }
        timings: dict[str, float] = {}
        with Renderer.from_config(config.render, threads=os.cpu_count() or 1) as renderer:
            for name, step in steps.items():
                best = float("inf")
                for _ in range(args.repeat):
                    begin = time.perf_counter()
                    step()
                    best = min(best, time.perf_counter() - begin)
                timings[name] = best
        begin = time.perf_counter()
        command = [sys.executable, "-m", "drumgen.cli", "generate", str(song), "--force"]
        command += ["-o", str(out_dir), "--runs-dir", str(Path(scratch) / "runs")]
        command += ["--model", args.model] if args.model else []
        subprocess.run(command, check=True, capture_output=True)
        cold_seconds = time.perf_counter() - begin
    print(f"3-minute, four-instrument song; best of {args.repeat} runs per step")
    print(f"{'load models (once)':<24}{load_seconds:>8.2f} s")
    for name, seconds in timings.items():
        print(f"{name:<24}{seconds:>8.2f} s")
    print(f"{'total per song':<24}{sum(timings.values()):>8.2f} s")
    print(f"{'drumgen generate, cold':<24}{cold_seconds:>8.2f} s  (a fresh process, start-up included)")


if __name__ == "__main__":
    main()
