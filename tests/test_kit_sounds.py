"""The kit's sounds: file features read from a MIDI file, the drummer model's choice of the kick's
and snare's GM notes, and the arranger writing them."""

from __future__ import annotations

import io as stdio
import json
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest

from drumgen import arrangement, dataset, drummer, filestyle, generation, kit
from drumgen.config import load_config
from drumgen.drummer import SOUND_PITCHES, fit_sound_trees, load_drummer, save_drummer, sound_example
from drumgen.exceptions import ParameterError
from drumgen.representation import DRUM_PITCHES
from drumgen.sections import Sections
from drumgen.testing import make_song_bytes
from tests.conftest import build_tiny_dataset
from tests.test_arrangement import drummer_model, rock_probabilities, settings

FEATURE = {name: idx for idx, name in enumerate(filestyle.FILE_FEATURES)}


def midi_file(data: bytes) -> mido.MidiFile:
    return mido.MidiFile(file=stdio.BytesIO(data))


def test_file_features_do_not_hear_the_drums() -> None:
    with_drums = filestyle.file_features(midi_file(make_song_bytes("ABAB", drums=True)))
    without = filestyle.file_features(midi_file(make_song_bytes("ABAB", drums=False)))
    assert with_drums.shape == (len(filestyle.FILE_FEATURES),)
    np.testing.assert_array_equal(with_drums, without)


def test_file_features_read_the_tick_resolution_and_velocities() -> None:
    f480 = filestyle.file_features(midi_file(make_song_bytes("AB", ticks_per_beat=480)))
    f96 = filestyle.file_features(midi_file(make_song_bytes("AB", ticks_per_beat=96)))
    assert f480[FEATURE["tpb_480"]] == 1 and f480[FEATURE["tpb_96"]] == 0
    assert f96[FEATURE["tpb_96"]] == 1 and f96[[FEATURE[f"tpb_{t}"] for t in (48, 120, 480)]].sum() == 0
    assert 0 < f480[FEATURE["velocity_mean"]] <= 1
    odd = mido.MidiFile(ticks_per_beat=1000)
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=100, channel=0, time=0)])
    odd.tracks.append(track)
    features = filestyle.file_features(odd)
    assert features[FEATURE["tpb_other"]] == 1 and features[FEATURE["few_velocities"]] == 1


def _sequenced(
    *, zero_velocity_ends: bool, tick_offset: int = 0, sysex: tuple[int, ...] = ()
) -> mido.MidiFile:
    """Sixteen 16th notes of 3/4 of a 16th each, as a step sequencer writes them (480 ticks a
    quarter), their note-on ticks shifted by ``tick_offset``, volume 100, tempo 120 BPM."""
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0)])
    if sysex:
        track.append(mido.Message("sysex", data=sysex, time=0))
    track.append(mido.Message("control_change", control=7, value=100, channel=0, time=0))
    for idx in range(16):
        track.append(
            mido.Message("note_on", note=60, velocity=90, channel=0, time=tick_offset if idx == 0 else 30)
        )
        end = mido.Message("note_on", note=60, velocity=0, channel=0, time=90)
        track.append(end if zero_velocity_ends else mido.Message("note_off", note=60, channel=0, time=90))
    out = mido.MidiFile(ticks_per_beat=480)
    out.tracks.append(track)
    return out


def test_file_features_read_the_sequencer_traces() -> None:
    gs_reset = (0x41, 0x10, 0x42, 0x12, 0x40, 0x00, 0x7F, 0x00, 0x41)
    stepped = filestyle.file_features(_sequenced(zero_velocity_ends=True, sysex=gs_reset))
    assert stepped[FEATURE["note_off_as_note_on"]] == 1
    assert stepped[FEATURE["onsets_on_16th"]] == 1 and stepped[FEATURE["durations_on_16th"]] == 0
    assert stepped[FEATURE["cc_7_level"]] == pytest.approx(100 / 127)
    assert stepped[FEATURE["cc_10_level"]] == -1  # never set
    assert stepped[FEATURE["gs_reset"]] == 1 and stepped[FEATURE["xg_reset"]] == 0
    assert stepped[FEATURE["integer_tempo"]] == 1 and stepped[FEATURE["log_tempo_changes"]] == pytest.approx(
        np.log(2)
    )
    played = filestyle.file_features(_sequenced(zero_velocity_ends=False, tick_offset=7))
    assert played[FEATURE["note_off_as_note_on"]] == 0 and played[FEATURE["gs_reset"]] == 0
    assert played[FEATURE["onsets_on_16th"]] == 0  # every onset 7 ticks late


def test_features_stored_before_the_traces_are_read_with_the_traces_missing(tmp_path: Path) -> None:
    paths = []
    for idx in range(48):  # enough songs for the trees' leaves of 20: the tick resolution tells the snare
        path = tmp_path / f"song{idx}.mid"
        path.write_bytes(_example(96 if idx % 2 else 480, 36, 40 if idx % 2 else 38))
        paths.append(path)
    features, counts = drummer.sound_examples(paths, workers=1)
    model = drummer.DrummerModel(
        **{**drummer_model().__dict__, "sound_trees": fit_sound_trees(features, counts)}
    )
    older = features[1, : filestyle.N_BASIC_FEATURES]
    assert model.kit_sounds(older) == model.kit_sounds(features[1]) == {"snare": 40}
    with pytest.raises(ParameterError, match="file_features must have shape"):
        model.kit_sounds(features[1, :-1])


