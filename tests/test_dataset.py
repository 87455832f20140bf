"""Resuming a dataset build: what is redone and what is not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import build_tiny_dataset


def test_resumed_build_retries_songs_whose_worker_failed(
    tiny_dataset: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    built = tmp_path / "built"
    shutil.copytree(tiny_dataset, built)
    log_path = built / "log.jsonl"
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    failed = next(r for r in records if r["status"] == "ok")
    skipped = next(r for r in records if r["status"] == "skipped")
    (built / "songs" / f"{failed['id']}.npz").unlink()
    failed.update(status="error", reason="worker error", detail="worker could not start: test")
    log_path.write_text("".join(json.dumps(r) + "\n" for r in records))

    summary = build_tiny_dataset(tiny_corpus, built)
    assert summary.n_processed_now == 1, "only the failed song is redone; skipped songs stay skipped"
    assert (built / "songs" / f"{failed['id']}.npz").is_file()
    assert not (built / "songs" / f"{skipped['id']}.npz").exists()
    last = json.loads(log_path.read_text().splitlines()[-1])
    assert last["id"] == failed["id"] and last["status"] == "ok"
