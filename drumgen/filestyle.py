"""How a MIDI file is written: a few song-level facts of its encoding, for the kit's sounds.

Two drummers' kicks sound alike whether the file writes them as GM note 35 or 36, and their
snares whether 38 or 40, but a 46-row score counts them apart, and the drum VAE cannot hear which
one a song's author used (its 35 : 36 odds say nothing: ROC AUC 0.48 on the validation songs,
``scripts/kit_sounds_study.py``).
The files themselves do say something: files written with the same software and by the same site
share a tick resolution, the controllers and meta events they write and how they set velocities,
and with them habits in the drum notes. :func:`file_features` reads these from the song's
non-drum parts only (channel 10 is left out, so a song with drums and the same song without them
read the same); the drummer model learns from them which GM note each kit piece is written with
(:mod:`drumgen.drummer`).

Used by notebook ``step_1_midi_data_preprocessing`` (through :func:`drumgen.analysis.preprocess_song`).
"""

from __future__ import annotations

import mido
import numpy as np

from drumgen.midi import is_song_drum_event

TICKS_PER_BEAT = (48, 96, 120, 192, 240, 384, 480, 960)
"""Tick resolutions common in the corpus (each one a feature; the rest share ``tpb_other``)."""
META_TYPES = (
    "copyright",
    "text",
    "lyrics",
    "marker",
    "instrument_name",
    "key_signature",
    "sequencer_specific",
    "smpte_offset",
    "midi_port",
    "channel_prefix",
)
"""Meta events whose presence is a feature (every file has tempo and end-of-track events)."""
CONTROLLERS = (0, 1, 6, 7, 10, 11, 32, 64, 91, 93, 100, 101, 121)
"""Control-change numbers whose presence (on a non-drum channel) is a feature."""
OTHER_EVENTS = ("sysex", "pitchwheel", "aftertouch")
N_PROGRAM_FAMILIES = 16
"""GM programs in families of 8 (piano, chromatic percussion, organ, guitar, bass, ...)."""
ONSET_GRIDS = {"16th": 4, "32nd": 8, "triplet": 6}
"""Grids the note-on ticks are tested against, as divisions of a quarter note (the 16th-note
triplet for "triplet"): a step sequencer's files sit on the 16th grid, played-in files on none."""
CONTROLLER_LEVELS = (7, 10, 91, 93)
"""Controllers (volume, pan, reverb, chorus) whose mean value is a feature: sequencers and sites
set them to their own habitual values (-1 where a file never sets it)."""
SYSEX_RESETS = {"gs_reset": (0x41, 0x42), "xg_reset": (0x43, 0x4C), "gm_on": (0x7E, 0x09)}
"""System-exclusive resets a file may open with: (manufacturer byte, its 3rd data byte)."""
FILE_FEATURES: tuple[str, ...] = (
    *(f"tpb_{tpb}" for tpb in TICKS_PER_BEAT),
    "tpb_other",
    "format_1",
    "log_tracks",
    "channels_used",
    *(f"meta_{kind}" for kind in META_TYPES),
    *(f"cc_{number}" for number in CONTROLLERS),
    *OTHER_EVENTS,
    "velocity_mean",
    "velocity_sd",
    "few_velocities",
    *(f"programs_{family}" for family in range(N_PROGRAM_FAMILIES)),
    "note_off_as_note_on",
    *(f"onsets_on_{grid}" for grid in ONSET_GRIDS),
    "durations_on_16th",
    "durations_short_of_16th",
    *(f"cc_{number}_level" for number in CONTROLLER_LEVELS),
    *SYSEX_RESETS,
    "log_tempo_changes",
    "integer_tempo",
)
"""Names of :func:`file_features`' values, in order. The sequencer traces after the program
families came later than the rest: features stored before them are :data:`N_BASIC_FEATURES`
long (a dataset build recomputes them, :func:`drumgen.drummer.DrummerModel.kit_sounds` reads
them as missing)."""
N_BASIC_FEATURES = FILE_FEATURES.index("note_off_as_note_on")
"""Length of the features stored before the sequencer traces were added."""


def are_current(features: np.ndarray | None) -> bool:
    """Whether stored file features are this drumgen's (all of :data:`FILE_FEATURES`); False for
    none and for those an older step 1 or dataset build stored."""
    return features is not None and np.shape(features) == (len(FILE_FEATURES),)


