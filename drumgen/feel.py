"""Feel: swing found in the song's own parts, and a drummer's small timing and velocity drift.

The drum grid is straight: every bar's sixteenth steps (16 in 4/4), each on the song's own step
time (:func:`drumgen.bars.step_times`). This module moves the written hits off that grid, in two
independent ways, applied when the MIDI is written (:func:`drumgen.pipeline.step_5_write_midi`):

- **Swing.** A ratio ``r`` (first eighth of a beat / second eighth) delays every beat's off-beat
  eighth from the middle of the beat to ``r / (1 + r)`` of it, and the two sixteenths around it
  with it: each beat is warped piecewise-linearly, its first half stretched over ``[0, r/(1+r)]``
  and its second half squeezed into the rest. ``r = 1`` is straight, ``r = 2`` triplet swing
  (the off-beat on the third triplet), ``r = 3`` a dotted-eighth shuffle.
  :func:`estimate_swing` reads ``r`` from the song's non-drum note onsets.
- **Humanize.** :func:`humanize` draws seeded, bounded offsets: a drift shared by the whole kit
  that wanders slowly from bar to bar, a push or drag shared by all hits of one step, and a
  smaller spread between the limbs; beats (the downbeat and backbeat quarter notes) are held
  twice as tight; velocities vary a little. Every offset stays within ``max_offset_ms x amount``.

With a ratio of 1 and no humanizing nothing is computed and the drums are written exactly on
the grid, as before feel existed.

Used by notebook ``step_5_write_midi`` (through :func:`drumgen.pipeline.step_5_write_midi`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pretty_midi

from drumgen import representation
from drumgen.bars import nearest_steps
from drumgen.config import FeelConfig

log = logging.getLogger(__name__)

STEPS_PER_BEAT = 4
"""Grid steps (sixteenths) per quarter-note beat: the unit that swing warps."""

MAX_SWING_RATIO = 3.0
"""Largest ratio :func:`estimate_swing` considers (a dotted-eighth + sixteenth shuffle)."""

SWING_TOLERANCE = 1.0 / 12.0
"""How far (beat fraction) an onset may sit from a grid position and still count as on it: half
the distance between a triplet off-beat (2/3) and a straight last sixteenth (3/4)."""

_CANDIDATE_RATIOS = np.round(np.linspace(1.0, MAX_SWING_RATIO, 101), 6)
"""Ratios fitted by :func:`estimate_swing`, 0.02 apart; exact ties go to the straightest."""

# Shares of the maximum offset in humanize's three timing components (their spread, before the
# bound): bar-to-bar drift of the whole kit, a push or drag of each step, and the limbs' spread
# around that step. On beats the last two are halved.
_DRIFT_SHARE = 0.2
_STEP_SHARE = 0.35
_LIMB_SHARE = 0.1
_BEAT_TIGHTNESS = 0.5
_DRIFT_MEMORY = 0.8
"""How much of a bar's drift carries over to the next bar (an AR(1) process of unit spread)."""
_VELOCITY_SHARE = 0.4
_MAX_GAP_SHARE = 0.45
"""A humanized hit moves at most this share of the way to its neighbouring step, so hits keep
their order and stay inside their bar."""


class SwingVerdict(enum.Enum):
    """Why :func:`estimate_swing` calls a song swung or straight."""

    SWUNG = "swung"
    STRAIGHT = "straight: its off-beat eighths sit on the straight grid"
    FEW_NOTES = "straight: too few off-beat eighth notes to tell"
    UNCLEAR = "straight: a swung grid fits its onsets no clearly better than the straight one"


