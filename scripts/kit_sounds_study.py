"""How well the drummer model's kit sounds match the real drums' notes, and what they are worth.
The README's "Kit sounds" quotes this output.

On the songs of a dataset (the validation songs): for the kick and the snare, the share of songs
whose real drums mostly use the note the model chooses from the file's features, against always
writing the piece's usual note (36, 38); then the arranged drums' onset F1 over the 46 rows and
kit F1 with the model's sounds, with the VAE's likeliest notes, and with each real song's own
kick and snare notes (the upper bound a perfect choice would reach; the strokes are the same);
last, how well the VAE's own odds between the two usual notes of a piece (35 : 36, 40 : 38,
summed over the song) tell which one the song uses (ROC AUC; 0.5: not at all).
Songs with a bar not in 4/4 are left out (the arranger's 16-step bars are scored as they are).

    .venv/bin/python scripts/kit_sounds_study.py ../datasets/validation
"""

from __future__ import annotations

import argparse

import numpy as np

from drumgen import dataset, generation, kit, metrics
from drumgen.drummer import SOUND_PIECES
from drumgen.model.bundle import load_models
from drumgen.representation import DRUM_PITCHES


def real_note(real_grid: np.ndarray, piece: str) -> int | None:
    """The GM note a song's real drums play the piece with most, None if the piece never plays."""
    pitches = kit.PIECE_PITCHES[piece]
    counts = [(real_grid[:, DRUM_PITCHES.index(pitch)] > 0).sum() for pitch in pitches]
    return pitches[int(np.argmax(counts))] if max(counts) > 0 else None


def roc_auc(pairs: list[tuple[float, bool]]) -> float:
    """The chance that a positive's score beats a negative's (ties count half)."""
    positives = np.array([score for score, positive in pairs if positive])
    negatives = np.array([score for score, positive in pairs if not positive])
    wins = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (
        positives[:, None] == negatives[None, :]
    ).sum()
    return float(wins / (len(positives) * len(negatives)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a dataset folder whose songs have file_features")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)

    models = load_models(args.model)
    config = models.config
    right = {piece: [] for piece in SOUND_PIECES}
    usual = {piece: [] for piece in SOUND_PIECES}
    methods = ("the model's sounds", "the VAE's likeliest notes", "the real songs' notes (upper bound)")
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in methods}
    vae_odds: dict[str, list[tuple[float, bool]]] = {piece: [] for piece in SOUND_PIECES}
    for song in dataset.load_songs(args.dataset, limit=args.limit):
        a = song.arrays
        if not song.meter.is_common_time:
            continue
        if "file_features" not in a:
            raise SystemExit(f"{song.song_id}: no file_features; resume the dataset's build to add them")
        chosen = models.drummer.kit_sounds(a["file_features"])
        real_notes = {piece: real_note(a["drum_grids"], piece) for piece in SOUND_PIECES}
        for piece, note in real_notes.items():
            if note is not None:
                right[piece].append(chosen[piece] == note)
                usual[piece].append(kit.PIECE_PITCHES[piece][0] == note)
        stored = generation.stored_predictions(
            song, ssm_generator=models.ssm_generator, vae=models.vae, config=config
        )
        predicted = stored.predicted
        for piece, note in real_notes.items():
            first, second = kit.PIECE_PITCHES[piece][:2]
            if note in (first, second):
                sums = [predicted.probabilities[:, DRUM_PITCHES.index(p)].sum() for p in (second, first)]
                vae_odds[piece].append((float(np.log((sums[0] + 1e-9) / (sums[1] + 1e-9))), note == second))
        real_sounds = {**chosen, **{piece: note for piece, note in real_notes.items() if note is not None}}
        for name, sounds in zip(methods, (None, {}, real_sounds), strict=True):
            grid = generation.stored_arrangement(
                stored, drummer=models.drummer, config=config, sounds=sounds
            ).grid
            real = a["drum_grids"]
            scores[name].append(
                {"onset F1": metrics.onset_f1(grid, real), "kit F1": metrics.kit_onset_f1(grid, real)}
            )
    for piece in SOUND_PIECES:
        print(
            f"{piece}: the model's note is the real one in {np.mean(right[piece]):.3f} "
            f"of {len(right[piece])} songs; always {kit.PIECE_PITCHES[piece][0]}: {np.mean(usual[piece]):.3f}"
        )
    for piece, pairs in vae_odds.items():
        first, second = kit.PIECE_PITCHES[piece][:2]
        print(
            f"{piece}: the VAE's {second} : {first} odds tell the song's note at ROC AUC {roc_auc(pairs):.2f}"
        )
    for name, rows in scores.items():
        print(f"{name}: " + ", ".join(f"{key} {np.mean([r[key] for r in rows]):.3f}" for key in rows[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
