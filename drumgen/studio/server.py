"""``drumgen serve``: load the models once, make the :class:`~drumgen.studio.service.Studio`, run uvicorn."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from drumgen.config import load_config
from drumgen.studio.service import Studio

log = logging.getLogger(__name__)


def create_studio(
    work_dir: str | Path | None = None,
    *,
    model_dir: str | Path | None = None,
    models: Any = None,
    limits: dict[str, float | int] | None = None,
    **settings: Any,
) -> Studio:
    """A studio with the shipped (or ``model_dir``'s, or the given) models.

    Songs are analysed as ``drumgen generate`` analyses them: the VAE's config with the preset's
    ``[limits]`` (``limits`` changes some, as the ``--max-*`` options do); its audio is rendered
    in ``[studio] audio_format``.

    Parameters
    ----------
    work_dir : str or Path, optional
        Default: ``[studio] work_dir`` (``runs/studio``, relative to the working folder).
    **settings
        Other ``[studio]`` fields (e.g. ``max_pending=2``).
    """
    if models is None:
        from drumgen.model.bundle import load_models

        models = load_models(model_dir)
    preset = load_config()
    changes = {**settings, **({"work_dir": str(work_dir)} if work_dir is not None else {})}
    studio_settings = preset.replace(studio=changes).studio if changes else preset.studio
    config = models.config.replace(
        limits={**dataclasses.asdict(preset.limits), **(limits or {})},
        audio={"format": studio_settings.audio_format},
    )
    return Studio(models, config=config, settings=studio_settings)


def serve(
    *,
    host: str,
    port: int,
    work_dir: str | Path,
    model_dir: str | Path | None = None,
    limits: dict[str, float | int] | None = None,
) -> None:
    """Run the studio until interrupted (Ctrl-C)."""
    import uvicorn

    from drumgen.studio.app import create_app

    studio = create_studio(work_dir, model_dir=model_dir, limits=limits)
    log.info("drumgen studio on http://%s:%d/ (work folder %s)", host, port, studio.store.work_dir)
    try:
        uvicorn.run(create_app(studio), host=host, port=port, log_level="warning")
    finally:
        studio.close()
