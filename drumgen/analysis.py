"""Step 1 in memory: a MIDI song analysed into bars, per-bar CQTs, onset profiles and drum grids.

:func:`preprocess_song` is the one implementation of step 1; the pipeline (which also writes the
run folder), the dataset builder and the evaluation all call it.

Used by notebook ``step_1_midi_data_preprocessing``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drumgen import bars, features, midi, parts, representation
from drumgen.config import Config, load_config
from drumgen.exceptions import ParameterError
from drumgen.synth import Renderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step1Result:
    """What step 1 found in a song.

    Attributes
    ----------
    bar_times : np.ndarray [shape=(n_bars + 1,), seconds]
    step_times : np.ndarray [shape=(n_bars, 17), seconds]
        Start of each 16th step of each bar, then the bar's end.
    bar_tempos : np.ndarray [shape=(n_bars,), quarter notes per minute]
    bar_cqts : np.ndarray [shape=(n_bars, 84, 96), float32, in [0, 1]]
    drum_grids : np.ndarray [shape=(n_bars, 46, 16), uint8 velocities] or None
        The song's own drums, if it has any.
    part_onsets : np.ndarray [shape=(n_bars, 5, 16), uint8] or None
        Note onsets per step of each instrument family (:mod:`drumgen.parts`); None in run
        folders written before it existed.
    """

    bar_times: np.ndarray
    step_times: np.ndarray
    bar_tempos: np.ndarray
    bar_cqts: np.ndarray
    drum_grids: np.ndarray | None
    part_onsets: np.ndarray | None = None
    run_dir: Path | None = None

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return len(self.bar_cqts)


def preprocess_song(
    song_path: str | Path, *, config: Config | None = None, renderer: Renderer | None = None
) -> tuple[Step1Result, np.ndarray]:
    """Step 1 without files: analyse a MIDI song in memory.

    Parameters
    ----------
    song_path : str or Path
        A standard MIDI file. Its drums (if any) are set aside as the reference.
    config : Config, optional
        Default: the ``default`` preset.
    renderer : Renderer, optional
        A loaded FluidSynth renderer to reuse across songs (its sample rate must match
        ``config.render``); one is made if omitted.

    Returns
    -------
    result : Step1Result
        With ``run_dir`` None.
    audio : np.ndarray [shape=(n_samples,), float32]
        The rendered non-drum part, ``config.render.sample_rate`` Hz.

    Raises
    ------
    MidiError, TimeSignatureError, SynthError
    """
    config = load_config("default") if config is None else config
    song_path = Path(song_path)
    song = midi.ensure_time_signature(midi.read_midi(song_path, limits=config.limits))
    split = midi.split_drums(song, name=str(song_path))
    end_time = midi.song_end_time(song)
    bar_times = bars.bar_times(song, end_time=end_time)
    midi.check_meter(song, list(bar_times[:-1]), name=str(song_path))
    step_times = bars.step_times(song, end_time=end_time)
    bar_tempos = bars.bar_tempos(song, bar_times)
    log.debug("%s: %d bars, %.1f s", song_path.name, len(bar_times) - 1, bar_times[-1])

    render = config.render
    if renderer is None:
        with Renderer.from_config(render) as own:
            audio = own.render(split.melody, duration=float(bar_times[-1]), peak=render.peak)
    else:
        if renderer.sr != render.sample_rate:
            raise ParameterError(f"renderer runs at {renderer.sr} Hz, config asks {render.sample_rate} Hz")
        audio = renderer.render(split.melody, duration=float(bar_times[-1]), peak=render.peak)

    bar_cqts = features.bar_features_with(audio, bar_times, sr=render.sample_rate, settings=config.features)
    drum_grids = None
    if split.drums is not None:
        drum_grids = representation.drums_to_grid(split.drums.instruments, step_times)
    result = Step1Result(
        bar_times=bar_times,
        step_times=step_times,
        bar_tempos=bar_tempos,
        bar_cqts=bar_cqts,
        drum_grids=drum_grids,
        part_onsets=parts.onset_profile(split.melody.instruments, step_times),
    )
    return result, audio