def file_features(midi_file: mido.MidiFile) -> np.ndarray:
    """The encoding facts of a MIDI file, as numbers.

    Parameters
    ----------
    midi_file : mido.MidiFile
        As read by :func:`drumgen.midi.read_midi_file`.

    Returns
    -------
    np.ndarray [shape=(len(FILE_FEATURES),), float32]
        In the order of :data:`FILE_FEATURES`: one-hot tick resolution, format 1 or not,
        log(1 + tracks without drum events), the share of the 15 non-drum channels with notes,
        0/1 presence of each meta event, controller and other event type, the mean and SD of the
        note-on velocities (divided by 127 and 64), 1 if at most three velocities are used, and 0/1
        presence of each GM program family. Then the sequencer traces: the share of note ends
        written as zero-velocity note-ons, the shares of note-on ticks on each of
        :data:`ONSET_GRIDS`, the shares of note lengths that are whole 16ths and that fall short
        of one by at most a tenth of a 16th, the mean value / 127 of each of
        :data:`CONTROLLER_LEVELS` (-1 if never set), 0/1 for each of :data:`SYSEX_RESETS`,
        log(1 + tempo events) and 1 if the first tempo is a whole number of beats per minute.
        Tracks and their meta events count only without a drum-channel event, and every note and
        controller only off the drum channel, so removing a song's drum track does not change the
        features (tempo events count in every track).
    """
    metas: set[str] = set()
    controllers: set[int] = set()
    others: set[str] = set()
    channels: set[int] = set()
    families: set[int] = set()
    resets: set[str] = set()
    levels: dict[int, list[int]] = {number: [] for number in CONTROLLER_LEVELS}
    velocities: list[int] = []
    onset_ticks: list[int] = []
    lengths: list[int] = []
    tempos: list[int] = []
    n_note_ends = n_zero_velocity_ends = 0
    n_tracks = 0
    for track in midi_file.tracks:
        track_metas = set()
        drum_track = False
        tick = 0
        sounding: dict[tuple[int, int], list[int]] = {}
        for message in track:
            tick += message.time
            if message.is_meta:
                track_metas.add(message.type)
                if message.type == "set_tempo":
                    tempos.append(message.tempo)
                continue
            if is_song_drum_event(message):
                drum_track = True
                continue
            if message.type == "note_on" and message.velocity > 0:
                velocities.append(message.velocity)
                channels.add(message.channel)
                onset_ticks.append(tick)
                sounding.setdefault((message.channel, message.note), []).append(tick)
            elif message.type in ("note_on", "note_off"):
                n_note_ends += 1
                n_zero_velocity_ends += message.type == "note_on"
                started = sounding.get((message.channel, message.note))
                if started:
                    lengths.append(tick - started.pop(0))
            elif message.type == "program_change":
                families.add(message.program // 8)
            elif message.type == "control_change":
                controllers.add(message.control)
                if message.control in levels:
                    levels[message.control].append(message.value)
            elif message.type == "sysex":
                resets |= _resets_in(message.data)
            if message.type in OTHER_EVENTS:
                others.add(message.type)
        if not drum_track:
            metas |= track_metas
            n_tracks += 1
    tpb = midi_file.ticks_per_beat
    velocity = np.asarray(velocities, dtype=np.float64)
    sixteenth = tpb / 4.0
    values = [
        *(tpb == value for value in TICKS_PER_BEAT),
        tpb not in TICKS_PER_BEAT,
        midi_file.type == 1,
        np.log1p(n_tracks),
        len(channels) / 15.0,
        *(kind in metas for kind in META_TYPES),
        *(number in controllers for number in CONTROLLERS),
        *(kind in others for kind in OTHER_EVENTS),
        velocity.mean() / 127.0 if len(velocity) else 0.0,
        velocity.std() / 64.0 if len(velocity) else 0.0,
        len(velocity) > 0 and len(np.unique(velocity)) <= 3,
        *(family in families for family in range(N_PROGRAM_FAMILIES)),
        n_zero_velocity_ends / n_note_ends if n_note_ends else 0.0,
        *(_share_on_grid(onset_ticks, tpb / division) for division in ONSET_GRIDS.values()),
        _share_on_grid(lengths, sixteenth),
        _share_short_of_grid(lengths, sixteenth),
        *(np.mean(levels[number]) / 127.0 if levels[number] else -1.0 for number in CONTROLLER_LEVELS),
        *(name in resets for name in SYSEX_RESETS),
        np.log1p(len(tempos)),
        bool(tempos) and abs(mido.tempo2bpm(tempos[0]) - round(mido.tempo2bpm(tempos[0]))) < 0.01,
    ]
    return np.asarray(values, dtype=np.float32)


def _resets_in(data: tuple[int, ...] | list[int]) -> set[str]:
    """The names of :data:`SYSEX_RESETS` a system-exclusive message's data bytes (F0/F7 left out) are."""
    return {
        name
        for name, (maker, kind) in SYSEX_RESETS.items()
        if len(data) >= 3 and data[0] == maker and data[2] == kind
    }


def _share_on_grid(ticks: list[int], spacing: float) -> float:
    """The share of ``ticks`` within half a tick of a multiple of ``spacing`` (0 for none)."""
    if not ticks or spacing <= 0:
        return 0.0
    position = np.asarray(ticks, dtype=np.float64) / spacing
    return float(np.mean(np.abs(position - np.round(position)) * spacing <= 0.5))


def _share_short_of_grid(lengths: list[int], spacing: float) -> float:
    """The share of note ``lengths`` a little short of a whole number of ``spacing``: at most a
    tenth of it, and at least one tick (a sequencer's gate below 100 %)."""
    if not lengths or spacing <= 0:
        return 0.0
    ticks = np.asarray(lengths, dtype=np.float64)
    shortfall = np.ceil(ticks / spacing) * spacing - ticks
    return float(np.mean((shortfall >= 1.0) & (shortfall <= spacing / 10.0)))
