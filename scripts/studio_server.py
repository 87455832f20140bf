"""A `drumgen serve` in a child process on a free port, for scripts/benchmark_studio.py and
scripts/load_studio.py (or the URL of a server already running)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def studio_server(url: str | None, work_dir: Path, *, extra: tuple[str, ...] = ()) -> Iterator[str]:
    """Yield the base URL of a running studio: ``url`` itself, or a new ``drumgen serve`` child
    with its work folder in ``work_dir``, stopped on exit."""
    if url:
        yield url.rstrip("/")
        return
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "drumgen",
        "serve",
        "--port",
        str(port),
        "--work-dir",
        str(work_dir),
        *extra,
    ]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if child.poll() is not None:
                raise SystemExit(f"drumgen serve exited: {child.stderr.read() if child.stderr else ''}")
            try:
                httpx.get(f"{base}/api/info", timeout=1.0).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("drumgen serve did not answer within 120 s") from None
                time.sleep(0.2)
        yield base
    finally:
        child.terminate()
        child.wait(30)
