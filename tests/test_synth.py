"""Rendering MIDI with FluidSynth (drumgen.synth): bands, not exact samples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from drumgen.config import Config
from drumgen.exceptions import SynthError
from drumgen.synth import Renderer, find_soundfont, render_song

N_MANY = 20
"""More instruments than MIDI's 15 melodic channels."""


def _have_fluidsynth() -> bool:
    try:
        import fluidsynth  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def soundfont(smoke_config: Config) -> str:
    if not Path(smoke_config.render.soundfont).is_file():
        pytest.skip(f"soundfont {smoke_config.render.soundfont} not installed (fluid-soundfont-gm)")
    if not _have_fluidsynth():
        pytest.skip("FluidSynth library not installed")
    return smoke_config.render.soundfont


@pytest.fixture
def renderer(soundfont: str, smoke_config: Config) -> Iterator[Renderer]:
    """A fresh renderer per test, so no test hears another's leftovers."""
    with Renderer(
        soundfont=soundfont, sr=smoke_config.render.sample_rate, gain=smoke_config.render.gain
    ) as synth:
        yield synth


def _peak_frequency(audio: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1.0 / sr)[np.argmax(spectrum)])


# --- soundfont ----------------------------------------------------------------------------------


def test_find_soundfont_missing(tmp_path: Path) -> None:
    path = tmp_path / "nope.sf2"
    with pytest.raises(SynthError) as info:
        find_soundfont(path)
    message = str(info.value)
    assert "fluid-soundfont-gm" in message
    assert str(path) in message
    assert "\n" not in message


def test_find_soundfont_existing(tmp_path: Path) -> None:
    path = tmp_path / "font.sf2"
    path.write_bytes(b"RIFF")
    assert find_soundfont(str(path)) == path


def test_renderer_with_missing_soundfont(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="fluid-soundfont-gm"):
        Renderer(soundfont=tmp_path / "nope.sf2", sr=22050, gain=0.3)


# --- rendering ----------------------------------------------------------------------------------


def test_a4_piano_note(renderer: Renderer, note_song, smoke_config: Config) -> None:
    sr = renderer.sr
    audio = renderer.render(note_song(69, start=0.0, end=1.0), peak=smoke_config.render.peak)
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert audio.shape == (2 * sr,)  # last note-off + 1 s
    assert np.max(np.abs(audio)) == pytest.approx(0.95, abs=1e-3)
    assert _peak_frequency(audio, sr) == pytest.approx(440.0, abs=5.0)


@pytest.mark.parametrize(("pitch", "hz"), [(57, 220.0), (81, 880.0)])
def test_pitch_sets_frequency(renderer: Renderer, note_song, pitch: int, hz: float) -> None:
    audio = renderer.render(note_song(pitch), peak=0.95)
    assert _peak_frequency(audio, renderer.sr) == pytest.approx(hz, rel=0.02)


def test_duration_sets_length(renderer: Renderer, note_song) -> None:
    audio = renderer.render(note_song(69, end=1.0), duration=0.731, peak=0.95)
    assert audio.shape == (int(np.ceil(0.731 * renderer.sr)),)


def test_note_sounds_at_its_time(renderer: Renderer, note_song) -> None:
    sr = renderer.sr
    audio = renderer.render(note_song(69, start=1.0, end=2.0), peak=0.95)
    assert audio.shape == (3 * sr,)
    before = np.max(np.abs(audio[: int(0.95 * sr)]))
    during = np.max(np.abs(audio[int(1.0 * sr) : int(1.2 * sr)]))
    assert before < 0.01
    assert during > 0.5


def test_peak_none_keeps_synth_level(renderer: Renderer, note_song) -> None:
    loud = renderer.render(note_song(69, velocity=127), peak=None)
    quiet = renderer.render(note_song(69, velocity=30), peak=None)
    assert 0.0 < np.max(np.abs(loud)) < 1.0
    assert np.max(np.abs(quiet)) < np.max(np.abs(loud))


def test_empty_song_renders_without_error(renderer: Renderer) -> None:
    audio = renderer.render(pretty_midi.PrettyMIDI(), peak=None)
    assert audio.dtype == np.float32
    assert audio.shape == (renderer.sr,)  # 0 s of notes + 1 s
    assert np.max(np.abs(audio)) < 1e-3  # at most FluidSynth's dither


