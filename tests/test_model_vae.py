"""Tests of the drum VAE's inputs, augmentation, training, saving and generation, on synthetic
songs built here (no FluidSynth, no files but the saved models, no network)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drumgen.config import Config, load_config
from drumgen.exceptions import ModelError, ParameterError
from drumgen.model.data import (
    N_CONDITIONS,
    N_CONTEXT_COLUMNS,
    N_PART_CHANNELS,
    PART_ONSET_SATURATION,
    BarTable,
    ConditionEncoding,
    PartsEncoding,
    conditions,
    genre_shares,
    onset_counts_to_levels,
    random_pitch_shifts,
    shift_pitch,
    stack_parts,
)
from drumgen.parts import PART_FAMILIES
from drumgen.songdata import CQT_LEVELS, GENRES, SongData

# Keras 3 (tensorflow backend) calls np.array on tensors when saving and reading weights
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

N_BINS, N_CELLS, K = 24, 16, 7
KICK_ROW = 0
BEATS = slice(0, 16, 4)


def bass_song(song_id: str, rng: np.random.Generator, *, n_bars: int = 32) -> SongData:
    """A song whose drums follow its bass: in the bars where the bass plays (about half), the kick
    is on the four beats; elsewhere silence. Keys play everywhere (no information); the CQTs are
    noise, so only the parts input tells the bars apart."""
    onsets = np.zeros((n_bars, len(PART_FAMILIES), 16), np.uint8)
    plays = rng.random(n_bars) < 0.5
    n_playing = int(plays.sum())
    onsets[plays, 0] = (rng.random((n_playing, 16)) < 0.4) + (rng.random((n_playing, 16)) < 0.1)
    onsets[plays, 0, 0] = 1
    onsets[:, PART_FAMILIES.index("keys")] = rng.random((n_bars, 16)) < 0.3
    grids = np.zeros((n_bars, 46, 16), np.uint8)
    grids[plays, KICK_ROW, BEATS] = 80
    grids[plays, KICK_ROW, 0] = 120  # an accented downbeat, for the velocity output
    neighbors = np.stack([np.roll(np.arange(n_bars), -(k + 1)) for k in range(K)], axis=1)
    arrays = {
        "bar_cqts": rng.integers(0, 256, (n_bars, N_BINS, N_CELLS)).astype(np.uint8),
        "drum_grids": grids,
        "neighbor_idx": neighbors,
        "neighbor_weights": np.full((n_bars, K), 0.5, np.float32),
        "bar_tempos": np.full(n_bars, 120.0),
        "part_onsets": onsets,
    }
    return SongData(song_id=song_id, genre="rock", arrays=arrays)


def without(song: SongData, name: str) -> SongData:
    return SongData(song.song_id, song.genre, {k: v for k, v in song.arrays.items() if k != name})


# --- the parts input ---------------------------------------------------------------------------


def test_onset_levels_known_answers() -> None:
    levels = onset_counts_to_levels(np.array([0, 1, 2, 8, 9, 255], np.uint8))
    assert levels.dtype == np.float32
    expected = [0.0, np.log(2) / np.log(9), np.log(3) / np.log(9), 1.0, 1.0, 1.0]
    np.testing.assert_allclose(levels, expected, rtol=1e-6)
    assert PART_ONSET_SATURATION == 8.0  # what trained models record; a change needs a retrain
    np.testing.assert_allclose(onset_counts_to_levels(np.array([1, 3]), saturation=3.0), [0.5, 1.0])


def test_stack_parts_shape_own_bar_and_weighted_neighbor_mean(rng: np.random.Generator) -> None:
    n_bars = 6
    onsets = rng.integers(0, 12, (n_bars, len(PART_FAMILIES), 16)).astype(np.uint8)
    neighbor_idx = rng.integers(0, n_bars, (n_bars, K))
    weights = rng.random((n_bars, K)).astype(np.float32)
    weights[4] = 0.0  # a bar without weighted neighbours
    bar_idx = np.array([0, 4, 5])
    parts = stack_parts(onsets, bar_idx, neighbor_idx, weights)
    assert parts.shape == (3, N_PART_CHANNELS, len(PART_FAMILIES), 16) and parts.dtype == np.float32
    assert parts.min() >= 0.0 and parts.max() <= 1.0
    levels = onset_counts_to_levels(onsets)
    for row, bar in enumerate(bar_idx):
        np.testing.assert_array_equal(parts[row, 0], levels[bar])
        if weights[bar].sum() > 0:
            mean = sum(w * levels[j] for w, j in zip(weights[bar], neighbor_idx[bar], strict=True))
            np.testing.assert_allclose(parts[row, 1], mean / weights[bar].sum(), rtol=1e-5)
        else:
            assert not parts[row, 1].any()


def test_parts_encoding_reads_its_own_family_order(rng: np.random.Generator) -> None:
    onsets = rng.integers(0, 5, (3, len(PART_FAMILIES), 16)).astype(np.uint8)
    idx, weights = np.zeros((3, K), int), np.ones((3, K), np.float32)
    reordered = PartsEncoding(families=tuple(reversed(PART_FAMILIES)))
    np.testing.assert_array_equal(
        stack_parts(onsets, np.arange(3), idx, weights, encoding=reordered),
        stack_parts(onsets, np.arange(3), idx, weights)[:, :, ::-1],
    )
    assert PartsEncoding.from_dict(reordered.to_dict()) == reordered
    assert PartsEncoding().to_dict() == {"part_families": list(PART_FAMILIES), "part_onset_saturation": 8.0}
    with pytest.raises(ParameterError, match="drums"):
        PartsEncoding(families=("bass", "drums"))


def test_bar_table_refuses_songs_without_part_onsets(rng: np.random.Generator) -> None:
    songs = [bass_song("a", rng), without(bass_song("b", rng), "part_onsets")]
    with pytest.raises(ParameterError, match="rebuild the dataset") as caught:
        BarTable.from_songs(songs)
    message = str(caught.value)
    assert "\n" not in message and "1 of 2 songs (e.g. b)" in message
    table = BarTable.from_songs(songs[:1])
    inputs, targets = table.batch(np.arange(4))
    assert set(inputs) == {"cqt_stack", "parts", "conditions"}
    assert inputs["parts"].shape == (4, N_PART_CHANNELS, len(PART_FAMILIES), 16)
    assert set(targets) == {"drums", "note_count", "velocity"}


def test_bar_table_trains_on_the_4_4_bars_of_a_song_of_any_meter(rng: np.random.Generator) -> None:
    """A 4/4 song with one 2/4 bar and a 5/4 bar (a 20-step canvas): every bar is an input, with
    its part onsets folded onto 16 cells as step 4 folds them; only the 16-step bars are targets."""
    song = bass_song("odd", rng, n_bars=8)
    meters = [(4, 4)] * 8
    meters[3], meters[6] = (2, 4), (5, 4)
    canvas = 20
    grids = np.zeros((8, 46, canvas), np.uint8)
    grids[..., :16] = song.arrays["drum_grids"]
    grids[3, :, 8:] = 0  # a 2/4 bar: 8 steps
    grids[6, KICK_ROW, 16] = 90  # the 5/4 bar's fifth beat
    onsets = np.zeros((8, len(PART_FAMILIES), canvas), np.uint8)
    onsets[..., :16] = song.arrays["part_onsets"]
    onsets[3, :, 8:] = 0
    onsets[6, 0, :] = 0
    onsets[6, 0, [0, 16]] = 1  # the bass on beats 1 and 5 of the 5/4 bar
    song.arrays.update(drum_grids=grids, part_onsets=onsets, bar_meters=np.array(meters, np.int16))
    table = BarTable.from_songs([song, bass_song("common", rng, n_bars=8)])
    assert table.n_bars == 16 and table.n_targets == 14
    assert 3 not in table.target_idx and 6 not in table.target_idx
    assert table.part_onsets.shape == (16, len(PART_FAMILIES), 16)
    assert table.part_onsets[6, 0].nonzero()[0].tolist() == [0, 12]  # step 16 of 20 -> cell 12
    np.testing.assert_array_equal(table.part_onsets[3, :, ::2], onsets[3, :, :8])  # 2/4: every other cell
    _, targets = table.batch(table.target_idx)
    assert targets["drums"].shape == (14, 46, 16)
    np.testing.assert_array_equal(targets["drums"][:6] > 0, grids[[0, 1, 2, 4, 5, 7], :, :16] > 0)


def test_bar_table_carries_the_real_velocities(rng: np.random.Generator) -> None:
    song = bass_song("a", rng)
    table = BarTable.from_songs([song])
    np.testing.assert_array_equal(table.drum_velocities, song.arrays["drum_grids"])
    assert table.drum_velocities.dtype == np.uint8
    _, targets = table.batch(np.arange(song.n_bars))
    velocity = targets["velocity"]
    assert velocity.dtype == np.float32 and velocity.shape == (song.n_bars, 46, 16)
    np.testing.assert_allclose(velocity, song.arrays["drum_grids"] / 127.0, rtol=1e-6)
    np.testing.assert_array_equal(velocity > 0, targets["drums"] > 0.5)  # velocities on the hits only


def test_masked_velocity_loss_counts_the_real_hits_only() -> None:
    from drumgen.model.train_vae import masked_velocity_loss

    y_true = np.zeros((3, 46, 16), np.float32)
    y_true[0, 0, 0], y_true[0, 1, 4] = 1.0, 0.5  # two hits
    y_true[1, 2, 8] = 0.25  # one hit; bar 2 has none
    y_pred = np.full((3, 46, 16), 0.75, np.float32)
    loss = np.asarray(masked_velocity_loss(y_true, y_pred))
    np.testing.assert_allclose(loss, [(0.25**2 + 0.25**2) / 2, 0.5**2, 0.0], rtol=1e-6)


def test_condition_encoding_known_answers_and_round_trip() -> None:
    onsets = np.zeros((4, len(PART_FAMILIES), 16))
    onsets[:, PART_FAMILIES.index("bass"), ::4] = 8  # the bass on every beat
    got = conditions(np.array([80.0, 160.0, 400.0, 120.0]), genre="pop", part_onsets=onsets)
    genre_columns = slice(2, 2 + len(GENRES))
    assert got.shape == (4, N_CONDITIONS) == (4, 2 + len(GENRES) + N_CONTEXT_COLUMNS + 2)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got[:, 0], [-1.0, 1.0, 3.0, 0.0])  # (bpm - 120) / 40, clipped to 3
    np.testing.assert_allclose(got[:, 1], [0.0, 0.25, 0.5, 0.75])
    assert got[:, 2 + GENRES.index("pop")].tolist() == [1.0] * 4 and got[:, genre_columns].sum() == 4
    # the song context, the same in every bar: the bass plays the beat's first sixteenth at the
    # full level, nothing else plays, and the bass plays in every bar
    context = got[:, 2 + len(GENRES) : 2 + len(GENRES) + N_CONTEXT_COLUMNS]
    assert (context == context[0]).all()
    bass = PART_FAMILIES.index("bass")
    assert context[0, 4 * bass : 4 * bass + 4].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert context[0, -5:].tolist() == [float(family == bass) for family in range(len(PART_FAMILIES))]
    assert context[0].sum() == 2.0
    with pytest.raises(ParameterError, match="part onsets"):
        conditions(np.array([120.0] * 4), genre="pop")
    # the meter columns: every bar written as a 16-step simple bar unless told, which is all zeros
    assert got[:, -2:].tolist() == [[0.0, 0.0]] * 4
    written = conditions(
        np.array([120.0] * 3),
        genre="pop",
        bar_steps=np.array([12, 12, 8]),
        compound=[False, True, False],
        part_onsets=onsets[:3],
    )
    assert written[:, -2:].tolist() == [[0.25, 0.0], [0.25, 1.0], [0.5, 0.0]]
    with pytest.raises(ParameterError, match="one written length"):
        conditions(np.array([120.0] * 3), genre="pop", bar_steps=np.array([12, 12]), part_onsets=onsets[:3])
    # an unknown genre without a recorded mix: equal shares, never the all-zero vector
    np.testing.assert_allclose(
        conditions(np.array([120.0]), genre="polka", part_onsets=onsets[:1])[:, genre_columns],
        np.full((1, len(GENRES)), 1 / len(GENRES)),
    )
    other = ConditionEncoding(
        tempo_center=100.0,
        tempo_scale=20.0,
        genres=("pop", "rock"),
        cqt_levels=15,
        unknown_genre_mix=(0.25, 0.75),
    )
    np.testing.assert_allclose(
        conditions(np.array([140.0]), genre="rock", encoding=other), [[2.0, 0.0, 0.0, 1.0]]
    )
    np.testing.assert_allclose(
        conditions(np.array([100.0]), genre="unknown", encoding=other), [[0.0, 0.0, 0.25, 0.75]]
    )
    assert ConditionEncoding.from_dict(other.to_dict()) == other
    assert ConditionEncoding().to_dict() == {
        "tempo_center": 120.0,
        "tempo_scale": 40.0,
        "genres": list(GENRES),
        "cqt_levels": CQT_LEVELS,
        "unknown_genre_mix": None,
        "meter_columns": False,
        "song_context": False,
    }
    # configs saved before the mix (or the meter, or the context) was recorded read back with
    # none (equal shares; no meter or context columns, as those models were trained)
    old = {
        key: value
        for key, value in other.to_dict().items()
        if key not in ("unknown_genre_mix", "meter_columns", "song_context")
    }
    assert ConditionEncoding.from_dict(old).unknown_genre_mix is None
    assert not ConditionEncoding.from_dict(old).meter_columns
    assert not ConditionEncoding.from_dict(old).song_context
    assert ConditionEncoding.from_dict({**old, "meter_columns": True}).n_conditions == 2 + 2 + 2
    with_context = ConditionEncoding.from_dict({**old, "meter_columns": True, "song_context": True})
    assert with_context.n_conditions == 2 + 2 + N_CONTEXT_COLUMNS + 2
    with pytest.raises(ParameterError, match="tempo scale"):
        ConditionEncoding(tempo_scale=0.0)
    with pytest.raises(ParameterError, match="unknown-genre mix"):
        ConditionEncoding(genres=("pop", "rock"), unknown_genre_mix=(0.5, 0.6))
    with pytest.raises(ParameterError, match="unknown-genre mix"):
        ConditionEncoding(genres=("pop", "rock"), unknown_genre_mix=(1.0,))


def test_genre_shares_counts_known_genres_only() -> None:
    assert genre_shares(["rock", "pop", "pop", "polka"], known=("rock", "pop")) == (0.3333, 0.6667)
    assert genre_shares(["polka"], known=("rock", "pop")) == (0.5, 0.5)
    shares = genre_shares(["rock"] * 7 + ["country"] * 3)
    assert shares[GENRES.index("rock")] == 0.7 and shares[GENRES.index("country")] == 0.3
    assert sum(shares) == pytest.approx(1.0)


def test_bar_table_refuses_part_onsets_of_the_wrong_shape(rng: np.random.Generator) -> None:
    song = bass_song("a", rng)
    song.arrays["part_onsets"] = song.arrays["part_onsets"][:, :3]
    with pytest.raises(ParameterError, match="shape"):
        BarTable.from_songs([song])


# --- pitch-shift augmentation ------------------------------------------------------------------


def test_shift_pitch_moves_energy_and_fills_zeros() -> None:
    stack = np.zeros((3, N_BINS, N_CELLS, K + 1), np.float32)
    stack[:, 10, 3, :] = np.arange(1, K + 2)  # bin 10, a different level in every channel
    shifted = shift_pitch(stack, np.array([2, -3, 0]))
    for example, shift in enumerate((2, -3, 0)):
        nonzero = np.argwhere(shifted[example])
        assert set(nonzero[:, 0]) == {10 + shift}  # every channel moved by the same shift
        np.testing.assert_array_equal(shifted[example, 10 + shift, 3], np.arange(1, K + 2))
    assert stack[0, 10, 3, 0] == 1.0 and shifted is not stack  # input untouched

    full = np.ones((2, N_BINS, N_CELLS, K + 1), np.float32)
    up, down = shift_pitch(full, np.array([2, -2]))
    assert not up[:2].any() and up[2:].all()  # zeros roll in at the bottom ...
    assert not down[-2:].any() and down[:-2].all()  # ... and at the top
    top = np.zeros((1, N_BINS, N_CELLS, 1), np.float32)
    top[0, -1] = 1.0
    assert not shift_pitch(top, np.array([1])).any()  # never wraps around
    assert not shift_pitch(top, np.array([-N_BINS])).any()
    with pytest.raises(ParameterError, match="one shift per example"):
        shift_pitch(full, np.array([1]))


def test_random_pitch_shifts_are_whole_semitones_in_range() -> None:
    shifts = random_pitch_shifts(5000, max_semitones=2, bins_per_octave=12, rng=np.random.default_rng(0))
    assert set(shifts) == {-2, -1, 0, 1, 2}
    again = random_pitch_shifts(5000, max_semitones=2, bins_per_octave=12, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(shifts, again)
    thirds = random_pitch_shifts(500, max_semitones=1, bins_per_octave=36, rng=np.random.default_rng(0))
    assert set(thirds) == {-3, 0, 3}
    assert not random_pitch_shifts(
        10, max_semitones=0, bins_per_octave=12, rng=np.random.default_rng(0)
    ).any()
    with pytest.raises(ParameterError, match="12k bins per octave"):
        random_pitch_shifts(1, max_semitones=1, bins_per_octave=18, rng=np.random.default_rng(0))


def test_training_batches_shift_each_example_whole_and_are_seeded(rng: np.random.Generator) -> None:
    from drumgen.model.train_vae import BarBatches

    table = BarTable.from_songs([bass_song("a", rng), bass_song("b", rng)])
    plain = BarBatches(table, batch_size=16, shuffle=False, seed=5)
    augmented = BarBatches(table, batch_size=16, shuffle=False, seed=5, max_semitones=2)
    seen = set()
    for index in range(len(plain)):
        (original, targets), (shifted, shifted_targets) = plain[index], augmented[index]
        np.testing.assert_array_equal(original["parts"], shifted["parts"])  # onsets have no pitch
        np.testing.assert_array_equal(targets["drums"], shifted_targets["drums"])
        for example in range(len(original["cqt_stack"])):
            matches = [
                s
                for s in range(-2, 3)
                if np.array_equal(
                    shift_pitch(original["cqt_stack"][example : example + 1], np.array([s])),
                    shifted["cqt_stack"][example : example + 1],
                )
            ]
            assert len(matches) == 1  # one shift for the whole 8-bar stack
            seen.add(matches[0])
    assert seen == {-2, -1, 0, 1, 2}
    same_seed = BarBatches(table, batch_size=16, shuffle=False, seed=5, max_semitones=2)
    np.testing.assert_array_equal(same_seed[1][0]["cqt_stack"], augmented[1][0]["cqt_stack"])
    other_epoch = BarBatches(table, batch_size=16, shuffle=False, seed=5, max_semitones=2)
    other_epoch.on_epoch_end()
    assert not np.array_equal(other_epoch[1][0]["cqt_stack"], augmented[1][0]["cqt_stack"])


def test_training_dataset_gives_the_batches_in_order_and_reshuffles_each_pass(
    rng: np.random.Generator,
) -> None:
    from drumgen.model.train_vae import BarBatches

    table = BarTable.from_songs([bass_song("a", rng), bass_song("b", rng, n_bars=21)])
    batches = BarBatches(table, batch_size=16, shuffle=True, seed=5, max_semitones=2)
    twin = BarBatches(table, batch_size=16, shuffle=True, seed=5, max_semitones=2)
    dataset = batches.as_tf_dataset()
    assert int(dataset.cardinality()) == len(twin) == 4  # 53 bars: the last batch holds 5
    for epoch in range(2):  # each pass is one epoch of the twin's, in the same order
        passed = list(dataset.as_numpy_iterator())
        assert batches.epoch == epoch  # a pass advances the epoch as it starts, not at its end
        assert len(passed) == len(twin)
        for index, (inputs, targets) in enumerate(passed):
            expected_inputs, expected_targets = twin[index]
            for got, expected in ((inputs, expected_inputs), (targets, expected_targets)):
                assert got.keys() == expected.keys()
                for name in got:
                    np.testing.assert_array_equal(got[name], expected[name])
        twin.on_epoch_end()
    assert not np.array_equal(passed[0][1]["drums"], next(dataset.as_numpy_iterator())[1]["drums"])
    assert batches.epoch == 2


# --- config --------------------------------------------------------------------------------------


def test_vae_config_has_the_regularisation_defaults() -> None:
    vae = load_config("default").vae
    assert (vae.pitch_shift_semitones, vae.dropout, vae.parts_units) == (2, 0.3, 32)
    with pytest.raises(ParameterError, match="dropout"):
        load_config("default", vae={"dropout": 1.0})
    with pytest.raises(ParameterError, match="pitch_shift_semitones"):
        load_config("default", vae={"pitch_shift_semitones": -1})
    with pytest.raises(ParameterError, match="other_meter_repeats"):
        load_config("default", vae={"other_meter_repeats": 0})


def test_network_takes_parts_and_drops_out_in_training_only() -> None:
    from drumgen.model.vae import VaeShape, build_drum_vae

    config = load_config("smoke").vae
    vae = build_drum_vae(VaeShape(N_BINS, N_CELLS, K + 1, N_CONDITIONS, len(PART_FAMILIES)), config)
    assert {t.name for t in vae.encoder.inputs} == {"cqt_stack", "parts", "conditions"}
    assert vae.encoder.get_layer("encoder_dropout").rate == config.dropout
    rng = np.random.default_rng(0)
    inputs = {
        "cqt_stack": rng.random((4, N_BINS, N_CELLS, K + 1)).astype(np.float32),
        "parts": rng.random((4, N_PART_CHANNELS, len(PART_FAMILIES), 16)).astype(np.float32),
        "conditions": np.zeros((4, N_CONDITIONS), np.float32),
    }
    first = np.asarray(vae.encoder(inputs, training=False)[0])
    np.testing.assert_array_equal(first, np.asarray(vae.encoder(inputs, training=False)[0]))
    silent = {**inputs, "parts": np.zeros_like(inputs["parts"])}
    assert not np.allclose(first, np.asarray(vae.encoder(silent, training=False)[0]))
    with pytest.raises(ParameterError, match="part families"):
        build_drum_vae(VaeShape(N_BINS, N_CELLS, K + 1, N_CONDITIONS, 3), config)


def test_the_encoder_halves_compute_the_encoder_on_its_own_weights() -> None:
    from drumgen.model.vae import VaeShape, build_drum_vae

    vae = build_drum_vae(
        VaeShape(N_BINS, N_CELLS, K + 1, N_CONDITIONS, len(PART_FAMILIES)), load_config("smoke").vae
    )
    rng = np.random.default_rng(1)
    inputs = {
        "cqt_stack": rng.random((3, N_BINS, N_CELLS, K + 1)).astype(np.float32),
        "parts": rng.random((3, N_PART_CHANNELS, len(PART_FAMILIES), 16)).astype(np.float32),
        "conditions": rng.random((3, N_CONDITIONS)).astype(np.float32),
    }
    mean, log_var = (np.asarray(out) for out in vae.encoder(inputs, training=False))
    features = np.asarray(vae.cqt_features(inputs["cqt_stack"], training=False))
    halves = vae.encoder_head(
        {"cqt_features": features, "parts": inputs["parts"], "conditions": inputs["conditions"]},
        training=False,
    )
    np.testing.assert_allclose(np.asarray(halves[0]), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(halves[1]), log_var, rtol=1e-5, atol=1e-6)
    assert vae.encoder_head.get_layer("latent_mean") is vae.encoder.get_layer("latent_mean")


# --- training, saving, loading, generation (slow: trains a network) -------------------------------


@pytest.fixture(scope="module")
def fit_config() -> Config:
    """The smoke network with enough epochs to learn the bass -> kick rule in seconds. Without the
    song context: 10 songs of noise CQTs and random parts are too few to learn what it means
    (the fit then reaches F1 0.60 instead of 0.9; a context model's own test is below)."""
    return load_config("smoke").replace(
        vae={"epochs": 25, "patience": 25, "learning_rate": 0.003, "song_context": False}
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory, fit_config: Config) -> dict[str, Any]:
    from drumgen.model.train_vae import train_drum_vae

    rng = np.random.default_rng(11)
    songs = [bass_song(f"song{i}", rng) for i in range(12)]
    songs[:3] = [dataclasses.replace(song, genre="pop") for song in songs[:3]]  # shares: rock 0.7, pop 0.3
    out_dir = tmp_path_factory.mktemp("vae") / "drum_vae"
    vae, report = train_drum_vae(songs[:10], songs[10:], config=fit_config, out_dir=out_dir, progress=False)
    return {"vae": vae, "report": report, "out_dir": out_dir, "train": songs[:10], "val": songs[10:]}


@pytest.mark.slow
def test_tiny_fit_hears_the_bass(fitted: dict[str, Any]) -> None:
    """Only the parts input says which bars have drums: a model that ignored it could not beat
    F1 2/3 (the kick on every bar's beats); this one finds the bars."""
    scores = fitted["report"]["val_onset_scores_by_decoding"]["temperature 0, threshold"]
    assert scores["f1"] > 0.9


@pytest.mark.slow
def test_saved_config_records_the_inputs_and_format(fitted: dict[str, Any]) -> None:
    from drumgen.model.vae import FORMAT_VERSION

    config = json.loads((fitted["out_dir"] / "config.json").read_text())
    assert config["format_version"] == FORMAT_VERSION == 3
    assert config["inputs"] == {
        "part_families": list(PART_FAMILIES),
        "part_onset_saturation": 8.0,
        "tempo_center": 120.0,
        "tempo_scale": 40.0,
        "genres": list(GENRES),
        "cqt_levels": CQT_LEVELS,
        "unknown_genre_mix": [0.7, 0.3, 0.0, 0.0, 0.0, 0.0],  # the training songs' genre shares
        "meter_columns": True,
        "song_context": False,
    }
    assert fitted["vae"].conditioning.unknown_genre_mix == (0.7, 0.3, 0.0, 0.0, 0.0, 0.0)
    assert config["architecture"]["shape"]["n_families"] == len(PART_FAMILIES)
    vae_config = config["config"]["vae"]
    assert (vae_config["dropout"], vae_config["pitch_shift_semitones"]) == (0.3, 2)


def copy_model(fitted: dict[str, Any], tmp_path: Path, **changes: Any) -> Path:
    target = tmp_path / "drum_vae"
    shutil.copytree(fitted["out_dir"], target)
    path = target / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))
    return target


