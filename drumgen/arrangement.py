"""From the drum VAE's per-bar hit probabilities to a drum part a drummer would play.

The VAE gives every bar 46 x 16 hit probabilities. Decoding each bar on its own (the reference's
way) makes a different groove every bar, layers near-duplicate sounds (kick 35 + 36) and never
plays a fill. The arranger instead works as a drummer does, on the song's sections
(:mod:`drumgen.sections`):

0. **The kick locks with the bass.** Given the bass part's onsets, each bar's kick chances are
   first pulled toward them and beats 1 and 3 (``bass_lock``, :func:`lock_kick_to_bass`).
1. **One groove per section label.** The probabilities of all bars that share a label (every "A"
   section) are pooled into one groove; the bars at odd positions of a section also give a second
   bar, so a groove can be a two-bar phrase. ``variation`` blends each bar's own probabilities back
   in (0: exact repeats, 1: every bar its own); a bar's own probabilities are the weighted mean
   over itself and its step-3 neighbours (:func:`neighbourhood_probabilities`), so bars the drum
   SSM calls alike vary alike. Where the drum SSM hears two grooves inside one label (bars
   further apart than ``variant_distance``, :func:`variant_labels`), each group of bars gets its
   own variant of the label's groove, pooled over its bars and made to differ from the others as
   labels are (point 2); the timekeeper stays the label's.
2. **Sections that differ, sound different.** A section label whose groove came out (nearly) the
   same as an earlier label's is edited until the two differ in ``contrast`` x (their mean
   distance in the drum SSM) cells, at least 2 and at most 6. The kick and timekeeper steps
   whose chance is nearest to :data:`CONTRAST_PIVOT` are toggled first, so an edit changes the
   notes the model is least sure of (:func:`contrast_edits`; never the downbeat kick or the
   timekeeper's on-beat strokes); the snare keeps its part. Without
   it a verse and a chorus the model hears alike get one groove, and the drums lose the form.
3. **Per kit piece.** A piece (:mod:`drumgen.kit`) strikes on its likeliest steps, as many as
   the model expects it to (the sum of its chances over the bar), each above ``hit_threshold``
   (the snare of a 4/4 bar above ``snare_threshold``: a stray snare stroke on top of the kept
   backbeat is the loudest mistake; a bar written in another meter keeps no backbeat, and its
   snare reads ``hit_threshold``);
   the timekeeper on every position of the beat whose chance exceeds ``keeper_threshold`` (the
   same strokes on every beat, not a count, :func:`pulse_steps`); one
   GM pitch per piece for the whole song (the kick's and snare's as the drummer model reads
   them from how the file is written, ``sounds``; the others' most probable row over the song); one
   timekeeper per section label (hi-hat or ride, whichever the model hears more there); crashes
   only where the arranger puts them (section starts); toms and percussion only where the model
   is more sure than not (:data:`COLOUR_THRESHOLD`); the backbeat (snare on 2 and 4, or on 3 in half
   time) and the downbeat kick are kept.
4. **Fills and crashes.** In the bar before a section change, with probability ``fills``, the last
   beats become a fill drawn from the real fills the drummer model learned from the corpus, whole
   (into a section the song has not played before, any of them; into one heard before, one on
   the last beat only: :data:`SHORT_FILL_START`); the new section starts with a crash (and a
   kick) on its downbeat.
5. **Laying out.** Bars the drummer model says real drummers rest in (bare intros, breaks) are left
   empty, unless ``play_always``; never more than ``max_rest_share`` of the song (the likeliest
   rests), so a song the model hears as bare throughout still gets its drums.
6. **Dynamics.** Velocities come from the drum VAE's velocity output, averaged over the bars that
   share a section label (so repeated sections play with the same dynamics), or, without it, from
   the corpus' own mean velocity of each sound on each step (accents, backbeat over hats); either
   is scaled by the section's loudness relative to the song.

Everything here is NumPy; the VAE probabilities come from :mod:`drumgen.generation`.

Used by notebook ``step_4_generate_drum_patterns``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from drumgen import kit
from drumgen.config import ArrangementConfig
from drumgen.drummer import FILL_VOICES, DrummerModel
from drumgen.exceptions import ParameterError
from drumgen.meter import written_cells
from drumgen.metrics import BACKBEAT_STEPS
from drumgen.midi import STEPS_PER_QUARTER
from drumgen.representation import DRUM_PITCHES, N_ROWS
from drumgen.sections import Sections
from drumgen.selection import BarSelection

N_STEPS = 16
HALF_TIME_STEP = 8
CRASH_ROW = DRUM_PITCHES.index(49)
OPEN_HAT_ROW = DRUM_PITCHES.index(46)
SECTION_LOUDNESS_RANGE = (0.85, 1.1)
"""Velocity factors of the quietest and loudest section of a song."""
CONTRAST_RANGE = (2, 6)
"""Fewest and most cells by which two section labels' grooves are made to differ."""
CONTRAST_PIECES = ("kick", "hihat", "ride")
"""The pieces a contrast edit may change: the kick and the timekeeper, as a drummer changes
sections (the snare keeps its part: on the validation songs, editing it too cost 0.002 kit F1 for
0.002 Pearson; toms and crashes belong to fills and section starts, percussion to the model)."""
VARIANT_MIN_BARS = 2
"""Fewest bars a variant of a section label's groove is played in (:func:`variant_labels`); a
smaller group of bars joins the variant nearest to it."""
SHORT_FILL_START = 12
"""First step of the last beat: fills into a section the song has played before start here or
later (a one-beat fill), fills into a new section wherever the learned fill starts."""
KICK_ANCHOR_STEPS = (0, 8)
"""Steps the kick plays with the bass whether or not the bass plays there (beats 1 and 3)."""
KICK_BASS_STROKES = 4.0
"""A bar's bass onsets share this many strokes of kick target (:func:`lock_kick_to_bass`): under
a bass with 7 or more onsets in a bar, real drummers of the validation songs kick a median 4
times (mean 4.3), and 88 % of their kicks fall on bass onsets (``scripts/arranger_study.py``)."""
COLOUR_PIECES: tuple[str, ...] = (*kit.TOMS, "percussion")
"""Pieces that colour a groove rather than keep it: toms, and percussion (tambourine, shaker,
congas, cowbell ...)."""
COLOUR_THRESHOLD = 0.5
"""A piece of :data:`COLOUR_PIECES` plays in a groove only on steps whose chance exceeds this
(fills play toms as the learned fills do). Where the VAE hedges, these rows scattered congas,
bongos and low toms through the grooves. On the validation songs, 0.5 instead of the hit threshold
(0.2) for percussion gave kit F1 0.501 / 0.500, onset F1 0.320 / 0.318, drum-SSM Pearson 0.378 /
0.373 and fills elsewhere 0.031 / 0.047, for fill/crash coverage 0.594 / 0.604 (0.3, 0.4 and 0.7
lie between); for the toms it changed none of these figures."""
PULSE_PERIOD = STEPS_PER_QUARTER
"""Steps after which the timekeeper's pattern repeats (:func:`pulse_steps`): a beat."""
COMPOUND_PULSE_PERIOD = 3 * STEPS_PER_QUARTER // 2
"""The timekeeper's figure in a bar the VAE wrote in a compound meter: a dotted quarter (6 steps)."""
CONTRAST_PIVOT = 0.35
"""A piece-step with this chance is as cheap to play as to leave out: contrast edits toggle the
steps nearest to it first (of 0.2 / 0.35 / 0.5, 0.35 gave the most drum-SSM Pearson on the
validation songs for the least kit F1)."""


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
    fill_starts : np.ndarray [shape=(n_bars,), int64, steps] or None
        The step each fill starts on, -1 in bars without one; what
        :func:`drumgen.meter.fit_grid` needs to end a bar of another meter with its fill. Not
        saved with the decisions (:data:`DECISIONS`).
    """

    grid: np.ndarray
    resting: np.ndarray
    fills: np.ndarray
    crashes: np.ndarray
    fill_starts: np.ndarray | None = None


DECISIONS: tuple[str, ...] = ("resting", "fills", "crashes")
"""The per-bar decisions of an :class:`Arrangement` (its attributes besides the grid)."""


def piece_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Chance that each kit piece sounds on each step: the sum of its rows' chances, capped at 1.

    A piece's sounds exclude each other in real drums (a song's kick is 35 *or* 36), so the
    chance that the piece strikes is the sum of its rows' chances, and the sum of that over a
    bar's steps is the piece's expected number of strokes. The hi-hat's chance also counts the
    percussion that keeps time as a hi-hat does (:data:`drumgen.kit.HAT_LIKE_ROWS`: tambourine,
    maracas ...): one arranger's shaker sixteenths are another's hat sixteenths, and the VAE
    spreads the chance of that pulse over all of them (validation kit F1 0.5025 -> 0.5076).

    Parameters
    ----------
    probabilities : np.ndarray [shape=(..., 46, 16), float in [0, 1]]

    Returns
    -------
    np.ndarray [shape=(..., len(kit.PIECES), 16), float64]
    """
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    out = [np.minimum(p[..., rows, :].sum(axis=-2), 1.0) for rows in _CHANCE_ROWS]
    return np.stack(out, axis=-2)


