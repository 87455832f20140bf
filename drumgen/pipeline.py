"""The pipeline's steps as functions: the notebooks and the CLI both call these.

Each step reads what earlier steps left in the run folder and writes its own result there
(see :mod:`drumgen.io` for the layout), so the steps can run in separate processes or notebooks.

- :func:`step_1_preprocess` - MIDI -> drums set apart, melody rendered, bars, per-bar CQTs.
- :func:`step_2_similarity` - melodic SSM, the drum SSM predicted from it, and the true drum SSM
  when the song has drums.
- :func:`step_3_select` - each bar's 7 most similar bars.
- :func:`step_4_generate` - the drum VAE's pattern for every bar.
- :func:`step_5_write_midi` - the song with its new drums, and the drums alone, as MIDI.
- :func:`analyze_song` - steps 1 to 3; :func:`generate_song` - steps 1 to 5.

Steps 4 and 5 (and the drum-SSM prediction of step 2) import TensorFlow through
:mod:`drumgen.model`, lazily: steps 1 and 3 never load it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from drumgen import bars, feel, filestyle, generation, io, midi, midi_out, mixdown, selection
from drumgen.analysis import Step1Result, preprocess_song, render_song_melody
from drumgen.arrangement import DECISIONS
from drumgen.config import Config, config_from_dict, load_config
from drumgen.exceptions import OutputError, ParameterError, RunFolderError
from drumgen.sections import Sections
from drumgen.synth import Renderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step2Result:
    """The song's SSMs (distances, 0 = identical).

    Attributes
    ----------
    melodic_ssm : np.ndarray [shape=(n_bars, n_bars), float32]
    drum_ssm : np.ndarray [shape=(n_bars, n_bars), float32] or None
        From the song's own drum track, if it has one (training / oracle / evaluation only).
    predicted_drum_ssm : np.ndarray [shape=(n_bars, n_bars), float32] or None
        Inferred from the melodic SSM by the drum-SSM generator (None without that model).
    """

    run_dir: Path
    melodic_ssm: np.ndarray
    drum_ssm: np.ndarray | None
    predicted_drum_ssm: np.ndarray | None = None


@dataclass(frozen=True)
class Step3Result:
    """Each bar's neighbours, which SSM chose them ("predicted", "melodic" or "oracle"), and the
    song's sections (:mod:`drumgen.sections`)."""

    run_dir: Path
    selection: selection.BarSelection
    source: str
    sections: Sections


def _resolve(config: Config | None) -> Config:
    return load_config("default") if config is None else config


