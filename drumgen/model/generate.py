"""Generating drum patterns with a trained drum VAE (step 4; the network and its loading:
:mod:`drumgen.model.vae`, training: :mod:`drumgen.model.train_vae`).

For every bar: the encoder gives the latent distribution of the bar's 8-bar CQT stack and its
parts' note onsets (the song's ``part_onsets``, from step 1); a latent
is drawn from it with a seeded NumPy generator; the decoder gives 46 x 16 hit probabilities, 46 x 16
velocities and a note count (:func:`bar_probabilities`, a :class:`BarPredictions`).
:mod:`drumgen.arrangement` turns them into a drum part;
:func:`decode_hits` is the reference's bar-by-bar decoding (each bar keeps its
``round(count + delta)`` most probable cells, velocities following confidence), kept as a
baseline.

A song of a genre the VAE does not know (a user's file says none) is predicted, by default, once
per training genre with the same latent noise, and the predictions are averaged with the training
songs' genre shares as weights (``unknown_genre="marginal"``, :func:`genre_weights` and
:func:`combine_genres`: the drums of a song of unknown genre, summed over what its genre may be);
``"mix"`` feeds those shares to the genre columns in one pass instead, an input no training song
had.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgen.bars import N_STEPS
from drumgen.config import UNKNOWN_GENRE_MODES
from drumgen.exceptions import ParameterError
from drumgen.meter import written_cells
from drumgen.model.data import (
    MAX_MIDI_VELOCITY,
    conditions,
    stack_bars,
    stack_parts,
)
from drumgen.model.vae import DrumVae
from drumgen.parts import PART_FAMILIES
from drumgen.representation import N_ROWS

MIN_VELOCITY = 50
"""Velocity of the least confident hit; the most confident get 120."""
MAX_VELOCITY = 120


@dataclass(frozen=True)
class BarPredictions:
    """What the drum VAE predicts for each bar.

    Attributes
    ----------
    probabilities : np.ndarray [shape=(n_bars, 46, 16), float32, in [0, 1]]
        Hit probabilities.
    counts : np.ndarray [shape=(n_bars,), float32]
        Predicted hits per bar.
    velocities : np.ndarray [shape=(n_bars, 46, 16), float32, MIDI velocity in 1..127]
        The velocity of a hit on each cell (learned on the corpus' real hits).
    written_steps : np.ndarray [shape=(n_bars,), int64, steps] or None
        The length a meter-aware VAE wrote each bar in, in its first cells
        (:meth:`drumgen.meter.SongMeter.written_steps`); None: every bar written as a 4/4 bar.
    written_compound : np.ndarray [shape=(n_bars,), bool] or None
        Which bars it wrote in a compound meter; None with ``written_steps``.
    """

    probabilities: np.ndarray
    counts: np.ndarray
    velocities: np.ndarray
    written_steps: np.ndarray | None = None
    written_compound: np.ndarray | None = None


def sample_decoder(
    vae: DrumVae,
    inputs: dict[str, np.ndarray],
    *,
    rng: np.random.Generator,
    temperature: float = 1.0,
    noise: np.ndarray | None = None,
) -> BarPredictions:
    """Encode, draw one latent per bar (``mean + temperature * std * noise``), decode.

    Parameters
    ----------
    inputs : dict of str to np.ndarray
        The encoder's inputs ("cqt_stack", "parts", "conditions"), or "cqt_features" (the
        ``vae.cqt_features`` of the CQT stack, computed once for many conditions) instead of
        "cqt_stack".
    noise : np.ndarray [shape=(batch, latent_dim), float32], optional
        The standard-normal draws to use; None draws them from ``rng``.

    Returns
    -------
    BarPredictions
        Of the ``batch`` bars of ``inputs``.
    """
    features = inputs.get("cqt_features")
    if features is None:
        features = np.asarray(vae.cqt_features(inputs["cqt_stack"], training=False))
    head_inputs = {"cqt_features": features, "parts": inputs["parts"], "conditions": inputs["conditions"]}
    mean, log_var = vae.encoder_head(head_inputs, training=False)
    mean, log_var = np.asarray(mean), np.asarray(log_var)
    if noise is None:
        noise = rng.standard_normal(mean.shape).astype(np.float32)
    latent = mean + temperature * np.exp(0.5 * log_var) * noise
    out = vae.decoder({"latent": latent, "conditions": inputs["conditions"]}, training=False)
    velocities = np.clip(np.asarray(out["velocity"]) * MAX_MIDI_VELOCITY, 1.0, MAX_MIDI_VELOCITY)
    return BarPredictions(
        probabilities=np.asarray(out["drums"], dtype=np.float32),
        counts=np.asarray(out["note_count"], dtype=np.float32)[:, 0],
        velocities=velocities.astype(np.float32),
    )


def combine_genres(predictions: list[BarPredictions], weights: np.ndarray) -> BarPredictions:
    """Average the predictions made under several genres, weighted (the marginal over genres).

    Probabilities and counts are weighted means; a cell's velocity is the mean of the genres'
    velocities weighted by ``weight * probability`` (the velocity of a hit, where the hit is likelier).

    Parameters
    ----------
    predictions : list of BarPredictions
        Of the same bars, one per genre.
    weights : np.ndarray [shape=(len(predictions),), >= 0, sum > 0]

    Examples
    --------
    >>> one = BarPredictions(np.full((1, 1, 2), 0.2, np.float32), np.array([2.0], np.float32),
    ...                      np.full((1, 1, 2), 60.0, np.float32))
    >>> two = BarPredictions(np.full((1, 1, 2), 0.6, np.float32), np.array([4.0], np.float32),
    ...                      np.full((1, 1, 2), 100.0, np.float32))
    >>> both = combine_genres([one, two], np.array([0.5, 0.5]))
    >>> float(both.probabilities[0, 0, 0]), float(both.counts[0]), float(both.velocities[0, 0, 0])
    (0.4000000059604645, 3.0, 90.0)
    """
    w = np.asarray(weights, dtype=np.float64)
    if len(w) != len(predictions) or len(w) == 0 or w.min() < 0 or w.sum() <= 0:
        raise ParameterError(f"need one weight >= 0 per prediction with a positive sum, got {w.tolist()}")
    w = w / w.sum()
    chances = np.stack([p.probabilities for p in predictions]).astype(np.float64)  # (n_genres, ...)
    loud = np.stack([p.velocities for p in predictions]).astype(np.float64)
    probabilities = np.tensordot(w, chances, axes=1)
    counts = np.tensordot(w, np.stack([p.counts for p in predictions]).astype(np.float64), axes=1)
    hit_loudness = np.tensordot(w, chances * loud, axes=1)
    velocities = np.where(
        probabilities > 1e-9, hit_loudness / np.maximum(probabilities, 1e-9), np.tensordot(w, loud, axes=1)
    )
    return BarPredictions(
        probabilities=np.asarray(probabilities, dtype=np.float32),
        counts=np.asarray(counts, dtype=np.float32),
        velocities=np.asarray(velocities, dtype=np.float32),
    )


def genre_weights(vae: DrumVae, genre: str, *, unknown_genre: str = "marginal") -> dict[str, float]:
    """The genres a song is predicted under, with their weights (see the module docstring).

    A genre the VAE knows: itself. Unknown, ``"marginal"``: every known genre with a training share
    above 0 (equal shares for a model that did not record them); ``"mix"``: the genre itself, which
    :func:`drumgen.model.data.conditions` turns into the shares.
    """
    if unknown_genre not in UNKNOWN_GENRE_MODES:
        raise ParameterError(
            f"unknown_genre must be one of {', '.join(UNKNOWN_GENRE_MODES)}, got {unknown_genre!r}"
        )
    encoding = vae.conditioning
    if genre in encoding.genres or unknown_genre == "mix" or not encoding.genres:
        return {genre: 1.0}
    shares = encoding.genre_columns(genre)
    return {name: float(share) for name, share in zip(encoding.genres, shares, strict=True) if share > 0}


def decode_hits(
    probabilities: np.ndarray, counts: np.ndarray, *, delta: int, mode: str = "count"
) -> np.ndarray:
    """Turn probabilities into hits.

    ``mode="count"`` keeps each bar's ``round(count + delta)`` most probable cells;
    ``mode="threshold"`` keeps the cells above 0.5 plus the next ``delta`` most probable ones.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(batch, n_rows, n_steps)]
    counts : np.ndarray [shape=(batch,)]
    delta : int
        Density offset.

    Returns
    -------
    np.ndarray [shape=(batch, n_rows, n_steps), bool]
    """
    batch = len(probabilities)
    flat = probabilities.reshape(batch, -1)
    base = counts if mode == "count" else (flat > 0.5).sum(axis=1)
    keep = np.clip(np.round(base + delta), 0, flat.shape[1]).astype(int)
    ranks = np.argsort(np.argsort(-flat, axis=1, kind="stable"), axis=1, kind="stable")
    return (ranks < keep[:, None]).reshape(probabilities.shape)


def hits_to_velocities(hits: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Velocity grid (uint8, 0 = no hit): louder where the model is surer."""
    velocity = MIN_VELOCITY + (MAX_VELOCITY - MIN_VELOCITY) * np.clip(probabilities, 0.0, 1.0)
    return np.where(hits, np.round(velocity), 0).astype(np.uint8)


