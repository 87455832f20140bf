"""The studio's parts without a server or a model: run folders, the job queue, shaping controls,
takes spliced bar by bar, the mix of step 1's render with the drums, and the new io helpers."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from drumgen import io, pipeline, takes
from drumgen.config import load_config
from drumgen.exceptions import OutputExistsError, ParameterError, RunFolderError
from drumgen.mixdown import mix_with_melody, tail_samples
from drumgen.sections import Sections
from drumgen.shaping import Shaping, check_genre
from drumgen.studio.jobs import BusyError, JobQueue
from drumgen.studio.runs import RUN_ID, NoSuchRunError, RunStore, safe_name
from tests.test_cli import help_text_without

# --- run folders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("song.mid", "song"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\My Song (v2).MID", "My_Song_v2"),
        ("..", "song"),
        ("", "song"),
        ("a" * 200 + ".mid", "a" * 60),
        ("späť domov.mid", "sp_domov"),
    ],
)
def test_safe_name_keeps_only_a_plain_stem(filename: str, name: str) -> None:
    assert safe_name(filename) == name


def _store(tmp_path: Path, **kwargs) -> RunStore:
    return RunStore(tmp_path / "work", **{"max_runs": 3, "max_age_hours": 1.0, **kwargs})


def _made(store: RunStore) -> str:
    run_id, _ = store.create()
    store.save_state(run_id, {"name": "song", "takes": []})
    return run_id


def test_runs_have_random_ids_and_records(tmp_path: Path) -> None:
    store = _store(tmp_path)
    ids = {_made(store) for _ in range(3)}
    assert len(ids) == 3 and all(RUN_ID.fullmatch(run_id) for run_id in ids)
    for run_id in ids:
        assert store.path(run_id) == store.work_dir / run_id
        assert store.load_state(run_id)["name"] == "song"


@pytest.mark.parametrize("run_id", ["..", "../work", "0" * 31, "0" * 32 + "/", "ABCDEF" + "0" * 26, "0" * 32])
def test_a_bad_or_unknown_id_names_no_run(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(NoSuchRunError):
        _store(tmp_path).path(run_id)


def test_only_files_inside_the_run_are_given_out(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run_id = _made(store)
    (store.work_dir / run_id / "take.mid").write_bytes(b"MThd")
    (tmp_path / "secret.txt").write_text("no")
    (store.work_dir / run_id / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert store.file(run_id, "take.mid").read_bytes() == b"MThd"
    for parts in (("..", "..", "secret.txt"), ("link.txt",), ("missing.mid",), ("/etc/passwd",)):
        with pytest.raises(FileNotFoundError):
            store.file(run_id, *parts)


def test_cleanup_keeps_the_newest_runs_and_drops_old_ones(tmp_path: Path) -> None:
    store = _store(tmp_path, max_runs=2, max_age_hours=1.0)
    ids = []
    for age_hours in (0.5, 0.4, 0.3, 0.2):  # made oldest first
        run_id = _made(store)
        stamp = time.time() - age_hours * 3600
        os.utime(store.work_dir / run_id, (stamp, stamp))
        ids.append(run_id)
    assert sorted(store.cleanup()) == sorted(ids[:2])
    assert store.run_ids() == [ids[3], ids[2]]
    stamp = time.time() - 2 * 3600
    os.utime(store.work_dir / ids[2], (stamp, stamp))
    assert store.cleanup() == [ids[2]]
    assert store.cleanup(keep=(ids[3],)) == []
    (store.work_dir / "not-a-run").mkdir()
    assert store.cleanup() == [] and (store.work_dir / "not-a-run").is_dir()


# --- the job queue -----------------------------------------------------------------------------


def test_jobs_run_one_at_a_time() -> None:
    queue = JobQueue(8)
    running, most = [0], [0]
    lock = threading.Lock()

    def job() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    threads = [threading.Thread(target=queue.run, args=(job,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1 and queue.pending == 0
    assert queue.run(lambda: 42) == 42


def test_a_full_queue_refuses_at_once_and_frees_after_errors() -> None:
    queue = JobQueue(1)
    release = threading.Event()
    holder = threading.Thread(target=queue.run, args=(lambda: release.wait(10),))
    holder.start()
    while queue.pending < 1:
        time.sleep(0.005)
    started = time.perf_counter()
    with pytest.raises(BusyError, match=r"^busy: 1 jobs are running or waiting \(at most 1\)"):
        queue.run(lambda: None)
    assert time.perf_counter() - started < 1.0
    release.set()
    holder.join()
    with pytest.raises(ZeroDivisionError):
        queue.run(lambda: 1 / 0)
    assert queue.pending == 0 and queue.run(lambda: "free") == "free"
    with pytest.raises(ParameterError):
        JobQueue(0)


# --- shaping -----------------------------------------------------------------------------------


def test_shaping_sets_only_what_it_is_given() -> None:
    config = load_config()
    assert Shaping().apply(config) == config
    shaped = Shaping(
        seed=7, temperature=0.5, variation=0.2, fills=0.0, always_play=True, swing=0.5, humanize=0.3
    )
    got = shaped.apply(config)
    assert (got.generation.seed, got.generation.temperature) == (7, 0.5)
    assert (got.arrangement.variation, got.arrangement.fills, got.arrangement.play_always) == (0.2, 0.0, True)
    assert (got.feel.swing, got.feel.humanize) == (0.5, 0.3)
    assert got.arrangement.contrast == config.arrangement.contrast


def test_shaping_values_are_checked_by_the_config() -> None:
    with pytest.raises(ParameterError, match=r"arrangement.fills must be in \[0, 1\], got 2"):
        Shaping(fills=2).apply(load_config())
    with pytest.raises(ParameterError, match=r"feel\.swing must be 'auto'"):
        Shaping(swing="lots").apply(load_config())
    with pytest.raises(ParameterError, match="unknown genre 'polka'"):
        Shaping(genre="polka")
    with pytest.raises(ParameterError, match="density must be an int"):
        Shaping(density=1.5)  # type: ignore[arg-type]
    assert check_genre("rock") == "rock" and check_genre("unknown") == "unknown"


# --- takes -------------------------------------------------------------------------------------


def _step_4(fill: int, *, n_bars: int = 6, seed: int = 0, density: int = 0) -> pipeline.Step4Result:
    grid = np.full((n_bars, 46, 16), fill, dtype=np.uint8)
    decisions = {name: np.full(n_bars, fill > 50) for name in ("resting", "fills", "crashes")}
    return pipeline.Step4Result(
        run_dir=Path("base"),
        grids={density: grid},
        source="predicted",
        seed=seed,
        decisions={density: decisions},
    )


def test_splice_takes_the_range_from_the_new_drums_only() -> None:
    base, new = _step_4(10, seed=1), _step_4(99, seed=2, density=3)
    spliced = takes.splice_drums(base, new, start=2, stop=4)
    grid = spliced.grids[0]
    assert list(grid[:, 0, 0]) == [10, 10, 99, 99, 10, 10]
    assert list(spliced.decisions[0]["fills"]) == [False, False, True, True, False, False]
    assert spliced.seed == 1 and spliced.run_dir == Path("base")
    assert base.grids[0].max() == 10  # the inputs are not changed


@pytest.mark.parametrize(("start", "stop"), [(3, 3), (-1, 2), (4, 7), (5, 2)])
def test_splice_refuses_a_range_outside_the_song(start: int, stop: int) -> None:
    with pytest.raises(ParameterError, match="not a range of this song's bars 0 to 6"):
        takes.splice_drums(_step_4(1), _step_4(2), start=start, stop=stop)


def test_splice_refuses_drums_of_another_song() -> None:
    with pytest.raises(ParameterError, match="different songs"):
        takes.splice_drums(_step_4(1), _step_4(2, n_bars=5), start=0, stop=2)


def test_section_bars() -> None:
    found = Sections(starts=np.array([0, 4, 10]), labels=("A", "B", "A"), n_bars=12)
    assert [takes.section_bars(found, idx) for idx in range(3)] == [(0, 4), (4, 10), (10, 12)]
    with pytest.raises(ParameterError, match="section 3 does not exist; the song has sections 0 to 2"):
        takes.section_bars(found, 3)


# --- the mix -----------------------------------------------------------------------------------


def test_mix_undoes_the_melody_gain_then_peaks(rng: np.random.Generator) -> None:
    raw_melody = rng.uniform(-0.2, 0.2, 1000).astype(np.float32)
    drums = np.zeros(1200, dtype=np.float32)
    drums[100:110] = 0.3
    gain = 0.95 / float(np.abs(raw_melody).max())
    mix = mix_with_melody(raw_melody * np.float32(gain), drums, melody_gain=gain, peak=0.9)
    expected = drums.copy()
    expected[:1000] += raw_melody
    expected *= 0.9 / np.abs(expected).max()
    assert mix.shape == (1200,) and mix.dtype == np.float32
    np.testing.assert_allclose(mix, expected, atol=1e-6)
    assert np.abs(mix).max() == pytest.approx(0.9)


def test_mix_of_silence_is_silence_and_bad_input_is_refused() -> None:
    silence = np.zeros(10, dtype=np.float32)
    assert not mix_with_melody(silence, silence, melody_gain=1.0, peak=0.95).any()
    with pytest.raises(ParameterError, match="melody_gain must be > 0"):
        mix_with_melody(silence, silence, melody_gain=0.0, peak=0.95)
    with pytest.raises(ParameterError, match="must not be shorter"):
        mix_with_melody(silence, silence[:5], melody_gain=1.0, peak=0.95)
    assert tail_samples(44100) == 44100


# --- io helpers --------------------------------------------------------------------------------


def test_audio_paths_sit_beside_the_midi_files(tmp_path: Path) -> None:
    full, alone = io.output_audio_paths(tmp_path, "song", oracle=False, density=0, format="ogg")
    assert (full.name, alone.name) == ("song_drumgen.ogg", "song_song.ogg")
    full, _ = io.output_audio_paths(tmp_path, "song", oracle=True, density=3, format="flac")
    assert full.name == "song_drumgen_oracle_density+3.flac"
    assert full.with_suffix(".mid") == io.output_midi_paths(tmp_path, "song", oracle=True, density=3)[0]


@pytest.mark.parametrize("fmt", ["flac", "ogg"])
def test_encoded_audio_round_trip(tmp_path: Path, fmt: str) -> None:
    import soundfile

    sr = 22050
    times = np.arange(3 * sr) / sr
    tone = (0.5 * np.sin(2 * np.pi * 440 * times)).astype(np.float32)
    path = io.save_encoded_audio(tmp_path / f"tone.{fmt}", tone, sr=sr, format=fmt, quality=0.5)
    back, back_sr = soundfile.read(path, dtype="float32")
    assert back_sr == sr and back.shape == tone.shape
    if fmt == "flac":
        np.testing.assert_allclose(back, tone, atol=1 / 32767)
    else:
        assert np.corrcoef(back, tone)[0, 1] > 0.99
    with pytest.raises(OutputExistsError, match="already exists"):
        io.save_encoded_audio(path, tone, sr=sr, format=fmt, quality=0.5)
    assert [p.name for p in tmp_path.iterdir()] == [f"tone.{fmt}"]  # no temporaries left


def test_take_dirs_and_linked_analysis(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with pytest.raises(RunFolderError, match="analyse the song"):
        io.link_analysis(run_dir, io.take_dir(run_dir, 1))
    for step in io.ANALYSIS_STEPS:
        io.save_step(run_dir, step, {"x": np.arange(3)}, {})
    io.save_audio(io.melody_audio_path(run_dir), np.zeros(10, dtype=np.float32), sr=8000)
    take = io.link_analysis(run_dir, io.take_dir(run_dir, 2))
    assert take == run_dir / "takes" / "2"
    for step in io.ANALYSIS_STEPS:
        assert os.path.samefile(io.step_path(take, step), io.step_path(run_dir, step))
    np.testing.assert_array_equal(io.load_step(take, "step_3")[0]["x"], np.arange(3))
    for bad in (0, -1, True, "1"):
        with pytest.raises(ParameterError):
            io.take_dir(run_dir, bad)  # type: ignore[arg-type]


def test_audio_and_studio_settings_are_validated() -> None:
    config = load_config()
    assert config.audio.format == "ogg" and config.studio.audio_format == "flac"
    assert config.studio.host == "127.0.0.1"
    for section, fields, message in [
        ("audio", {"format": "mp3"}, "audio.format must be one of ogg, flac"),
        ("audio", {"quality": 1.5}, r"audio.quality must be in \[0, 1\]"),
        ("studio", {"port": 0}, "studio.port must be in 1..65535"),
        ("studio", {"max_pending": 0}, "studio.max_pending must be > 0"),
        ("studio", {"audio_format": "wav"}, "studio.audio_format must be one of"),
    ]:
        with pytest.raises(ParameterError, match=message):
            config.replace(**{section: fields})


def test_serve_help_is_instant_and_shows_the_studio_defaults() -> None:
    text = help_text_without("serve", ("tensorflow", "fastapi", "uvicorn", "librosa"))
    assert "127.0.0.1" in text and "runs/studio" in text and "--max-file-mb" in text