@pytest.mark.slow
def test_old_format_model_is_refused_in_one_line(fitted: dict[str, Any], tmp_path: Path) -> None:
    from drumgen.model.vae import load_drum_vae

    with pytest.raises(
        ModelError, match=r"drum_vae format version 2, this drumgen reads version 3"
    ) as caught:
        load_drum_vae(copy_model(fitted, tmp_path, format_version=2))
    assert "\n" not in str(caught.value)


@pytest.mark.slow
def test_model_without_inputs_section_is_refused(fitted: dict[str, Any], tmp_path: Path) -> None:
    from drumgen.model.vae import load_drum_vae

    directory = copy_model(fitted, tmp_path)
    config = json.loads((directory / "config.json").read_text())
    del config["inputs"]
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="parts encoding"):
        load_drum_vae(directory)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["genres", "tempo_center", "tempo_scale", "cqt_levels"])
def test_model_without_a_conditioning_constant_is_refused(
    fitted: dict[str, Any], tmp_path: Path, key: str
) -> None:
    from drumgen.model.vae import load_drum_vae

    directory = copy_model(fitted, tmp_path)
    config = json.loads((directory / "config.json").read_text())
    del config["inputs"][key]
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match=f"conditioning constants.*{key}") as caught:
        load_drum_vae(directory)
    assert "\n" not in str(caught.value)


