"""The generation core: steps 2, 3 and 4 in memory, written once.

The pipeline (which adds the run folder), the evaluation, the dataset builder and the notebooks all
call these; none of them strings the steps together by hand.

- :func:`similarities` - step 2: melodic SSM, true drum SSM (if the song has drums) and the drum
  SSM predicted from the melody.
- :func:`select_and_segment` - step 3: each bar's nearest bars in the chosen SSM, and the song's
  sections.
- :func:`drums` - step 4: the drum VAE's probabilities and velocities for every bar, arranged into a
  drum part (:mod:`drumgen.arrangement`), or decoded bar by bar as the reference did (``arranged=False``),
  then fitted to each bar's own meter (:mod:`drumgen.meter`).

TensorFlow is imported lazily, through :mod:`drumgen.model`, only where a network runs.

Used by notebooks ``step_2`` to ``step_4``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from drumgen import sections as sections_
from drumgen import selection, similarity
from drumgen.arrangement import Arrangement, arrange
from drumgen.bars import N_STEPS
from drumgen.config import Config
from drumgen.drummer import DrummerModel, bar_loudness, layout_features
from drumgen.exceptions import ParameterError
from drumgen.meter import SongMeter, fit_grid, to_model_steps, to_written_steps
from drumgen.parts import PART_FAMILIES
from drumgen.sections import Sections
from drumgen.songdata import CQT_LEVELS, SongData


@dataclass(frozen=True)
class Similarities:
    """A song's SSMs (distances, 0 = identical), each [shape=(n_bars, n_bars), float32].

    ``drum`` is the song's own drum track's (None without drums); ``predicted`` the drum SSM the
    generator infers from ``melodic`` (None without the generator).
    """

    melodic: np.ndarray
    drum: np.ndarray | None = None
    predicted: np.ndarray | None = None


def similarities(
    bar_cqts: np.ndarray, drum_grids: np.ndarray | None, *, config: Config, ssm_generator: Any = None
) -> Similarities:
    """Step 2 in memory.

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, 84, 96)], float in [0, 1] (or uint8 x 255)
    drum_grids : np.ndarray [shape=(n_bars, 46, 16)] or None
    ssm_generator : SsmGenerator, optional
        The drum-SSM generator; None skips the prediction.
    """
    cqts = np.asarray(bar_cqts)
    if cqts.dtype == np.uint8:
        cqts = cqts.astype(np.float32) / CQT_LEVELS
    melodic = similarity.melodic_ssm(cqts, scale=config.similarity.melodic_scale)
    drum = None
    if drum_grids is not None:
        drum = similarity.drum_ssm(drum_grids, scale=config.similarity.drum_scale)
    predicted = None
    if ssm_generator is not None:
        from drumgen.model.ssm_generator import predict_drum_ssm

        predicted = predict_drum_ssm(ssm_generator, melodic)
    return Similarities(melodic=melodic, drum=drum, predicted=predicted)


def stored_similarities(song: SongData, *, ssm_generator: Any = None) -> Similarities:
    """Step 2 of an analysed dataset song: its stored melodic and true drum SSMs, and (with a
    generator) the drum SSM predicted from the stored melodic one."""
    melodic = song.arrays["melodic_ssm"].astype(np.float32)
    predicted = None
    if ssm_generator is not None:
        from drumgen.model.ssm_generator import predict_drum_ssm

        predicted = predict_drum_ssm(ssm_generator, melodic)
    return Similarities(melodic=melodic, drum=song.arrays["drum_ssm"].astype(np.float32), predicted=predicted)


def ssm_for(ssms: Similarities, source: str) -> np.ndarray:
    """The SSM that chooses neighbour bars and sections: "predicted", "melodic" or "oracle".

    Raises
    ------
    ParameterError
        If that SSM is missing (no drums for "oracle", no generator for "predicted").
    """
    if source == "melodic":
        return ssms.melodic
    if source == "oracle":
        if ssms.drum is None:
            raise ParameterError("oracle selection needs the song's own drum track; it has none")
        return ssms.drum
    if source == "predicted":
        if ssms.predicted is None:
            raise ParameterError("no predicted drum SSM (the drum-SSM generator was not available in step 2)")
        return ssms.predicted
    raise ParameterError(f"source must be 'predicted', 'melodic' or 'oracle', got {source!r}")


def select_and_segment(
    ssms: Similarities, *, config: Config, source: str
) -> tuple[selection.BarSelection, Sections]:
    """Step 3 in memory: each bar's nearest bars in the ``source`` SSM (:func:`ssm_for`), and the
    song's sections from the melodic SSM together with that drum SSM (the melodic one alone for
    ``source="melodic"``)."""
    chosen_ssm = ssm_for(ssms, source)
    chosen = selection.select_neighbors(chosen_ssm, n_neighbors=config.selection.n_neighbors)
    drum = None if source == "melodic" else chosen_ssm
    found = sections_.find_sections_with(ssms.melodic, drum, settings=config.sections)
    return chosen, found


@dataclass(frozen=True)
class GeneratedDrums:
    """Step 4's result: per density offset, a velocity grid [shape=(n_bars, 46, n_steps), uint8] on
    the song's step canvas (16 steps for a 4/4 song; :mod:`drumgen.meter`), and (when arranged) the
    arrangement's decisions (their grids on the same canvas)."""

    grids: dict[int, np.ndarray]
    arrangements: dict[int, Arrangement]


