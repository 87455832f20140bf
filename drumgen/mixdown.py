"""The song with its new drums as audio, cheaply: the drums rendered alone, mixed with step 1's render.

FluidSynth renders every instrument on its own channel and sums them (reverb and chorus off,
:mod:`drumgen.synth`), so a song's render is the sum of its parts' renders. Step 1 already
rendered the song without drums and kept the factor it scaled that render by
(:attr:`drumgen.analysis.Step1Result.melody_gain`); the song with drums is that render brought
back to FluidSynth's level, plus the drums rendered alone, scaled to peak at the configured level.
Rendering the drums costs a fraction of rendering the whole song again.

Used by :func:`drumgen.pipeline.write_audio` (``drumgen generate --audio``) and the studio.
"""

from __future__ import annotations

import numpy as np
import pretty_midi

from drumgen.exceptions import ParameterError
from drumgen.synth import Renderer, peak_gain

TAIL_SECONDS = 1.0
"""Audio kept after the song's last bar line, so the last hits ring out instead of stopping."""


def render_drums(drums: pretty_midi.PrettyMIDI, *, renderer: Renderer, n_samples: int) -> np.ndarray:
    """Render a drums-only song at FluidSynth's level (no normalisation).

    Parameters
    ----------
    drums : pretty_midi.PrettyMIDI
        E.g. step 5's drums-alone file.
    renderer : Renderer
    n_samples : int
        Length of the output, samples at ``renderer.sr``.

    Returns
    -------
    np.ndarray [shape=(n_samples,), float32]
    """
    return renderer.render(drums, duration=n_samples / renderer.sr, peak=None)


def mix_with_melody(melody: np.ndarray, drums: np.ndarray, *, melody_gain: float, peak: float) -> np.ndarray:
    """Mix step 1's normalised melody render with drums rendered at FluidSynth's level.

    Parameters
    ----------
    melody : np.ndarray [shape=(n_melody,), float32]
        Step 1's render of the song without drums, scaled by ``melody_gain``.
    drums : np.ndarray [shape=(n_samples,), float32]
        :func:`render_drums`; ``n_samples >= n_melody`` (the melody is padded with silence).
    melody_gain : float > 0
    peak : float
        Peak amplitude of the mix.

    Returns
    -------
    np.ndarray [shape=(n_samples,), float32]
        Peaks at ``peak`` (silence stays silence).

    Examples
    --------
    >>> import numpy as np
    >>> melody = np.array([0.5, -0.5, 0.0], dtype=np.float32)  # 0.25 at FluidSynth's level, x 2
    >>> drums = np.array([0.0, 0.0, 0.25, 0.0], dtype=np.float32)
    >>> mix_with_melody(melody, drums, melody_gain=2.0, peak=1.0).tolist()
    [1.0, -1.0, 1.0, 0.0]
    """
    if not melody_gain > 0:
        raise ParameterError(f"melody_gain must be > 0, got {melody_gain}")
    if len(drums) < len(melody):
        raise ParameterError(
            f"the drums ({len(drums)} samples) must not be shorter than the melody ({len(melody)})"
        )
    mix = drums.astype(np.float32, copy=True)
    mix[: len(melody)] += melody * np.float32(1.0 / melody_gain)
    mix *= np.float32(peak_gain(mix, peak=peak))
    return mix


def tail_samples(sr: int) -> int:
    """Samples of :data:`TAIL_SECONDS` at ``sr`` Hz."""
    return round(TAIL_SECONDS * sr)