def predictions_of(
    vae: Any,
    song: SongData,
    *,
    part_onsets: Any,
    genre: str | None = None,
    seed: int = 0,
    temperature: float = 0.0,
    unknown_genre: str = "marginal",
) -> Any:
    from drumgen.model.generate import bar_probabilities

    a = song.arrays
    return bar_probabilities(
        vae,
        a["bar_cqts"],
        a["neighbor_idx"],
        a["neighbor_weights"],
        bar_tempos=a["bar_tempos"],
        genre=song.genre if genre is None else genre,
        part_onsets=part_onsets,
        rng=np.random.default_rng(seed),
        temperature=temperature,
        unknown_genre=unknown_genre,
    )


def probabilities_of(vae: Any, song: SongData, *, part_onsets: Any) -> np.ndarray:
    return np.asarray(predictions_of(vae, song, part_onsets=part_onsets).probabilities)


@pytest.mark.slow
def test_generation_follows_the_parts_and_needs_them(fitted: dict[str, Any]) -> None:
    from drumgen.model.vae import load_drum_vae

    vae, _ = load_drum_vae(fitted["out_dir"])
    song = fitted["val"][0]
    onsets = song.arrays["part_onsets"]
    probabilities = probabilities_of(vae, song, part_onsets=onsets)
    np.testing.assert_allclose(
        probabilities, probabilities_of(fitted["vae"], song, part_onsets=onsets), atol=1e-6
    )
    kick = probabilities[:, KICK_ROW, BEATS].mean(axis=1)
    plays = onsets[:, 0].any(axis=1)
    assert np.mean((kick > 0.5) == plays) >= 0.9  # the kick plays where the bass does
    silent = probabilities_of(vae, song, part_onsets=np.zeros_like(onsets))
    assert silent[:, KICK_ROW, BEATS].mean() < 0.5 < kick[plays].mean()
    with pytest.raises(ParameterError, match="part_onsets") as caught:
        probabilities_of(vae, song, part_onsets=None)
    assert "\n" not in str(caught.value)
    with pytest.raises(ParameterError, match="shape"):
        probabilities_of(vae, song, part_onsets=onsets[:-1])


