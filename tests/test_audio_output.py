"""`drumgen generate --audio`: the song alone and the song with its drums as audio beside the MIDI
files, nothing overwritten without --force; the mix of step 1's render with the drums rendered
alone sounds as the whole merged file rendered at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgen import io, midi, pipeline, testing
from drumgen.cli import main
from drumgen.mixdown import tail_samples
from drumgen.synth import Renderer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    song = folder / "tune.mid"
    song.write_bytes(
        testing.make_song_bytes("ABAC", bars_per_section=2, drums=False, parts=("piano", "bass"))
    )
    args = [str(song), "--audio", "-o", str(folder / "out"), "--runs-dir", str(folder / "runs"), "--no-plot"]
    assert main(["generate", *args]) == 0
    return folder


def test_generate_audio_writes_the_song_with_and_without_drums(generated: Path) -> None:
    out = generated / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "tune_drumgen.mid",
        "tune_drumgen.ogg",
        "tune_drumgen_drums.mid",
        "tune_song.ogg",
    ]
    step_1 = pipeline.load_step_1(generated / "runs" / "tune")
    seconds = float(step_1.bar_times[-1])
    # step 1 analysed a 22.05 kHz render; the song was rendered again at 44.1 kHz, beside steps 1-5
    assert io.audio_sample_rate(io.melody_audio_path(generated / "runs" / "tune")) == 22050
    assert io.audio_sample_rate(io.listening_melody_path(generated / "runs" / "tune", 44100)) == 44100
    with_drums, sr = soundfile.read(out / "tune_drumgen.ogg", dtype="float32")
    alone, _ = soundfile.read(out / "tune_song.ogg", dtype="float32")
    assert sr == 44100
    assert len(alone) / sr == pytest.approx(seconds, abs=0.01)
    assert len(with_drums) / sr == pytest.approx(seconds + 1.0, abs=0.01)
    assert 0.8 < np.abs(with_drums).max() < 1.0
    # the drums add energy where the song alone is quiet: the two differ clearly
    assert np.sqrt(np.mean((with_drums[: len(alone)] - alone) ** 2)) > 0.01


def test_generate_audio_overwrites_nothing_without_force(generated: Path, capsys) -> None:
    out = generated / "out"
    for name in ("tune_drumgen.mid", "tune_drumgen_drums.mid"):
        (out / name).unlink()
    before = (out / "tune_drumgen.ogg").read_bytes()
    song = generated / "tune.mid"
    args = [str(song), "--audio", "-o", str(out), "--runs-dir", str(generated / "runs"), "--no-plot"]
    assert main(["generate", *args]) == 1
    assert "tune_drumgen.ogg already exists; pass --force" in capsys.readouterr().err
    assert (out / "tune_drumgen.ogg").read_bytes() == before
    assert not (out / "tune_drumgen.mid").exists()  # refused before any work
    assert main(["generate", *args, "--force"]) == 0
    assert (out / "tune_drumgen.mid").is_file()


def test_the_mix_sounds_as_the_whole_file_rendered(generated: Path) -> None:
    run_dir = generated / "runs" / "tune"
    full, drums = io.output_midi_paths(generated / "out", "tune", oracle=False, density=0)
    config = pipeline.config_from_dict(io.load_step(run_dir, "step_4")[1]["config"])
    with Renderer.from_config(config.render, sample_rate=config.audio.sample_rate) as renderer:
        mixed = pipeline.render_with_drums(run_dir, full, drums, renderer=renderer, config=config)
        whole = renderer.render(
            midi.read_midi(full), duration=len(mixed) / renderer.sr, peak=config.render.peak
        )
    assert mixed.shape == whole.shape
    assert np.corrcoef(mixed, whole)[0, 1] > 0.999
    # over the song; in the 1 s tail the mix lacks the release of notes still sounding at the
    # song's end (step 1 renders up to the last bar line)
    song = len(mixed) - tail_samples(renderer.sr)
    error = mixed[:song] - whole[:song]
    assert np.abs(error).max() < 0.03  # measured 0.018 on this song (peak 0.95)
    assert np.sqrt(np.mean(error**2) / np.mean(whole[:song] ** 2)) < 0.01
