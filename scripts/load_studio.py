"""Load test of the studio: many concurrent uploads, each answered or told "busy", the server up.

    .venv/bin/python scripts/load_studio.py [--uploads 20] [--workers 20] [--url http://127.0.0.1:8000]

Starts `drumgen serve` in a child process (or uses the server at --url) and sends --uploads
uploads of a 16-bar drumless song from a bounded pool of --workers threads at once. Each upload
must be analysed (HTTP 201) or refused with the queue's "busy" answer (HTTP 503 with Retry-After);
anything else counts as a failure. Afterwards the server must still answer (/api/info, and one
more upload and take). Prints the counts and latencies; exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from studio_server import studio_server

from drumgen import testing

TIMEOUT = httpx.Timeout(300.0)


def upload(base: str, song: bytes, idx: int) -> tuple[int, float, str]:
    """(status, seconds, error line or "") of one upload."""
    started = time.perf_counter()
    with httpx.Client(timeout=TIMEOUT) as client:
        answer = client.post(f"{base}/api/runs", params={"name": f"load_{idx}.mid"}, content=song)
    seconds = time.perf_counter() - started
    error = "" if answer.status_code == 201 else answer.json().get("error", answer.text)
    if answer.status_code == 503 and "retry-after" not in answer.headers:
        error = "503 without Retry-After"
    return answer.status_code, seconds, error


def _summary(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    return f"median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=20, help="uploads in all (default: 20)")
    parser.add_argument("--workers", type=int, default=20, help="uploads in flight at once (default: 20)")
    parser.add_argument("--url", help="a running studio (default: start one)")
    args = parser.parse_args()
    song = testing.make_song_bytes("ABAC", bars_per_section=4, drums=False, parts=("piano", "bass", "guitar"))
    with tempfile.TemporaryDirectory() as scratch, studio_server(args.url, Path(scratch) / "work") as base:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(lambda idx: upload(base, song, idx), range(args.uploads)))
        wall = time.perf_counter() - started
        with httpx.Client(timeout=TIMEOUT) as client:
            alive = client.get(f"{base}/api/info").status_code == 200
            run = client.post(f"{base}/api/runs", params={"name": "after.mid"}, content=song)
            take = (
                client.post(f"{base}/api/runs/{run.json()['id']}/takes", json={})
                if run.status_code == 201
                else run
            )
            alive = alive and run.status_code == 201 and take.status_code == 201
    counts = Counter(status for status, _, _ in results)
    ok = [seconds for status, seconds, _ in results if status == 201]
    busy = [seconds for status, seconds, error in results if status == 503 and error.startswith("busy")]
    failures = [
        (status, error)
        for status, _, error in results
        if status != 201 and not (status == 503 and error.startswith("busy"))
    ]
    print(f"{args.uploads} uploads of a 16-bar song, {args.workers} at once, in {wall:.1f} s")
    print(f"  analysed (201): {len(ok):>3}   {_summary(ok)}")
    print(f"  busy (503):     {len(busy):>3}   {_summary(busy)}")
    print(f"  other:          {len(failures):>3}   {failures[:3] if failures else ''}")
    print(f"  status counts: {dict(sorted(counts.items()))}")
    if busy:
        example = next(error for status, _, error in results if status == 503)
        print(f"  busy answer: {example!r}")
    print(f"  server still up afterwards (info, upload, take): {'yes' if alive else 'NO'}")
    return 0 if alive and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