def check_folder_writable(folder: str | Path, *, what: str = "output folder", flag: str = "-o/--out") -> None:
    """Refuse, before any work, a folder that cannot take new files.

    The folder (or, if it does not exist yet, its nearest existing parent, where it will be made)
    must be a folder in which a file can be created: a probe file is made and removed, so
    read-only folders and file systems are caught whoever runs drumgen.

    Parameters
    ----------
    folder : str or Path
    what, flag : str
        How the error names the folder, and the option that chooses another.

    Raises
    ------
    OutputError
        One line: a file stands where the folder (or a parent) should be, or nothing can be
        written there.
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == folder else f"cannot be made: {existing} is a file"
        raise OutputError(f"{folder}: the {what} {where}; expected a folder (choose one with {flag})")
    try:
        handle, probe = tempfile.mkstemp(prefix=".drumgen-probe-", dir=existing)
    except OSError as error:
        raise OutputError(
            f"{folder}: the {what} is not writable ({error.strerror or type(error).__name__} in {existing}); "
            f"choose another with {flag}"
        ) from None
    os.close(handle)
    os.unlink(probe)


def check_generation_outputs(
    song_path: str | Path,
    *,
    out_dir: str | Path,
    run_dir: str | Path,
    oracle: bool,
    densities: tuple[int, ...],
    force: bool,
    audio_format: str | None = None,
) -> None:
    """Check everything :func:`generate_song` will write, before it does any work: the output
    folder and the run folder can take files, and the MIDI files' names are free (or ``force``),
    and so are the audio files' with an ``audio_format`` (:func:`write_audio`).

    Raises
    ------
    OutputError, OutputExistsError
    """
    check_folder_writable(out_dir, what="output folder", flag="-o/--out")
    io.recover_file_sets(out_dir)  # an interrupted run's files: finished or removed before names are checked
    for density in densities:
        for path in io.output_midi_paths(out_dir, Path(song_path).stem, oracle=oracle, density=density):
            if path.is_dir():
                raise OutputError(f"{path}: a folder stands where the MIDI file goes; move it or choose -o")
            io.check_writable(path, force=force)
        if audio_format is not None:
            for path in io.output_audio_paths(
                out_dir, Path(song_path).stem, oracle=oracle, density=density, format=audio_format
            ):
                if path.is_dir():
                    raise OutputError(
                        f"{path}: a folder stands where the audio file goes; move it or choose -o"
                    )
                io.check_writable(path, force=force)
    check_folder_writable(run_dir, what="run folder", flag="--runs-dir")


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
    MidiError, TimeSignatureError, SynthError, OutputExistsError, OutputError
    LimitError
        If the song is beyond ``config.limits`` (checked before rendering, by :func:`preprocess_song`).
    """
    config = _resolve(config)
    song_path = Path(song_path)
    run_dir = Path(run_dir) if run_dir is not None else io.default_run_dir(song_path)
    io.check_writable(io.step_path(run_dir, "step_1"), force=force)
    check_folder_writable(run_dir, what="run folder", flag="--runs-dir")
    result, audio = preprocess_song(song_path, config=config, renderer=renderer)
    arrays = {
        "bar_times": result.bar_times,
        "step_times": result.step_times,
        "bar_tempos": result.bar_tempos,
        "bar_cqts": result.bar_cqts,
    }
    if result.part_onsets is not None:
        arrays["part_onsets"] = result.part_onsets
    if result.drum_grids is not None:
        arrays["drum_grids"] = result.drum_grids
    if result.file_features is not None:
        arrays["file_features"] = result.file_features
    arrays.update(result.meter.to_arrays())
    meta = {
        "song": {"path": str(song_path), "md5": io.file_digest(song_path), "name": song_path.stem},
        "n_bars": result.n_bars,
        "has_drums": result.drum_grids is not None,
        "melody_gain": result.melody_gain,
        "soundfont": str(renderer.soundfont if renderer is not None else config.render.soundfont),
        "config": config.to_dict(),
    }
    for stale in io.listening_melody_files(run_dir):  # renders of the song this step replaces
        stale.unlink()
    io.save_audio(io.melody_audio_path(run_dir), audio, sr=config.render.sample_rate, force=True)
    io.save_step(run_dir, "step_1", arrays, meta, force=force)
    return dataclasses.replace(result, run_dir=run_dir)


def load_step_1(run_dir: str | Path) -> Step1Result:
    """Read step 1's result back from a run folder.

    File features stored by an older step 1 (fewer than :data:`drumgen.filestyle.FILE_FEATURES`)
    are read again from the song's MIDI file if it is still there, unchanged (same MD5).
    """
    arrays, meta = io.load_step(run_dir, "step_1")
    return Step1Result(
        run_dir=Path(run_dir),
        bar_times=arrays["bar_times"],
        step_times=arrays["step_times"],
        bar_tempos=arrays["bar_tempos"],
        bar_cqts=arrays["bar_cqts"],
        drum_grids=arrays.get("drum_grids"),
        part_onsets=arrays.get("part_onsets"),
        bar_meters=arrays.get("bar_meters"),
        melody_gain=meta.get("melody_gain"),
        file_features=_current_file_features(arrays.get("file_features"), meta.get("song", {})),
    )


def _current_file_features(stored: np.ndarray | None, song: dict[str, Any]) -> np.ndarray | None:
    """``stored``, or the song's file features read again where ``stored`` predates some of them."""
    if stored is None or filestyle.are_current(stored):
        return stored
    path = Path(song.get("path", ""))
    if not path.is_file() or io.file_digest(path) != song.get("md5"):
        log.info("step 1's file features predate drumgen's; %s is gone or changed, so they stay", path)
        return stored
    return filestyle.file_features(midi.read_midi_file(path))


def default_ssm_generator() -> Any:
    """The shipped drum-SSM generator, or None if it is not installed."""
    folder = io.DEFAULT_MODEL_DIR / io.SSM_GENERATOR_SUBDIR
    if not (folder / "config.json").is_file():
        log.info("no drum-SSM generator in %s: no predicted drum SSM", folder)
        return None
    from drumgen.model.bundle import load_models

    return load_models(vae=False, drummer=False).ssm_generator


