"""Benchmark of the analysis half (steps 1-3): seconds of work per minute of audio, per stage.

    .venv/bin/python scripts/benchmark_analysis.py                 # a 3-minute synthetic song
    .venv/bin/python scripts/benchmark_analysis.py input_midi/*.mid --repeat 3

Each stage is timed separately (best of --repeat runs) with the default preset. Figures are
ratios measured in one run on this machine; they are not asserted by any test.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from drumgen import bars, features, midi, representation, selection, similarity, testing
from drumgen.config import load_config
from drumgen.synth import Renderer


def _best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def benchmark_song(path: Path, *, repeat: int, renderer: Renderer) -> dict[str, float]:
    """Seconds per stage for one song, plus its duration in seconds under key 'audio_s'."""
    config = load_config("default")
    feat, sim = config.features, config.similarity
    timings: dict[str, float] = {}
    timings["read + bars"], (_, parts, bar_times, step_times) = _best_of(repeat, lambda: _read(path))
    timings["render"], audio = _best_of(
        repeat, lambda: renderer.render(parts.melody, duration=float(bar_times[-1]), peak=config.render.peak)
    )
    timings["cqt"], db = _best_of(
        repeat,
        lambda: features.cqt_db_with(audio, sr=renderer.sr, settings=feat),
    )
    timings["pool bars"], bar_cqts = _best_of(
        repeat,
        lambda: features.pool_bars(
            features.db_to_unit(db, top_db=feat.top_db),
            bar_times,
            sr=renderer.sr,
            hop_length=feat.hop_length,
            n_cells=feat.n_cells,
        ),
    )
    timings["melodic ssm"], ssm = _best_of(
        repeat, lambda: similarity.melodic_ssm(bar_cqts, scale=sim.melodic_scale)
    )
    if parts.drums is not None:
        timings["drum grid + ssm"], _ = _best_of(
            repeat,
            lambda: similarity.drum_ssm(
                representation.drums_to_grid(parts.drums.instruments, step_times), scale=sim.drum_scale
            ),
        )
    timings["selection"], _ = _best_of(
        repeat, lambda: selection.select_neighbors(ssm, n_neighbors=config.selection.n_neighbors)
    )
    timings["audio_s"] = float(bar_times[-1])
    return timings


def _read(path: Path) -> tuple[Any, midi.SplitSong, np.ndarray, np.ndarray]:
    song = midi.ensure_time_signature(midi.read_midi(path))
    parts = midi.split_drums(song)
    end = midi.song_end_time(song)
    bar_times = bars.bar_times(song, end_time=end)
    midi.check_meter(song, list(bar_times[:-1]))
    return song, parts, bar_times, bars.step_times(song, end_time=end)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("songs", nargs="*", type=Path, help="MIDI files (default: a 3-minute synthetic song)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage; the best counts")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="CPU cores FluidSynth may use (default: all, as the CLI does)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        songs = args.songs
        if not songs:
            # 6 sections x 15 bars of 4/4 at 120 bpm = 90 bars = 180 s
            path = Path(scratch) / "three_minutes.mid"
            testing.make_song(
                "ABACBA", bars_per_section=15, tempo=120.0, parts=("piano", "bass", "guitar", "strings")
            ).write(str(path))
            songs = [path]
        config = load_config("default")
        with Renderer.from_config(config.render, threads=args.threads) as renderer:
            # warm-up: librosa's first CQT compiles numba code, which is not per-song work
            features.cqt_db_with(
                np.zeros(config.render.sample_rate, np.float32), sr=renderer.sr, settings=config.features
            )
            results = [benchmark_song(path, repeat=args.repeat, renderer=renderer) for path in songs]
    stages = [key for key in results[0] if key != "audio_s"]
    minutes = sum(r["audio_s"] for r in results) / 60.0
    print(f"{len(results)} song(s), {minutes:.2f} min of audio, best of {args.repeat} runs per stage")
    print(f"{'stage':<18}{'seconds':>10}{'s per audio min':>18}")
    total = 0.0
    for stage in stages:
        seconds = sum(r.get(stage, 0.0) for r in results)
        total += seconds
        print(f"{stage:<18}{seconds:>10.3f}{seconds / minutes:>18.3f}")
    print(f"{'total':<18}{total:>10.3f}{total / minutes:>18.3f}")


if __name__ == "__main__":
    main()