@dataclass(frozen=True)
class SwingEstimate:
    """The swing :func:`estimate_swing` found.

    Attributes
    ----------
    ratio : float
        First eighth / second eighth of a beat to apply: the fitted ratio when ``verdict`` is
        SWUNG, else exactly 1.0.
    fitted_ratio : float
        The ratio that fits the onsets best (median position of the off-beat eighths), before
        the checks; 1.0 when there are none.
    n_notes : int
        Off-beat eighth onsets the fit rests on.
    n_onsets : int
        Onsets inside the song's whole beats that were looked at.
    confidence : float
        In [0, 1]: the share of the straight grid's misfit that the fitted swung grid explains
        (0 for a straight fit).
    verdict : SwingVerdict
    """

    ratio: float
    fitted_ratio: float
    n_notes: int
    n_onsets: int
    confidence: float
    verdict: SwingVerdict

    @property
    def swung(self) -> bool:
        """Whether the song counts as swung (``ratio > 1``)."""
        return self.verdict is SwingVerdict.SWUNG

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the verdict by its value)."""
        return {
            "ratio": self.ratio,
            "fitted_ratio": self.fitted_ratio,
            "n_notes": self.n_notes,
            "n_onsets": self.n_onsets,
            "confidence": self.confidence,
            "verdict": self.verdict.name.lower(),
            "reason": self.verdict.value,
        }


@dataclass(frozen=True)
class Humanization:
    """Seeded offsets for every cell of a drum grid (see :func:`humanize`).

    Attributes
    ----------
    time_offsets : np.ndarray [shape=(n_bars, 46, n_steps), float64, seconds]
        Added to each hit's (swung) step time; ``|offset| <= max_offset_ms x amount / 1000``.
    velocity_offsets : np.ndarray [shape=(n_bars, 46, n_steps), int16, MIDI velocity units]
        Added to each hit's velocity (the result is clipped to 1-127).
    """

    time_offsets: np.ndarray
    velocity_offsets: np.ndarray


@dataclass(frozen=True)
class AppliedFeel:
    """How the drums of one run were written (recorded in step 5's report).

    Attributes
    ----------
    swing : str or float
        The setting: "auto" or an amount in [0, 1].
    detected : SwingEstimate
        What the song's own parts say (found whatever the setting).
    swing_ratio : float
        The ratio applied to the drums (1.0: straight).
    humanize : float
        The humanize amount in [0, 1] (0: none).
    max_offset_ms : float
        Bound of the humanize timing offsets at amount 1 (ms); applied bound: ``x humanize``.
    max_velocity_offset : int
        Bound of the velocity offsets at amount 1; applied bound: ``x humanize``.
    seed : int
        Seed of the humanize offsets.
    """

    swing: str | float
    detected: SwingEstimate
    swing_ratio: float
    humanize: float
    max_offset_ms: float
    max_velocity_offset: int
    seed: int

    @property
    def on_grid(self) -> bool:
        """Whether the drums are written exactly on the straight grid."""
        return self.swing_ratio == 1.0 and self.humanize == 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with the bounds applied at this humanize amount."""
        return {
            "swing": self.swing,
            "detected_swing": self.detected.to_dict(),
            "swing_ratio": self.swing_ratio,
            "humanize": self.humanize,
            "max_offset_ms": self.max_offset_ms,
            "max_velocity_offset": self.max_velocity_offset,
            "offset_bound_ms": self.max_offset_ms * self.humanize,
            "velocity_bound": self.max_velocity_offset * self.humanize,
            "seed": self.seed,
            "on_grid": self.on_grid,
        }


def swing_ratio(amount: float) -> float:
    """Swing ratio of a ``--swing`` amount: ``1 + amount``.

    0 is straight (1:1), 0.5 a light swing (3:2), 1 full triplet swing (2:1).

    Examples
    --------
    >>> swing_ratio(0.0), swing_ratio(0.5), swing_ratio(1.0)
    (1.0, 1.5, 2.0)
    """
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"swing amount must be in [0, 1], got {amount}")
    return 1.0 + float(amount)


def swing_positions(ratio: float) -> np.ndarray:
    """Where a beat's five grid points (its sixteenths and the next beat) fall under swing.

    Returns
    -------
    np.ndarray [shape=(5,), float64, fraction of the beat]
        ``[0, e/2, e, (1+e)/2, 1]`` with ``e = ratio / (1 + ratio)``.

    Examples
    --------
    >>> swing_positions(2.0).round(4).tolist()
    [0.0, 0.3333, 0.6667, 0.8333, 1.0]
    """
    if not ratio > 0:
        raise ValueError(f"swing ratio must be > 0, got {ratio}")
    offbeat = ratio / (1.0 + ratio)
    return np.array([0.0, offbeat / 2, offbeat, (1.0 + offbeat) / 2, 1.0])


