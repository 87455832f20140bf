"""Song sections (verse, chorus, ...) found on bar-level self-similarity matrices.

An SSM here is a *distance* matrix [shape=(n_bars, n_bars)]: 0 = identical bars, symmetric, zero
diagonal (see :mod:`drumgen.similarity`). Finding sections takes three steps:

1. :func:`combine_ssms` rank-normalises the melodic SSM and (optionally) a drum SSM to [0, 1] and
   takes their weighted mean, so SSMs of different scales combine.
2. :func:`novelty_curve` slides Foote's Gaussian-tapered checkerboard kernel along the diagonal of
   the similarity ``1 - distance``; :func:`find_boundaries` takes its peaks as section starts.
3. :func:`label_segments` gives segments that repeat the same letter ("A", "B", "A", "C").

:func:`find_sections` does all three and returns a :class:`Sections`; :func:`find_sections_with`
reads the settings from a :class:`drumgen.config.SectionConfig`. :func:`drum_section_changes`
finds the section changes of one drum SSM alone (where a real drummer changes section).

Used by notebooks ``step_2_generate_drum_ssm_from_melodic_ssm`` and
``step_3_extract_bar_selection_info``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import find_peaks

from drumgen.config import DrumChangeConfig, SectionConfig
from drumgen.exceptions import ParameterError

_RANK_DECIMALS = 9
"""Distances are ranked after rounding (relative to their range), so float noise cannot break a tie."""

_NOVELTY_TOLERANCE = 1e-9
"""A novelty curve whose max is below this (times the SSM's scale) is float noise: all zero."""


def section_label(label_idx: int) -> str:
    """The name of the ``label_idx``-th distinct section: "A" ... "Z", then "A2" ... "Z2", "A3" ...

    Parameters
    ----------
    label_idx : int >= 0

    Returns
    -------
    str
    """
    if label_idx < 0:
        raise ParameterError(f"label_idx must be >= 0, got {label_idx}")
    letter = string.ascii_uppercase[label_idx % 26]
    cycle = label_idx // 26
    return letter if cycle == 0 else f"{letter}{cycle + 1}"


@dataclass(frozen=True, eq=False)
class Sections:
    """A song cut into consecutive sections, each with a label.

    Attributes
    ----------
    starts : np.ndarray [shape=(n_sections,), int64]
        First bar of each section, strictly ascending, ``starts[0] == 0``. Read-only.
    labels : tuple of str [length n_sections]
        Section labels; sections that repeat share a label ("A", "B", "A", "C").
    n_bars : int
        Number of bars of the song (>= 1).
    """

    starts: np.ndarray
    labels: tuple[str, ...]
    n_bars: int

    def __post_init__(self) -> None:
        if isinstance(self.n_bars, bool) or not isinstance(self.n_bars, int | np.integer):
            raise ParameterError(f"n_bars must be an int, got {type(self.n_bars).__name__}")
        if self.n_bars < 1:
            raise ParameterError(f"n_bars must be >= 1, got {self.n_bars}")
        raw = np.asarray(self.starts)
        if raw.ndim != 1 or raw.size == 0:
            raise ParameterError(f"starts must be a non-empty 1-d array, got shape {raw.shape}")
        if raw.dtype.kind not in "iu" and not (raw.dtype.kind == "f" and np.all(raw == np.round(raw))):
            raise ParameterError(f"starts must hold integers, got dtype {raw.dtype}")
        starts = raw.astype(np.int64)
        if starts[0] != 0:
            raise ParameterError(f"starts[0] must be 0, got {starts[0]}")
        if np.any(np.diff(starts) <= 0):
            raise ParameterError(f"starts must be strictly ascending, got {starts.tolist()}")
        if starts[-1] >= self.n_bars:
            raise ParameterError(f"starts must lie below n_bars={self.n_bars}, got {starts.tolist()}")
        labels = tuple(self.labels)
        if len(labels) != len(starts):
            raise ParameterError(f"expected {len(starts)} labels (one per section), got {len(labels)}")
        if not all(isinstance(label, str) and label for label in labels):
            raise ParameterError(f"labels must be non-empty strings, got {labels!r}")
        starts.setflags(write=False)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "n_bars", int(self.n_bars))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sections):
            return NotImplemented
        return (
            self.n_bars == other.n_bars
            and self.labels == other.labels
            and np.array_equal(self.starts, other.starts)
        )

    def __hash__(self) -> int:
        return hash((tuple(self.starts.tolist()), self.labels, self.n_bars))

    @classmethod
    def whole_song(cls, n_bars: int) -> Sections:
        """The whole song as one section "A".

        Parameters
        ----------
        n_bars : int >= 1

        Returns
        -------
        Sections
        """
        return cls(starts=np.zeros(1, dtype=np.int64), labels=("A",), n_bars=n_bars)

    @property
    def n_sections(self) -> int:
        """Number of sections."""
        return len(self.starts)

    @property
    def ends(self) -> np.ndarray:
        """np.ndarray [shape=(n_sections,), int64]: one past the last bar of each section."""
        return np.append(self.starts[1:], self.n_bars).astype(np.int64)

    @property
    def lengths(self) -> np.ndarray:
        """np.ndarray [shape=(n_sections,), int64]: bars per section (sums to ``n_bars``)."""
        return self.ends - self.starts

    @property
    def changes(self) -> np.ndarray:
        """np.ndarray [shape=(n_sections - 1,), int64]: the bars where a new section begins."""
        return self.starts[1:].copy()

    @property
    def unique_labels(self) -> tuple[str, ...]:
        """The distinct labels in order of first appearance."""
        return tuple(dict.fromkeys(self.labels))

    def bar_section(self) -> np.ndarray:
        """Section index of each bar.

        Returns
        -------
        np.ndarray [shape=(n_bars,), int64]
            ``bar_section()[b]`` is the index into ``starts``/``labels`` of bar ``b``'s section.
        """
        return np.repeat(np.arange(self.n_sections, dtype=np.int64), self.lengths)

    def bar_label_idx(self) -> np.ndarray:
        """Label index of each bar (0 for the first label to appear, usually "A").

        Returns
        -------
        np.ndarray [shape=(n_bars,), int64]
            Index into :attr:`unique_labels`; bars of repeated sections share an index.
        """
        order = {label: idx for idx, label in enumerate(self.unique_labels)}
        section_label_idx = np.array([order[label] for label in self.labels], dtype=np.int64)
        return section_label_idx[self.bar_section()]

    def position_in_section(self) -> np.ndarray:
        """Each bar's position inside its section.

        Returns
        -------
        np.ndarray [shape=(n_bars,), int64]
            0 for a section's first bar, 1 for the next, ...
        """
        return np.arange(self.n_bars, dtype=np.int64) - np.repeat(self.starts, self.lengths)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"starts": [int, ...], "labels": [str, ...], "n_bars": int}``."""
        return {"starts": self.starts.tolist(), "labels": list(self.labels), "n_bars": self.n_bars}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sections:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        data : dict
            With keys "starts", "labels" and "n_bars".

        Returns
        -------
        Sections
        """
        missing = {"starts", "labels", "n_bars"} - set(data)
        if missing:
            raise ParameterError(
                f"a sections dict needs starts, labels and n_bars; missing {sorted(missing)}"
            )
        return cls(
            starts=np.asarray(data["starts"], dtype=np.int64),
            labels=tuple(data["labels"]),
            n_bars=int(data["n_bars"]),
        )


