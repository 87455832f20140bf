"""The studio's HTTP API and page (FastAPI): thin routes over :class:`~drumgen.studio.service.Studio`.

::

    GET  /                                  the page (static/index.html)
    GET  /api/info                          limits, genres, control defaults, bundled examples
    POST /api/runs?name=FILE.mid            upload (the request body is the MIDI file): steps 1-3
    POST /api/examples/{name}               the same with a bundled example song (input_midi/)
    GET  /api/runs/{run}                    the song: bars, sections, SSMs, notes, takes
    GET  /api/runs/{run}/song               the song alone (audio)
    POST /api/runs/{run}/takes              a new take (JSON body: the controls)
    POST /api/runs/{run}/takes/{n}/regenerate   take n with one section or bar range redrawn
    GET  /api/runs/{run}/takes/{n}          a take: its controls, drum hits, decisions
    GET  /api/runs/{run}/takes/{n}/{audio|midi|drums}   its files

Errors answer ``{"error": "<one line>"}``: 400 for a bad song or value (the line the CLI prints),
404 for an unknown run, take or file, 413 for a file beyond ``[limits] max_file_mb``, 503 "busy"
(with ``Retry-After``) when the job queue is full.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from drumgen import io, midi
from drumgen.exceptions import DrumgenError, LimitError
from drumgen.shaping import Shaping
from drumgen.songdata import GENRES, UNKNOWN_GENRE
from drumgen.studio import views
from drumgen.studio.jobs import BusyError
from drumgen.studio.runs import NoSuchRunError, safe_name
from drumgen.studio.service import TAKE_FILES, NoSuchTakeError, Studio

STATIC_DIR = Path(__file__).resolve().parent / "static"
EXAMPLES_DIR = io.DEFAULT_MODEL_DIR.parent / "input_midi"
"""The bundled example songs the page offers (the repository's ``input_midi/``)."""
RETRY_AFTER_SECONDS = 5
MEDIA_TYPES = {".ogg": "audio/ogg", ".flac": "audio/flac", ".mid": "audio/midi"}


class ShapingBody(BaseModel):
    """The controls of a take (:class:`drumgen.shaping.Shaping`); None keeps the preset's value,
    and no seed draws a random one."""

    seed: int | None = None
    density: int = 0
    genre: str = UNKNOWN_GENRE
    temperature: float | None = None
    variation: float | None = None
    fills: float | None = None
    always_play: bool = False
    swing: float | str | None = None
    humanize: float | None = None

    def to_shaping(self) -> Shaping:
        return Shaping(**{field.name: getattr(self, field.name) for field in dataclasses.fields(Shaping)})


class RegenerateBody(ShapingBody):
    """A section (its index in the song's sections) or a bar range ``[start, stop)`` to redraw."""

    section: int | None = None
    start: int | None = None
    stop: int | None = None


ERROR_STATUS: dict[type[Exception], int] = {
    NoSuchRunError: 404,
    NoSuchTakeError: 404,
    FileNotFoundError: 404,
    LimitError: 413,
    DrumgenError: 400,
}
"""The HTTP status of each error the routes let through (the most specific class counts); the
busy queue's 503 and request validation's 400 have handlers of their own."""


def _status_of(error: Exception) -> int:
    return next(ERROR_STATUS[kind] for kind in type(error).__mro__ if kind in ERROR_STATUS)


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def example_songs() -> list[str]:
    """File names of the bundled example songs."""
    if not EXAMPLES_DIR.is_dir():
        return []
    return sorted(path.name for path in EXAMPLES_DIR.glob("*.mid") if path.is_file())


def create_app(studio: Studio) -> FastAPI:
    """The FastAPI application of a :class:`Studio` (``app.state.studio``)."""
    app = FastAPI(title="drumgen studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.studio = studio
    limits = studio.config.limits

    @app.exception_handler(BusyError)
    async def busy(request: Request, error: BusyError) -> JSONResponse:
        return _error(503, str(error), **{"Retry-After": str(RETRY_AFTER_SECONDS)})

    async def refused(request: Request, error: Exception) -> JSONResponse:
        return _error(_status_of(error), str(error))

    for kind in ERROR_STATUS:
        app.add_exception_handler(kind, refused)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return _error(400, f"{where}: {first.get('msg', 'invalid value')}")

    def run_answer(run_id: str) -> dict[str, Any]:
        state = studio.store.load_state(run_id)
        return {
            "id": run_id,
            "name": state["name"],
            "song_audio": f"/api/runs/{run_id}/song",
            "takes": [take_answer(run_id, take, with_view=False) for take in state["takes"]],
            **views.run_view(studio.store.path(run_id)),
        }

    def take_answer(run_id: str, record: dict[str, Any], *, with_view: bool = True) -> dict[str, Any]:
        base = f"/api/runs/{run_id}/takes/{record['id']}"
        answer = {**record, "urls": {kind: f"{base}/{kind}" for kind in TAKE_FILES}}
        if with_view:
            take_dir = studio.take_dir(run_id, record["id"])
            answer.update(views.take_view(take_dir, take_dir / record["files"]["drums"]))
        return answer

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        config = studio.config
        return {
            "limits": dataclasses.asdict(limits),
            "genres": [UNKNOWN_GENRE, *GENRES],
            "defaults": {
                "seed": config.generation.seed,
                "density": 0,
                "temperature": config.generation.temperature,
                "variation": config.arrangement.variation,
                "fills": config.arrangement.fills,
                "always_play": config.arrangement.play_always,
                "swing": config.feel.swing,
                "humanize": config.feel.humanize,
            },
            "examples": example_songs(),
            "max_takes": studio.settings.max_takes,
            "audio_format": config.audio.format,
        }

    @app.post("/api/runs", status_code=201)
    async def upload(request: Request, name: str = "song.mid") -> dict[str, Any]:
        shown = f"{safe_name(name)}.mid"
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit():
            midi.check_file_size(int(declared), limits=limits, name=shown)
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            midi.check_file_size(len(received), limits=limits, name=shown)  # no trust in the header
        run_id = await run_in_threadpool(studio.upload, bytes(received), name)
        return await run_in_threadpool(run_answer, run_id)

    @app.post("/api/examples/{example}", status_code=201)
    def upload_example(example: str) -> dict[str, Any]:
        if example not in example_songs():
            raise FileNotFoundError(
                f"no example song {example!r}; the examples are {', '.join(example_songs())}"
            )
        run_id = studio.upload((EXAMPLES_DIR / example).read_bytes(), example)
        return run_answer(run_id)

    @app.get("/api/runs/{run_id}")
    def get_run(run_id: str) -> dict[str, Any]:
        return run_answer(run_id)

    @app.get("/api/runs/{run_id}/song")
    def song_audio(run_id: str) -> FileResponse:
        name = studio.store.load_state(run_id)["name"]
        path = studio.store.file(run_id, studio.song_audio_path(Path(), name).name)
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"))

    @app.post("/api/runs/{run_id}/takes", status_code=201)
    def new_take(run_id: str, body: ShapingBody) -> dict[str, Any]:
        return take_answer(run_id, studio.new_take(run_id, body.to_shaping()))

    @app.post("/api/runs/{run_id}/takes/{take_idx}/regenerate", status_code=201)
    def regenerate(run_id: str, take_idx: int, body: RegenerateBody) -> dict[str, Any]:
        bars = None
        if body.start is not None or body.stop is not None:
            bars = (body.start if body.start is not None else 0, body.stop if body.stop is not None else 0)
        record = studio.regenerate(run_id, take_idx, body.to_shaping(), section_idx=body.section, bars=bars)
        return take_answer(run_id, record)

    @app.get("/api/runs/{run_id}/takes/{take_idx}")
    def get_take(run_id: str, take_idx: int) -> dict[str, Any]:
        return take_answer(run_id, studio.take_record(run_id, take_idx))

    @app.get("/api/runs/{run_id}/takes/{take_idx}/{kind}")
    def take_file(run_id: str, take_idx: int, kind: str) -> FileResponse:
        if kind not in TAKE_FILES:
            raise FileNotFoundError(f"no file {kind!r} in a take; expected one of {', '.join(TAKE_FILES)}")
        record = studio.take_record(run_id, take_idx)
        path = studio.store.file(run_id, io.TAKES_DIR, str(take_idx), record["files"][kind])
        media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
        if kind == "audio":
            return FileResponse(path, media_type=media_type)
        download = f"{record['files'][kind].removesuffix('.mid')}_take{take_idx}.mid"
        return FileResponse(path, media_type=media_type, filename=download)

    return app