def beat_positions(
    onset_times: np.ndarray, step_times: np.ndarray, *, swing_bars: np.ndarray | None = None
) -> np.ndarray:
    """Position of each onset within its quarter-note beat.

    Parameters
    ----------
    onset_times : np.ndarray [shape=(n_onsets,), seconds]
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        From :func:`drumgen.bars.step_times`. A beat is four steps from the bar's start; the
        steps of a bar left over after its last whole beat (e.g. the last eighth of a 7/8 bar,
        or a bar's padding) belong to no beat.
    swing_bars : np.ndarray [shape=(n_bars,), bool], optional
        Bars whose beats count (default all): compound bars (6/8, 12/8), whose eighths are
        triplets already, are left out by the pipeline.

    Returns
    -------
    np.ndarray [shape=(n_inside,), float64, fraction of the beat in [0, 1)]
        Interpolated through the beat's own step times (tempo changes inside a beat are honoured
        step by step). Onsets outside every whole beat are left out.

    Examples
    --------
    >>> steps = np.linspace(0.0, 2.0, 17)[None, :]  # one 4/4 bar at 120 bpm
    >>> beat_positions(np.array([0.25, 0.6, 1.9]), steps).round(3).tolist()
    [0.5, 0.2, 0.8]
    """
    edges = _beat_edges(step_times, swing_bars=swing_bars)
    onsets = np.asarray(onset_times, dtype=float).ravel()
    if len(edges) == 0 or len(onsets) == 0:
        return np.zeros(0)
    beat = np.searchsorted(edges[:, 0], onsets, side="right") - 1
    inside = (beat >= 0) & (onsets < edges[np.clip(beat, 0, None), -1])
    beat, onsets = beat[inside], onsets[inside]
    grid = np.linspace(0.0, 1.0, STEPS_PER_BEAT + 1)
    spans = edges[beat]
    step = (spans[:, 1:STEPS_PER_BEAT] <= onsets[:, None]).sum(axis=1)  # the step each onset is in
    rows = np.arange(len(beat))
    start, stop = spans[rows, step], spans[rows, step + 1]
    within = np.where(stop > start, (onsets - start) / np.where(stop > start, stop - start, 1.0), 0.0)
    return np.clip(grid[step] + within / STEPS_PER_BEAT, 0.0, np.nextafter(1.0, 0.0))


def estimate_swing(
    onset_times: np.ndarray,
    *,
    step_times: np.ndarray,
    min_notes: int = 8,
    min_ratio: float = 1.1,
    min_confidence: float = 0.3,
    name: str = "song",
    swing_bars: np.ndarray | None = None,
    report: bool = True,
) -> SwingEstimate:
    """Estimate a song's swing ratio from its note onsets.

    Every onset's position in its beat (:func:`beat_positions`) is compared with the beat's
    sixteenth grid warped by each candidate ratio from 1 to :data:`MAX_SWING_RATIO`
    (:func:`swing_positions`): the misfit is the mean squared distance to the nearest grid point,
    capped at :data:`SWING_TOLERANCE` so that ornaments and triplets weigh little. The best
    candidate (the straightest of equals) names the off-beat eighths - the onsets nearest its
    off-beat - and their median position ``m`` gives the fitted ratio ``m / (1 - m)``. The song
    counts as straight (ratio 1.0, and the reason logged) when fewer than ``min_notes`` onsets
    support the off-beat, when the fitted ratio is below ``min_ratio``, or when the swung grid
    explains less than ``min_confidence`` of the straight grid's misfit.

    Parameters
    ----------
    onset_times : np.ndarray [shape=(n_onsets,), seconds]
        The non-drum note onsets (bass, guitar, keys ...); or a drum track's, to measure it.
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        The song's straight grid (:func:`drumgen.bars.step_times`).
    min_notes : int
    min_ratio : float
    min_confidence : float
        The checks above (the ``[feel]`` settings ``min_swing_*``).
    name : str
        How the log names the song.
    swing_bars : np.ndarray [shape=(n_bars,), bool], optional
        Bars whose beats are read (:func:`beat_positions`); default all.
    report : bool
        Log the verdict (False for the evaluation, which measures hundreds of tracks).

    Returns
    -------
    SwingEstimate

    Examples
    --------
    >>> starts = np.linspace(0.0, 8.0, 65)[:-1].reshape(4, 16)  # 4 bars of 2 s (120 bpm)
    >>> steps = np.concatenate([starts, starts[:, :1] + 2.0], axis=1)  # (4, 17)
    >>> beats = np.arange(16) * 0.5
    >>> swung = np.concatenate([beats, beats + 0.5 * 2 / 3])  # off-beats on the third triplet
    >>> estimate_swing(swung, step_times=steps).ratio
    2.0
    >>> estimate_swing(np.concatenate([beats, beats + 0.25]), step_times=steps).ratio
    1.0
    """
    positions = beat_positions(onset_times, step_times, swing_bars=swing_bars)
    if len(positions) == 0:
        estimate = SwingEstimate(1.0, 1.0, 0, 0, 0.0, SwingVerdict.FEW_NOTES)
        if report:
            _log_estimate(estimate, name=name, min_notes=min_notes)
        return estimate
    misfits = np.array([_misfit(positions, ratio) for ratio in _CANDIDATE_RATIOS])
    best = int(np.argmin(misfits))  # the first of equals: the straightest
    grid = swing_positions(float(_CANDIDATE_RATIOS[best]))
    distance = np.abs(positions[:, None] - grid[None, :])
    nearest = np.argmin(distance, axis=1)
    offbeat = (nearest == 2) & (distance[np.arange(len(positions)), nearest] <= SWING_TOLERANCE)
    n_notes = int(offbeat.sum())
    fitted = 1.0
    if n_notes:
        middle = float(np.median(positions[offbeat]))
        fitted = round(float(np.clip(middle / (1.0 - middle), 1.0, MAX_SWING_RATIO)), 3)
    straight_misfit = float(misfits[0])
    confidence = 0.0 if straight_misfit == 0 else float((straight_misfit - misfits[best]) / straight_misfit)
    if n_notes < min_notes:
        verdict = SwingVerdict.FEW_NOTES
    elif fitted < min_ratio:
        verdict = SwingVerdict.STRAIGHT
    elif confidence < min_confidence:
        verdict = SwingVerdict.UNCLEAR
    else:
        verdict = SwingVerdict.SWUNG
    estimate = SwingEstimate(
        ratio=fitted if verdict is SwingVerdict.SWUNG else 1.0,
        fitted_ratio=fitted,
        n_notes=n_notes,
        n_onsets=len(positions),
        confidence=confidence,
        verdict=verdict,
    )
    if report:
        _log_estimate(estimate, name=name, min_notes=min_notes)
    return estimate


