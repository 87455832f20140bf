"""The studio's HTTP API through FastAPI's test client, with the shipped models and songs made in
code: upload, takes, section and bar-range regeneration, audio, downloads, bad uploads, the busy
answer and path safety."""

from __future__ import annotations

import io as _io
import threading
import time

import mido
import numpy as np
import pytest
import soundfile

from drumgen import io, pipeline, testing
from drumgen.config import load_config
from drumgen.studio.app import create_app
from drumgen.studio.server import create_studio

pytestmark = pytest.mark.slow

fastapi_testclient = pytest.importorskip("fastapi.testclient")


@pytest.fixture(scope="module")
def models():
    from drumgen.model.bundle import load_models

    return load_models()


@pytest.fixture(scope="module")
def song_bytes() -> bytes:
    """An 8-bar drumless song, A B in four-bar sections, 120 bpm (16 s): two sections found."""
    return testing.make_song_bytes("AB", bars_per_section=4, parts=("piano", "bass"), drums=False)


@pytest.fixture(scope="module")
def studio(models, tmp_path_factory):
    made = create_studio(tmp_path_factory.mktemp("work"), models=models, max_takes=3)
    yield made
    made.close()


@pytest.fixture(scope="module")
def client(studio):
    return fastapi_testclient.TestClient(create_app(studio))


@pytest.fixture(scope="module")
def run(client, song_bytes) -> dict:
    answer = client.post("/api/runs?name=My Song (2).mid", content=song_bytes)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def first_take(client, run) -> dict:
    answer = client.post(f"/api/runs/{run['id']}/takes", json={"seed": 3, "variation": 0.3})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _runs(studio) -> list[str]:
    return sorted(p.name for p in studio.store.work_dir.iterdir())


def _decoded_seconds(data: bytes) -> float:
    audio, sr = soundfile.read(_io.BytesIO(data))
    return len(audio) / sr


def test_upload_analyses_the_song(run, studio) -> None:
    assert len(run["id"]) == 32 and run["name"] == "My_Song_2"
    assert run["n_bars"] == 8 and len(run["bar_times"]) == 9
    assert run["bar_times"][-1] == pytest.approx(16.0, abs=0.01)
    melodic = np.array(run["ssms"]["melodic"])
    predicted = np.array(run["ssms"]["predicted"])
    assert melodic.shape == predicted.shape == (8, 8)
    assert np.allclose(np.diag(melodic), 0) and np.allclose(melodic, melodic.T)
    assert run["sections"] == {"starts": [0, 4], "ends": [4, 8], "labels": ["A", "B"]}
    assert {note[2] for note in run["notes"]}  # the song's pitches, drawn in the piano roll
    assert (studio.store.work_dir / run["id"] / "input" / "My_Song_2.mid").is_file()


def test_song_alone_audio_lasts_as_long_as_the_song(client, run) -> None:
    answer = client.get(run["song_audio"])
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/flac"
    assert _decoded_seconds(answer.content) == pytest.approx(16.0, abs=0.05)


def test_take_has_drums_audio_and_midi(client, run, first_take) -> None:
    assert first_take["id"] == 1 and first_take["shaping"]["seed"] == 3
    assert len(first_take["hits"]) > 8 * 4  # at least a hit per beat
    assert all(0 <= hit[0] < 16.5 and hit[3] >= -1 for hit in first_take["hits"])
    audio = client.get(first_take["urls"]["audio"])
    assert audio.status_code == 200
    assert _decoded_seconds(audio.content) == pytest.approx(16.0 + 1.0, abs=0.05)  # the song + a 1 s tail
    merged = client.get(first_take["urls"]["midi"])
    assert merged.status_code == 200 and merged.headers["content-type"] == "audio/midi"
    assert 'filename="My_Song_2_drumgen_take1.mid"' in merged.headers["content-disposition"]
    song = mido.MidiFile(file=_io.BytesIO(merged.content))
    channels = {m.channel for track in song.tracks for m in track if m.type == "note_on" and m.velocity}
    assert 9 in channels and len(channels) >= 3  # the drums on channel 10 and the song's two parts
    drums = mido.MidiFile(file=_io.BytesIO(client.get(first_take["urls"]["drums"]).content))
    assert {m.channel for track in drums.tracks for m in track if m.type == "note_on"} == {9}


def test_take_view_lists_the_hits_of_its_drums_file(client, run, first_take) -> None:
    again = client.get(f"/api/runs/{run['id']}/takes/1").json()
    assert again["hits"] == first_take["hits"]
    assert client.get(f"/api/runs/{run['id']}").json()["takes"][0]["id"] == 1


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _grid(studio, run_id: str, take_idx: int) -> np.ndarray:
    step_4 = pipeline.load_step_4(io.take_dir(studio.store.work_dir / run_id, take_idx))
    return next(iter(step_4.grids.values()))


