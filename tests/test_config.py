"""Presets, overrides and round trips of drumgen.config."""

from __future__ import annotations

import dataclasses
import json

import pytest

from drumgen.config import PRESETS, Config, config_from_dict, load_config
from drumgen.exceptions import ParameterError


def test_default_preset_matches_design(default_config: Config) -> None:
    c = default_config
    assert c.preset == "default"
    assert c.render.sample_rate == 22050  # analysis only: the audio files are 44.1 kHz
    assert c.audio.sample_rate == 44100
    assert c.render.peak == pytest.approx(0.95)
    assert c.features.hop_length == 128  # 86.1 frames a second, as 256 at 44.1 kHz
    assert c.features.n_bins == 84
    assert c.features.bins_per_octave == 12
    assert c.features.fmin_hz == pytest.approx(32.7032, abs=1e-3)  # C1
    assert c.features.top_db == pytest.approx(80.0)
    assert c.features.n_cells == 96
    assert c.selection.n_neighbors == 7
    assert c.selection.source == "predicted"  # no oracle leak by default
    assert c.similarity.drum_scale == pytest.approx(15.0)


def test_fmin_is_c1_by_midi_pitch(default_config: Config) -> None:
    # C1 is MIDI 24: 440 * 2 ** ((24 - 69) / 12)
    assert default_config.features.fmin_hz == pytest.approx(440.0 * 2 ** ((24 - 69) / 12), rel=1e-9)


def test_default_soundfont_is_fluid_gm(default_config: Config) -> None:
    assert default_config.render.soundfont.endswith(".sf2")


def test_smoke_analyses_as_the_default(default_config: Config, smoke_config: Config) -> None:
    """The analysis sections are the default's; the model sections of smoke are tiny networks
    (not checked here)."""
    default, smoke = default_config.to_dict(), smoke_config.to_dict()
    for section in ("render", "features", "similarity", "selection"):
        assert smoke[section] == default[section]


def test_presets_listed_all_load() -> None:
    for name in PRESETS:
        assert load_config(name).preset == name


@pytest.mark.parametrize(
    ("preset", "overrides"),
    [
        ("nope", {}),
        ("default", {"rendering": {"sample_rate": 1}}),
        ("default", {"render": {"samplerate": 1}}),
        ("smoke", {"features": {"n_bin": 12}}),
    ],
)
def test_unknown_names_raise_parameter_error(preset: str, overrides: dict) -> None:
    with pytest.raises(ParameterError) as info:
        load_config(preset, **overrides)
    assert "\n" not in str(info.value)


def test_unknown_preset_message_names_choices() -> None:
    with pytest.raises(ParameterError, match="default"):
        load_config("nope")


def test_parameter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        load_config("nope")


@pytest.mark.parametrize(
    "overrides",
    [
        {"selection": {"n_neighbors": 0}},
        {"selection": {"source": "drums"}},
        {"render": {"sample_rate": 8000}},  # the top CQT bin (~4.2 kHz) must lie below Nyquist
        {"generation": {"temperature": -0.5}},
    ],
)
def test_invalid_values_raise(overrides: dict) -> None:
    with pytest.raises(ParameterError):
        load_config("default", **overrides)


def test_overrides_apply(default_config: Config) -> None:
    c = load_config("default", render={"soundfont": "/x/my.sf2"}, selection={"n_neighbors": 3})
    assert c.render.soundfont == "/x/my.sf2"
    assert c.selection.n_neighbors == 3
    assert c.features == default_config.features


def test_replace_changes_only_named_fields(smoke_config: Config) -> None:
    changed = smoke_config.replace(render={"soundfont": "/x/y.sf2"}, selection={"source": "oracle"})
    assert changed.render.soundfont == "/x/y.sf2"
    assert changed.selection.source == "oracle"
    assert changed.preset == "smoke"
    assert changed.render.sample_rate == smoke_config.render.sample_rate
    assert changed.features == smoke_config.features
    assert changed.similarity == smoke_config.similarity
    # the original is untouched
    assert smoke_config.selection.source == "predicted"


def test_replace_validates() -> None:
    config = load_config("default")
    with pytest.raises(ParameterError):
        config.replace(selection={"n_neighbors": -1})
    with pytest.raises(ParameterError):
        config.replace(render={"nope": 1})


@pytest.mark.parametrize("preset", PRESETS)
def test_dict_round_trip(preset: str) -> None:
    config = load_config(preset)
    assert config_from_dict(config.to_dict()) == config


@pytest.mark.parametrize("preset", PRESETS)
def test_json_round_trip(preset: str) -> None:
    config = load_config(preset, selection={"n_neighbors": 5})
    assert config_from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_configs_are_frozen(default_config: Config) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_config.preset = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_config.render.sample_rate = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_config.features.n_bins = 1  # type: ignore[misc]


def test_load_returns_equal_configs() -> None:
    assert load_config("default") == load_config("default")
    assert load_config("default") != load_config("smoke")