def step_2_similarity(
    run_dir: str | Path,
    *,
    config: Config | None = None,
    force: bool = False,
    ssm_generator: Any = "default",
) -> Step2Result:
    """Compute the melodic SSM of the bars, the drum SSM the generator infers from it, and the
    true drum SSM where the song has drums.

    Parameters
    ----------
    ssm_generator : SsmGenerator, None or "default"
        The drum-SSM generator (see :func:`drumgen.model.bundle.load_models`); "default" loads the
        shipped one if it is installed; None skips the prediction.
    """
    config = _resolve(config)
    io.check_writable(io.step_path(run_dir, "step_2"), force=force)
    step_1 = load_step_1(run_dir)
    if isinstance(ssm_generator, str) and ssm_generator == "default":
        ssm_generator = default_ssm_generator()
    ssms = generation.similarities(
        step_1.bar_cqts, step_1.drum_grids, config=config, ssm_generator=ssm_generator
    )
    arrays = {"melodic_ssm": ssms.melodic}
    if ssms.drum is not None:
        arrays["drum_ssm"] = ssms.drum
    if ssms.predicted is not None:
        arrays["predicted_drum_ssm"] = ssms.predicted
    meta = {
        "config": config.to_dict(),
        "has_drum_ssm": ssms.drum is not None,
        "has_predicted": ssms.predicted is not None,
    }
    io.save_step(run_dir, "step_2", arrays, meta, force=force)
    return Step2Result(
        run_dir=Path(run_dir), melodic_ssm=ssms.melodic, drum_ssm=ssms.drum, predicted_drum_ssm=ssms.predicted
    )


def load_step_2(run_dir: str | Path) -> Step2Result:
    """Read step 2's result back from a run folder."""
    arrays, _ = io.load_step(run_dir, "step_2")
    return Step2Result(
        run_dir=Path(run_dir),
        melodic_ssm=arrays["melodic_ssm"],
        drum_ssm=arrays.get("drum_ssm"),
        predicted_drum_ssm=arrays.get("predicted_drum_ssm"),
    )


def step_3_select(
    run_dir: str | Path, *, config: Config | None = None, source: str | None = None, force: bool = False
) -> Step3Result:
    """Choose each bar's most similar bars.

    Parameters
    ----------
    source : {"predicted", "melodic", "oracle"}, optional
        Which SSM to choose from; default ``config.selection.source``. "predicted" is the drum SSM
        inferred from the melody (needs no drums); "melodic" the melodic SSM itself; "oracle" the
        song's own drum track, for evaluation only (an upper bound, labelled as such).

    Raises
    ------
    ParameterError
        If the chosen SSM is not in the run folder (no drums for "oracle", no generator model for
        "predicted").
    """
    config = _resolve(config)
    source = config.selection.source if source is None else source
    io.check_writable(io.step_path(run_dir, "step_3"), force=force)
    step_2 = load_step_2(run_dir)
    ssms = generation.Similarities(
        melodic=step_2.melodic_ssm, drum=step_2.drum_ssm, predicted=step_2.predicted_drum_ssm
    )
    try:
        chosen, found = generation.select_and_segment(ssms, config=config, source=source)
    except ParameterError as error:
        raise ParameterError(f"{run_dir}: {error}") from error
    io.save_step(
        run_dir,
        "step_3",
        {
            "neighbor_idx": chosen.neighbor_idx,
            "neighbor_weights": chosen.neighbor_weights,
            "section_starts": found.starts,
        },
        {
            "config": config.to_dict(),
            "source": source,
            "oracle": source == "oracle",
            "sections": found.to_dict(),
        },
        force=force,
    )
    return Step3Result(run_dir=Path(run_dir), selection=chosen, source=source, sections=found)


def load_step_3(run_dir: str | Path) -> Step3Result:
    """Read step 3's result back from a run folder."""
    arrays, meta = io.load_step(run_dir, "step_3")
    chosen = selection.BarSelection(
        neighbor_idx=arrays["neighbor_idx"], neighbor_weights=arrays["neighbor_weights"]
    )
    found = (
        Sections.from_dict(meta["sections"])
        if "sections" in meta
        else Sections.whole_song(len(chosen.neighbor_idx))
    )
    return Step3Result(run_dir=Path(run_dir), selection=chosen, source=meta["source"], sections=found)


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
    ssm_generator: Any = "default",
) -> AnalysisResult:
    """Run steps 1 to 3 on one song (see the step functions for the parameters)."""
    run_dir = Path(run_dir) if run_dir is not None else io.default_run_dir(song_path)
    if not force:  # refuse before any work, not after step 1
        for step in io.ANALYSIS_STEPS:
            io.check_writable(io.step_path(run_dir, step), force=False)
    first = step_1_preprocess(song_path, run_dir, config=config, force=force, renderer=renderer)
    second = step_2_similarity(run_dir, config=config, force=force, ssm_generator=ssm_generator)
    third = step_3_select(run_dir, config=config, source=source, force=force)
    return AnalysisResult(step_1=first, step_2=second, step_3=third)