_CHANCE_ROWS: tuple[list[int], ...] = tuple(
    list(kit.piece_rows(piece)) + (list(kit.HAT_LIKE_ROWS) if piece == "hihat" else [])
    for piece in kit.PIECES
)
"""The rows whose chances add up to each piece's (:func:`piece_probabilities`), in
:data:`drumgen.kit.PIECES` order."""


def lock_kick_to_bass(
    probabilities: np.ndarray,
    bass_onsets: np.ndarray,
    *,
    weight: float,
    kick_row: int | None = None,
    written_steps: np.ndarray | None = None,
) -> np.ndarray:
    """The kick's chances pulled toward the bass line, as a drummer's kick locks with the bass.

    Per bar and step, the kick's chance (:func:`piece_probabilities`) becomes
    ``(1 - weight) x chance + weight x target``. The target is 1 on :data:`KICK_ANCHOR_STEPS`;
    on a step where the bass part has a note onset it is ``min(1, KICK_BASS_STROKES / n)``, ``n``
    being the bar's bass onsets, so a sparse bass line is doubled by the kick and a busy one (8th
    notes) offers its onsets for the model to choose from; elsewhere 0. The kick rows keep their
    shares of the chance (where the model gives the kick none, it goes to the song's likeliest kick
    row). On the validation songs a kick on the bass onsets plus beats 1 and 3 alone scored kick
    F1 0.570 against the real kicks, the VAE's kick 0.522 (threshold 0.3), the most common bar's
    0.524 (``scripts/arranger_study.py``).

    Parameters
    ----------
    probabilities : np.ndarray [shape=(n_bars, 46, 16), float in [0, 1]]
    bass_onsets : np.ndarray [shape=(n_bars, 16), counts]
        The bass part's note onsets per step (row ``bass`` of step 1's part onsets, on 16 cells).
    weight : float in [0, 1]
        0: the model's kick unchanged; 1: the kick plays exactly the target.
    kick_row : int, optional
        The song's kick row, which takes the chance where the model gives the kick none; default:
        the likeliest kick row over the song (:func:`choose_kit`).
    written_steps : np.ndarray [shape=(n_bars,), int], optional
        Each bar's written length (:func:`arrange`); a bar written shorter than 16 steps anchors
        the kick on its downbeat only, and nothing past its end. Default: every bar 16.

    Returns
    -------
    np.ndarray [shape=(n_bars, 46, 16), float64]
    """
    p = np.array(probabilities, dtype=np.float64)
    bass = np.asarray(bass_onsets)
    if bass.shape != (len(p), N_STEPS):
        raise ParameterError(f"bass_onsets must have shape ({len(p)}, {N_STEPS}), got {bass.shape}")
    rows = list(kit.piece_rows("kick"))
    kick = np.clip(p[:, rows], 0.0, 1.0)  # (n_bars, n_kick_rows, 16)
    total = kick.sum(axis=1)
    onsets = (bass > 0).astype(np.float64)
    target = onsets * np.minimum(1.0, KICK_BASS_STROKES / np.maximum(onsets.sum(axis=1, keepdims=True), 1.0))
    lengths = np.full(len(p), N_STEPS) if written_steps is None else np.asarray(written_steps)
    anchors = np.zeros((len(p), N_STEPS), dtype=bool)
    anchors[:, 0] = True
    anchors[np.ix_(lengths == N_STEPS, list(KICK_ANCHOR_STEPS))] = True
    target[anchors] = 1.0
    target[np.arange(N_STEPS)[None, :] >= lengths[:, None]] = 0.0
    chance = (1.0 - weight) * np.minimum(total, 1.0) + weight * target
    kick_row = choose_kit(p).rows["kick"] if kick_row is None else kick_row
    song_row = (np.array(rows) == kick_row).astype(np.float64)
    share = np.where(total[:, None] > 0, kick / np.maximum(total, 1e-12)[:, None], song_row[None, :, None])
    p[:, rows] = share * chance[:, None]
    return p