@pytest.mark.slow
def test_generation_drums_passes_the_parts_through(fitted: dict[str, Any], fit_config: Config) -> None:
    from drumgen import generation
    from drumgen.sections import Sections
    from drumgen.selection import BarSelection

    song = fitted["val"][0]
    a = song.arrays
    chosen = BarSelection(neighbor_idx=a["neighbor_idx"], neighbor_weights=a["neighbor_weights"])
    common = {"vae": fitted["vae"], "drummer": None, "config": fit_config, "seed": 0, "arranged": False}
    found = Sections.whole_song(song.n_bars)
    grids = generation.drums(
        a["bar_cqts"], a["bar_tempos"], chosen, found, part_onsets=a["part_onsets"], **common
    )
    assert grids.grids[0].shape == (song.n_bars, 46, 16)
    with pytest.raises(ParameterError, match="part_onsets"):
        generation.drums(a["bar_cqts"], a["bar_tempos"], chosen, found, part_onsets=None, **common)


@pytest.mark.slow
def test_a_meter_aware_vae_writes_a_waltz_in_its_own_bars(fitted: dict[str, Any], fit_config: Config) -> None:
    """The meter columns are read, nothing is written past a bar's own length, and step 4 keeps
    the bars as written instead of rebuilding them by the waltz rule."""
    from drumgen import generation
    from drumgen.meter import SongMeter, to_model_steps
    from drumgen.model.generate import bar_probabilities, decode_hits, hits_to_velocities
    from drumgen.sections import Sections
    from drumgen.selection import BarSelection

    vae = fitted["vae"]
    assert vae.conditioning.meter_columns
    song = fitted["val"][0]
    a, n = song.arrays, song.n_bars
    inputs = (a["bar_cqts"], a["neighbor_idx"], a["neighbor_weights"])
    common = {"bar_tempos": a["bar_tempos"], "genre": song.genre, "part_onsets": a["part_onsets"]}
    four = bar_probabilities(vae, *inputs, **common, rng=np.random.default_rng(0))
    waltz = bar_probabilities(
        vae,
        *inputs,
        **common,
        rng=np.random.default_rng(0),
        written_steps=np.full(n, 12),
        written_compound=np.zeros(n, bool),
    )
    # step 4 as it reads a waltz: its parts' steps folded as fractions of 12-step bars
    as_read = bar_probabilities(
        vae,
        *inputs,
        **{**common, "part_onsets": to_model_steps(a["part_onsets"], np.full(n, 12))},
        rng=np.random.default_rng(0),
        temperature=fit_config.generation.temperature,
        written_steps=np.full(n, 12),
        written_compound=np.zeros(n, bool),
    )
    assert four.probabilities[:, :, 12:].any() and not waltz.probabilities[:, :, 12:].any()
    assert four.written_steps is None and waltz.written_steps.tolist() == [12] * n  # kept for the arranger
    assert not np.allclose(waltz.probabilities[:, :, :12], four.probabilities[:, :, :12])
    chosen = BarSelection(neighbor_idx=a["neighbor_idx"], neighbor_weights=a["neighbor_weights"])
    generated = generation.drums(
        a["bar_cqts"],
        a["bar_tempos"],
        chosen,
        Sections.whole_song(n),
        vae=vae,
        drummer=None,
        config=fit_config,
        part_onsets=a["part_onsets"],
        seed=0,
        arranged=False,
        genre=song.genre,
        meter=SongMeter.from_meters([(3, 4)] * n),
    )
    hits = decode_hits(as_read.probabilities, as_read.counts, delta=0, mode=fit_config.generation.decode)
    written = hits_to_velocities(hits, as_read.probabilities)
    np.testing.assert_array_equal(generated.grids[0][:, :, :12], written[:, :, :12])
    assert not generated.grids[0][:, :, 12:].any()


