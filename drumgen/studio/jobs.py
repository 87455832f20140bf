"""One model job at a time: a lock, and a bounded number of jobs admitted to wait for it.

The models, the FluidSynth renderer and the run folders' state are used by one job at a time. A
request that would make more than ``max_pending`` jobs run or wait is refused at once with
:class:`BusyError` (the API answers HTTP 503), so a burst of uploads cannot pile up without bound.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from drumgen.exceptions import DrumgenError, ParameterError

T = TypeVar("T")


class BusyError(DrumgenError):
    """Too many jobs are running or waiting; try again shortly."""


class JobQueue:
    """Run jobs one at a time, at most ``max_pending`` running or waiting.

    Parameters
    ----------
    max_pending : int >= 1
        Jobs admitted at once (one runs, the others wait in arrival order of the lock).
    """

    def __init__(self, max_pending: int) -> None:
        if max_pending < 1:
            raise ParameterError(f"max_pending must be >= 1, got {max_pending}")
        self.max_pending = max_pending
        self._admission = threading.Lock()
        self._work = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Jobs running or waiting now."""
        return self._pending

    def run(self, job: Callable[[], T]) -> T:
        """Run ``job`` when the jobs admitted before it are done; return its result.

        Raises
        ------
        BusyError
            At once, if ``max_pending`` jobs are running or waiting.
        """
        with self._admission:
            if self._pending >= self.max_pending:
                raise BusyError(
                    f"busy: {self._pending} jobs are running or waiting (at most {self.max_pending}); "
                    "try again in a few seconds"
                )
            self._pending += 1
        try:
            with self._work:
                return job()
        finally:
            with self._admission:
                self._pending -= 1