def _example(tpb: int, kick: int, snare: int) -> bytes:
    """A short file whose drums use the given kick and snare notes."""
    out = mido.MidiFile(ticks_per_beat=tpb)
    melody = mido.MidiTrack([mido.Message("program_change", program=0, channel=0, time=0)])
    drums = mido.MidiTrack()
    for beat in range(8):
        melody += [
            mido.Message("note_on", note=60, velocity=90, channel=0, time=0 if beat == 0 else tpb // 2)
        ]
        melody += [mido.Message("note_off", note=60, velocity=0, channel=0, time=tpb // 2)]
        note = kick if beat % 2 == 0 else snare
        drums += [
            mido.Message("note_on", note=note, velocity=100, channel=9, time=0 if beat == 0 else tpb - 1)
        ]
        drums += [mido.Message("note_off", note=note, velocity=0, channel=9, time=1)]
    out.tracks += [melody, drums]
    buffer = stdio.BytesIO()
    out.save(file=buffer)
    return buffer.getvalue()


def test_sound_example_counts_the_drum_notes(tmp_path: Path) -> None:
    path = tmp_path / "song.mid"
    path.write_bytes(_example(96, kick=35, snare=40))
    features, counts = sound_example(path)
    by_pitch = dict(zip((pitch for _, pitch in SOUND_PITCHES), counts, strict=True))
    assert by_pitch[35] == 4 and by_pitch[40] == 4 and by_pitch[36] == 0 and by_pitch[38] == 0
    assert features[FEATURE["tpb_96"]] == 1


def test_the_drummer_learns_which_notes_a_kind_of_file_writes(tmp_path: Path) -> None:
    paths = []
    for idx in range(48):  # files at 96 ticks write 35 / 40, files at 480 write 36 / 38
        tpb, kick, snare = (96, 35, 40) if idx % 2 else (480, 36, 38)
        path = tmp_path / f"song{idx}.mid"
        path.write_bytes(_example(tpb, kick, snare))
        paths.append(path)
    (tmp_path / "broken.mid").write_bytes(b"not midi")
    features, counts = drummer.sound_examples([*paths, tmp_path / "broken.mid"], workers=1)
    assert len(features) == 48, "the unreadable file is left out"
    trees = fit_sound_trees(features, counts)
    assert set(trees) == {"kick", "snare"}
    model = drummer.DrummerModel(**{**drummer_model().__dict__, "sound_trees": trees})
    assert model.kit_sounds(sound_example(paths[1])[0]) == {"kick": 35, "snare": 40}
    assert model.kit_sounds(sound_example(paths[0])[0]) == {"kick": 36, "snare": 38}
    assert model.kit_sounds(None) == {}
    with pytest.raises(ParameterError, match="shape"):
        model.kit_sounds(np.zeros(3))

    save_drummer(model, tmp_path / "model", meta={})
    assert (
        json.loads((tmp_path / "model" / "config.json").read_text())["format_version"]
        == drummer.FORMAT_VERSION
        == 5
    )
    loaded = load_drummer(tmp_path / "model")
    assert loaded.sound_trees is not None and set(loaded.sound_trees) == {"kick", "snare"}
    assert loaded.kit_sounds(sound_example(paths[1])[0]) == {"kick": 35, "snare": 40}
    assert loaded.kit_sounds(sound_example(paths[0])[0]) == {"kick": 36, "snare": 38}


def test_a_piece_every_file_writes_alike_gets_no_trees(tmp_path: Path) -> None:
    paths = []
    for idx in range(6):  # the snare differs, the kick is always 36
        path = tmp_path / f"song{idx}.mid"
        path.write_bytes(_example(96 if idx % 2 else 480, 36, 40 if idx % 2 else 38))
        paths.append(path)
    features, counts = drummer.sound_examples(paths, workers=1)
    assert set(fit_sound_trees(features, counts)) == {"snare"}
    with pytest.raises(ParameterError, match="fewer than 2 songs play the kick"):
        fit_sound_trees(features[:1], counts[:1])


def test_a_format_2_drummer_still_chooses_with_its_regressions(tmp_path: Path) -> None:
    """Format 2 models hold one logistic regression per note (bias last); they still load and
    choose the note whose regression scores highest."""
    n_features = len(filestyle.FILE_FEATURES)
    weights = np.zeros((len(SOUND_PITCHES), n_features + 1))
    favoured = {("kick", 35), ("snare", 40)}
    weights[:, -1] = [1.0 if item in favoured else -1.0 for item in SOUND_PITCHES]
    model = drummer.DrummerModel(
        **{
            **drummer_model().__dict__,
            "sound_weights": weights,
            "sound_mean": np.zeros((len(SOUND_PITCHES), n_features)),
            "sound_std": np.ones((len(SOUND_PITCHES), n_features)),
        }
    )
    save_drummer(model, tmp_path / "old", meta={})
    config = tmp_path / "old" / "config.json"
    meta = json.loads(config.read_text())
    meta["format_version"] = 2
    config.write_text(json.dumps(meta))
    loaded = load_drummer(tmp_path / "old")
    assert loaded.sound_trees is None
    assert loaded.kit_sounds(np.zeros(n_features)) == {"kick": 35, "snare": 40}


def test_a_format_1_drummer_loads_and_leaves_the_sounds_to_the_vae(tmp_path: Path) -> None:
    save_drummer(drummer_model(), tmp_path / "old", meta={})
    config = tmp_path / "old" / "config.json"
    meta = json.loads(config.read_text())
    meta["format_version"] = 1
    config.write_text(json.dumps(meta))
    loaded = load_drummer(tmp_path / "old")
    assert loaded.sound_weights is None and loaded.sound_trees is None
    assert loaded.kit_sounds(np.zeros(len(filestyle.FILE_FEATURES))) == {}


def test_the_arranger_writes_the_chosen_sounds(rng) -> None:
    p = rock_probabilities(16, rng=rng)
    found = Sections(starts=np.array([0, 8]), labels=("A", "B"), n_bars=16)

    def arranged(sounds):
        return arrangement.arrange(
            p,
            found,
            drummer=drummer_model(),
            settings=settings(),
            sounds=sounds,
            rng=np.random.default_rng(0),
        ).grid

    plain = arranged(None)
    chosen = arranged({"kick": 35, "snare": 40})
    kick_rows, snare_rows = list(kit.piece_rows("kick")), list(kit.piece_rows("snare"))
    row35, row36 = DRUM_PITCHES.index(35), DRUM_PITCHES.index(36)
    row38, row40 = DRUM_PITCHES.index(38), DRUM_PITCHES.index(40)
    assert plain[:, row36].any() and plain[:, row38].any()
    assert chosen[:, row35].any() and not chosen[:, row36].any()
    assert chosen[:, row40].any() and not chosen[:, row38].any()
    # the same strokes, written with other notes
    np.testing.assert_array_equal(
        (plain[:, kick_rows] > 0).any(axis=1), (chosen[:, kick_rows] > 0).any(axis=1)
    )
    np.testing.assert_array_equal(
        (plain[:, snare_rows] > 0).any(axis=1), (chosen[:, snare_rows] > 0).any(axis=1)
    )
    with pytest.raises(ParameterError, match="not a sound of the kit piece 'kick'"):
        arranged({"kick": 38})


def test_a_resumed_build_adds_the_file_features_an_older_build_lacks(
    tiny_dataset: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    built = tmp_path / "built"
    shutil.copytree(tiny_dataset, built)
    song = sorted((built / "songs").glob("*.npz"))[0]
    with np.load(song) as data:
        arrays = {name: data[name] for name in data.files}
    expected = arrays.pop("file_features")
    np.savez(song, **arrays)
    summary = build_tiny_dataset(tiny_corpus, built)
    assert summary.n_processed_now == 0
    with np.load(song) as data:
        np.testing.assert_array_equal(data["file_features"], expected)
        np.testing.assert_array_equal(data["bar_cqts"], arrays["bar_cqts"])
    # features an older build stored before the sequencer traces are read again, whole
    np.savez(song, **arrays, file_features=expected[: filestyle.N_BASIC_FEATURES])
    build_tiny_dataset(tiny_corpus, built)
    with np.load(song) as data:
        np.testing.assert_array_equal(data["file_features"], expected)
    # a song whose MIDI file is gone since keeps its arrays, without the features, and the build goes on
    corpus_copy = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus_copy)
    build = json.loads((built / "build.json").read_text())
    build["corpus"] = str(corpus_copy)
    (built / "build.json").write_text(json.dumps(build))
    np.savez(song, **arrays)
    stem = song.stem.split("__")[-1]
    (corpus_copy / f"{stem}.mid").unlink()
    build_tiny_dataset(corpus_copy, built)
    with np.load(song) as data:
        assert "file_features" not in data.files
    # built from a folder of MIDI files: the kit sounds read that folder's files, every one of them
    assert dataset.source_midi_files(built) == sorted(corpus_copy.glob("*.mid"))
    assert dataset.source_midi_files(tmp_path / "nothing here") == []


def test_arrange_song_writes_given_sounds_instead_of_the_models_choice(rng) -> None:
    p = rock_probabilities(8, rng=rng)
    found = Sections(starts=np.array([0]), labels=("A",), n_bars=8)

    def kick_notes(sounds):
        grid = generation.arrange_song(
            p,
            found,
            bar_cqts=np.zeros((8, 84, 96), np.uint8),
            part_onsets=None,
            drummer=drummer_model(),
            config=load_config(),
            seed=0,
            sounds=sounds,
        )[0].grid
        return {pitch for pitch in kit.PIECE_PITCHES["kick"] if grid[:, DRUM_PITCHES.index(pitch)].any()}

    assert kick_notes(None) == {36}, "without sounds the model's (here the VAE's) note"
    assert kick_notes({"kick": 35}) == {35}
