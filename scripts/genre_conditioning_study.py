"""What the drum VAE plays for a song whose genre it is not told, conditioned in each possible way.
The README's "--genre" paragraph and the default ``generation.unknown_genre`` quote this output.

A user's MIDI file has no genre, so ``drumgen generate`` runs with ``--genre unknown``; the corpus
index knows each song's genre, so ``drumgen evaluate --split`` shows the unknown case only as its
``drumgen_unknown_genre`` method. On the songs of a dataset (the validation songs), the same
analysis and neighbours each time, only the genre conditioning changes:

- ``song's genre``: the genre of the corpus index (what the README's test figures use);
- ``marginal``: genre withheld, the VAE's predictions under each training genre averaged with the
  training songs' genre shares (``generation.unknown_genre = "marginal"``);
- ``mix (training shares)``: genre withheld, the shares fed to the genre input in one pass
  (``"mix"``, the behaviour before ``marginal``);
- ``mix (equal shares)``: the same with every genre at 1/6 (a model without recorded shares);
- ``rock``: every song told it is rock, the corpus' commonest genre.

Prints, per way, the arranged drums' kick, snare and hat strokes per playing bar (the real drums'
first), their kit F1, onset F1 (46 rows) and drum-SSM Pearson against the real drums, and the
consecutive-repeat rate.

    .venv/bin/python scripts/genre_conditioning_study.py ../datasets/validation
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from drumgen import dataset, generation, kit, metrics
from drumgen.model.bundle import load_models

WAYS = ("song's genre", "marginal", "mix (training shares)", "mix (equal shares)", "rock")
STROKE_PIECES = ("kick", "snare", "closed_hat")


def strokes_per_playing_bar(grid: np.ndarray) -> dict[str, float]:
    """Mean strokes of each kit class in :data:`STROKE_PIECES` per bar that has any hit."""
    classes = kit.to_kit_classes(grid)
    playing = classes.any(axis=(1, 2))
    if not playing.any():
        return {piece: 0.0 for piece in STROKE_PIECES}
    return {
        piece: float(classes[playing, kit.KIT_CLASSES.index(piece)].sum(axis=-1).mean())
        for piece in STROKE_PIECES
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a dataset folder (drumgen dataset build), e.g. the validation songs")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)

    models = load_models(args.model)
    config = models.config
    vae = models.require("vae")
    equal_vae = dataclasses.replace(
        vae, conditioning=dataclasses.replace(vae.conditioning, unknown_genre_mix=None)
    )
    # way -> (VAE, genre given to it, unknown-genre mode)
    settings = {
        "song's genre": (vae, None, "marginal"),
        "marginal": (vae, "unknown", "marginal"),
        "mix (training shares)": (vae, "unknown", "mix"),
        "mix (equal shares)": (equal_vae, "unknown", "mix"),
        "rock": (vae, "rock", "marginal"),
    }
    rows: dict[str, list[dict[str, float]]] = {way: [] for way in ("real drums", *WAYS)}
    n_songs = 0
    for song in dataset.load_songs(args.dataset, limit=args.limit):
        if not song.meter.is_common_time:
            continue  # the arranger's 16-step bars are scored as they are
        n_songs += 1
        real = song.arrays["drum_grids"]
        rows["real drums"].append(strokes_per_playing_bar(real))
        # the SSMs, neighbours and sections do not depend on the genre: found once per song
        ssms = generation.stored_similarities(song, ssm_generator=models.ssm_generator)
        chosen, found = generation.select_and_segment(ssms, config=config, source="predicted")
        for way, (way_vae, genre, mode) in settings.items():
            way_config = config.replace(generation={"unknown_genre": mode})
            predicted = generation.stored_vae_predictions(
                song, chosen, vae=way_vae, config=way_config, genre=genre
            )
            stored = generation.StoredPredictions(song, ssms, chosen, found, predicted)
            grid = generation.stored_arrangement(stored, drummer=models.drummer, config=way_config).grid
            rows[way].append(
                {
                    **strokes_per_playing_bar(grid),
                    "kit F1": metrics.kit_onset_f1(grid, real),
                    "onset F1": metrics.onset_f1(grid, real),
                    "Pearson": metrics.ssm_pearson(grid, real),
                    "consecutive": metrics.consecutive_repeat_rate(grid),
                }
            )
    print(f"{n_songs} songs in 4/4; strokes per playing bar, then scores against the real drums")
    for way, values in rows.items():
        print(
            f"{way}: " + ", ".join(f"{key} {np.nanmean([v[key] for v in values]):.3f}" for key in values[0])
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
