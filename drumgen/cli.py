"""The ``drumgen`` command: subcommands mirror the pipeline's steps.

    drumgen preprocess SONG.mid     step 1: render, bars, per-bar CQTs
    drumgen ssm RUN_DIR             step 2: melodic SSM (+ true drum SSM when the song has drums)
    drumgen select RUN_DIR          step 3: each bar's 7 most similar bars
    drumgen analyze SONG.mid|DIR    steps 1-3, one song or a folder of songs
    drumgen dataset build CORPUS OUT  training data from songs with drums
    drumgen train vae|ssm TRAIN VAL   train the drum VAE or the drum-SSM generator
    drumgen generate SONG.mid|DIR   steps 1-5: the song with a new drum track, in output_midi/
    drumgen evaluate SONGS_DIR      generated vs real drums on unseen songs, all baselines
    drumgen serve                   drumgen studio: a local web page to drum, hear and shape songs

Arguments are parsed before anything heavy is imported, so ``--help`` is instant. An error
caused by the input prints one line and exits with status 1 (``-v`` adds the traceback).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from drumgen import __version__

if TYPE_CHECKING:
    from drumgen.config import Config
    from drumgen.model.bundle import Models
    from drumgen.pipeline import GenerationResult

log = logging.getLogger("drumgen")

MIDI_SUFFIXES = (".mid", ".midi")
LIMIT_OPTIONS = (
    ("max_minutes", float, "M", "longest song, in minutes up to its last note-off"),
    ("max_bars", int, "N", "most bars of a song"),
    ("max_notes", int, "N", "most notes of a song"),
    ("max_tracks", int, "N", "most MIDI tracks of a file"),
    ("max_file_mb", float, "MB", "largest MIDI file, checked before it is parsed"),
)
"""The ``--max-*`` options: fields of the config's ``[limits]`` (their defaults live there)."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        default="default",
        choices=("default", "smoke"),
        help="configuration preset (default: %(default)s; smoke is fast, for tests)",
    )
    _add_force_and_verbose(parser)


def _add_force_and_verbose(
    parser: argparse.ArgumentParser, *, force_help: str = "overwrite existing results"
) -> None:
    parser.add_argument("--force", action="store_true", help=force_help)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details and show tracebacks")


def _add_model(parser: argparse.ArgumentParser, *, metavar: str = "DIR", what: str = "model folder") -> None:
    parser.add_argument("--model", metavar=metavar, help=f"{what} (default: drum_generator_model/)")


def _add_midi_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--out",
        default="output_midi",
        metavar="OUT_DIR",
        help="where the MIDI files go (default: %(default)s)",
    )


def _add_keep_song_drums(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-song-drums",
        action="store_true",
        help="keep the song's own channel-10 events in the merged file (default: left out, the new "
        "drums replace them)",
    )


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """The ``--max-*`` options, one per field of ``[limits]`` (defaults: the default preset's)."""
    from drumgen.config import limit_flag, load_config

    defaults = load_config().limits
    group = parser.add_argument_group("limits (a song beyond one is refused before rendering)")
    for field, kind, metavar, what in LIMIT_OPTIONS:
        group.add_argument(
            limit_flag(field),
            dest=field,
            type=kind,
            metavar=metavar,
            help=f"{what} (default: {getattr(defaults, field):g})",
        )


def _limit_overrides(args: argparse.Namespace) -> dict[str, float | int]:
    """The ``[limits]`` fields set on the command line."""
    return {
        field: getattr(args, field) for field, *_ in LIMIT_OPTIONS if getattr(args, field, None) is not None
    }


def _add_soundfont(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--soundfont",
        metavar="PATH",
        help="General MIDI .sf2 to render with (default: see soundfonts/README.md)",
    )


def _add_runs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        default="runs",
        metavar="DIR",
        help="folder holding one run folder per song (default: %(default)s)",
    )


def _add_temperature(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--temperature",
        type=float,
        metavar="T",
        help="latent sampling temperature: 0 takes the latent mean, so bars that sound alike get "
        "alike drums and --seed no longer matters (default: the model's, chosen on validation songs)",
    )


