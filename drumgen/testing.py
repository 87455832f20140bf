"""Synthetic songs built in code, with a known bar structure, for tests, smoke runs and examples.

A song's *form* is a string of section letters, e.g. ``"ABABCA"``. Every distinct letter gets its
own material - chord progression, bass line, comping, melody and drum groove - chosen from a small
pool of styles (verse, chorus, bridge ...) and varied by a seed. A repeated letter repeats its
material exactly, so the bars of two "A" sections hold the same notes at the same beat positions
with the same velocities; that is the ground truth the structure tests look for.

How a song is made
------------------
1. :func:`make_song_bytes` lays out the bars (meter per bar, tempo per bar) and, bar by bar, asks
   the section's :class:`_Style` for the notes of each part, placed in *beats* (quarter notes)
   from the bar's start.
2. The notes are written as a type-1 standard MIDI file with ``mido``: a conductor track with the
   real tempo, time-signature and key-signature meta events, then one track per part, each on its
   own channel with its own program change. Every track ends at the last bar line.
3. :func:`make_song` loads those bytes back as a :class:`pretty_midi.PrettyMIDI`.

Guarantees: every non-drum part sounds in every bar (each bar's last note of each part is held to
the bar line, so the song ends exactly at its last bar line); drum onsets sit on the 16th-note grid
in whole ticks and last a 32nd note; the same arguments give byte-identical MIDI.

Small fixtures (:func:`sine_wave`, :func:`drum_only_song`, :func:`empty_song`,
:func:`downbeat_click_song`) serve the tests of other modules; :func:`example_songs` are the
songs bundled in ``input_midi/`` (written by ``scripts/make_example_songs.py``).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import pretty_midi

from drumgen.exceptions import ParameterError

log = logging.getLogger(__name__)

# --- General MIDI numbers -------------------------------------------------------------------

PROGRAM_ACOUSTIC_GRAND = 0
PROGRAM_CLEAN_GUITAR = 27
PROGRAM_FINGERED_BASS = 33
PROGRAM_STRING_ENSEMBLE = 48
PROGRAM_FLUTE = 73

DRUM_CHANNEL = 9
"""MIDI channel 10 (0-based 9): General MIDI percussion."""

KICK = 36
SIDE_STICK = 37
SNARE = 38
CLOSED_HAT = 42
LOW_TOM = 45
OPEN_HAT = 46
MID_TOM = 47
HIGH_MID_TOM = 48
CRASH = 49
RIDE = 51


@dataclass(frozen=True)
class _Part:
    """A melodic part: its track name, General MIDI program and lowest voicing pitch."""

    name: str
    program: int
    low: int  # lowest pitch of the part's chords (or of the bass root) in the default register


PARTS: Mapping[str, _Part] = {
    "piano": _Part("Piano (acoustic grand)", PROGRAM_ACOUSTIC_GRAND, low=53),
    "bass": _Part("Bass (fingered electric)", PROGRAM_FINGERED_BASS, low=28),
    "guitar": _Part("Guitar (clean electric)", PROGRAM_CLEAN_GUITAR, low=52),
    "strings": _Part("Strings (ensemble)", PROGRAM_STRING_ENSEMBLE, low=55),
    "lead": _Part("Lead (flute)", PROGRAM_FLUTE, low=72),
}
"""The parts :func:`make_song` can play, in the order of their MIDI channels."""

DRUM_TRACK_NAME = "Drums (GM kit)"

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
"""Semitones of the major scale's seven degrees above the tonic."""

KEYS = {"C": 0, "Db": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "Gb": 6, "G": 7, "Ab": 8, "A": 9, "Bb": 10, "B": 11}
"""Major keys by name (the names ``mido`` writes in key-signature events) → tonic pitch class."""

STEPS_PER_BEAT = 4
"""The drum grid and every pattern below run on 16th notes: four steps per quarter note."""

DRUM_NOTE_BEATS = 0.125
"""Length of every drum note: a 32nd note, in beats."""

MELODY_SPAN = 7
"""The melody stays within this many semitones of its style's centre pitch."""

# --- patterns ------------------------------------------------------------------------------
# Every pattern is one 4/4 bar of 16th-note steps, one character per step. A shorter bar (3/4)
# plays the pattern's start; a longer one repeats it. Each pattern starts with an onset, so every
# part sounds in every bar, and each note lasts until the next onset (the last one until the bar
# line). Characters:
#   "X" accented chord, "x" chord, "0".."3" one chord tone counted from the voicing's lowest note
#   ("3" is the lowest note an octave up), "." no new note.
# Drum rows: "X" accent, "x" normal hit, "g" ghost note, "." rest.

_TONE_ACCENT = 12
"""Velocity added to an accented chord ("X")."""

_DRUM_VELOCITY = {"X": 110, "x": 84, "g": 40}
_VELOCITY_JITTER = 6
"""Velocities vary by up to this much, the same way in every repeat of a section."""

_FILL = (HIGH_MID_TOM, HIGH_MID_TOM, MID_TOM, LOW_TOM)
"""Tom fill, one 16th each, over the last beat of a section's last bar (replacing the groove)."""


@dataclass(frozen=True)
class _Style:
    """The material of one section letter.

    Attributes
    ----------
    name : str
        What the section sounds like (for logs and readers).
    progression : tuple of int
        Scale degrees (0 = I ... 6 = vii), one chord per bar, cycled over the section's bars.
    piano, guitar, bass, strings : str
        Comping patterns (see the pattern characters above).
    melody : str
        Melody rhythm: "x" is an onset, "." holds; pitches are drawn per letter from the seed.
    groove : dict of int to str
        One drum row per GM drum pitch.
    shift : int
        Register shift in semitones for piano, guitar, strings and melody.
    bass_low : int
        Lowest pitch of the bass root.
    velocity : int
        Base velocity of the melodic parts.
    """

    name: str
    progression: tuple[int, ...]
    piano: str
    guitar: str
    bass: str
    strings: str
    melody: str
    groove: Mapping[int, str]
    shift: int
    bass_low: int
    velocity: int


