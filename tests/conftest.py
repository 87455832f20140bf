"""Shared fixtures: a seeded RNG, the smoke config and tiny songs built in code.

The songs are written as standard MIDI bytes with ``mido`` (so tempo changes and time signatures
are real meta events, read back by ``pretty_midi`` exactly as a file would be) and loaded with
``pretty_midi.PrettyMIDI(io.BytesIO(...))``. Nothing here touches the network or a pickle.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace

import mido
import numpy as np
import pretty_midi
import pytest

from drumgen import dataset, testing
from drumgen.config import Config, load_config

RESOLUTION = 480
"""Ticks per quarter note of every song built here."""

DRUM_CHANNEL = 9
MELODY_PITCH = 60
BASS_PITCH = 36
KICK = 36
SNARE = 38


@dataclass(frozen=True)
class Track:
    """A track of a built song: notes as (pitch, start_tick, end_tick, velocity)."""

    notes: Sequence[tuple[int, int, int, int]]
    program: int = 0
    is_drum: bool = False
    name: str = ""
    channel: int | None = None


@dataclass(frozen=True)
class SongSpec:
    """Everything :func:`build_midi_bytes` needs; ticks are at :data:`RESOLUTION` per quarter."""

    tracks: Sequence[Track] = field(default_factory=tuple)
    tempos: Sequence[tuple[int, float]] = ((0, 120.0),)
    time_signatures: Sequence[tuple[int, int, int]] | None = ((0, 4, 4),)
    resolution: int = RESOLUTION


def build_midi_bytes(spec: SongSpec) -> bytes:
    """Write a type-1 standard MIDI file: a conductor track, then one track per part."""
    midi = mido.MidiFile(type=1, ticks_per_beat=spec.resolution)
    meta: list[tuple[int, mido.MetaMessage]] = []
    for tick, bpm in spec.tempos:
        meta.append((tick, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
    for tick, numerator, denominator in spec.time_signatures or ():
        meta.append((tick, mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)))
    midi.tracks.append(_track_from_events(meta))
    melodic_channels = [c for c in range(16) if c != DRUM_CHANNEL]
    for idx, track in enumerate(spec.tracks):
        channel = track.channel
        if channel is None:
            channel = DRUM_CHANNEL if track.is_drum else melodic_channels[idx % len(melodic_channels)]
        events: list[tuple[int, mido.Message | mido.MetaMessage]] = []
        if track.name:
            events.append((0, mido.MetaMessage("track_name", name=track.name)))
        events.append((0, mido.Message("program_change", program=track.program, channel=channel)))
        for pitch, start, end, velocity in track.notes:
            events.append((end, mido.Message("note_off", note=pitch, velocity=0, channel=channel)))
            events.append((start, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)))
        midi.tracks.append(_track_from_events(events))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _track_from_events(events: list[tuple[int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    # stable sort on tick: offs were appended before the ons of the same tick
    ordered = sorted(enumerate(events), key=lambda item: (item[1][0], _order(item[1][1]), item[0]))
    track = mido.MidiTrack()
    now = 0
    for _, (tick, message) in ordered:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _order(message: mido.Message | mido.MetaMessage) -> int:
    if message.is_meta or message.type == "program_change":
        return 0
    return 1 if message.type == "note_off" else 2


def load_midi_bytes(data: bytes) -> pretty_midi.PrettyMIDI:
    """Load MIDI bytes as pretty_midi would load a file."""
    return pretty_midi.PrettyMIDI(io.BytesIO(data))


def bar_start_ticks(
    n_bars: int, meters: Sequence[tuple[int, int, int]] = (), resolution: int = RESOLUTION
) -> list[int]:
    """Start tick of each bar and the end tick of the last: ``n_bars + 1`` values.

    ``meters`` lists ``(bar_idx, numerator, denominator)``; bars before the first are 4/4.
    """
    meter_at = dict.fromkeys(range(n_bars), (4, 4))
    current = (4, 4)
    changes = {bar: (num, den) for bar, num, den in meters}
    for bar in range(n_bars):
        current = changes.get(bar, current)
        meter_at[bar] = current
    ticks = [0]
    for bar in range(n_bars):
        numerator, denominator = meter_at[bar]
        ticks.append(ticks[-1] + numerator * 4 * resolution // denominator)
    return ticks


def simple_song_spec(
    n_bars: int = 8,
    *,
    bpm: float = 120.0,
    tempo_changes: Sequence[tuple[int, float]] = (),
    meters: Sequence[tuple[int, int, int]] | None = (),
    melody: bool = True,
    drums: bool = True,
) -> SongSpec:
    """A song of ``n_bars`` bars: a held chord tone and a bass note per bar, kick + snare on beats.

    Parameters
    ----------
    tempo_changes : list of (bar_idx, bpm)
        Tempo changes on bar lines (bars are counted with the meters below).
    meters : list of (bar_idx, numerator, denominator), or None
        Time-signature changes; ``()`` declares 4/4 at 0; ``None`` declares no time signature.
    """
    ticks = bar_start_ticks(n_bars, meters or ())
    tracks = []
    if melody:
        piano = [(MELODY_PITCH + (bar % 3), ticks[bar], ticks[bar + 1], 80) for bar in range(n_bars)]
        bass = [(BASS_PITCH, ticks[bar], ticks[bar + 1], 90) for bar in range(n_bars)]
        tracks += [Track(piano, program=0, name="piano"), Track(bass, program=33, name="bass")]
    if drums:
        hits = []
        for bar in range(n_bars):
            for beat_tick in range(ticks[bar], ticks[bar + 1], RESOLUTION):
                pitch = KICK if (beat_tick - ticks[bar]) // RESOLUTION % 2 == 0 else SNARE
                hits.append((pitch, beat_tick, beat_tick + RESOLUTION // 8, 100))
        tracks.append(Track(hits, is_drum=True, name="drums"))
    if meters is None:
        signatures = None
    else:
        signatures = [(0, 4, 4)] + [(ticks[bar], num, den) for bar, num, den in meters]
    tempos = [(0, bpm)] + [(ticks[bar], value) for bar, value in tempo_changes]
    return SongSpec(tracks=tracks, tempos=tempos, time_signatures=signatures)


def simple_song(n_bars: int = 8, **kwargs: object) -> pretty_midi.PrettyMIDI:
    """:func:`simple_song_spec` loaded as a PrettyMIDI (see there for the arguments)."""
    return load_midi_bytes(build_midi_bytes(simple_song_spec(n_bars, **kwargs)))  # type: ignore[arg-type]


def single_note_song(
    pitch: int = 69,
    *,
    start: float = 0.0,
    end: float = 1.0,
    velocity: int = 100,
    program: int = 0,
    bpm: float = 120.0,
) -> pretty_midi.PrettyMIDI:
    """One melodic note, built directly with pretty_midi (times in seconds)."""
    song = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    instrument = pretty_midi.Instrument(program=program)
    instrument.notes.append(pretty_midi.Note(velocity, pitch, start, end))
    song.instruments.append(instrument)
    return song


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (the scripts folder is no package) to call its ``main``."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_script", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator: every test sees the same numbers."""
    return np.random.default_rng(20190404)


