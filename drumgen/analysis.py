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
import pretty_midi

from drumgen import bars, features, filestyle, midi, parts, representation
from drumgen.config import Config, load_config
from drumgen.exceptions import CommonTimeError, ParameterError
from drumgen.feel import song_onsets
from drumgen.meter import SongMeter
from drumgen.synth import Renderer, peak_gain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step1Result:
    """What step 1 found in a song.

    Attributes
    ----------
    bar_times : np.ndarray [shape=(n_bars + 1,), seconds]
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        Start of each 16th step of each bar on the song's step canvas (``n_steps`` 16 for a 4/4
        song; padding steps lie at the bar's end, :mod:`drumgen.bars`), then the bar's end.
    bar_tempos : np.ndarray [shape=(n_bars,), quarter notes per minute]
    bar_cqts : np.ndarray [shape=(n_bars, 84, 96), float32, in [0, 1]]
        96 cells per bar, each a 96th of the bar whatever its length.
    drum_grids : np.ndarray [shape=(n_bars, 46, n_steps), uint8 velocities] or None
        The song's own drums, if it has any.
    part_onsets : np.ndarray [shape=(n_bars, 5, n_steps), uint8] or None
        Note onsets per step of each instrument family (:mod:`drumgen.parts`); None in run
        folders written before it existed.
    bar_meters : np.ndarray [shape=(n_bars, 2), int] or None
        ``(numerator, denominator)`` of every bar; None in run folders written before meters
        were read (all 4/4 then). See :attr:`meter`.
    melody_gain : float or None
        The factor the rendered melody was scaled by to peak at ``config.render.peak`` (the
        audio divided by it is FluidSynth's own level, which a separate render of the drums
        shares: :mod:`drumgen.mixdown`); None in run folders written before it was kept.
    """

    bar_times: np.ndarray
    step_times: np.ndarray
    bar_tempos: np.ndarray
    bar_cqts: np.ndarray
    drum_grids: np.ndarray | None
    part_onsets: np.ndarray | None = None
    run_dir: Path | None = None
    bar_meters: np.ndarray | None = None
    melody_gain: float | None = None
    file_features: np.ndarray | None = None

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return len(self.bar_cqts)

    @property
    def meter(self) -> SongMeter:
        """Every bar's meter, steps and beats (:class:`drumgen.meter.SongMeter`)."""
        if self.bar_meters is None:
            return SongMeter.common_time(self.n_bars)
        return SongMeter.from_meters(self.bar_meters)


@dataclass(frozen=True)
class SongTiming:
    """A song's straight step grid and its notes' onset times as played (unquantised).

    What the evaluation's timing/feel section reads (:func:`drumgen.feel.timing_scores`); the
    stored analysis keeps only quantised grids.

    Attributes
    ----------
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        The straight grid, exactly as :func:`preprocess_song` computes it.
    drum_onsets : np.ndarray [shape=(n_hits,), float64, seconds]
        Onsets of the song's own drum notes, sorted (empty without drums).
    drum_pitches : np.ndarray [shape=(n_hits,), int64, GM drum pitch]
        The pitch of each of ``drum_onsets``.
    part_onsets : np.ndarray [shape=(n_notes,), float64, seconds]
        Onsets of the non-drum notes, sorted (:func:`drumgen.feel.song_onsets`).
    bar_meters : np.ndarray [shape=(n_bars, 2), int64]
    """

    step_times: np.ndarray
    drum_onsets: np.ndarray
    drum_pitches: np.ndarray
    part_onsets: np.ndarray
    bar_meters: np.ndarray

    @property
    def meter(self) -> SongMeter:
        """Every bar's meter (:class:`drumgen.meter.SongMeter`)."""
        return SongMeter.from_meters(self.bar_meters)


def read_timing(song_path: str | Path, *, config: Config | None = None) -> SongTiming:
    """A song's step grid and unquantised note onsets, without rendering (cheap: MIDI only).

    Raises
    ------
    MidiError
        As :func:`preprocess_song` (including an undrummable meter).
    """
    config = load_config("default") if config is None else config
    song = midi.ensure_time_signature(midi.read_midi(Path(song_path), limits=config.limits))
    split = midi.split_drums(song, name=str(song_path))
    end_time = midi.song_end_time(song)
    bar_times = bars.bar_times(song, end_time=end_time)
    midi.check_meter(song, list(bar_times[:-1]), name=str(song_path))
    notes = [] if split.drums is None else [n for inst in split.drums.instruments for n in inst.notes]
    notes.sort(key=lambda note: (note.start, note.pitch))
    return SongTiming(
        step_times=bars.step_times(song, end_time=end_time),
        drum_onsets=np.array([note.start for note in notes], dtype=np.float64),
        drum_pitches=np.array([note.pitch for note in notes], dtype=np.int64),
        part_onsets=song_onsets(split.melody.instruments),
        bar_meters=bars.bar_meters(song, end_time=end_time),
    )


