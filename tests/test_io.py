"""Run-folder files (drumgen.io): round trips, no overwrite, atomic writes, no pickles."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pytest

import drumgen
from drumgen import io as dio
from drumgen.exceptions import DrumgenError, OutputExistsError, RunFolderError


def _arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "bar_times": np.linspace(0, 16, 9),
        "cqts": rng.uniform(0, 1, size=(8, 84, 96)).astype(np.float32),
        "grids": rng.integers(0, 128, size=(8, 46, 16)).astype(np.uint8),
        "idx": rng.integers(0, 8, size=(8, 7)).astype(np.int64),
        "flags": rng.random(5) < 0.5,
        "scalar": np.array(3.5),
    }


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_save_load_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = _arrays(rng)
    path = dio.save_arrays(tmp_path / "run" / "result", arrays, {"song": "x.mid", "n_bars": 8})
    assert path == tmp_path / "run" / "result.npz"
    loaded, meta = dio.load_arrays(path)
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype, name
        assert loaded[name].shape == array.shape, name
        np.testing.assert_array_equal(loaded[name], array)
    assert meta["song"] == "x.mid"
    assert meta["n_bars"] == 8


def test_sidecar_contents(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = _arrays(rng)
    path = dio.save_arrays(tmp_path / "result.npz", arrays, {"config": {"preset": "smoke"}})
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["config"] == {"preset": "smoke"}
    assert sidecar["versions"]["drumgen"] == drumgen.__version__
    assert "numpy" in sidecar["versions"]
    created = dt.datetime.fromisoformat(sidecar["created"])
    assert created.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 60
    assert sidecar["arrays"]["cqts"] == {"shape": [8, 84, 96], "dtype": "float32"}
    assert sidecar["arrays"]["grids"] == {"shape": [8, 46, 16], "dtype": "uint8"}
    assert sidecar["arrays"]["scalar"] == {"shape": [], "dtype": "float64"}


def test_meta_with_numpy_values_and_paths(tmp_path: Path) -> None:
    meta = {"n": np.int64(3), "x": np.float32(0.5), "list": np.arange(3), "path": Path("a/b.mid")}
    _, loaded = dio.load_arrays(dio.save_arrays(tmp_path / "r", {"a": np.zeros(2)}, meta))
    assert loaded["n"] == 3
    assert loaded["x"] == 0.5
    assert loaded["list"] == [0, 1, 2]
    assert loaded["path"] == "a/b.mid"


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = dio.save_arrays(tmp_path / "r", {"a": np.zeros(3)}, {"v": 1})
    with pytest.raises(OutputExistsError) as info:
        dio.save_arrays(path, {"a": np.ones(3)}, {"v": 2})
    assert str(path) in str(info.value)
    loaded, meta = dio.load_arrays(path)
    np.testing.assert_array_equal(loaded["a"], np.zeros(3))
    assert meta["v"] == 1


def test_overwrites_with_force(tmp_path: Path) -> None:
    path = dio.save_arrays(tmp_path / "r", {"a": np.zeros(3)}, {"v": 1})
    dio.save_arrays(path, {"b": np.ones(2, dtype=np.int16)}, {"v": 2}, force=True)
    loaded, meta = dio.load_arrays(path)
    assert list(loaded) == ["b"]
    assert loaded["b"].dtype == np.int16
    assert meta["v"] == 2
    assert _leftovers(tmp_path) == []


def _boom(*args: object, **kwargs: object) -> None:
    raise OSError("disk full (simulated)")


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dio.np, "savez_compressed", _boom)
    with pytest.raises(OSError, match="simulated"):
        dio.save_arrays(tmp_path / "r", {"a": np.zeros(3)}, {})
    assert not (tmp_path / "r.npz").exists()
    assert _leftovers(tmp_path) == []


def test_failed_overwrite_keeps_old_arrays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = dio.save_arrays(tmp_path / "r", {"a": np.zeros(3)}, {"v": 1})
    monkeypatch.setattr(dio.np, "savez_compressed", _boom)
    with pytest.raises(OSError):
        dio.save_arrays(path, {"a": np.ones(3)}, {"v": 2}, force=True)
    monkeypatch.undo()
    loaded, _ = dio.load_arrays(path)
    np.testing.assert_array_equal(loaded["a"], np.zeros(3))
    assert _leftovers(tmp_path) == []


def test_failed_overwrite_keeps_old_sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = dio.save_arrays(tmp_path / "r", {"a": np.zeros(3)}, {"v": 1})
    monkeypatch.setattr(dio.np, "savez_compressed", _boom)
    with pytest.raises(OSError):
        dio.save_arrays(path, {"b": np.ones((2, 2))}, {"v": 2}, force=True)
    monkeypatch.undo()
    loaded, meta = dio.load_arrays(path)
    assert meta["v"] == 1
    assert set(meta["arrays"]) == set(loaded)


def test_atomic_path_cleans_up_on_error(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    with pytest.raises(RuntimeError), dio.atomic_path(target) as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_file_mode_follows_umask(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    with dio.atomic_path(target) as temporary:
        temporary.write_bytes(b"ok")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert target.read_bytes() == b"ok"


def test_load_missing_raises(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError) as info:
        dio.load_arrays(tmp_path / "nothing.npz")
    assert "nothing.npz" in str(info.value)


def test_load_corrupt_raises(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(rng.integers(0, 256, size=500, dtype=np.uint8).tobytes())
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(RunFolderError):
        dio.load_arrays(path)


def test_load_without_sidecar_raises(tmp_path: Path) -> None:
    path = dio.save_arrays(tmp_path / "r", {"a": np.zeros(3)}, {})
    path.with_suffix(".json").unlink()
    with pytest.raises(RunFolderError):
        dio.load_arrays(path)


def test_load_never_unpickles(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    np.savez(path, a=np.array([{"x": 1}, None], dtype=object), allow_pickle=True)
    (tmp_path / "pickled.json").write_text("{}")
    with pytest.raises(RunFolderError):
        dio.load_arrays(path)


def test_save_refuses_object_arrays(tmp_path: Path) -> None:
    path = tmp_path / "r.npz"
    with contextlib.suppress(ValueError, TypeError, DrumgenError):
        dio.save_arrays(path, {"a": np.array([{"x": 1}, None], dtype=object)}, {})
    assert not path.exists()
    assert _leftovers(tmp_path) == []


def test_step_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = {"melodic_ssm": rng.uniform(0, 1, size=(5, 5)).astype(np.float32)}
    path = dio.save_step(tmp_path, "step_2", arrays, {"source": "x.mid"})
    assert path == dio.step_path(tmp_path, "step_2")
    loaded, meta = dio.load_step(tmp_path, "step_2")
    np.testing.assert_array_equal(loaded["melodic_ssm"], arrays["melodic_ssm"])
    assert meta["step"] == "step_2"
    assert meta["source"] == "x.mid"
    with pytest.raises(RunFolderError):
        dio.load_step(tmp_path, "step_3")


def test_default_run_dir() -> None:
    assert dio.default_run_dir("songs/My Song.mid", runs_dir="out") == Path("out") / "My Song"


def test_file_digest(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert dio.file_digest(path) == "900150983cd24fb0d6963f7d28e17f72"
    assert (
        dio.file_digest(path, "sha256") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


# --- audio --------------------------------------------------------------------------------------


def test_audio_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    audio = rng.uniform(-1, 1, size=22050).astype(np.float32)
    path = dio.save_audio(tmp_path / "a.wav", audio, sr=22050)
    loaded, sr = dio.load_audio(path)
    assert sr == 22050
    assert loaded.dtype == np.float32
    assert loaded.shape == audio.shape
    assert np.max(np.abs(loaded - audio)) <= 1.0 / 32767 + 1e-7


def test_audio_clips_out_of_range(tmp_path: Path) -> None:
    path = dio.save_audio(tmp_path / "a.wav", np.array([-2.0, -1.0, 0.0, 1.0, 3.0]), sr=8000)
    loaded, _ = dio.load_audio(path)
    np.testing.assert_allclose(loaded, [-1.0, -1.0, 0.0, 1.0, 1.0])


def test_audio_refuses_overwrite(tmp_path: Path) -> None:
    path = dio.save_audio(tmp_path / "a.wav", np.zeros(10), sr=8000)
    with pytest.raises(OutputExistsError):
        dio.save_audio(path, np.ones(10) * 0.5, sr=8000)
    dio.save_audio(path, np.ones(10) * 0.5, sr=16000, force=True)
    loaded, sr = dio.load_audio(path)
    assert sr == 16000
    np.testing.assert_allclose(loaded, 0.5, atol=1 / 32767)
    assert _leftovers(tmp_path) == []


def test_load_audio_missing(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError):
        dio.load_audio(tmp_path / "none.wav")


def test_a_killed_writers_temporary_goes_at_the_next_write(tmp_path: Path) -> None:
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its process id now names no running process
    run = tmp_path / "run"
    run.mkdir()
    left = run / f".step_1_bars.npz.{gone.pid}-abcd1234.tmp"
    left.write_bytes(b"")
    alive = run / f".step_1_bars.npz.{os.getpid()}-efgh5678.tmp"  # a writer still at work
    alive.write_bytes(b"")
    other = run / f".step_2_ssm.npz.{gone.pid}-ijkl9012.tmp"  # another file's: left to its own write
    other.write_bytes(b"")
    dio.save_step(run, "step_1", {"a": np.zeros(2)}, {})
    assert not left.exists() and alive.exists() and other.exists()
    assert dio.remove_stale_temporaries(run) == [other]
    old = run / ".step_3.npz.abcdefgh.tmp"  # an older drumgen's name, without a process id
    old.write_bytes(b"")
    assert dio.remove_stale_temporaries(run) == []
    os.utime(old, (0, 0))
    assert dio.remove_stale_temporaries(run) == [old]


def test_a_steps_sidecar_reads_alone_as_load_step_gives_it(tmp_path: Path) -> None:
    dio.save_step(tmp_path, "step_1", {"bar_cqts": np.ones((3, 4))}, {"song": {"name": "tune"}})
    assert dio.load_step_meta(tmp_path, "step_1") == dio.load_step(tmp_path, "step_1")[1]
    assert dio.load_step_meta(tmp_path, "step_1")["song"] == {"name": "tune"}
    with pytest.raises(RunFolderError, match=r"step_2_ssm\.npz not found"):
        dio.load_step_meta(tmp_path, "step_2")
    (tmp_path / "step_1_bars.json").write_text("{not json")
    with pytest.raises(RunFolderError, match="unreadable"):
        dio.load_step_meta(tmp_path, "step_1")