@pytest.fixture(scope="session")
def smoke_config() -> Config:
    """The fast preset (22.05 kHz)."""
    return load_config("smoke")


@pytest.fixture(scope="session")
def default_config() -> Config:
    return load_config("default")


@pytest.fixture
def make_song() -> Callable[..., pretty_midi.PrettyMIDI]:
    """Factory: ``make_song(n_bars, bpm=, tempo_changes=, meters=, melody=, drums=)``."""
    return simple_song


@pytest.fixture
def midi_kit() -> SimpleNamespace:
    """The builders for custom songs: ``Track``, ``SongSpec``, ``spec(...)`` (as make_song),
    ``to_bytes(spec)``, ``to_song(spec)``, ``bar_ticks(n_bars, meters)`` and ``RESOLUTION``."""
    return SimpleNamespace(
        Track=Track,
        SongSpec=SongSpec,
        spec=simple_song_spec,
        to_bytes=build_midi_bytes,
        to_song=lambda spec: load_midi_bytes(build_midi_bytes(spec)),
        bar_ticks=bar_start_ticks,
        RESOLUTION=RESOLUTION,
    )


@pytest.fixture
def note_song() -> Callable[..., pretty_midi.PrettyMIDI]:
    """Factory: ``note_song(pitch=69, start=0.0, end=1.0, velocity=100, program=0)``."""
    return single_note_song


# --- a tiny corpus, its dataset and models trained on it (smoke preset), shared by slow tests ---

TINY_CORPUS_FORMS = ("AABA", "ABAB", "ABCA", "AABB", "ABAC", "ABBA")


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight-bar songs with drums, plus songs a dataset build must skip (with their reasons)."""
    folder = tmp_path_factory.mktemp("corpus")
    for idx, form in enumerate(TINY_CORPUS_FORMS):
        song = testing.make_song(
            form, bars_per_section=2, tempo=90.0 + 10 * idx, seed=idx, parts=("piano", "bass", "guitar")
        )
        song.write(str(folder / f"song_{idx}.mid"))
    testing.make_song("AB", drums=False).write(str(folder / "no_drums.mid"))
    testing.make_song("ABAB", bars_per_section=2, time_signatures=[(0, 3, 4)]).write(
        str(folder / "waltz.mid")
    )
    (folder / "broken.mid").write_bytes(b"MThd garbage")
    return folder


def build_tiny_dataset(corpus: Path, out: Path) -> dataset.BuildSummary:
    """Build (or resume building) a tiny dataset of ``corpus`` in ``out``: the smoke preset, one
    worker, songs of 4 bars or more."""
    return dataset.build_dataset(
        corpus,
        out,
        config=load_config("smoke"),
        workers=1,
        progress=False,
        limits=dataset.SongLimits(min_bars=4),
    )


@pytest.fixture(scope="session")
def tiny_dataset(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    build_tiny_dataset(tiny_corpus, out)
    return out


@pytest.fixture(scope="session")
def tiny_models(tiny_dataset: Path, smoke_config: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder (drum VAE + drum-SSM generator + drummer) trained for seconds on the tiny dataset."""
    from drumgen.drummer import fit_drummer, save_drummer
    from drumgen.model.train_ssm_generator import train_ssm_generator
    from drumgen.model.train_vae import train_drum_vae

    songs = dataset.load_songs(tiny_dataset)
    folder = tmp_path_factory.mktemp("models")
    train_drum_vae(songs[:4], songs[4:], config=smoke_config, out_dir=folder / "drum_vae", progress=False)
    train_ssm_generator(
        songs[:4],
        songs[4:],
        config=smoke_config,
        out_dir=folder / "drum_ssm_generator",
        progress=False,
    )
    drummer = fit_drummer(songs[:4], settings=smoke_config.drum_changes)
    save_drummer(drummer, folder / "drummer", meta={"config": smoke_config.to_dict()})
    return folder
