"""Steps 1-3 end to end on songs built in code, through real FluidSynth rendering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drumgen import filestyle, io, pipeline, representation, testing
from drumgen.config import load_config
from drumgen.exceptions import MidiError, OutputExistsError, ParameterError, TimeSignatureError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke():
    return load_config("smoke")


def _write(song, path: Path) -> Path:
    song.write(str(path))
    return path


def test_structure_recovery_ababca(tmp_path: Path, smoke) -> None:
    song = _write(testing.make_song("ABABCA", parts=("piano", "bass"), drums=False), tmp_path / "s.mid")
    result = pipeline.analyze_song(song, tmp_path / "run", config=smoke, source="melodic")
    assert result.step_1.n_bars == 6
    assert set(result.step_3.selection.neighbor_idx[0, :2]) == {2, 5}
    # and the converse: bar 1 (B) is nearest to bar 3 (the other B)
    assert result.step_3.selection.neighbor_idx[1, 0] == 3
    assert result.step_3.source == "melodic"
    assert result.step_2.drum_ssm is None


def test_shipped_generator_keeps_the_structure(tmp_path: Path, smoke) -> None:
    """By default the neighbours come from the drum SSM the shipped generator predicts."""
    song = _write(testing.make_song("ABABCA", parts=("piano", "bass"), drums=False), tmp_path / "s.mid")
    result = pipeline.analyze_song(song, tmp_path / "run", config=smoke)
    assert result.step_3.source == "predicted"
    predicted = result.step_2.predicted_drum_ssm
    assert predicted is not None and np.array_equal(predicted, predicted.T)
    # each bar of the first A B A B is nearest to its twin, and A is nearer the last A than the C
    assert list(result.step_3.selection.neighbor_idx[:4, 0]) == [2, 3, 0, 1]
    assert predicted[0, 5] < predicted[0, 4]


def test_structure_recovery_with_longer_sections(tmp_path: Path, smoke) -> None:
    song = _write(
        testing.make_song("ABA", bars_per_section=2, parts=("piano", "guitar", "bass"), drums=False, seed=3),
        tmp_path / "s.mid",
    )
    ssm = pipeline.analyze_song(song, tmp_path / "run", config=smoke).step_2.melodic_ssm
    # bar 0 (A, first bar) is closer to bar 4 (A, first bar again) than to any B bar
    assert ssm[0, 4] < min(ssm[0, 2], ssm[0, 3])


def test_tempo_change_song_is_cut_into_correct_bars(tmp_path: Path, smoke) -> None:
    song = _write(testing.make_song("AABB", tempo=120.0, tempo_changes=[(2, 80.0)]), tmp_path / "s.mid")
    result = pipeline.step_1_preprocess(song, tmp_path / "run", config=smoke)
    np.testing.assert_allclose(np.diff(result.bar_times), [2.0, 2.0, 3.0, 3.0], atol=1e-3)
    np.testing.assert_allclose(result.bar_tempos, [120.0, 120.0, 80.0, 80.0], atol=1e-3)
    assert result.bar_cqts.shape == (4, 84, 96)
    np.testing.assert_allclose(np.diff(result.step_times[2]), 3.0 / 16, atol=1e-6)


def test_downbeat_clicks_light_step_zero(tmp_path: Path, smoke) -> None:
    song = _write(testing.downbeat_click_song(6, tempo=100.0, tempo_changes=[(3, 140.0)]), tmp_path / "s.mid")
    grids = pipeline.step_1_preprocess(song, tmp_path / "run", config=smoke).drum_grids
    assert grids is not None and grids.shape == (6, 46, 16)
    hits = representation.hits(grids)
    assert hits[:, :, 0].any(axis=1).all(), "every bar has a hit on step 0"
    assert not hits[:, :, 1:].any(), "and nothing elsewhere"


def test_true_drum_ssm_follows_the_form(tmp_path: Path, smoke) -> None:
    song = _write(testing.make_song("ABAB", drums=True), tmp_path / "s.mid")
    result = pipeline.analyze_song(song, tmp_path / "run", config=smoke, source="oracle")
    drum_ssm = result.step_2.drum_ssm
    assert drum_ssm is not None
    assert drum_ssm[0, 2] == 0.0 and drum_ssm[1, 3] == 0.0 and drum_ssm[0, 1] > 0.0
    assert result.step_3.source == "oracle"
    assert result.step_3.selection.neighbor_idx[0, 0] == 2


def test_run_folder_records_provenance(tmp_path: Path, smoke) -> None:
    song = _write(testing.make_song("AB"), tmp_path / "s.mid")
    pipeline.analyze_song(song, tmp_path / "run", config=smoke)
    _, meta = io.load_step(tmp_path / "run", "step_1")
    assert meta["song"]["md5"] == io.file_digest(song)
    assert meta["config"]["preset"] == "smoke"
    assert meta["soundfont"].endswith(".sf2")
    assert "librosa" in meta["versions"]
    audio, sr = io.load_audio(io.melody_audio_path(tmp_path / "run"))
    assert sr == 22050 and abs(len(audio) / sr - 4.0) < 0.01
    assert 0.9 < np.abs(audio).max() <= 0.951


def test_file_features_of_an_older_step_1_are_read_again_from_the_unchanged_song(
    tmp_path: Path, smoke
) -> None:
    song = _write(testing.make_song("AB"), tmp_path / "s.mid")
    pipeline.analyze_song(song, tmp_path / "run", config=smoke)
    arrays, meta = io.load_step(tmp_path / "run", "step_1")
    full = arrays["file_features"]
    assert full.shape == (len(filestyle.FILE_FEATURES),)
    arrays["file_features"] = full[: filestyle.N_BASIC_FEATURES]  # as step 1 stored them before the traces
    meta = {key: value for key, value in meta.items() if key not in ("created", "versions", "arrays")}
    io.save_step(tmp_path / "run", "step_1", arrays, meta, force=True)
    np.testing.assert_array_equal(pipeline.load_step_1(tmp_path / "run").file_features, full)
    _write(testing.make_song("ABA"), song)  # the song changed since: the stored features stay
    assert len(pipeline.load_step_1(tmp_path / "run").file_features) == filestyle.N_BASIC_FEATURES


def test_existing_results_are_kept_without_force(tmp_path: Path, smoke) -> None:
    song = _write(testing.make_song("AB"), tmp_path / "s.mid")
    pipeline.analyze_song(song, tmp_path / "run", config=smoke)
    before = io.step_path(tmp_path / "run", "step_3").read_bytes()
    with pytest.raises(OutputExistsError, match="--force"):
        pipeline.analyze_song(song, tmp_path / "run", config=smoke)
    assert io.step_path(tmp_path / "run", "step_3").read_bytes() == before
    pipeline.analyze_song(song, tmp_path / "run", config=smoke, force=True)


def test_oracle_needs_drums(tmp_path: Path, smoke) -> None:
    song = _write(testing.make_song("AB", drums=False), tmp_path / "s.mid")
    with pytest.raises(ParameterError, match="drum"):
        pipeline.analyze_song(song, tmp_path / "run", config=smoke, source="oracle")


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda p: p.write_bytes(b""), MidiError, "empty"),
        (lambda p: p.write_text("this is not a MIDI file\n"), MidiError, "not a readable MIDI"),
        (lambda p: testing.empty_song().write(str(p)), MidiError, "no notes"),
        (lambda p: testing.drum_only_song().write(str(p)), MidiError, "only drum"),
        (
            lambda p: p.write_bytes(testing.awkward_midi_files()["3_4_in_mid_bar"]),
            TimeSignatureError,
            r"bar 2 .* is cut short .* by a 3/4 time signature",
        ),
        (
            lambda p: testing.make_song("AB", time_signatures=[(1, 1, 16)]).write(str(p)),
            TimeSignatureError,
            "bar 2 .* 1/16: .* shorter than one beat",
        ),
    ],
    ids=["zero-byte", "not-midi", "no-notes", "drums-only", "meter-in-mid-bar", "one-sixteenth"],
)
def test_bad_inputs_fail_cleanly_and_write_nothing(tmp_path: Path, smoke, make, error, words) -> None:
    path = tmp_path / "bad.mid"
    make(path)
    with pytest.raises(error, match=words) as caught:
        pipeline.analyze_song(path, tmp_path / "run", config=smoke)
    assert "\n" not in str(caught.value)
    assert not any(io.step_path(tmp_path / "run", step).exists() for step in io.STEP_FILES)


def test_missing_soundfont_names_the_package(tmp_path: Path, smoke) -> None:
    song = _write(testing.make_song("AB"), tmp_path / "s.mid")
    config = smoke.replace(render={"soundfont": str(tmp_path / "missing.sf2")})
    with pytest.raises(Exception, match="fluid-soundfont-gm"):
        pipeline.step_1_preprocess(song, tmp_path / "run", config=config)
