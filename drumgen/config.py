"""Configuration: one frozen dataclass per stage, filled from TOML presets.

Every default number lives in ``drumgen/presets/default.toml``; another preset (``smoke``) holds
only the values it changes. The resolved configuration is saved next to every artifact
(:func:`Config.to_dict`), so a result always says what made it.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from drumgen.exceptions import ParameterError

PRESETS = ("default", "smoke")
SELECTION_SOURCES = ("predicted", "melodic", "oracle")
VELOCITY_SOURCES = ("vae", "table")
"""Where the arranger's velocities come from: the VAE's velocity output, or the drummer's table."""
UNKNOWN_GENRE_MODES = ("marginal", "mix")
"""How step 4 conditions a song of unknown genre (:mod:`drumgen.model.generate`)."""
AUDIO_FORMATS = ("ogg", "flac")
"""Compressed audio formats of the rendered songs (``drumgen generate --audio``, the studio)."""


@dataclass(frozen=True)
class RenderConfig:
    """FluidSynth rendering of the non-drum part (step 1)."""

    sample_rate: int
    peak: float
    gain: float
    polyphony: int
    soundfont: str


@dataclass(frozen=True)
class FeatureConfig:
    """Constant-Q spectrogram and its per-bar pooling (step 1)."""

    hop_length: int
    n_bins: int
    bins_per_octave: int
    fmin_hz: float
    top_db: float
    n_cells: int


@dataclass(frozen=True)
class SimilarityConfig:
    """Bar-to-bar distance scales of the melodic and drum SSMs (step 2)."""

    melodic_scale: float
    drum_scale: float


@dataclass(frozen=True)
class SelectionConfig:
    """Choice of each bar's most similar bars (step 3)."""

    n_neighbors: int
    source: str


@dataclass(frozen=True)
class VaeConfig:
    """Architecture and training of the drum VAE (step 4)."""

    latent_dim: int
    conv_filters: tuple[int, ...]
    dense_units: int
    parts_units: int
    dropout: float
    decoder_units: tuple[int, ...]
    kl_weight: float
    count_weight: float
    velocity_weight: float
    learning_rate: float
    batch_size: int
    epochs: int
    patience: int
    max_minutes: float
    pitch_shift_semitones: int
    other_meter_repeats: int
    song_context: bool


@dataclass(frozen=True)
class SsmGeneratorConfig:
    """Architecture and training of the drum-SSM generator (step 2)."""

    channels: int
    dilations: tuple[int, ...]
    crop_size: int
    learning_rate: float
    batch_size: int
    epochs: int
    steps_per_epoch: int
    patience: int
    max_minutes: float


@dataclass(frozen=True)
class GenerationConfig:
    """Sampling of drum patterns (step 4)."""

    seed: int
    densities: tuple[int, ...]
    temperature: float
    decode: str
    unknown_genre: str


@dataclass(frozen=True)
class SectionConfig:
    """Finding song sections on the SSMs (:mod:`drumgen.sections`)."""

    kernel_bars: int
    min_bars: int
    peak_threshold: float
    label_distance: float
    melodic_weight: float


@dataclass(frozen=True)
class DrumChangeConfig:
    """Where real drums change section, on their own drum SSM (:func:`drumgen.sections.drum_section_changes`):
    the ground truth of the evaluation's fill and crash placement, and the changes the drummer
    model learns fills before. Kept apart from :class:`SectionConfig` so that tuning the section
    finder never moves the ground truth it is scored against."""

    kernel_bars: int
    min_bars: int
    peak_threshold: float


@dataclass(frozen=True)
class ArrangementConfig:
    """Turning the VAE's per-bar probabilities into a drum part (:mod:`drumgen.arrangement`)."""

    variation: float
    fills: float
    play_always: bool
    hit_threshold: float
    snare_threshold: float
    keeper_threshold: float
    layout_threshold: float
    max_rest_share: float
    velocity_source: str
    contrast: float
    variant_distance: float
    bass_lock: float