def song_onsets(instruments: Sequence[pretty_midi.Instrument]) -> np.ndarray:
    """Note onsets of the non-drum instruments, sorted.

    Returns
    -------
    np.ndarray [shape=(n_notes,), float64, seconds]
    """
    onsets = [note.start for inst in instruments if not inst.is_drum for note in inst.notes]
    return np.sort(np.asarray(onsets, dtype=float))


def swing_step_times(
    step_times: np.ndarray, *, ratio: float, swing_bars: np.ndarray | None = None
) -> np.ndarray:
    """The step times with every whole beat swung by ``ratio``.

    Parameters
    ----------
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
    ratio : float
        First eighth / second eighth (1: straight, 2: triplet swing); see :func:`swing_positions`.
    swing_bars : np.ndarray [shape=(n_bars,), bool], optional
        Bars to swing (default all); the others, e.g. compound bars, stay straight.

    Returns
    -------
    np.ndarray [shape=(n_bars, n_steps + 1), float64, seconds]
        A new array: each beat's sixteenths moved to their swung positions, interpolated through
        the beat's own step times; beat starts, bar ends and steps after a bar's last whole beat
        unchanged (so are a bar's padding steps, and the last eighth of a 7/8 bar). Equal to
        ``step_times`` for ratio 1.

    Examples
    --------
    >>> steps = np.linspace(0.0, 2.0, 17)[None, :]
    >>> swing_step_times(steps, ratio=2.0)[0, :5].round(4).tolist()
    [0.0, 0.1667, 0.3333, 0.4167, 0.5]
    """
    step_times = np.asarray(step_times, dtype=float)
    swung = step_times.copy()
    if ratio == 1.0:
        return swung
    n_beats = (step_times.shape[1] - 1) // STEPS_PER_BEAT
    straight = np.linspace(0.0, 1.0, STEPS_PER_BEAT + 1)
    targets = swing_positions(ratio)
    whole = _whole_beats(step_times, swing_bars=swing_bars)
    for beat in range(n_beats):
        first = beat * STEPS_PER_BEAT
        span = step_times[:, first : first + STEPS_PER_BEAT + 1]  # (n_bars, 5)
        for step in range(1, STEPS_PER_BEAT):
            warped = _interp_rows(targets[step], straight, span)
            swung[:, first + step] = np.where(whole[:, beat], warped, step_times[:, first + step])
    return swung