@dataclass(frozen=True)
class Step4Result:
    """Generated drums of a song: one velocity grid per density offset.

    Attributes
    ----------
    grids : dict
        density offset -> np.ndarray [shape=(n_bars, 46, 16), uint8 velocities].
    source : str
        The SSM that chose the neighbour bars ("predicted", "melodic" or "oracle").
    decisions : dict
        density offset -> {"resting", "fills", "crashes"} -> np.ndarray [shape=(n_bars,), bool]:
        the arranger's bars left empty, ending in a fill, starting with a crash
        (:class:`drumgen.arrangement.Arrangement`); empty for runs written before the arranger.
    """

    run_dir: Path
    grids: dict[int, np.ndarray]
    source: str
    seed: int
    decisions: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)


def step_4_generate(
    run_dir: str | Path,
    *,
    config: Config | None = None,
    vae: Any = None,
    drummer: Any = None,
    seed: int | None = None,
    densities: tuple[int, ...] | None = None,
    genre: str = "unknown",
    force: bool = False,
) -> Step4Result:
    """Run the drum VAE on every bar (its CQT stacked with its weighted neighbours') and arrange
    the result into a drum part (:func:`drumgen.generation.drums`).

    Parameters
    ----------
    vae : DrumVae, optional
        A loaded VAE (:func:`drumgen.model.bundle.load_models`); default: the shipped one.
    drummer : DrummerModel, optional
        Default: the shipped one.
    seed : int, optional
        Latent sampling seed; default ``config.generation.seed``.
    densities : tuple of int, optional
        Note-count offsets, one drum track each; default ``config.generation.densities``.
    genre : str
        Style conditioning: one of ``drumgen.songdata.GENRES``, or "unknown".
    """
    from drumgen.model.bundle import load_models

    config = _resolve(config)
    seed = config.generation.seed if seed is None else seed
    densities = tuple(config.generation.densities if densities is None else densities)
    io.check_writable(io.step_path(run_dir, "step_4"), force=force)
    step_1 = load_step_1(run_dir)
    step_2 = load_step_2(run_dir)
    step_3 = load_step_3(run_dir)
    chosen_ssm = generation.ssm_for(
        generation.Similarities(
            melodic=step_2.melodic_ssm, drum=step_2.drum_ssm, predicted=step_2.predicted_drum_ssm
        ),
        step_3.source,
    )
    if vae is None or drummer is None:
        loaded = load_models(ssm_generator=False)
        vae = vae if vae is not None else loaded.vae
        drummer = drummer if drummer is not None else loaded.drummer
    generated = generation.drums(
        step_1.bar_cqts,
        step_1.bar_tempos,
        step_3.selection,
        step_3.sections,
        vae=vae,
        drummer=drummer,
        config=config,
        part_onsets=step_1.part_onsets,
        drum_ssm=chosen_ssm,
        seed=seed,
        densities=densities,
        genre=genre,
        meter=step_1.meter,
        file_features=step_1.file_features,
    )
    decisions = {d: {name: getattr(generated.arrangements[d], name) for name in DECISIONS} for d in densities}
    result = Step4Result(
        run_dir=Path(run_dir), grids=generated.grids, source=step_3.source, seed=seed, decisions=decisions
    )
    save_step_4(result, config=config, genre=genre, force=force)
    return result


def save_step_4(
    result: Step4Result,
    *,
    config: Config,
    genre: str,
    meta: dict[str, Any] | None = None,
    force: bool = False,
) -> Path:
    """Write step 4's result into its run folder (``result.run_dir``).

    Parameters
    ----------
    result : Step4Result
        Its ``decisions`` must hold every density of ``grids``.
    config : Config
        The config it was made with (step 5 reads its ``[feel]`` back).
    genre : str
    meta : dict, optional
        More entries for the sidecar (e.g. which bars a take regenerated, :mod:`drumgen.takes`).
    """
    densities = list(result.grids)
    return io.save_step(
        result.run_dir,
        "step_4",
        {
            "densities": np.array(densities),
            "grids": np.stack([result.grids[d] for d in densities]),
            **{name: np.stack([result.decisions[d][name] for d in densities]) for name in DECISIONS},
        },
        {
            "config": config.to_dict(),
            "seed": result.seed,
            "genre": genre,
            "source": result.source,
            "oracle": result.source == "oracle",
            **(meta or {}),
        },
        force=force,
    )


