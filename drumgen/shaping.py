"""The controls a drum part is shaped with, as one record applied to a :class:`~drumgen.config.Config`.

``drumgen generate``/``drumgen drums`` (their ``--temperature --variation --fills --always-play
--swing --humanize --seed --density --genre`` options) and the studio's controls both end here,
so each control means the same thing everywhere and is validated once (by the config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drumgen.config import Config
from drumgen.exceptions import ParameterError
from drumgen.songdata import GENRES, UNKNOWN_GENRE


def check_genre(genre: str) -> str:
    """Return ``genre`` if the model knows it (one of :data:`drumgen.songdata.GENRES` or "unknown").

    Raises
    ------
    ParameterError
    """
    if genre not in (*GENRES, UNKNOWN_GENRE):
        raise ParameterError(f"unknown genre {genre!r}; expected one of {', '.join(GENRES)} or unknown")
    return genre


@dataclass(frozen=True)
class Shaping:
    """How one drum part is made. None (or False) keeps the config's own value.

    Attributes
    ----------
    seed : int or None
        Latent sampling seed (``generation.seed``).
    density : int
        Note-count offset: piece-steps added (< 0: removed) per bar.
    genre : str
        Style conditioning (:func:`check_genre`).
    temperature : float >= 0 or None
        Latent sampling temperature (``generation.temperature``).
    variation, fills : float in [0, 1] or None
        ``arrangement.variation`` and ``arrangement.fills``.
    always_play : bool
        Never lay out (``arrangement.play_always``).
    swing : "auto", float in [0, 1] or None
        ``feel.swing``.
    humanize : float in [0, 1] or None
        ``feel.humanize``.
    """

    seed: int | None = None
    density: int = 0
    genre: str = UNKNOWN_GENRE
    temperature: float | None = None
    variation: float | None = None
    fills: float | None = None
    always_play: bool = False
    swing: str | float | None = None
    humanize: float | None = None

    def __post_init__(self) -> None:
        check_genre(self.genre)
        if isinstance(self.density, bool) or not isinstance(self.density, int):
            raise ParameterError(f"density must be an int, got {self.density!r}")

    def apply(self, config: Config) -> Config:
        """``config`` with these controls set (the config validates their ranges).

        Raises
        ------
        ParameterError
            A value out of its range (e.g. ``variation=1.5``).

        Examples
        --------
        >>> from drumgen.config import load_config
        >>> Shaping(variation=0.2, always_play=True).apply(load_config()).arrangement.play_always
        True
        """
        changes: dict[str, dict[str, Any]] = {
            "generation": {"temperature": self.temperature, "seed": self.seed},
            "arrangement": {
                "variation": self.variation,
                "fills": self.fills,
                "play_always": True if self.always_play else None,
            },
            "feel": {"swing": self.swing, "humanize": self.humanize},
        }
        changes = {
            section: {key: value for key, value in fields.items() if value is not None}
            for section, fields in changes.items()
        }
        changes = {section: fields for section, fields in changes.items() if fields}
        return config.replace(**changes) if changes else config