def humanize(
    shape: tuple[int, int, int],
    *,
    step_times: np.ndarray,
    amount: float,
    seed: int,
    max_offset_ms: float = 20.0,
    max_velocity_offset: int = 8,
) -> Humanization:
    """Seeded, bounded timing and velocity offsets for a drum grid, as a drummer plays.

    The timing offset of a hit is ``amount x clip(drift + step push + limb spread, -M, M)`` with
    ``M = max_offset_ms``: ``drift`` follows the bar (an AR(1) walk shared by the whole kit,
    spread 0.2 M), ``step push`` the step (shared by every hit on it, spread 0.35 M), ``limb
    spread`` the single hit (spread 0.1 M); on the beats (every fourth step: downbeat and
    backbeat) the last two are halved. A hit then moves at most 45 % of the way to its
    neighbouring step, and never earlier than its bar's start, so every hit stays inside its bar
    and in order. Velocity offsets are ``amount x clip(0.4 V N(0, 1), -V, V)``, rounded, with
    ``V = max_velocity_offset``. The draws depend only on ``seed`` and ``shape``, not on the hits.

    Parameters
    ----------
    shape : tuple of int
        ``(n_bars, n_rows, n_steps)`` of the grid.
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        The (swung) step times the hits are written on.
    amount : float
        In [0, 1]; 0 gives all-zero offsets.
    seed : int
    max_offset_ms : float
        Largest timing offset at amount 1, in milliseconds.
    max_velocity_offset : int
        Largest velocity change at amount 1.

    Returns
    -------
    Humanization

    Examples
    --------
    >>> steps = np.linspace(0.0, 2.0, 17)[None, :]
    >>> offsets = humanize((1, 46, 16), step_times=steps, amount=1.0, seed=0).time_offsets
    >>> bool(np.abs(offsets).max() <= 0.020)
    True
    """
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"humanize amount must be in [0, 1], got {amount}")
    n_bars, n_rows, n_steps = shape
    step_times = np.asarray(step_times, dtype=float)
    if step_times.shape != (n_bars, n_steps + 1):
        raise ValueError(f"step_times must have shape {(n_bars, n_steps + 1)}, got {step_times.shape}")
    rng = np.random.default_rng(seed)
    innovations = rng.standard_normal(n_bars)
    drift = np.zeros(n_bars)
    for bar in range(n_bars):  # unit spread in every bar
        drift[bar] = (
            _DRIFT_MEMORY * drift[bar - 1] + np.sqrt(1.0 - _DRIFT_MEMORY**2) * innovations[bar]
            if bar
            else innovations[0]
        )
    push = rng.standard_normal((n_bars, n_steps))
    limbs = rng.standard_normal((n_bars, n_rows, n_steps))
    velocity = rng.standard_normal((n_bars, n_rows, n_steps))

    tightness = np.where(np.arange(n_steps) % STEPS_PER_BEAT == 0, _BEAT_TIGHTNESS, 1.0)
    units = _DRIFT_SHARE * drift[:, None, None] + tightness[None, None, :] * (
        _STEP_SHARE * push[:, None, :] + _LIMB_SHARE * limbs
    )
    bound = max_offset_ms / 1000.0
    offsets = amount * bound * np.clip(units, -1.0, 1.0)
    gaps = np.diff(step_times, axis=1)  # (n_bars, n_steps)
    before = np.concatenate([np.zeros((n_bars, 1)), gaps[:, :-1]], axis=1)  # never before the bar
    offsets = np.clip(offsets, -_MAX_GAP_SHARE * before[:, None, :], _MAX_GAP_SHARE * gaps[:, None, :])
    velocities = np.rint(
        amount
        * np.clip(_VELOCITY_SHARE * max_velocity_offset * velocity, -max_velocity_offset, max_velocity_offset)
    ).astype(np.int16)
    return Humanization(time_offsets=offsets, velocity_offsets=velocities)


