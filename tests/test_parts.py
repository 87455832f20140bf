"""Per-16th onset profiles of the instrument families."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from drumgen import parts


def _instrument(program: int, starts: list[float], *, is_drum: bool = False) -> pretty_midi.Instrument:
    instrument = pretty_midi.Instrument(program=program, is_drum=is_drum)
    instrument.notes = [pretty_midi.Note(90, 60, start, start + 0.1) for start in starts]
    return instrument


def test_families_of_gm_programs() -> None:
    names = [parts.PART_FAMILIES[parts.family_of_program(p)] for p in (0, 20, 25, 33, 48, 56, 81)]
    assert names == ["keys", "keys", "guitar", "bass", "strings", "other", "other"]
    with pytest.raises(ValueError):
        parts.family_of_program(128)


def test_onsets_land_on_their_nearest_step_and_are_counted() -> None:
    steps = np.vstack([np.linspace(0.0, 2.0, 17)[:-1], np.linspace(2.0, 4.0, 17)[:-1]])
    steps = np.column_stack([steps, [2.0, 4.0]])  # two 4/4 bars of 2 s: a step is 0.125 s
    bass = _instrument(33, [0.0, 0.51, 2.04, 2.05])  # bar 0 steps 0 and 4; bar 1 step 0 twice
    piano = _instrument(0, [1.0])
    drums = _instrument(0, [0.0, 0.5], is_drum=True)
    profile = parts.onset_profile([bass, piano, drums], steps)
    assert profile.shape == (2, len(parts.PART_FAMILIES), 16) and profile.dtype == np.uint8
    bass_row, keys_row = parts.PART_FAMILIES.index("bass"), parts.PART_FAMILIES.index("keys")
    assert profile[0, bass_row].nonzero()[0].tolist() == [0, 4]
    assert profile[1, bass_row, 0] == 2
    assert profile[0, keys_row].nonzero()[0].tolist() == [8]
    assert profile.sum() == 5, "drum notes are not counted"


def test_onsets_outside_the_bars_are_dropped() -> None:
    steps = np.column_stack([np.linspace(0.0, 2.0, 17)[None, :-1], [[2.0]]])
    profile = parts.onset_profile([_instrument(0, [-1.0, 1.99, 5.0])], steps)
    assert profile.sum() == 0
