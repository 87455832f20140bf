"""Metrics that compare generated drums with the real drums of the same song, bar by bar.

Every metric takes grids ``[shape=(n_bars, 46, n_steps)]`` of any dtype (16 steps for a 4/4
song; a song of other meters on its step canvas, :mod:`drumgen.meter`, whose padding steps past a
bar's own length are empty); a cell counts as a hit when it is > 0, and velocities are ignored
except by the two velocity metrics (which are NaN on bool grids, e.g. the baselines'). Pair
metrics take ``generated`` first and ``real`` second, with
equal shapes. Single numbers are returned as ``float``; ``NaN`` means "not defined for this song"
(e.g. no repeated bar in the real drums) and is skipped by :func:`aggregate`.

What the project reports (see DESIGN.md, "Evaluation"): structure by :func:`ssm_pearson` (the paper's
:func:`ssm_cosine` only next to it, because silence scores near 1 on it), notes by onset
precision / recall / F1 and :func:`density_error`, musical sanity by :func:`empty_bar_rate`,
:func:`drum_pattern_share` and :func:`repetition_consistency`. :func:`cell_accuracy` is the
reference's "note score", which silence wins (DESIGN.md, "Known flaws" 2): report it only next to
the silence baseline.

Musical metrics read the grid as a drummer's kit (:mod:`drumgen.kit`):

- **Notes with equivalent sounds merged**: :func:`kit_onset_f1` scores onsets on the 9 kit
  classes (a kick on 35 for a kick on 36 is right), :func:`piece_group_f1` per group (kick,
  snare, hats, toms, cymbals).
- **Groove**: :func:`backbeat_rate` (snare on beats 2 and 4), :func:`missing_snare_rate` (the
  real drums' backbeat bars left without any snare), :func:`layered_rate` (two sounds of one
  piece at once, e.g. kicks 35 and 36, which one limb cannot play).
- **Repetition**: :func:`consecutive_repeat_rate` and :func:`two_bar_repeat_rate` (a bar copied
  from one or two bars before; silence never counts as a repeat).
- **Form**: :func:`fill_bars` and :func:`crash_bars` mark fills and crashes;
  :func:`change_coverage` is the share of section changes marked by one within a bar,
  :func:`fills_elsewhere_rate` the share of fills away from every change, :func:`fill_rate` the
  share of fills; :func:`silent_bar_play_rate` is playing where the real drums rest.
- **Dynamics**: :func:`velocity_std` and :func:`backbeat_hat_velocity_gap` (accented backbeat
  over the hats).

**Meters.** The metrics that need to know where a bar ends take ``bar_steps`` [shape=(n_bars,),
steps] (default: every bar fills the canvas): :func:`onset_prf` with a tolerance reads each row
over the bars' own steps, so a window crosses a bar line without crossing padding;
:func:`cell_accuracy` counts the bars' own cells; :func:`backbeat_rate`,
:func:`missing_snare_rate` and :func:`backbeat_hat_velocity_gap` read only the 16-step bars
(steps 4 and 12 are a backbeat in 4/4 alone; NaN for a song without one); :func:`fill_bars`
compares the two halves of each bar's own steps.

Used by the evaluation notebook.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from drumgen.bars import N_STEPS
from drumgen.exceptions import ParameterError
from drumgen.kit import (
    KIT_CLASS_ROWS,
    KIT_CLASSES,
    PIECE_GROUPS,
    PIECE_ROWS,
    PIECES,
    to_kit_classes,
    to_pieces,
)
from drumgen.midi import STEPS_PER_QUARTER
from drumgen.representation import N_ROWS
from drumgen.similarity import drum_ssm

DEFAULT_SCALE = 15.0
"""Divisor of the drum distance (the reference's 15), as in :func:`drumgen.similarity.drum_ssm`."""


# --------------------------------------------------------------------------------------------------
# Input checks and shared helpers


def _check_grid(grid: np.ndarray, name: str = "grid", *, full_grid: bool = False) -> np.ndarray:
    """``grid`` as an array of shape (n_bars >= 1, n_rows, n_steps); with ``full_grid``
    (n_bars >= 1, 46, n_steps >= 16), as the kit-piece metrics need."""
    grid = np.asarray(grid)
    if grid.ndim != 3 or grid.shape[0] < 1 or (full_grid and (grid.shape[1] != N_ROWS or grid.shape[2] < 16)):
        expected = f"{N_ROWS}, n_steps >= 16" if full_grid else "n_rows, n_steps"
        raise ParameterError(f"{name} must have shape (n_bars >= 1, {expected}), got {grid.shape}")
    return grid


def _check_same_shape(
    generated: np.ndarray, real: np.ndarray, *, full_grid: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Both grids checked by :func:`_check_grid` and of one shape; returned as given (velocities kept)."""
    generated = _check_grid(generated, "generated", full_grid=full_grid)
    real = _check_grid(real, "real", full_grid=full_grid)
    if generated.shape != real.shape:
        raise ParameterError(
            f"generated and real must have the same shape, got {generated.shape} and {real.shape}"
        )
    return generated, real


def _check_pair(generated: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    generated, real = _check_same_shape(generated, real)
    return generated > 0, real > 0


def _bar_steps(bar_steps: Sequence[int] | np.ndarray | None, grid: np.ndarray) -> np.ndarray:
    """Each bar's own steps [shape=(n_bars,), int64], checked against the grid's canvas; every bar
    the whole canvas when None."""
    n_bars, n_steps = grid.shape[0], grid.shape[-1]
    if bar_steps is None:
        return np.full(n_bars, n_steps, dtype=np.int64)
    steps = np.asarray(bar_steps, dtype=np.int64).ravel()
    if len(steps) != n_bars or np.any(steps < 1) or np.any(steps > n_steps):
        raise ParameterError(f"bar_steps must be {n_bars} values in 1..{n_steps}, got {steps.tolist()}")
    return steps


def _own_steps(grid: np.ndarray, bar_steps: np.ndarray) -> np.ndarray:
    """Which cells of ``grid`` [n_bars, n_rows, n_steps] lie in their bar's own steps (not padding):
    a bool mask of the grid's shape."""
    own = np.arange(grid.shape[-1])[None, :] < bar_steps[:, None]
    return np.broadcast_to(own[:, None, :], grid.shape)


def _common_bars(bar_steps: np.ndarray) -> np.ndarray:
    """Bars of 16 steps (4/4, 2/2), where :data:`BACKBEAT_STEPS` are beats 2 and 4."""
    return bar_steps == N_STEPS


def _check_tolerance(tolerance: int) -> int:
    if int(tolerance) != tolerance or tolerance < 0:
        raise ParameterError(f"tolerance must be an integer >= 0 steps, got {tolerance!r}")
    return int(tolerance)


def _greedy_matches(generated_steps: np.ndarray, real_steps: np.ndarray, tolerance: int) -> int:
    """Number of one-to-one matches between two ascending step lists within ``±tolerance``."""
    n_matched, real_idx = 0, 0
    for step in generated_steps:
        while real_idx < len(real_steps) and real_steps[real_idx] < step - tolerance:
            real_idx += 1  # too early for this and every later generated hit
        if real_idx < len(real_steps) and real_steps[real_idx] <= step + tolerance:
            n_matched += 1
            real_idx += 1
    return n_matched


def _row_counts(
    generated: np.ndarray,
    real: np.ndarray,
    tolerance: int,
    bar_steps: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: matched generated hits, generated hits, real hits (each shape (n_rows,), int)."""
    gen_hits, real_hits = _check_pair(generated, real)
    tolerance = _check_tolerance(tolerance)
    n_gen = gen_hits.sum(axis=(0, 2))
    n_real = real_hits.sum(axis=(0, 2))
    if tolerance == 0:
        return (gen_hits & real_hits).sum(axis=(0, 2)), n_gen, n_real
    # Each row as one continuous step sequence over the bars' own steps (bar lines and padding vanish).
    own = _own_steps(gen_hits, _bar_steps(bar_steps, gen_hits)).transpose(1, 0, 2)
    n_rows = gen_hits.shape[1]
    gen_rows = gen_hits.transpose(1, 0, 2)[own].reshape(n_rows, -1)
    real_rows = real_hits.transpose(1, 0, 2)[own].reshape(n_rows, -1)
    n_matched = np.array(
        [
            _greedy_matches(np.flatnonzero(g), np.flatnonzero(r), tolerance)
            for g, r in zip(gen_rows, real_rows, strict=True)
        ]
    )
    return n_matched, n_gen, n_real


def _prf(n_matched: np.ndarray, n_gen: np.ndarray, n_real: np.ndarray) -> tuple[np.ndarray, ...]:
    """Precision, recall, F1 from counts, with the conventions of :func:`onset_prf`."""
    n_matched, n_gen, n_real = (np.asarray(x, dtype=np.float64) for x in (n_matched, n_gen, n_real))
    both_empty = (n_gen == 0) & (n_real == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(n_gen > 0, n_matched / n_gen, both_empty.astype(float))
        recall = np.where(n_real > 0, n_matched / n_real, both_empty.astype(float))
        f1 = np.where(both_empty, 1.0, 2.0 * n_matched / (n_gen + n_real))
    return precision, recall, f1


def _real_repeated_pairs(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays ``(i, j)``, ``i < j``, of bar pairs with identical hit grids in ``real``."""
    real_hits = real.reshape(len(real), -1) > 0
    _, labels = np.unique(real_hits, axis=0, return_inverse=True)
    labels = labels.ravel()
    i_idx, j_idx = np.triu_indices(len(real), k=1)
    same = labels[i_idx] == labels[j_idx]
    return i_idx[same], j_idx[same]


def _bar_equal(grid: np.ndarray, i_idx: np.ndarray, j_idx: np.ndarray) -> np.ndarray:
    hits = grid.reshape(len(grid), -1) > 0
    return np.all(hits[i_idx] == hits[j_idx], axis=1)


# --------------------------------------------------------------------------------------------------
# Notes


def onset_prf(
    generated: np.ndarray,
    real: np.ndarray,
    *,
    tolerance: int = 0,
    bar_steps: Sequence[int] | np.ndarray | None = None,
) -> dict[str, float]:
    """Onset precision, recall and F1 of the generated drums, pooled over the whole song.

    A generated hit is *correct* when it is matched to a real hit on the same row. With
    ``tolerance = 0`` a match is the same cell (same bar, row and step). With ``tolerance = t > 0``
    each row is read as one continuous step sequence over the song (the bars' own steps one after
    another: in 4/4 bar ``b``, step ``s`` is step ``16 b + s``), so a window may cross a bar line;
    a generated hit matches a real hit of its row at most ``t`` steps away, and matching is
    one-to-one: each real hit validates at most one
    generated hit. The matching is greedy in time order: each generated hit, earliest first, takes
    the earliest still-unmatched real hit of its row within ``±t`` steps (for windows of equal width
    this greedy finds a largest possible matching).

    With ``m`` matches, ``G`` generated hits and ``R`` real hits, all counted over every cell of the
    song (micro-averaged): ``precision = m / G``, ``recall = m / R``,
    ``F1 = 2 m / (G + R)`` (the harmonic mean of the two).

    Edge cases: both without hits gives ``precision = recall = F1 = 1`` (silence for silence is
    right); a ratio whose denominator is 0 while the other side has hits is 0, so generated
    silence against real drums gives ``precision = recall = F1 = 0``, and generated hits against
    real silence give the same.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
        Drum grids of one song, any dtype; a cell is a hit when > 0.
    tolerance : int >= 0
        Largest distance in steps between matched hits.
    bar_steps : np.ndarray [shape=(n_bars,), int, steps], optional
        Each bar's own steps (the rest of the canvas is padding, skipped by the windows);
        default: every bar the whole canvas.

    Returns
    -------
    dict[str, float]
        Keys ``"precision"``, ``"recall"``, ``"f1"``, each in [0, 1].
    """
    counts = (c.sum() for c in _row_counts(generated, real, tolerance, bar_steps))
    precision, recall, f1 = _prf(*counts)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def onset_f1(
    generated: np.ndarray,
    real: np.ndarray,
    *,
    tolerance: int = 0,
    bar_steps: Sequence[int] | np.ndarray | None = None,
) -> float:
    """Onset F1 of the generated drums, pooled over the song: ``onset_prf(...)["f1"]``.

    See :func:`onset_prf` for the definition, the matching with ``tolerance`` and the edge cases.
    """
    return onset_prf(generated, real, tolerance=tolerance, bar_steps=bar_steps)["f1"]


def per_row_onset_f1(generated: np.ndarray, real: np.ndarray, *, tolerance: int = 0) -> np.ndarray:
    """Onset F1 of each drum row separately, ``2 m_r / (G_r + R_r)`` over the row's hits.

    Matching as in :func:`onset_prf` (one-to-one, greedy, windows crossing bar lines).

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
    tolerance : int >= 0

    Returns
    -------
    np.ndarray [shape=(46,), float64]
        F1 per row in [0, 1]; NaN for a row without hits in both grids; 0 for a row hit on one side
        only.
    """
    n_matched, n_gen, n_real = _row_counts(generated, real, tolerance)
    _, _, f1 = _prf(n_matched, n_gen, n_real)
    return np.where((n_gen == 0) & (n_real == 0), np.nan, f1)


def mean_row_onset_f1(generated: np.ndarray, real: np.ndarray, *, tolerance: int = 0) -> float:
    """The project's "per-row onset F1": mean of :func:`per_row_onset_f1` over the rows the real
    drums use.

    Only rows with at least one real hit enter the mean, each with equal weight (a ride used in two
    bars counts as much as the kick). Rows the real drums never use but the generated drums do are
    *not* in this mean; their hits are penalised by the pooled :func:`onset_f1` (as false positives
    lowering precision). NaN when the real drums have no hit at all.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
    tolerance : int >= 0

    Returns
    -------
    float
        In [0, 1], or NaN.
    """
    n_real = (_check_grid(real, "real") > 0).sum(axis=(0, 2))
    used = n_real > 0
    if not used.any():
        return float("nan")
    return float(per_row_onset_f1(generated, real, tolerance=tolerance)[used].mean())


def density_error(generated: np.ndarray, real: np.ndarray) -> float:
    """Mean over bars of ``|hits(generated bar) - hits(real bar)|``, hits counted over all cells.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]

    Returns
    -------
    float
        Hits per bar, >= 0 (0 when every bar has the right number of hits).
    """
    gen_hits, real_hits = _check_pair(generated, real)
    diff = gen_hits.sum(axis=(1, 2)).astype(np.int64) - real_hits.sum(axis=(1, 2))
    return float(np.abs(diff).mean())


def cell_accuracy(
    generated: np.ndarray, real: np.ndarray, *, bar_steps: Sequence[int] | np.ndarray | None = None
) -> float:
    """The reference's "note score": share of all cells (bars x 46 rows x each bar's own steps)
    where hit / no hit agree.

    .. warning:: Drum grids are sparse, so an all-empty output scores about 97 % on real songs
       (97.77 % against the reference model's 97.36 %; DESIGN.md, "Known flaws" 2). Never report
       this number alone: only next to the silence baseline's, and next to onset F1.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, n_steps)]
    bar_steps : np.ndarray [shape=(n_bars,), int, steps], optional
        Each bar's own steps; padding cells are not counted. Default: the whole canvas.

    Returns
    -------
    float
        In [0, 1].
    """
    gen_hits, real_hits = _check_pair(generated, real)
    own = _own_steps(gen_hits, _bar_steps(bar_steps, gen_hits))
    return float(np.mean((gen_hits == real_hits)[own]))


# --------------------------------------------------------------------------------------------------
# Structure


def ssm_cosine(generated: np.ndarray, real: np.ndarray, *, scale: float = DEFAULT_SCALE) -> float:
    """The paper's structure measure: cosine similarity of the two flattened *similarity* matrices.

    ``S = 1 - drum_ssm(grid, scale=scale)`` for each grid (diagonal included), then
    ``<S_gen, S_real> / (|S_gen| |S_real|)``.

    .. warning:: Similarities are mostly close to 1, so any constant output (silence, one bar
       repeated) scores near 1 on a real song. Report it only next to :func:`ssm_pearson`.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
    scale : float
        Divisor of the drum distance, see :func:`drumgen.similarity.drum_ssm`.

    Returns
    -------
    float
        In [0, 1] (both matrices are non-negative with a diagonal of ones).
    """
    _check_pair(generated, real)
    gen_sim = 1.0 - drum_ssm(generated, scale=scale).astype(np.float64).ravel()
    real_sim = 1.0 - drum_ssm(real, scale=scale).astype(np.float64).ravel()
    return float(gen_sim @ real_sim / (np.linalg.norm(gen_sim) * np.linalg.norm(real_sim)))


def ssm_pearson(generated: np.ndarray, real: np.ndarray, *, scale: float = DEFAULT_SCALE) -> float:
    """The primary structure metric: Pearson correlation of the two drum distance SSMs' entries
    above the diagonal.

    ``r = corr(D_gen[i, j], D_real[i, j])`` over all ``i < j`` with ``D = drum_ssm(grid, scale)``.
    It measures whether the generated drums repeat and change where the real drums do, whatever
    the overall level of difference. Symmetric in its arguments; unchanged when hits common to
    every bar are added (distances stay the same) or, while no distance reaches the clip at 1, when
    ``scale`` changes.

    Edge cases: 0.0 when either set of entries is constant (silence, one bar repeated: no structure)
    or when ``n_bars < 3`` (fewer than two pairs).

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
    scale : float
        Divisor of the drum distance, see :func:`drumgen.similarity.drum_ssm`.

    Returns
    -------
    float
        In [-1, 1].
    """
    _check_pair(generated, real)
    n_bars = len(real)
    if n_bars < 3:
        return 0.0
    upper = np.triu_indices(n_bars, k=1)
    gen_d = drum_ssm(generated, scale=scale)[upper].astype(np.float64)
    real_d = drum_ssm(real, scale=scale)[upper].astype(np.float64)
    if np.ptp(gen_d) == 0 or np.ptp(real_d) == 0:
        return 0.0
    return float(np.clip(np.corrcoef(gen_d, real_d)[0, 1], -1.0, 1.0))


def repetition_consistency(generated: np.ndarray, real: np.ndarray) -> float:
    """Share of the real drums' repeated bar pairs that the generated drums repeat too.

    Over all pairs of distinct bars ``i < j`` whose real hit grids are identical, the share whose
    generated hit grids are identical as well. NaN when the real drums repeat no bar.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]

    Returns
    -------
    float
        In [0, 1], or NaN.
    """
    _check_pair(generated, real)
    i_idx, j_idx = _real_repeated_pairs(np.asarray(real))
    if len(i_idx) == 0:
        return float("nan")
    return float(_bar_equal(np.asarray(generated), i_idx, j_idx).mean())


def repetition_distance(generated: np.ndarray, real: np.ndarray, *, scale: float = DEFAULT_SCALE) -> float:
    """Mean drum distance, in the generated drums, of the bar pairs that repeat in the real drums.

    Over the same pairs as :func:`repetition_consistency`, the mean of
    ``drum_ssm(generated, scale=scale)[i, j]``: a softer version that credits near-repeats. Lower
    is better; 0 when every real repeat is repeated exactly. NaN when the real drums repeat no bar.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
    scale : float
        Divisor of the drum distance, see :func:`drumgen.similarity.drum_ssm`.

    Returns
    -------
    float
        In [0, 1], or NaN.
    """
    _check_pair(generated, real)
    i_idx, j_idx = _real_repeated_pairs(np.asarray(real))
    if len(i_idx) == 0:
        return float("nan")
    return float(drum_ssm(generated, scale=scale)[i_idx, j_idx].astype(np.float64).mean())


# --------------------------------------------------------------------------------------------------
# Single-grid sanity


def empty_bar_rate(grid: np.ndarray) -> float:
    """Share of bars without any hit.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]

    Returns
    -------
    float
        In [0, 1].
    """
    hits = _check_grid(grid) > 0
    return float(np.mean(~hits.any(axis=(1, 2))))


def drum_pattern_share(grid: np.ndarray) -> float:
    """MuseGAN's drum-pattern (DP) metric on a 16-step grid: share of hits on the 8th-note grid.

    With 16 steps per 4/4 bar, 8th notes are the even steps 0, 2, ..., 14; the metric is
    ``hits on even steps / all hits``, pooled over all rows and bars. (MuseGAN measures hits on
    an 8th or 16th grid of a finer time axis; on a 16th-note grid every hit is on the 16th grid, so
    the 8th grid is the informative part.)

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]

    Returns
    -------
    float
        In [0, 1]; NaN when the grid has no hit (skipped by :func:`aggregate`).
    """
    hits = _check_grid(grid) > 0
    n_hits = hits.sum()
    if n_hits == 0:
        return float("nan")
    return float(hits[:, :, 0::2].sum() / n_hits)


# --------------------------------------------------------------------------------------------------
# Musical sanity: kit pieces and kit classes (drumgen.kit)

BACKBEAT_STEPS: tuple[int, int] = (4, 12)
"""Steps of beats 2 and 4 in a 16-step 4/4 bar, where a backbeat puts its snare."""
FILL_MIN_TOM_HITS = 2
"""A bar with at least this many tom hits (kit-class cells) is a fill."""
FILL_MIN_LATE_SNARE_HITS = 3
"""A bar with at least this many snare-class hits in steps 8-15, more than in steps 0-7, is a fill."""

_SNARE = KIT_CLASSES.index("snare")
_CRASH = KIT_CLASSES.index("crash")
_TOM_CLASSES = [KIT_CLASSES.index(name) for name in ("tom_low", "tom_mid", "tom_high")]
_TIMEKEEPER_CLASSES = [KIT_CLASSES.index(name) for name in ("closed_hat", "open_hat", "ride")]
_LAYER_PIECES = [PIECES.index(name) for name in ("kick", "snare", "hihat")]
_SNARE_CLASS_ROWS = list(KIT_CLASS_ROWS["snare"])
_HIHAT_ROWS = list(PIECE_ROWS["hihat"])
_GROUP_CLASSES = {group: [KIT_CLASSES.index(name) for name in names] for group, names in PIECE_GROUPS.items()}


def _ratio(numerator: np.ndarray | int, denominator: np.ndarray | int) -> float:
    """``numerator / denominator`` as a float, NaN when the denominator is 0."""
    return float(numerator / denominator) if denominator else float("nan")


def _has_velocities(grid: np.ndarray) -> bool:
    return grid.dtype != np.bool_


def _bar_nonempty(grid: np.ndarray) -> np.ndarray:
    return np.any((grid > 0).reshape(len(grid), -1), axis=1)


def _backbeat_bars(classes: np.ndarray, common: np.ndarray) -> np.ndarray:
    """(n_bars,) bool: a 16-step bar (``common``) with a snare-class hit on both backbeat steps;
    ``classes`` from to_kit_classes."""
    return common & classes[:, _SNARE, BACKBEAT_STEPS[0]] & classes[:, _SNARE, BACKBEAT_STEPS[1]]


def _fill_bars(classes: np.ndarray, bar_steps: np.ndarray) -> np.ndarray:
    """(n_bars,) bool: :func:`fill_bars` on the kit-class grid, halves of each bar's own steps."""
    n_toms = classes[:, _TOM_CLASSES].sum(axis=(1, 2))
    late_half = np.arange(classes.shape[-1])[None, :] >= (bar_steps // 2)[:, None]
    snares = classes[:, _SNARE].astype(np.int64)
    early = (snares * ~late_half).sum(axis=1)
    late = (snares * late_half).sum(axis=1)
    return (n_toms >= FILL_MIN_TOM_HITS) | ((late >= FILL_MIN_LATE_SNARE_HITS) & (late > early))


def _backbeat_share(classes: np.ndarray, nonempty: np.ndarray, common: np.ndarray) -> float:
    """Share of the non-empty 16-step bars with a backbeat (``classes`` from to_kit_classes)."""
    counted = nonempty & common
    return _ratio(_backbeat_bars(classes, common)[counted].sum(), counted.sum())


def _missing_snare(gen_classes: np.ndarray, real_classes: np.ndarray, common: np.ndarray) -> float:
    """Share of the real backbeat bars where the generated bar has no snare-class hit."""
    backbeat = _backbeat_bars(real_classes, common)
    no_snare = ~np.any(gen_classes[:, _SNARE], axis=1)
    return _ratio(no_snare[backbeat].sum(), backbeat.sum())


def _layered(grid: np.ndarray) -> float:
    """Share of kick / snare / hi-hat onsets with two or more rows of the piece at once."""
    counts = to_pieces(grid)[:, _LAYER_PIECES]
    return _ratio((counts >= 2).sum(), (counts >= 1).sum())


def _silent_play(gen_nonempty: np.ndarray, real_nonempty: np.ndarray) -> float:
    """Share of the real drums' silent bars where the generated drums play."""
    return _ratio(gen_nonempty[~real_nonempty].sum(), (~real_nonempty).sum())


def _crash_bars(classes: np.ndarray) -> np.ndarray:
    return np.any(classes[:, _CRASH, :2], axis=1)


def _check_change_bars(change_bars: Sequence[int] | np.ndarray, n_bars: int) -> np.ndarray:
    changes = np.asarray(change_bars)
    if changes.size == 0:
        return np.zeros(0, dtype=np.int64)
    if changes.ndim != 1 or not (np.issubdtype(changes.dtype, np.integer) or np.all(np.mod(changes, 1) == 0)):
        raise ParameterError(f"change_bars must be a 1-d array of bar indices, got {change_bars!r}")
    changes = np.unique(changes.astype(np.int64))
    if changes[0] < 0 or changes[-1] >= n_bars:
        raise ParameterError(
            f"change_bars must lie in [0, {n_bars - 1}] (n_bars = {n_bars}), got {changes.tolist()}"
        )
    return changes


def _change_coverage(fills: np.ndarray, crashes: np.ndarray, changes: np.ndarray) -> float:
    if len(changes) == 0:
        return float("nan")
    before = np.where(changes >= 1, fills[np.maximum(changes - 1, 0)], False)
    covered = before | fills[changes] | crashes[changes]
    return float(covered.mean())


def _fills_elsewhere(fills: np.ndarray, changes: np.ndarray) -> float:
    near = (changes[:, None] + np.array([-2, -1, 0])).ravel()
    elsewhere = np.ones(len(fills), dtype=bool)
    elsewhere[near[near >= 0]] = False
    return _ratio(fills[elsewhere].sum(), elsewhere.sum())


def _group_f1(gen_classes: np.ndarray, real_classes: np.ndarray) -> dict[str, float]:
    n_matched = (gen_classes & real_classes).sum(axis=(0, 2))
    n_gen, n_real = gen_classes.sum(axis=(0, 2)), real_classes.sum(axis=(0, 2))
    result = {}
    for group, idx in _GROUP_CLASSES.items():
        total = n_gen[idx].sum() + n_real[idx].sum()
        result[group] = _ratio(2 * n_matched[idx].sum(), total)
    return result


def _repeat_rates(grid: np.ndarray) -> tuple[float, float]:
    """(consecutive, two-bar) repeat rates; see :func:`consecutive_repeat_rate`."""
    hits = (grid > 0).reshape(len(grid), -1)
    nonempty = np.any(hits, axis=1)
    if len(hits) < 2:
        return float("nan"), float("nan")
    same_1 = (hits[1:] == hits[:-1]).all(axis=1)  # bar b equals b - 1, b = 1 .. n - 1
    counted_1 = nonempty[1:] | nonempty[:-1]
    consecutive = _ratio((same_1 & nonempty[1:]).sum(), counted_1.sum())
    if len(hits) < 3:
        return consecutive, float("nan")
    same_2 = (hits[2:] == hits[:-2]).all(axis=1)  # bar b equals b - 2, b = 2 .. n - 1
    counted_2 = nonempty[2:] | nonempty[1:-1] | nonempty[:-2]
    repeats_2 = (same_1[1:] | same_2) & nonempty[2:]
    return consecutive, _ratio(repeats_2.sum(), counted_2.sum())


def _backbeat_hat_gap(grid: np.ndarray, common: np.ndarray) -> float:
    if not _has_velocities(grid):
        return float("nan")
    snares = grid[common][:, _SNARE_CLASS_ROWS][:, :, list(BACKBEAT_STEPS)]
    hats = grid[:, _HIHAT_ROWS]
    snares, hats = snares[snares > 0], hats[hats > 0]
    if len(snares) == 0 or len(hats) == 0:
        return float("nan")
    return float(snares.astype(np.float64).mean() - hats.astype(np.float64).mean())


def _steady_pulse(classes: np.ndarray, common: np.ndarray) -> float:
    """Share of the 16-step bars with 2 or more timekeeper strokes whose strokes are the same on
    every beat (``classes`` from to_kit_classes; a wider canvas's padding steps are left out)."""
    keeper = classes[common][:, _TIMEKEEPER_CLASSES, :N_STEPS].any(axis=1)  # (n_common, 16)
    playing = keeper.sum(axis=1) >= 2
    beats = keeper[playing].reshape(-1, N_STEPS // STEPS_PER_QUARTER, STEPS_PER_QUARTER)
    return _ratio(int((beats == beats[:, :1]).all(axis=(1, 2)).sum()), int(playing.sum()))


def _velocity_std(grid: np.ndarray) -> float:
    if not _has_velocities(grid):
        return float("nan")
    velocities = grid[grid > 0]
    if len(velocities) < 2:
        return float("nan")
    return float(velocities.astype(np.float64).std())


def kit_onset_f1(generated: np.ndarray, real: np.ndarray, *, tolerance: int = 0) -> float:
    """Onset F1 over the 9 kit classes: equivalent notes merged (35 = 36, 37 = 38 = 40, ...).

    Both grids are reduced by :func:`drumgen.kit.to_kit_classes` (a class sounds on a step if any
    of its rows does), then scored by :func:`onset_f1`, pooled over the song. A kick on 35 against a
    real kick on 36 is wrong for :func:`onset_f1` but right here.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
        Drum grids of one song, any dtype; a cell is a hit when > 0.
    tolerance : int >= 0
        Largest distance in steps between matched hits, as in :func:`onset_prf`.

    Returns
    -------
    float
        In [0, 1]; 1 when neither grid has a hit, 0 when only one has (the :func:`onset_prf`
        conventions). Never NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from drumgen.representation import pitch_to_row
    >>> generated, real = np.zeros((2, 1, 46, 16), np.uint8)
    >>> generated[0, pitch_to_row(35), 0] = real[0, pitch_to_row(36), 0] = 100
    >>> onset_f1(generated, real), kit_onset_f1(generated, real)
    (0.0, 1.0)
    """
    generated, real = _check_same_shape(generated, real, full_grid=True)
    return onset_f1(to_kit_classes(generated), to_kit_classes(real), tolerance=tolerance)


def piece_group_f1(generated: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """Onset F1 of each coarse group of kit classes (:data:`drumgen.kit.PIECE_GROUPS`).

    Over the kit-class grids (:func:`drumgen.kit.to_kit_classes`), per group:
    ``F1 = 2 m / (G + R)`` with the group's matched, generated and real class hits (same bar,
    class and step) pooled over the song and over the group's classes. So an open hat for a closed
    hat is a miss in ``"hats"``, but a tom 45 for a tom 41 is a hit in ``"toms"``.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
        Drum grids of one song, any dtype; a cell is a hit when > 0.

    Returns
    -------
    dict[str, float]
        Group (``"kick"``, ``"snare"``, ``"hats"``, ``"toms"``, ``"cymbals"``, in that order) ->
        F1 in [0, 1]; NaN for a group in which neither grid has a hit, 0 when only one has.
    """
    generated, real = _check_same_shape(generated, real, full_grid=True)
    return _group_f1(to_kit_classes(generated), to_kit_classes(real))


def backbeat_rate(grid: np.ndarray, *, bar_steps: Sequence[int] | np.ndarray | None = None) -> float:
    """Share of the non-empty 16-step bars with a backbeat: a snare-class hit on both steps 4 and 12.

    "Snare class" is the kit class ``"snare"`` of :data:`drumgen.kit.KIT_CLASSES` (snares 38 / 40,
    side stick 37, clap 39 and the other sounds folded into it); the steps are
    :data:`BACKBEAT_STEPS`, beats 2 and 4.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, n_steps)]
        Any dtype; a cell is a hit when > 0.
    bar_steps : np.ndarray [shape=(n_bars,), int, steps], optional
        Each bar's own steps; only 16-step bars count. Default: every bar the whole canvas.

    Returns
    -------
    float
        In [0, 1]; NaN when no 16-step bar has a hit.
    """
    grid = _check_grid(grid, full_grid=True)
    common = _common_bars(_bar_steps(bar_steps, grid))
    return _backbeat_share(to_kit_classes(grid), _bar_nonempty(grid), common)


def missing_snare_rate(
    generated: np.ndarray, real: np.ndarray, *, bar_steps: Sequence[int] | np.ndarray | None = None
) -> float:
    """Among the bars where the real drums play a backbeat, the share where the generated bar has
    no snare-class hit at all (on any step).

    A real backbeat bar is a 16-step bar with a snare-class hit on both steps 4 and 12 (see
    :func:`backbeat_rate`, and its ``bar_steps``).
    Lower is better; 0 when every such bar has some snare in the generated drums.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
        Drum grids of one song, any dtype; a cell is a hit when > 0.

    Returns
    -------
    float
        In [0, 1]; NaN when no real bar has a backbeat.
    """
    generated, real = _check_same_shape(generated, real, full_grid=True)
    common = _common_bars(_bar_steps(bar_steps, real))
    return _missing_snare(to_kit_classes(generated), to_kit_classes(real), common)


def consecutive_repeat_rate(grid: np.ndarray) -> float:
    """Share of bars that repeat the bar before exactly (hits only, velocities ignored).

    Over the bars ``b = 1 .. n_bars - 1`` for which bar ``b - 1`` or bar ``b`` has a hit (two
    silent bars in a row are not counted: silence would otherwise "repeat" perfectly), the share
    whose hit grid equals that of bar ``b - 1``.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Any dtype; a cell is a hit when > 0.

    Returns
    -------
    float
        In [0, 1]; NaN when no pair of neighbouring bars has a hit (one bar, or silence).
    """
    return _repeat_rates(_check_grid(grid, full_grid=True))[0]


def two_bar_repeat_rate(grid: np.ndarray) -> float:
    """Share of bars that repeat one of the two bars before exactly (hits only): A A, A B A B, ...

    Over the bars ``b = 2 .. n_bars - 1`` for which at least one of bars ``b - 2``, ``b - 1``,
    ``b`` has a hit, the share of bars ``b`` that have a hit and equal bar ``b - 1`` or bar
    ``b - 2`` (as in :func:`consecutive_repeat_rate`, silence never repeats). At least
    :func:`consecutive_repeat_rate` up to the first bar; A B A B scores 1 here and 0 there.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Any dtype; a cell is a hit when > 0.

    Returns
    -------
    float
        In [0, 1]; NaN when no bar qualifies (fewer than 3 bars, or silence).
    """
    return _repeat_rates(_check_grid(grid, full_grid=True))[1]


def layered_rate(grid: np.ndarray) -> float:
    """Share of kick, snare and hi-hat onsets where two or more sounds of that piece are layered.

    A piece onset is a (bar, piece, step) where at least one row of the kit piece sounds (pieces
    ``"kick"``, ``"snare"``, ``"hihat"`` of :data:`drumgen.kit.PIECE_ROWS`: kick 35 / 36, snare
    38 / 40 / 37 / 39, hi-hat 42 / 44 / 46). It is *layered* when 2 or more of its rows sound
    together, which one limb cannot play (35 and 36 on one step). Real drums score close to 0.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Any dtype; a cell is a hit when > 0.

    Returns
    -------
    float
        In [0, 1]; NaN when none of the three pieces sounds.
    """
    return _layered(_check_grid(grid, full_grid=True))


def fill_bars(grid: np.ndarray, *, bar_steps: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Which bars are fills.

    Counted on the kit-class grid (:func:`drumgen.kit.to_kit_classes`, one hit per class and step),
    a bar is a fill when it has

    - at least :data:`FILL_MIN_TOM_HITS` (2) tom hits (classes ``tom_low``, ``tom_mid``,
      ``tom_high``), or
    - at least :data:`FILL_MIN_LATE_SNARE_HITS` (3) snare-class hits in the second half of its
      own steps (8-15 in 4/4, 6-11 in 3/4) and more snare-class hits there than in the first half.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Any dtype; a cell is a hit when > 0.

    Returns
    -------
    np.ndarray [shape=(n_bars,), bool]

    Examples
    --------
    >>> import numpy as np
    >>> from drumgen.representation import pitch_to_row
    >>> grid = np.zeros((2, 46, 16), np.uint8)
    >>> grid[1, pitch_to_row(48), 12] = grid[1, pitch_to_row(45), 14] = 100
    >>> fill_bars(grid).tolist()
    [False, True]
    """
    grid = _check_grid(grid, full_grid=True)
    return _fill_bars(to_kit_classes(grid), _bar_steps(bar_steps, grid))


def crash_bars(grid: np.ndarray) -> np.ndarray:
    """Which bars open with a crash: a crash-class hit (49, 55, 57) on step 0 or 1.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Any dtype; a cell is a hit when > 0.

    Returns
    -------
    np.ndarray [shape=(n_bars,), bool]
    """
    return _crash_bars(to_kit_classes(_check_grid(grid, full_grid=True)))


def fill_rate(grid: np.ndarray, *, bar_steps: Sequence[int] | np.ndarray | None = None) -> float:
    """Share of bars that are fills (:func:`fill_bars`).

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Any dtype; a cell is a hit when > 0.

    Returns
    -------
    float
        In [0, 1]; never NaN.
    """
    return float(fill_bars(grid, bar_steps=bar_steps).mean())


def change_coverage(
    grid: np.ndarray,
    change_bars: Sequence[int] | np.ndarray,
    *,
    bar_steps: Sequence[int] | np.ndarray | None = None,
) -> float:
    """Share of section changes marked by a fill or a crash within one bar.

    A change at bar ``c`` (the first bar of a new section in the real drums) is *covered* when
    bar ``c - 1`` or bar ``c`` is a fill (:func:`fill_bars`), or bar ``c`` opens with a crash
    (:func:`crash_bars`). Duplicate changes count once; for ``c = 0`` only bar 0 is looked at.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Any dtype; a cell is a hit when > 0.
    change_bars : array of int [shape=(n_changes,)]
        Bar indices in ``[0, n_bars)`` where a section begins.

    Returns
    -------
    float
        In [0, 1]; NaN when ``change_bars`` is empty.

    Examples
    --------
    >>> import numpy as np
    >>> from drumgen.representation import pitch_to_row
    >>> grid = np.zeros((8, 46, 16), np.uint8)
    >>> grid[4, pitch_to_row(49), 0] = 110
    >>> change_coverage(grid, [4]), change_coverage(grid, [2, 4])
    (1.0, 0.5)
    """
    grid = _check_grid(grid, full_grid=True)
    changes = _check_change_bars(change_bars, len(grid))
    classes = to_kit_classes(grid)
    return _change_coverage(_fill_bars(classes, _bar_steps(bar_steps, grid)), _crash_bars(classes), changes)


def fills_elsewhere_rate(
    grid: np.ndarray,
    change_bars: Sequence[int] | np.ndarray,
    *,
    bar_steps: Sequence[int] | np.ndarray | None = None,
) -> float:
    """Share of fill bars among the bars away from every section change.

    A bar is *away* when it is none of ``c - 2``, ``c - 1``, ``c`` for any change ``c`` in
    ``change_bars``; the result is the share of fills (:func:`fill_bars`) among those bars. Fills
    mid-section are what a drummer rarely plays: lower is better, next to :func:`change_coverage`.
    With no change at all every bar is away (the value is :func:`fill_rate`).

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Any dtype; a cell is a hit when > 0.
    change_bars : array of int [shape=(n_changes,)]
        Bar indices in ``[0, n_bars)`` where a section begins.

    Returns
    -------
    float
        In [0, 1]; NaN when every bar is near a change.
    """
    grid = _check_grid(grid, full_grid=True)
    changes = _check_change_bars(change_bars, len(grid))
    return _fills_elsewhere(_fill_bars(to_kit_classes(grid), _bar_steps(bar_steps, grid)), changes)


def silent_bar_play_rate(generated: np.ndarray, real: np.ndarray) -> float:
    """Among the bars where the real drums are silent, the share where the generated drums play.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
        Drum grids of one song, any dtype; a cell is a hit when > 0.

    Returns
    -------
    float
        In [0, 1], lower is better; NaN when every real bar has a hit.
    """
    generated, real = _check_same_shape(generated, real, full_grid=True)
    return _silent_play(_bar_nonempty(generated), _bar_nonempty(real))


def velocity_std(grid: np.ndarray) -> float:
    """Standard deviation of the velocities of all hits (population, ``ddof = 0``).

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Velocities (1-127 at hits, 0 elsewhere), e.g. uint8.

    Returns
    -------
    float
        In MIDI velocity units, >= 0 (0 for flat dynamics); NaN for a bool grid (no velocities) or
        fewer than 2 hits.
    """
    return _velocity_std(_check_grid(grid, full_grid=True))


def backbeat_hat_velocity_gap(
    grid: np.ndarray, *, bar_steps: Sequence[int] | np.ndarray | None = None
) -> float:
    """Mean velocity of the backbeat snares minus mean velocity of the hi-hats.

    Snares are the snare-class hits (kit class ``"snare"``, every row of it, layered hits each
    counted) on steps 4 and 12 of any bar; hi-hats are all hits of the hi-hat piece (rows of 42,
    44, 46) on any step. Drummers accent the backbeat over the hats: real drums are usually > 0.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Velocities (1-127 at hits, 0 elsewhere), e.g. uint8.

    Returns
    -------
    float
        In MIDI velocity units, in [-126, 126]; NaN for a bool grid, or when there is no backbeat
        snare or no hi-hat hit.
    """
    grid = _check_grid(grid, full_grid=True)
    return _backbeat_hat_gap(grid, _common_bars(_bar_steps(bar_steps, grid)))


def steady_pulse_rate(grid: np.ndarray, *, bar_steps: Sequence[int] | np.ndarray | None = None) -> float:
    """Share of the bars whose timekeeper plays the same strokes on every beat.

    The timekeeper is the kit classes ``"closed_hat"``, ``"open_hat"`` and ``"ride"`` together
    (a hat that opens on a step still keeps the pulse); counted are the 16-step bars where it
    strikes at least twice. A drummer's hats or ride are mostly an ostinato (eighths, sixteenths),
    broken by fills, crashes and accents: real drums of the validation songs score about 0.6.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, 16)]
        Hits (bool) or velocities.

    Returns
    -------
    float
        In [0, 1]; NaN when no bar counts.
    """
    grid = _check_grid(grid, full_grid=True)
    return _steady_pulse(to_kit_classes(grid), _common_bars(_bar_steps(bar_steps, grid)))


# --------------------------------------------------------------------------------------------------
# One song, many songs


SONG_METRIC_KEYS: tuple[str, ...] = (
    "onset_f1",
    "onset_precision",
    "onset_recall",
    "onset_f1_tol1",
    "row_onset_f1",
    "ssm_cosine",
    "ssm_pearson",
    "density_error",
    "empty_bar_rate",
    "drum_pattern",
    "repetition_consistency",
    "cell_accuracy",
    "kit_f1",
    "kick_f1",
    "snare_f1",
    "hats_f1",
    "toms_f1",
    "cymbals_f1",
    "backbeat_rate",
    "missing_snare_rate",
    "consecutive_repeat",
    "two_bar_repeat",
    "layered_rate",
    "fill_rate",
    "change_coverage",
    "fills_elsewhere",
    "silent_bar_play",
    "velocity_std",
    "backbeat_hat_gap",
    "steady_pulse",
)
"""Keys of :func:`song_metrics`, in order."""


def song_metrics(
    generated: np.ndarray,
    real: np.ndarray,
    *,
    scale: float = DEFAULT_SCALE,
    change_bars: Sequence[int] | np.ndarray | None = None,
    bar_steps: Sequence[int] | np.ndarray | None = None,
) -> dict[str, float]:
    """Every metric of one song.

    ``onset_*`` are :func:`onset_prf` at tolerance 0, ``onset_f1_tol1`` is :func:`onset_f1` at
    tolerance 1, ``row_onset_f1`` is :func:`mean_row_onset_f1` at tolerance 0; ``empty_bar_rate``
    and ``drum_pattern`` (:func:`drum_pattern_share`) describe the generated grid alone; the rest
    of the first twelve are the functions of the same name.

    The musical metrics follow: ``kit_f1`` is :func:`kit_onset_f1` (tolerance 0), ``kick_f1`` ...
    ``cymbals_f1`` are :func:`piece_group_f1`; ``missing_snare_rate`` is
    :func:`missing_snare_rate`, ``silent_bar_play`` :func:`silent_bar_play_rate`;
    ``backbeat_rate``, ``consecutive_repeat`` (:func:`consecutive_repeat_rate`),
    ``two_bar_repeat`` (:func:`two_bar_repeat_rate`), ``layered_rate``, ``fill_rate``,
    ``change_coverage``, ``fills_elsewhere`` (:func:`fills_elsewhere_rate`), ``velocity_std``,
    ``backbeat_hat_gap`` (:func:`backbeat_hat_velocity_gap`) and ``steady_pulse``
    (:func:`steady_pulse_rate`) describe the generated grid alone
    (NaN velocity metrics for a bool grid). Some entries may be NaN (see each function).

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
        ``generated`` bool (hits) or velocities; ``real`` velocities.
    scale : float
        Divisor of the drum distance for the SSM metrics.
    change_bars : array of int [shape=(n_changes,)], optional
        Bars where a section of the real drums begins; ``None`` makes ``change_coverage`` and
        ``fills_elsewhere`` NaN.
    bar_steps : np.ndarray [shape=(n_bars,), int, steps], optional
        Each bar's own steps on the canvas (:attr:`drumgen.meter.SongMeter.bar_steps`), for the
        metrics that need bar ends (module docstring, "Meters"); default: every bar the canvas.

    Returns
    -------
    dict[str, float]
        Keys :data:`SONG_METRIC_KEYS`, in that order.
    """
    prf = onset_prf(generated, real)
    steps = _bar_steps(bar_steps, _check_grid(real, "real"))
    result = {
        "onset_f1": prf["f1"],
        "onset_precision": prf["precision"],
        "onset_recall": prf["recall"],
        "onset_f1_tol1": onset_f1(generated, real, tolerance=1, bar_steps=steps),
        "row_onset_f1": mean_row_onset_f1(generated, real),
        "ssm_cosine": ssm_cosine(generated, real, scale=scale),
        "ssm_pearson": ssm_pearson(generated, real, scale=scale),
        "density_error": density_error(generated, real),
        "empty_bar_rate": empty_bar_rate(generated),
        "drum_pattern": drum_pattern_share(generated),
        "repetition_consistency": repetition_consistency(generated, real),
        "cell_accuracy": cell_accuracy(generated, real, bar_steps=steps),
    }
    result.update(_musical_metrics(generated, real, change_bars, steps))
    return result


def _musical_metrics(
    generated: np.ndarray,
    real: np.ndarray,
    change_bars: Sequence[int] | np.ndarray | None,
    bar_steps: np.ndarray,
) -> dict[str, float]:
    """The musical part of :func:`song_metrics`, each kit-class grid computed once."""
    generated, real = _check_same_shape(generated, real, full_grid=True)
    gen_classes, real_classes = to_kit_classes(generated), to_kit_classes(real)
    gen_nonempty, real_nonempty = _bar_nonempty(generated), _bar_nonempty(real)
    groups = _group_f1(gen_classes, real_classes)
    consecutive, two_bar = _repeat_rates(generated)
    fills = _fill_bars(gen_classes, bar_steps)
    common = _common_bars(bar_steps)
    coverage, elsewhere = float("nan"), float("nan")
    if change_bars is not None:
        changes = _check_change_bars(change_bars, len(generated))
        coverage = _change_coverage(fills, _crash_bars(gen_classes), changes)
        elsewhere = _fills_elsewhere(fills, changes)
    return {
        "kit_f1": onset_f1(gen_classes, real_classes),
        **{f"{group}_f1": value for group, value in groups.items()},
        "backbeat_rate": _backbeat_share(gen_classes, gen_nonempty, common),
        "missing_snare_rate": _missing_snare(gen_classes, real_classes, common),
        "consecutive_repeat": consecutive,
        "two_bar_repeat": two_bar,
        "layered_rate": _layered(generated),
        "fill_rate": float(fills.mean()),
        "change_coverage": coverage,
        "fills_elsewhere": elsewhere,
        "silent_bar_play": _silent_play(gen_nonempty, real_nonempty),
        "velocity_std": _velocity_std(generated),
        "backbeat_hat_gap": _backbeat_hat_gap(generated, common),
        "steady_pulse": _steady_pulse(gen_classes, common),
    }


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of per-song values and its percentile-bootstrap confidence interval.

    NaN values are dropped first. The songs are resampled with replacement ``n_resamples`` times
    (seeded); the interval is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of
    the resampled means.

    Parameters
    ----------
    values : sequence of float [shape=(n_songs,)]
    n_resamples : int >= 1
    confidence : float in (0, 1)
    seed : int
        Seed of the resampling (same seed, same interval).

    Returns
    -------
    (mean, low, high) : tuple of float
        All NaN when no value is left; ``low == high == mean`` when all values are equal (one song
        included).
    """
    if n_resamples < 1:
        raise ParameterError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence}")
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if np.ptp(values) == 0:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    low, high = np.quantile(means, [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    return mean, float(low), float(high)


def aggregate(per_song: list[dict[str, float]], *, seed: int = 0) -> dict[str, dict[str, float]]:
    """Mean and 95 % bootstrap interval over songs of every metric.

    Parameters
    ----------
    per_song : list of dict[str, float]
        One :func:`song_metrics` result (or any dict of floats) per song. A key missing from a song
        counts as NaN for it.
    seed : int
        Seed of :func:`bootstrap_ci` (the same for every metric).

    Returns
    -------
    dict[str, dict[str, float]]
        Per metric, in order of first appearance: ``{"mean", "ci_low", "ci_high", "n"}``, where
        ``n`` is the number of songs with a non-NaN value (an ``int``) and the rest come from
        :func:`bootstrap_ci` (NaN when ``n == 0``).
    """
    keys = list(dict.fromkeys(key for song in per_song for key in song))
    result: dict[str, dict[str, float]] = {}
    for key in keys:
        values = np.array([song.get(key, np.nan) for song in per_song], dtype=np.float64)
        mean, low, high = bootstrap_ci(values, seed=seed)
        result[key] = {"mean": mean, "ci_low": low, "ci_high": high, "n": int(np.sum(~np.isnan(values)))}
    return result


def boundary_scores(
    found: Sequence[int] | np.ndarray, real: Sequence[int] | np.ndarray, *, tolerance: int = 1
) -> dict[str, float]:
    """How well found section boundaries match the real ones, within ``tolerance`` bars.

    A found boundary is correct when a real one lies within ``tolerance`` bars of it (precision);
    a real boundary is found when a found one lies within ``tolerance`` bars of it (recall).

    Parameters
    ----------
    found, real : array of int [shape=(n_found,), (n_real,)]
        Bar indices where a section starts (bar 0 excluded), e.g. ``Sections.changes`` and
        :func:`drumgen.sections.drum_section_changes` of the real drums.
    tolerance : int >= 0

    Returns
    -------
    dict
        "precision", "recall", "f1" (0 for an empty side against a non-empty one; all NaN when
        both are empty).

    Examples
    --------
    >>> scores = boundary_scores([8, 15, 30], [8, 16, 24])
    >>> round(scores["precision"], 3), round(scores["recall"], 3)
    (0.667, 0.667)
    """
    tolerance = _check_tolerance(tolerance)
    found_bars = np.unique(np.asarray(found, dtype=np.int64))
    real_bars = np.unique(np.asarray(real, dtype=np.int64))
    if len(found_bars) == 0 and len(real_bars) == 0:
        return {"precision": math.nan, "recall": math.nan, "f1": math.nan}
    distances = np.abs(found_bars[:, None] - real_bars[None, :])
    close = distances <= tolerance
    precision = float(close.any(axis=1).mean()) if len(found_bars) else 0.0
    recall = float(close.any(axis=0).mean()) if len(real_bars) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