def vae_predictions(
    bar_cqts: np.ndarray,
    bar_tempos: np.ndarray,
    chosen: selection.BarSelection,
    *,
    vae: Any,
    config: Config,
    part_onsets: np.ndarray | None,
    genre: str,
    seed: int,
    meter: SongMeter | None = None,
) -> Any:
    """The drum VAE's per-bar predictions, before the arranger (the first half of :func:`drums`).

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, 84, 96)]
    bar_tempos : np.ndarray [shape=(n_bars,), bpm]
    chosen : BarSelection
        Each bar's neighbours (:func:`select_and_segment`).
    part_onsets : np.ndarray [shape=(n_bars, 5, 16)] or None
        The parts' onsets folded onto 16 cells per bar (:func:`drumgen.meter.to_model_steps`).
    genre : str
        The song's genre; one the VAE does not know is handled as ``config.generation.unknown_genre``
        says (:func:`drumgen.model.generate.bar_probabilities`).
    seed : int
        Seeds the latent sampling (at ``config.generation.temperature``).
    meter : SongMeter, optional
        Every bar's meter: a meter-aware VAE writes each bar in the length
        :meth:`SongMeter.written_steps` gives. Default: every bar 4/4.

    Returns
    -------
    drumgen.model.generate.BarPredictions
    """
    from drumgen.model.generate import bar_probabilities

    return bar_probabilities(
        vae,
        bar_cqts,
        chosen.neighbor_idx,
        chosen.neighbor_weights,
        bar_tempos=bar_tempos,
        genre=genre,
        part_onsets=part_onsets,
        rng=np.random.default_rng(seed),
        temperature=config.generation.temperature,
        unknown_genre=config.generation.unknown_genre,
        written_steps=None if meter is None else meter.written_steps(),
        written_compound=None if meter is None else meter.written_compound(),
    )


def stored_vae_predictions(
    song: SongData,
    chosen: selection.BarSelection,
    *,
    vae: Any,
    config: Config,
    seed: int = 0,
    genre: str | None = None,
) -> Any:
    """:func:`vae_predictions` of a song of a built dataset (its part onsets folded to 16 cells);
    ``genre`` instead of the song's own (e.g. "unknown", as a user's file gives it)."""
    arrays = song.arrays
    return vae_predictions(
        arrays["bar_cqts"],
        arrays["bar_tempos"],
        chosen,
        vae=vae,
        config=config,
        part_onsets=to_model_steps(arrays["part_onsets"], song.meter.bar_steps),
        genre=song.genre if genre is None else genre,
        seed=seed,
        meter=song.meter,
    )


@dataclass(frozen=True)
class StoredPredictions:
    """A song of a built dataset through step 2, step 3 and the drum VAE, on its predicted drum
    SSM (:func:`stored_predictions`): what the tuning and study scripts arrange, often in many
    ways, and score against the song's real drums.

    ``predicted`` is a :class:`drumgen.model.generate.BarPredictions`; a study that arranges other
    predictions of the same bars swaps it with :func:`dataclasses.replace`.
    """

    song: SongData
    ssms: Similarities
    chosen: selection.BarSelection
    sections: Sections
    predicted: Any


