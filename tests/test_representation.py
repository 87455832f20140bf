"""Drum grids <-> MIDI notes, GM pitch <-> row maps (drumgen.representation)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pretty_midi
import pytest

from drumgen.bars import N_STEPS, step_times
from drumgen.representation import (
    DEFAULT_VELOCITY,
    DRUM_PITCHES,
    EXTRA_PITCH_TO_ROW_PITCH,
    N_ROWS,
    PITCH_TO_ROW,
    drums_to_grid,
    grid_to_drums,
    hits,
    pitch_to_row,
    row_to_pitch,
)

DESIGN_ROWS = (
    27,
    28,
    33,
    35,
    36,
    37,
    38,
    39,
    40,
    41,
    42,
    43,
    44,
    45,
    46,
    47,
    48,
    49,
    51,
    53,
    54,
    55,
    56,
    57,
    59,
    60,
    61,
    62,
    63,
    64,
    65,
    67,
    68,
    69,
    70,
    73,
    74,
    75,
    76,
    77,
    80,
    81,
    82,
    83,
    85,
    87,
)
"""The 46 rows as DESIGN.md lists them."""


def _grid_steps(n_bars: int, *, bpm: float = 120.0) -> np.ndarray:
    """Step times of ``n_bars`` 4/4 bars at a constant tempo."""
    bar = 240.0 / bpm
    return (np.arange(n_bars)[:, None] + np.linspace(0, 1, N_STEPS + 1)[None, :]) * bar


def _kit(notes: list[tuple[int, float, int]]) -> list[pretty_midi.Instrument]:
    """A drum instrument from (pitch, start, velocity)."""
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    for pitch, start, velocity in notes:
        kit.notes.append(pretty_midi.Note(velocity, pitch, start, start + 0.05))
    return [kit]


def _random_grid(rng: np.random.Generator, n_bars: int, density: float = 0.1) -> np.ndarray:
    on = rng.random((n_bars, N_ROWS, N_STEPS)) < density
    return np.where(on, rng.integers(1, 128, size=on.shape), 0).astype(np.uint8)


# --- rows ---------------------------------------------------------------------------------------


def test_rows_match_design() -> None:
    assert N_ROWS == 46
    assert DRUM_PITCHES == DESIGN_ROWS
    assert list(DRUM_PITCHES) == sorted(set(DRUM_PITCHES))


def test_every_pitch_has_a_valid_row() -> None:
    assert PITCH_TO_ROW.shape == (128,)
    rows = np.array([pitch_to_row(p) for p in range(128)])
    assert rows.min() >= 0
    assert rows.max() < N_ROWS
    np.testing.assert_array_equal(rows, PITCH_TO_ROW)


def test_row_pitches_map_to_themselves() -> None:
    for row, pitch in enumerate(DRUM_PITCHES):
        assert pitch_to_row(pitch) == row
        assert row_to_pitch(row) == pitch


def test_high_tom_goes_to_hi_mid_tom() -> None:
    assert row_to_pitch(pitch_to_row(50)) == 48


def test_extra_gm_pitches_use_their_stand_ins() -> None:
    for pitch, stand_in in EXTRA_PITCH_TO_ROW_PITCH.items():
        assert pitch not in DRUM_PITCHES
        assert stand_in in DRUM_PITCHES
        assert row_to_pitch(pitch_to_row(pitch)) == stand_in


def test_every_gm_drum_pitch_is_served() -> None:
    # GM percussion is 35-81 (27-87 in GS/XG kits): each has its own row or a stand-in
    for pitch in range(27, 88):
        assert pitch in DRUM_PITCHES or pitch in EXTRA_PITCH_TO_ROW_PITCH


def test_pitches_outside_the_kit_go_to_the_nearest_row() -> None:
    assert row_to_pitch(pitch_to_row(0)) == 27
    assert row_to_pitch(pitch_to_row(127)) == 87
    assert row_to_pitch(pitch_to_row(90)) == 87


# --- grid -> drums -> grid ----------------------------------------------------------------------


def test_round_trip_random_velocities(rng: np.random.Generator) -> None:
    steps = _grid_steps(6)
    grid = _random_grid(rng, 6)
    assert grid.any()
    kit = grid_to_drums(grid, steps)
    assert kit.is_drum
    assert len(kit.notes) == np.count_nonzero(grid)
    back = drums_to_grid([kit], steps)
    assert back.dtype == np.uint8
    assert back.shape == (6, N_ROWS, N_STEPS)
    np.testing.assert_array_equal(back, grid)


def test_round_trip_full_grid(rng: np.random.Generator) -> None:
    steps = _grid_steps(2, bpm=173.0)
    grid = rng.integers(1, 128, size=(2, N_ROWS, N_STEPS)).astype(np.uint8)
    np.testing.assert_array_equal(drums_to_grid([grid_to_drums(grid, steps)], steps), grid)


def test_round_trip_with_tempo_changes(rng: np.random.Generator, midi_kit: SimpleNamespace) -> None:
    res = midi_kit.RESOLUTION
    spec = midi_kit.spec(6, bpm=120.0, tempo_changes=[(2, 67.0)])
    # and one change inside bar 4, on a non-step tick
    spec = midi_kit.SongSpec(
        tracks=spec.tracks,
        tempos=[*spec.tempos, (4 * 4 * res + 5 * res // 3, 181.0)],
        time_signatures=spec.time_signatures,
    )
    steps = step_times(midi_kit.to_song(spec))
    assert steps.shape == (6, N_STEPS + 1)
    grid = _random_grid(rng, 6, density=0.2)
    np.testing.assert_array_equal(drums_to_grid([grid_to_drums(grid, steps)], steps), grid)


def test_round_trip_through_a_midi_file(rng: np.random.Generator, make_song, tmp_path) -> None:
    song = make_song(4, tempo_changes=[(1, 90.0), (3, 140.0)], drums=False)
    steps = step_times(song)
    grid = _random_grid(rng, 4)
    song.instruments.append(grid_to_drums(grid, steps))
    path = tmp_path / "out.mid"
    song.write(str(path))
    reread = pretty_midi.PrettyMIDI(str(path))
    drums = [inst for inst in reread.instruments if inst.is_drum]
    np.testing.assert_array_equal(drums_to_grid(drums, step_times(reread)), grid)


def test_grid_to_drums_writes_row_pitches_on_step_times(rng: np.random.Generator) -> None:
    steps = _grid_steps(3)
    grid = _random_grid(rng, 3)
    kit = grid_to_drums(grid, steps, name="mine")
    assert kit.name == "mine"
    bar_idx, row_idx, step_idx = np.nonzero(grid)
    expected = sorted(
        (float(steps[b, s]), DRUM_PITCHES[r], int(grid[b, r, s]))
        for b, r, s in zip(bar_idx, row_idx, step_idx, strict=True)
    )
    got = [(n.start, n.pitch, n.velocity) for n in kit.notes]
    np.testing.assert_allclose(np.array(got), np.array(expected), atol=1e-12)
    assert all(n.end > n.start for n in kit.notes)


def test_note_length_is_a_fraction_of_the_step() -> None:
    steps = _grid_steps(1)
    grid = np.zeros((1, N_ROWS, N_STEPS), dtype=np.uint8)
    grid[0, 4, 3] = 90
    (note,) = grid_to_drums(grid, steps, note_steps=0.25).notes
    assert note.end - note.start == pytest.approx(0.25 * 0.125)


def test_boolean_grid_gets_default_velocity(rng: np.random.Generator) -> None:
    steps = _grid_steps(2)
    grid = rng.random((2, N_ROWS, N_STEPS)) < 0.1
    kit = grid_to_drums(grid, steps)
    assert len(kit.notes) == grid.sum()
    assert {n.velocity for n in kit.notes} == {DEFAULT_VELOCITY}
    back = drums_to_grid([kit], steps)
    np.testing.assert_array_equal(back, np.where(grid, DEFAULT_VELOCITY, 0))
    np.testing.assert_array_equal(hits(back), grid)


def test_empty_grid_gives_no_notes() -> None:
    steps = _grid_steps(2)
    assert grid_to_drums(np.zeros((2, N_ROWS, N_STEPS), dtype=np.uint8), steps).notes == []
    assert not drums_to_grid([], steps).any()
    assert drums_to_grid([], steps).shape == (2, N_ROWS, N_STEPS)


# --- drums -> grid ------------------------------------------------------------------------------


def test_downbeat_hits_light_step_zero_only() -> None:
    steps = _grid_steps(4)
    kick = pitch_to_row(36)
    grid = drums_to_grid(_kit([(36, t, 100) for t in steps[:, 0]]), steps)
    expected = np.zeros_like(grid)
    expected[:, kick, 0] = 100
    np.testing.assert_array_equal(grid, expected)


def test_off_grid_hits_quantise_to_nearest_step(rng: np.random.Generator) -> None:
    steps = _grid_steps(3)
    step_length = 0.125
    grid = _random_grid(rng, 3, density=0.15)
    kit = grid_to_drums(grid, steps)
    for note in kit.notes:
        shift = rng.uniform(-0.49, 0.49) * step_length
        note.start += shift
        note.end += shift
    np.testing.assert_array_equal(drums_to_grid([kit], steps), grid)


def test_quantise_with_uneven_steps(midi_kit: SimpleNamespace) -> None:
    res = midi_kit.RESOLUTION
    spec = midi_kit.spec(2, bpm=120.0)
    spec = midi_kit.SongSpec(
        tracks=spec.tracks,
        tempos=[(0, 120.0), (4 * res + 2 * res, 60.0)],
        time_signatures=spec.time_signatures,
    )
    steps = step_times(midi_kit.to_song(spec))  # bar 1: steps of 0.125 s, then 0.25 s
    # after step 8 of bar 1 the steps are 0.25 s apart: the midpoint to step 9 is 0.125 s later
    t8 = steps[1, 8]
    grid = drums_to_grid(_kit([(38, t8 + 0.12, 70), (42, t8 + 0.13, 71)]), steps)
    assert grid[1, pitch_to_row(38), 8] == 70
    assert grid[1, pitch_to_row(42), 9] == 71


def test_loudest_hit_of_a_cell_wins() -> None:
    steps = _grid_steps(1)
    grid = drums_to_grid(_kit([(38, 0.5, 40), (38, 0.51, 110), (38, 0.49, 60)]), steps)
    assert grid[0, pitch_to_row(38), 4] == 110
    assert np.count_nonzero(grid) == 1


def test_extra_pitch_lands_on_its_stand_in_row() -> None:
    steps = _grid_steps(1)
    grid = drums_to_grid(_kit([(50, 0.25, 99)]), steps)
    assert grid[0, pitch_to_row(48), 2] == 99


def test_hits_outside_the_grid_are_dropped() -> None:
    steps = _grid_steps(2)  # 0 .. 4 s, steps of 0.125 s
    notes = [(36, -0.1, 90), (36, 3.98, 91), (36, 10.0, 92), (36, -0.05, 93), (36, 3.9, 94)]
    grid = drums_to_grid(_kit(notes), steps)
    kick = pitch_to_row(36)
    # -0.05 s is within half a step of the first step; 3.9 s is nearest the last step (3.875 s)
    assert grid[0, kick, 0] == 93
    assert grid[1, kick, 15] == 94
    assert np.count_nonzero(grid) == 2


def test_several_instruments_merge() -> None:
    steps = _grid_steps(1)
    grid = drums_to_grid(_kit([(36, 0.0, 100)]) + _kit([(42, 0.0, 50)]), steps)
    assert grid[0, pitch_to_row(36), 0] == 100
    assert grid[0, pitch_to_row(42), 0] == 50


def test_hits_is_boolean(rng: np.random.Generator) -> None:
    grid = _random_grid(rng, 2)
    np.testing.assert_array_equal(hits(grid), grid > 0)
    assert hits(grid).dtype == bool