def load_step_4(run_dir: str | Path) -> Step4Result:
    """Read step 4's result back from a run folder."""
    arrays, meta = io.load_step(run_dir, "step_4")
    densities = [int(d) for d in arrays["densities"]]
    grids = {d: grid for d, grid in zip(densities, arrays["grids"], strict=True)}
    decisions = {}
    if all(name in arrays for name in DECISIONS):
        decisions = {d: {name: arrays[name][i] for name in DECISIONS} for i, d in enumerate(densities)}
    return Step4Result(
        run_dir=Path(run_dir), grids=grids, source=meta["source"], seed=meta["seed"], decisions=decisions
    )


@dataclass(frozen=True)
class Step5Result:
    """The MIDI files step 5 wrote, and how.

    Attributes
    ----------
    files : dict
        density offset -> (song + drums, drums alone).
    reports : dict
        density offset -> :class:`drumgen.midi_out.MidiReport`: format, resolution, the
        channel-10 rule, the song's own drum events left out, and the drums' timing report.
    report_path : Path or None
        The run folder's ``step_5_midi.json``, which holds the same reports.
    feel : drumgen.feel.AppliedFeel or None
        The swing detected in the song, the swing ratio applied and the humanize amount
        (also in the report, under "feel").
    """

    files: dict[int, tuple[Path, Path]]
    reports: dict[int, midi_out.MidiReport] = field(default_factory=dict)
    report_path: Path | None = None
    feel: feel.AppliedFeel | None = None


def step_5_write_midi(
    run_dir: str | Path,
    *,
    out_dir: str | Path = io.DEFAULT_OUTPUT_DIR,
    force: bool = False,
    keep_song_drums: bool = False,
    config: Config | None = None,
) -> Step5Result:
    """Write the generated drums as MIDI, passing the song itself through untouched.

    For each density offset, a set of two files that appear together or not at all: the input
    file's own events (every track, tempo, meter, text, controller, sysex and note at its own tick
    and resolution; format 0 stays format 0) with one new drum track on channel 10, and the drums
    alone with the song's tempo map, meters and keys (:mod:`drumgen.midi_out`). The song's own
    drums - its channel-10 events - are left out (they were the reference) unless
    ``keep_song_drums``. File names say when the oracle chose the neighbours. The reports go to
    the run folder (``step_5_midi.json``). Sets an earlier run left half-written in ``out_dir``
    are finished or removed first.

    The drums' times (seconds, from step 1's bars) are placed on the file's own ticks through its
    full tempo map (every track's tempo events), the map step 1 analysed the song on, so every hit
    lands on the tick of its grid step. Should the two maps differ (a run folder made by an
    older drumgen), a warning says so and, at equal resolution, the analysed map places the drums
    so that they still follow the analysed bars; the report records which map was used.

    The drums are played with the ``[feel]`` of ``config`` (:mod:`drumgen.feel`): swing - the
    ratio found in the song's own non-drum parts ("auto") or a set amount - moves the off-beat
    eighths (and the sixteenths around them) later; humanize adds timing and velocity offsets
    seeded by step 4's seed. Straight and with humanize 0 every hit sits on its grid step's tick.

    Parameters
    ----------
    config : Config, optional
        Default: the config step 4 was run with (saved in the run folder).

    Raises
    ------
    RunFolderError, OutputExistsError, MidiError
    """
    _, meta_1 = io.load_step(run_dir, "step_1")
    step_1 = load_step_1(run_dir)
    step_4 = load_step_4(run_dir)
    if config is None:
        config = config_from_dict(io.load_step_meta(run_dir, "step_4").get("config", {}))
    song_path = Path(meta_1["song"]["path"])
    name = meta_1["song"]["name"]
    oracle = step_4.source == "oracle"
    io.recover_file_sets(out_dir)
    paths = {d: io.output_midi_paths(out_dir, name, oracle=oracle, density=d) for d in step_4.grids}
    for pair in paths.values():
        for path in pair:
            io.check_writable(path, force=force)
    events = midi.read_midi_file(song_path)
    if io.file_digest(song_path) != meta_1["song"].get("md5"):
        log.warning("%s changed since step 1; its drums were made for the earlier version", song_path)
    tempo = midi_out.tempo_map(events)
    song = midi.read_midi(song_path)
    analysed = bars.TempoMap.from_song(song)
    agrees = midi_out.same_tempo(tempo, analysed, end_time=float(step_1.step_times[-1, -1]))
    tempo_source = "file"
    if not agrees:
        log.warning("%s: the file's tempo map differs from the one its drums were made on", song_path)
        if analysed.resolution == tempo.resolution:
            tempo, tempo_source = analysed, "analysis"
    swing_bars = ~step_1.meter.compound  # compound bars' eighths are triplets already
    played = feel.choose_feel(
        feel.song_onsets(song.instruments),
        step_times=step_1.step_times,
        settings=config.feel,
        seed=step_4.seed,
        name=str(song_path),
        swing_bars=swing_bars,
    )
    log.info(
        "%s: drums with swing ratio %.3g (%s), humanize %g",
        song_path.name,
        played.swing_ratio,
        "detected" if played.swing == "auto" else f"--swing {played.swing:g}",
        played.humanize,
    )
    label = "drumgen (oracle)" if oracle else "drumgen"
    reports = {}
    for density, grid in step_4.grids.items():
        drums = feel.apply_feel(
            grid,
            step_1.step_times,
            feel=played,
            name=f"{label} drums {density:+d}",
            swing_bars=swing_bars,
        )
        full_path, drums_path = paths[density]
        reports[density] = midi_out.write_song_with_drums(
            events,
            drums,
            full_path=full_path,
            drums_path=drums_path,
            tempo=tempo,
            keep_song_drums=keep_song_drums,
        )
    report_path = io.midi_report_path(run_dir)
    io.write_json(
        report_path,
        {
            "step": "step_5",
            "song": meta_1["song"],
            "tempo_map": tempo_source,
            "file_tempo_map_agrees": agrees,
            "densities": {f"{d:+d}": report.to_dict() for d, report in reports.items()},
            "feel": played.to_dict(),
            "versions": io.versions(),
        },
    )
    return Step5Result(files=paths, reports=reports, report_path=report_path, feel=played)