def _check_ssm(ssm: Any, *, name: str = "ssm") -> np.ndarray:
    ssm = np.asarray(ssm, dtype=np.float64)
    if ssm.ndim != 2 or ssm.shape[0] != ssm.shape[1]:
        raise ParameterError(f"expected a square {name} [shape=(n_bars, n_bars)], got shape {ssm.shape}")
    if ssm.shape[0] < 1:
        raise ParameterError(f"expected a {name} of at least one bar, got shape {ssm.shape}")
    if not np.all(np.isfinite(ssm)):
        raise ParameterError(f"expected finite values in {name}, got NaN or inf")
    return ssm


def _check_settings(*, kernel_bars: int, min_bars: int, peak_threshold: float) -> None:
    if kernel_bars < 2:
        raise ParameterError(f"kernel_bars must be >= 2, got {kernel_bars}")
    if min_bars < 1:
        raise ParameterError(f"min_bars must be >= 1, got {min_bars}")
    if not 0.0 <= peak_threshold <= 1.0:
        raise ParameterError(f"peak_threshold must be in [0, 1], got {peak_threshold}")


def _rank_normalise(ssm: np.ndarray) -> np.ndarray:
    """Symmetrise, then replace each off-diagonal distance by its mid-rank mapped to [0, 1]."""
    n_bars = ssm.shape[0]
    ssm = (ssm + ssm.T) / 2.0
    out = np.zeros((n_bars, n_bars), dtype=np.float64)
    rows, cols = np.triu_indices(n_bars, k=1)
    n_pairs = len(rows)
    if n_pairs == 0:
        return out
    distances = ssm[rows, cols]
    spread = float(distances.max() - distances.min())
    if n_pairs == 1 or spread == 0.0:
        values = np.full(n_pairs, 0.5)
    else:
        relative = np.round((distances - distances.min()) / spread, _RANK_DECIMALS)
        # mid-ranks (ties share their mean rank), like scipy.stats.rankdata(method="average")
        _, inverse, counts = np.unique(relative, return_inverse=True, return_counts=True)
        mid_ranks = np.cumsum(counts) - (counts - 1) / 2.0
        values = (mid_ranks[inverse] - 1.0) / (n_pairs - 1)
    out[rows, cols] = values
    out[cols, rows] = values
    return out


