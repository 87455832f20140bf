"""From the drum VAE's per-bar hit probabilities to a drum part a drummer would play.

The VAE gives every bar 46 x 16 hit probabilities. Decoding each bar on its own (the reference's
way) makes a different groove every bar, layers near-duplicate sounds (kick 35 + 36) and never
plays a fill. The arranger instead works as a drummer does, on the song's sections
(:mod:`drumgen.sections`):

1. **One groove per section label.** The probabilities of all bars that share a label (every "A"
   section) are pooled into one groove; the bars at odd positions of a section also give a second
   bar, so a groove can be a two-bar phrase. ``variation`` blends each bar's own probabilities back
   in (0: exact repeats, 1: every bar its own).
2. **Per kit piece.** A piece (:mod:`drumgen.kit`) strikes on a step when the chance that any of its
   rows sounds exceeds ``hit_threshold``, with one GM pitch per piece per groove (the piece's most
   probable row); one timekeeper per groove (hi-hat or ride, whichever the model hears more); the
   backbeat (snare on 2 and 4, or on 3 in half time) and the downbeat kick are kept.
3. **Fills and crashes.** In the bar before a section change, with probability ``fills``, the last
   beats become a fill drawn from the fill table the drummer model learned from the corpus; the
   new section starts with a crash (and a kick) on its downbeat.
4. **Laying out.** Bars the drummer model says real drummers rest in (bare intros, breaks) are left
   empty, unless ``play_always``.
5. **Dynamics.** Velocities come from the corpus' own mean velocity of each sound on each step
   (accents, backbeat over hats), scaled by the section's loudness relative to the song.

Everything here is NumPy; the VAE probabilities come from :mod:`drumgen.generation`.

Used by notebook ``step_4_generate_drum_patterns``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgen import kit
from drumgen.config import ArrangementConfig
from drumgen.drummer import FILL_VOICES, DrummerModel
from drumgen.exceptions import ParameterError
from drumgen.metrics import BACKBEAT_STEPS
from drumgen.representation import DRUM_PITCHES, N_ROWS
from drumgen.sections import Sections

N_STEPS = 16
HALF_TIME_STEP = 8
CRASH_ROW = DRUM_PITCHES.index(49)
KICK_ROW = DRUM_PITCHES.index(36)
OPEN_HAT_ROW = DRUM_PITCHES.index(46)
FILL_ROWS = {
    "snare": kit.piece_rows("snare")[0],
    "tom_high": kit.piece_rows("tom_high")[0],
    "tom_mid": kit.piece_rows("tom_mid")[0],
    "tom_low": kit.piece_rows("tom_low")[0],
    "kick": KICK_ROW,
}
"""Grid row each fill voice (:data:`drumgen.drummer.FILL_VOICES`, but "rest") strikes."""
SECTION_LOUDNESS_RANGE = (0.85, 1.1)
"""Velocity factors of the quietest and loudest section of a song."""


@dataclass(frozen=True)
class Arrangement:
    """A drum part and the decisions that shaped it.

    Attributes
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16), uint8 velocities]
    resting : np.ndarray [shape=(n_bars,), bool]
        Bars left empty on purpose (the band plays bare there).
    fills : np.ndarray [shape=(n_bars,), bool]
        Bars ending in a fill.
    crashes : np.ndarray [shape=(n_bars,), bool]
        Bars starting with a crash.
    """

    grid: np.ndarray
    resting: np.ndarray
    fills: np.ndarray
    crashes: np.ndarray


def piece_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Chance that each kit piece sounds on each step: ``1 - prod(1 - p)`` over the piece's rows.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(..., 46, 16), float in [0, 1]]

    Returns
    -------
    np.ndarray [shape=(..., len(kit.PIECES), 16), float64]
    """
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    out = [1.0 - np.prod(1.0 - p[..., list(kit.piece_rows(piece)), :], axis=-2) for piece in kit.PIECES]
    return np.stack(out, axis=-2)


