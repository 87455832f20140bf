"""Step 1 renders at the analysis rate (22.05 kHz by default) and the audio files at their own
rate (44.1 kHz): a model keeps hearing its own CQT frames at the preset's rate, and the song is
rendered again, once per run folder, for listening."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drumgen import io, pipeline, testing
from drumgen.config import Config, load_config
from drumgen.exceptions import RunFolderError
from drumgen.model.bundle import analysis_rate_of
from drumgen.synth import Renderer


def _analysed_at(config: Config, sample_rate: int, hop_length: int) -> Config:
    return config.replace(render={"sample_rate": sample_rate}, features={"hop_length": hop_length})


def test_a_model_of_44k_renders_is_analysed_at_the_presets_rate(default_config: Config) -> None:
    trained = _analysed_at(default_config, 44100, 256)
    assert analysis_rate_of(trained, default_config) == {
        "render": {"sample_rate": 22050},
        "features": {"hop_length": 128},
    }
    assert trained.replace(**analysis_rate_of(trained, default_config)).features == default_config.features


def test_other_frames_or_bins_keep_the_models_own_analysis(default_config: Config) -> None:
    assert analysis_rate_of(_analysed_at(default_config, 44100, 512), default_config) == {}  # half the frames
    other_bins = default_config.replace(
        render={"sample_rate": 44100}, features={"hop_length": 256, "n_bins": 72}
    )
    assert analysis_rate_of(other_bins, default_config) == {}
    assert analysis_rate_of(default_config, default_config)["render"] == {"sample_rate": 22050}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("rates")
    song = folder / "tune.mid"
    song.write_bytes(testing.make_song_bytes("AB", bars_per_section=2, drums=False, parts=("piano", "bass")))
    run_dir = folder / "run"
    pipeline.step_1_preprocess(song, run_dir, config=load_config("default"))
    return song, run_dir


def test_step_1_renders_at_the_analysis_rate(analysed: tuple[Path, Path]) -> None:
    _, run_dir = analysed
    assert io.audio_sample_rate(io.melody_audio_path(run_dir)) == 22050


def test_the_song_is_rendered_again_once_for_listening(analysed: tuple[Path, Path]) -> None:
    song, run_dir = analysed
    config = load_config("default")
    seconds = float(pipeline.load_step_1(run_dir).bar_times[-1])
    with Renderer.from_config(config.render) as analysis:
        audio, gain = pipeline.listening_melody(run_dir, renderer=analysis, config=config)
    step_1_audio, _ = io.load_audio(io.melody_audio_path(run_dir))
    np.testing.assert_array_equal(audio, step_1_audio)  # step 1's own render at its rate
    assert gain == pipeline.load_step_1(run_dir).melody_gain
    assert not io.listening_melody_path(run_dir, 44100).exists()

    with Renderer.from_config(config.render, sample_rate=config.audio.sample_rate) as listening:
        first, first_gain = pipeline.listening_melody(run_dir, renderer=listening, config=config)
        assert len(first) == int(np.ceil(seconds * 44100))
        assert np.abs(first).max() == pytest.approx(config.render.peak, abs=1e-3)
        assert io.audio_sample_rate(io.listening_melody_path(run_dir, 44100)) == 44100
        # the same notes at either rate: the 44.1 kHz render's level over time follows step 1's
        envelope = [
            np.sqrt(np.mean(a.reshape(-1, n) ** 2, axis=1))
            for a, n in ((first[: 44100 * 4], 4410), (step_1_audio[: 22050 * 4], 2205))
        ]
        assert np.corrcoef(*envelope)[0, 1] > 0.95
        # kept: read back, not rendered again, even with the song's file gone
        moved = song.with_suffix(".moved")
        song.rename(moved)
        try:
            again, again_gain = pipeline.listening_melody(run_dir, renderer=listening, config=config)
        finally:
            moved.rename(song)
    assert again_gain == pytest.approx(first_gain)
    np.testing.assert_allclose(again, first, atol=1.0 / 32767)


def test_a_changed_song_is_not_rendered_in_place_of_the_analysed_one(analysed: tuple[Path, Path]) -> None:
    song, run_dir = analysed
    original = song.read_bytes()
    song.write_bytes(testing.make_song_bytes("AA", bars_per_section=2, drums=False, parts=("piano",)))
    config = load_config("default")
    try:
        with (
            Renderer.from_config(config.render, sample_rate=48000) as other_rate,  # nothing kept at 48 kHz
            pytest.raises(RunFolderError, match="gone or changed since step 1"),
        ):
            pipeline.listening_melody(run_dir, renderer=other_rate, config=config)
    finally:
        song.write_bytes(original)
    assert not io.listening_melody_path(run_dir, 48000).exists()


def test_step_1_again_drops_the_listening_render_of_the_song_it_replaces(tmp_path: Path) -> None:
    song = tmp_path / "tune.mid"
    song.write_bytes(testing.make_song_bytes("AB", bars_per_section=2, drums=False, parts=("piano",)))
    run_dir = tmp_path / "run"
    config = load_config("default")
    pipeline.step_1_preprocess(song, run_dir, config=config)
    with Renderer.from_config(config.render, sample_rate=44100) as listening:
        pipeline.listening_melody(run_dir, renderer=listening, config=config)
        assert [p.name for p in io.listening_melody_files(run_dir)] == [
            "step_1_melody_44100.json",
            "step_1_melody_44100.wav",
        ]
        song.write_bytes(testing.make_song_bytes("ABAB", bars_per_section=2, drums=False, parts=("bass",)))
        pipeline.step_1_preprocess(song, run_dir, config=config, force=True)
        assert io.listening_melody_files(run_dir) == []
        audio, _ = pipeline.listening_melody(run_dir, renderer=listening, config=config)
    assert len(audio) == int(np.ceil(float(pipeline.load_step_1(run_dir).bar_times[-1]) * 44100))
