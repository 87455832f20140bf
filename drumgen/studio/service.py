"""What the studio does, as calls of the library: analyse an upload, make and reshape takes.

:class:`Studio` holds what is loaded once - the models, the config, two FluidSynth renderers (one
at the analysis rate for step 1, one at the audio files' rate) - and runs every action through the
one-at-a-time :class:`~drumgen.studio.jobs.JobQueue`, so the models,
the renderers and the run records are never used by two requests at once. Each action is the
library's own: :func:`drumgen.pipeline.analyze_song` and :func:`drumgen.pipeline.write_song_audio`
for an upload, :func:`drumgen.takes.make_take` and :func:`drumgen.takes.regenerate_bars` for takes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from drumgen import io, pipeline, takes
from drumgen.analysis import render_song_melody
from drumgen.config import Config, StudioConfig
from drumgen.exceptions import DrumgenError, ParameterError
from drumgen.shaping import Shaping
from drumgen.studio.jobs import JobQueue
from drumgen.studio.runs import INPUT_DIR, RunStore, safe_name
from drumgen.synth import Renderer

log = logging.getLogger(__name__)

SEED_RANGE = 2**31
"""A take without a seed draws one in ``[0, SEED_RANGE)``."""
TAKE_FILES = ("audio", "midi", "drums")
"""What a take serves: the song with its drums as audio, the same as MIDI, the drums alone (MIDI)."""


class NoSuchTakeError(DrumgenError):
    """The run keeps no take of that number (never made, or dropped beyond ``max_takes``)."""


@contextlib.contextmanager
def _removed_on_error(folder: Path) -> Iterator[None]:
    """Remove ``folder`` (a take being made) if the block fails, then re-raise."""
    try:
        yield
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _shaping_record(shaping: Shaping) -> dict[str, Any]:
    return dataclasses.asdict(shaping)


def _renamed(error: DrumgenError, path: Path, name: str) -> DrumgenError:
    """The same error with the server-side path in its message replaced by the upload's name."""
    return type(error)(str(error).replace(str(path), name))