def _add_generation(parser: argparse.ArgumentParser) -> None:
    """Options of the drum VAE's step (4): density offsets, seed, temperature, genre."""
    parser.add_argument(
        "--density",
        type=int,
        nargs="+",
        metavar="DELTA",
        help="note-count offsets, one drum track each (e.g. 0 3 6 12 20; default 0)",
    )
    parser.add_argument("--seed", type=int, help="latent sampling seed (default: 0)")
    _add_temperature(parser)
    parser.add_argument(
        "--variation",
        type=float,
        metavar="V",
        help="0: every bar plays its section's groove exactly; 1: every bar its own "
        "(default: the preset's, chosen on validation songs)",
    )
    parser.add_argument(
        "--fills",
        type=float,
        metavar="F",
        help="chance of a fill before each section change, 0..1; 0 also drops the crashes "
        "(default: the preset's)",
    )
    parser.add_argument(
        "--always-play",
        action="store_true",
        help="never lay out, even where the song sounds bare",
    )
    parser.add_argument(
        "--swing",
        type=_swing_setting,
        metavar="auto|S",
        help="auto: swing the drums as the song's own parts swing; S in 0..1: swing ratio 1+S "
        "(0 straight, 0.5 light 3:2, 1 triplet 2:1) (default: the preset's, auto)",
    )
    parser.add_argument(
        "--humanize",
        type=float,
        metavar="H",
        help="0..1: seeded timing offsets of at most 20 ms x H (tighter on the beats) and small "
        "velocity changes; 0 is exactly on the grid (default: the preset's, 0)",
    )
    parser.add_argument(
        "--genre",
        default="unknown",
        help="style conditioning: rock, pop, country, rap_hip_hop, rnb_soul, classic (default: "
        "unknown: the drums averaged over the training genres, weighted by their shares)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``drumgen`` command."""
    parser = argparse.ArgumentParser(
        prog="drumgen", description="Structured drum tracks for MIDI songs (VAE + self-similarity)."
    )
    parser.add_argument("--version", action="version", version=f"drumgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    preprocess = commands.add_parser(
        "preprocess", help="step 1: render a song, cut it into bars, compute per-bar CQTs"
    )
    preprocess.add_argument("songs", nargs="+", metavar="SONG", help="MIDI files or folders of them")
    _add_runs(preprocess)
    _add_soundfont(preprocess)
    _add_limits(preprocess)
    _add_common(preprocess)

    ssm = commands.add_parser("ssm", help="step 2: melodic SSM (and the true drum SSM if any)")
    ssm.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders made by step 1")
    _add_model(ssm, what="model folder of the drum-SSM generator")
    _add_common(ssm)

    select = commands.add_parser("select", help="step 3: each bar's most similar bars")
    select.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders made by step 2")
    select.add_argument(
        "--oracle",
        action="store_true",
        help="choose from the song's own drum SSM (evaluation only: an upper bound)",
    )
    _add_common(select)

    drums = commands.add_parser("drums", help="step 4: the drum VAE writes each bar's drum pattern")
    drums.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders made by step 3")
    _add_generation(drums)
    _add_model(drums)
    _add_force_and_verbose(drums)

    write = commands.add_parser(
        "write", help="step 5: the song with its new drums, and the drums alone, as MIDI"
    )
    write.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders made by step 4")
    _add_midi_out(write)
    _add_keep_song_drums(write)
    _add_force_and_verbose(write, force_help="overwrite existing MIDI files")

    analyze = commands.add_parser("analyze", help="steps 1-3 on a song or a folder of songs")
    analyze.add_argument("songs", nargs="+", metavar="SONG", help="MIDI files or folders of them")
    _add_runs(analyze)
    _add_soundfont(analyze)
    analyze.add_argument(
        "--oracle",
        action="store_true",
        help="choose neighbours from the song's own drum SSM (evaluation only)",
    )
    analyze.add_argument("--no-plot", action="store_true", help="skip RUN_DIR/analysis.png")
    _add_model(analyze, what="model folder of the drum-SSM generator")
    _add_limits(analyze)
    _add_common(analyze)

    dataset = commands.add_parser("dataset", help="training data from a corpus of songs with drums")
    dataset_commands = dataset.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")
    build = dataset_commands.add_parser(
        "build", help="analyse every usable song of a corpus (parallel, resumable)"
    )
    build.add_argument("corpus", metavar="CORPUS", help="folder of MIDI files, a .tar.xz, or a corpus folder")
    build.add_argument("out", metavar="OUT", help="dataset folder (created; resumed if it exists)")
    build.add_argument("--split", help="with a corpus folder: train, validation or test")
    build.add_argument("--limit", type=int, help="a seeded random sample of this many songs")
    build.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    build.add_argument("--seed", type=int, default=0, help="seed of the song sample (default: 0)")
    build.add_argument(
        "--every-meter",
        action="store_true",
        help="keep songs of every meter (default: only songs whose every bar is 4/4); the models train "
        "on every song, the drum VAE on its 4/4 bars",
    )
    build.add_argument(
        "--preset", default="default", choices=("default", "smoke"), help="configuration preset"
    )
    build.add_argument("-v", "--verbose", action="store_true", help="log details and show tracebacks")

    generate = commands.add_parser("generate", help="steps 1-5: write a drum track for a song or folder")
    generate.add_argument("songs", nargs="+", metavar="SONG", help="MIDI files or folders of them")
    _add_midi_out(generate)
    _add_keep_song_drums(generate)
    _add_runs(generate)
    _add_generation(generate)
    generate.add_argument(
        "--oracle",
        action="store_true",
        help="choose neighbour bars from the song's own drums (evaluation only; labelled)",
    )
    _add_model(generate)
    generate.add_argument("--no-plot", action="store_true", help="skip RUN_DIR/drums.png")
    generate.add_argument(
        "--audio",
        action="store_true",
        help="also write the song with its drums and the song alone as audio beside the MIDI files "
        "(OGG Vorbis, [audio] of the preset; same soundfont)",
    )
    _add_soundfont(generate)
    _add_limits(generate)
    _add_force_and_verbose(generate)

    evaluate = commands.add_parser(
        "evaluate", help="score generated drums against the real drums of unseen songs, with baselines"
    )
    evaluate.add_argument(
        "songs_dir", metavar="SONGS_DIR", help="folder of MIDI songs with drums (or a corpus)"
    )
    evaluate.add_argument("--split", help="with a corpus folder: which split (e.g. test)")
    _add_model(evaluate, metavar="PATH")
    evaluate.add_argument(
        "--out", default="evaluation", metavar="REPORT_DIR", help="report folder (default: %(default)s)"
    )
    evaluate.add_argument("--limit", type=int, help="a seeded random sample of this many songs")
    evaluate.add_argument("--workers", type=int, help="analysis processes (default: all cores)")
    evaluate.add_argument("--seed", type=int, default=0, help="sampling seed of every method (default: 0)")
    _add_temperature(evaluate)
    _add_force_and_verbose(evaluate, force_help="overwrite an existing report")

    _add_serve(commands)

    train = commands.add_parser("train", help="train a model on built datasets")
    train_commands = train.add_subparsers(dest="train_command", required=True, metavar="MODEL")
    for name, what, subdir in (
        ("vae", "the drum VAE", "drum_vae"),
        ("ssm", "the drum-SSM generator", "drum_ssm_generator"),
    ):
        model = train_commands.add_parser(name, help=f"train {what}")
        model.add_argument("train_data", metavar="TRAIN_DATASET", help="dataset folder of the training split")
        model.add_argument("val_data", metavar="VAL_DATASET", help="dataset folder of the validation split")
        model.add_argument(
            "--out",
            default=f"drum_generator_model/{subdir}",
            metavar="DIR",
            help="model folder (default: %(default)s)",
        )
        model.add_argument("--limit", type=int, help="use only the first songs of the training set")
        model.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
        model.add_argument("--epochs", type=int, help="most epochs (default: from the preset)")
        model.add_argument(
            "--max-minutes", type=float, help="stop after this much training (default: preset)"
        )
        _add_common(model)
    drummer = train_commands.add_parser(
        "drummer", help="fit the drummer model (velocities, fills, laying out) on a training dataset"
    )
    drummer.add_argument("train_data", metavar="TRAIN_DATASET", help="dataset folder of the training split")
    drummer.add_argument(
        "--out",
        default="drum_generator_model/drummer",
        metavar="DIR",
        help="model folder (default: %(default)s)",
    )
    drummer.add_argument("--limit", type=int, help="use only the first songs of the training set")
    _add_common(drummer)
    return parser


def _add_serve(commands: argparse._SubParsersAction) -> None:
    """``drumgen serve``: defaults from the preset's ``[studio]``."""
    from drumgen.config import load_config

    defaults = load_config().studio
    serve = commands.add_parser(
        "serve", help="drumgen studio: a local web page to drum, hear and shape songs"
    )
    serve.add_argument("--host", default=defaults.host, help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=defaults.port, help="port (default: %(default)s)")
    serve.add_argument(
        "--work-dir",
        default=defaults.work_dir,
        metavar="DIR",
        help="one folder per uploaded song; nothing is written outside it (default: %(default)s)",
    )
    _add_model(serve)
    _add_limits(serve)
    serve.add_argument("-v", "--verbose", action="store_true", help="log details and show tracebacks")


def find_songs(paths: Sequence[str]) -> list[Path]:
    """Expand files and folders (searched recursively) into a sorted list of MIDI files."""
    from drumgen.exceptions import ParameterError

    songs: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
            if not found:
                raise ParameterError(f"{path}: no .mid or .midi files in this folder")
            songs.extend(found)
        else:
            songs.append(path)  # a missing file is reported by the step with its own message
    return songs


def _config(args: argparse.Namespace):  # -> Config, imported lazily
    from drumgen.config import load_config

    overrides = {}
    if getattr(args, "soundfont", None):
        overrides["render"] = {"soundfont": args.soundfont}
    if _limit_overrides(args):
        overrides["limits"] = _limit_overrides(args)
    return load_config(args.preset, **overrides)


def _for_each(
    items: Sequence[Path], work: Callable[[Path], None], *, what: str, verbose: bool = False
) -> int:
    """Run ``work`` on each item with a progress bar; report failures in one line each.

    A drumgen error of a single item goes up to :func:`main` (its one line, exit 1). Any other
    error (a bug, a full disk, a permission) skips its item in one line (the traceback with
    ``verbose``, the ``-v`` option) and the others go on; the status is then 1.
    """
    from tqdm import tqdm

    from drumgen.exceptions import DrumgenError

    failures = 0
    show_bar = len(items) > 1
    for item in tqdm(items, desc=what, unit="song", disable=not show_bar):
        try:
            work(item)
        except DrumgenError as error:
            failures += 1
            if len(items) == 1:
                raise
            log.error("skipped %s: %s", item, error)
        except Exception as error:
            failures += 1
            detail = str(error).splitlines()[0] if str(error) else ""
            log.error(
                "%s%s: unexpected %s: %s%s",
                "skipped " if len(items) > 1 else "",
                item,
                type(error).__name__,
                detail,
                "" if verbose else " (-v shows the traceback)",
                exc_info=verbose,
            )
    if failures and len(items) > 1:
        log.error("%d of %d %s failed", failures, len(items), what)
    return 1 if failures else 0


def _run_preprocess(args: argparse.Namespace) -> int:
    from drumgen import io, pipeline
    from drumgen.synth import Renderer

    config = _config(args)
    songs = find_songs(args.songs)
    with Renderer.from_config(
        config.render,
        threads=os.cpu_count() or 1,
    ) as renderer:

        def work(song: Path) -> None:
            run_dir = io.default_run_dir(song, runs_dir=args.runs_dir)
            result = pipeline.step_1_preprocess(
                song, run_dir, config=config, force=args.force, renderer=renderer
            )
            log.info("%s: %d bars -> %s", song.name, result.n_bars, run_dir)

        return _for_each(songs, work, what="songs", verbose=args.verbose)


def _ssm_generator(args: argparse.Namespace) -> object:
    """The drum-SSM generator of ``--model`` (a model folder), else the shipped one if installed."""
    from drumgen import pipeline

    if args.model is None:
        return pipeline.default_ssm_generator()
    from drumgen.model.bundle import load_models

    return load_models(args.model, vae=False, drummer=False).ssm_generator


def _run_ssm(args: argparse.Namespace) -> int:
    from drumgen import pipeline

    config = _config(args)
    generator = _ssm_generator(args)  # loaded once for all songs

    def work(run_dir: Path) -> None:
        result = pipeline.step_2_similarity(run_dir, config=config, force=args.force, ssm_generator=generator)
        log.info(
            "%s: melodic SSM %s%s",
            run_dir,
            result.melodic_ssm.shape,
            ", true drum SSM" if result.drum_ssm is not None else "",
        )

    return _for_each([Path(p) for p in args.run_dirs], work, what="run folders", verbose=args.verbose)


def _run_select(args: argparse.Namespace) -> int:
    from drumgen import pipeline

    config = _config(args)

    def work(run_dir: Path) -> None:
        result = pipeline.step_3_select(
            run_dir, config=config, force=args.force, source="oracle" if args.oracle else None
        )
        log.info("%s: neighbours chosen from the %s SSM", run_dir, result.source)

    return _for_each([Path(p) for p in args.run_dirs], work, what="run folders", verbose=args.verbose)


def _swing_setting(text: str) -> str | float:
    """``--swing``: "auto" or a number (its range is checked with the config)."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a number in 0..1, got {text!r}") from None


def _generation_config(args: argparse.Namespace, models: Models) -> Config:
    """The loaded VAE's config (songs are generated as its training data was analysed), with
    ``--temperature``, ``--variation``, ``--fills``, ``--always-play``, ``--swing`` and
    ``--humanize`` applied (:class:`drumgen.shaping.Shaping`)."""
    from drumgen.shaping import Shaping

    return Shaping(
        temperature=args.temperature,
        variation=getattr(args, "variation", None),
        fills=getattr(args, "fills", None),
        always_play=getattr(args, "always_play", False),
        swing=getattr(args, "swing", None),
        humanize=getattr(args, "humanize", None),
    ).apply(models.config)


def _check_genre(genre: str) -> None:
    from drumgen.shaping import check_genre

    check_genre(genre)


def _run_drums(args: argparse.Namespace) -> int:
    from drumgen import pipeline
    from drumgen.model.bundle import load_models

    _check_genre(args.genre)
    models = load_models(args.model, ssm_generator=False)
    config = _generation_config(args, models)

    def work(run_dir: Path) -> None:
        result = pipeline.step_4_generate(
            run_dir,
            config=config,
            vae=models.vae,
            drummer=models.drummer,
            seed=args.seed,
            densities=tuple(args.density) if args.density else None,
            genre=args.genre,
            force=args.force,
        )
        log.info(
            "%s: drums for %d bars (%s SSM)", run_dir, len(next(iter(result.grids.values()))), result.source
        )

    return _for_each([Path(p) for p in args.run_dirs], work, what="run folders", verbose=args.verbose)


def _run_write(args: argparse.Namespace) -> int:
    from drumgen import pipeline

    pipeline.check_folder_writable(args.out)

    def work(run_dir: Path) -> None:
        result = pipeline.step_5_write_midi(
            run_dir, out_dir=args.out, force=args.force, keep_song_drums=args.keep_song_drums
        )
        for full, drums_only in result.files.values():
            log.info("%s -> %s, %s", run_dir, full, drums_only)

    return _for_each([Path(p) for p in args.run_dirs], work, what="run folders", verbose=args.verbose)


def _run_analyze(args: argparse.Namespace) -> int:
    from drumgen import io, pipeline
    from drumgen.synth import Renderer

    config = _config(args)
    songs = find_songs(args.songs)
    generator = _ssm_generator(args)  # loaded once for all songs
    with Renderer.from_config(
        config.render,
        threads=os.cpu_count() or 1,
    ) as renderer:

        def work(song: Path) -> None:
            run_dir = io.default_run_dir(song, runs_dir=args.runs_dir)
            result = pipeline.analyze_song(
                song,
                run_dir,
                config=config,
                force=args.force,
                renderer=renderer,
                ssm_generator=generator,
                source="oracle" if args.oracle else None,
            )
            if not args.no_plot:
                from drumgen import display

                ssms = {
                    "melodic": result.step_2.melodic_ssm,
                    "predicted": result.step_2.predicted_drum_ssm,
                    "oracle": result.step_2.drum_ssm,
                }
                figure = display.analysis_summary(
                    result.step_1.bar_cqts,
                    ssms,
                    result.step_3.selection.neighbor_idx,
                    source=result.step_3.source,
                    title=song.name,
                )
                display.save_figure(figure, io.analysis_plot_path(run_dir))
            log.info("%s: %d bars analysed -> %s", song.name, result.step_1.n_bars, run_dir)

        return _for_each(songs, work, what="songs", verbose=args.verbose)


def _run_dataset(args: argparse.Namespace) -> int:
    from drumgen import dataset

    summary = dataset.build_dataset(
        args.corpus,
        args.out,
        config=_config(args),
        split=args.split,
        limit=args.limit,
        workers=args.workers,
        seed=args.seed,
        limits=dataset.SongLimits(common_time_only=not args.every_meter),
    )
    print(summary.table())
    log.info("dataset in %s (index.json, log.jsonl with each skipped song's reason)", args.out)
    return 0


def _run_generate(args: argparse.Namespace) -> int:
    import dataclasses

    from drumgen import io, pipeline
    from drumgen.config import load_config
    from drumgen.synth import Renderer

    _check_genre(args.genre)
    songs = find_songs(args.songs)
    pipeline.check_folder_writable(args.out)  # before TensorFlow and the models load: answers at once
    from drumgen.model.bundle import load_models

    limits = {**dataclasses.asdict(load_config().limits), **_limit_overrides(args)}
    models = load_models(args.model)
    # Analyse songs exactly as the model's training data was analysed; the limits are the preset's.
    config = _generation_config(args, models).replace(limits=limits)
    if args.soundfont:
        log.warning(
            "rendering with %s; the model was trained with %s", args.soundfont, config.render.soundfont
        )
        config = config.replace(render={"soundfont": args.soundfont})
    densities = tuple(args.density) if args.density else None
    with Renderer.from_config(config.render, threads=os.cpu_count() or 1) as renderer:

        def work(song: Path) -> None:
            result = pipeline.generate_song(
                song,
                out_dir=args.out,
                run_dir=io.default_run_dir(song, runs_dir=args.runs_dir),
                config=config,
                models=models,
                oracle=args.oracle,
                seed=args.seed,
                densities=densities,
                genre=args.genre,
                force=args.force,
                keep_song_drums=args.keep_song_drums,
                renderer=renderer,
                audio=args.audio,
            )
            if not args.no_plot:
                _plot_generation(result, config, title=song.name)
            for full, _ in result.step_5.files.values():
                log.info("%s: %d bars -> %s", song.name, result.analysis.step_1.n_bars, full)
            if result.audio is not None:
                for path in [*result.audio.files.values(), result.audio.song]:
                    log.info("%s: audio -> %s", song.name, path)

        return _for_each(songs, work, what="songs", verbose=args.verbose)


def _plot_generation(result: GenerationResult, config: Config, *, title: str) -> None:
    """Write RUN_DIR/drums.png: the generated drums (first density) and their SSM by the song's."""
    from drumgen import display, io, similarity

    density = min(result.step_4.grids)
    generated = result.step_4.grids[density]
    ssms = {
        "melodic": result.analysis.step_2.melodic_ssm,
        "predicted": result.analysis.step_2.predicted_drum_ssm,
        "generated drums' SSM": similarity.drum_ssm(generated, scale=config.similarity.drum_scale),
    }
    figure = display.generation_summary(
        generated,
        ssms,
        title=title,
        sections=result.analysis.step_3.sections,
        decisions=result.step_4.decisions.get(density),
        bar_steps=result.analysis.step_1.meter.bar_steps,
    )
    display.save_figure(figure, io.generation_plot_path(result.step_4.run_dir))


def _run_train_drummer(args: argparse.Namespace) -> int:
    import time

    from drumgen import dataset
    from drumgen.drummer import fit_drummer, save_drummer, sound_examples

    config = _config(args)
    started = time.perf_counter()
    songs = dataset.load_songs(args.train_data, limit=args.limit, progress=True)
    midi_files = dataset.source_midi_files(args.train_data)
    sounds = None
    if midi_files:
        sounds = sound_examples(midi_files, workers=os.cpu_count() or 1, progress=sys.stderr.isatty())
    else:
        log.warning(
            "%s: no MIDI files under midi/: the model will not choose the kit sounds", args.train_data
        )
    model = fit_drummer(songs, settings=config.drum_changes, sounds=sounds, progress=sys.stderr.isatty())
    save_drummer(
        model,
        args.out,
        meta={
            "config": config.to_dict(),
            "data": {"train": {"dataset": str(args.train_data), **_build_info(args.train_data)}},
            "seconds": round(time.perf_counter() - started, 1),
        },
        force=args.force,
    )
    log.info(
        "drummer model: %d songs, %d bars, rest rate %.3f, fills before %.0f%% of section changes "
        "(%d in the fill library) -> %s",
        model.info["n_songs"],
        model.info["n_bars"],
        model.info["rest_rate"],
        100 * model.info["fill_before_change_rate"],
        model.info["n_fill_patterns"],
        args.out,
    )
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from drumgen import dataset
    from drumgen.exceptions import ParameterError

    if args.train_command == "drummer":
        return _run_train_drummer(args)
    config = _config(args)
    section = "vae" if args.train_command == "vae" else "ssm_generator"
    changes = {
        key: value
        for key, value in (("epochs", args.epochs), ("max_minutes", args.max_minutes))
        if value is not None
    }
    if changes:
        config = config.replace(**{section: changes})
    built_with = dataset.dataset_sections(args.train_data)
    if built_with != dataset.data_settings(config.to_dict()):
        raise ParameterError(
            f"{args.train_data} was built with another analysis config than --preset {args.preset}"
        )
    train_songs = dataset.load_songs(args.train_data, limit=args.limit, progress=True)
    val_songs = dataset.load_songs(args.val_data, progress=True)
    data_info = {
        "train": {"dataset": str(args.train_data), **_build_info(args.train_data)},
        "validation": {"dataset": str(args.val_data), **_build_info(args.val_data)},
    }
    if args.train_command == "vae":
        from drumgen.model.train_vae import train_drum_vae

        _, report = train_drum_vae(
            train_songs,
            val_songs,
            config=config,
            out_dir=args.out,
            seed=args.seed,
            progress=sys.stderr.isatty(),
            force=args.force,
            data_info=data_info,
        )
        log.info(
            "drum VAE: %d parameters, %.0f s, validation onset F1 %.3f -> %s",
            report["n_params"],
            report["seconds"],
            report["val_onset_scores"]["f1"],
            args.out,
        )
    else:
        from drumgen.model.train_ssm_generator import train_ssm_generator

        report = train_ssm_generator(
            train_songs,
            val_songs,
            config=config,
            out_dir=Path(args.out),
            seed=args.seed,
            progress=sys.stderr.isatty(),
            force=args.force,
            data_info=data_info,
        )
        log.info("drum-SSM generator trained -> %s", args.out)
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    import shlex

    from drumgen import evaluation

    result, paths = evaluation.run_evaluation(
        args.songs_dir,
        args.out,
        split=args.split,
        model_dir=args.model,
        limit=args.limit,
        workers=args.workers,
        seed=args.seed,
        temperature=args.temperature,
        force=args.force,
        command="drumgen " + shlex.join(args.command_line),
    )
    print(paths["markdown"].read_text())
    log.info("report in %s", args.out)
    return 0 if result.n_songs else 1


def _run_serve(args: argparse.Namespace) -> int:
    from drumgen.studio.server import serve

    serve(
        host=args.host,
        port=args.port,
        work_dir=Path(args.work_dir),
        model_dir=args.model,
        limits=_limit_overrides(args),
    )
    return 0


def _build_info(dataset_dir: str) -> dict[str, object]:
    from drumgen import io

    build = io.read_json(Path(dataset_dir) / "build.json")
    index = io.read_json(Path(dataset_dir) / "index.json")
    return {
        "corpus": build.get("corpus"),
        "split": build.get("split"),
        "seed": build.get("seed"),
        "n_songs": len(index["songs"]),
        "n_bars": sum(song["n_bars"] for song in index["songs"]),
    }


_HANDLERS = {
    "preprocess": _run_preprocess,
    "ssm": _run_ssm,
    "select": _run_select,
    "drums": _run_drums,
    "write": _run_write,
    "analyze": _run_analyze,
    "dataset": _run_dataset,
    "generate": _run_generate,
    "train": _run_train,
    "evaluate": _run_evaluate,
    "serve": _run_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``drumgen`` command; return its exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="drumgen: %(message)s", force=True
    )
    for noisy in ("numba", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from drumgen.exceptions import DrumgenError

    args.command_line = list(argv) if argv is not None else sys.argv[1:]
    try:
        return _HANDLERS[args.command](args)
    except DrumgenError as error:
        if args.verbose:
            log.exception("error")
        else:
            print(f"drumgen: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