def stored_predictions(
    song: SongData,
    *,
    ssm_generator: Any,
    vae: Any,
    config: Config,
    seed: int = 0,
    genre: str | None = None,
) -> StoredPredictions:
    """:func:`stored_similarities`, :func:`select_and_segment` on the predicted drum SSM and
    :func:`stored_vae_predictions` of a song of a built dataset, in one call."""
    ssms = stored_similarities(song, ssm_generator=ssm_generator)
    chosen, found = select_and_segment(ssms, config=config, source="predicted")
    predicted = stored_vae_predictions(song, chosen, vae=vae, config=config, seed=seed, genre=genre)
    return StoredPredictions(song=song, ssms=ssms, chosen=chosen, sections=found, predicted=predicted)


def stored_arrangement(
    stored: StoredPredictions,
    *,
    drummer: DrummerModel | None,
    config: Config,
    seed: int = 0,
    sounds: dict[str, int] | None = None,
) -> Arrangement:
    """:func:`arrange_predictions` for a song of a built dataset, on its predicted drum SSM: what
    the tuning and study scripts score against its real drums.

    Parameters
    ----------
    stored : StoredPredictions
        From :func:`stored_predictions`.
    config : Config
        The arrangement's settings. The sections are found again with its ``sections`` and
        ``selection`` settings (cheap next to the VAE), so a tuning script may vary them without
        running the VAE again; the VAE's predictions stay ``stored.predicted``.
    sounds : dict of str to int, optional
        Piece -> GM note to write instead of the drummer model's kit sounds (see
        :func:`arrange_song`); ``{}``: the VAE's likeliest notes.

    Returns
    -------
    Arrangement
        On the song's step canvas, like its real drums (16 steps per bar in a 4/4 song).
    """
    chosen, found = select_and_segment(stored.ssms, config=config, source="predicted")
    arrays = stored.song.arrays
    return arrange_predictions(
        stored.predicted,
        found,
        chosen=chosen,
        drum_ssm=stored.ssms.predicted,
        bar_cqts=arrays["bar_cqts"],
        part_onsets=arrays.get("part_onsets"),
        meter=stored.song.meter,
        drummer=drummer,
        config=config,
        seed=seed,
        file_features=arrays.get("file_features"),
        sounds=sounds,
    )[0]


def drums(
    bar_cqts: np.ndarray,
    bar_tempos: np.ndarray,
    chosen: selection.BarSelection,
    found: Sections,
    *,
    vae: Any,
    drummer: DrummerModel | None,
    config: Config,
    part_onsets: np.ndarray | None = None,
    drum_ssm: np.ndarray | None = None,
    seed: int,
    densities: tuple[int, ...] = (0,),
    genre: str = "unknown",
    arranged: bool = True,
    meter: SongMeter | None = None,
    file_features: np.ndarray | None = None,
) -> GeneratedDrums:
    """Step 4 in memory.

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, 84, 96)]
    bar_tempos : np.ndarray [shape=(n_bars,), bpm]
    chosen, found
        From :func:`select_and_segment`.
    vae : DrumVae
    drummer : DrummerModel or None
        Needed when ``arranged``.
    part_onsets : np.ndarray [shape=(n_bars, 5, n_steps)]
        The song's note onsets per part on its step canvas (step 1): an input of the VAE, and the
        lay-out decision's, both folded onto 16 cells per bar (:func:`drumgen.meter.to_model_steps`).
        None raises :class:`ParameterError` (step 1 always counts them; re-run it for an old run
        folder).
    drum_ssm : np.ndarray [shape=(n_bars, n_bars), distances], optional
        The SSM that chose ``chosen`` (:func:`ssm_for`): how different the sections' grooves are
        made (``config.arrangement.contrast``). None: no contrast edits.
    seed : int
        The same seed gives the same drums.
    densities : tuple of int
        Density offsets, one drum part each.
    arranged : bool
        False: every bar decoded on its own (the reference's way; ``config.generation.decode``).
    meter : SongMeter, optional
        Every bar's meter (step 1): a meter-aware VAE writes a 3/4 or 6/8 song's bars in their own
        length (:meth:`SongMeter.written_steps`), the other bars are written as 4/4 bars and fitted
        to their meter (:func:`drumgen.meter.fit_grid`). Default: every bar 4/4.
    file_features : np.ndarray [shape=(len(FILE_FEATURES),)], optional
        How the song's MIDI file is written (step 1, :func:`drumgen.filestyle.file_features`):
        the drummer model chooses the kick's and snare's GM notes from it
        (:meth:`DrummerModel.kit_sounds`). None: the VAE's likeliest notes.
    """
    from drumgen.model.generate import decode_hits, hits_to_velocities

    meter = SongMeter.common_time(len(bar_cqts)) if meter is None else meter
    predicted = vae_predictions(
        bar_cqts,
        bar_tempos,
        chosen,
        vae=vae,
        config=config,
        part_onsets=None if part_onsets is None else to_model_steps(part_onsets, meter.bar_steps),
        genre=genre,
        seed=seed,
        meter=meter,
    )
    probabilities = predicted.probabilities
    if not arranged:
        grids = {
            delta: fit_grid(
                hits_to_velocities(
                    decode_hits(probabilities, predicted.counts, delta=delta, mode=config.generation.decode),
                    probabilities,
                ),
                meter,
                written_steps=predicted.written_steps,
            )
            for delta in densities
        }
        return GeneratedDrums(grids=grids, arrangements={})
    arrangements = arrange_predictions(
        predicted,
        found,
        chosen=chosen,
        drum_ssm=drum_ssm,
        bar_cqts=bar_cqts,
        part_onsets=part_onsets,
        meter=meter,
        drummer=drummer,
        config=config,
        seed=seed,
        densities=densities,
        file_features=file_features,
    )
    return GeneratedDrums(grids={d: a.grid for d, a in arrangements.items()}, arrangements=arrangements)


