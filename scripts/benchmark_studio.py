"""Benchmark of the studio: time from upload to first playable audio of a 3-minute song.

    .venv/bin/python scripts/benchmark_studio.py [--repeat 3] [--url http://127.0.0.1:8000]

Starts `drumgen serve` in a child process (or uses the server at --url), warms it with one small
song (TensorFlow's and librosa's first calls), then uploads the 3-minute, four-instrument drumless
song of scripts/benchmark_generation.py --repeat times over HTTP and times, from the start of the
upload:

- the song alone playable: the upload answered (steps 1-3, the song rendered again for listening
  and encoded) and its audio downloaded;
- the song with drums playable: the first take answered (steps 4-5, the drums rendered alone and
  mixed with the song's render, encoded) and its audio downloaded.

Best and median of the runs; measured on this machine, not asserted by any test.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from studio_server import studio_server

from drumgen import testing

TIMEOUT = httpx.Timeout(300.0)


def three_minute_song() -> bytes:
    """90 bars at 120 bpm: ABACBA, 15 bars per section, piano, bass, guitar and strings, no drums."""
    return testing.make_song_bytes(
        "ABACBA", bars_per_section=15, tempo=120.0, drums=False, parts=("piano", "bass", "guitar", "strings")
    )


def one_run(client: httpx.Client, base: str, song: bytes) -> dict[str, float]:
    """Seconds from the upload's start to each audio being in hand."""
    started = time.perf_counter()
    answer = client.post(f"{base}/api/runs", params={"name": "three_minutes.mid"}, content=song)
    answer.raise_for_status()
    run = answer.json()
    analysed = time.perf_counter()
    client.get(f"{base}{run['song_audio']}").raise_for_status()
    song_playable = time.perf_counter()
    take = client.post(f"{base}/api/runs/{run['id']}/takes", json={"seed": 0})
    take.raise_for_status()
    drummed = time.perf_counter()
    audio = client.get(f"{base}{take.json()['urls']['audio']}")
    audio.raise_for_status()
    drums_playable = time.perf_counter()
    return {
        "upload -> analysed (steps 1-3 + song audio)": analysed - started,
        "upload -> song alone playable": song_playable - started,
        "take: steps 4-5 + drums audio": drummed - song_playable,
        "upload -> song with drums playable": drums_playable - started,
        "audio size, MB": len(audio.content) / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="uploads of the 3-minute song (default: 3)")
    parser.add_argument("--url", help="a running studio (default: start one)")
    args = parser.parse_args()
    song = three_minute_song()
    with (
        tempfile.TemporaryDirectory() as scratch,
        studio_server(args.url, Path(scratch) / "work") as base,
        httpx.Client(timeout=TIMEOUT) as client,
    ):
        warm = testing.make_song_bytes("ABAB", bars_per_section=2, drums=False)
        run = client.post(f"{base}/api/runs", params={"name": "warm.mid"}, content=warm).json()
        client.post(f"{base}/api/runs/{run['id']}/takes", json={}).raise_for_status()
        runs = [one_run(client, base, song) for _ in range(args.repeat)]
    print(f"3-minute (90-bar, 180 s), four-instrument song; server warm; {args.repeat} uploads over HTTP")
    print(f"{'':<46}{'best':>8}{'median':>8}")
    for name in runs[0]:
        values = [run[name] for run in runs]
        print(f"{name:<46}{min(values):>8.2f}{statistics.median(values):>8.2f}")


if __name__ == "__main__":
    main()