@dataclass(frozen=True)
class GenerationResult:
    """Steps 1 to 5 of one song."""

    analysis: AnalysisResult
    step_4: Step4Result
    step_5: Step5Result
    audio: AudioResult | None = None


def generate_song(
    song_path: str | Path,
    *,
    out_dir: str | Path = io.DEFAULT_OUTPUT_DIR,
    run_dir: str | Path | None = None,
    config: Config | None = None,
    models: Any = None,
    oracle: bool = False,
    seed: int | None = None,
    densities: tuple[int, ...] | None = None,
    genre: str = "unknown",
    force: bool = False,
    keep_song_drums: bool = False,
    renderer: Renderer | None = None,
    audio: bool = False,
) -> GenerationResult:
    """Give a song a drum track: steps 1 to 5 (and, with ``audio``, :func:`write_audio`).

    Parameters
    ----------
    models : Models, optional
        Loaded models (:func:`drumgen.model.bundle.load_models`); default: the shipped ones.
    oracle : bool
        Choose neighbour bars from the song's own drum track (evaluation only; labelled).
    force : bool
        Overwrite existing MIDI files in ``out_dir`` (the run folder is always refreshed).
    keep_song_drums : bool
        Keep the song's own channel-10 events in the merged file (:func:`step_5_write_midi`).
    audio : bool
        Also write the song alone and the song with its drums as audio beside the MIDI files
        (:func:`write_audio`, format ``config.audio.format``).
    Other parameters: see the step functions.

    Raises
    ------
    OutputError, OutputExistsError
        Before any work, if an output cannot be written (:func:`check_generation_outputs`).
    MidiError, TimeSignatureError, LimitError, SynthError, ModelError
    """
    config = _resolve(config)
    song_path = Path(song_path)
    densities = tuple(config.generation.densities if densities is None else densities)
    run_dir = Path(run_dir) if run_dir is not None else io.default_run_dir(song_path)
    # The run folder is a working area that generation refreshes; the MIDI files are what is kept.
    # Both are checked before any work (the song itself is checked by step 1, before rendering).
    check_generation_outputs(
        song_path,
        out_dir=out_dir,
        run_dir=run_dir,
        oracle=oracle,
        densities=densities,
        force=force,
        audio_format=config.audio.format if audio else None,
    )
    if models is None:
        from drumgen.model.bundle import load_models

        models = load_models()
    with contextlib.ExitStack() as stack:
        listening, melody_job = _listening_alongside(
            stack, song_path, renderer=renderer, config=config, audio=audio
        )
        analysis = analyze_song(
            song_path,
            run_dir,
            config=config,
            source="oracle" if oracle else "predicted",
            force=True,
            renderer=renderer,
            ssm_generator=models.ssm_generator,
        )
        step_4 = step_4_generate(
            run_dir,
            config=config,
            vae=models.vae,
            drummer=models.drummer,
            seed=seed,
            densities=densities,
            genre=genre,
            force=True,
        )
        step_5 = step_5_write_midi(
            run_dir, out_dir=out_dir, force=force, keep_song_drums=keep_song_drums, config=config
        )
        written = None
        if audio:
            if melody_job is not None:
                assert listening is not None
                keep_listening_melody(run_dir, *melody_job.result(), sr=listening.sr)
            written = write_audio(
                run_dir,
                step_5,
                force=force,
                renderer=listening,
                config=config,
                keep_song_drums=keep_song_drums,
            )
    return GenerationResult(analysis=analysis, step_4=step_4, step_5=step_5, audio=written)