@pytest.mark.slow
def test_a_vae_with_the_song_context_records_and_reads_it(
    fitted: dict[str, Any], fit_config: Config, tmp_path: Path
) -> None:
    """vae.song_context (the default) trains a VAE whose conditioning holds the song's context:
    saved in its config, read back, and read by generation (another song's parts change it)."""
    from drumgen.model.generate import bar_probabilities
    from drumgen.model.train_vae import train_drum_vae
    from drumgen.model.vae import load_drum_vae

    config = fit_config.replace(vae={"epochs": 2, "song_context": True})
    assert load_config("default").vae.song_context
    train_drum_vae(fitted["train"], fitted["val"], config=config, out_dir=tmp_path / "vae", progress=False)
    assert json.loads((tmp_path / "vae" / "config.json").read_text())["inputs"]["song_context"]
    vae, _ = load_drum_vae(tmp_path / "vae")
    assert vae.conditioning.song_context and vae.conditioning.n_conditions == N_CONDITIONS
    song = fitted["val"][0]
    a = song.arrays
    inputs = (a["bar_cqts"], a["neighbor_idx"], a["neighbor_weights"])
    common = {"bar_tempos": a["bar_tempos"], "genre": "rock"}
    onsets = a["part_onsets"]
    own = bar_probabilities(vae, *inputs, **common, part_onsets=onsets, rng=np.random.default_rng(0))
    # the same first bar and neighbours, in a song whose other bars play the keys on every sixteenth
    assert set(a["neighbor_idx"][0]) == set(range(1, K + 1))
    busier = onsets.copy()
    busier[K + 1 :, PART_FAMILIES.index("keys")] = 8
    other = bar_probabilities(vae, *inputs, **common, part_onsets=busier, rng=np.random.default_rng(0))
    assert own.probabilities.shape == (song.n_bars, 46, 16)
    assert not np.allclose(own.probabilities[0], other.probabilities[0]), "the song context is read"