def test_regenerate_a_section_keeps_the_other_bars(client, studio, run, first_take) -> None:
    answer = client.post(f"/api/runs/{run['id']}/takes/1/regenerate", json={"section": 1, "seed": 11})
    assert answer.status_code == 201, answer.text
    take = answer.json()
    start, stop = run["sections"]["starts"][1], run["sections"]["ends"][1]
    assert take["bars"] == [start, stop] and take["base"] == 1
    base, new = _grid(studio, run["id"], 1), _grid(studio, run["id"], take["id"])
    outside = np.r_[0:start, stop:8]
    assert np.array_equal(base[outside], new[outside])
    assert not np.array_equal(base[start:stop], new[start:stop])
    take_dir = io.take_dir(studio.store.work_dir / run["id"], take["id"])
    redraw = io.load_step(take_dir, "step_4")[1]["regenerated"][-1]
    assert redraw["seed"] == 11 and redraw["start"] == start and redraw["temperature"] >= 1.0


def test_regenerate_a_bar_range(client, studio, run, first_take) -> None:
    answer = client.post(f"/api/runs/{run['id']}/takes/1/regenerate", json={"start": 6, "stop": 8, "seed": 5})
    assert answer.status_code == 201, answer.text
    take = answer.json()
    assert take["bars"] == [6, 8]
    assert np.array_equal(_grid(studio, run["id"], 1)[:6], _grid(studio, run["id"], take["id"])[:6])


def test_bad_regenerate_requests_are_refused(client, run, first_take) -> None:
    url = f"/api/runs/{run['id']}/takes/1/regenerate"
    assert "not a range" in client.post(url, json={"start": 5, "stop": 99}).json()["error"]
    assert "section 42 does not exist" in client.post(url, json={"section": 42}).json()["error"]
    assert client.post(url, json={}).status_code == 400
    missing = client.post(f"/api/runs/{run['id']}/takes/77/regenerate", json={"section": 0})
    assert missing.status_code == 404
    assert missing.json()["error"].startswith("no take 77 in this run (kept: 1")


def test_a_control_out_of_range_gets_the_config_message(client, run) -> None:
    answer = client.post(f"/api/runs/{run['id']}/takes", json={"variation": 1.5})
    assert answer.status_code == 400
    assert answer.json()["error"] == "arrangement.variation must be in [0, 1], got 1.5"
    assert (
        "unknown genre 'polka'" in client.post(f"/api/runs/{run['id']}/takes", json={"genre": "polka"}).text
    )
    assert client.post(f"/api/runs/{run['id']}/takes", json={"density": "many"}).status_code == 400


def test_only_the_last_takes_are_kept(models, song_bytes, tmp_path) -> None:
    studio = create_studio(tmp_path / "work", models=models, max_takes=2)
    client = fastapi_testclient.TestClient(create_app(studio))
    run_id = client.post("/api/runs", content=song_bytes).json()["id"]
    ids = [client.post(f"/api/runs/{run_id}/takes", json={}).json()["id"] for _ in range(3)]
    assert ids == [1, 2, 3]
    kept = client.get(f"/api/runs/{run_id}").json()["takes"]
    assert [take["id"] for take in kept] == [2, 3]
    assert len({take["shaping"]["seed"] for take in kept}) == 2  # no seed: each take draws its own
    assert not io.take_dir(tmp_path / "work" / run_id, 1).exists()
    assert client.get(f"/api/runs/{run_id}/takes/1").status_code == 404
    assert client.get(f"/api/runs/{run_id}/takes/1/midi").status_code == 404
    studio.close()


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"", 400, "bad.mid: the file is empty (0 bytes), expected a standard MIDI file"),
        (b"RIFF not a song at all", 400, "bad.mid: not a readable MIDI file"),
        (b"\0" * 4_000_001, 413, "bad.mid: the file holds 4.0 MB, beyond the limit of 4 MB"),
        ("drums only", 400, "bad.mid: the MIDI file has only drum notes, expected melodic instruments too"),
    ],
)
def test_bad_uploads_get_their_message_and_leave_no_run(client, studio, content, status, message) -> None:
    if content == "drums only":
        full = testing.make_song("AB", parts=("piano",), drums=True)
        full.instruments = [inst for inst in full.instruments if inst.is_drum]
        buffer = _io.BytesIO()
        full.write(buffer)
        content = buffer.getvalue()
    before = _runs(studio)
    answer = client.post("/api/runs?name=bad.mid", content=content)
    assert answer.status_code == status
    assert answer.json()["error"].startswith(message)
    assert str(studio.store.work_dir) not in answer.json()["error"]  # no server path in the message
    assert _runs(studio) == before