def _listening_alongside(
    stack: contextlib.ExitStack, song_path: Path, *, renderer: Renderer | None, config: Config, audio: bool
) -> tuple[Renderer | None, Future[tuple[np.ndarray, float]] | None]:
    """For :func:`generate_song`: the renderer of the audio files, and the song's render for
    listening (:func:`drumgen.analysis.render_song_melody`) started on it in a thread, to run
    while steps 1-5 do their single-threaded work (the CQT, the models, the MIDI files); both end
    with ``stack``. (None, None) without ``audio``; (the renderer given, None) where step 1's own
    render is at the audio files' rate."""
    if not audio:
        return None, None
    if (renderer.sr if renderer is not None else config.render.sample_rate) == config.audio.sample_rate:
        return renderer, None
    listening = Renderer.from_config(
        config.render, threads=os.cpu_count() or 1, sample_rate=config.audio.sample_rate
    )
    stack.callback(listening.close)
    pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))  # its exit waits for the render
    return listening, pool.submit(render_song_melody, song_path, renderer=listening, config=config)


@dataclass(frozen=True)
class AudioResult:
    """The audio files :func:`write_audio` wrote.

    Attributes
    ----------
    files : dict
        density offset -> the song with those drums.
    song : Path or None
        The song alone (its own drums left out), as :func:`listening_melody` renders it (None:
        not written).
    """

    files: dict[int, Path]
    song: Path | None


def listening_melody(
    run_dir: str | Path, *, renderer: Renderer, config: Config
) -> tuple[np.ndarray, float | None]:
    """The song without its drums at ``renderer.sr`` Hz for listening, and the gain that scaled it
    (:func:`drumgen.analysis.render_scaled`).

    Step 1's own render where it ran at that rate; otherwise (step 1 renders at the analysis rate,
    ``config.render.sample_rate``, lower than the audio files' ``config.audio.sample_rate``) the
    song's MIDI file rendered again, once: kept in the run folder
    (:func:`drumgen.io.listening_melody_path`) for the next take.

    Returns
    -------
    audio : np.ndarray [shape=(n_samples,), float32]
        Up to the song's last bar line, peaking at ``config.render.peak``.
    gain : float or None
        None for a run folder from before step 1 kept its gain.

    Raises
    ------
    RunFolderError
        If step 1 has not run, or the song's MIDI file is gone or changed since.
    """
    step_1_audio = io.melody_audio_path(run_dir)
    meta = io.load_step_meta(run_dir, "step_1")
    if step_1_audio.is_file() and io.audio_sample_rate(step_1_audio) == renderer.sr:
        return io.load_audio(step_1_audio)[0], meta.get("melody_gain")
    cached = io.listening_melody_path(run_dir, renderer.sr)
    gain_file = cached.with_suffix(".json")
    song = meta["song"]
    if cached.is_file() and gain_file.is_file():
        kept = io.read_json(gain_file)
        if kept.get("song_md5") == song["md5"]:
            return io.load_audio(cached)[0], float(kept["gain"])
    song_path = Path(song["path"])
    if not song_path.is_file() or io.file_digest(song_path) != song["md5"]:
        raise RunFolderError(
            f"{song_path} is gone or changed since step 1; run step 1 again to render it at {renderer.sr} Hz"
        )
    audio, gain = render_song_melody(song_path, renderer=renderer, config=config)
    keep_listening_melody(run_dir, audio, gain, sr=renderer.sr)
    return audio, gain


def keep_listening_melody(run_dir: str | Path, audio: np.ndarray, gain: float, *, sr: int) -> None:
    """Keep a render of step 1's song without drums at ``sr`` Hz
    (:func:`drumgen.analysis.render_song_melody`) in the run folder, where
    :func:`listening_melody` finds it."""
    song = io.load_step_meta(run_dir, "step_1")["song"]
    path = io.listening_melody_path(run_dir, sr)
    io.save_audio(path, audio, sr=sr, force=True)
    io.write_json(path.with_suffix(".json"), {"gain": gain, "sample_rate": sr, "song_md5": song["md5"]})


