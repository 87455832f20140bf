"""The studio's work folder: one run folder per uploaded song, named by a random id.

::

    WORK_DIR/
      <32 hex digits>/          a run (secrets.token_hex): never a name the user chose
        input/<name>.mid        the upload, its name reduced to letters, digits, - and _
        step_1 ... step_3       the analysis (drumgen.io's run-folder layout)
        <name>_song.ogg         the song alone
        takes/<n>/              the takes (drumgen.takes)
        studio.json             the run's record: name, takes and their controls

Only paths inside the work folder are ever made or served (:meth:`RunStore.file`); a run id that
is not 32 hex digits names no run. Old runs are removed (:meth:`RunStore.cleanup`).
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from drumgen import io
from drumgen.exceptions import DrumgenError

log = logging.getLogger(__name__)

RUN_ID = re.compile(r"[0-9a-f]{32}")
STATE_FILE = "studio.json"
INPUT_DIR = "input"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_NAME = 60
"""Longest song name kept from an upload's file name (characters)."""


class NoSuchRunError(DrumgenError):
    """The id names no run of the work folder (never made, removed, or not an id)."""


def safe_name(filename: str) -> str:
    """A song name from an upload's file name: its stem, runs of other characters than letters,
    digits, ``-`` and ``_`` made one ``_``, at most :data:`MAX_NAME` characters ("song" if none).

    Examples
    --------
    >>> safe_name("../../My Song (v2).mid")
    'My_Song_v2'
    >>> safe_name("...")
    'song'
    """
    stem = Path(filename.replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return _UNSAFE.sub("_", stem).strip("_")[:MAX_NAME].strip("_") or "song"


class RunStore:
    """The runs of one work folder.

    Parameters
    ----------
    work_dir : str or Path
        Made if missing; resolved to an absolute path once.
    max_runs : int
        Runs kept by :meth:`cleanup` (the newest).
    max_age_hours : float
        Runs older than this are removed by :meth:`cleanup`.
    """

    def __init__(self, work_dir: str | Path, *, max_runs: int, max_age_hours: float) -> None:
        self.work_dir = Path(work_dir).resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.max_runs = max_runs
        self.max_age_hours = max_age_hours

    def create(self) -> tuple[str, Path]:
        """A new, empty run folder: (its id, its path)."""
        while True:
            run_id = secrets.token_hex(16)
            path = self.work_dir / run_id
            try:
                path.mkdir()
            except FileExistsError:
                continue
            return run_id, path

    def path(self, run_id: str) -> Path:
        """The folder of an existing run.

        Raises
        ------
        NoSuchRunError
            If ``run_id`` is not 32 hex digits, or names no run with a record.
        """
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
            raise NoSuchRunError(f"no run {run_id!r}: a run id is 32 hex digits")
        path = self.work_dir / run_id
        if not (path / STATE_FILE).is_file():
            raise NoSuchRunError(f"no run {run_id}: it was never made or has been cleaned up")
        return path

    def remove(self, run_id: str) -> None:
        """Remove a run folder (made by :meth:`create`) and everything in it."""
        if RUN_ID.fullmatch(run_id):
            shutil.rmtree(self.work_dir / run_id, ignore_errors=True)

    def load_state(self, run_id: str) -> dict[str, Any]:
        """The run's record (``studio.json``)."""
        return io.read_json(self.path(run_id) / STATE_FILE)

    def save_state(self, run_id: str, state: dict[str, Any]) -> None:
        """Write the run's record atomically (the run folder must exist)."""
        io.write_json(self.work_dir / run_id / STATE_FILE, state)

    def file(self, run_id: str, *parts: str) -> Path:
        """A file inside a run, refused unless it exists and lies inside the work folder.

        Raises
        ------
        NoSuchRunError
        FileNotFoundError
            If the file is missing, or its path leaves the run folder.
        """
        root = self.path(run_id).resolve()
        path = root.joinpath(*parts).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise FileNotFoundError(f"no file {'/'.join(parts)} in run {run_id}")
        return path

    def run_ids(self) -> list[str]:
        """Ids of the run folders, newest first (by modification time)."""
        entries = [p for p in self.work_dir.iterdir() if p.is_dir() and RUN_ID.fullmatch(p.name)]
        return [p.name for p in sorted(entries, key=lambda p: p.stat().st_mtime, reverse=True)]

    def cleanup(self, *, keep: tuple[str, ...] = ()) -> list[str]:
        """Remove runs older than ``max_age_hours`` and all but the newest ``max_runs``.

        Parameters
        ----------
        keep : tuple of str
            Run ids never removed (e.g. the one being made).

        Returns
        -------
        list of str
            The ids removed.
        """
        removed = []
        now = time.time()
        ids = [run_id for run_id in self.run_ids() if run_id not in keep]
        for rank, run_id in enumerate(ids):
            try:
                age_hours = (now - (self.work_dir / run_id).stat().st_mtime) / 3600
            except FileNotFoundError:
                continue
            if rank + len(keep) >= self.max_runs or age_hours > self.max_age_hours:
                self.remove(run_id)
                removed.append(run_id)
        if removed:
            log.info("removed %d old runs from %s", len(removed), self.work_dir)
        return removed
