"""The ``drumgen`` command: subcommands mirror the pipeline's steps.

    drumgen preprocess SONG.mid     step 1: render, bars, per-bar CQTs
    drumgen ssm RUN_DIR             step 2: melodic SSM (+ true drum SSM when the song has drums)
    drumgen select RUN_DIR          step 3: each bar's 7 most similar bars
    drumgen analyze SONG.mid|DIR    steps 1-3, one song or a folder of songs
    drumgen dataset build CORPUS OUT  training data from songs with drums

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

from drumgen import __version__

log = logging.getLogger("drumgen")

MIDI_SUFFIXES = (".mid", ".midi")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        default="default",
        choices=("default", "smoke"),
        help="configuration preset (default: %(default)s; smoke is fast, for tests)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing results")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details and show tracebacks")


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
    _add_common(preprocess)

    ssm = commands.add_parser("ssm", help="step 2: melodic SSM (and the true drum SSM if any)")
    ssm.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders made by step 1")
    _add_common(ssm)

    select = commands.add_parser("select", help="step 3: each bar's most similar bars")
    select.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders made by step 2")
    select.add_argument(
        "--oracle",
        action="store_true",
        help="choose from the song's own drum SSM (evaluation only: an upper bound)",
    )
    _add_common(select)

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
        "--preset", default="default", choices=("default", "smoke"), help="configuration preset"
    )
    build.add_argument("-v", "--verbose", action="store_true", help="log details and show tracebacks")
    return parser


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
    return load_config(args.preset, **overrides)


def _for_each(items: Sequence[Path], work: Callable[[Path], None], *, what: str) -> int:
    """Run ``work`` on each item with a progress bar; report failures in one line each."""
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
    if failures:
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

        return _for_each(songs, work, what="songs")


def _run_ssm(args: argparse.Namespace) -> int:
    from drumgen import pipeline

    config = _config(args)

    def work(run_dir: Path) -> None:
        result = pipeline.step_2_similarity(run_dir, config=config, force=args.force)
        log.info(
            "%s: melodic SSM %s%s",
            run_dir,
            result.melodic_ssm.shape,
            ", true drum SSM" if result.drum_ssm is not None else "",
        )

    return _for_each([Path(p) for p in args.run_dirs], work, what="run folders")


def _run_select(args: argparse.Namespace) -> int:
    from drumgen import pipeline

    config = _config(args)

    def work(run_dir: Path) -> None:
        result = pipeline.step_3_select(
            run_dir, config=config, force=args.force, source="oracle" if args.oracle else None
        )
        log.info("%s: neighbours chosen from the %s SSM", run_dir, result.source)

    return _for_each([Path(p) for p in args.run_dirs], work, what="run folders")


def _run_analyze(args: argparse.Namespace) -> int:
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
            result = pipeline.analyze_song(
                song,
                run_dir,
                config=config,
                force=args.force,
                renderer=renderer,
                source="oracle" if args.oracle else None,
            )
            if not args.no_plot:
                from drumgen import display

                figure = display.analysis_summary(
                    result.step_1.bar_cqts,
                    result.step_2.melodic_ssm,
                    result.step_3.selection.neighbor_idx,
                    result.step_2.drum_ssm,
                    oracle=result.step_3.source == "oracle",
                    title=song.name,
                )
                display.save_figure(figure, io.analysis_plot_path(run_dir))
            log.info("%s: %d bars analysed -> %s", song.name, result.step_1.n_bars, run_dir)

        return _for_each(songs, work, what="songs")


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
    )
    print(summary.table())
    log.info("dataset in %s (index.json, log.jsonl with each skipped song's reason)", args.out)
    return 0


_HANDLERS = {
    "preprocess": _run_preprocess,
    "ssm": _run_ssm,
    "select": _run_select,
    "analyze": _run_analyze,
    "dataset": _run_dataset,
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