def write_song_audio(
    run_dir: str | Path, path: str | Path, *, renderer: Renderer, config: Config, force: bool = False
) -> Path:
    """Encode the song without its drums (:func:`listening_melody`, ``config.audio``)."""
    io.check_writable(path, force=force)
    melody, _ = listening_melody(run_dir, renderer=renderer, config=config)
    return io.save_encoded_audio(
        path, melody, sr=renderer.sr, format=config.audio.format, quality=config.audio.quality, force=force
    )


def render_with_drums(
    run_dir: str | Path,
    full_path: str | Path,
    drums_path: str | Path,
    *,
    renderer: Renderer,
    config: Config,
    keep_song_drums: bool = False,
) -> np.ndarray:
    """The song with its new drums as audio, from the song's render (:func:`listening_melody`)
    plus the drums alone (:mod:`drumgen.mixdown`), ``mixdown.TAIL_SECONDS`` longer than the song.

    A run folder from before step 1 kept its render's gain, or a merged file that keeps the song's
    own drums (which step 1 did not render), is rendered whole from ``full_path`` instead.

    Parameters
    ----------
    full_path, drums_path : str or Path
        Step 5's files: the song with its drums, and the drums alone.

    Returns
    -------
    np.ndarray [shape=(n_samples,), float32]
        At ``renderer.sr`` Hz, peaking at ``config.render.peak``.
    """
    melody, gain = listening_melody(run_dir, renderer=renderer, config=config)
    sr = renderer.sr
    n_samples = len(melody) + mixdown.tail_samples(sr)
    if gain is None or keep_song_drums:
        whole = midi.read_midi(full_path)
        return renderer.render(whole, duration=n_samples / sr, peak=config.render.peak)
    drums = mixdown.render_drums(midi.read_midi(drums_path), renderer=renderer, n_samples=n_samples)
    return mixdown.mix_with_melody(melody, drums, melody_gain=gain, peak=config.render.peak)


def write_audio(
    run_dir: str | Path,
    step_5: Step5Result,
    *,
    force: bool = False,
    renderer: Renderer | None = None,
    config: Config | None = None,
    keep_song_drums: bool = False,
    song_alone: bool = True,
) -> AudioResult:
    """Write the song alone and, per density, the song with its drums as audio beside step 5's
    MIDI files (:func:`drumgen.io.output_audio_paths`; format ``config.audio.format``).

    Parameters
    ----------
    step_5 : Step5Result
        Where step 5 wrote the MIDI files.
    renderer : Renderer, optional
        Its rate is the files' rate. Default: one at ``config.audio.sample_rate`` with the
        soundfont of step 1 (``config.render``).
    config : Config, optional
        Default: the config step 4 was run with.
    song_alone : bool
        Also write the song alone (False: only the songs with drums, e.g. for another take).

    Raises
    ------
    OutputExistsError, RunFolderError, SynthError
    """
    if config is None:
        config = config_from_dict(io.load_step_meta(run_dir, "step_4").get("config", {}))
    fmt = config.audio.format
    name = io.load_step_meta(run_dir, "step_1")["song"]["name"]
    oracle = load_step_4(run_dir).source == "oracle"
    named = {
        density: io.output_audio_paths(full_path.parent, name, oracle=oracle, density=density, format=fmt)
        for density, (full_path, _) in step_5.files.items()
    }
    paths = {density: pair[0] for density, pair in named.items()}
    song_path = next(iter(named.values()))[1] if song_alone else None
    for path in (*paths.values(), *([song_path] if song_path else [])):
        io.check_writable(path, force=force)
    synth = (
        Renderer.from_config(config.render, sample_rate=config.audio.sample_rate)
        if renderer is None
        else renderer
    )
    try:
        for density, path in paths.items():
            full_path, drums_path = step_5.files[density]
            audio = render_with_drums(
                run_dir,
                full_path,
                drums_path,
                renderer=synth,
                config=config,
                keep_song_drums=keep_song_drums,
            )
            io.save_encoded_audio(
                path, audio, sr=synth.sr, format=fmt, quality=config.audio.quality, force=force
            )
        if song_path is not None:
            write_song_audio(run_dir, song_path, renderer=synth, config=config, force=force)
    finally:
        if renderer is None:
            synth.close()
    return AudioResult(files=paths, song=song_path)