def test_empty_song_renders_silence(renderer: Renderer) -> None:
    audio = renderer.render(pretty_midi.PrettyMIDI(), peak=0.95)
    assert np.max(np.abs(audio)) == 0.0


def test_drums_render_on_percussion_channel(renderer: Renderer) -> None:
    song = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    kit.notes.append(pretty_midi.Note(110, 36, 0.0, 0.1))
    song.instruments.append(kit)
    audio = renderer.render(song, peak=None)
    assert np.max(np.abs(audio)) > 0.01


def test_more_than_15_melodic_instruments(renderer: Renderer) -> None:
    song = pretty_midi.PrettyMIDI()
    for idx in range(N_MANY):
        instrument = pretty_midi.Instrument(program=idx % 8)
        instrument.notes.append(pretty_midi.Note(80, 48 + idx, 0.1 * idx, 0.1 * idx + 0.5))
        song.instruments.append(instrument)
    audio = renderer.render(song, peak=0.95)
    assert audio.shape == (int(np.ceil((0.1 * (N_MANY - 1) + 0.5 + 1.0) * renderer.sr)),)
    assert np.max(np.abs(audio)) == pytest.approx(0.95, abs=1e-3)


def test_the_last_of_many_instruments_is_heard(renderer: Renderer) -> None:
    """19 instruments play in the first second; the 20th alone plays A4 from 2 s to 3 s."""
    sr = renderer.sr
    song = pretty_midi.PrettyMIDI()
    for idx in range(N_MANY - 1):
        instrument = pretty_midi.Instrument(program=idx % 8)
        instrument.notes.append(pretty_midi.Note(80, 40 + idx, 0.0, 0.5))
        song.instruments.append(instrument)
    last = pretty_midi.Instrument(program=0)
    last.notes.append(pretty_midi.Note(100, 69, 2.0, 3.0))
    song.instruments.append(last)
    audio = renderer.render(song, peak=None)
    late = audio[int(2.0 * sr) : int(3.0 * sr)]
    assert np.max(np.abs(late)) > 0.01
    assert _peak_frequency(late, sr) == pytest.approx(440.0, abs=5.0)


def test_closed_renderer_raises(soundfont: str, note_song) -> None:
    synth = Renderer(soundfont=soundfont, sr=22050, gain=0.3)
    synth.close()
    synth.close()  # closing twice is harmless
    with pytest.raises(SynthError):
        synth.render(note_song(), peak=0.95)


def test_a_render_does_not_hear_the_previous_song(renderer: Renderer, note_song) -> None:
    sr = renderer.sr
    renderer.render(note_song(69, start=0.0, end=1.0), duration=1.0, peak=None)
    audio = renderer.render(note_song(60, start=1.0, end=2.0), peak=None)
    assert np.max(np.abs(audio[: int(0.9 * sr)])) < 1e-3  # silent until its own note at 1 s


def test_render_song_is_reproducible(renderer: Renderer, smoke_config: Config, make_song) -> None:
    song = make_song(2, drums=False)
    kwargs = {
        "soundfont": smoke_config.render.soundfont,
        "sr": smoke_config.render.sample_rate,
        "gain": smoke_config.render.gain,
        "peak": smoke_config.render.peak,
    }
    first = render_song(song, **kwargs)
    second = render_song(song, **kwargs)
    np.testing.assert_array_equal(first, second)
    assert first.shape == (5 * smoke_config.render.sample_rate,)  # 2 bars at 120 bpm + 1 s


def test_a_song_renders_the_same_whatever_the_renderer_played_before(
    soundfont: str, smoke_config: Config, make_song
) -> None:
    song = make_song(4, drums=False)
    other = make_song(3, drums=True)  # another song, drums too, of another length
    settings = {
        "soundfont": soundfont,
        "sr": smoke_config.render.sample_rate,
        "gain": smoke_config.render.gain,
    }
    with Renderer(**settings) as fresh:
        alone = fresh.render(song, peak=None)
    with Renderer(**settings) as used:
        used.render(other, peak=None)
        used.render(other, duration=1.2345, peak=None)
        after = used.render(song, peak=None)
    np.testing.assert_array_equal(alone, after)