def choose_feel(
    onset_times: np.ndarray,
    *,
    step_times: np.ndarray,
    settings: FeelConfig,
    seed: int,
    name: str = "song",
    swing_bars: np.ndarray | None = None,
    report: bool = True,
) -> AppliedFeel:
    """Decide how a song's drums are played: its swing (detected, or the set amount) and humanize.

    Parameters
    ----------
    onset_times : np.ndarray [shape=(n_onsets,), seconds]
        The song's non-drum note onsets (:func:`song_onsets`).
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        The song's straight grid.
    settings : FeelConfig
        The ``[feel]`` section: ``swing`` "auto" takes the detected ratio, an amount ``s`` the
        ratio ``1 + s`` (:func:`swing_ratio`).
    seed : int
        Seed of the humanize offsets.
    swing_bars : np.ndarray [shape=(n_bars,), bool], optional
        Bars whose beats are read for swing (:func:`estimate_swing`); default all.
    report : bool
        Log the detected swing (:func:`estimate_swing`).

    Returns
    -------
    AppliedFeel

    Examples
    --------
    >>> from drumgen.config import load_config
    >>> steps = np.linspace(0.0, 2.0, 17)[None, :]
    >>> settings = load_config().replace(feel={"swing": 0.5}).feel
    >>> choose_feel(np.zeros(0), step_times=steps, settings=settings, seed=0).swing_ratio
    1.5
    """
    detected = estimate_swing(
        onset_times,
        step_times=step_times,
        min_notes=settings.min_swing_notes,
        min_ratio=settings.min_swing_ratio,
        min_confidence=settings.min_swing_confidence,
        name=name,
        swing_bars=swing_bars,
        report=report,
    )
    ratio = detected.ratio if settings.swing == "auto" else swing_ratio(float(settings.swing))
    return AppliedFeel(
        swing=settings.swing,
        detected=detected,
        swing_ratio=ratio,
        humanize=float(settings.humanize),
        max_offset_ms=float(settings.max_offset_ms),
        max_velocity_offset=int(settings.max_velocity_offset),
        seed=int(seed),
    )


def apply_feel(
    grid: np.ndarray,
    step_times: np.ndarray,
    *,
    feel: AppliedFeel,
    name: str = "drumgen drums",
    swing_bars: np.ndarray | None = None,
) -> pretty_midi.Instrument:
    """Write a drum grid as a GM drum instrument, played with a feel.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, n_steps)]
        Velocities (0 = no hit), as :func:`drumgen.representation.grid_to_drums` takes.
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        The song's straight grid.
    feel : AppliedFeel
        From :func:`choose_feel`. Straight and without humanizing, the drums are exactly
        :func:`drumgen.representation.grid_to_drums` of the straight grid.
    name : str
        Instrument name.
    swing_bars : np.ndarray [shape=(n_bars,), bool], optional
        Bars to swing (:func:`swing_step_times`); default all.

    Returns
    -------
    pretty_midi.Instrument
        ``is_drum=True``; every hit inside its bar.
    """
    if feel.on_grid:
        return representation.grid_to_drums(grid, step_times, name=name)
    played = swing_step_times(step_times, ratio=feel.swing_ratio, swing_bars=swing_bars)
    offsets = None
    if feel.humanize > 0:
        offsets = humanize(
            np.shape(grid),
            step_times=played,
            amount=feel.humanize,
            seed=feel.seed,
            max_offset_ms=feel.max_offset_ms,
            max_velocity_offset=feel.max_velocity_offset,
        )
    return representation.grid_to_drums(
        grid,
        played,
        name=name,
        time_offsets=None if offsets is None else offsets.time_offsets,
        velocity_offsets=None if offsets is None else offsets.velocity_offsets,
    )


def _whole_beats(step_times: np.ndarray, *, swing_bars: np.ndarray | None) -> np.ndarray:
    """Which quarter beats of the canvas lie wholly inside their bar (their last step is not
    padding) in a bar that may swing: shape (n_bars, n_beats), bool."""
    step_times = np.asarray(step_times, dtype=float)
    n_beats = (step_times.shape[1] - 1) // STEPS_PER_BEAT
    last_steps = np.diff(step_times, axis=1)[:, STEPS_PER_BEAT - 1 :: STEPS_PER_BEAT][:, :n_beats]
    whole = last_steps > 0
    if swing_bars is not None:
        whole &= np.asarray(swing_bars, dtype=bool)[:, None]
    return whole