def arrange_predictions(
    predicted: Any,
    found: Sections,
    *,
    chosen: selection.BarSelection | None,
    drum_ssm: np.ndarray | None,
    bar_cqts: np.ndarray,
    part_onsets: np.ndarray | None,
    meter: SongMeter,
    drummer: DrummerModel | None,
    config: Config,
    seed: int,
    densities: tuple[int, ...] = (0,),
    file_features: np.ndarray | None = None,
    sounds: dict[str, int] | None = None,
) -> dict[int, Arrangement]:
    """The VAE's predictions arranged (:func:`arrange_song`), each part fitted to the song's meter:
    the second half of :func:`drums`, and what the study scripts score.

    Parameters
    ----------
    predicted : drumgen.model.generate.BarPredictions
        :func:`vae_predictions` of the song; a meter-aware VAE's say which bars it wrote in their
        own length (``written_steps``), and the arranger keeps those bars as written.
    part_onsets : np.ndarray [shape=(n_bars, 5, meter.n_steps)], optional
        The song's note onsets per part on its step canvas (step 1), for the lay-out decision and
        the kick's lock with the bass.
    meter : SongMeter
        Every bar's meter: the arranged 16-step bars are fitted to it
        (:func:`drumgen.meter.fit_grid`).

    The other parameters are :func:`arrange_song`'s.

    Returns
    -------
    dict of int to Arrangement
        One per density offset, on the song's step canvas [grid shape=(n_bars, 46, meter.n_steps)].
    """
    written = predicted.written_steps
    bass_onsets = layout_onsets = None
    if part_onsets is not None:
        layout_onsets = to_model_steps(part_onsets, meter.bar_steps)
        if written is not None:
            # the kick locks to the bass as each bar is written: a waltz's bass on its own 12 cells
            on_written = to_written_steps(part_onsets, meter.bar_steps, written)
            bass_onsets = on_written[:, PART_FAMILIES.index("bass")]
        if not meter.is_common_time:
            # the lay-out decision counts a bar's onsets: a short bar's, per 4/4 bar, so that a 2/4
            # bar does not sound bare for being short
            layout_onsets = layout_onsets * (N_STEPS / meter.bar_steps)[:, None, None]
    arrangements = arrange_song(
        predicted.probabilities,
        found,
        chosen=chosen,
        drum_ssm=drum_ssm,
        vae_velocity=predicted.velocities,
        bar_cqts=bar_cqts,
        part_onsets=layout_onsets,
        drummer=drummer,
        config=config,
        seed=seed,
        densities=densities,
        file_features=file_features,
        sounds=sounds,
        written_steps=written,
        written_compound=predicted.written_compound,
        bass_onsets=bass_onsets,
    )
    return {
        delta: dataclasses.replace(
            arranged,
            grid=fit_grid(arranged.grid, meter, fill_starts=arranged.fill_starts, written_steps=written),
        )
        for delta, arranged in arrangements.items()
    }