@dataclass(frozen=True)
class KitChoice:
    """The sounds a groove is written with: one grid row per kit piece and one timekeeper.

    Attributes
    ----------
    rows : dict of str to int
        Grid row of each kit piece but percussion (e.g. ``{"kick": row of 36, ...}``).
    timekeeper : str
        "hihat" or "ride" (:data:`drumgen.kit.TIMEKEEPERS`).
    """

    rows: dict[str, int]
    timekeeper: str


def choose_kit(probabilities: np.ndarray) -> KitChoice:
    """The most probable row of each kit piece and the likelier timekeeper.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(..., 46, 16), float in [0, 1]]
        Any number of bars; their chances are summed.
    """
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1, N_ROWS, N_STEPS).sum(axis=(0, 2))
    rows = {}
    for piece in kit.PIECES:
        if piece != "percussion":
            piece_rows = list(kit.piece_rows(piece))
            if piece == "hihat":  # the open hat is an accent of the hi-hat, not its main sound
                piece_rows.remove(OPEN_HAT_ROW)
            rows[piece] = piece_rows[int(np.argmax(p[piece_rows]))]
    keeper_sums = {piece: p[list(kit.piece_rows(piece))].sum() for piece in kit.TIMEKEEPERS}
    return KitChoice(rows=rows, timekeeper=max(kit.TIMEKEEPERS, key=lambda piece: keeper_sums[piece]))