def _beat_edges(step_times: np.ndarray, *, swing_bars: np.ndarray | None = None) -> np.ndarray:
    """Every whole beat's five step times, in song order: shape (n_beats, 5)."""
    step_times = np.asarray(step_times, dtype=float)
    n_bars, n_edges = step_times.shape if step_times.ndim == 2 else (0, 0)
    n_beats = (n_edges - 1) // STEPS_PER_BEAT if n_edges else 0
    if n_bars == 0 or n_beats == 0:
        return np.zeros((0, STEPS_PER_BEAT + 1))
    beats = [
        step_times[:, beat * STEPS_PER_BEAT : beat * STEPS_PER_BEAT + STEPS_PER_BEAT + 1]
        for beat in range(n_beats)
    ]
    edges = np.stack(beats, axis=1).reshape(n_bars * n_beats, STEPS_PER_BEAT + 1)
    return edges[_whole_beats(step_times, swing_bars=swing_bars).ravel()]


def _misfit(positions: np.ndarray, ratio: float) -> float:
    """Mean squared distance (capped at the tolerance) of beat positions to the swung grid."""
    grid = swing_positions(ratio)
    distance = np.min(np.abs(positions[:, None] - grid[None, :]), axis=1)
    return float(np.mean(np.minimum(distance, SWING_TOLERANCE) ** 2))


def _interp_rows(position: float, grid: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each row's times (at ``grid``'s positions) interpolated at ``position``."""
    idx = int(np.clip(np.searchsorted(grid, position, side="right") - 1, 0, len(grid) - 2))
    share = (position - grid[idx]) / (grid[idx + 1] - grid[idx])
    return rows[:, idx] + share * (rows[:, idx + 1] - rows[:, idx])


def _log_estimate(estimate: SwingEstimate, *, name: str, min_notes: int) -> None:
    if estimate.swung:
        log.info(
            "%s: swing ratio %.2f from %d off-beat eighth onsets (confidence %.2f)",
            name,
            estimate.ratio,
            estimate.n_notes,
            estimate.confidence,
        )
    elif estimate.verdict is SwingVerdict.FEW_NOTES:
        log.info(
            "%s: %d off-beat eighth onsets of %d (need %d); %s",
            name,
            estimate.n_notes,
            estimate.n_onsets,
            min_notes,
            estimate.verdict.value,
        )
    else:
        log.info(
            "%s: %s (fitted ratio %.2f, confidence %.2f)",
            name,
            estimate.verdict.value,
            estimate.fitted_ratio,
            estimate.confidence,
        )


# --- timing against real drums (the evaluation's feel section) ---------------------------------

OFF_GRID_MS = 10.0
"""A real drum onset further than this (ms) from its nearest straight sixteenth is *off the grid*."""

MICROTIMING_MIN_SHARE = 0.05
"""A song's real drums *have microtiming* when at least this share of their onsets is off the grid."""


@dataclass(frozen=True)
class GridOffsets:
    """Onsets placed on a song's straight grid.

    Attributes
    ----------
    cells : np.ndarray [shape=(n_inside,), int64]
        ``(bar * n_rows + row) * n_steps + step`` of each onset's cell: its nearest straight step
        (:func:`drumgen.bars.nearest_steps`, as the drum grids are quantised) and drum row.
    offsets_ms : np.ndarray [shape=(n_inside,), float64, ms]
        Onset time minus that step's straight start time (> 0: late).
    """

    cells: np.ndarray
    offsets_ms: np.ndarray


def grid_offsets(onset_times: np.ndarray, pitches: np.ndarray, step_times: np.ndarray) -> GridOffsets:
    """Where drum onsets sit against the straight grid: their cells and offsets in ms.

    Parameters
    ----------
    onset_times : np.ndarray [shape=(n_onsets,), seconds]
    pitches : np.ndarray [shape=(n_onsets,), int, GM drum pitches]
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        The straight grid (:func:`drumgen.bars.step_times`).

    Returns
    -------
    GridOffsets
        Onsets outside the song's bars are left out.
    """
    onsets = np.asarray(onset_times, dtype=np.float64)
    bar_idx, step_idx, inside = nearest_steps(onsets, step_times)
    n_steps = step_times.shape[1] - 1
    rows = np.asarray(representation.PITCH_TO_ROW, dtype=np.int64)[np.asarray(pitches, dtype=np.int64)]
    bar_idx, step_idx, rows, onsets = bar_idx[inside], step_idx[inside], rows[inside], onsets[inside]
    cells = (bar_idx * representation.N_ROWS + rows) * n_steps + step_idx
    offsets = (onsets - step_times[bar_idx, step_idx]) * 1000.0
    return GridOffsets(cells=cells, offsets_ms=offsets)


