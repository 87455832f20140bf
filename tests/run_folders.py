"""A run folder holding steps 1 and 4 as the pipeline saves them, without rendering or a model:
bars from the song itself, zero CQTs, and a fixed drum grid standing in for the VAE's drums.
Used by the step-5 tests (tests/test_midi_out.py, tests/test_feel.py, tests/test_atomic_output.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi

from drumgen import bars, io, midi
from drumgen.arrangement import DECISIONS


@dataclass(frozen=True)
class BareRun:
    """What :func:`save_steps_1_and_4` wrote the run from."""

    song: pretty_midi.PrettyMIDI
    end_time: float
    step_times: np.ndarray  # [shape=(n_bars, 17), seconds]


def save_steps_1_and_4(
    song_path: Path,
    run_dir: Path,
    groove: Any,
    *,
    densities: Sequence[int] = (0,),
    end_time: float | None = None,
    step_4_meta: dict[str, Any] | None = None,
    force: bool = False,
) -> BareRun:
    """Write steps 1 and 4 of ``song_path`` into ``run_dir``.

    Parameters
    ----------
    groove : callable
        ``groove(n_bars)`` -> the drum grid [shape=(n_bars, 46, 16), uint8 velocities] of every density.
    end_time : float, optional
        Where the song ends, seconds; default :func:`drumgen.midi.song_end_time`.
    step_4_meta : dict, optional
        Step 4's sidecar; default ``{"source": "predicted", "seed": 0}``.
    """
    song = midi.ensure_time_signature(midi.read_midi(song_path))  # as step 1 reads it
    end_time = midi.song_end_time(song) if end_time is None else end_time
    step_times = bars.step_times(song, end_time=end_time)
    bar_times = bars.bar_times(song, end_time=end_time)
    n_bars = len(bar_times) - 1
    io.save_step(
        run_dir,
        "step_1",
        {
            "bar_times": bar_times,
            "step_times": step_times,
            "bar_tempos": bars.bar_tempos(song, bar_times),
            "bar_cqts": np.zeros((n_bars, 2, 2), dtype=np.uint8),
        },
        {"song": {"path": str(song_path), "md5": io.file_digest(song_path), "name": song_path.stem}},
        force=force,
    )
    grid = groove(n_bars)
    io.save_step(
        run_dir,
        "step_4",
        {
            "densities": np.array(densities),
            "grids": np.stack([grid for _ in densities]),
            **{name: np.zeros((len(densities), n_bars), dtype=bool) for name in DECISIONS},
        },
        step_4_meta if step_4_meta is not None else {"source": "predicted", "seed": 0},
        force=force,
    )
    return BareRun(song=song, end_time=end_time, step_times=step_times)