@pytest.mark.slow
def test_saved_onset_saturation_is_read_back(fitted: dict[str, Any], tmp_path: Path) -> None:
    """The model encodes onsets with the constant in its config, not the one in today's code."""
    from drumgen.model.vae import load_drum_vae

    saved = json.loads((fitted["out_dir"] / "config.json").read_text())["inputs"]
    directory = copy_model(fitted, tmp_path, inputs={**saved, "part_onset_saturation": 2.0})
    vae, _ = load_drum_vae(directory)
    assert vae.parts == PartsEncoding(saturation=2.0)
    song = fitted["val"][0]
    onsets = song.arrays["part_onsets"]
    assert not np.allclose(
        probabilities_of(vae, song, part_onsets=onsets),
        probabilities_of(fitted["vae"], song, part_onsets=onsets),
    )


@pytest.mark.slow
def test_saved_genre_order_is_read_back_and_conditions_generation(
    fitted: dict[str, Any], tmp_path: Path
) -> None:
    """The weights' genre columns follow the order in the model's config, not today's GENRES.

    config.json is not covered by the checksum (only the weights file is), so editing it is how
    a model from a drumgen with another genre order looks."""
    from drumgen.model.vae import load_drum_vae

    saved = json.loads((fitted["out_dir"] / "config.json").read_text())["inputs"]
    swapped = ("pop", "rock", *GENRES[2:])  # "rock" now at the column "pop" had
    directory = copy_model(fitted, tmp_path, inputs={**saved, "genres": list(swapped)})
    vae, _ = load_drum_vae(directory)
    assert vae.conditioning.genres == swapped
    song = fitted["val"][0]
    onsets = song.arrays["part_onsets"]
    # the edited model hears "pop" where the trained one heard "rock" (column 0): same output
    np.testing.assert_allclose(
        predictions_of(vae, song, part_onsets=onsets, genre="pop").probabilities,
        predictions_of(fitted["vae"], song, part_onsets=onsets, genre="rock").probabilities,
        atol=1e-6,
    )
    assert not np.allclose(
        predictions_of(vae, song, part_onsets=onsets, genre="rock").probabilities,
        predictions_of(fitted["vae"], song, part_onsets=onsets, genre="rock").probabilities,
    )