def arrange_song(
    probabilities: np.ndarray,
    found: Sections,
    *,
    chosen: selection.BarSelection | None = None,
    drum_ssm: np.ndarray | None = None,
    vae_velocity: np.ndarray | None = None,
    bar_cqts: np.ndarray,
    part_onsets: np.ndarray | None,
    drummer: DrummerModel | None,
    config: Config,
    seed: int,
    densities: tuple[int, ...] = (0,),
    file_features: np.ndarray | None = None,
    sounds: dict[str, int] | None = None,
    written_steps: np.ndarray | None = None,
    written_compound: np.ndarray | None = None,
    bass_onsets: np.ndarray | None = None,
) -> dict[int, Arrangement]:
    """The arranging half of :func:`drums`: VAE probabilities -> one drum part per density offset.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(n_bars, 46, 16)]
        From :func:`drumgen.model.generate.bar_probabilities` (``.probabilities``).
    chosen : BarSelection, optional
        Step 3's neighbours; a bar's own chances are averaged over them (see
        :func:`drumgen.arrangement.arrange`).
    drum_ssm : np.ndarray [shape=(n_bars, n_bars)], optional
        The SSM that chose them, for the sections' contrast.
    vae_velocity : np.ndarray [shape=(n_bars, 46, 16), MIDI velocity], optional
        The VAE's predicted velocities (``.velocities``); the arranger uses them when
        ``config.arrangement.velocity_source`` is "vae". None, or "table": the drummer model's
        velocity table.
    bar_cqts : np.ndarray [shape=(n_bars, 84, 96)]
        For the section dynamics and the lay-out decision.
    part_onsets : np.ndarray [shape=(n_bars, 5, 16)], optional
        For the lay-out decision and the kick's lock with the bass; without it every bar plays
        and the kick is the model's.
    file_features : np.ndarray [shape=(len(FILE_FEATURES),)], optional
        For the kit's sounds (:meth:`DrummerModel.kit_sounds`); None: the VAE's likeliest notes.
    sounds : dict of str to int, optional
        Piece -> GM note written instead of the kit sounds ``file_features`` give (e.g. a study's
        upper bound, the real drums' own notes).
    written_steps, written_compound : np.ndarray [shape=(n_bars,)], optional
        The length a meter-aware VAE wrote each bar in, and whether in a compound meter (see
        :func:`drumgen.arrangement.arrange`); None: every bar a 4/4 bar.
    bass_onsets : np.ndarray [shape=(n_bars, 16), counts], optional
        The bass onsets the kick locks to, on the cells each bar is written on
        (:func:`drumgen.meter.to_written_steps`); default: the bass row of ``part_onsets``.
    """
    if drummer is None:
        raise ParameterError("arranged generation needs the drummer model (drum_generator_model/drummer)")
    rest = None
    bass = None
    if part_onsets is not None:
        rest = drummer.rest_chance(layout_features(bar_cqts, part_onsets))
        bass = np.asarray(part_onsets)[:, PART_FAMILIES.index("bass")] if bass_onsets is None else bass_onsets
    loudness = bar_loudness(bar_cqts)
    velocity = vae_velocity if config.arrangement.velocity_source == "vae" else None
    if sounds is None:
        sounds = drummer.kit_sounds(file_features)
    return {
        delta: arrange(
            probabilities,
            found,
            drummer=drummer,
            settings=config.arrangement,
            rest_chance=rest,
            bar_loudness=loudness,
            vae_velocity=velocity,
            selection=chosen,
            ssm=drum_ssm,
            bass_onsets=bass,
            sounds=sounds,
            delta=delta,
            written_steps=written_steps,
            written_compound=written_compound,
            rng=np.random.default_rng([seed, delta + 1000]),
        )
        for delta in densities
    }
