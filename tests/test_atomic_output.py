"""A song's two MIDI files appear together or not at all, and no temporary outlives the next run.

The writer is killed (SIGKILL, in a forked child) before each of its file operations in turn, and
at random moments of a write loop; errors are injected between the renames. After each, the next
run (:func:`drumgen.io.recover_file_sets`, or step 5 itself) must leave both files of the set, of
one generation, or neither, and no temporary.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from drumgen import io, pipeline
from drumgen.exceptions import ParameterError
from tests.test_midi_out import _drum_notes, assert_passes_through, format_0_song, make_run_folder

COUNTED = ("open", "write", "fsync", "close", "replace", "unlink", "rename", "chmod")
"""The ``os`` functions a kill may land before."""


def _set(folder: Path, tag: str, *, size: int = 4096) -> dict[Path, bytes]:
    return {
        folder / name: f"{tag}:{name}:".encode() + b"x" * size
        for name in ("s_drumgen.mid", "s_drumgen_drums.mid")
    }


def _generations(folder: Path) -> list[str | None]:
    """The tag of each file of the set (None where missing)."""
    return [
        path.read_bytes().split(b":")[0].decode() if path.is_file() else None
        for path in (folder / "s_drumgen.mid", folder / "s_drumgen_drums.mid")
    ]


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _count_operations(monkeypatch: pytest.MonkeyPatch, work: Callable[[], object]) -> int:
    """How many counted ``os`` calls ``work`` makes."""
    calls = []
    for name in COUNTED:
        original = getattr(os, name)

        def counting(*args, _original=original, **kwargs):
            calls.append(1)
            return _original(*args, **kwargs)

        monkeypatch.setattr(os, name, counting)
    work()
    monkeypatch.undo()
    return len(calls)


def _killed_before_operation(n: int, work: Callable[[], object]) -> None:
    """Run ``work`` in a forked child that SIGKILLs itself just before its ``n``-th counted call."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            seen = [0]
            for name in COUNTED:
                original = getattr(os, name)

                def killing(*args, _original=original, **kwargs):
                    if seen[0] == n:
                        os.kill(os.getpid(), signal.SIGKILL)
                    seen[0] += 1
                    return _original(*args, **kwargs)

                setattr(os, name, killing)
            work()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _assert_recoverable(folder: Path, new: str) -> None:
    """Right after a kill: the set is old (or absent), or new files are in place and every one not
    yet in place waits as a ready temporary that the next run renames."""
    tags = _generations(folder)
    if new in tags:
        names = ("s_drumgen.mid", "s_drumgen_drums.mid")
        waiting = [name for name, tag in zip(names, tags, strict=True) if tag != new]
        ready = [t for t in _temporaries(folder) if t.endswith(".drumgen-ready")]
        assert all(any(t.startswith(f".{name}.") for t in ready) for name in waiting)


@pytest.mark.parametrize("old", [False, True], ids=["fresh", "overwrite"])
def test_kill_before_every_operation_leaves_both_or_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: bool
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    n_operations = _count_operations(monkeypatch, lambda: io.write_file_set(_set(tmp_path / "count", "new")))
    assert n_operations >= 12  # 2 x (open, write, fsync, close) + 4 renames
    for n in range(n_operations):
        for path in folder.iterdir():
            path.unlink()
        if old:
            io.write_file_set(_set(folder, "old"))
        _killed_before_operation(n, lambda: io.write_file_set(_set(folder, "new")))
        _assert_recoverable(folder, "new")
        io.recover_file_sets(folder)  # what the next run does first
        tags = _generations(folder)
        assert tags in (["new", "new"], ["old", "old"] if old else [None, None]), (n, tags)
        assert _temporaries(folder) == [], n