@dataclass(frozen=True)
class FeelConfig:
    """Swing and humanizing of the written drums (step 5, :mod:`drumgen.feel`).

    ``swing`` is "auto" (the ratio :func:`drumgen.feel.estimate_swing` finds in the song's own
    parts) or an amount ``s`` in [0, 1], the ratio ``1 + s`` (0 straight, 1 triplet swing);
    ``humanize`` in [0, 1] scales the timing offsets (at most ``max_offset_ms x humanize``) and
    velocity offsets (at most ``max_velocity_offset x humanize``). The ``min_swing_*`` fields are
    the detector's checks: fewer off-beat eighths, a smaller ratio or a lower confidence is straight.
    """

    swing: str | float
    humanize: float
    max_offset_ms: float
    max_velocity_offset: int
    min_swing_notes: int
    min_swing_ratio: float
    min_swing_confidence: float


@dataclass(frozen=True)
class LimitsConfig:
    """What one song may cost (:func:`drumgen.midi.check_limits`); a song beyond a limit is refused
    before any rendering, with a message naming the limit and the ``--max-*`` flag that raises it."""

    max_minutes: float
    max_bars: int
    max_notes: int
    max_tracks: int
    max_file_mb: float


@dataclass(frozen=True)
class AudioConfig:
    """The rendered song with its drums, as a compressed file (:mod:`drumgen.mixdown`).

    ``sample_rate`` is the files' rate in Hz (step 1 renders for analysis at ``render.sample_rate``);
    ``format`` is "ogg" (Vorbis) or "flac"; ``quality`` the Vorbis quality in [0, 1] (libsndfile's
    compression level is 1 - quality; FLAC ignores it).
    """

    sample_rate: int
    format: str
    quality: float


@dataclass(frozen=True)
class StudioConfig:
    """The local web page of ``drumgen serve`` (:mod:`drumgen.studio`).

    ``work_dir`` holds one folder per uploaded song (relative paths: to the server's working
    folder); ``audio_format`` is what the page plays (one of :data:`AUDIO_FORMATS`); runs older
    than ``max_age_hours`` or beyond the newest ``max_runs`` are removed; each keeps its last
    ``max_takes`` takes; at most ``max_pending`` model jobs run or wait at once (one runs at a
    time), more are answered "busy" (HTTP 503).
    """

    host: str
    port: int
    work_dir: str
    audio_format: str
    max_runs: int
    max_age_hours: float
    max_takes: int
    max_pending: int


def limit_flag(field: str) -> str:
    """The command-line option that sets a ``[limits]`` field (``max_minutes`` -> ``--max-minutes``)."""
    return "--" + field.replace("_", "-")


