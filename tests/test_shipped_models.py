"""The models shipped in drum_generator_model/: intact, trained as documented, and they drum
the bundled example song along its form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from drumgen import dataset, io, metrics, pipeline, testing
from drumgen.cli import main
from drumgen.config import config_from_dict, load_config
from drumgen.model.bundle import Models, analysis_rate_of, load_models

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[1] / "input_midi" / "example_pop_aabacb.mid"


@pytest.fixture(scope="module")
def shipped() -> Models:
    return load_models()  # checks each model's format version and weights checksum


def test_shipped_models_load_with_the_documented_sizes(shipped: Models) -> None:
    assert shipped.require("vae").count_params() == 2_314_145
    assert shipped.require("vae").conditioning.meter_columns, "the shipped VAE writes other meters itself"
    assert shipped.require("vae").conditioning.song_context, "the shipped VAE hears the whole song's parts"
    assert shipped.require("ssm_generator").count_params() == 29_953


def test_shipped_models_record_their_training(shipped: Models) -> None:
    for meta in (shipped.require("vae_meta"), shipped.require("ssm_meta")):
        training = meta["training"]
        assert training["n_train_songs"] >= 1000
        assert meta["data"]["train"]["split"] == "train"
        assert meta["data"]["validation"]["split"] == "validation"
    assert shipped.require("vae_meta")["config"]["generation"]["decode"] in ("count", "threshold")
    drummer_meta = io.read_json(io.DEFAULT_MODEL_DIR / io.DRUMMER_SUBDIR / "config.json")
    assert drummer_meta["data"]["train"]["split"] == "train", "the drummer tables come from training songs"
    assert drummer_meta["info"]["n_songs"] >= 1000


def test_shipped_models_analyse_songs_like_the_default_preset(shipped: Models) -> None:
    """A song analysed with the default preset gives the CQT frames the shipped models were trained
    on: they learned from 44.1 kHz renders with a hop of 256, the preset renders at 22.05 kHz with
    a hop of 128 (:func:`drumgen.model.bundle.analysis_rate_of`); everything else is the same."""
    preset = load_config("default")
    default = dataset.data_settings(preset.to_dict())
    assert dataset.data_settings(shipped.config.to_dict()) == default
    for meta in (shipped.require("vae_meta"), shipped.require("ssm_meta")):
        saved = config_from_dict(meta["config"])
        assert (saved.render.sample_rate, saved.features.hop_length) == (44100, 256)
        assert dataset.data_settings(saved.replace(**analysis_rate_of(saved, preset)).to_dict()) == default


def test_example_song_gets_drums_that_follow_its_form(tmp_path: Path, shipped: Models) -> None:
    result = pipeline.generate_song(
        EXAMPLE, out_dir=tmp_path / "out", run_dir=tmp_path / "run", models=shipped
    )
    step_1 = result.analysis.step_1
    generated = result.step_4.grids[0]
    assert step_1.drum_grids is not None
    n_bars = len(step_1.drum_grids)
    assert generated.shape == (n_bars, 46, 16)
    assert metrics.empty_bar_rate(generated) <= 0.1, "almost every bar is drummed"
    # The generated drums' self-similarity follows the song's real drums: their bars, in the
    # song's order, agree with the real drum SSM better than 95 % of random orders of them.
    observed = metrics.ssm_pearson(generated, step_1.drum_grids)
    rng = np.random.default_rng(0)
    shuffled = [
        metrics.ssm_pearson(generated[rng.permutation(n_bars)], step_1.drum_grids) for _ in range(200)
    ]
    assert observed > np.quantile(shuffled, 0.95)
    full_path, drums_path = result.step_5.files[0]
    written = pretty_midi.PrettyMIDI(str(drums_path))
    assert [inst.is_drum for inst in written.instruments] == [True]
    assert len(written.instruments[0].notes) == int((generated > 0).sum())
    song = pretty_midi.PrettyMIDI(str(full_path))
    assert sum(inst.is_drum for inst in song.instruments) == 1


def test_same_seed_same_drums(tmp_path: Path, shipped: Models) -> None:
    grids = [
        pipeline.generate_song(
            EXAMPLE, out_dir=tmp_path / f"out{i}", run_dir=tmp_path / f"run{i}", models=shipped, seed=7
        ).step_4.grids[0]
        for i in range(2)
    ]
    np.testing.assert_array_equal(grids[0], grids[1])
    assert io.DEFAULT_MODEL_DIR.is_dir()


def test_the_example_songs_drums_are_unchanged(tmp_path: Path) -> None:
    """The drum notes written for input_midi/*.mid (seeded) are those recorded in
    tests/data/example_drums.json (rewritten when the example songs in 3/4, 6/8 and 4/4 with a
    pickup and a 2/4 bar were added; rewrite it with scripts/example_drum_digests.py when the drums
    change on purpose)."""
    record = io.read_json(Path(__file__).parent / "data" / "example_drums.json")
    songs = sorted(str(path) for path in EXAMPLE.parent.glob("*.mid"))
    for name, options in record["settings"].items():
        out = tmp_path / name
        args = ["generate", *songs, "-o", str(out), "--runs-dir", str(tmp_path / "runs"), "--no-plot"]
        assert main([*args, "--force", *options]) == 0
        found = {
            path.name: {"n_notes": len(testing.drum_notes(path)), "sha256": testing.drum_notes_digest(path)}
            for path in sorted(out.glob("*_drums.mid"))
        }
        assert found == record["digests"][name], name


def test_the_study_scripts_arrange_a_waltz_as_step_4_writes_it(shipped: Models) -> None:
    """generation.stored_arrangement (what the tuning and study scripts score) gives the drums step 4
    gives, in every meter: a waltz's bars as the VAE wrote them, in 12 steps."""
    from drumgen import generation
    from drumgen.songdata import SongData

    rng = np.random.default_rng(3)
    n_bars = 24
    section = rng.integers(0, 256, (4, 84, 96))  # a 4-bar phrase repeated, with a little noise
    cqts = np.clip(np.tile(section, (n_bars // 4, 1, 1)) + rng.integers(-8, 9, (n_bars, 84, 96)), 0, 255)
    onsets = np.zeros((n_bars, 5, 16), np.uint8)
    onsets[:, :, [0, 4, 8]] = rng.random((n_bars, 5, 3)) < 0.8  # the parts on the waltz's beats
    song = SongData(
        "waltz",
        "pop",
        {
            "bar_cqts": cqts.astype(np.uint8),
            "bar_tempos": np.full(n_bars, 100.0, np.float32),
            "part_onsets": onsets,
            "bar_meters": np.tile(np.array([[3, 4]], np.int16), (n_bars, 1)),
            "melodic_ssm": np.abs(np.subtract.outer(np.arange(n_bars) % 4, np.arange(n_bars) % 4)) / 4.0,
            "drum_ssm": np.zeros((n_bars, n_bars)),
        },
    )
    config = shipped.config
    stored = generation.stored_predictions(
        song, ssm_generator=shipped.ssm_generator, vae=shipped.vae, config=config
    )
    chosen, found = stored.chosen, stored.sections
    predicted = stored.predicted
    assert predicted.written_steps.tolist() == [12] * n_bars and not predicted.written_compound.any()
    arranged = generation.stored_arrangement(stored, drummer=shipped.drummer, config=config)
    step_4 = generation.drums(
        song.arrays["bar_cqts"],
        song.arrays["bar_tempos"],
        chosen,
        found,
        vae=shipped.vae,
        drummer=shipped.drummer,
        config=config,
        part_onsets=song.arrays["part_onsets"],
        drum_ssm=stored.ssms.predicted,
        seed=0,
        genre="pop",
        meter=song.meter,
    )
    assert arranged.grid.shape == (n_bars, 46, 16) and arranged.grid.any()
    assert not arranged.grid[:, :, 12:].any(), "nothing past the waltz bar's third beat"
    np.testing.assert_array_equal(arranged.grid, step_4.grids[0])
