"""Takes: several drum parts for one analysed song, kept side by side to compare and go back to.

A take is a run folder of its own (``RUN_DIR/takes/<n>/``, :func:`drumgen.io.take_dir`) holding
the song's analysis hard-linked from the run folder (:func:`drumgen.io.link_analysis`), then its
own step 4 (the drums), step 5 (the merged and the drums-only MIDI file) and the song with those
drums as audio (:func:`drumgen.pipeline.write_audio`). Steps 1-3 run once per song; a take costs
steps 4 and 5 and a render of the drums alone.

- :func:`make_take` - a new drum part for the whole song.
- :func:`regenerate_bars` - a take that redraws a bar range (e.g. one section) of another take with
  other controls (another seed), every other bar kept as it was (:func:`splice_drums`).

Used by the studio (:mod:`drumgen.studio`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drumgen import io, pipeline
from drumgen.config import Config
from drumgen.exceptions import ParameterError
from drumgen.sections import Sections
from drumgen.shaping import Shaping
from drumgen.synth import Renderer


@dataclass(frozen=True)
class Take:
    """One take's files.

    Attributes
    ----------
    take_dir : Path
        Its run folder.
    step_4 : drumgen.pipeline.Step4Result
        Its drums (one density).
    full_midi, drums_midi : Path
        The song with these drums, and the drums alone (step 5).
    audio : Path
        The song with these drums, rendered (``config.audio.format``).
    """

    take_dir: Path
    step_4: pipeline.Step4Result
    full_midi: Path
    drums_midi: Path
    audio: Path


def section_bars(sections: Sections, section_idx: int) -> tuple[int, int]:
    """The bars ``[start, stop)`` of section ``section_idx``.

    Raises
    ------
    ParameterError
        If there is no such section.

    Examples
    --------
    >>> import numpy as np
    >>> section_bars(Sections(starts=np.array([0, 4, 8]), labels=("A", "B", "A"), n_bars=12), 1)
    (4, 8)
    """
    if isinstance(section_idx, bool) or not isinstance(section_idx, int | np.integer):
        raise ParameterError(f"a section number is an int, got {section_idx!r}")
    if not 0 <= section_idx < sections.n_sections:
        raise ParameterError(
            f"section {section_idx} does not exist; the song has sections 0 to {sections.n_sections - 1}"
        )
    return int(sections.starts[section_idx]), int(sections.ends[section_idx])


def check_bar_range(start: int, stop: int, *, n_bars: int) -> None:
    """Refuse a bar range ``[start, stop)`` that is empty or leaves the song's ``n_bars`` bars.

    Raises
    ------
    ParameterError
    """
    if not 0 <= start < stop <= n_bars:
        raise ParameterError(
            f"bars {start} to {stop} (stop excluded) is not a range of this song's bars 0 to {n_bars}; "
            "expected 0 <= start < stop <= n_bars"
        )


def splice_drums(
    base: pipeline.Step4Result, new: pipeline.Step4Result, *, start: int, stop: int
) -> pipeline.Step4Result:
    """``base``'s drums with bars ``[start, stop)`` (grids and arranger decisions) taken from ``new``.

    Parameters
    ----------
    base, new : Step4Result
        Drums of the same song, one density each; the result keeps ``base``'s density, seed (so
        step 5's humanizing stays that of ``base``), source and run folder.
    start, stop : int
        Bars, ``0 <= start < stop <= n_bars``.

    Returns
    -------
    Step4Result
        Grids [shape=(n_bars, 46, n_steps), uint8]: bars outside the range equal ``base``'s.
    """
    if len(base.grids) != 1 or len(new.grids) != 1:
        raise ParameterError(f"a take has one density, got {len(base.grids)} and {len(new.grids)}")
    (density, base_grid), (new_density, new_grid) = (
        next(iter(base.grids.items())),
        next(iter(new.grids.items())),
    )
    if base_grid.shape != new_grid.shape:
        raise ParameterError(f"drums of different songs: grids {base_grid.shape} and {new_grid.shape}")
    check_bar_range(start, stop, n_bars=len(base_grid))
    grid = base_grid.copy()
    grid[start:stop] = new_grid[start:stop]
    decisions: dict[int, dict[str, np.ndarray]] = {}
    if base.decisions and new.decisions:
        decisions[density] = {}
        for name, values in base.decisions[density].items():
            spliced = np.array(values, copy=True)
            spliced[start:stop] = new.decisions[new_density][name][start:stop]
            decisions[density][name] = spliced
    return dataclasses.replace(base, grids={density: grid}, decisions=decisions)


def _finish(
    take_dir: Path, step_4: pipeline.Step4Result, *, config: Config, renderer: Renderer | None
) -> Take:
    """Steps 5 and the audio of a take whose step 4 is written."""
    step_5 = pipeline.step_5_write_midi(take_dir, out_dir=take_dir, force=True, config=config)
    audio = pipeline.write_audio(
        take_dir, step_5, force=True, renderer=renderer, config=config, song_alone=False
    )
    ((full_midi, drums_midi),) = step_5.files.values()
    (audio_path,) = audio.files.values()
    return Take(
        take_dir=take_dir, step_4=step_4, full_midi=full_midi, drums_midi=drums_midi, audio=audio_path
    )


def _drum_whole_song(
    run_dir: str | Path, take_dir: Path, *, shaping: Shaping, models: Any, config: Config
) -> pipeline.Step4Result:
    """Step 4 for the whole song of ``run_dir`` in ``take_dir`` (its analysis linked in)."""
    io.link_analysis(run_dir, take_dir)
    return pipeline.step_4_generate(
        take_dir,
        config=config,
        vae=models.vae,
        drummer=models.drummer,
        densities=(shaping.density,),
        genre=shaping.genre,
        force=True,
    )


def make_take(
    run_dir: str | Path,
    take_dir: str | Path,
    *,
    shaping: Shaping,
    models: Any,
    renderer: Renderer | None = None,
    config: Config | None = None,
) -> Take:
    """A new drum part for the whole song analysed in ``run_dir``, written to ``take_dir``.

    Parameters
    ----------
    run_dir : str or Path
        Holds steps 1-3 (:func:`drumgen.pipeline.analyze_song`).
    take_dir : str or Path
        The take's folder (made; an earlier take there is replaced).
    shaping : Shaping
        The controls; ``shaping.seed`` None takes the config's seed.
    models : Models
        :func:`drumgen.model.bundle.load_models`.
    renderer : Renderer, optional
        For the audio; default: one made for the call.
    config : Config, optional
        Default: ``models.config`` (the one the song was analysed with by ``drumgen generate``).

    Raises
    ------
    RunFolderError, ParameterError, SynthError
    """
    take_dir = Path(take_dir)
    config = shaping.apply(models.config if config is None else config)
    step_4 = _drum_whole_song(run_dir, take_dir, shaping=shaping, models=models, config=config)
    return _finish(take_dir, step_4, config=config, renderer=renderer)


MAX_REDRAW_TEMPERATURE = 8.0
"""The widest latent draw a redraw tries (:func:`regenerate_bars`)."""


def _same_bars(base: pipeline.Step4Result, new: pipeline.Step4Result, start: int, stop: int) -> bool:
    """Whether two one-density drum parts strike the same cells in bars ``[start, stop)``."""
    base_grid, new_grid = next(iter(base.grids.values())), next(iter(new.grids.values()))
    return bool(np.array_equal(base_grid[start:stop] > 0, new_grid[start:stop] > 0))


def regenerate_bars(
    run_dir: str | Path,
    base_dir: str | Path,
    take_dir: str | Path,
    *,
    start: int,
    stop: int,
    shaping: Shaping,
    models: Any,
    renderer: Renderer | None = None,
    config: Config | None = None,
) -> Take:
    """A take that is the take in ``base_dir`` with bars ``[start, stop)`` drawn again.

    The whole song is generated with ``shaping`` (its seed, usually another than the base's);
    its bars in the range replace the base's (:func:`splice_drums`), every other bar stays exactly
    as it was. Where the new seed strikes the same cells in the range (the song-context VAE hears
    some songs so clearly that its latent draws at temperature 1 decode alike), the draw is
    widened, the latent temperature doubled up to :data:`MAX_REDRAW_TEMPERATURE`, until the range
    changes; step 4's metadata records the seed and temperature of each redraw. The parameters
    are :func:`make_take`'s; ``base_dir`` is a take made by it (or by
    this function).

    Raises
    ------
    ParameterError
        If the range is not inside the song.
    RunFolderError, SynthError
    """
    take_dir = Path(take_dir)
    base = pipeline.load_step_4(base_dir)
    n_bars = len(next(iter(base.grids.values())))
    check_bar_range(start, stop, n_bars=n_bars)
    config = shaping.apply(models.config if config is None else config)
    new = _drum_whole_song(run_dir, take_dir, shaping=shaping, models=models, config=config)
    while _same_bars(base, new, start, stop) and config.generation.temperature < MAX_REDRAW_TEMPERATURE:
        wider_temperature = min(max(2 * config.generation.temperature, 1.0), MAX_REDRAW_TEMPERATURE)
        wider = dataclasses.replace(shaping, temperature=wider_temperature)
        config = wider.apply(config)
        new = _drum_whole_song(run_dir, take_dir, shaping=wider, models=models, config=config)
    spliced = dataclasses.replace(splice_drums(base, new, start=start, stop=stop), run_dir=take_dir)
    base_meta = io.load_step_meta(base_dir, "step_4")
    redraw = {"start": start, "stop": stop, "seed": new.seed, "temperature": config.generation.temperature}
    regenerated = [*base_meta.get("regenerated", []), redraw]
    pipeline.save_step_4(
        spliced, config=config, genre=shaping.genre, meta={"regenerated": regenerated}, force=True
    )
    return _finish(take_dir, spliced, config=config, renderer=renderer)