class Studio:
    """The studio's state: models, config, renderers, work folder and job queue.

    Parameters
    ----------
    models : Models
        :func:`drumgen.model.bundle.load_models`; songs are analysed with ``config``, which is
        normally ``models.config`` (as ``drumgen generate`` does) with the preset's ``[limits]``.
    config : Config
    settings : StudioConfig
        Work folder, cleanup, takes kept and queue size (``[studio]``; its ``work_dir`` is used).
    """

    def __init__(self, models: Any, *, config: Config, settings: StudioConfig) -> None:
        self.models = models
        self.config = config
        self.settings = settings
        self.store = RunStore(
            settings.work_dir, max_runs=settings.max_runs, max_age_hours=settings.max_age_hours
        )
        self.queue = JobQueue(settings.max_pending)
        threads = os.cpu_count() or 1
        self.renderer = Renderer.from_config(config.render, threads=threads)  # step 1, for analysis
        self.listening = Renderer.from_config(  # the audio files
            config.render, threads=threads, sample_rate=config.audio.sample_rate
        )
        self.store.cleanup()

    def close(self) -> None:
        """Free the renderers."""
        self.renderer.close()
        self.listening.close()

    # --- uploads ---------------------------------------------------------------------------

    def upload(self, data: bytes, filename: str) -> str:
        """Analyse an uploaded MIDI file (steps 1-3) and render the song alone; return the run id.

        The file is checked as ``drumgen generate`` checks it (by step 1: empty, not MIDI, beyond
        ``[limits]``, drums only ...). On any error the run
        folder is removed and the error raised with the upload's name in place of the server's
        path: nothing of a refused upload stays behind.

        Raises
        ------
        MidiError, LimitError, TimeSignatureError, SynthError, BusyError
        """
        name = safe_name(filename)
        return self.queue.run(lambda: self._analyse(data, name, filename))

    def _analyse(self, data: bytes, name: str, filename: str) -> str:
        run_id, run_dir = self.store.create()
        song_path = run_dir / INPUT_DIR / f"{name}.mid"
        try:
            song_path.parent.mkdir()
            song_path.write_bytes(data)
            with ThreadPoolExecutor(max_workers=1) as pool:  # the render to listen to, alongside
                melody_job = pool.submit(
                    render_song_melody, song_path, renderer=self.listening, config=self.config
                )
                pipeline.analyze_song(  # step 1 checks the song first (drumgen.midi.check_midi_file)
                    song_path,
                    run_dir,
                    config=self.config,
                    source="predicted",
                    force=True,
                    renderer=self.renderer,
                    ssm_generator=self.models.ssm_generator,
                )
                pipeline.keep_listening_melody(run_dir, *melody_job.result(), sr=self.listening.sr)
            pipeline.write_song_audio(
                run_dir, self.song_audio_path(run_dir, name), renderer=self.listening, config=self.config
            )
            self.store.save_state(
                run_id,
                {"name": name, "upload": filename[:200], "created": _now(), "next_take": 1, "takes": []},
            )
        except DrumgenError as error:
            self.store.remove(run_id)
            raise _renamed(error, song_path, f"{name}.mid") from None
        except BaseException:
            self.store.remove(run_id)
            raise
        self.store.cleanup(keep=(run_id,))
        log.info("run %s: %s analysed", run_id, name)
        return run_id

    def song_audio_path(self, run_dir: Path, name: str) -> Path:
        """Where the song alone is rendered in a run folder."""
        return run_dir / f"{name}_song.{self.config.audio.format}"

    # --- takes -----------------------------------------------------------------------------

    def new_take(self, run_id: str, shaping: Shaping) -> dict[str, Any]:
        """A new take of the whole song (a random seed if ``shaping.seed`` is None); its record.

        Raises
        ------
        NoSuchRunError, ParameterError, BusyError
        """
        shaping = self._checked(shaping)
        run_dir = self.store.path(run_id)

        def make(take_dir: Path) -> takes.Take:
            return takes.make_take(
                run_dir,
                take_dir,
                shaping=shaping,
                models=self.models,
                renderer=self.listening,
                config=self.config,
            )

        return self._take_job(run_id, make, shaping, base=None, bars=None)

    def regenerate(
        self,
        run_id: str,
        base_idx: int,
        shaping: Shaping,
        *,
        section_idx: int | None = None,
        bars: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        """A take that redraws one section (``section_idx``, from step 3's sections) or a bar range
        ``bars = (start, stop)`` of take ``base_idx``, the rest kept; its record.

        Raises
        ------
        NoSuchRunError, NoSuchTakeError, ParameterError, BusyError
        """
        shaping = self._checked(shaping)
        run_dir = self.store.path(run_id)
        if (section_idx is None) == (bars is None):
            raise ParameterError("give either a section or a bar range to regenerate")
        if section_idx is not None:
            bars = takes.section_bars(pipeline.load_step_3(run_dir).sections, section_idx)
        assert bars is not None
        base_dir = self.take_dir(run_id, base_idx)

        start, stop = bars

        def make(take_dir: Path) -> takes.Take:
            return takes.regenerate_bars(
                run_dir,
                base_dir,
                take_dir,
                start=start,
                stop=stop,
                shaping=shaping,
                models=self.models,
                renderer=self.listening,
                config=self.config,
            )

        return self._take_job(run_id, make, shaping, base=base_idx, bars=bars)

    def take_record(self, run_id: str, take_idx: int) -> dict[str, Any]:
        """The record of a kept take (its controls, files ...).

        Raises
        ------
        NoSuchRunError, NoSuchTakeError
        """
        state = self.store.load_state(run_id)
        for record in state["takes"]:
            if record["id"] == take_idx:
                return record
        kept = ", ".join(str(take["id"]) for take in state["takes"]) or "none"
        raise NoSuchTakeError(f"no take {take_idx} in this run (kept: {kept})")

    def take_dir(self, run_id: str, take_idx: int) -> Path:
        """The folder of a kept take.

        Raises
        ------
        NoSuchRunError, NoSuchTakeError
        """
        self.take_record(run_id, take_idx)
        return io.take_dir(self.store.path(run_id), take_idx)

    def _checked(self, shaping: Shaping) -> Shaping:
        """``shaping`` with a seed, its values checked against the config before any job."""
        if shaping.seed is None:
            shaping = dataclasses.replace(shaping, seed=secrets.randbelow(SEED_RANGE))
        shaping.apply(self.config)  # raises ParameterError for a value out of range
        return shaping

    def _take_job(
        self,
        run_id: str,
        make: Callable[[Path], takes.Take],
        shaping: Shaping,
        *,
        base: int | None,
        bars: tuple[int, int] | None,
    ) -> dict[str, Any]:
        """Queue a take: ``make`` writes it into the run's next take folder (removed if it fails),
        then it is recorded; its record."""

        def job() -> dict[str, Any]:
            take_idx, take_dir = self._next_take(run_id)
            with _removed_on_error(take_dir):
                made = make(take_dir)
            return self._record(run_id, take_idx, made, shaping, base=base, bars=bars)

        return self.queue.run(job)

    def _next_take(self, run_id: str) -> tuple[int, Path]:
        state = self.store.load_state(run_id)
        take_idx = int(state["next_take"])
        state["next_take"] = take_idx + 1
        self.store.save_state(run_id, state)
        return take_idx, io.take_dir(self.store.path(run_id), take_idx)

    def _record(
        self,
        run_id: str,
        take_idx: int,
        made: takes.Take,
        shaping: Shaping,
        *,
        base: int | None,
        bars: tuple[int, int] | None,
    ) -> dict[str, Any]:
        """Add a take to the run's record, dropping the oldest beyond ``max_takes``."""
        record = {
            "id": take_idx,
            "created": _now(),
            "shaping": _shaping_record(shaping),
            "base": base,
            "bars": list(bars) if bars is not None else None,
            "files": {
                "audio": made.audio.name,
                "midi": made.full_midi.name,
                "drums": made.drums_midi.name,
            },
        }
        state = self.store.load_state(run_id)
        state["takes"].append(record)
        dropped = state["takes"][: -self.settings.max_takes]
        state["takes"] = state["takes"][-self.settings.max_takes :]
        self.store.save_state(run_id, state)
        for old in dropped:
            shutil.rmtree(io.take_dir(self.store.path(run_id), int(old["id"])), ignore_errors=True)
        return record