def bar_probabilities(
    vae: DrumVae,
    bar_cqts: np.ndarray,
    neighbor_idx: np.ndarray,
    neighbor_weights: np.ndarray,
    *,
    bar_tempos: np.ndarray,
    genre: str,
    part_onsets: np.ndarray | None,
    rng: np.random.Generator,
    temperature: float = 1.0,
    unknown_genre: str = "marginal",
    written_steps: np.ndarray | None = None,
    written_compound: np.ndarray | None = None,
    batch_size: int = 256,
) -> BarPredictions:
    """The VAE's hit probabilities, note counts and velocities for every bar of a song.

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, 84, 96), float in [0, 1] or uint8]
        uint8 CQTs are scaled by the model's own ``vae.conditioning.cqt_levels``.
    neighbor_idx, neighbor_weights : np.ndarray [shape=(n_bars, 7)]
    bar_tempos : np.ndarray [shape=(n_bars,), bpm]
    genre : str
        The style; tempo and genre are encoded as the VAE was trained (``vae.conditioning``,
        :func:`drumgen.model.data.conditions`).
    unknown_genre : {"marginal", "mix"}
        For a genre the VAE does not know: average its predictions under every training genre,
        weighted by the training shares (the same latent noise for each), or one pass with the
        shares as the genre input (:func:`genre_weights`). ``config.generation.unknown_genre``.
    part_onsets : np.ndarray [shape=(n_bars, 5, 16), uint8 counts]
        The song's note onsets per part family (step 1, :func:`drumgen.parts.onset_profile`),
        encoded as the VAE was trained (``vae.parts``). Required: None raises.
    rng : np.random.Generator
        Draws the latents (see :func:`sample_decoder`).
    written_steps, written_compound : np.ndarray [shape=(n_bars,)], optional
        The length (steps) and compound flag each bar is written in
        (:meth:`drumgen.meter.SongMeter.written_steps`, ``written_compound``); read by a
        meter-aware VAE (``vae.conditioning.meter_columns``), whose probabilities past a bar's
        written length are set to 0. Default: every bar a 16-step 4/4 bar.

    Returns
    -------
    BarPredictions
        ``probabilities`` [shape=(n_bars, 46, 16)], ``counts`` [shape=(n_bars,)], ``velocities``
        [shape=(n_bars, 46, 16), float32, 1..127]; a meter-aware VAE given ``written_steps`` keeps
        them (and ``written_compound``) with its predictions.

    Raises
    ------
    ParameterError
        If ``part_onsets`` is missing (None) or does not match the bars.

    Examples
    --------
    >>> predicted = bar_probabilities(vae, song.arrays["bar_cqts"], neighbor_idx, neighbor_weights,
    ...     bar_tempos=song.arrays["bar_tempos"], genre="rock",
    ...     part_onsets=song.arrays["part_onsets"], rng=np.random.default_rng(0))  # doctest: +SKIP
    >>> predicted.probabilities.shape, predicted.velocities.shape  # doctest: +SKIP
    ((n_bars, 46, 16), (n_bars, 46, 16))
    """
    n_bars = len(bar_cqts)
    if part_onsets is None:
        raise ParameterError(
            "the drum VAE needs the song's part_onsets, which step 1 counts; this song's analysis "
            "predates them: re-run step 1 (`drumgen preprocess --force`) or rebuild the dataset"
        )
    part_onsets = np.asarray(part_onsets)
    expected = (n_bars, len(PART_FAMILIES), N_STEPS)
    if part_onsets.shape != expected:
        raise ParameterError(f"part_onsets of shape {part_onsets.shape}, expected {expected}")
    if len(bar_tempos) != n_bars:
        raise ParameterError(f"{len(bar_tempos)} bar tempos for {n_bars} bars")
    weights = genre_weights(vae, genre, unknown_genre=unknown_genre)
    genre_conditions = [
        conditions(
            bar_tempos,
            genre=name,
            encoding=vae.conditioning,
            bar_steps=written_steps,
            compound=written_compound,
            part_onsets=part_onsets,
        )
        for name in weights
    ]
    probabilities = np.zeros((n_bars, N_ROWS, N_STEPS), dtype=np.float32)
    counts = np.zeros(n_bars, dtype=np.float32)
    velocities = np.zeros((n_bars, N_ROWS, N_STEPS), dtype=np.float32)
    levels = vae.conditioning.cqt_levels
    for start in range(0, n_bars, batch_size):
        bar_idx = np.arange(start, min(start + batch_size, n_bars))
        cqt_stack = stack_bars(bar_cqts, bar_idx, neighbor_idx, neighbor_weights, cqt_levels=levels)
        inputs = {
            "cqt_features": np.asarray(vae.cqt_features(cqt_stack, training=False)),  # once for all genres
            "parts": stack_parts(part_onsets, bar_idx, neighbor_idx, neighbor_weights, encoding=vae.parts),
        }
        # one latent draw per bar, shared by the genres, so they differ only in the genre
        noise = rng.standard_normal((len(bar_idx), vae.latent_dim)).astype(np.float32)
        per_genre = [
            sample_decoder(
                vae,
                {**inputs, "conditions": bar_conditions[bar_idx]},
                rng=rng,
                temperature=temperature,
                noise=noise,
            )
            for bar_conditions in genre_conditions
        ]
        batch = (
            per_genre[0]
            if len(per_genre) == 1
            else combine_genres(per_genre, np.array(list(weights.values())))
        )
        probabilities[bar_idx] = batch.probabilities
        counts[bar_idx] = batch.counts
        velocities[bar_idx] = batch.velocities
    if not (vae.conditioning.meter_columns and written_steps is not None):
        return BarPredictions(probabilities=probabilities, counts=counts, velocities=velocities)
    written = np.asarray(written_steps, dtype=np.int64)
    probabilities *= written_cells(written)
    compound = np.zeros(n_bars, bool) if written_compound is None else np.asarray(written_compound, bool)
    return BarPredictions(
        probabilities=probabilities,
        counts=counts,
        velocities=velocities,
        written_steps=written,
        written_compound=compound,
    )