def combine_ssms(melodic: np.ndarray, drum: np.ndarray | None = None, *, melodic_weight: float) -> np.ndarray:
    """Combine a melodic and a drum SSM into one distance matrix on a common scale.

    Each input is symmetrised and rank-normalised over its off-diagonal entries: an entry becomes
    ``(rank - 1) / (n_pairs - 1)`` with ties sharing their mean rank (distances equal to 9 decimals
    of their range tie), so the smallest distance maps to 0, the largest to 1, and the result
    depends only on the order of the distances (scaling an input by a positive factor changes
    nothing). Note that ranking spreads even tiny differences over the whole range: the noise
    between the bars of a long, otherwise uniform stretch gets full contrast. The two are then
    averaged with weights ``melodic_weight`` and ``1 - melodic_weight``.

    Parameters
    ----------
    melodic : np.ndarray [shape=(n_bars, n_bars)]
        Melodic distance SSM.
    drum : np.ndarray [shape=(n_bars, n_bars)], optional
        Drum distance SSM (predicted or real). None: the normalised melodic SSM alone.
    melodic_weight : float in [0, 1]
        Weight of the melodic SSM; ignored when ``drum`` is None.

    Returns
    -------
    np.ndarray [shape=(n_bars, n_bars), float64, in [0, 1]]
        Symmetric distance matrix with a zero diagonal. A constant SSM maps to 0.5 off the diagonal.
    """
    melodic = _check_ssm(melodic, name="melodic SSM")
    combined = _rank_normalise(melodic)
    if drum is None:
        return combined
    if not 0.0 <= melodic_weight <= 1.0:
        raise ParameterError(f"melodic_weight must be in [0, 1], got {melodic_weight}")
    drum = _check_ssm(drum, name="drum SSM")
    if drum.shape != melodic.shape:
        raise ParameterError(f"expected SSMs of the same shape, got {melodic.shape} and {drum.shape}")
    combined = melodic_weight * combined + (1.0 - melodic_weight) * _rank_normalise(drum)
    np.fill_diagonal(combined, 0.0)
    return np.clip(combined, 0.0, 1.0)


def _kernel_offsets(kernel_bars: int) -> np.ndarray:
    half_before = kernel_bars // 2
    return np.arange(-half_before, kernel_bars - half_before)


