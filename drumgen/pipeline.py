"""The pipeline's steps as functions: the notebooks and the CLI both call these.

Each step reads what earlier steps left in the run folder and writes its own result there
(see :mod:`drumgen.io` for the layout), so the steps can run in separate processes or notebooks.

- :func:`step_1_preprocess` - MIDI -> drums set apart, melody rendered, bars, per-bar CQTs.
- :func:`step_2_similarity` - melodic SSM (and the true drum SSM when the song has drums).
- :func:`step_3_select` - each bar's 7 most similar bars.
- :func:`analyze_song` - steps 1 to 3 in one call.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drumgen import bars, features, io, midi, representation, selection, similarity
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
    """

    bar_times: np.ndarray
    step_times: np.ndarray
    bar_tempos: np.ndarray
    bar_cqts: np.ndarray
    drum_grids: np.ndarray | None
    run_dir: Path | None = None

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return len(self.bar_cqts)


@dataclass(frozen=True)
class Step2Result:
    """The song's SSMs (distances, 0 = identical).

    Attributes
    ----------
    melodic_ssm : np.ndarray [shape=(n_bars, n_bars), float32]
    drum_ssm : np.ndarray [shape=(n_bars, n_bars), float32] or None
        From the song's own drum track, if it has one (training / oracle / evaluation only).
    """

    run_dir: Path
    melodic_ssm: np.ndarray
    drum_ssm: np.ndarray | None


@dataclass(frozen=True)
class Step3Result:
    """Each bar's neighbours, and which SSM chose them ("melodic" or "oracle")."""

    run_dir: Path
    selection: selection.BarSelection
    source: str


def _resolve(config: Config | None) -> Config:
    return load_config("default") if config is None else config


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
    config = _resolve(config)
    song_path = Path(song_path)
    song = midi.ensure_time_signature(midi.read_midi(song_path))
    parts = midi.split_drums(song, name=str(song_path))
    end_time = midi.song_end_time(song)
    bar_times = bars.bar_times(song, end_time=end_time)
    midi.check_meter(song, list(bar_times[:-1]), name=str(song_path))
    step_times = bars.step_times(song, end_time=end_time)
    bar_tempos = bars.bar_tempos(song, bar_times)
    log.debug("%s: %d bars, %.1f s", song_path.name, len(bar_times) - 1, bar_times[-1])

    render = config.render
    if renderer is None:
        with Renderer.from_config(render) as own:
            audio = own.render(parts.melody, duration=float(bar_times[-1]), peak=render.peak)
    else:
        if renderer.sr != render.sample_rate:
            raise ParameterError(f"renderer runs at {renderer.sr} Hz, config asks {render.sample_rate} Hz")
        audio = renderer.render(parts.melody, duration=float(bar_times[-1]), peak=render.peak)

    feat = config.features
    bar_cqts = features.bar_features(
        audio,
        bar_times,
        sr=render.sample_rate,
        hop_length=feat.hop_length,
        fmin_hz=feat.fmin_hz,
        n_bins=feat.n_bins,
        bins_per_octave=feat.bins_per_octave,
        top_db=feat.top_db,
        n_cells=feat.n_cells,
    )
    drum_grids = None
    if parts.drums is not None:
        drum_grids = representation.drums_to_grid(parts.drums.instruments, step_times)
    result = Step1Result(
        bar_times=bar_times,
        step_times=step_times,
        bar_tempos=bar_tempos,
        bar_cqts=bar_cqts,
        drum_grids=drum_grids,
    )
    return result, audio


def step_1_preprocess(
    song_path: str | Path,
    run_dir: str | Path | None = None,
    *,
    config: Config | None = None,
    force: bool = False,
    renderer: Renderer | None = None,
) -> Step1Result:
    """Read a MIDI song, render its non-drum part, cut it into bars, and compute per-bar CQTs;
    write the results to the run folder.

    Parameters
    ----------
    song_path : str or Path
        A standard MIDI file. Its drums (if any) are set aside as the reference.
    run_dir : str or Path, optional
        Where to write the results; default ``runs/<song stem>``.
    config : Config, optional
        Default: the ``default`` preset.
    force : bool
        Overwrite an existing result.
    renderer : Renderer, optional
        See :func:`preprocess_song`.

    Raises
    ------
    MidiError, TimeSignatureError, SynthError, OutputExistsError
    """
    config = _resolve(config)
    song_path = Path(song_path)
    run_dir = Path(run_dir) if run_dir is not None else io.default_run_dir(song_path)
    io.check_writable(io.step_path(run_dir, "step_1"), force=force)
    result, audio = preprocess_song(song_path, config=config, renderer=renderer)
    arrays = {
        "bar_times": result.bar_times,
        "step_times": result.step_times,
        "bar_tempos": result.bar_tempos,
        "bar_cqts": result.bar_cqts,
    }
    if result.drum_grids is not None:
        arrays["drum_grids"] = result.drum_grids
    meta = {
        "song": {"path": str(song_path), "md5": io.file_md5(song_path), "name": song_path.stem},
        "n_bars": result.n_bars,
        "has_drums": result.drum_grids is not None,
        "soundfont": str(renderer.soundfont if renderer is not None else config.render.soundfont),
        "config": config.to_dict(),
    }
    io.save_audio(io.melody_audio_path(run_dir), audio, sr=config.render.sample_rate, force=True)
    io.save_step(run_dir, "step_1", arrays, meta, force=force)
    return dataclasses.replace(result, run_dir=run_dir)