def test_a_song_beyond_a_limit_is_refused_with_the_flag_to_raise_it(models, tmp_path) -> None:
    studio = create_studio(tmp_path / "work", models=models, limits={"max_bars": 4})
    client = fastapi_testclient.TestClient(create_app(studio))
    answer = client.post("/api/runs?name=long.mid", content=testing.make_song_bytes("ABABCA", drums=False))
    assert answer.status_code == 413 and "--max-bars" in answer.json()["error"]
    assert list((tmp_path / "work").iterdir()) == []
    studio.close()


def test_a_bundled_example_can_be_drummed(client) -> None:
    info = client.get("/api/info").json()
    assert "example_pop_aabacb.mid" in info["examples"]
    preset = load_config("default").arrangement
    assert info["defaults"]["variation"] == preset.variation and "rock" in info["genres"]
    answer = client.post("/api/examples/example_pop_aabacb.mid")
    assert answer.status_code == 201 and answer.json()["n_bars"] == 24
    assert client.post("/api/examples/..%2Fdrumgen%2Fcli.py").status_code == 404


def test_a_full_queue_answers_busy(models, song_bytes, tmp_path) -> None:
    studio = create_studio(tmp_path / "work", models=models, max_pending=2)
    client = fastapi_testclient.TestClient(create_app(studio))
    release = threading.Event()
    holder = threading.Thread(target=studio.queue.run, args=(lambda: release.wait(30),))
    waiter = threading.Thread(target=studio.queue.run, args=(lambda: None,))
    holder.start()  # holds the model ...
    _wait_for(lambda: studio.queue.pending == 1)
    waiter.start()  # ... and a second job waits for it: the queue (2) is full
    _wait_for(lambda: studio.queue.pending == 2)
    answer = client.post("/api/runs?name=s.mid", content=song_bytes)
    assert answer.status_code == 503
    assert answer.json()["error"].startswith("busy: 2 jobs are running or waiting")
    assert answer.headers["retry-after"] == "5"
    assert list((tmp_path / "work").iterdir()) == []
    release.set()
    for thread in (holder, waiter):
        thread.join()
    assert client.post("/api/runs?name=s.mid", content=song_bytes).status_code == 201  # free again
    studio.close()


def test_concurrent_takes_do_not_corrupt_the_run(client, studio, run, first_take) -> None:
    answers: list[int] = []

    def take(seed: int) -> None:
        answers.append(client.post(f"/api/runs/{run['id']}/takes", json={"seed": seed}).status_code)

    threads = [threading.Thread(target=take, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201, 201, 201]
    state = client.get(f"/api/runs/{run['id']}").json()
    ids = [take["id"] for take in state["takes"]]
    assert len(ids) == 3 and len(set(ids)) == 3  # max_takes 3: the newest three, each once
    for take_idx in ids:
        assert client.get(f"/api/runs/{run['id']}/takes/{take_idx}/midi").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/..%2F..%2Fetc%2Fpasswd",
        "/api/runs/0123456789abcdef0123456789abcdef",
        "/api/runs/{run}/takes/1/..%2F..%2Fstudio.json",
        "/api/runs/{run}/takes/1/step_4_drums.npz",
        "/api/runs/{run}/takes/..%2F1/midi",
        "/static/..%2F..%2Fcli.py",
    ],
)
def test_nothing_outside_a_run_is_served(client, run, first_take, path: str) -> None:
    answer = client.get(path.format(run=run["id"]))
    assert answer.status_code in (404, 400, 422)
    assert b"[global]" not in answer.content and b"def main" not in answer.content


def test_the_page_and_its_scripts_are_served(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "drumgen studio" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from the internet
    for name in ("studio.js", "studio.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_uploads_write_nothing_outside_the_work_dir(models, song_bytes, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outside").mkdir()
    studio = create_studio(tmp_path / "work", models=models)
    client = fastapi_testclient.TestClient(create_app(studio))
    run_id = client.post("/api/runs", content=song_bytes).json()["id"]
    client.post(f"/api/runs/{run_id}/takes", json={})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "work"]
    assert list((tmp_path / "outside").iterdir()) == []
    studio.close()


def test_a_take_that_fails_leaves_no_folder_and_no_record(
    client, studio, run, first_take, monkeypatch
) -> None:
    from drumgen.exceptions import SynthError
    from drumgen.studio import service

    def broken(run_dir, take_dir, **kwargs):
        (take_dir / "half").mkdir(parents=True)
        raise SynthError("FluidSynth could not load the soundfont")

    before = client.get(f"/api/runs/{run['id']}").json()["takes"]
    monkeypatch.setattr(service.takes, "make_take", broken)
    answer = client.post(f"/api/runs/{run['id']}/takes", json={})
    assert answer.status_code == 400 and answer.json()["error"] == "FluidSynth could not load the soundfont"
    assert client.get(f"/api/runs/{run['id']}").json()["takes"] == before
    kept = {str(take["id"]) for take in before}
    assert {p.name for p in (studio.store.work_dir / run["id"] / "takes").iterdir()} == kept