def test_kill_at_random_moments_of_a_write_loop(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    rng = np.random.default_rng(7)
    seen = set()
    for _ in range(25):
        pid = os.fork()
        if pid == 0:
            try:
                generation = 0
                while True:
                    generation += 1
                    io.write_file_set(_set(folder, f"g{generation}", size=65536))
            finally:
                os._exit(0)
        time.sleep(float(rng.uniform(0.0, 0.03)))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        io.recover_file_sets(folder)
        tags = _generations(folder)
        assert tags[0] == tags[1], tags
        assert _temporaries(folder) == []
        seen.add(tags[0])
    assert len(seen) > 1, "the kills landed at different moments"


def test_failed_second_rename_removes_the_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for old in (False, True):
        folder = tmp_path / f"out{old}"
        folder.mkdir()
        if old:
            io.write_file_set(_set(folder, "old"))
        replace = os.replace
        calls = []

        def failing(source, target, _replace=replace, _calls=calls):
            _calls.append(target)
            if len(_calls) == 4:  # 2 x partial -> ready, then the first target, then this one
                raise PermissionError("injected")
            return _replace(source, target)

        monkeypatch.setattr(os, "replace", failing)
        with pytest.raises(PermissionError, match="injected"):
            io.write_file_set(_set(folder, "new"))
        monkeypatch.undo()
        assert _generations(folder) == [None, None], "never one file of a set without the other"
        assert _temporaries(folder) == []


def test_failed_write_keeps_the_old_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "out"
    io.write_file_set(_set(folder, "old"))
    fsync = os.fsync
    calls = []

    def failing(handle, _calls=calls):
        _calls.append(handle)
        if len(_calls) == 2:
            raise OSError(28, "No space left on device")
        return fsync(handle)

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(OSError, match="No space"):
        io.write_file_set(_set(folder, "new"))
    monkeypatch.undo()
    assert _generations(folder) == ["old", "old"]
    assert _temporaries(folder) == []


def test_recovery_leaves_a_running_writers_set_alone(tmp_path: Path) -> None:
    token = f"{os.getpid()}-0123abcd"  # this very process: its set may still be in flight
    partial = io.set_temporary_path(tmp_path / "a.mid", token, "partial")
    partial.write_bytes(b"half")
    assert io.recover_file_sets(tmp_path) == []
    assert partial.is_file()


def test_recovery_of_stale_sets_and_old_temporaries(tmp_path: Path) -> None:
    alive = os.getppid()  # a running process that is not this one
    ready = io.set_temporary_path(tmp_path / "a.mid", f"{alive}-0123abcd", "ready")
    ready.write_bytes(b"complete")
    assert io.recover_file_sets(tmp_path) == [], "a live process may still be renaming"
    old = time.time() - io.STALE_SET_SECONDS - 10
    os.utime(ready, (old, old))
    assert io.recover_file_sets(tmp_path) == [tmp_path / "a.mid"]
    assert (tmp_path / "a.mid").read_bytes() == b"complete"
    legacy = tmp_path / ".s_drumgen.mid.k3j_a9zq.tmp"  # what drumgen's atomic_path left before
    legacy.write_bytes(b"")
    unrelated = tmp_path / ".notes.txt.tmp"
    unrelated.write_bytes(b"")
    io.recover_file_sets(tmp_path)
    assert not legacy.exists() and unrelated.exists()
    assert io.recover_file_sets(tmp_path / "missing") == []


def test_a_set_lives_in_one_folder(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="one folder"):
        io.write_file_set({tmp_path / "a" / "x.mid": b"", tmp_path / "b" / "y.mid": b""})


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        (path,) = io.write_file_set({tmp_path / "x.mid": b"data"})
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o640


def test_write_midi_writes_a_pretty_midi(tmp_path: Path) -> None:
    song = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(90, 60, 0.0, 1.0))
    song.instruments.append(piano)
    path = io.write_midi(song, tmp_path / "x.mid")
    assert pretty_midi.PrettyMIDI(str(path)).instruments[0].notes[0].pitch == 60
    assert _temporaries(tmp_path) == []


def test_kill_during_step_5_then_the_next_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real step 5: killed before each file operation, then run again with --force."""
    song_path = tmp_path / "s.mid"
    format_0_song(480).save(song_path)
    run_dir, out = tmp_path / "run", tmp_path / "out"
    make_run_folder(song_path, run_dir)
    n_operations = _count_operations(
        monkeypatch, lambda: pipeline.step_5_write_midi(run_dir, out_dir=tmp_path / "count")
    )
    full, alone = out / "s_drumgen.mid", out / "s_drumgen_drums.mid"
    for n in range(0, n_operations, 2):
        _killed_before_operation(n, lambda: pipeline.step_5_write_midi(run_dir, out_dir=out, force=True))
        if out.is_dir():
            io.recover_file_sets(out)
            assert full.is_file() == alone.is_file(), n
        pipeline.step_5_write_midi(run_dir, out_dir=out, force=True)  # the next run
        assert _temporaries(out) == [], n
        song, merged, drums = (mido.MidiFile(p) for p in (song_path, full, alone))
        assert_passes_through(song, merged, drums, _drum_notes(merged.tracks[0]))


def test_the_output_check_finishes_an_interrupted_set_before_it_checks_names(tmp_path: Path) -> None:
    import subprocess
    import sys

    from drumgen import pipeline
    from drumgen.exceptions import OutputExistsError

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    out = tmp_path / "out"
    out.mkdir()
    song = tmp_path / "song.mid"
    merged, alone = io.output_midi_paths(out, song.stem, oracle=False, density=0)
    for target in (merged, alone):  # killed between the set's two final renames: both ready
        io.set_temporary_path(target, f"{gone.pid}-0123abcd", "ready").write_bytes(b"MThd")
    kw = dict(out_dir=out, run_dir=tmp_path / "run", oracle=False, densities=(0,))
    with pytest.raises(OutputExistsError):
        pipeline.check_generation_outputs(song, force=False, **kw)
    assert merged.exists() and alone.exists(), "the set was completed, so its names are taken"
    assert sorted(p.name for p in out.iterdir()) == sorted([merged.name, alone.name]), "no temporary left"
