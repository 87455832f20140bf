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

from drumgen.exceptions import SynthError

log = logging.getLogger(__name__)

DRUM_CHANNEL = 9
"""MIDI channel 10 (0-based 9): General MIDI percussion."""
MELODIC_CHANNELS = tuple(channel for channel in range(16) if channel != DRUM_CHANNEL)

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
        events.append(_Event(int(round(note.start * sr)), 2, channel, "on", note.pitch, note.velocity))
        events.append(_Event(int(round(note.end * sr)), 0, channel, "off", note.pitch, 0))
    for bend in instrument.pitch_bends:
        events.append(_Event(int(round(bend.time * sr)), 1, channel, "bend", bend.pitch, 0))
    for control in instrument.control_changes:
        events.append(_Event(int(round(control.time * sr)), 1, channel, "cc", control.number, control.value))
    return events


class Renderer:
    """A FluidSynth synthesizer with a loaded soundfont, reusable over many songs.

    Loading a soundfont takes a fraction of a second, so batch work keeps one renderer::

        with Renderer(soundfont=path, sr=44100) as renderer:
            audio = renderer.render(song)

    Parameters
    ----------
    soundfont : str or Path
        A General MIDI ``.sf2`` file.
    sr : int
        Sample rate in Hz.
    gain : float
        FluidSynth master gain; the mix is 16-bit, so keep it low enough not to clip.
    """

    def __init__(self, *, soundfont: str | Path, sr: int, gain: float) -> None:
        self.soundfont = find_soundfont(soundfont)
        self.sr = int(sr)
        fluidsynth = _import_fluidsynth()
        self._synth = fluidsynth.Synth(gain=gain, samplerate=float(self.sr))
        self._font_id = self._synth.sfload(str(self.soundfont))
        if self._font_id == -1:
            raise SynthError(f"FluidSynth could not load the soundfont {self.soundfont}")

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Free the synthesizer."""
        if self._synth is not None:
            self._synth.delete()
            self._synth = None

    def render(self, song: pretty_midi.PrettyMIDI, *, duration: float | None = None,
               peak: float | None) -> np.ndarray:
        """Render every instrument of a song (drums on the GM percussion channel).

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
        mix = np.zeros(n_samples, dtype=np.float32)
        melodic = [inst for inst in song.instruments if not inst.is_drum]
        drums = [inst for inst in song.instruments if inst.is_drum]
        # One channel per melodic instrument; more than 15 are rendered in further passes.
        n_channels = len(MELODIC_CHANNELS)
        passes = [melodic[i:i + n_channels] for i in range(0, len(melodic), n_channels)] or [[]]
        for pass_idx, instruments in enumerate(passes):
            assigned = list(zip(MELODIC_CHANNELS, instruments, strict=False))
            if pass_idx == 0:
                assigned += [(DRUM_CHANNEL, drum) for drum in drums]
            mix += self._render_pass(assigned, n_samples)
        if peak is not None:
            loudest = float(np.max(np.abs(mix))) if mix.size else 0.0
            if loudest > 0:
                mix *= peak / loudest
        return mix

    def _render_pass(self, assigned: list[tuple[int, pretty_midi.Instrument]], n_samples: int) -> np.ndarray:
        synth = self._synth
        synth.system_reset()
        events: list[_Event] = []
        for channel, instrument in assigned:
            if channel == DRUM_CHANNEL:
                synth.program_select(channel, self._font_id, 128, instrument.program)
            else:
                synth.program_select(channel, self._font_id, 0, instrument.program)
            events.extend(_instrument_events(instrument, channel, self.sr))
        events.sort()
        chunks: list[np.ndarray] = []
        position = 0
        for event in events:
            target = min(event.sample, n_samples)
            if target > position:
                chunks.append(synth.get_samples(target - position))
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
            chunks.append(synth.get_samples(n_samples - position))
        for channel, _ in assigned:
            synth.all_sounds_off(channel)
        stereo = np.concatenate(chunks).astype(np.float32).reshape(-1, 2) if chunks else np.zeros((0, 2))
        return stereo.mean(axis=1) / 32768.0


def render_song(song: pretty_midi.PrettyMIDI, *, soundfont: str | Path, sr: int, gain: float,
                peak: float | None, duration: float | None = None) -> np.ndarray:
    """Render one song with a fresh :class:`Renderer` (see there for the parameters)."""
    with Renderer(soundfont=soundfont, sr=sr, gain=gain) as renderer:
        return renderer.render(song, duration=duration, peak=peak)