def load_step_1(run_dir: str | Path) -> Step1Result:
    """Read step 1's result back from a run folder."""
    arrays, _ = io.load_step(run_dir, "step_1")
    return Step1Result(
        run_dir=Path(run_dir),
        bar_times=arrays["bar_times"],
        step_times=arrays["step_times"],
        bar_tempos=arrays["bar_tempos"],
        bar_cqts=arrays["bar_cqts"],
        drum_grids=arrays.get("drum_grids"),
    )


def step_2_similarity(
    run_dir: str | Path, *, config: Config | None = None, force: bool = False
) -> Step2Result:
    """Compute the melodic SSM of the bars (and the true drum SSM where the song has drums)."""
    config = _resolve(config)
    io.check_writable(io.step_path(run_dir, "step_2"), force=force)
    step_1 = load_step_1(run_dir)
    melodic = similarity.melodic_ssm(step_1.bar_cqts, scale=config.similarity.melodic_scale)
    arrays = {"melodic_ssm": melodic}
    drum = None
    if step_1.drum_grids is not None:
        drum = similarity.drum_ssm(step_1.drum_grids, scale=config.similarity.drum_scale)
        arrays["drum_ssm"] = drum
    io.save_step(
        run_dir, "step_2", arrays, {"config": config.to_dict(), "has_drum_ssm": drum is not None}, force=force
    )
    return Step2Result(run_dir=Path(run_dir), melodic_ssm=melodic, drum_ssm=drum)


def load_step_2(run_dir: str | Path) -> Step2Result:
    """Read step 2's result back from a run folder."""
    arrays, _ = io.load_step(run_dir, "step_2")
    return Step2Result(
        run_dir=Path(run_dir), melodic_ssm=arrays["melodic_ssm"], drum_ssm=arrays.get("drum_ssm")
    )


def step_3_select(
    run_dir: str | Path, *, config: Config | None = None, source: str | None = None, force: bool = False
) -> Step3Result:
    """Choose each bar's most similar bars.

    Parameters
    ----------
    source : {"melodic", "oracle"}, optional
        Which SSM to choose from; default ``config.selection.source``. "oracle" uses the song's
        own drum track and is for evaluation only (an upper bound, labelled as such).

    Raises
    ------
    ParameterError
        If "oracle" is asked for a song without drums.
    """
    config = _resolve(config)
    source = config.selection.source if source is None else source
    io.check_writable(io.step_path(run_dir, "step_3"), force=force)
    step_2 = load_step_2(run_dir)
    if source == "melodic":
        ssm = step_2.melodic_ssm
    elif source == "oracle":
        if step_2.drum_ssm is None:
            raise ParameterError(f"{run_dir}: oracle selection needs the song's own drum track; it has none")
        ssm = step_2.drum_ssm
    else:
        raise ParameterError(f"source must be 'melodic' or 'oracle', got {source!r}")
    chosen = selection.select_neighbors(ssm, n_neighbors=config.selection.n_neighbors)
    io.save_step(
        run_dir,
        "step_3",
        {"neighbor_idx": chosen.neighbor_idx, "neighbor_weights": chosen.neighbor_weights},
        {"config": config.to_dict(), "source": source, "oracle": source == "oracle"},
        force=force,
    )
    return Step3Result(run_dir=Path(run_dir), selection=chosen, source=source)


def load_step_3(run_dir: str | Path) -> Step3Result:
    """Read step 3's result back from a run folder."""
    arrays, meta = io.load_step(run_dir, "step_3")
    chosen = selection.BarSelection(
        neighbor_idx=arrays["neighbor_idx"], neighbor_weights=arrays["neighbor_weights"]
    )
    return Step3Result(run_dir=Path(run_dir), selection=chosen, source=meta["source"])


@dataclass(frozen=True)
class AnalysisResult:
    """Steps 1 to 3 of one song."""

    step_1: Step1Result
    step_2: Step2Result
    step_3: Step3Result


def analyze_song(
    song_path: str | Path,
    run_dir: str | Path | None = None,
    *,
    config: Config | None = None,
    source: str | None = None,
    force: bool = False,
    renderer: Renderer | None = None,
) -> AnalysisResult:
    """Run steps 1 to 3 on one song (see the step functions for the parameters)."""
    run_dir = Path(run_dir) if run_dir is not None else io.default_run_dir(song_path)
    if not force:  # refuse before any work, not after step 1
        for step in ("step_1", "step_2", "step_3"):
            io.check_writable(io.step_path(run_dir, step), force=False)
    first = step_1_preprocess(song_path, run_dir, config=config, force=force, renderer=renderer)
    second = step_2_similarity(run_dir, config=config, force=force)
    third = step_3_select(run_dir, config=config, source=source, force=force)
    return AnalysisResult(step_1=first, step_2=second, step_3=third)