@dataclass(frozen=True)
class Config:
    """The resolved configuration of a run: one section per stage."""

    preset: str
    render: RenderConfig
    features: FeatureConfig
    similarity: SimilarityConfig
    selection: SelectionConfig
    vae: VaeConfig
    ssm_generator: SsmGeneratorConfig
    generation: GenerationConfig
    sections: SectionConfig
    drum_changes: DrumChangeConfig
    arrangement: ArrangementConfig
    limits: LimitsConfig
    feel: FeelConfig
    audio: AudioConfig
    studio: StudioConfig

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as plain JSON-ready data."""
        return dataclasses.asdict(self)

    def replace(self, **sections: dict[str, Any]) -> Config:
        """Return a copy with some fields of some sections changed.

        Example: ``config.replace(render={"soundfont": "/path/to/my.sf2"})``.
        """
        return _build(self.preset, _merge(self.to_dict(), sections))


_SECTIONS = {
    "render": RenderConfig,
    "features": FeatureConfig,
    "similarity": SimilarityConfig,
    "selection": SelectionConfig,
    "vae": VaeConfig,
    "ssm_generator": SsmGeneratorConfig,
    "generation": GenerationConfig,
    "sections": SectionConfig,
    "drum_changes": DrumChangeConfig,
    "arrangement": ArrangementConfig,
    "limits": LimitsConfig,
    "feel": FeelConfig,
    "audio": AudioConfig,
    "studio": StudioConfig,
}


def _read_preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ParameterError(f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}")
    text = resources.files("drumgen.presets").joinpath(f"{name}.toml").read_text()
    return tomllib.loads(text)


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for section, fields in changes.items():
        if section not in _SECTIONS:
            raise ParameterError(
                f"unknown config section {section!r}; expected one of {', '.join(_SECTIONS)}"
            )
        known = {field.name for field in dataclasses.fields(_SECTIONS[section])}
        for key, value in fields.items():
            if key not in known:
                raise ParameterError(
                    f"unknown field {section}.{key}; expected one of {', '.join(sorted(known))}"
                )
            merged[section][key] = value
    return merged


def _build(preset: str, data: dict[str, Any]) -> Config:
    sections = {
        name: cls(**{key: tuple(v) if isinstance(v, list) else v for key, v in data[name].items()})
        for name, cls in _SECTIONS.items()
    }
    config = Config(preset=preset, **sections)
    _validate(config)
    return config


def _validate(config: Config) -> None:
    if config.selection.source not in SELECTION_SOURCES:
        raise ParameterError(
            f"selection.source must be one of {', '.join(SELECTION_SOURCES)}, got {config.selection.source!r}"
        )
    if config.generation.decode not in ("count", "threshold"):
        raise ParameterError(
            f"generation.decode must be 'count' or 'threshold', got {config.generation.decode!r}"
        )
    if config.generation.unknown_genre not in UNKNOWN_GENRE_MODES:
        raise ParameterError(
            f"generation.unknown_genre must be one of {', '.join(UNKNOWN_GENRE_MODES)}, "
            f"got {config.generation.unknown_genre!r}"
        )
    if config.generation.temperature < 0:
        raise ParameterError(f"generation.temperature must be >= 0, got {config.generation.temperature}")
    for name in ("variation", "fills", "bass_lock", "max_rest_share"):
        value = getattr(config.arrangement, name)
        if not 0.0 <= value <= 1.0:
            raise ParameterError(f"arrangement.{name} must be in [0, 1], got {value}")
    for name in ("hit_threshold", "snare_threshold", "keeper_threshold"):
        value = getattr(config.arrangement, name)
        if not 0.0 <= value < 1.0:
            raise ParameterError(f"arrangement.{name} must be in [0, 1), got {value}")
    if config.arrangement.variant_distance <= 0:
        raise ParameterError(
            "arrangement.variant_distance must be > 0 (1 or more: no variants), "
            f"got {config.arrangement.variant_distance}"
        )
    if config.arrangement.contrast < 0:
        raise ParameterError(f"arrangement.contrast must be >= 0, got {config.arrangement.contrast}")
    if config.arrangement.velocity_source not in VELOCITY_SOURCES:
        raise ParameterError(
            f"arrangement.velocity_source must be one of {', '.join(VELOCITY_SOURCES)}, "
            f"got {config.arrangement.velocity_source!r}"
        )
    if config.vae.velocity_weight < 0:
        raise ParameterError(f"vae.velocity_weight must be >= 0, got {config.vae.velocity_weight}")
    if config.sections.min_bars < 1 or config.sections.kernel_bars < 2:
        raise ParameterError(
            "sections.min_bars must be >= 1 and sections.kernel_bars >= 2, got "
            f"{config.sections.min_bars} and {config.sections.kernel_bars}"
        )
    if not 0.0 <= config.vae.dropout < 1.0:
        raise ParameterError(f"vae.dropout must be in [0, 1), got {config.vae.dropout}")
    if config.vae.other_meter_repeats < 1:
        raise ParameterError(f"vae.other_meter_repeats must be >= 1, got {config.vae.other_meter_repeats}")
    if config.vae.pitch_shift_semitones < 0:
        shift = config.vae.pitch_shift_semitones
        raise ParameterError(f"vae.pitch_shift_semitones must be >= 0, got {shift}")
    if config.selection.n_neighbors < 1:
        raise ParameterError(f"selection.n_neighbors must be >= 1, got {config.selection.n_neighbors}")
    for name, value in dataclasses.asdict(config.limits).items():
        if not value > 0:
            raise ParameterError(f"limits.{name} must be > 0, got {value}")
    _validate_feel(config.feel)
    _validate_studio(config.audio, config.studio)
    nyquist = config.render.sample_rate / 2
    top_hz = config.features.fmin_hz * 2 ** (config.features.n_bins / config.features.bins_per_octave)
    if top_hz >= nyquist:
        raise ParameterError(f"the CQT's top bin ({top_hz:.0f} Hz) must lie below Nyquist ({nyquist:.0f} Hz)")


def _validate_feel(feel: FeelConfig) -> None:
    swing = feel.swing
    if isinstance(swing, str):
        if swing != "auto":
            raise ParameterError(f"feel.swing must be 'auto' or a number in [0, 1], got {swing!r}")
    elif isinstance(swing, bool) or not isinstance(swing, int | float) or not 0.0 <= swing <= 1.0:
        raise ParameterError(f"feel.swing must be 'auto' or a number in [0, 1], got {swing!r}")
    if not 0.0 <= feel.humanize <= 1.0:
        raise ParameterError(f"feel.humanize must be in [0, 1], got {feel.humanize}")
    if feel.max_offset_ms < 0 or feel.max_velocity_offset < 0:
        raise ParameterError(
            "feel.max_offset_ms and feel.max_velocity_offset must be >= 0, got "
            f"{feel.max_offset_ms} and {feel.max_velocity_offset}"
        )
    if feel.min_swing_notes < 1 or feel.min_swing_ratio < 1.0 or not 0.0 <= feel.min_swing_confidence <= 1.0:
        raise ParameterError(
            "feel.min_swing_notes must be >= 1, feel.min_swing_ratio >= 1 and feel.min_swing_confidence "
            f"in [0, 1], got {feel.min_swing_notes}, {feel.min_swing_ratio} and {feel.min_swing_confidence}"
        )


def _validate_studio(audio: AudioConfig, studio: StudioConfig) -> None:
    if not 8000 <= audio.sample_rate <= 192000:
        raise ParameterError(f"audio.sample_rate must be in 8000..192000 Hz, got {audio.sample_rate}")
    if audio.format not in AUDIO_FORMATS:
        raise ParameterError(f"audio.format must be one of {', '.join(AUDIO_FORMATS)}, got {audio.format!r}")
    if not 0.0 <= audio.quality <= 1.0:
        raise ParameterError(f"audio.quality must be in [0, 1], got {audio.quality}")
    if studio.audio_format not in AUDIO_FORMATS:
        raise ParameterError(
            f"studio.audio_format must be one of {', '.join(AUDIO_FORMATS)}, got {studio.audio_format!r}"
        )
    if not 0 < studio.port < 65536:
        raise ParameterError(f"studio.port must be in 1..65535, got {studio.port}")
    for name in ("max_runs", "max_age_hours", "max_takes", "max_pending"):
        if not getattr(studio, name) > 0:
            raise ParameterError(f"studio.{name} must be > 0, got {getattr(studio, name)}")


def load_config(preset: str = "default", **overrides: dict[str, Any]) -> Config:
    """Load a preset, optionally overriding fields section by section.

    Parameters
    ----------
    preset : str
        ``"default"`` or ``"smoke"`` (fast settings for tests and notebook smoke runs).
    **overrides : dict
        Per-section field changes, e.g. ``render={"soundfont": "my.sf2"}``.

    Returns
    -------
    Config
        The frozen, validated configuration.
    """
    data = _read_preset("default")
    if preset != "default":
        data = _merge(data, _read_preset(preset))
    return _build(preset, _merge(data, overrides))


def config_from_dict(data: dict[str, Any]) -> Config:
    """Rebuild a :class:`Config` saved with :meth:`Config.to_dict` (e.g. from a JSON sidecar).

    A config saved by an older drumgen may lack sections or fields added since; they take
    today's defaults (the ``default`` preset), so old run folders, datasets and models stay readable.
    """
    fields = _read_preset("default")
    for name in _SECTIONS:
        fields[name].update(data.get(name, {}))
    return _build(data.get("preset", "default"), fields)
