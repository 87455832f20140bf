"""Metrics that compare generated drums with the real drums of the same song, bar by bar.

Every metric takes grids ``[shape=(n_bars, 46, 16)]`` of any dtype; a cell counts as a hit when it
is > 0 (velocities are ignored). Pair metrics take ``generated`` first and ``real`` second, with
equal shapes. Single numbers are returned as ``float``; ``NaN`` means "not defined for this song"
(e.g. no repeated bar in the real drums) and is skipped by :func:`aggregate`.

What the project reports (see DESIGN.md, "Evaluation"): structure by :func:`ssm_pearson` (the paper's
:func:`ssm_cosine` only next to it, because silence scores near 1 on it), notes by onset
precision / recall / F1 and :func:`density_error`, musical sanity by :func:`empty_bar_rate`,
:func:`drum_pattern_share` and :func:`repetition_consistency`. :func:`cell_accuracy` is the
reference's "note score", which silence wins (DESIGN.md, "Known flaws" 2): report it only next to
the silence baseline.

Used by the evaluation notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from drumgen.exceptions import ParameterError
from drumgen.similarity import drum_ssm

DEFAULT_SCALE = 15.0
"""Divisor of the drum distance (the reference's 15), as in :func:`drumgen.similarity.drum_ssm`."""


# --------------------------------------------------------------------------------------------------
# Input checks and shared helpers


def _check_grid(grid: np.ndarray, name: str = "grid") -> np.ndarray:
    grid = np.asarray(grid)
    if grid.ndim != 3 or grid.shape[0] < 1:
        raise ParameterError(f"{name} must have shape (n_bars >= 1, n_rows, n_steps), got {grid.shape}")
    return grid


def _check_pair(generated: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    generated = _check_grid(generated, "generated")
    real = _check_grid(real, "real")
    if generated.shape != real.shape:
        raise ParameterError(
            f"generated and real must have the same shape, got {generated.shape} and {real.shape}"
        )
    return generated > 0, real > 0


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
    generated: np.ndarray, real: np.ndarray, tolerance: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: matched generated hits, generated hits, real hits (each shape (n_rows,), int)."""
    gen_hits, real_hits = _check_pair(generated, real)
    tolerance = _check_tolerance(tolerance)
    n_gen = gen_hits.sum(axis=(0, 2))
    n_real = real_hits.sum(axis=(0, 2))
    if tolerance == 0:
        return (gen_hits & real_hits).sum(axis=(0, 2)), n_gen, n_real
    # Each row as one continuous step sequence over the whole song (bar boundaries vanish).
    gen_rows = gen_hits.transpose(1, 0, 2).reshape(gen_hits.shape[1], -1)
    real_rows = real_hits.transpose(1, 0, 2).reshape(real_hits.shape[1], -1)
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


def onset_prf(generated: np.ndarray, real: np.ndarray, *, tolerance: int = 0) -> dict[str, float]:
    """Onset precision, recall and F1 of the generated drums, pooled over the whole song.

    A generated hit is *correct* when it is matched to a real hit on the same row. With
    ``tolerance = 0`` a match is the same cell (same bar, row and step). With ``tolerance = t > 0``
    each row is read as one continuous step sequence over the song (bar ``b``, step ``s`` is step
    ``16 b + s``), so a window may cross a bar line; a generated hit matches a real hit of its row
    at most ``t`` steps away, and matching is one-to-one: each real hit validates at most one
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

    Returns
    -------
    dict[str, float]
        Keys ``"precision"``, ``"recall"``, ``"f1"``, each in [0, 1].
    """
    counts = (c.sum() for c in _row_counts(generated, real, tolerance))
    precision, recall, f1 = _prf(*counts)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def onset_f1(generated: np.ndarray, real: np.ndarray, *, tolerance: int = 0) -> float:
    """Onset F1 of the generated drums, pooled over the song: ``onset_prf(...)["f1"]``.

    See :func:`onset_prf` for the definition, the matching with ``tolerance`` and the edge cases.
    """
    return onset_prf(generated, real, tolerance=tolerance)["f1"]


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


def cell_accuracy(generated: np.ndarray, real: np.ndarray) -> float:
    """The reference's "note score": share of all cells (bars x 46 rows x 16 steps) where hit /
    no hit agree.

    .. warning:: Drum grids are sparse, so an all-empty output scores about 97 % on real songs
       (97.77 % against the reference model's 97.36 %; DESIGN.md, "Known flaws" 2). Never report
       this number alone: only next to the silence baseline's, and next to onset F1.

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]

    Returns
    -------
    float
        In [0, 1].
    """
    gen_hits, real_hits = _check_pair(generated, real)
    return float(np.mean(gen_hits == real_hits))


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
)
"""Keys of :func:`song_metrics`, in order."""


def song_metrics(
    generated: np.ndarray, real: np.ndarray, *, scale: float = DEFAULT_SCALE
) -> dict[str, float]:
    """Every metric of one song.

    ``onset_*`` are :func:`onset_prf` at tolerance 0, ``onset_f1_tol1`` is :func:`onset_f1` at
    tolerance 1, ``row_onset_f1`` is :func:`mean_row_onset_f1` at tolerance 0; ``empty_bar_rate``
    and ``drum_pattern`` (:func:`drum_pattern_share`) describe the generated grid alone; the rest
    are the functions of the same name. Some entries may be NaN (see each function).

    Parameters
    ----------
    generated, real : np.ndarray [shape=(n_bars, 46, 16)]
    scale : float
        Divisor of the drum distance for the SSM metrics.

    Returns
    -------
    dict[str, float]
        Keys :data:`SONG_METRIC_KEYS`, in that order.
    """
    prf = onset_prf(generated, real)
    return {
        "onset_f1": prf["f1"],
        "onset_precision": prf["precision"],
        "onset_recall": prf["recall"],
        "onset_f1_tol1": onset_f1(generated, real, tolerance=1),
        "row_onset_f1": mean_row_onset_f1(generated, real),
        "ssm_cosine": ssm_cosine(generated, real, scale=scale),
        "ssm_pearson": ssm_pearson(generated, real, scale=scale),
        "density_error": density_error(generated, real),
        "empty_bar_rate": empty_bar_rate(generated),
        "drum_pattern": drum_pattern_share(generated),
        "repetition_consistency": repetition_consistency(generated, real),
        "cell_accuracy": cell_accuracy(generated, real),
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
