"""Render MIDI to mono audio with FluidSynth and a General MIDI soundfont.

The soundfont shapes the timbre and so the CQT: the one used is recorded with every result.
The default is Debian's ``fluid-soundfont-gm`` (see ``soundfonts/README.md``).

Used by notebook ``step_1_midi_data_preprocessing``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pretty_midi

from drumgen.config import RenderConfig
from drumgen.exceptions import SynthError

log = logging.getLogger(__name__)

DRUM_BANK = 128
"""Soundfont bank of General MIDI percussion kits (any channel plays drums from it)."""
N_CHANNELS = 256
"""Synth channels: one per instrument, so instruments never share controllers."""
BLOCK = 64
"""FluidSynth renders in blocks of this many samples and applies events at block starts."""
RENDER_PIECE = 4096 * BLOCK
"""Most samples FluidSynth renders in one call (a multiple of :data:`BLOCK`; about 6 s at 44.1 kHz)."""
DITHER_LEVEL = 4 / 32768
"""Peaks at or below this are FluidSynth's 16-bit dither, not sound: such audio is silence."""

_SOUNDFONT_HINT = "install it with `apt-get install fluid-soundfont-gm` or pass --soundfont PATH"


def find_soundfont(path: str | Path) -> Path:
    """Check that a soundfont file exists and return its path.

    Raises
    ------
    SynthError
        One line naming the missing file and the package that provides the default one.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise SynthError(f"GM soundfont not found at {path}; {_SOUNDFONT_HINT}")
    return path


def _import_fluidsynth() -> Any:
    try:
        import fluidsynth  # pyfluidsynth: a ctypes binding that needs the system library
    except ImportError as error:
        raise SynthError(
            "the FluidSynth library is missing; install it with `apt-get install libfluidsynth3` "
            "(and `pip install pyfluidsynth`)"
        ) from error
    return fluidsynth


@dataclass(frozen=True, order=True)
class _Event:
    sample: int
    order: int  # note-offs before controls before note-ons at the same sample
    channel: int
    kind: str
    data1: int
    data2: int


def _instrument_events(instrument: pretty_midi.Instrument, channel: int, sr: int) -> list[_Event]:
    events = []
    for note in instrument.notes:
        events.append(_Event(round(note.start * sr), 2, channel, "on", note.pitch, note.velocity))
        events.append(_Event(round(note.end * sr), 0, channel, "off", note.pitch, 0))
    for bend in instrument.pitch_bends:
        events.append(_Event(round(bend.time * sr), 1, channel, "bend", bend.pitch, 0))
    for control in instrument.control_changes:
        events.append(_Event(round(control.time * sr), 1, channel, "cc", control.number, control.value))
    return events


class Renderer:
    """A FluidSynth synthesizer with a loaded soundfont, reusable over many songs.

    Loading a soundfont takes a fraction of a second, so batch work keeps one renderer::

        with Renderer.from_config(load_config().render) as renderer:
            audio = renderer.render(song)

    Parameters
    ----------
    soundfont : str or Path
        A General MIDI ``.sf2`` file.
    sr : int
        Sample rate in Hz.
    gain : float
        FluidSynth master gain; the mix is 16-bit, so keep it low enough not to clip.
    effects : bool
        Keep FluidSynth's reverb and chorus (off by default: they smear each bar into the next
        and cost time).
    threads : int
        CPU cores FluidSynth may use (1 inside a pool of worker processes).
    polyphony : int
        Most voices sounding at once (FluidSynth's default is 256).
    """

    def __init__(
        self,
        *,
        soundfont: str | Path,
        sr: int,
        gain: float,
        effects: bool = False,
        threads: int = 1,
        polyphony: int = 256,
    ) -> None:
        self.soundfont = find_soundfont(soundfont)
        self.sr = int(sr)
        switches = {
            "synth.reverb.active": int(effects),
            "synth.chorus.active": int(effects),
            "synth.cpu-cores": max(1, int(threads)),
            "synth.polyphony": int(polyphony),
        }
        self._settings = {"gain": gain, "samplerate": float(self.sr), "channels": N_CHANNELS, **switches}
        self._synth: Any = None
        self._fresh = False
        self._new_synth()

    def _new_synth(self) -> None:
        """A fresh FluidSynth synthesizer with the soundfont loaded (about 0.2 s)."""
        if self._synth is not None:
            self._synth.delete()
        self._synth = _import_fluidsynth().Synth(**self._settings)
        self._fresh = True
        self._font_id = self._synth.sfload(str(self.soundfont))
        if self._font_id == -1:
            raise SynthError(f"FluidSynth could not load the soundfont {self.soundfont}")

    @classmethod
    def from_config(
        cls, render: RenderConfig, *, threads: int = 1, sample_rate: int | None = None
    ) -> Renderer:
        """A renderer with the settings of a config's ``render`` section, at ``sample_rate`` Hz
        if given (e.g. ``config.audio.sample_rate`` for the files you listen to)."""
        return cls(
            soundfont=render.soundfont,
            sr=render.sample_rate if sample_rate is None else sample_rate,
            gain=render.gain,
            polyphony=render.polyphony,
            threads=threads,
        )

    def __enter__(self) -> Renderer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Free the synthesizer."""
        if self._synth is not None:
            self._synth.delete()
            self._synth = None

    def render(
        self, song: pretty_midi.PrettyMIDI, *, duration: float | None = None, peak: float | None
    ) -> np.ndarray:
        """Render every instrument of a song (drum instruments with the soundfont's drum kits).

        Parameters
        ----------
        song : pretty_midi.PrettyMIDI
        duration : float, optional
            Length of the output in seconds; default: last note-off plus one second.
        peak : float or None
            Peak amplitude after normalisation; None keeps FluidSynth's level.

        Returns
        -------
        np.ndarray [shape=(n_samples,), float32]
            Mono audio at ``self.sr``.
        """
        if self._synth is None:
            raise SynthError("this renderer was closed")
        if duration is None:
            duration = max((n.end for i in song.instruments for n in i.notes), default=0.0) + 1.0
        n_samples = int(np.ceil(duration * self.sr))
        instruments = [inst for inst in song.instruments if inst.notes]
        if len(instruments) > N_CHANNELS:
            raise SynthError(
                f"a song may have at most {N_CHANNELS} instruments, this one has {len(instruments)}"
            )
        if not instruments:
            return np.zeros(n_samples, dtype=np.float32)
        mix = self._render_channels(instruments, n_samples)
        if peak_level(mix) <= DITHER_LEVEL:
            return np.zeros(n_samples, dtype=np.float32)
        if peak is not None:
            mix *= peak_gain(mix, peak=peak)
        return mix

    def _start_song(self) -> None:
        """Start a song on a synthesizer that has rendered nothing yet, so a song renders the same
        whatever was rendered before it: a reset synthesizer (all sounds off, system reset,
        silence flushed, block-aligned) still differed by up to 37 / 65536 in some samples, and
        that moved some generated drums."""
        if not self._fresh:
            self._new_synth()
        self._fresh = False

    def _render_channels(self, instruments: list[pretty_midi.Instrument], n_samples: int) -> np.ndarray:
        """Render each instrument on its own channel; return float32 mono."""
        self._start_song()
        synth = self._synth
        events: list[_Event] = []
        for channel, instrument in enumerate(instruments):
            bank = DRUM_BANK if instrument.is_drum else 0
            synth.program_select(channel, self._font_id, bank, instrument.program)
            events.extend(_instrument_events(instrument, channel, self.sr))
        events.sort()
        mix = np.zeros(n_samples, dtype=np.float32)
        position = 0
        for event in events:
            target = min(event.sample, n_samples)
            if target > position:
                self._render_into(mix, position, target)
                position = target
            if position >= n_samples:
                break
            if event.kind == "on":
                synth.noteon(event.channel, event.data1, event.data2)
            elif event.kind == "off":
                synth.noteoff(event.channel, event.data1)
            elif event.kind == "cc":
                synth.cc(event.channel, event.data1, event.data2)
            else:
                synth.pitch_bend(event.channel, event.data1)
        if position < n_samples:
            self._render_into(mix, position, n_samples)
        return mix

    def _render_into(self, mix: np.ndarray, start: int, stop: int) -> None:
        """Render samples ``start`` to ``stop`` into ``mix`` (mono float32, the mean of the two
        int16 channels / 32768), in pieces of at most :data:`RENDER_PIECE` samples, so memory
        stays at the song's own mono buffer however long the stretch between two events."""
        for piece_start in range(start, stop, RENDER_PIECE):
            piece_stop = min(piece_start + RENDER_PIECE, stop)
            stereo = self._synth.get_samples(piece_stop - piece_start).reshape(-1, 2)
            # exact in float32: the sum of two int16 values, then a power-of-two scale
            mix[piece_start:piece_stop] = (stereo[:, 0].astype(np.float32) + stereo[:, 1]) * np.float32(
                1.0 / 65536.0
            )


def peak_level(audio: np.ndarray) -> float:
    """Largest absolute sample of ``audio`` (0 for no samples), without an ``abs`` copy."""
    return max(float(audio.max()), -float(audio.min())) if audio.size else 0.0


def peak_gain(audio: np.ndarray, *, peak: float) -> float:
    """The factor :meth:`Renderer.render` scales its mix by so that it peaks at ``peak``.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,), float32]
        FluidSynth's level (``peak=None``).
    peak : float

    Returns
    -------
    float
        ``peak / peak_level(audio)``; 1.0 for silence (at or below FluidSynth's dither).
    """
    loudest = peak_level(audio)
    return 1.0 if loudest <= DITHER_LEVEL else peak / loudest


def render_song(
    song: pretty_midi.PrettyMIDI,
    *,
    soundfont: str | Path,
    sr: int,
    gain: float,
    peak: float | None,
    duration: float | None = None,
) -> np.ndarray:
    """Render one song with a fresh :class:`Renderer` (see there for the parameters)."""
    with Renderer(soundfont=soundfont, sr=sr, gain=gain) as renderer:
        return renderer.render(song, duration=duration, peak=peak)
