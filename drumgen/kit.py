"""The drum kit as a drummer sees it: the 46 grid rows grouped into kit pieces and kit classes.

Two groupings of the rows of :mod:`drumgen.representation`:

- **Kit pieces** (:data:`PIECES`) are what one drummer's limb strikes: one piece sounds at most
  once per step, with one GM pitch (kick 35 *or* 36, never both). The arranger decodes piece by
  piece; the metrics count hits layered inside a piece.
- **Kit classes** (:data:`KIT_CLASSES`) are the 9 classes of the usual reduced drum vocabulary
  (kick, snare, closed hat, open hat, low / mid / high tom, crash, ride), every row folded into
  one of them, so that equivalent notes (35 = 36; 37 = 38 = 40; 42 = 44) score as the same sound.

Used by notebooks ``step_4`` and ``evaluation``.
"""

from __future__ import annotations

import numpy as np

from drumgen.representation import DRUM_PITCHES, N_ROWS

PIECE_PITCHES: dict[str, tuple[int, ...]] = {
    "kick": (36, 35),
    "snare": (38, 40, 37, 39),
    "hihat": (42, 44, 46),
    "ride": (51, 59, 53),
    "crash": (49, 57, 55),
    "tom_high": (48,),
    "tom_mid": (47, 45),
    "tom_low": (43, 41),
    "percussion": (),  # every other row
}
"""Kit pieces and their GM pitches, the piece's usual sound first. Percussion takes the rest."""
PIECES: tuple[str, ...] = tuple(PIECE_PITCHES)
TOMS: tuple[str, ...] = ("tom_high", "tom_mid", "tom_low")
TIMEKEEPERS: tuple[str, ...] = ("hihat", "ride")
"""Pieces that keep time; a groove uses one of them at a time."""

KIT_CLASS_PITCHES: dict[str, tuple[int, ...]] = {
    "kick": (35, 36),
    "snare": (27, 28, 33, 37, 38, 39, 40, 56, 65, 75, 85),
    "closed_hat": (42, 44, 54, 68, 69, 70, 73, 80),
    "open_hat": (46, 67, 74, 81),
    "tom_low": (41, 43, 45, 61, 64),
    "tom_mid": (47, 48, 60, 63, 77, 87),
    "tom_high": (62, 76, 83),
    "crash": (49, 55, 57),
    "ride": (51, 53, 59, 82),
}
"""The 9 kit classes; every one of the 46 row pitches is in exactly one."""
KIT_CLASSES: tuple[str, ...] = tuple(KIT_CLASS_PITCHES)

PIECE_GROUPS: dict[str, tuple[str, ...]] = {
    "kick": ("kick",),
    "snare": ("snare",),
    "hats": ("closed_hat", "open_hat"),
    "toms": ("tom_low", "tom_mid", "tom_high"),
    "cymbals": ("crash", "ride"),
}
"""Coarse groups of kit classes for per-piece scores (kick / snare / hats / toms / cymbals)."""


def _rows_of(pitches: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(DRUM_PITCHES.index(pitch) for pitch in pitches)


PIECE_ROWS: dict[str, tuple[int, ...]] = {
    piece: _rows_of(pitches) for piece, pitches in PIECE_PITCHES.items() if pitches
}
PIECE_ROWS["percussion"] = tuple(
    row for row in range(N_ROWS) if not any(row in rows for rows in PIECE_ROWS.values())
)
KIT_CLASS_ROWS: dict[str, tuple[int, ...]] = {name: _rows_of(p) for name, p in KIT_CLASS_PITCHES.items()}
HAT_LIKE_ROWS: tuple[int, ...] = tuple(
    row for row in KIT_CLASS_ROWS["closed_hat"] if row not in PIECE_ROWS["hihat"]
)
"""Percussion rows that keep time as a closed hi-hat does (tambourine 54, cabasa 69, maracas 70,
agogo 68, guiro 73, triangle 80); the kit classes fold them into the closed hat."""
ROW_TO_KIT_CLASS = np.full(N_ROWS, -1, dtype=np.int64)
"""``ROW_TO_KIT_CLASS[row]`` is the index in :data:`KIT_CLASSES` of grid row ``row``."""
for _idx, _name in enumerate(KIT_CLASSES):
    ROW_TO_KIT_CLASS[list(KIT_CLASS_ROWS[_name])] = _idx
if (ROW_TO_KIT_CLASS < 0).any():  # pragma: no cover - a table error, caught on import
    raise RuntimeError("every drum row must belong to a kit class")


def piece_rows(piece: str) -> tuple[int, ...]:
    """Grid rows of a kit piece (its usual sound first)."""
    if piece not in PIECE_ROWS:
        raise ValueError(f"unknown kit piece {piece!r}; expected one of {', '.join(PIECES)}")
    return PIECE_ROWS[piece]


def to_kit_classes(grid: np.ndarray) -> np.ndarray:
    """Merge equivalent sounds: a 46-row grid -> a 9-class grid.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, n_steps)]
        Hits (bool) or velocities.

    Returns
    -------
    np.ndarray [shape=(n_bars, 9, n_steps), bool]
        A class sounds on a step if any of its rows does.

    Examples
    --------
    >>> import numpy as np
    >>> from drumgen.representation import pitch_to_row
    >>> grid = np.zeros((1, 46, 16), bool)
    >>> grid[0, pitch_to_row(35), 0] = grid[0, pitch_to_row(36), 0] = True
    >>> int(to_kit_classes(grid)[0, KIT_CLASSES.index("kick")].sum())
    1
    """
    hits = np.asarray(grid) > 0
    out = np.zeros((hits.shape[0], len(KIT_CLASSES), hits.shape[2]), dtype=bool)
    for idx, rows in enumerate(KIT_CLASS_ROWS.values()):
        out[:, idx] = hits[:, list(rows)].any(axis=1)
    return out


def to_pieces(grid: np.ndarray) -> np.ndarray:
    """How many rows of each kit piece sound on each step.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, n_steps)]

    Returns
    -------
    np.ndarray [shape=(n_bars, len(PIECES), n_steps), int64]
        0 = the piece is silent; 2 or more = layered sounds of one piece.
    """
    hits = np.asarray(grid) > 0
    out = np.zeros((hits.shape[0], len(PIECES), hits.shape[2]), dtype=np.int64)
    for idx, piece in enumerate(PIECES):
        out[:, idx] = hits[:, list(PIECE_ROWS[piece])].sum(axis=1)
    return out