def novelty_curve(ssm: np.ndarray, *, kernel_bars: int) -> np.ndarray:
    """Foote's checkerboard-kernel novelty of a distance SSM.

    The kernel is ``kernel_bars`` bars wide, centred on the corner between bar ``i - 1`` and bar
    ``i``: ``kernel_bars // 2`` bars before it, the rest after (even sizes are symmetric). Its
    entries are ``+g`` on the two within-window quadrants and ``-g`` on the two cross quadrants,
    with the radial Gaussian taper ``g = exp(-(u**2 + v**2) / (2 * sigma**2))``, ``u, v`` the
    distances in bars from the corner and ``sigma = kernel_bars / 2``. It is applied to the
    similarity ``1 - ssm``.

    At the song's edges the kernel reaches outside the song. Instead of zero-padding (which makes
    even a constant SSM peak near the edges), the positive and the negative part of the kernel are
    each renormalised to the entries inside the song, and the main diagonal (always 1) is left out:
    novelty = tapered mean similarity within the two windows - tapered mean similarity across them.
    A constant SSM thus has zero novelty everywhere. Negative values (windows more alike across
    than within) are clipped to 0, and the curve is divided by its max.

    Parameters
    ----------
    ssm : np.ndarray [shape=(n_bars, n_bars)]
        Distance SSM (0 = identical), e.g. the output of :func:`combine_ssms`.
    kernel_bars : int >= 2
        Width of the kernel in bars.

    Returns
    -------
    np.ndarray [shape=(n_bars,), float64, in [0, 1]]
        ``novelty[i]`` is the evidence for a boundary between bar ``i - 1`` and bar ``i``
        (``novelty[0]`` is 0). Max 1, unless the curve is all zero.
    """
    ssm = _check_ssm(ssm)
    if kernel_bars < 2:
        raise ParameterError(f"kernel_bars must be >= 2, got {kernel_bars}")
    n_bars = ssm.shape[0]
    similarity = 1.0 - ssm
    offsets = _kernel_offsets(kernel_bars)
    centred = offsets + 0.5
    sigma = kernel_bars / 2.0
    taper = np.exp(-(centred[:, None] ** 2 + centred[None, :] ** 2) / (2.0 * sigma**2))
    same_side = np.sign(centred)[:, None] == np.sign(centred)[None, :]
    off_diagonal = offsets[:, None] != offsets[None, :]

    # rows[i, k] = bar i + offsets[k]; gather the kernel window around every corner at once
    rows = np.arange(n_bars)[:, None] + offsets[None, :]
    inside = (rows >= 0) & (rows < n_bars)
    clipped = np.clip(rows, 0, n_bars - 1)
    windows = similarity[clipped[:, :, None], clipped[:, None, :]]  # (n_bars, L, L)
    valid = inside[:, :, None] & inside[:, None, :]

    within_w = taper * (same_side & off_diagonal) * valid
    across_w = taper * ~same_side * valid
    within_sum = within_w.sum(axis=(1, 2))
    across_sum = across_w.sum(axis=(1, 2))
    usable = (within_sum > 0) & (across_sum > 0)
    novelty = np.zeros(n_bars, dtype=np.float64)
    within_mean = (within_w * windows).sum(axis=(1, 2))[usable] / within_sum[usable]
    across_mean = (across_w * windows).sum(axis=(1, 2))[usable] / across_sum[usable]
    novelty[usable] = within_mean - across_mean
    novelty = np.clip(novelty, 0.0, None)
    scale = max(1.0, float(np.max(np.abs(similarity))))
    peak = float(novelty.max())
    if peak <= _NOVELTY_TOLERANCE * scale:
        return np.zeros(n_bars, dtype=np.float64)
    return novelty / peak


def find_boundaries(ssm: np.ndarray, *, kernel_bars: int, min_bars: int, peak_threshold: float) -> np.ndarray:
    """Bars where a new section starts: the peaks of the novelty curve.

    Candidates are the local maxima of :func:`novelty_curve` (a flat top counts once, at its
    middle) whose height exceeds ``peak_threshold`` (the curve's max is 1). They are taken
    greedily from the highest; one is kept only if every section, including the first and the
    last, stays at least ``min_bars`` long. A song shorter than ``2 * min_bars`` has no boundary.

    Parameters
    ----------
    ssm : np.ndarray [shape=(n_bars, n_bars)]
        Distance SSM, e.g. the output of :func:`combine_ssms`.
    kernel_bars : int >= 2
        Width of the novelty kernel in bars.
    min_bars : int >= 1
        Shortest section in bars.
    peak_threshold : float in [0, 1]
        Smallest peak height kept, as a share of the curve's max.

    Returns
    -------
    np.ndarray [shape=(n_boundaries,), int64]
        Ascending bar indices in ``[min_bars, n_bars - min_bars]``; bar 0 is never included.
    """
    _check_settings(kernel_bars=kernel_bars, min_bars=min_bars, peak_threshold=peak_threshold)
    novelty = novelty_curve(ssm, kernel_bars=kernel_bars)
    n_bars = len(novelty)
    if n_bars < 2 * min_bars or not novelty.any():
        return np.zeros(0, dtype=np.int64)
    # pad below the clipped curve so peaks at the first and last bar count too
    padded = np.concatenate([[-1.0], novelty, [-1.0]])
    peaks, _ = find_peaks(padded)
    peaks = peaks - 1
    heights = novelty[peaks]
    keep = (heights > peak_threshold) & (peaks >= min_bars) & (peaks <= n_bars - min_bars)
    peaks, heights = peaks[keep], heights[keep]
    chosen: list[int] = []
    for idx in np.lexsort((peaks, -heights)):
        bar = int(peaks[idx])
        if all(abs(bar - other) >= min_bars for other in chosen):
            chosen.append(bar)
    return np.array(sorted(chosen), dtype=np.int64)