TIMING_KEYS = (
    "real_swing_ratio",
    "generated_swing_ratio",
    "swing_ratio_error",
    "real_swung",
    "generated_swung",
    "real_off_grid_share",
    "real_microtiming",
    "offset_error_ms",
    "on_grid_offset_error_ms",
    "n_matched_onsets",
)
"""Keys of :func:`timing_scores`, in order."""


def timing_scores(
    real_onsets: np.ndarray,
    real_pitches: np.ndarray,
    generated: pretty_midi.Instrument,
    *,
    step_times: np.ndarray,
    swing_bars: np.ndarray | None = None,
) -> dict[str, float]:
    """How the timing of generated drums compares with the real drums of one song.

    Both sets of onsets are read as played (seconds, not grids): the real drums from the song's
    MIDI, the generated drums as written (swing and humanize applied, :func:`apply_feel`).

    - ``real_swing_ratio``, ``generated_swing_ratio``: :func:`estimate_swing` of each drum track's
      onsets (first eighth / second eighth of a beat; exactly 1.0 when the track does not count as
      swung); ``swing_ratio_error`` their absolute difference; ``real_swung``,
      ``generated_swung``: 1.0 when the track counts as swung, else 0.0.
    - ``real_off_grid_share``: share of the real onsets further than :data:`OFF_GRID_MS` from their
      nearest straight sixteenth (:func:`grid_offsets`); ``real_microtiming``: 1.0 when that share
      is at least :data:`MICROTIMING_MIN_SHARE`.
    - ``offset_error_ms``: over the real onsets whose cell (bar, drum row, nearest straight step)
      also holds a generated onset, the mean ``|real offset - generated offset|`` in ms (offsets
      from the straight step time; the first onset of a cell on each side); NaN when no cell
      matches. ``on_grid_offset_error_ms``: the same with generated offsets 0 (straight drums),
      the number to beat. ``n_matched_onsets``: how many onsets these means rest on.

    Parameters
    ----------
    real_onsets : np.ndarray [shape=(n_real,), seconds]
    real_pitches : np.ndarray [shape=(n_real,), int, GM drum pitches]
    generated : pretty_midi.Instrument
        The generated drums as written.
    step_times : np.ndarray [shape=(n_bars, n_steps + 1), seconds]
        The song's straight grid.
    swing_bars : np.ndarray [shape=(n_bars,), bool], optional
        Bars whose beats the swing estimates read (the pipeline leaves compound bars out).

    Returns
    -------
    dict[str, float]
        Keys :data:`TIMING_KEYS`.
    """
    gen_onsets = np.array([note.start for note in generated.notes], dtype=np.float64)
    gen_pitches = np.array([note.pitch for note in generated.notes], dtype=np.int64)
    real_swing = estimate_swing(real_onsets, step_times=step_times, swing_bars=swing_bars, report=False)
    gen_swing = estimate_swing(gen_onsets, step_times=step_times, swing_bars=swing_bars, report=False)
    real = grid_offsets(real_onsets, real_pitches, step_times)
    gen = grid_offsets(gen_onsets, gen_pitches, step_times)
    off_share = float(np.mean(np.abs(real.offsets_ms) > OFF_GRID_MS)) if len(real.cells) else float("nan")
    real_cells, real_first = np.unique(real.cells, return_index=True)
    gen_cells, gen_first = np.unique(gen.cells, return_index=True)
    _, real_at, gen_at = np.intersect1d(real_cells, gen_cells, assume_unique=True, return_indices=True)
    real_off = real.offsets_ms[real_first[real_at]]
    gen_off = gen.offsets_ms[gen_first[gen_at]]
    matched = len(real_off)
    return {
        "real_swing_ratio": real_swing.ratio,
        "generated_swing_ratio": gen_swing.ratio,
        "swing_ratio_error": abs(gen_swing.ratio - real_swing.ratio),
        "real_swung": float(real_swing.swung),
        "generated_swung": float(gen_swing.swung),
        "real_off_grid_share": off_share,
        "real_microtiming": float(off_share >= MICROTIMING_MIN_SHARE)
        if np.isfinite(off_share)
        else float("nan"),
        "offset_error_ms": float(np.mean(np.abs(real_off - gen_off))) if matched else float("nan"),
        "on_grid_offset_error_ms": float(np.mean(np.abs(real_off))) if matched else float("nan"),
        "n_matched_onsets": float(matched),
    }