def decode_groove(
    probabilities: np.ndarray,
    *,
    hit_threshold: float,
    keeper_threshold: float,
    snare_threshold: float | None = None,
    delta: int = 0,
    choice: KitChoice | None = None,
    n_steps: int = N_STEPS,
    compound: bool = False,
) -> np.ndarray:
    """One playable bar from 46 x 16 probabilities, piece by piece.

    Each kit piece (:func:`piece_probabilities`) strikes on its most probable steps: every step
    whose chance exceeds 0.5, and besides those the likeliest steps above ``hit_threshold`` until
    the piece has its expected number of strokes (the sum of its chances, rounded up), so diffuse
    chances (a kick at 0.3 on every eighth) give a few strokes, not one on every candidate step.
    The timekeeper is an ostinato, not a count: it plays the same strokes on every beat, each
    position of the beat whose chance averaged over the bar's beats exceeds ``keeper_threshold``
    (:func:`pulse_steps`; chances of 0.9 on the eighths and 0.4 on the sixteenths between are a
    sixteenth-note hat, not eighths plus two sixteenths wherever the chances happen to be highest).
    Each piece sounds with one GM pitch (``choice``, by default :func:`choose_kit` of this bar),
    except that the hi-hat opens on a step where the open hat is likelier than the closed one
    (however unsure both are: with the song-context VAE a floor of 0.5 on the open hat's chance,
    best for the earlier VAEs, left 0.06 % of the validation songs' hi-hat strokes open, against
    the real drums' 16 %; ``scripts/open_hat_study.py`` and the README's "Playable kit");
    only the chosen timekeeper (hi-hat or ride) plays; crashes are left to the arranger (section
    starts); percussion rows decode one by one; toms and percussion play only above
    :data:`COLOUR_THRESHOLD`. ``delta`` > 0 adds the next most probable piece-steps (denser), < 0
    drops the least probable ones. The backbeat is kept: if the snare plays at all, or the groove
    is not in half time, it strikes on steps 4 and 12 (or on 8 alone when the model hears half
    time), and the kick plays the downbeat. A bar the model wrote in another meter, in its first
    ``n_steps`` cells (a waltz's 12), keeps no 4/4 backbeat (only the downbeat kick), its pulse is
    averaged over its own beats, and nothing strikes past its end.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(46, 16), float in [0, 1]]
    hit_threshold : float
    keeper_threshold : float
        The timekeeper's threshold (no stroke count, :func:`pulse_steps`).
    snare_threshold : float, optional
        The snare's threshold instead of ``hit_threshold`` (if higher) in a 16-step bar, whose
        backbeat is kept whatever it is. A bar written shorter keeps no backbeat, and its snare
        reads ``hit_threshold`` (on 73 held-out songs in other meters, 0.3 there cost snare F1
        0.366 -> 0.310 and kit F1 0.352 -> 0.344; ``scripts/meter_writing_study.py``).
    delta : int
    choice : KitChoice, optional
        The pitches and timekeeper to write (e.g. chosen once per song or section).
    n_steps : int
        The bar's written length in steps (16 for a 4/4 bar; at most 16).
    compound : bool
        Whether the bar is written in a compound meter: the timekeeper's figure then repeats every
        dotted quarter (:data:`COMPOUND_PULSE_PERIOD`).

    Returns
    -------
    np.ndarray [shape=(46, 16), bool]
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.shape != (N_ROWS, N_STEPS):
        raise ParameterError(f"probabilities must have shape (46, 16), got {p.shape}")
    if not 1 <= n_steps <= N_STEPS:
        raise ParameterError(f"n_steps must be in 1..{N_STEPS}, got {n_steps}")
    choice = choice or choose_kit(p)
    pieces = piece_probabilities(p)
    skipped = {"crash"} | (set(kit.TIMEKEEPERS) - {choice.timekeeper})

    chosen: list[tuple[float, int, int]] = []  # (chance, row, step) of the strokes played
    spare: list[tuple[float, int, int]] = []  # the other candidates, for delta > 0
    for piece_idx, piece in enumerate(kit.PIECES):
        if piece in skipped:
            continue
        if piece == "percussion":
            threshold = max(hit_threshold, COLOUR_THRESHOLD)
            for row in kit.piece_rows(piece):
                _pick_steps(p[row], [row] * N_STEPS, threshold, chosen, spare)
            continue
        main_row = choice.rows[piece]
        rows = [main_row] * N_STEPS
        if piece == "hihat":
            opens = p[OPEN_HAT_ROW] > p[main_row]  # the VAE's likelier hi-hat sound on the step
            rows = [OPEN_HAT_ROW if opens[step] else main_row for step in range(N_STEPS)]
        if piece in kit.TIMEKEEPERS:  # a steady pulse, not a count
            period = COMPOUND_PULSE_PERIOD if compound else PULSE_PERIOD
            pulse = pulse_steps(pieces[piece_idx], keeper_threshold, n_steps=n_steps, period=period)
            for step in range(N_STEPS):
                (chosen if pulse[step] else spare).append((float(pieces[piece_idx, step]), rows[step], step))
            continue
        threshold = max(hit_threshold, COLOUR_THRESHOLD) if piece in COLOUR_PIECES else hit_threshold
        if piece == "snare" and snare_threshold is not None and n_steps == N_STEPS:
            threshold = max(threshold, snare_threshold)
        _pick_steps(pieces[piece_idx], rows, threshold, chosen, spare)
    if delta < 0:
        chosen = sorted(chosen, key=lambda item: -item[0])[: max(len(chosen) + delta, 0)]
    elif delta > 0:
        chosen += sorted(spare, key=lambda item: -item[0])[:delta]
    hits = np.zeros((N_ROWS, N_STEPS), dtype=bool)
    for _, row, step in chosen:
        hits[row, step] = True
    hits[:, n_steps:] = False
    if hits.any():
        _keep_backbeat(
            hits,
            pieces,
            snare_row=choice.rows["snare"],
            kick_row=choice.rows["kick"],
            snare=n_steps == N_STEPS,
        )
    return hits


def pulse_steps(
    chances: np.ndarray, threshold: float, *, n_steps: int = N_STEPS, period: int = PULSE_PERIOD
) -> np.ndarray:
    """The timekeeper's steps: the same strokes in every ``period`` steps of the bar (a beat:
    :data:`PULSE_PERIOD`, or :data:`COMPOUND_PULSE_PERIOD` in a bar written in a compound meter).

    A position of the period (e.g. the second sixteenth of a beat) is struck wherever its chance
    averaged over the bar's periods exceeds ``threshold``; of all patterns that repeat every
    period, this one has the largest summed ``chance - threshold``. A beat's figure (period 4) is
    one a drummer plays (:func:`_playable_beat_figure`): no "e" or "a" without the "and".

    Parameters
    ----------
    chances : np.ndarray [shape=(16,), float in [0, 1]]
        The timekeeper's chance per step (:func:`piece_probabilities`).
    threshold : float
    n_steps : int
        The bar's written length: the average runs over its whole periods only (a waltz's three
        beats, not the empty fourth), and no step past it strikes.
    period : int
        Steps of the repeated figure: a quarter note (4), or a dotted quarter (6) in 6/8, whose
        eighths a quarter-note figure would cut across.

    Returns
    -------
    np.ndarray [shape=(16,), bool]
    """
    periods = max(n_steps // period, 1)
    chances = np.asarray(chances, dtype=np.float64)
    per_position = chances[: periods * period].reshape(-1, period).mean(axis=0)
    if period == PULSE_PERIOD:
        figure = _playable_beat_figure(per_position - threshold)
    else:
        figure = per_position > threshold
    pulse = np.tile(figure, -(-N_STEPS // period))[:N_STEPS]
    pulse[n_steps:] = False
    return pulse


_ALL_BEAT_FIGURES = np.array(
    [[(bits >> position) & 1 for position in range(PULSE_PERIOD)] for bits in range(2**PULSE_PERIOD)],
    dtype=bool,
)
PLAYABLE_BEAT_FIGURES = _ALL_BEAT_FIGURES[
    ~((_ALL_BEAT_FIGURES[:, 1] | _ALL_BEAT_FIGURES[:, 3]) & ~_ALL_BEAT_FIGURES[:, 2])
]
"""The timekeeper figures of one beat a drummer plays [shape=(n, 4), bool], silence first: the "e"
or the "a" (the beat's 2nd or 4th sixteenth) only together with the "and" (its 3rd)."""


def _playable_beat_figure(gains: np.ndarray) -> np.ndarray:
    """The figure of :data:`PLAYABLE_BEAT_FIGURES` [shape=(4,), bool] with the largest summed
    ``gains`` (chance - threshold per sixteenth of the beat); silence unless one gains more than 0.
    A figure like "xx.x" is the VAE hedging over a swung off-beat, which the straight grid puts on
    the 4th sixteenth; drumgen writes off-beats on the 3rd and swings them in step 5."""
    return PLAYABLE_BEAT_FIGURES[int(np.argmax(PLAYABLE_BEAT_FIGURES @ gains))].copy()


def _pick_steps(
    chances: np.ndarray,
    rows: list[int],
    hit_threshold: float,
    chosen: list[tuple[float, int, int]],
    spare: list[tuple[float, int, int]],
) -> None:
    """One piece's strokes (see :func:`decode_groove`): its likeliest steps above the threshold,
    at most its expected number of strokes, appended to ``chosen``; the rest to ``spare``."""
    order = np.argsort(-chances, kind="stable")
    n_expected = max(int(np.ceil(chances.sum())), int((chances > 0.5).sum()))
    n_taken = 0
    for step in order:
        item = (float(chances[step]), rows[step], int(step))
        if chances[step] > hit_threshold and n_taken < n_expected:
            chosen.append(item)
            n_taken += 1
        else:
            spare.append(item)


def _keep_backbeat(
    hits: np.ndarray, pieces: np.ndarray, *, snare_row: int, kick_row: int, snare: bool = True
) -> None:
    """Snare on 2 and 4 (or 3 in half time; not with ``snare`` False) and kick on 1, in place."""
    snare_chances = pieces[kit.PIECES.index("snare")]
    snare_rows = list(kit.piece_rows("snare"))
    half_time = (
        snare_chances[HALF_TIME_STEP] > max(snare_chances[list(BACKBEAT_STEPS)])
        and hits[snare_rows, HALF_TIME_STEP].any()
    )
    if snare and not half_time:
        for step in BACKBEAT_STEPS:
            if not hits[snare_rows, step].any():
                hits[snare_row, step] = True
    if not hits[list(kit.piece_rows("kick")), 0].any():
        hits[kick_row, 0] = True


def _rests(chance: np.ndarray, *, threshold: float, max_share: float) -> np.ndarray:
    """Bars to leave empty: those whose rest chance exceeds ``threshold``, at most
    ``floor(max_share x n_bars)`` of them (the likeliest rests, ties to the earlier bar).

    Parameters
    ----------
    chance : np.ndarray [shape=(n_bars,), float in [0, 1]]
        Each bar's (section-smoothed) chance that a real drummer rests there.

    Returns
    -------
    np.ndarray [shape=(n_bars,), bool]
    """
    resting = chance > threshold
    cap = int(np.floor(max_share * len(chance)))
    if resting.sum() > cap:
        resting = np.zeros(len(chance), dtype=bool)
        resting[np.argsort(-chance, kind="stable")[:cap]] = True
    return resting


def _pooled(probabilities: np.ndarray, bar_idx: np.ndarray) -> np.ndarray:
    return probabilities[bar_idx].mean(axis=0)


def neighbourhood_probabilities(probabilities: np.ndarray, selection: BarSelection) -> np.ndarray:
    """Each bar's chances averaged with its step-3 neighbours': the bar weighs 1, a neighbour its
    selection weight (``1 - distance``).

    The VAE hears every bar with its own noise; averaged over the bars the drum SSM calls alike,
    a bar's own chances differ from its section's where the song differs, not at random.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(n_bars, 46, 16), float]
    selection : BarSelection
        Each bar's neighbours and weights (:func:`drumgen.selection.select_neighbors`).

    Returns
    -------
    np.ndarray [shape=(n_bars, 46, 16), float64]
    """
    p = np.asarray(probabilities, dtype=np.float64)
    idx = np.asarray(selection.neighbor_idx)
    weights = np.asarray(selection.neighbor_weights, dtype=np.float64)
    if idx.shape[0] != len(p):
        raise ParameterError(f"selection has {idx.shape[0]} bars, the probabilities {len(p)}")
    total = p + np.einsum("bk,bkrs->brs", weights, p[idx])
    return total / (1.0 + weights.sum(axis=1))[:, None, None]


def variant_labels(labels: np.ndarray, ssm: np.ndarray, *, max_distance: float) -> np.ndarray:
    """Section labels split into variants: the bars of one label that the drum SSM hears apart.

    The bars of each label are clustered by their SSM distances (average linkage, cut at
    ``max_distance``); a cluster of fewer than :data:`VARIANT_MIN_BARS` bars joins the cluster it
    is nearest to on average. Each variant then gets its own groove, made to differ from the other
    variants as labels are (``contrast``), so the drums realise the SSM's structure inside a section
    as well as between sections.

    Parameters
    ----------
    labels : np.ndarray [shape=(n_bars,), int]
        Each bar's section label (:meth:`drumgen.sections.Sections.bar_label_idx`).
    ssm : np.ndarray [shape=(n_bars, n_bars), float, distances]
        The predicted drum SSM.
    max_distance : float
        Clusters closer than this (mean distance between their bars) are one variant; >= 1 keeps
        every label whole.

    Returns
    -------
    np.ndarray [shape=(n_bars,), int64]
        Variant ids numbered in order of first appearance; bars of different labels never share one.
    """
    labels = np.asarray(labels)
    distances = np.asarray(ssm, dtype=np.float64)
    variants = np.zeros(len(labels), dtype=np.int64)
    next_id = 0
    for label in _in_order_of_appearance(labels):
        bars = np.flatnonzero(labels == label)
        clusters = np.ones(len(bars), dtype=np.int64)
        if len(bars) >= 2 * VARIANT_MIN_BARS:
            within = distances[np.ix_(bars, bars)]
            within = (within + within.T) / 2.0
            np.fill_diagonal(within, 0.0)
            tree = linkage(squareform(within, checks=False), "average")
            clusters = fcluster(tree, max_distance, "distance")
            sizes = np.bincount(clusters)
            big = [c for c in np.unique(clusters) if sizes[c] >= VARIANT_MIN_BARS]
            if not big:  # no two bars alike enough: the label stays one groove
                clusters[:] = 1
            else:
                for cluster in [c for c in np.unique(clusters) if sizes[c] < VARIANT_MIN_BARS]:
                    members = clusters == cluster
                    clusters[members] = min(big, key=lambda c: within[np.ix_(members, clusters == c)].mean())
        for cluster in _in_order_of_appearance(clusters):
            variants[bars[clusters == cluster]] = next_id
            next_id += 1
    return variants


def contrast_edits(
    groove: np.ndarray,
    probabilities: np.ndarray,
    earlier: list[np.ndarray],
    targets: list[int],
    *,
    choice: KitChoice,
    period: int = PULSE_PERIOD,
    n_steps: int = N_STEPS,
) -> list[tuple[int, int, bool]]:
    """Cells to toggle so that a section label's groove differs from each earlier label's groove
    in at least its target number of cells, all within the groove's first ``n_steps`` steps.

    Candidates (:data:`CONTRAST_PIECES`) are the steps of the kick, never its downbeat, and of the
    chosen timekeeper, never its strokes on a beat (every ``period`` steps: so its pulse stays; a
    groove without the timekeeper gets no lone strokes of it), cheapest first: a step to add costs
    ``CONTRAST_PIVOT - chance``, a step to drop ``chance - CONTRAST_PIVOT``. Without those two
    guards, a label heard like several earlier ones lost its hats stroke by stroke, down to a lone
    sixteenth (on the validation songs the guards leave kit F1 at 0.511). Toggling a pulse
    position on every beat at once keeps the pulse steadier still but cost kit F1 (validation
    0.507; on the test split, with ``variation`` 0.7, 0.477 against 0.481) and drum-SSM Pearson
    (test 0.353 against 0.367).

    Parameters
    ----------
    groove : np.ndarray [shape=(46, 16), bool]
        The label's groove (:func:`decode_groove` of its pooled chances).
    probabilities : np.ndarray [shape=(46, 16), float]
        The label's pooled chances.
    earlier : list of np.ndarray [shape=(46, 16), bool]
        The (edited) grooves of the labels before it.
    targets : list of int
        Cells by which the groove must differ from each of ``earlier``.
    choice : KitChoice
        The rows the label is written with.
    period : int
        Steps of the timekeeper's figure (:func:`pulse_steps`).
    n_steps : int
        The groove's written length (a waltz's 12): no step past it is toggled.

    Returns
    -------
    list of (row, step, add)
        In the order applied; empty when the groove already differs enough.
    """
    pieces = piece_probabilities(probabilities)
    candidates: list[tuple[float, int, int, bool]] = []  # (cost, row, step, add)
    for piece_idx, piece in enumerate(kit.PIECES):
        if piece not in CONTRAST_PIECES or (piece in kit.TIMEKEEPERS and piece != choice.timekeeper):
            continue
        piece_rows = list(kit.piece_rows(piece))
        keeper = piece in kit.TIMEKEEPERS
        if keeper and not groove[piece_rows].any():
            continue  # no lone strokes of a timekeeper the groove does not play
        for step in range(n_steps):
            sounding = [row for row in piece_rows if groove[row, step]]
            protected = step % period == 0 if keeper else step == 0
            chance = float(pieces[piece_idx, step])
            if sounding and not protected:
                candidates.append((chance - CONTRAST_PIVOT, sounding[0], step, False))
            elif not sounding:
                candidates.append((CONTRAST_PIVOT - chance, choice.rows[piece], step, True))
    candidates.sort(key=lambda item: item[0])
    edited = groove.copy()
    edits: list[tuple[int, int, bool]] = []
    for _, row, step, add in candidates:
        pairs = zip(earlier, targets, strict=True)
        if all(int((edited != other).sum()) >= target for other, target in pairs):
            break
        edited[row, step] = add
        edits.append((row, step, add))
    return edits


def _apply_edits(hits: np.ndarray, edits: list[tuple[int, int, bool]]) -> None:
    """Toggle cells in bars [shape=(n, 46, 16), bool], in place; an add skips a bar where another
    row of the same piece already sounds on that step (no layered sounds), a drop silences the piece."""
    for row, step, add in edits:
        piece_rows = next(list(rows) for rows in kit.PIECE_ROWS.values() if row in rows)
        if add:
            free = ~hits[:, piece_rows, step].any(axis=1)
            hits[free, row, step] = True
        else:
            hits[:, piece_rows, step] = False


def _fill(
    groove: np.ndarray,
    drummer: DrummerModel,
    choice: KitChoice,
    rng: np.random.Generator,
    *,
    earliest: int = 0,
) -> tuple[np.ndarray, int]:
    """The groove bar with its last beats replaced by a fill (:func:`_drawn_fill`), and the step
    the fill starts on."""
    start, voices = _drawn_fill(drummer, rng, earliest=earliest)
    bar = groove.copy()
    bar[:, start:] = False
    for step, voice in zip(range(start, N_STEPS), voices, strict=True):
        if voice != "rest":
            bar[choice.rows[voice], step] = True
    return bar, start


def _drawn_fill(drummer: DrummerModel, rng: np.random.Generator, *, earliest: int) -> tuple[int, list[str]]:
    """A fill's first step and its voice (of :data:`FILL_VOICES`) on each step from there on.

    The fill is one of the drummer model's fill library (:attr:`DrummerModel.fill_patterns`) that
    starts on ``earliest`` or later, drawn with the odds the training songs played it. A model
    without a library (formats 1-4), or without a fill that late, draws a start step from
    ``earliest`` on (or the last one if none is that late) and each step's voice from its fill
    table."""
    if drummer.fill_patterns is not None and drummer.fill_pattern_counts is not None:
        patterns = np.asarray(drummer.fill_patterns)
        pattern_starts = (patterns < 0).sum(axis=1)
        odds = np.where(pattern_starts >= earliest, drummer.fill_pattern_counts, 0).astype(np.float64)
        if odds.sum() > 0:
            chosen = int(rng.choice(len(patterns), p=odds / odds.sum()))
            start = int(pattern_starts[chosen])
            return start, [FILL_VOICES[int(voice)] for voice in patterns[chosen, start:]]
    starts = np.asarray(drummer.fill_starts)
    odds = np.where(starts >= earliest, np.asarray(drummer.fill_start_probs, dtype=np.float64), 0.0)
    start = int(rng.choice(starts, p=odds / odds.sum())) if odds.sum() > 0 else int(starts.max())
    voices = [
        FILL_VOICES[int(rng.choice(len(FILL_VOICES), p=drummer.fill_table[step]))]
        for step in range(start, N_STEPS)
    ]
    return start, voices


def arrange(
    probabilities: np.ndarray,
    sections: Sections,
    *,
    drummer: DrummerModel,
    settings: ArrangementConfig,
    rest_chance: np.ndarray | None = None,
    bar_loudness: np.ndarray | None = None,
    vae_velocity: np.ndarray | None = None,
    selection: BarSelection | None = None,
    ssm: np.ndarray | None = None,
    bass_onsets: np.ndarray | None = None,
    sounds: dict[str, int] | None = None,
    delta: int = 0,
    written_steps: np.ndarray | None = None,
    written_compound: np.ndarray | None = None,
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
        Velocity table and fill library (:mod:`drumgen.drummer`).
    settings : ArrangementConfig
    rest_chance : np.ndarray [shape=(n_bars,), float in [0, 1]], optional
        Chance that a real drummer rests in each bar (:meth:`DrummerModel.rest_chance`); None: play
        every bar.
    bar_loudness : np.ndarray [shape=(n_bars,), float], optional
        Loudness of the accompaniment per bar (any monotonic scale, e.g. the mean CQT level); sets
        the section dynamics. None: all sections equally loud.
    vae_velocity : np.ndarray [shape=(n_bars, 46, 16), float, MIDI velocity], optional
        The drum VAE's predicted velocities (:class:`drumgen.model.generate.BarPredictions`). Each
        hit gets the mean of its row and step over the bars sharing its section label, times the
        section loudness factor. None: the drummer model's velocity table.
    selection : BarSelection, optional
        Step 3's neighbours: a bar's own chances (for ``variation``) are averaged over them
        (:func:`neighbourhood_probabilities`). None: each bar's own chances alone.
    ssm : np.ndarray [shape=(n_bars, n_bars), float, distances], optional
        The drum SSM that chose the neighbours (the predicted one): how far apart two section
        labels are, for ``settings.contrast``. None: no contrast edits.
    bass_onsets : np.ndarray [shape=(n_bars, 16), counts], optional
        The bass part's note onsets: the kick locks with them (``settings.bass_lock``,
        :func:`lock_kick_to_bass`). None: the model's kick as it is.
    sounds : dict of str to int, optional
        The GM pitch some kit pieces are written with in this song (e.g. ``{"kick": 35, "snare":
        40}``, :meth:`DrummerModel.kit_sounds`); the other pieces, or all without it, sound with
        their most probable row over the song (:func:`choose_kit`).
    delta : int
        Density offset: piece-steps added (or, negative, dropped) per groove bar.
    written_steps : np.ndarray [shape=(n_bars,), int, steps], optional
        The length the VAE wrote each bar in (:meth:`drumgen.meter.SongMeter.written_steps`): a
        bar written shorter than 16 steps (a waltz's) keeps no 4/4 backbeat. None: all 16.
    written_compound : np.ndarray [shape=(n_bars,), bool], optional
        Which bars the VAE wrote in a compound meter (6/8): their timekeeper repeats every dotted
        quarter. None: none.
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
    written = _per_bar(written_steps, n_bars, "written_steps", default=N_STEPS, dtype=np.int64)
    compound = _per_bar(written_compound, n_bars, "written_compound", default=False, dtype=bool)
    if ssm is not None and np.shape(ssm) != (n_bars, n_bars):
        raise ParameterError(f"ssm must have shape ({n_bars}, {n_bars}), got {np.shape(ssm)}")
    if vae_velocity is not None and np.shape(vae_velocity) != p.shape:
        raise ParameterError(
            f"vae_velocity must have shape {p.shape} like the probabilities, got {np.shape(vae_velocity)}"
        )

    # 0. one pitch per kit piece for the whole song, and the kick locked with the bass
    song_kit = choose_kit(p)
    if sounds:
        song_kit = KitChoice(rows={**song_kit.rows, **_sound_rows(sounds)}, timekeeper=song_kit.timekeeper)
    if bass_onsets is not None and settings.bass_lock > 0:
        p = lock_kick_to_bass(
            p, bass_onsets, weight=settings.bass_lock, kick_row=song_kit.rows["kick"], written_steps=written
        )
    # 1-3. one groove per section label, its variants, contrast between labels
    own = p if selection is None else neighbourhood_probabilities(p, selection)
    hits = _section_grooves(
        p, own, sections, song_kit, settings, ssm=ssm, delta=delta, written=written, compound=compound
    )

    # 5. laying out (before the fills: a resting bar gets no fill, and the next no crash)
    resting = np.zeros(n_bars, dtype=bool)
    if rest_chance is not None and not settings.play_always:
        chance = np.asarray(rest_chance, dtype=np.float64)
        smoothed = 0.5 * chance + 0.5 * _section_means(chance, sections)[sections.bar_section()]
        resting = _rests(smoothed, threshold=settings.layout_threshold, max_share=settings.max_rest_share)
    hits[resting] = False

    # 4. fills and crashes at the section changes
    fills, fill_starts, crashes = _mark_changes(hits, sections, resting, drummer, song_kit, settings, rng)

    # 6. dynamics
    pooled_velocity = None if vae_velocity is None else _label_means(vae_velocity, sections.bar_label_idx())
    loudness = _section_loudness(bar_loudness, sections)
    grid = velocities(hits, drummer=drummer, loudness=loudness, base=pooled_velocity)
    return Arrangement(grid=grid, resting=resting, fills=fills, crashes=crashes, fill_starts=fill_starts)


def _per_bar(
    values: np.ndarray | None, n_bars: int, name: str, *, default: object, dtype: type
) -> np.ndarray:
    """``values`` as an array of shape (n_bars,), or ``default`` in every bar when None."""
    if values is None:
        return np.full(n_bars, default, dtype=dtype)
    out: np.ndarray = np.asarray(values, dtype=dtype)
    if out.shape != (n_bars,):
        raise ParameterError(f"{name} must have shape ({n_bars},), got {out.shape}")
    return out


def _section_grooves(
    p: np.ndarray,
    own: np.ndarray,
    sections: Sections,
    song_kit: KitChoice,
    settings: ArrangementConfig,
    *,
    ssm: np.ndarray | None,
    delta: int,
    written: np.ndarray,
    compound: np.ndarray,
) -> np.ndarray:
    """Every bar's groove (steps 1-3 of the module docstring) -> hits [shape=(n_bars, 46, 16), bool].

    ``written`` [shape=(n_bars,), int, steps] and ``compound`` [shape=(n_bars,), bool] say how
    the VAE wrote each bar (:func:`arrange`).

    Each variant of a section label (:func:`variant_labels`) pools its bars' chances ``p`` (and
    its odd bars' apart, for two-bar phrases); each bar decodes that pool blended with its own
    chances ``own`` by ``settings.variation``, with its label's timekeeper. With ``ssm``, a
    variant whose groove comes out too like an earlier one's is edited in all its bars
    (:func:`contrast_edits`)."""
    labels = sections.bar_label_idx()
    positions = sections.position_in_section()
    decode = partial(
        decode_groove,
        hit_threshold=settings.hit_threshold,
        keeper_threshold=settings.keeper_threshold,
        snare_threshold=settings.snare_threshold,
        delta=delta,
    )
    hits = np.zeros(p.shape, dtype=bool)
    timekeepers = {
        label: choose_kit(_pooled(p, np.flatnonzero(labels == label))).timekeeper
        for label in _in_order_of_appearance(labels)
    }
    variants = labels
    if ssm is not None and settings.variant_distance < 1.0:
        variants = variant_labels(labels, ssm, max_distance=settings.variant_distance)
    earlier: list[tuple[np.ndarray, np.ndarray]] = []  # (bars, edited groove) of each variant so far
    for variant in _in_order_of_appearance(variants):
        variant_bars = np.flatnonzero(variants == variant)
        pooled = _pooled(p, variant_bars)
        odd = variant_bars[positions[variant_bars] % 2 == 1]
        pooled_odd = 0.5 * pooled + 0.5 * _pooled(p, odd) if len(odd) else pooled
        section_kit = KitChoice(rows=song_kit.rows, timekeeper=timekeepers[int(labels[variant_bars[0]])])
        for bar in variant_bars:
            base = pooled_odd if positions[bar] % 2 == 1 else pooled
            mixed = (1.0 - settings.variation) * base + settings.variation * own[bar]
            hits[bar] = decode(
                mixed, choice=section_kit, n_steps=int(written[bar]), compound=bool(compound[bar])
            )
        if ssm is not None and settings.contrast > 0:
            groove_compound = bool(compound[variant_bars].mean() > 0.5)
            groove_steps = int(np.bincount(written[variant_bars]).argmax())  # most of its bars' length
            groove = decode(pooled, choice=section_kit, n_steps=groove_steps, compound=groove_compound)
            targets = [_contrast_target(ssm, variant_bars, other, settings.contrast) for other, _ in earlier]
            edits = contrast_edits(
                groove,
                pooled,
                [g for _, g in earlier],
                targets,
                choice=section_kit,
                period=COMPOUND_PULSE_PERIOD if groove_compound else PULSE_PERIOD,
                n_steps=groove_steps,
            )
            variant_hits = hits[variant_bars]
            _apply_edits(variant_hits, edits)
            # a bar shorter than the groove keeps nothing past its own end
            variant_hits &= written_cells(written[variant_bars])
            hits[variant_bars] = variant_hits
            for row, step, add in edits:
                groove[row, step] = add
            earlier.append((variant_bars, groove))
    return hits


def _mark_changes(
    hits: np.ndarray,
    sections: Sections,
    resting: np.ndarray,
    drummer: DrummerModel,
    song_kit: KitChoice,
    settings: ArrangementConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fills before and crashes on the section changes (step 4 of the module docstring), written
    into ``hits`` [shape=(n_bars, 46, 16), bool] in place.

    Returns
    -------
    fills : np.ndarray [shape=(n_bars,), bool]
    fill_starts : np.ndarray [shape=(n_bars,), int64, steps]
        -1 in bars without a fill.
    crashes : np.ndarray [shape=(n_bars,), bool]
    """
    n_bars = len(hits)
    labels = sections.bar_label_idx()
    fills = np.zeros(n_bars, dtype=bool)
    fill_starts = np.full(n_bars, -1, dtype=np.int64)
    crashes = np.zeros(n_bars, dtype=bool)
    if settings.fills <= 0:
        return fills, fill_starts, crashes
    for change in sections.changes:
        before, after = int(change) - 1, int(change)
        if not resting[before] and hits[before].any() and rng.random() < settings.fills:
            into_new = labels[after] not in labels[:after]
            hits[before], fill_starts[before] = _fill(
                hits[before], drummer, song_kit, rng, earliest=0 if into_new else SHORT_FILL_START
            )
            fills[before] = True
        if not resting[after]:
            hits[after, CRASH_ROW, 0] = True
            if not hits[after, list(kit.piece_rows("kick")), 0].any():
                hits[after, song_kit.rows["kick"], 0] = True
            crashes[after] = True
    return fills, fill_starts, crashes


def _label_means(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-bar values [shape=(n_bars, ...)] replaced by their mean over the bars of each label."""
    values = np.asarray(values, dtype=np.float64)
    means = np.empty_like(values)
    for label in np.unique(labels):
        label_bars = np.flatnonzero(labels == label)
        means[label_bars] = _pooled(values, label_bars)
    return means


def _sound_rows(sounds: dict[str, int]) -> dict[str, int]:
    """Grid rows of ``{piece: GM pitch}``, each pitch checked to be one of the piece's."""
    rows = {}
    for piece, pitch in sounds.items():
        if pitch not in kit.PIECE_PITCHES.get(piece, ()):  # percussion has no pitches of its own
            raise ParameterError(f"sounds: GM pitch {pitch} is not a sound of the kit piece {piece!r}")
        rows[piece] = DRUM_PITCHES.index(pitch)
    return rows


def _in_order_of_appearance(labels: np.ndarray) -> list[int]:
    """The distinct labels of [shape=(n_bars,)] in the order the song first plays them."""
    _, first = np.unique(labels, return_index=True)
    return [int(labels[i]) for i in sorted(first)]


def _contrast_target(ssm: np.ndarray, bars: np.ndarray, other_bars: np.ndarray, contrast: float) -> int:
    """Cells by which two labels' grooves should differ: ``contrast`` x their mean SSM distance,
    within :data:`CONTRAST_RANGE`."""
    distance = float(np.asarray(ssm, dtype=np.float64)[np.ix_(bars, other_bars)].mean())
    low, high = CONTRAST_RANGE
    return int(min(high, max(low, round(contrast * distance))))


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


def velocities(
    hits: np.ndarray, *, drummer: DrummerModel, loudness: np.ndarray, base: np.ndarray | None = None
) -> np.ndarray:
    """Velocity grid: each hit's base velocity times the bar's loudness.

    Parameters
    ----------
    hits : np.ndarray [shape=(n_bars, 46, 16), bool]
    drummer : DrummerModel
        Without ``base``, its table (the corpus' mean velocity of each row on each step) is the
        base of every bar.
    loudness : np.ndarray [shape=(n_bars,), float]
        Velocity factor per bar.
    base : np.ndarray [shape=(n_bars, 46, 16), float, MIDI velocity], optional
        Each bar's own base velocities (e.g. the VAE's, pooled per section label).

    Returns
    -------
    np.ndarray [shape=(n_bars, 46, 16), uint8]
        0 where there is no hit, else 1-127.
    """
    table = drummer.velocity[None, :, :] if base is None else np.asarray(base, dtype=np.float64)
    values = table * np.asarray(loudness, dtype=np.float64)[:, None, None]
    return np.where(hits, np.clip(np.round(values), 1, 127), 0).astype(np.uint8)