_STYLES: tuple[_Style, ...] = (
    _Style(
        name="verse: rock beat, syncopated piano, eighth-note guitar arpeggios",
        progression=(0, 5, 3, 4),  # I vi IV V
        piano="X.......x.....x.",
        guitar="0.1.2.1.3.1.2.1.",
        bass="0.......0.0.2...",
        strings="X...............",
        melody="x...x.x.x...x...",
        groove={KICK: "X.......X.x.....", SNARE: "....X.......X...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
        shift=0,
        bass_low=28,
        velocity=70,
    ),
    _Style(
        name="chorus: driving beat with open hats, pumping quarter-note chords",
        progression=(3, 4, 2, 5),  # IV V iii vi
        piano="X...x...X...x...",
        guitar="X.x.X.x.X.x.X.x.",
        bass="0.0.0.0.0.0.0.0.",
        strings="X.......X.......",
        melody="x.....x.x.......",
        groove={
            KICK: "X.....x.X.x.....",
            SNARE: "....X.......X..g",
            OPEN_HAT: "..x...x...x...x.",
            CLOSED_HAT: "x...x...x...x...",
        },
        shift=7,
        bass_low=33,
        velocity=88,
    ),
    _Style(
        name="bridge: half-time beat on the ride, dotted-eighth arpeggios",
        progression=(1, 4, 0, 3),  # ii V I IV
        piano="X.........x.....",
        guitar="0..2..3..2..1...",
        bass="0.........2.....",
        strings="X...............",
        melody="x.....x.....x...",
        groove={KICK: "X.........x.....", SNARE: "........X.......", RIDE: "x.x.x.x.x.x.x.x."},
        shift=-5,
        bass_low=26,
        velocity=64,
    ),
    _Style(
        name="dance: four on the floor, off-beat chords, octave bass",
        progression=(5, 3, 0, 4),  # vi IV I V
        piano="x.X...X...X...X.",
        guitar="3.2.1.0.3.2.1.0.",
        bass="0.3.0.3.0.3.0.3.",
        strings="X.......X.......",
        melody="x.x.x...x.x.x...",
        groove={KICK: "X...X...X...X...", SNARE: "....X.......X...", OPEN_HAT: "..x...x...x...x."},
        shift=3,
        bass_low=31,
        velocity=84,
    ),
    _Style(
        name="funk: sixteenth hats, ghost notes, chord stabs",
        progression=(2, 5, 1, 4),  # iii vi ii V
        piano="X..x..x...x..x..",
        guitar="X..x.x..X..x.x..",
        bass="0..0..2.0..3..2.",
        strings="X...............",
        melody="x..x..x...x.x...",
        groove={KICK: "X..x......X..x..", SNARE: "....X..g.g..X..g", CLOSED_HAT: "xxxxxxxxxxxxxxxx"},
        shift=10,
        bass_low=35,
        velocity=80,
    ),
    _Style(
        name="toms: tom groove under a quarter-note ride, 3+3+2 chords",
        progression=(4, 3, 5, 0),  # V IV vi I
        piano="X.....X.....X...",
        guitar="0...1...2...3...",
        bass="0.....0.....2...",
        strings="X...............",
        melody="x.....x.....x.x.",
        groove={
            KICK: "X.....X.....X...",
            LOW_TOM: "..x.....x.....x.",
            MID_TOM: "....x.......x...",
            RIDE: "x...x...x...x...",
        },
        shift=-3,
        bass_low=30,
        velocity=76,
    ),
)
"""The pool of section styles; letter ``L`` plays ``_STYLES[(ord(L) - ord("A") + seed) % 6]``."""


@dataclass(frozen=True)
class _Note:
    """A note in beats (quarter notes); in a bar's material they count from the bar's start."""

    pitch: int
    velocity: int
    start: float
    end: float


_Event = tuple[int, int, mido.Message | mido.MetaMessage]
"""A MIDI event at an absolute tick: (tick, order at equal ticks, message)."""


@dataclass(frozen=True)
class _Track:
    """One MIDI track: a name, a channel with its program, and notes in beats from the song start."""

    name: str
    channel: int
    program: int
    notes: tuple[_Note, ...]


# --- public API ----------------------------------------------------------------------------


def make_song(
    form: str = "ABABCA",
    *,
    tempo: float = 120.0,
    tempo_changes: Sequence[tuple[int, float]] = (),
    time_signatures: Sequence[tuple[int, int, int]] = (),
    bars_per_section: int = 1,
    parts: Sequence[str] = ("piano", "bass"),
    drums: bool = True,
    seed: int = 0,
    ticks_per_beat: int = 480,
    key: str = "C",
) -> pretty_midi.PrettyMIDI:
    """Compose a multi-instrument song with a known form (see :func:`make_song_bytes`).

    Takes the same arguments as :func:`make_song_bytes` and returns its MIDI file loaded by
    ``pretty_midi`` (times in seconds).
    """
    return read_song_bytes(
        make_song_bytes(
            form,
            tempo=tempo,
            tempo_changes=tempo_changes,
            time_signatures=time_signatures,
            bars_per_section=bars_per_section,
            parts=parts,
            drums=drums,
            seed=seed,
            ticks_per_beat=ticks_per_beat,
            key=key,
        )
    )


def make_song_bytes(
    form: str = "ABABCA",
    *,
    tempo: float = 120.0,
    tempo_changes: Sequence[tuple[int, float]] = (),
    time_signatures: Sequence[tuple[int, int, int]] = (),
    bars_per_section: int = 1,
    parts: Sequence[str] = ("piano", "bass"),
    drums: bool = True,
    seed: int = 0,
    ticks_per_beat: int = 480,
    key: str = "C",
) -> bytes:
    """Compose a song with a known form and return it as a standard MIDI file.

    Parameters
    ----------
    form : str
        One uppercase letter per section, e.g. ``"ABABCA"``. Equal letters get identical material.
    tempo : float
        Tempo of bar 0 in quarter notes per minute.
    tempo_changes : sequence of (int, float)
        ``(bar_idx, bpm)``: the tempo from the start of bar ``bar_idx`` on (bar 0 overrides
        ``tempo``).
    time_signatures : sequence of (int, int, int)
        ``(bar_idx, numerator, denominator)``: the meter from bar ``bar_idx`` on. Bars before
        the first change are in 4/4. Denominators 1, 2, 4, 8 or 16.
    bars_per_section : int
        Bars in each section; the song has ``len(form) * bars_per_section`` bars.
    parts : sequence of str
        Melodic parts, any of ``"piano", "bass", "guitar", "strings", "lead"``; each gets its
        own track, channel and program. The melody is played by the lead, or else by the piano.
    drums : bool
        Add a drum track (channel 10) whose groove follows the form.
    seed : int
        Non-negative; picks which style each letter plays and draws its melody and velocities.
    ticks_per_beat : int
        MIDI resolution, a multiple of 8 so that 32nd notes fall on whole ticks.
    key : str
        Major key, one of :data:`KEYS` (e.g. ``"C"``, ``"Bb"``).

    Returns
    -------
    bytes
        A type-1 standard MIDI file; the same arguments give the same bytes.

    Raises
    ------
    ParameterError
        If an argument is outside the domain described above.
    """
    n_bars = len(form) * bars_per_section
    _check_song_arguments(
        form,
        tempo=tempo,
        bars_per_section=bars_per_section,
        parts=parts,
        drums=drums,
        seed=seed,
        ticks_per_beat=ticks_per_beat,
        key=key,
    )
    meters = _bar_meters(n_bars, time_signatures=time_signatures)
    tempos = _bar_tempos(n_bars, tempo=tempo, tempo_changes=tempo_changes)
    bar_starts = _bar_starts(meters)

    notes: dict[str, list[_Note]] = {part: [] for part in parts}
    drum_notes: list[_Note] = []
    melody_part = "lead" if "lead" in parts else "piano" if "piano" in parts else None
    for bar_idx, (numerator, denominator) in enumerate(meters):
        letter = form[bar_idx // bars_per_section]
        position = bar_idx % bars_per_section
        n_steps = numerator * 4 * STEPS_PER_BEAT // denominator
        style = _style_of(letter, seed=seed)
        for part in parts:
            bar_notes = _part_bar(
                part,
                style,
                letter=letter,
                position=position,
                n_steps=n_steps,
                seed=seed,
                tonic=KEYS[key],
                melody=part == melody_part,
            )
            notes[part].extend(_shifted(bar_notes, bar_starts[bar_idx]))
        if drums:
            bar_notes = _drum_bar(
                style,
                letter=letter,
                position=position,
                n_steps=n_steps,
                bars_per_section=bars_per_section,
                seed=seed,
            )
            drum_notes.extend(_shifted(bar_notes, bar_starts[bar_idx]))

    tracks = [
        _Track(PARTS[part].name, _channel_of(part), PARTS[part].program, tuple(notes[part])) for part in parts
    ]
    if drums:
        tracks.append(_Track(DRUM_TRACK_NAME, DRUM_CHANNEL, 0, tuple(drum_notes)))
    log.debug("composed form %s: %d bars, parts %s, drums %s", form, n_bars, list(parts), drums)
    return _write_midi(
        tracks,
        meters=meters,
        tempos=tempos,
        key=key,
        ticks_per_beat=ticks_per_beat,
        title=f"drumgen synthetic song {form}",
    )


def read_song_bytes(data: bytes) -> pretty_midi.PrettyMIDI:
    """Load a standard MIDI file held in memory (e.g. from :func:`make_song_bytes`)."""
    return pretty_midi.PrettyMIDI(io.BytesIO(data))


def sine_wave(freq_hz: float, *, duration: float, sr: int) -> np.ndarray:
    """A pure tone of amplitude 0.5 starting at phase 0.

    Parameters
    ----------
    freq_hz : float
        Frequency in Hz.
    duration : float
        Length in seconds (rounded to whole samples).
    sr : int
        Sample rate in Hz.

    Returns
    -------
    np.ndarray [shape=(round(duration * sr),), float32]
    """
    if duration < 0 or sr <= 0:
        raise ParameterError(f"expected duration >= 0 and sr > 0, got duration={duration}, sr={sr}")
    times = np.arange(round(duration * sr)) / sr
    return (0.5 * np.sin(2.0 * np.pi * freq_hz * times)).astype(np.float32)


def drum_only_song(n_bars: int = 4, *, tempo: float = 120.0) -> pretty_midi.PrettyMIDI:
    """A song holding only a drum track: ``n_bars`` bars of a rock beat in 4/4."""
    _check_positive(n_bars=n_bars, tempo=tempo)
    notes: list[_Note] = []
    for bar_idx in range(n_bars):
        notes.extend(_shifted(_groove_notes(_STYLES[0].groove, n_steps=16), 4.0 * bar_idx))
    track = _Track(DRUM_TRACK_NAME, DRUM_CHANNEL, 0, tuple(notes))
    return read_song_bytes(
        _write_midi(
            [track],
            meters=[(4, 4)] * n_bars,
            tempos={0: tempo},
            key="C",
            ticks_per_beat=480,
            title="drums only",
        )
    )


def empty_song(*, tempo: float = 120.0) -> pretty_midi.PrettyMIDI:
    """A valid MIDI file whose only track, a piano, has no notes.

    ``pretty_midi`` drops instruments without notes when it reads a file, so the piano is added
    back to the loaded song as an empty :class:`pretty_midi.Instrument`.
    """
    _check_positive(tempo=tempo)
    piano = PARTS["piano"]
    track = _Track(piano.name, _channel_of("piano"), piano.program, ())
    song = read_song_bytes(
        _write_midi(
            [track], meters=[(4, 4)], tempos={0: tempo}, key="C", ticks_per_beat=480, title="no notes"
        )
    )
    song.instruments.append(pretty_midi.Instrument(program=piano.program, name=piano.name))
    return song


def downbeat_click_song(
    n_bars: int = 8, *, tempo: float = 120.0, tempo_changes: Sequence[tuple[int, float]] = ()
) -> pretty_midi.PrettyMIDI:
    """A 4/4 song with one side-stick hit on every downbeat and a quiet C major chord per bar.

    Parameters
    ----------
    n_bars : int
        Number of bars.
    tempo : float
        Tempo of bar 0 in quarter notes per minute.
    tempo_changes : sequence of (int, float)
        ``(bar_idx, bpm)`` changes at bar starts, as in :func:`make_song_bytes`.

    Returns
    -------
    pretty_midi.PrettyMIDI
        A drum instrument with exactly one note (pitch 37) at each bar start, and a piano whose
        three-note chord lasts each whole bar (so the song ends at its last bar line).
    """
    _check_positive(n_bars=n_bars, tempo=tempo)
    tempos = _bar_tempos(n_bars, tempo=tempo, tempo_changes=tempo_changes)
    clicks = tuple(_Note(SIDE_STICK, 100, 4.0 * bar, 4.0 * bar + DRUM_NOTE_BEATS) for bar in range(n_bars))
    chords = tuple(
        _Note(pitch, 40, 4.0 * bar, 4.0 * bar + 4.0) for bar in range(n_bars) for pitch in (60, 64, 67)
    )
    tracks = [
        _Track(PARTS["piano"].name, 0, PROGRAM_ACOUSTIC_GRAND, chords),
        _Track("Side stick on downbeats", DRUM_CHANNEL, 0, clicks),
    ]
    return read_song_bytes(
        _write_midi(
            tracks,
            meters=[(4, 4)] * n_bars,
            tempos=tempos,
            key="C",
            ticks_per_beat=480,
            title="downbeat clicks",
        )
    )


_SWING_PROGRESSION = (0, 5, 3, 4)
"""Scale degrees of the swung song's bars: I vi IV V, cycled."""


def swung_song_bytes(
    n_bars: int = 8,
    *,
    ratio: float = 2.0,
    tempo: float = 120.0,
    parts: Sequence[str] = ("bass", "piano", "guitar"),
    ticks_per_beat: int = 480,
    seed: int = 0,
    drums: bool = False,
) -> bytes:
    """A 4/4 song whose parts play eighth notes with swing ``ratio`` (first eighth / second).

    Every beat's off-beat eighth sits ``ratio / (1 + ratio)`` of the way through the beat (2/3 for
    the default triplet swing, 1/2 for ``ratio=1``, a straight song). The bass plays both eighths
    of every beat (root, then fifth), the piano a chord on beats 1 and 3 and a stab on the
    off-beats of 2 and 4, the guitar a short chop on every off-beat; chords follow I vi IV V in
    C major. With ``drums``, a drum track swung alike: closed hi-hat on both eighths of every
    beat, kick on beats 1 and 3, snare on 2 and 4.

    Parameters
    ----------
    n_bars : int
    ratio : float
        Swing ratio, > 0 (1 straight, 2 triplet swing, 3 dotted-eighth shuffle).
    tempo : float
        Quarter notes per minute.
    parts : sequence of str
        Any of ``"bass", "piano", "guitar"``.
    ticks_per_beat : int
        MIDI resolution; a multiple of 24 puts triplet swing on whole ticks.
    seed : int
        Draws the velocities (within 6 of their nominal values).
    drums : bool
        Add the swung drum track (channel 10).

    Returns
    -------
    bytes
        A type-1 standard MIDI file.

    Examples
    --------
    >>> song = read_song_bytes(swung_song_bytes(2, ratio=2.0))
    >>> sorted({round(float(n.start) % 0.5, 4) for i in song.instruments for n in i.notes})
    [0.0, 0.3333]
    """
    _check_positive(n_bars=n_bars, ratio=ratio, tempo=tempo, ticks_per_beat=ticks_per_beat)
    unknown = [part for part in parts if part not in ("bass", "piano", "guitar")]
    if unknown or not parts:
        raise ParameterError(f"expected parts among bass, piano, guitar, got {list(parts)}")
    rng = np.random.default_rng(seed)
    offbeat = ratio / (1.0 + ratio)  # in beats

    def velocity(nominal: int) -> int:
        return int(np.clip(nominal + rng.integers(-6, 7), 1, 127))

    notes: dict[str, list[_Note]] = {part: [] for part in parts}
    drum_track: list[_Note] = []
    for bar in range(n_bars):
        chord = _chord_pitch_classes(_SWING_PROGRESSION[bar % len(_SWING_PROGRESSION)], tonic=0)
        start = 4.0 * bar
        for beat in range(4):
            on, off = start + beat, start + beat + offbeat
            if "bass" in notes:
                root = _bass_voicing(chord, low=PARTS["bass"].low)[0]
                notes["bass"].append(_Note(root, velocity(96), on, off))
                notes["bass"].append(_Note(root + 7, velocity(80), off, start + beat + 1.0))
            if "piano" in notes:
                voicing = _voicing(chord, low=PARTS["piano"].low)
                if beat in (0, 2):
                    notes["piano"].extend(_Note(pitch, velocity(72), on, on + 0.9) for pitch in voicing)
                else:
                    notes["piano"].extend(_Note(pitch, velocity(64), off, off + 0.25) for pitch in voicing)
            if "guitar" in notes:
                voicing = _voicing(chord, low=PARTS["guitar"].low)
                notes["guitar"].extend(_Note(pitch, velocity(70), off, off + 0.15) for pitch in voicing)
            if drums:
                beat_piece = KICK if beat % 2 == 0 else SNARE
                drum_track.append(_Note(beat_piece, velocity(100), on, on + DRUM_NOTE_BEATS))
                drum_track.extend(
                    _Note(CLOSED_HAT, velocity(nominal), t, t + DRUM_NOTE_BEATS)
                    for t, nominal in ((on, 84), (off, 64))
                )
    tracks = [
        _Track(PARTS[part].name, _channel_of(part), PARTS[part].program, tuple(notes[part])) for part in parts
    ]
    if drums:
        tracks.append(_Track(DRUM_TRACK_NAME, DRUM_CHANNEL, 0, tuple(drum_track)))
    return _write_midi(
        tracks,
        meters=[(4, 4)] * n_bars,
        tempos={0: tempo},
        key="C",
        ticks_per_beat=ticks_per_beat,
        title=f"drumgen swung song, ratio {ratio:g}",
    )


def swung_song(n_bars: int = 8, **kwargs: object) -> pretty_midi.PrettyMIDI:
    """:func:`swung_song_bytes` loaded as a PrettyMIDI (see there for the arguments)."""
    return read_song_bytes(swung_song_bytes(n_bars, **kwargs))  # type: ignore[arg-type]


METER_SONGS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "in_2_4": ((0, 2, 4),),
    "in_3_4": ((0, 3, 4),),
    "in_5_4": ((0, 5, 4),),
    "in_6_8": ((0, 6, 8),),
    "in_7_8": ((0, 7, 8),),
    "in_12_8": ((0, 12, 8),),
    "pickup": ((0, 1, 4), (1, 4, 4)),
    "one_2_4_bar": ((3, 2, 4), (4, 4, 4)),
    "change_midway": ((3, 3, 4),),
}
"""The meters of :func:`meter_song_bytes`: ``(bar_idx, numerator, denominator)`` changes per song
(bars before the first are 4/4): each meter drumgen drums, a 1/4 pickup bar, a single 2/4 bar in
a 4/4 song, and a 4/4 song turning 3/4 midway."""


def meter_song_bytes(
    *, form: str = "AB", bars_per_section: int = 3, tempo: float = 150.0
) -> dict[str, bytes]:
    """Songs in every meter drumgen drums (:data:`METER_SONGS`), as standard MIDI files by name.

    Each is :func:`make_song_bytes` of ``form`` (piano, bass and drums, whose grooves are cut or
    repeated to each bar's length) with the time signatures of :data:`METER_SONGS`: 6 bars by
    default, 10-13 s at 150 bpm.

    Examples
    --------
    >>> songs = meter_song_bytes()
    >>> sorted(songs)[:3]
    ['change_midway', 'in_12_8', 'in_2_4']
    """
    return {
        name: make_song_bytes(
            form, tempo=tempo, bars_per_section=bars_per_section, time_signatures=meters, seed=1
        )
        for name, meters in METER_SONGS.items()
    }


def drum_notes(path: str | Path) -> list[tuple[int, int, int, int]]:
    """The drum notes of a MIDI file, exactly: ``(tick, pitch, velocity, duration in ticks)``.

    Every note-on with velocity > 0 on channel 10, paired with its note-off, sorted; what the
    golden tests of the example songs compare (``tests/data/example_drums.json``).
    """
    notes: list[tuple[int, int, int, int]] = []
    for track in mido.MidiFile(str(path)).tracks:
        tick = 0
        started: dict[int, list[tuple[int, int]]] = {}
        for message in track:
            tick += message.time
            if message.type not in ("note_on", "note_off") or message.channel != DRUM_CHANNEL:
                continue
            if message.type == "note_on" and message.velocity > 0:
                started.setdefault(message.note, []).append((tick, message.velocity))
            elif started.get(message.note):
                start, velocity = started[message.note].pop(0)
                notes.append((start, message.note, velocity, tick - start))
    return sorted(notes)


def drum_notes_digest(path: str | Path) -> str:
    """SHA-256 of :func:`drum_notes` of a MIDI file, in hex."""
    text = json.dumps(drum_notes(path), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def example_song_bytes() -> dict[str, bytes]:
    """The project's bundled example songs as standard MIDI files, by file stem.

    Every section is 4 bars; letters play the styles of :data:`_STYLES` picked by the seed.

    - ``example_pop_aabacb``: G major, 108 bpm, piano (with the melody), bass, guitar; form
      A A B A C B = four-on-the-floor verse, funk chorus, tom-groove bridge; 24 bars, 53 s.
    - ``example_ballad_tempo_change``: F major, 96 bpm speeding up to 120 bpm where the second
      half starts (bar 12); piano (with the melody), strings, bass; form A A B A C B = half-time
      verse, four-on-the-floor chorus, funk bridge; 24 bars, 54 s.
    - ``example_uptempo``: E major, 138 bpm, guitar, bass, strings, flute lead (the melody); form
      A A B A B C B B = rock verse, driving chorus, half-time bridge; 32 bars, 56 s.

    Three in other meters (issue 11):

    - ``example_waltz_3_4``: a waltz in 3/4, D major, 126 bpm, piano (with the melody), strings,
      bass; form A A B A C A of 6-bar sections; 36 bars, 51 s.
    - ``example_ballad_6_8``: a ballad in 6/8, A major, 90 quarter notes per minute (a dotted
      quarter at 60), piano, guitar, bass, flute lead (the melody); form A A B A C B of 4 bars;
      24 bars, 48 s.
    - ``example_pickup_2_4_bar``: 4/4 at 112 bpm opening with a one-beat (1/4) pickup bar, with one
      2/4 bar (bar 8, ending the second A); guitar, bass, strings, piano (with the melody); form
      A A B A C B of 4 bars; 24 bars, 49 s.
    """
    return {
        "example_pop_aabacb": make_song_bytes(
            "AABACB", tempo=108.0, bars_per_section=4, parts=("piano", "bass", "guitar"), seed=3, key="G"
        ),
        "example_ballad_tempo_change": make_song_bytes(
            "AABACB",
            tempo=96.0,
            tempo_changes=[(12, 120.0)],
            bars_per_section=4,
            parts=("piano", "strings", "bass"),
            seed=2,
            key="F",
        ),
        "example_uptempo": make_song_bytes(
            "AABABCBB",
            tempo=138.0,
            bars_per_section=4,
            parts=("guitar", "bass", "strings", "lead"),
            seed=6,
            key="E",
        ),
        "example_waltz_3_4": make_song_bytes(
            "AABACA",
            tempo=126.0,
            bars_per_section=6,
            time_signatures=[(0, 3, 4)],
            parts=("piano", "strings", "bass"),
            seed=4,
            key="D",
        ),
        "example_ballad_6_8": make_song_bytes(
            "AABACB",
            tempo=90.0,
            bars_per_section=4,
            time_signatures=[(0, 6, 8)],
            parts=("piano", "guitar", "bass", "lead"),
            seed=5,
            key="A",
        ),
        "example_pickup_2_4_bar": make_song_bytes(
            "AABACB",
            tempo=112.0,
            bars_per_section=4,
            time_signatures=[(0, 1, 4), (1, 4, 4), (7, 2, 4), (8, 4, 4)],
            parts=("guitar", "bass", "strings", "piano"),
            seed=7,
            key="Bb",
        ),
    }


def example_songs() -> dict[str, pretty_midi.PrettyMIDI]:
    """The bundled example songs (see :func:`example_song_bytes`), loaded, by file stem."""
    return {stem: read_song_bytes(data) for stem, data in example_song_bytes().items()}


# --- composing ------------------------------------------------------------------------------


def _style_of(letter: str, *, seed: int) -> _Style:
    """The style a section letter plays: consecutive letters get different styles."""
    return _STYLES[(ord(letter) - ord("A") + seed) % len(_STYLES)]


def _rng(*, seed: int, letter: str, position: int, voice: int) -> np.random.Generator:
    """Random numbers for one voice of one bar of a section: the same in every repeat."""
    return np.random.default_rng([seed, ord(letter), position, voice])


def _channel_of(part: str) -> int:
    """Each part's fixed MIDI channel: its place in :data:`PARTS` (never the drum channel)."""
    return list(PARTS).index(part)


def _chord_pitch_classes(degree: int, *, tonic: int) -> list[int]:
    """Pitch classes of the diatonic triad on a scale degree, root first."""
    return [(tonic + MAJOR_SCALE[(degree + k) % 7]) % 12 for k in (0, 2, 4)]


def _voicing(pitch_classes: Sequence[int], *, low: int) -> list[int]:
    """Close voicing: each pitch class at its lowest pitch >= ``low``, sorted, plus the lowest
    note an octave up (four notes, addressed by the pattern digits 0-3)."""
    pitches = sorted(low + (pc - low) % 12 for pc in pitch_classes)
    return [*pitches, pitches[0] + 12]


def _bass_voicing(pitch_classes: Sequence[int], *, low: int) -> list[int]:
    """Root position from the lowest root >= ``low``: root, third, fifth, octave."""
    root = low + (pitch_classes[0] - low) % 12
    third, fifth = (root + (pc - root) % 12 for pc in pitch_classes[1:])
    return [root, third, fifth, root + 12]


def _fit(pattern: str, n_steps: int) -> str:
    """A pattern cut, or repeated, to a bar of ``n_steps`` steps."""
    return "".join(pattern[step % len(pattern)] for step in range(n_steps))


def _pattern_steps(pattern: str, n_steps: int) -> list[tuple[int, str]]:
    """Onsets of a pattern in a bar of ``n_steps`` steps: (step, character) pairs."""
    return [(step, char) for step, char in enumerate(_fit(pattern, n_steps)) if char != "."]


def _legato(onsets: Sequence[tuple[int, list[int], int]], n_steps: int) -> list[_Note]:
    """Notes from (step, pitches, velocity) onsets, each held until the next onset or the bar end."""
    ends = [step for step, _, _ in onsets[1:]] + [n_steps]
    return [
        _Note(pitch, velocity, step / STEPS_PER_BEAT, end / STEPS_PER_BEAT)
        for (step, pitches, velocity), end in zip(onsets, ends, strict=True)
        for pitch in pitches
    ]


def _jittered(velocity: int, rng: np.random.Generator) -> int:
    """A velocity varied by up to :data:`_VELOCITY_JITTER`, kept in 1-127."""
    return int(np.clip(velocity + rng.integers(-_VELOCITY_JITTER, _VELOCITY_JITTER + 1), 1, 127))


def _part_bar(
    part: str, style: _Style, *, letter: str, position: int, n_steps: int, seed: int, tonic: int, melody: bool
) -> list[_Note]:
    """The notes of one melodic part in bar ``position`` of a section, in beats from the bar start.

    Parameters
    ----------
    part : str
        A key of :data:`PARTS`.
    style : _Style
        The section's material.
    letter : str
        The section letter (seeds the random choices together with ``seed`` and ``position``).
    position : int
        Index of the bar within its section.
    n_steps : int
        Length of the bar in 16th-note steps.
    melody : bool
        Whether this part plays the melody (lead, or the piano's right hand).
    """
    rng = _rng(seed=seed, letter=letter, position=position, voice=list(PARTS).index(part))
    chord = _chord_pitch_classes(style.progression[position % len(style.progression)], tonic=tonic)
    velocity = style.velocity + (-10 if part == "strings" else 0)
    notes: list[_Note] = []
    if part != "lead":
        pattern = {
            "piano": style.piano,
            "guitar": style.guitar,
            "bass": style.bass,
            "strings": style.strings,
        }[part]
        if part == "bass":
            voiced = _bass_voicing(chord, low=style.bass_low)
        else:
            voiced = _voicing(chord, low=PARTS[part].low + style.shift)
        onsets = []
        for step, char in _pattern_steps(pattern, n_steps):
            pitches = voiced[:3] if char in "Xx" else [voiced[int(char)]]
            accent = _TONE_ACCENT if char == "X" else 0
            onsets.append((step, pitches, _jittered(velocity + accent, rng)))
        notes.extend(_legato(onsets, n_steps))
    if melody:
        notes.extend(_melody_bar(style, chord=chord, n_steps=n_steps, tonic=tonic, rng=rng))
    return notes


def _melody_bar(
    style: _Style, *, chord: Sequence[int], n_steps: int, tonic: int, rng: np.random.Generator
) -> list[_Note]:
    """A melody bar: chord tones on the beats, scale tones between, moving mostly by small steps."""
    centre = PARTS["lead"].low + style.shift
    scale = [(tonic + interval) % 12 for interval in MAJOR_SCALE]
    previous = centre
    onsets = []
    for step, _ in _pattern_steps(style.melody, n_steps):
        allowed = chord if step % STEPS_PER_BEAT == 0 else scale
        candidates = [p for p in range(centre - MELODY_SPAN, centre + MELODY_SPAN + 1) if p % 12 in allowed]
        candidates.sort(key=lambda pitch: (abs(pitch - previous), pitch))
        previous = candidates[int(rng.integers(0, min(3, len(candidates))))]
        onsets.append((step, [previous], _jittered(style.velocity + 8, rng)))
    return _legato(onsets, n_steps)


def _groove_notes(
    groove: Mapping[int, str], *, n_steps: int, rng: np.random.Generator | None = None
) -> list[_Note]:
    """Drum notes of one bar from drum rows, each a 32nd note on its 16th step."""
    notes = []
    for pitch, row in groove.items():
        for step, char in _pattern_steps(row, n_steps):
            velocity = _DRUM_VELOCITY[char]
            if rng is not None:
                velocity = _jittered(velocity, rng)
            start = step / STEPS_PER_BEAT
            notes.append(_Note(pitch, velocity, start, start + DRUM_NOTE_BEATS))
    return notes


def _drum_bar(
    style: _Style, *, letter: str, position: int, n_steps: int, bars_per_section: int, seed: int
) -> list[_Note]:
    """The drums of bar ``position`` of a section: the groove, a crash on the section's first
    downbeat and, when a section has several bars, a tom fill over its last bar's last beat."""
    rows = {pitch: _fit(row, n_steps) for pitch, row in style.groove.items()}
    if bars_per_section > 1 and position == bars_per_section - 1 and n_steps >= 2 * len(_FILL):
        fill_start = n_steps - len(_FILL)
        rows = {pitch: row[:fill_start] + "." * len(_FILL) for pitch, row in rows.items()}
        for step, pitch in enumerate(_FILL, start=fill_start):
            row = rows.get(pitch, "." * n_steps)
            rows[pitch] = row[:step] + "x" + row[step + 1 :]
    if position == 0:
        rows[CRASH] = "X" + "." * (n_steps - 1)
    rng = _rng(seed=seed, letter=letter, position=position, voice=len(PARTS))
    return _groove_notes(rows, n_steps=n_steps, rng=rng)


def _shifted(notes: Sequence[_Note], beats: float) -> list[_Note]:
    """The notes moved later by ``beats``."""
    return [_Note(n.pitch, n.velocity, n.start + beats, n.end + beats) for n in notes]


# --- bars, tempo and meter ------------------------------------------------------------------


def _bar_meters(n_bars: int, *, time_signatures: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """(numerator, denominator) of every bar; 4/4 until the first change."""
    changes: dict[int, tuple[int, int]] = {}
    for bar_idx, numerator, denominator in time_signatures:
        _check_bar_index(bar_idx, n_bars, what="time signature")
        if numerator < 1 or denominator not in (1, 2, 4, 8, 16):
            raise ParameterError(
                f"expected a time signature n/d with n >= 1 and d in 1, 2, 4, 8, 16, "
                f"got {numerator}/{denominator} at bar {bar_idx}"
            )
        changes[bar_idx] = (numerator, denominator)
    meters = []
    meter = (4, 4)
    for bar_idx in range(n_bars):
        meter = changes.get(bar_idx, meter)
        meters.append(meter)
    return meters


def _bar_tempos(n_bars: int, *, tempo: float, tempo_changes: Sequence[tuple[int, float]]) -> dict[int, float]:
    """Tempo changes by bar index, always including bar 0."""
    tempos = {0: float(tempo)}
    for bar_idx, bpm in tempo_changes:
        _check_bar_index(bar_idx, n_bars, what="tempo change")
        _check_positive(tempo=bpm)
        tempos[bar_idx] = float(bpm)
    return dict(sorted(tempos.items()))


def _bar_starts(meters: Sequence[tuple[int, int]]) -> list[float]:
    """Start of every bar in beats (quarter notes), then the end of the last bar."""
    starts = [0.0]
    for numerator, denominator in meters:
        starts.append(starts[-1] + numerator * 4.0 / denominator)
    return starts


# --- writing MIDI ---------------------------------------------------------------------------


def _write_midi(
    tracks: Sequence[_Track],
    *,
    meters: Sequence[tuple[int, int]],
    tempos: Mapping[int, float],
    key: str,
    ticks_per_beat: int,
    title: str,
) -> bytes:
    """A type-1 MIDI file: a conductor track (meter, tempo, key) and the given tracks, all ending
    at the last bar line."""
    bar_starts = _bar_starts(meters)
    end_tick = _ticks(bar_starts[-1], ticks_per_beat)

    conductor: list[_Event] = [
        (0, 0, mido.MetaMessage("track_name", name=title)),
        (0, 0, mido.MetaMessage("key_signature", key=key)),
    ]
    for bar_idx, meter in enumerate(meters):
        if bar_idx == 0 or meter != meters[bar_idx - 1]:
            tick = _ticks(bar_starts[bar_idx], ticks_per_beat)
            conductor.append(
                (tick, 0, mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1]))
            )
    for bar_idx, bpm in tempos.items():
        tick = _ticks(bar_starts[bar_idx], ticks_per_beat)
        conductor.append((tick, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))

    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(_to_track(conductor, end_tick=end_tick))
    for track in tracks:
        midi.tracks.append(_to_track(_track_events(track, ticks_per_beat), end_tick=end_tick))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _track_events(track: _Track, ticks_per_beat: int) -> list[_Event]:
    """(tick, order, message) events of one track; at equal ticks setup comes first, then
    note-offs, then note-ons, so a repeated pitch is released before it is struck again."""
    events: list[_Event] = [
        (0, 0, mido.MetaMessage("track_name", name=track.name)),
        (0, 0, mido.Message("program_change", channel=track.channel, program=track.program)),
    ]
    for note in track.notes:
        note_on = mido.Message("note_on", channel=track.channel, note=note.pitch, velocity=note.velocity)
        note_off = mido.Message("note_off", channel=track.channel, note=note.pitch, velocity=0)
        events.append((_ticks(note.start, ticks_per_beat), 2, note_on))
        events.append((_ticks(note.end, ticks_per_beat), 1, note_off))
    return events


def _to_track(events: Sequence[_Event], *, end_tick: int) -> mido.MidiTrack:
    """A track from absolute-tick events (stable-sorted by tick and order), ending at ``end_tick``."""
    track = mido.MidiTrack()
    now = 0
    for tick, _, message in sorted(events, key=lambda event: (event[0], event[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end_tick - now, 0)))
    return track


def _ticks(beats: float, ticks_per_beat: int) -> int:
    """Beats to whole ticks (exact for the 32nd-note grid when ``ticks_per_beat % 8 == 0``)."""
    return round(beats * ticks_per_beat)


# --- argument checks ------------------------------------------------------------------------


def _check_song_arguments(
    form: str,
    *,
    tempo: float,
    bars_per_section: int,
    parts: Sequence[str],
    drums: bool,
    seed: int,
    ticks_per_beat: int,
    key: str,
) -> None:
    """Raise :class:`ParameterError` naming the first argument outside its domain."""
    if not form or not all("A" <= letter <= "Z" for letter in form):
        raise ParameterError(f"expected a form of uppercase letters such as 'ABABCA', got {form!r}")
    _check_positive(tempo=tempo, bars_per_section=bars_per_section)
    unknown = [part for part in parts if part not in PARTS]
    if unknown or len(set(parts)) != len(parts):
        raise ParameterError(f"expected distinct parts among {list(PARTS)}, got {list(parts)}")
    if not parts and not drums:
        raise ParameterError("expected at least one part or drums=True, got neither")
    if seed < 0:
        raise ParameterError(f"expected a seed >= 0, got {seed}")
    if ticks_per_beat <= 0 or ticks_per_beat % 8:
        raise ParameterError(f"expected ticks_per_beat a positive multiple of 8, got {ticks_per_beat}")
    if key not in KEYS:
        raise ParameterError(f"expected a major key among {list(KEYS)}, got {key!r}")


def _check_positive(**values: float) -> None:
    """Raise :class:`ParameterError` if any named value is not > 0."""
    for name, value in values.items():
        if not value > 0:
            raise ParameterError(f"expected {name} > 0, got {value}")


def _check_bar_index(bar_idx: int, n_bars: int, *, what: str) -> None:
    """Raise :class:`ParameterError` if a change is placed outside the song's bars."""
    if not 0 <= bar_idx < n_bars:
        raise ParameterError(f"expected the {what} at a bar index in 0..{n_bars - 1}, got {bar_idx}")


# --- awkward and broken files, byte by byte ---------------------------------------------------
#
# The builders below write standard MIDI files from raw bytes, so a test can break any part of one:
# a chunk's length, a status byte, the header's time base. Events are (absolute tick, raw bytes).

_RawEvent = tuple[int, bytes]


def vlq(value: int) -> bytes:
    """A MIDI variable-length quantity (delta times, meta lengths): 7 bits per byte, high bit set
    on all bytes but the last."""
    if value < 0:
        raise ParameterError(f"expected a value >= 0, got {value}")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def smf_chunk(kind: bytes, payload: bytes, *, length: int | None = None) -> bytes:
    """A chunk: 4-byte kind, 4-byte big-endian length (``length``, else the payload's), payload."""
    declared = len(payload) if length is None else length
    return kind + declared.to_bytes(4, "big") + payload


def smf_header(*, midi_format: int = 1, n_tracks: int = 1, division: int = 480, extra: bytes = b"") -> bytes:
    """The ``MThd`` chunk; ``division`` is ticks per quarter note (or an SMPTE word with the top bit
    set); ``extra`` bytes lengthen the header as a later MIDI version might."""
    return smf_chunk(
        b"MThd",
        midi_format.to_bytes(2, "big") + n_tracks.to_bytes(2, "big") + division.to_bytes(2, "big") + extra,
    )


def smf_track(events: Sequence[_RawEvent], *, end_of_track: bool = True) -> bytes:
    """A track chunk's payload: events sorted by tick (stably), as delta times and raw bytes, then
    an end-of-track meta event unless ``end_of_track`` is False."""
    payload = bytearray()
    now = 0
    for tick, data in sorted(events, key=lambda event: event[0]):
        payload += vlq(tick - now) + data
        now = tick
    if end_of_track:
        payload += b"\x00\xff\x2f\x00"
    return bytes(payload)


def smf_bytes(
    tracks: Sequence[bytes], *, midi_format: int = 1, division: int = 480, n_tracks: int | None = None
) -> bytes:
    """A whole file: the header (declaring ``n_tracks``, default the number given) and one ``MTrk``
    chunk per track payload."""
    count = len(tracks) if n_tracks is None else n_tracks
    header = smf_header(midi_format=midi_format, n_tracks=count, division=division)
    return header + b"".join(smf_chunk(b"MTrk", payload) for payload in tracks)


def note_events(
    notes: Sequence[tuple[int, int, int, int]], *, channel: int = 0, program: int | None = None
) -> list[_RawEvent]:
    """Raw events of ``(pitch, start_tick, end_tick, velocity)`` notes; note-offs sort before
    note-ons at the same tick (give them first), a program change first if ``program`` is set."""
    events: list[_RawEvent] = []
    if program is not None:
        events.append((0, bytes([0xC0 | channel, program])))
    offs = [(end, bytes([0x80 | channel, pitch, 0])) for pitch, _, end, _ in notes]
    ons = [(start, bytes([0x90 | channel, pitch, velocity])) for pitch, start, _, velocity in notes]
    return events + sorted(offs + ons, key=lambda event: (event[0], event[1][0] & 0xF0 == 0x90))


def tempo_event(tick: int, *, bpm: float | None = None, microseconds: int | None = None) -> _RawEvent:
    """A set-tempo meta event: ``bpm`` quarter notes per minute, or raw ``microseconds`` per quarter."""
    value = round(60e6 / bpm) if bpm is not None else int(microseconds or 0)
    return tick, b"\xff\x51\x03" + value.to_bytes(3, "big")


def meter_event(tick: int, numerator: int, denominator: int) -> _RawEvent:
    """A time-signature meta event (the denominator a power of two)."""
    return tick, b"\xff\x58\x04" + bytes([numerator, denominator.bit_length() - 1, 24, 8])


def bar_song_tracks(
    n_bars: int,
    *,
    ticks_per_beat: int = 480,
    bpm: float = 120.0,
    gap_bars: tuple[int, int] = (0, 0),
    drums: bool = True,
) -> list[bytes]:
    """Track payloads of a plain 4/4 song: a conductor, a piano note held each bar, a bass note on
    each beat and (``drums``) a kick on each beat; bars ``gap_bars[0]`` to ``gap_bars[1] - 1`` are
    silent. Fast enough for 10,000 bars."""
    bar = 4 * ticks_per_beat
    playing = [b for b in range(n_bars) if not gap_bars[0] <= b < gap_bars[1]]
    piano = [(60 + b % 5, b * bar, (b + 1) * bar, 70) for b in playing]
    beats = [b * bar + beat * ticks_per_beat for b in playing for beat in range(4)]
    bass = [(36, tick, tick + ticks_per_beat // 2 or 1, 90) for tick in beats]
    tracks = [
        smf_track([tempo_event(0, bpm=bpm), meter_event(0, 4, 4)]),
        smf_track(note_events(piano, channel=0, program=0)),
        smf_track(note_events(bass, channel=1, program=33)),
    ]
    if drums:
        kicks = [(36, tick, tick + max(ticks_per_beat // 8, 1), 100) for tick in beats]
        tracks.append(smf_track(note_events(kicks, channel=DRUM_CHANNEL)))
    return tracks


def long_song_bytes(n_bars: int = 10_000, *, ticks_per_beat: int = 96, bpm: float = 120.0) -> bytes:
    """A plain 4/4 song of ``n_bars`` bars (:func:`bar_song_tracks`); 10,000 bars at 120 bpm last
    5.6 hours."""
    return smf_bytes(bar_song_tracks(n_bars, ticks_per_beat=ticks_per_beat, bpm=bpm), division=ticks_per_beat)


def gap_song_bytes(*, gap_seconds: float = 7200.0, n_bars: int = 4, bpm: float = 120.0) -> bytes:
    """``n_bars`` played bars, a silence of ``gap_seconds`` (rounded to whole bars), ``n_bars`` more."""
    n_gap = round(gap_seconds / (4 * 60.0 / bpm))
    tracks = bar_song_tracks(2 * n_bars + n_gap, bpm=bpm, gap_bars=(n_bars, n_bars + n_gap))
    return smf_bytes(tracks)


def awkward_midi_files() -> dict[str, bytes]:
    """Broken and awkward MIDI files, by name: what a user may hand drumgen.

    Each is a few hundred bytes except ``too_large_file`` (5 MB of padding in an unknown chunk),
    ``10000_bars`` and ``2_hour_gap``. The tests (``tests/test_bad_inputs.py``) say what
    drumgen must answer to each; names ending in ``_ok`` must be read as songs.
    """
    song = bar_song_tracks(4)
    good = smf_bytes(song)
    conductor, piano, bass, kicks = song
    bar = 4 * 480
    files: dict[str, bytes] = {
        "empty": b"",
        "text": b"this is not MIDI\nsecond line\n",
        "random_bytes": np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8).tobytes(),
        "riff_wave": b"RIFF\x24\x00\x00\x00WAVEfmt ",
        "header_cut_at_10": good[:10],
        "header_only": smf_header(n_tracks=1),
        "header_length_4": smf_chunk(b"MThd", b"\x00\x01\x00\x01") + good[14:],
        "header_length_8_ok": smf_header(n_tracks=len(song), extra=b"\x00\x00") + good[14:],
        "zero_tracks": smf_header(n_tracks=0),
        "format_3": smf_bytes(song, midi_format=3),
        "smpte_25fps": smf_bytes(song, division=((256 - 25) << 8) | 40),
        "smpte_30fps": smf_bytes(song, division=((256 - 30) << 8) | 80),
        "zero_resolution": smf_bytes(song, division=0),
        "declares_more_tracks": smf_bytes(song, n_tracks=5),
        "cut_in_half": good[: len(good) // 2],
        "cut_in_chunk_header": good[: len(smf_header()) + 8 + len(conductor) + 3],
        "cut_last_byte": good[:-1],
        "track_length_too_long": smf_header(n_tracks=4)
        + smf_chunk(b"MTrk", conductor)
        + smf_chunk(b"MTrk", piano, length=len(piano) + 5)
        + smf_chunk(b"MTrk", bass)
        + smf_chunk(b"MTrk", kicks),
        "track_length_too_short": smf_header(n_tracks=4)
        + smf_chunk(b"MTrk", conductor)
        + smf_chunk(b"MTrk", piano, length=len(piano) - 6)
        + smf_chunk(b"MTrk", bass)
        + smf_chunk(b"MTrk", kicks),
        "last_track_length_too_long": smf_header(n_tracks=4)
        + b"".join(smf_chunk(b"MTrk", t) for t in song[:3])
        + smf_chunk(b"MTrk", kicks, length=len(kicks) + 100),
        "last_track_length_short": smf_header(n_tracks=4)
        + b"".join(smf_chunk(b"MTrk", t) for t in song[:3])
        + smf_chunk(b"MTrk", kicks, length=len(kicks) - 2),
        "garbage_between_tracks": smf_header(n_tracks=4)
        + smf_chunk(b"MTrk", conductor)
        + b"\x00\x01\x02\x03\x04\x05\x06\x07"
        + b"".join(smf_chunk(b"MTrk", t) for t in song[1:]),
        "unknown_chunk_first_ok": smf_header(n_tracks=4)
        + smf_chunk(b"XFIH", b"\x01\x02\x03\x04\x05")
        + b"".join(smf_chunk(b"MTrk", t) for t in song),
        "unknown_chunk_between_ok": smf_header(n_tracks=4)
        + smf_chunk(b"MTrk", conductor)
        + smf_chunk(b"XFKM", bytes(50))
        + b"".join(smf_chunk(b"MTrk", t) for t in song[1:]),
        "unknown_chunk_after_ok": good + smf_chunk(b"XMTr", b"extra"),
        "trailing_garbage_ok": good + b"\x00\x00\x00",
        "rmid_wrapped_ok": b"RIFF"
        + (len(good) + 12).to_bytes(4, "little")
        + b"RMID"
        + b"data"
        + len(good).to_bytes(4, "little")
        + good,
        "undefined_status_byte": smf_bytes([conductor, smf_track([(0, b"\xf4\x01\x02")]), bass]),
        "running_status_first": smf_bytes([conductor, smf_track([(0, b"\x3c\x40")]), bass]),
        "data_byte_over_127": smf_bytes([conductor, smf_track([(0, b"\x90\xbc\x40")]), bass]),
        "meta_runs_past_chunk": smf_bytes([conductor, b"\x00\xff\x01\x40short", bass]),
        "sysex_runs_past_chunk": smf_bytes([conductor, b"\x00\xf0\x7f\x01\x02", bass]),
        "bad_key_signature": smf_bytes([smf_track([(0, b"\xff\x59\x02\x0c\x07")]), piano, bass]),
        "tempo_zero": smf_bytes([smf_track([tempo_event(0, microseconds=0)]), piano, bass]),
        "tempo_zero_mid_song_track_2": smf_bytes(
            [conductor, smf_track([*note_events([(60, 0, bar, 80)]), tempo_event(bar // 2, microseconds=0)])]
        ),
        "meter_numerator_zero": smf_bytes([smf_track([meter_event(0, 0, 4)]), piano, bass]),
        "meter_denominator_2_to_the_100": smf_bytes(
            [smf_track([(0, b"\xff\x58\x04\x04\x64\x18\x08")]), piano, bass]
        ),
        "huge_delta_before_note": smf_bytes(
            [conductor, piano, smf_track(note_events([(40, 0x0FFFFFF0, 0x0FFFFFFF, 90)], channel=1))]
        ),
        "huge_delta_before_end_of_track_ok": smf_bytes(
            [conductor, piano, bass + b"\xff\xff\xff\x7f\xff\x2f\x00"]
        ),
        "no_end_of_track_ok": smf_bytes(
            [conductor, smf_track(note_events([(60, 0, bar, 80)]), end_of_track=False)]
        ),
        "empty_track_chunk_ok": smf_bytes([conductor, b"", piano, bass]),
        "only_empty_tracks": smf_bytes([b"", b""]),
        "no_notes": smf_bytes([conductor, smf_track([(0, b"\xc0\x00"), (0, b"\xff\x03\x05piano")])]),
        "only_note_offs": smf_bytes(
            [conductor, smf_track([(t, b"\x80\x3c\x00") for t in range(0, 4 * bar, bar)])]
        ),
        "unterminated_notes_only": smf_bytes(
            [conductor, smf_track([(t, b"\x90\x3c\x50") for t in range(0, 4 * bar, bar)])]
        ),
        "zero_length_notes_ok": smf_bytes(
            [
                conductor,
                piano,
                smf_track(note_events([(50, t, t, 80) for t in range(0, 4 * bar, 240)], channel=2)),
            ]
        ),
        "overlapping_same_notes_ok": smf_bytes(
            [
                conductor,
                smf_track(
                    note_events([(60, 0, 3 * bar, 80), (60, bar, 2 * bar, 90), (60, bar, 4 * bar, 70)])
                ),
            ]
        ),
        "drums_only": smf_bytes([conductor, kicks]),
        "in_3_4_ok": smf_bytes([smf_track([tempo_event(0, bpm=120), meter_event(0, 3, 4)]), piano, bass]),
        "in_6_8_ok": smf_bytes([smf_track([tempo_event(0, bpm=120), meter_event(0, 6, 8)]), piano, bass]),
        "in_1_16": smf_bytes([smf_track([tempo_event(0, bpm=120), meter_event(0, 1, 16)]), piano, bass]),
        "in_3_32": smf_bytes([smf_track([tempo_event(0, bpm=120), meter_event(0, 3, 32)]), piano, bass]),
        "9_4_from_bar_2": smf_bytes(
            [
                smf_track([tempo_event(0, bpm=120), meter_event(0, 4, 4), meter_event(bar, 9, 4)]),
                piano,
                bass,
            ]
        ),
        "3_4_from_bar_3_ok": smf_bytes(
            [
                smf_track([tempo_event(0, bpm=120), meter_event(0, 4, 4), meter_event(2 * bar, 3, 4)]),
                piano,
                bass,
            ]
        ),
        "3_4_in_mid_bar": smf_bytes(
            [
                smf_track([tempo_event(0, bpm=120), meter_event(0, 4, 4), meter_event(bar + 720, 3, 4)]),
                piano,
                bass,
            ]
        ),
        "2_2_in_mid_bar": smf_bytes(
            [
                smf_track([tempo_event(0, bpm=120), meter_event(0, 4, 4), meter_event(2 * bar + 720, 2, 2)]),
                piano,
                bass,
            ]
        ),
        "4_4_repeated_in_mid_bar_ok": smf_bytes(
            [smf_track([tempo_event(0, bpm=120), meter_event(0, 4, 4), meter_event(3, 4, 4)]), piano, bass]
        ),
        "no_time_signature_ok": smf_bytes([smf_track([tempo_event(0, bpm=100)]), piano, bass]),
        "no_tempo_ok": smf_bytes([smf_track([meter_event(0, 4, 4)]), piano, bass]),
        "tempo_on_second_track_ok": smf_bytes(
            [
                smf_track([meter_event(0, 4, 4)]),
                smf_track([*note_events([(60, 0, bar, 80)]), tempo_event(bar, bpm=60)]),
                bass,
            ]
        ),
        "format_0_ok": smf_bytes(
            [
                smf_track(
                    [tempo_event(0, bpm=120), meter_event(0, 4, 4), *note_events([(60, 0, 4 * bar, 80)])]
                )
            ],
            midi_format=0,
        ),
        "format_2_ok": smf_bytes(song, midi_format=2),
        "resolution_1_ok": smf_bytes(bar_song_tracks(4, ticks_per_beat=1), division=1),
        "resolution_32767_long_ok": smf_bytes(bar_song_tracks(90, ticks_per_beat=32767), division=32767),
        "lyrics_and_markers_ok": smf_bytes(
            [conductor + b"\x00\xff\x06\x05verse\x00\xff\x05\x03la ", piano, bass]
        ),
        "melody_on_channel_10_only": smf_bytes(
            [conductor, smf_track(note_events([(72, 0, bar, 80)], channel=DRUM_CHANNEL))]
        ),
        "too_many_tracks": smf_bytes([smf_track([])] * 300),
        "too_large_file": good + smf_chunk(b"XPAD", bytes(5_000_000)),
        "1100_bars_fast": smf_bytes(bar_song_tracks(1100, ticks_per_beat=24, bpm=300.0), division=24),
        "10000_bars": long_song_bytes(10_000),
        "2_hour_gap": gap_song_bytes(gap_seconds=7200.0),
        "2_hour_intro_silence": smf_bytes(bar_song_tracks(3604, gap_bars=(0, 3600))),
        "ok": good,
    }
    return files