@pytest.mark.slow
def test_velocity_output_learns_the_accented_downbeat(fitted: dict[str, Any]) -> None:
    """The training songs' kick plays 120 on the downbeat and 80 on the other beats."""
    history = fitted["report"]["history"]
    assert "velocity_loss" in history and "val_velocity_loss" in history
    assert history["velocity_loss"][-1] < history["velocity_loss"][0]
    song = fitted["val"][0]
    predicted = predictions_of(fitted["vae"], song, part_onsets=song.arrays["part_onsets"])
    velocities = predicted.velocities
    assert velocities.shape == (song.n_bars, 46, 16) and velocities.dtype == np.float32
    assert velocities.min() >= 1.0 and velocities.max() <= 127.0
    plays = song.arrays["drum_grids"][:, KICK_ROW].any(axis=1)
    downbeat = velocities[plays, KICK_ROW, 0].mean()
    other_beats = velocities[plays][:, KICK_ROW, [4, 8, 12]].mean()
    assert downbeat > other_beats + 15


# --- the learning curve ------------------------------------------------------------------------


@pytest.mark.slow
def test_learning_curve_resumes_and_refuses_other_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drumgen.model import train_vae
    from drumgen.model.learning_curve import learning_curve, load_learning_curve

    rng = np.random.default_rng(3)
    songs = [bass_song(f"song{i}", rng, n_bars=16) for i in range(6)]
    config = load_config("smoke").replace(vae={"epochs": 1, "max_minutes": 0.5})
    path = tmp_path / "curve.json"
    curve = learning_curve(songs[:4], songs[4:], sizes=[4, 2], config=config, path=path)
    assert [p.n_songs for p in curve.points] == [2, 4]
    assert [p.n_bars for p in curve.points] == [32, 64]
    assert load_learning_curve(path) == curve
    assert all(0.0 <= p.f1 <= 1.0 and p.epochs_run == 1 for p in curve.points)

    trained: list[int] = []
    real = train_vae.train_drum_vae

    def counting(train_songs: list[SongData], *args: Any, **kwargs: Any) -> Any:
        trained.append(len(train_songs))
        return real(train_songs, *args, **kwargs)

    monkeypatch.setattr(train_vae, "train_drum_vae", counting)
    again = learning_curve(songs[:4], songs[4:], sizes=[2, 3, 4], config=config, path=path)
    assert trained == [3]  # 2 and 4 were in the file
    assert [p.n_songs for p in again.points] == [2, 3, 4] and again.points[0] == curve.points[0]
    learning_curve(songs[:4], songs[4:], sizes=[2], config=config, path=path, force=True)
    assert trained == [3, 2]
    other = config.replace(vae={"max_minutes": 0.25})
    with pytest.raises(ParameterError, match="other settings"):
        learning_curve(songs[:4], songs[4:], sizes=[2], config=other, path=path)
    with pytest.raises(ParameterError, match=r"outside 1\.\.4"):
        learning_curve(songs[:4], songs[4:], sizes=[5], config=config)


