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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drumgen.bars import N_STEPS
from drumgen.exceptions import ParameterError
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
    """

    probabilities: np.ndarray
    counts: np.ndarray
    velocities: np.ndarray


def sample_decoder(
    vae: DrumVae, inputs: dict[str, np.ndarray], *, rng: np.random.Generator, temperature: float = 1.0
) -> BarPredictions:
    """Encode, draw one latent per bar (``mean + temperature * std * noise``), decode.

    Returns
    -------
    BarPredictions
        Of the ``batch`` bars of ``inputs``.
    """
    mean, log_var = vae.encoder(inputs, training=False)
    mean, log_var = np.asarray(mean), np.asarray(log_var)
    noise = rng.standard_normal(mean.shape).astype(np.float32)
    latent = mean + temperature * np.exp(0.5 * log_var) * noise
    out = vae.decoder({"latent": latent, "conditions": inputs["conditions"]}, training=False)
    velocities = np.clip(np.asarray(out["velocity"]) * MAX_MIDI_VELOCITY, 1.0, MAX_MIDI_VELOCITY)
    return BarPredictions(
        probabilities=np.asarray(out["drums"], dtype=np.float32),
        counts=np.asarray(out["note_count"], dtype=np.float32)[:, 0],
        velocities=velocities.astype(np.float32),
    )


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
    part_onsets : np.ndarray [shape=(n_bars, 5, 16), uint8 counts]
        The song's note onsets per part family (step 1, :func:`drumgen.parts.onset_profile`),
        encoded as the VAE was trained (``vae.parts``). Required: None raises.
    rng : np.random.Generator
        Draws the latents (see :func:`sample_decoder`).

    Returns
    -------
    BarPredictions
        ``probabilities`` [shape=(n_bars, 46, 16)], ``counts`` [shape=(n_bars,)], ``velocities``
        [shape=(n_bars, 46, 16), float32, 1..127].

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
    bar_conditions = conditions(bar_tempos, genre=genre, encoding=vae.conditioning)
    probabilities = np.zeros((n_bars, N_ROWS, N_STEPS), dtype=np.float32)
    counts = np.zeros(n_bars, dtype=np.float32)
    velocities = np.zeros((n_bars, N_ROWS, N_STEPS), dtype=np.float32)
    levels = vae.conditioning.cqt_levels
    for start in range(0, n_bars, batch_size):
        bar_idx = np.arange(start, min(start + batch_size, n_bars))
        inputs = {
            "cqt_stack": stack_bars(bar_cqts, bar_idx, neighbor_idx, neighbor_weights, cqt_levels=levels),
            "parts": stack_parts(part_onsets, bar_idx, neighbor_idx, neighbor_weights, encoding=vae.parts),
            "conditions": bar_conditions[bar_idx],
        }
        batch = sample_decoder(vae, inputs, rng=rng, temperature=temperature)
        probabilities[bar_idx] = batch.probabilities
        counts[bar_idx] = batch.counts
        velocities[bar_idx] = batch.velocities
    return BarPredictions(probabilities=probabilities, counts=counts, velocities=velocities)