def _segment_distances(ssm: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(n_segments, n_segments) excess cross-distances, see :func:`label_segments`."""
    n_bars = ssm.shape[0]
    edges = np.append(starts, n_bars)
    # block sums from a summed-area table: the sum of ssm[a:b, c:d] is T[b, d] - T[a, d] - T[b, c] + T[a, c]
    table = np.zeros((n_bars + 1, n_bars + 1))
    table[1:, 1:] = ssm.cumsum(axis=0).cumsum(axis=1)
    corners = table[np.ix_(edges, edges)]
    block_sums = corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]
    lengths = np.diff(edges).astype(np.float64)
    block_mean = block_sums / (lengths[:, None] * lengths[None, :])
    diagonal = np.concatenate([[0.0], np.cumsum(np.diag(ssm))])[edges]
    own_pairs = lengths * (lengths - 1)
    own_sums = np.diag(block_sums) - np.diff(diagonal)
    within = np.divide(own_sums, own_pairs, out=np.zeros_like(lengths), where=own_pairs > 0)
    excess = block_mean - 0.5 * (within[:, None] + within[None, :])
    blockwise = np.clip(excess, 0.0, None) + np.minimum(within[:, None], within[None, :])
    # bar by bar: segment i's k-th bar against segment j's k-th bar, over the shorter length, from
    # sums along the diagonals: diagonal[a + 1, b + 1] = ssm[a, b] + ssm[a - 1, b - 1] + ...
    diagonal_sums = np.zeros((n_bars + 1, n_bars + 1))
    for row in range(n_bars):
        diagonal_sums[row + 1, 1:] = ssm[row] + diagonal_sums[row, :-1]
    n_common = np.minimum(lengths[:, None], lengths[None, :]).astype(np.int64)
    first = np.asarray(starts, dtype=np.int64)
    aligned = (
        diagonal_sums[first[:, None] + n_common, first[None, :] + n_common]
        - diagonal_sums[first[:, None], first[None, :]]
    ) / n_common
    return np.minimum(blockwise, aligned)


def label_segments(ssm: np.ndarray, starts: np.ndarray, *, label_distance: float) -> tuple[str, ...]:
    """Label consecutive segments so that repeated ones share a letter.

    Two segments ``i`` and ``j`` are as far apart as the smaller of two measures:

    - **bar by bar**: the mean distance between the ``k``-th bars of the two segments, over the
      shorter one's length. A repeat of a phrase whose bars all differ (a 4-bar chord sequence
      played twice) is close this way.
    - **as blocks**: ``max(0, mean(ssm[i, j]) - (within(i) + within(j)) / 2) + min(within(i),
      within(j))``, where ``mean(ssm[i, j])`` is the mean of the SSM block between the segments'
      bars and ``within(i)`` the mean distance between two different bars of segment ``i`` (0 for
      a one-bar segment). For two segments that each repeat one bar (low ``within``) this is their
      excess cross-distance: robust to the SSM's noise level, to rank normalisation (in a
      repetitive song even identical bars get mid-range ranks) and to segments of different
      lengths. The ``min(within)`` term keeps two segments made of varied bars apart, which the
      excess alone would call alike.

    Segments are labelled in order: each takes the label of the earlier segment with the smallest
    ``d`` if that is ``<= label_distance``, else the next new letter (:func:`section_label`).

    Parameters
    ----------
    ssm : np.ndarray [shape=(n_bars, n_bars)]
        Distance SSM in the units of :func:`combine_ssms` (use its output).
    starts : np.ndarray [shape=(n_segments,), int]
        First bar of each segment, strictly ascending, ``starts[0] == 0``.
    label_distance : float >= 0
        Largest ``d`` at which two segments share a label.

    Returns
    -------
    tuple of str [length n_segments]
        "A", "B", ... in order of first appearance.
    """
    ssm = _check_ssm(ssm)
    if label_distance < 0:
        raise ParameterError(f"label_distance must be >= 0, got {label_distance}")
    starts = Sections(
        starts=np.asarray(starts), labels=("A",) * len(np.atleast_1d(starts)), n_bars=ssm.shape[0]
    ).starts
    distances = _segment_distances(ssm, starts)
    label_idx = np.zeros(len(starts), dtype=np.int64)
    n_labels = 1
    for segment in range(1, len(starts)):
        nearest = int(np.argmin(distances[segment, :segment]))
        if distances[segment, nearest] <= label_distance:
            label_idx[segment] = label_idx[nearest]
        else:
            label_idx[segment] = n_labels
            n_labels += 1
    return tuple(section_label(int(idx)) for idx in label_idx)


def find_sections(
    melodic_ssm: np.ndarray,
    drum_ssm: np.ndarray | None = None,
    *,
    kernel_bars: int,
    min_bars: int,
    peak_threshold: float,
    label_distance: float,
    melodic_weight: float,
) -> Sections:
    """Find a song's sections from its melodic SSM and, optionally, a drum SSM.

    Combines the SSMs (:func:`combine_ssms`), finds the boundaries on the result
    (:func:`find_boundaries`) and labels the segments (:func:`label_segments`).

    Parameters
    ----------
    melodic_ssm : np.ndarray [shape=(n_bars, n_bars)]
        Melodic distance SSM.
    drum_ssm : np.ndarray [shape=(n_bars, n_bars)], optional
        Drum distance SSM (e.g. the predicted one).
    kernel_bars, min_bars, peak_threshold, label_distance, melodic_weight
        See :class:`drumgen.config.SectionConfig` and the functions above.

    Returns
    -------
    Sections

    Examples
    --------
    A song of four 4-bar sections, A B A C: distance 0 between bars of the same section, 0.8
    otherwise.

    >>> import numpy as np
    >>> form = np.array(list("AAAABBBBAAAACCCC"))
    >>> ssm = np.where(form[:, None] == form[None, :], 0.0, 0.8)
    >>> sections = find_sections(ssm, kernel_bars=8, min_bars=4, peak_threshold=0.2,
    ...                          label_distance=0.3, melodic_weight=0.5)
    >>> sections.starts.tolist(), sections.labels
    ([0, 4, 8, 12], ('A', 'B', 'A', 'C'))
    >>> sections.bar_label_idx().tolist()
    [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2]
    """
    combined = combine_ssms(melodic_ssm, drum_ssm, melodic_weight=melodic_weight)
    boundaries = find_boundaries(
        combined, kernel_bars=kernel_bars, min_bars=min_bars, peak_threshold=peak_threshold
    )
    starts = np.concatenate([[0], boundaries]).astype(np.int64)
    labels = label_segments(combined, starts, label_distance=label_distance)
    return Sections(starts=starts, labels=labels, n_bars=combined.shape[0])


def find_sections_with(
    melodic_ssm: np.ndarray, drum_ssm: np.ndarray | None = None, *, settings: SectionConfig
) -> Sections:
    """:func:`find_sections` with its settings read from a :class:`~drumgen.config.SectionConfig`.

    Parameters
    ----------
    melodic_ssm : np.ndarray [shape=(n_bars, n_bars)]
    drum_ssm : np.ndarray [shape=(n_bars, n_bars)], optional
    settings : SectionConfig
        E.g. ``load_config().sections``.

    Returns
    -------
    Sections
    """
    return find_sections(
        melodic_ssm,
        drum_ssm,
        kernel_bars=settings.kernel_bars,
        min_bars=settings.min_bars,
        peak_threshold=settings.peak_threshold,
        label_distance=settings.label_distance,
        melodic_weight=settings.melodic_weight,
    )


def drum_section_changes(
    drum_ssm: np.ndarray, *, kernel_bars: int, min_bars: int, peak_threshold: float
) -> np.ndarray:
    """Bars where a drum part changes section, found on its drum SSM alone.

    :func:`find_boundaries` runs on the SSM as it is: the novelty curve is divided by its max, so
    the SSM's scale does not matter, and unlike rank normalisation (:func:`combine_ssms`) this
    keeps small bar-to-bar variations inside a long section small. Used by the evaluation to find
    where the real drummer changes section.

    Parameters
    ----------
    drum_ssm : np.ndarray [shape=(n_bars, n_bars)]
        Drum distance SSM (e.g. of the real drums).
    kernel_bars, min_bars, peak_threshold
        As in :func:`find_boundaries`.

    Returns
    -------
    np.ndarray [shape=(n_changes,), int64]
        Ascending bar indices where a new section begins (never 0).
    """
    return find_boundaries(
        drum_ssm, kernel_bars=kernel_bars, min_bars=min_bars, peak_threshold=peak_threshold
    )


def drum_section_changes_with(drum_ssm: np.ndarray, *, settings: DrumChangeConfig) -> np.ndarray:
    """:func:`drum_section_changes` with the settings of a config's ``drum_changes`` section."""
    return drum_section_changes(
        drum_ssm,
        kernel_bars=settings.kernel_bars,
        min_bars=settings.min_bars,
        peak_threshold=settings.peak_threshold,
    )