def decode_groove(probabilities: np.ndarray, *, hit_threshold: float, delta: int = 0) -> np.ndarray:
    """One playable bar from 46 x 16 probabilities, piece by piece.

    Each piece strikes where its chance (:func:`piece_probabilities`) exceeds ``hit_threshold``,
    always with the piece's most probable row over the bar (one GM pitch per piece), except that
    the hi-hat may open on a step where the open hat is likelier than the closed sound. Only one
    timekeeper plays (hi-hat or ride). Percussion rows decode one by one. ``delta`` > 0 adds the
    next most probable piece-steps (denser), < 0 drops the least probable ones. The backbeat is
    kept: if the snare plays at all, or the groove is not in half time, it strikes on steps 4 and
    12 (or on 8 alone when the model hears half time), and the kick plays the downbeat.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(46, 16), float in [0, 1]]
    hit_threshold : float
    delta : int

    Returns
    -------
    np.ndarray [shape=(46, 16), bool]
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.shape != (N_ROWS, N_STEPS):
        raise ParameterError(f"probabilities must have shape (46, 16), got {p.shape}")
    pieces = piece_probabilities(p)
    keep = {piece: True for piece in kit.PIECES}
    timekeepers = {piece: pieces[kit.PIECES.index(piece)].sum() for piece in kit.TIMEKEEPERS}
    keep[min(timekeepers, key=lambda piece: timekeepers[piece])] = False

    # Candidate piece-steps with their chance; percussion rows stand alone.
    candidates: list[tuple[float, int, int]] = []  # (chance, row, step)
    for piece_idx, piece in enumerate(kit.PIECES):
        if not keep[piece]:
            continue
        rows = list(kit.piece_rows(piece))
        if piece == "percussion":
            for row in rows:
                candidates += [(p[row, step], row, step) for step in range(N_STEPS)]
            continue
        main_row = rows[int(np.argmax(p[rows].sum(axis=1)))]
        for step in range(N_STEPS):
            row = main_row
            if piece == "hihat" and main_row != OPEN_HAT_ROW and p[OPEN_HAT_ROW, step] > p[main_row, step]:
                row = OPEN_HAT_ROW
            candidates.append((pieces[piece_idx, step], row, step))
    candidates.sort(key=lambda item: -item[0])
    n_above = sum(chance > hit_threshold for chance, _, _ in candidates)
    n_keep = int(np.clip(n_above + delta, 0, len(candidates)))
    hits = np.zeros((N_ROWS, N_STEPS), dtype=bool)
    for _, row, step in candidates[:n_keep]:
        hits[row, step] = True
    if hits.any():
        _keep_backbeat(hits, pieces)
    return hits


def _keep_backbeat(hits: np.ndarray, pieces: np.ndarray) -> None:
    """Snare on 2 and 4 (or 3 in half time) and kick on 1, in place."""
    snare = pieces[kit.PIECES.index("snare")]
    snare_rows = list(kit.piece_rows("snare"))
    played = hits[snare_rows].any(axis=1)
    snare_row = snare_rows[int(np.argmax(played))] if played.any() else snare_rows[0]
    half_time = (
        snare[HALF_TIME_STEP] > max(snare[list(BACKBEAT_STEPS)]) and hits[snare_rows, HALF_TIME_STEP].any()
    )
    if not half_time:
        for step in BACKBEAT_STEPS:
            if not hits[snare_rows, step].any():
                hits[snare_row, step] = True
    kick_rows = list(kit.piece_rows("kick"))
    if not hits[kick_rows, 0].any():
        kick_played = hits[kick_rows].any(axis=1)
        hits[kick_rows[int(np.argmax(kick_played))] if kick_played.any() else KICK_ROW, 0] = True


def _pooled(probabilities: np.ndarray, bar_idx: np.ndarray) -> np.ndarray:
    return probabilities[bar_idx].mean(axis=0)


def _fill(groove: np.ndarray, drummer: DrummerModel, rng: np.random.Generator) -> np.ndarray:
    """The groove bar with its last beats replaced by a fill drawn from the learned fill table."""
    start = int(rng.choice(drummer.fill_starts, p=drummer.fill_start_probs))
    bar = groove.copy()
    bar[:, start:] = False
    for step in range(start, N_STEPS):
        voice = FILL_VOICES[int(rng.choice(len(FILL_VOICES), p=drummer.fill_table[step]))]
        if voice != "rest":
            bar[FILL_ROWS[voice], step] = True
    return bar


def arrange(
    probabilities: np.ndarray,
    sections: Sections,
    *,
    drummer: DrummerModel,
    settings: ArrangementConfig,
    rest_chance: np.ndarray | None = None,
    bar_loudness: np.ndarray | None = None,
    delta: int = 0,
    rng: np.random.Generator,
) -> Arrangement:
    """Arrange a whole song (see the module docstring).

    Parameters
    ----------
    probabilities : np.ndarray [shape=(n_bars, 46, 16), float in [0, 1]]
        The drum VAE's hit probabilities of every bar.
    sections : Sections
        The song's sections (:func:`drumgen.sections.find_sections`).
    drummer : DrummerModel
        Velocity and fill tables (:mod:`drumgen.drummer`).
    settings : ArrangementConfig
    rest_chance : np.ndarray [shape=(n_bars,), float in [0, 1]], optional
        Chance that a real drummer rests in each bar (:meth:`DrummerModel.rest_chance`); None: play
        every bar.
    bar_loudness : np.ndarray [shape=(n_bars,), float], optional
        Loudness of the accompaniment per bar (any monotonic scale, e.g. the mean CQT level); sets
        the section dynamics. None: all sections equally loud.
    delta : int
        Density offset: piece-steps added (or, negative, dropped) per groove bar.
    rng : np.random.Generator
        Draws the fills (the grooves themselves are deterministic).

    Returns
    -------
    Arrangement
    """
    p = np.asarray(probabilities, dtype=np.float64)
    n_bars = len(p)
    if p.shape[1:] != (N_ROWS, N_STEPS) or sections.n_bars != n_bars:
        raise ParameterError(
            f"probabilities must have shape ({sections.n_bars}, 46, 16) to match the sections, got {p.shape}"
        )
    labels = sections.bar_label_idx()
    positions = sections.position_in_section()
    variation = settings.variation
    hits = np.zeros((n_bars, N_ROWS, N_STEPS), dtype=bool)
    for label in np.unique(labels):
        label_bars = np.flatnonzero(labels == label)
        pooled = _pooled(p, label_bars)
        odd = label_bars[positions[label_bars] % 2 == 1]
        pooled_odd = 0.5 * pooled + 0.5 * _pooled(p, odd) if len(odd) else pooled
        for bar in label_bars:
            base = pooled_odd if positions[bar] % 2 == 1 else pooled
            mixed = (1.0 - variation) * base + variation * p[bar]
            hits[bar] = decode_groove(mixed, hit_threshold=settings.hit_threshold, delta=delta)

    resting = np.zeros(n_bars, dtype=bool)
    if rest_chance is not None and not settings.play_always:
        chance = np.asarray(rest_chance, dtype=np.float64)
        smoothed = 0.5 * chance + 0.5 * _section_means(chance, sections)[sections.bar_section()]
        resting = smoothed > settings.layout_threshold
    hits[resting] = False

    fills = np.zeros(n_bars, dtype=bool)
    crashes = np.zeros(n_bars, dtype=bool)
    if settings.fills > 0:
        for change in sections.changes:
            before, after = int(change) - 1, int(change)
            if not resting[before] and hits[before].any() and rng.random() < settings.fills:
                hits[before] = _fill(hits[before], drummer, rng)
                fills[before] = True
            if not resting[after]:
                hits[after, CRASH_ROW, 0] = True
                if not hits[after, list(kit.piece_rows("kick")), 0].any():
                    hits[after, KICK_ROW, 0] = True
                crashes[after] = True

    grid = velocities(hits, drummer=drummer, loudness=_section_loudness(bar_loudness, sections))
    return Arrangement(grid=grid, resting=resting, fills=fills, crashes=crashes)


def _section_loudness(bar_loudness: np.ndarray | None, sections: Sections) -> np.ndarray:
    """Velocity factor per bar from the section's mean loudness, ranked within the song."""
    if bar_loudness is None or sections.n_sections < 2:
        return np.ones(sections.n_bars)
    means = _section_means(np.asarray(bar_loudness, dtype=np.float64), sections)
    span = np.ptp(means)
    relative = (means - means.min()) / span if span > 0 else np.full_like(means, 0.5)
    low, high = SECTION_LOUDNESS_RANGE
    return (low + (high - low) * relative)[sections.bar_section()]


def _section_means(values: np.ndarray, sections: Sections) -> np.ndarray:
    """Mean of a per-bar value [shape=(n_bars,)] over each section -> [shape=(n_sections,)]."""
    section_of = sections.bar_section()
    return np.bincount(section_of, weights=values, minlength=sections.n_sections) / np.bincount(
        section_of, minlength=sections.n_sections
    )


def velocities(hits: np.ndarray, *, drummer: DrummerModel, loudness: np.ndarray) -> np.ndarray:
    """Velocity grid: the corpus' mean velocity of each row on each step, times the bar's loudness.

    Parameters
    ----------
    hits : np.ndarray [shape=(n_bars, 46, 16), bool]
    loudness : np.ndarray [shape=(n_bars,), float]
        Velocity factor per bar.

    Returns
    -------
    np.ndarray [shape=(n_bars, 46, 16), uint8]
        0 where there is no hit, else 1-127.
    """
    values = drummer.velocity[None, :, :] * np.asarray(loudness, dtype=np.float64)[:, None, None]
    return np.where(hits, np.clip(np.round(values), 1, 127), 0).astype(np.uint8)
