"""The drummer model: what real drummers of the corpus do that the VAE does not say.

Small tables and regressions, fitted on the training songs' real drum tracks (no network):

- **velocity** [46 x 16]: the mean velocity of each sound on each step of the bar - the corpus'
  own accents (backbeat over hats, downbeats over off-beats).
- **fills**: the real fills found in the bars before the real drums' section changes (Dahale et
  al. 2022's idea: a fill is where the drums depart from their neighbours before a change), kept
  whole as a library of fill patterns (``fill_patterns``: one voice of :data:`FILL_VOICES` per
  step, with how often each was played), so a generated fill is one a drummer played, not a voice
  drawn step by step; also where fills start (``fill_starts`` with their probabilities) and, step
  by step, which voice plays (``fill_table``), what models of formats 1-4 draw fills from.
- **laying out**: boosted decision trees (:mod:`drumgen.trees`) from what the song itself plays
  in a bar (onsets per instrument family, loudness, position) to the chance that the real
  drummer rests in it (models before format 4: a logistic regression on the same features).
- **kit sounds**: which GM note a song's kick (35 or 36) and snare (38, 40, 37 or 39) are written
  with, boosted decision trees per piece (:mod:`drumgen.trees`) on how the file is written
  (:func:`drumgen.filestyle.file_features`), fitted on every MIDI file of the training split
  (:func:`sound_examples`, :func:`fit_sound_trees`). Format 2 models chose them with one logistic
  regression per note instead (still read). A model without them leaves the choice to the VAE
  (:func:`drumgen.arrangement.choose_kit`).

Saved as ``weights.npz`` (plain arrays, no pickles) + ``config.json`` with a format version and the
weights' SHA-256, like the Keras models (see :mod:`drumgen.model.store`).

Used by notebook ``step_4_generate_drum_patterns`` (the model is fitted by ``drumgen train drummer``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drumgen import filestyle, io, kit, midi, parts
from drumgen.config import DrumChangeConfig
from drumgen.exceptions import DrumgenError, ModelError, ParameterError
from drumgen.meter import to_model_steps
from drumgen.metrics import fill_bars
from drumgen.representation import N_ROWS
from drumgen.sections import drum_section_changes_with
from drumgen.songdata import CQT_LEVELS, SongData
from drumgen.trees import TreeEnsemble, fit_trees

log = logging.getLogger(__name__)

KIND = "drummer"
FORMAT_VERSION = 5
READABLE_VERSIONS = (1, 2, 3, 4, 5)
"""Format 1 models (before the kit sounds) still load and leave the sounds to the VAE; format 2
models choose them with logistic regressions (``sound_weights``), format 3 with trees; format 4
adds the lay-out trees (earlier formats lay out with the logistic regression); format 5 the fill
patterns (earlier formats draw a fill's voices step by step from ``fill_table``)."""
_TREES_PREFIX = "sound_trees_"
"""``weights.npz`` names of the kit-sound trees: ``sound_trees_<piece>_<field>``."""
_LAYOUT_TREES_PREFIX = "layout_trees_"
"""``weights.npz`` names of the lay-out trees: ``layout_trees_<field>``."""
WEIGHTS_FILE = "weights.npz"
CONFIG_FILE = "config.json"
N_STEPS = 16
FILL_VOICES: tuple[str, ...] = ("rest", "snare", "tom_high", "tom_mid", "tom_low", "kick")
"""What a fill can play on a step (one voice per step; toms before snare before kick)."""
FILL_REGION = 8
"""Fills are looked for, and drawn, in the last 8 steps (half a 4/4 bar)."""
LAYOUT_FEATURES: tuple[str, ...] = (
    *(f"onsets_{family}" for family in parts.PART_FAMILIES),
    *(f"active_{family}" for family in parts.PART_FAMILIES),
    "n_active",
    "loudness",
    "loudness_vs_song",
    "first_bars",
    "last_bars",
    "progress",
    "log_bars_from_start",
    "log_bars_to_end",
    "context_onsets",
    "context_loudness",
    "only_keys",
)
"""Inputs of the lay-out classifier, per bar."""
SOUND_PIECES: tuple[str, ...] = ("kick", "snare")
"""Kit pieces whose GM note the drummer model chooses per song (the others: the VAE's choice)."""
SOUND_PITCHES: tuple[tuple[str, int], ...] = tuple(
    (piece, pitch) for piece in SOUND_PIECES for pitch in kit.PIECE_PITCHES[piece]
)
"""(piece, GM pitch) of each row of ``sound_weights``."""
_SOUND_ROWS: dict[str, list[int]] = {
    piece: [idx for idx, (name, _) in enumerate(SOUND_PITCHES) if name == piece] for piece in SOUND_PIECES
}
"""Rows of ``sound_weights`` (indices in :data:`SOUND_PITCHES`) of each sound piece."""
MIN_FILL_PATTERN_COUNT = 2
"""A real fill joins the fill library when the training songs play it at least this often: of
3,419 fills before section changes in the 1,473 training songs, 1,301 distinct, the 476 played
twice or more make 76 % of them (the rest are mostly one-off transcriptions)."""
_L2 = 1e-3
_MIN_COUNT = 20
"""Cells of the velocity table seen fewer times take the row's (or the global) mean."""


@dataclass(frozen=True)
class DrummerModel:
    """Fitted tables (see the module docstring).

    Attributes
    ----------
    velocity : np.ndarray [shape=(46, 16), float64]
    fill_starts : np.ndarray [shape=(n,), int64]
        Steps a fill may start on; ``fill_start_probs`` their probabilities.
    fill_start_probs : np.ndarray [shape=(n,), float64]
    fill_table : np.ndarray [shape=(16, len(FILL_VOICES)), float64]
        Per step, the probability of each fill voice (rows sum to 1).
    layout_weights : np.ndarray [shape=(len(LAYOUT_FEATURES) + 1,), float64]
        Logistic-regression weights on standardised features, bias last.
    layout_mean, layout_std : np.ndarray [shape=(len(LAYOUT_FEATURES),), float64]
    sound_trees : dict of str to TreeEnsemble, optional
        Per piece of :data:`SOUND_PIECES`, trees on :data:`drumgen.filestyle.FILE_FEATURES` whose
        class ``c`` is the piece's ``c``-th note in :data:`drumgen.kit.PIECE_PITCHES`
        (:func:`fit_sound_trees`); None: no trees.
    sound_weights : np.ndarray [shape=(len(SOUND_PITCHES), len(FILE_FEATURES) + 1), float64] or None
        Format 2 models: one logistic regression per (piece, pitch) of :data:`SOUND_PITCHES` on
        standardised file features, bias last. Used when there are no trees; with neither, no
        kit-sound choice.
    sound_mean, sound_std : np.ndarray [shape=(len(SOUND_PITCHES), len(FILE_FEATURES)), float64] or None
    layout_trees : TreeEnsemble or None
        Boosted trees on :data:`LAYOUT_FEATURES` whose class 1 is "the drummer rests"; when
        present they give :meth:`rest_chance` (the logistic regression, fitted as well, is what
        models of earlier formats lay out with).
    fill_patterns : np.ndarray [shape=(n_patterns, 16), int64] or None
        The fill library: per step, the index in :data:`FILL_VOICES` of the voice the fill plays,
        -1 before the fill starts; None (formats 1-4): fills are drawn from ``fill_table``.
    fill_pattern_counts : np.ndarray [shape=(n_patterns,), int64] or None
        How often the training songs played each pattern.
    info : dict
        What it was fitted on, and figures measured then.
    """

    velocity: np.ndarray
    fill_starts: np.ndarray
    fill_start_probs: np.ndarray
    fill_table: np.ndarray
    layout_weights: np.ndarray
    layout_mean: np.ndarray
    layout_std: np.ndarray
    info: dict[str, Any]
    sound_trees: dict[str, TreeEnsemble] | None = None
    sound_weights: np.ndarray | None = None
    sound_mean: np.ndarray | None = None
    sound_std: np.ndarray | None = None
    layout_trees: TreeEnsemble | None = None
    fill_patterns: np.ndarray | None = None
    fill_pattern_counts: np.ndarray | None = None

    def rest_chance(self, features: np.ndarray) -> np.ndarray:
        """Chance that a real drummer rests in each bar.

        Parameters
        ----------
        features : np.ndarray [shape=(n_bars, len(LAYOUT_FEATURES))]
            From :func:`layout_features`.

        Returns
        -------
        np.ndarray [shape=(n_bars,), float64, in (0, 1)]
        """
        x = np.asarray(features, dtype=np.float64)
        if self.layout_trees is not None:
            logits = self.layout_trees.scores(x)[:, 1]
        else:
            z = (x - self.layout_mean) / self.layout_std
            logits = z @ self.layout_weights[:-1] + self.layout_weights[-1]
        return 1.0 / (1.0 + np.exp(-logits))

    def kit_sounds(self, file_features: np.ndarray | None) -> dict[str, int]:
        """The GM note each of :data:`SOUND_PIECES` is written with in a song.

        Parameters
        ----------
        file_features : np.ndarray [shape=(len(FILE_FEATURES),)] or None
            The song's :func:`drumgen.filestyle.file_features`. Features stored before the
            sequencer traces (:data:`drumgen.filestyle.N_BASIC_FEATURES` long) are read with the
            traces missing: the trees send a missing value down the branch most training files took.

        Returns
        -------
        dict of str to int
            Piece -> GM pitch, the likeliest of the piece's notes; empty without features or
            without fitted sound trees or weights (the VAE's choice then stands).

        Raises
        ------
        ParameterError
            If ``file_features`` has another length than the model was fitted on.
        """
        if file_features is None:
            return {}
        x = np.asarray(file_features, dtype=np.float64)
        n_features = len(self.info.get("file_features", filestyle.FILE_FEATURES))
        if self.sound_weights is not None:
            n_features = self.sound_weights.shape[1] - 1
        older = x.shape == (filestyle.N_BASIC_FEATURES,) and n_features > filestyle.N_BASIC_FEATURES
        if self.sound_trees is not None and older:
            x = np.concatenate([x, np.full(n_features - len(x), np.nan)])
        if x.shape != (n_features,):
            raise ParameterError(f"file_features must have shape ({n_features},), got {x.shape}")
        if self.sound_trees is not None:
            return {
                piece: kit.PIECE_PITCHES[piece][int(trees.predict(x[None, :])[0])]
                for piece, trees in self.sound_trees.items()
            }
        if self.sound_weights is None or self.sound_mean is None or self.sound_std is None:
            return {}
        z = (x[None, :] - self.sound_mean) / self.sound_std
        logits = (z * self.sound_weights[:, :-1]).sum(axis=1) + self.sound_weights[:, -1]
        return {
            piece: SOUND_PITCHES[rows[int(np.argmax(logits[rows]))]][1] for piece, rows in _SOUND_ROWS.items()
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """The weights as plain arrays (what :func:`save_drummer` writes)."""
        arrays = {
            "velocity": self.velocity,
            "fill_starts": self.fill_starts,
            "fill_start_probs": self.fill_start_probs,
            "fill_table": self.fill_table,
            "layout_weights": self.layout_weights,
            "layout_mean": self.layout_mean,
            "layout_std": self.layout_std,
        }
        for name in ("sound_weights", "sound_mean", "sound_std", "fill_patterns", "fill_pattern_counts"):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        for piece, trees in (self.sound_trees or {}).items():
            arrays.update(trees.arrays(f"{_TREES_PREFIX}{piece}_"))
        if self.layout_trees is not None:
            arrays.update(self.layout_trees.arrays(_LAYOUT_TREES_PREFIX))
        return arrays


def bar_loudness(bar_cqts: np.ndarray) -> np.ndarray:
    """Mean CQT level of each bar, in [0, 1] (stored uint8 CQTs are rescaled).

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, n_bins, n_cells)], uint8 (x 255) or float in [0, 1]

    Returns
    -------
    np.ndarray [shape=(n_bars,), float64]
    """
    cqts = np.asarray(bar_cqts)
    scale = CQT_LEVELS if cqts.dtype == np.uint8 else 1.0
    return cqts.reshape(len(cqts), -1).mean(axis=1) / scale


def layout_features(bar_cqts: np.ndarray, part_onsets: np.ndarray) -> np.ndarray:
    """What the song plays in each bar, as the lay-out classifier's input.

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, n_bins, n_cells)]
    part_onsets : np.ndarray [shape=(n_bars, 5, 16), counts]

    Returns
    -------
    np.ndarray [shape=(n_bars, len(LAYOUT_FEATURES)), float64]
        Columns in the order of :data:`LAYOUT_FEATURES`.
    """
    onsets = np.asarray(part_onsets, dtype=np.float64).sum(axis=2)  # (n_bars, 5)
    n_bars = len(onsets)
    loud = bar_loudness(bar_cqts)
    active = (onsets > 0).astype(np.float64)
    index = np.arange(n_bars)
    total = np.log1p(onsets.sum(axis=1))
    window = np.ones(5) / 5  # this bar and two on each side
    keys_only = (active[:, parts.PART_FAMILIES.index("keys")] == 1) & (active.sum(axis=1) == 1)
    return np.column_stack(
        [
            np.log1p(onsets),
            active,
            active.sum(axis=1),
            loud,
            loud - np.median(loud),
            (index < 2).astype(np.float64),
            (index >= n_bars - 2).astype(np.float64),
            index / max(n_bars - 1, 1),
            np.log1p(index),
            np.log1p(n_bars - 1 - index),
            np.convolve(np.pad(total, 2, mode="edge"), window, mode="valid"),
            np.convolve(np.pad(loud, 2, mode="edge"), window, mode="valid"),
            keys_only.astype(np.float64),
        ]
    )


def _fit_logistic(x: np.ndarray, y: np.ndarray, *, iterations: int = 50) -> tuple[np.ndarray, ...]:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    z = np.column_stack([(x - mean) / std, np.ones(len(x))])
    weights = np.zeros(z.shape[1])
    for _ in range(iterations):
        prob = 1.0 / (1.0 + np.exp(-(z @ weights)))
        gradient = z.T @ (prob - y) / len(y) + _L2 * np.r_[weights[:-1], 0.0]
        hessian = (z * (prob * (1 - prob))[:, None]).T @ z / len(y) + _L2 * np.eye(len(weights))
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights, mean, std


def sound_example(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One MIDI file's encoding features and how often its drums strike each sound of
    :data:`SOUND_PITCHES`.

    Returns
    -------
    features : np.ndarray [shape=(len(FILE_FEATURES),), float32]
    counts : np.ndarray [shape=(len(SOUND_PITCHES),), int64]
        Channel-10 note-ons of each (piece, pitch).

    Raises
    ------
    MidiError
        If the file cannot be read.
    """
    midi_file = midi.read_midi_file(path)
    counts = midi.drum_note_ons(midi_file)
    return filestyle.file_features(midi_file), counts[[pitch for _, pitch in SOUND_PITCHES]]


def sound_examples(
    paths: list[Path], *, workers: int = 1, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sound_example` of many files (in ``workers`` processes); unreadable files are left
    out (each logged at debug level, their number at info level).

    Returns
    -------
    features : np.ndarray [shape=(n_files_read, len(FILE_FEATURES)), float32]
    counts : np.ndarray [shape=(n_files_read, len(SOUND_PITCHES)), int64]
    """
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    features, counts = [], []
    with ProcessPoolExecutor(max_workers=max(workers, 1)) as pool:
        futures = [pool.submit(_sound_example_or_none, path) for path in paths]
        for future in tqdm(futures, desc="reading kit sounds", unit="file", disable=not progress):
            example = future.result()
            if example is not None:
                features.append(example[0])
                counts.append(example[1])
    if len(features) < len(paths):
        log.info(
            "kit sounds: %d of %d MIDI files unreadable, left out", len(paths) - len(features), len(paths)
        )
    n_features = len(filestyle.FILE_FEATURES)
    if not features:
        return np.zeros((0, n_features), np.float32), np.zeros((0, len(SOUND_PITCHES)), np.int64)
    return np.stack(features), np.stack(counts)


def _sound_example_or_none(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        return sound_example(path)
    except DrumgenError as error:
        log.debug("left out of the kit sounds: %s", error)
        return None


def written_notes(counts: np.ndarray, piece: str) -> tuple[np.ndarray, np.ndarray]:
    """Which songs play a kit piece, and the note each of them writes it with (its most struck).

    Parameters
    ----------
    counts : np.ndarray [shape=(n_songs, len(SOUND_PITCHES))]
        From :func:`sound_examples`.
    piece : str
        One of :data:`SOUND_PIECES`.

    Returns
    -------
    played : np.ndarray [shape=(n_songs,), bool]
    written : np.ndarray [shape=(played.sum(),), int64]
        Per playing song, the index of its note in :data:`drumgen.kit.PIECE_PITCHES` ``[piece]``.
    """
    piece_counts = np.asarray(counts)[:, _SOUND_ROWS[piece]]
    played = piece_counts.sum(axis=1) > 0
    return played, np.argmax(piece_counts[played], axis=1)


def fit_sound_trees(features: np.ndarray, counts: np.ndarray) -> dict[str, TreeEnsemble]:
    """Boosted trees per kit piece: which of its notes a song's piece is written with.

    Parameters
    ----------
    features : np.ndarray [shape=(n_songs, len(FILE_FEATURES))]
    counts : np.ndarray [shape=(n_songs, len(SOUND_PITCHES))]
        From :func:`sound_examples`. A song's piece is written with its most struck note; songs
        where a piece never sounds are left out of that piece's trees.

    Returns
    -------
    dict of str to TreeEnsemble
        Per piece of :data:`SOUND_PIECES`; class ``c`` is the piece's ``c``-th note of
        :data:`drumgen.kit.PIECE_PITCHES` (:func:`drumgen.trees.fit_trees`' settings). A piece
        written with one note only in every song gets no trees (the VAE chooses its note).

    Raises
    ------
    ParameterError
        If fewer than 2 songs play a piece.
    """
    x = np.asarray(features, dtype=np.float64)
    out = {}
    for piece in SOUND_PIECES:
        played, written = written_notes(counts, piece)
        if played.sum() < 2:
            raise ParameterError(f"fit_sound_trees: fewer than 2 songs play the {piece}")
        if len(np.unique(written)) < 2:
            log.warning("kit sounds: every song writes the %s the same way; no trees for it", piece)
            continue
        out[piece] = fit_trees(x[played], written)
    return out


def _fill_voices(bar: np.ndarray) -> np.ndarray:
    """Voice index (of FILL_VOICES) per step of one real bar [46 x 16]."""
    pieces = kit.to_pieces(bar[None])[0] > 0
    voices = np.zeros(N_STEPS, dtype=np.int64)
    for voice in ("kick", "snare", "tom_low", "tom_mid", "tom_high"):  # later ones win
        voices[pieces[kit.PIECES.index(voice)]] = FILL_VOICES.index(voice)
    return voices


def _fill_start(voices: np.ndarray) -> int:
    """First step of the last half-bar that departs from a groove: a tom, or a snare off the
    backbeat (a snare on step 12 counts when the run goes on at 13 or 14)."""
    snare = FILL_VOICES.index("snare")
    is_tom = np.isin(voices, [FILL_VOICES.index(t) for t in kit.TOMS])
    for step in range(N_STEPS - FILL_REGION, N_STEPS):
        if is_tom[step]:
            return step
        if voices[step] == snare and (step != 12 or snare in voices[13:15]):
            return step
    return N_STEPS - 4


def fit_drummer(
    songs: list[SongData],
    *,
    settings: DrumChangeConfig,
    sounds: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = False,
) -> DrummerModel:
    """Fit the tables on real songs.

    Parameters
    ----------
    songs : list of SongData
        Training songs with ``drum_grids``, ``drum_ssm``, ``bar_cqts`` and ``part_onsets``.
    settings : DrumChangeConfig
        How section changes are found on each song's real drum SSM
        (:func:`drumgen.sections.drum_section_changes_with`): fills are learned from the bars before them.
    sounds : (features, counts), optional
        :func:`sound_examples` of the training split's MIDI files, for the kit sounds
        (:func:`fit_sound_trees`); without them the model has none.

    Returns
    -------
    DrummerModel
    """
    from tqdm import tqdm

    if not songs:
        raise ParameterError("fit_drummer needs at least one song")
    velocity_sum = np.zeros((N_ROWS, N_STEPS))
    velocity_count = np.zeros((N_ROWS, N_STEPS))
    start_counts = np.zeros(N_STEPS)
    voice_counts = np.ones((N_STEPS, len(FILL_VOICES)))  # add-one smoothing
    pattern_counts: Counter[tuple[int, ...]] = Counter()  # a fill's voices, -1 before its start
    xs, ys = [], []
    n_changes = n_fills_before = n_fill_bars = n_real_bars = 0
    for song in tqdm(songs, desc="fitting drummer", unit="song", disable=not progress):
        changes = drum_section_changes_with(song.arrays["drum_ssm"].astype(np.float32), settings=settings)
        grids = song.arrays["drum_grids"]
        bar_steps = song.meter.bar_steps
        four = bar_steps == N_STEPS  # the tables are of 16-step bars; every bar counts for the lay-out
        hit = grids > 0
        velocity_sum += np.where(hit, grids, 0)[four][..., :N_STEPS].sum(axis=0)
        velocity_count += hit[four][..., :N_STEPS].sum(axis=0)
        fills = fill_bars(grids, bar_steps=bar_steps)
        n_fill_bars += int(fills.sum())
        n_real_bars += len(fills)
        for change in np.asarray(changes, dtype=np.int64):
            if change < 1:
                continue
            n_changes += 1
            bar = grids[change - 1, :, :N_STEPS]
            if not fills[change - 1] or not four[change - 1]:
                continue
            n_fills_before += 1
            voices = _fill_voices(bar)
            start = _fill_start(voices)
            start_counts[start] += 1
            for step in range(start, N_STEPS):
                voice_counts[step, voices[step]] += 1
            pattern_counts[(-1,) * start + tuple(int(v) for v in voices[start:])] += 1
        if "part_onsets" in song.arrays:
            onsets = to_model_steps(song.arrays["part_onsets"], bar_steps)
            xs.append(layout_features(song.arrays["bar_cqts"], onsets))
            ys.append(~hit.any(axis=(1, 2)))
    if not xs:
        raise ParameterError("fit_drummer: no song has part_onsets; rebuild the dataset")

    row_mean = velocity_sum.sum(axis=1) / np.maximum(velocity_count.sum(axis=1), 1)
    global_mean = velocity_sum.sum() / max(velocity_count.sum(), 1)
    row_mean = np.where(velocity_count.sum(axis=1) >= _MIN_COUNT, row_mean, global_mean)
    velocity = np.where(
        velocity_count >= _MIN_COUNT, velocity_sum / np.maximum(velocity_count, 1), row_mean[:, None]
    )
    if start_counts.sum() == 0:
        start_counts[N_STEPS - 4] = 1.0
    starts = np.flatnonzero(start_counts)
    x, y = np.concatenate(xs), np.concatenate(ys).astype(np.float64)
    weights, mean, std = _fit_logistic(x, y)
    layout_trees = fit_trees(x, y.astype(np.int64)) if 0 < y.sum() < len(y) else None
    patterns, counts = fill_library(pattern_counts)
    info = {
        "n_songs": len(songs),
        "n_bars": len(y),
        "rest_rate": float(y.mean()),
        "n_section_changes": n_changes,
        "fill_before_change_rate": n_fills_before / max(n_changes, 1),
        "fill_bar_rate": n_fill_bars / max(n_real_bars, 1),
        "n_fills_before_changes": n_fills_before,
        "n_fill_patterns": len(counts),
        "fill_pattern_share": int(counts.sum()) / max(n_fills_before, 1),
        "layout_features": list(LAYOUT_FEATURES),
        "fill_voices": list(FILL_VOICES),
    }
    sound_trees = None
    if sounds is not None:
        sound_trees = fit_sound_trees(*sounds)
        info["n_sound_files"] = len(sounds[0])
        info["sound_trees"] = {piece: len(trees.roots) for piece, trees in sound_trees.items()}
        info["file_features"] = list(filestyle.FILE_FEATURES)
        info["sound_pitches"] = [list(item) for item in SOUND_PITCHES]
    return DrummerModel(
        velocity=velocity,
        fill_starts=starts.astype(np.int64),
        fill_start_probs=start_counts[starts] / start_counts[starts].sum(),
        fill_table=voice_counts / voice_counts.sum(axis=1, keepdims=True),
        layout_weights=weights,
        layout_mean=mean,
        layout_std=std,
        info=info,
        sound_trees=sound_trees,
        layout_trees=layout_trees,
        fill_patterns=patterns if len(counts) else None,
        fill_pattern_counts=counts if len(counts) else None,
    )


def fill_library(pattern_counts: Counter[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """The fills played at least :data:`MIN_FILL_PATTERN_COUNT` times, most played first.

    Parameters
    ----------
    pattern_counts : Counter of tuple to int
        16 voice indices per fill (-1 before it starts) -> how often it was played.

    Returns
    -------
    patterns : np.ndarray [shape=(n, 16), int64]
    counts : np.ndarray [shape=(n,), int64]
    """
    kept = [(pattern, n) for pattern, n in pattern_counts.most_common() if n >= MIN_FILL_PATTERN_COUNT]
    patterns = np.array([pattern for pattern, _ in kept], dtype=np.int64).reshape(-1, N_STEPS)
    return patterns, np.array([n for _, n in kept], dtype=np.int64)


def save_drummer(
    model: DrummerModel, directory: str | Path, *, meta: dict[str, Any], force: bool = False
) -> Path:
    """Write ``weights.npz`` + ``config.json`` (format version, kind, SHA-256 of the weights).

    Raises
    ------
    OutputExistsError
        If the folder holds a model and ``force`` is False.
    """
    directory = Path(directory)
    io.check_writable(directory / CONFIG_FILE, force=force)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    arrays: dict[str, Any] = model.arrays()
    with io.atomic_path(weights) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, allow_pickle=False, **arrays)
    io.write_json(
        directory / CONFIG_FILE,
        {
            "format_version": FORMAT_VERSION,
            "kind": KIND,
            "weights_sha256": io.file_digest(weights, "sha256"),
            "info": model.info,
            **meta,
        },
    )
    return directory


def load_drummer(directory: str | Path) -> DrummerModel:
    """Read a drummer model written by :func:`save_drummer`.

    Raises
    ------
    ModelError
        Missing, of another kind or format version, or weights that do not match their checksum.
    """
    directory = Path(directory)
    config_path, weights = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    if not config_path.is_file() or not weights.is_file():
        raise ModelError(f"{directory}: no drummer model (expected {CONFIG_FILE} and {WEIGHTS_FILE})")
    meta = io.read_json(config_path)
    if meta.get("kind") != KIND or meta.get("format_version") not in READABLE_VERSIONS:
        raise ModelError(
            f"{directory}: expected a {KIND} model of format {FORMAT_VERSION}, "
            f"got {meta.get('kind')!r} format {meta.get('format_version')!r}"
        )
    if io.file_digest(weights, "sha256") != meta.get("weights_sha256"):
        raise ModelError(f"{weights}: checksum mismatch (the weights were changed or damaged)")
    with np.load(weights, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    sound_trees = {
        piece: TreeEnsemble.from_arrays(arrays, f"{_TREES_PREFIX}{piece}_")
        for piece in SOUND_PIECES
        if f"{_TREES_PREFIX}{piece}_roots" in arrays
    }
    layout_trees = None
    if f"{_LAYOUT_TREES_PREFIX}roots" in arrays:
        layout_trees = TreeEnsemble.from_arrays(arrays, _LAYOUT_TREES_PREFIX)
    tables = {
        name: value
        for name, value in arrays.items()
        if not name.startswith((_TREES_PREFIX, _LAYOUT_TREES_PREFIX))
    }
    return DrummerModel(
        info=meta.get("info", {}), sound_trees=sound_trees or None, layout_trees=layout_trees, **tables
    )