@pytest.mark.slow
def test_learning_curve_script_writes_json_and_plot(tiny_dataset: Path, tmp_path: Path) -> None:
    from tests.conftest import load_script

    script = load_script("learning_curve")
    out = tmp_path / "curve"
    data = [str(tiny_dataset), str(tiny_dataset)]
    assert (
        script.main([*data, "--sizes", "2", "--minutes", "0.2", "--preset", "smoke", "--out", str(out)]) == 0
    )
    curve = json.loads((out / "learning_curve.json").read_text())
    assert [p["n_songs"] for p in curve["points"]] == [2]
    assert curve["settings"]["vae"]["max_minutes"] == 0.2
    assert (out / "learning_curve.png").stat().st_size > 5_000
    assert script.main([*data, "--sizes", "2", "--minutes", "0.2", "--out", str(out)]) == 1  # default preset


def test_combine_genres_weights_probabilities_counts_and_hit_velocities() -> None:
    from drumgen.model.generate import BarPredictions, combine_genres

    shape = (2, 46, 16)
    first = BarPredictions(
        np.full(shape, 0.2, np.float32), np.array([2.0, 4.0], np.float32), np.full(shape, 60.0)
    )
    second = BarPredictions(
        np.full(shape, 0.8, np.float32), np.array([6.0, 8.0], np.float32), np.full(shape, 100.0)
    )
    second.probabilities[0, 0, 0] = 0.0  # a cell only the first genre plays: its velocity alone counts
    both = combine_genres([first, second], np.array([3.0, 1.0]))  # weights 0.75, 0.25
    np.testing.assert_allclose(both.probabilities[1], 0.75 * 0.2 + 0.25 * 0.8, rtol=1e-6)
    np.testing.assert_allclose(both.counts, [3.0, 5.0], rtol=1e-6)
    # a hit's velocity, weighted by how likely each genre makes the hit: (0.15*60 + 0.2*100) / 0.35
    np.testing.assert_allclose(both.velocities[1, 5, 5], (0.15 * 60 + 0.2 * 100) / 0.35, rtol=1e-5)
    assert both.velocities[0, 0, 0] == pytest.approx(60.0)
    assert both.probabilities.dtype == np.float32 and both.velocities.shape == shape
    with pytest.raises(ParameterError, match="weight"):
        combine_genres([first, second], np.array([1.0]))
    with pytest.raises(ParameterError, match="weight"):
        combine_genres([first, second], np.array([0.0, 0.0]))


@pytest.mark.slow
def test_unknown_genre_is_the_training_share_weighted_mean_of_the_genres(fitted: dict[str, Any]) -> None:
    """The default for a song of unknown genre: the predictions under rock and pop (the tiny
    model's training genres, shares 0.7 / 0.3), averaged; "mix" is one pass with the shares as the
    input, which is something else; a known genre is unchanged by the mode."""
    from drumgen.model.generate import genre_weights

    vae = fitted["vae"]
    song = fitted["val"][0]

    def predict(genre: str, mode: str) -> Any:
        onsets = song.arrays["part_onsets"]
        return predictions_of(
            vae, song, part_onsets=onsets, genre=genre, seed=3, temperature=1.0, unknown_genre=mode
        )

    assert genre_weights(vae, "polka") == pytest.approx({"rock": 0.7, "pop": 0.3})
    assert genre_weights(vae, "polka", unknown_genre="mix") == {"polka": 1.0}
    assert genre_weights(vae, "pop") == {"pop": 1.0}
    rock, pop = predict("rock", "marginal"), predict("pop", "marginal")
    unknown = predict("polka", "marginal")
    # the same seed draws the same latent noise for every genre, so the mean is exact
    np.testing.assert_allclose(
        unknown.probabilities, 0.7 * rock.probabilities + 0.3 * pop.probabilities, atol=1e-5
    )
    np.testing.assert_allclose(unknown.counts, 0.7 * rock.counts + 0.3 * pop.counts, rtol=1e-5)
    assert not np.allclose(rock.probabilities, pop.probabilities)  # the genres do differ
    mixed = predict("polka", "mix")
    assert not np.allclose(mixed.probabilities, unknown.probabilities)
    np.testing.assert_array_equal(predict("pop", "mix").probabilities, pop.probabilities)
    with pytest.raises(ParameterError, match="unknown_genre"):
        predict("polka", "guess")
