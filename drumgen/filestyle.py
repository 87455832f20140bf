"""How a MIDI file is written: a few song-level facts of its encoding, for the kit's sounds.

Two drummers' kicks sound alike whether the file writes them as GM note 35 or 36, and their
snares whether 38 or 40, but a 46-row score counts them apart, and the drum VAE cannot hear which
one a song's author used (its 35 : 36 odds say nothing: ROC AUC 0.51 on the validation songs,
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
)
"""Names of :func:`file_features`' values, in order."""


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
        presence of each GM program family. Tracks and their meta events count only without a
        drum-channel event, so removing a song's drum track does not change the features.
    """
    metas: set[str] = set()
    controllers: set[int] = set()
    others: set[str] = set()
    channels: set[int] = set()
    families: set[int] = set()
    velocities: list[int] = []
    n_tracks = 0
    for track in midi_file.tracks:
        track_metas = set()
        drum_track = False
        for message in track:
            if message.is_meta:
                track_metas.add(message.type)
                continue
            if is_song_drum_event(message):
                drum_track = True
                continue
            if message.type == "note_on" and message.velocity > 0:
                velocities.append(message.velocity)
                channels.add(message.channel)
            elif message.type == "program_change":
                families.add(message.program // 8)
            elif message.type == "control_change":
                controllers.add(message.control)
            elif message.type in OTHER_EVENTS:
                others.add(message.type)
        if not drum_track:
            metas |= track_metas
            n_tracks += 1
    tpb = midi_file.ticks_per_beat
    velocity = np.asarray(velocities, dtype=np.float64)
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
    ]
    return np.asarray(values, dtype=np.float32)