def preprocess_song(
    song_path: str | Path,
    *,
    config: Config | None = None,
    renderer: Renderer | None = None,
    common_time_only: bool = False,
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
    common_time_only : bool
        Refuse, before rendering, a song with a bar that is not 16 steps long (4/4, 2/2): the
        training dataset's choice while the models are trained on 4/4 bars only.

    Returns
    -------
    result : Step1Result
        With ``run_dir`` None.
    audio : np.ndarray [shape=(n_samples,), float32]
        The rendered non-drum part, ``config.render.sample_rate`` Hz.

    Raises
    ------
    MidiError, SynthError
    LimitError
        If the song is beyond ``config.limits`` (:func:`drumgen.midi.check_midi_file`, before any
        work).
    TimeSignatureError
        If a bar cannot be drummed (:func:`drumgen.midi.check_meter`).
    CommonTimeError
        With ``common_time_only``, if a bar is not 16 steps long.
    """
    config = load_config("default") if config is None else config
    song_path = Path(song_path)
    midi_file = midi.read_midi_file(song_path, limits=config.limits)
    midi.check_midi_file(midi_file, name=str(song_path), limits=config.limits)  # before any work
    file_features = filestyle.file_features(midi_file)  # before song_from_file rewrites its times
    song = midi.ensure_time_signature(midi.song_from_file(midi_file, name=str(song_path)))
    split = midi.split_drums(song, name=str(song_path))
    end_time = midi.song_end_time(song)
    bar_times = bars.bar_times(song, end_time=end_time)
    midi.check_meter(song, list(bar_times[:-1]), name=str(song_path))
    meter = SongMeter.from_meters(bars.bar_meters(song, end_time=end_time))
    odd = meter.first_uncommon_bar()
    if common_time_only and odd is not None:
        numerator, denominator = meter.bar_meters[odd]
        raise CommonTimeError(
            f"{song_path}: bar {odd + 1} (at {bar_times[odd]:.2f} s) is in {numerator}/{denominator}; "
            "the models train on bars of four quarter notes only (4/4, 2/2)"
        )
    step_times = bars.step_times(song, end_time=end_time)
    bar_tempos = bars.bar_tempos(song, bar_times)
    log.debug("%s: %d bars, %.1f s", song_path.name, len(bar_times) - 1, bar_times[-1])

    render = config.render
    if renderer is None:
        with Renderer.from_config(render) as own:
            audio, melody_gain = render_scaled(
                split.melody, duration=float(bar_times[-1]), renderer=own, peak=render.peak
            )
    else:
        if renderer.sr != render.sample_rate:
            raise ParameterError(f"renderer runs at {renderer.sr} Hz, config asks {render.sample_rate} Hz")
        audio, melody_gain = render_scaled(
            split.melody, duration=float(bar_times[-1]), renderer=renderer, peak=render.peak
        )

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
        bar_meters=meter.bar_meters,
        melody_gain=melody_gain,
        file_features=file_features,
    )
    return result, audio


def render_scaled(
    melody: pretty_midi.PrettyMIDI, *, duration: float, renderer: Renderer, peak: float
) -> tuple[np.ndarray, float]:
    """Render a song's non-drum parts scaled to peak at ``peak``; also return the scale.

    Returns
    -------
    audio : np.ndarray [shape=(ceil(duration * renderer.sr),), float32]
        As ``renderer.render(melody, duration=duration, peak=peak)`` gives it.
    gain : float
        The factor FluidSynth's output was multiplied by (:func:`drumgen.mixdown.mix_with_melody`
        divides by it to add drums rendered alone at FluidSynth's level).
    """
    audio = renderer.render(melody, duration=duration, peak=None)
    gain = peak_gain(audio, peak=peak)
    audio *= gain
    return audio, gain


def render_song_melody(
    song_path: str | Path, *, renderer: Renderer, config: Config
) -> tuple[np.ndarray, float]:
    """A song file's non-drum parts rendered as :func:`preprocess_song` renders them, up to the
    song's last bar line, at the renderer's rate (e.g. the audio files' rate,
    ``config.audio.sample_rate``): see :func:`render_scaled`, with ``peak = config.render.peak``.

    Raises
    ------
    MidiError, LimitError, SynthError
    """
    song = midi.ensure_time_signature(midi.read_midi(Path(song_path), limits=config.limits))
    melody = midi.split_drums(song, name=str(song_path)).melody
    end_time = float(bars.bar_times(song)[-1])
    return render_scaled(melody, duration=end_time, renderer=renderer, peak=config.render.peak)
