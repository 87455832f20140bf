"""Plots: what they draw (texts, lines, image size), on data made in code."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np

from drumgen import display, kit
from drumgen.representation import pitch_to_row
from drumgen.sections import Sections


def drawn_hits(ax, n_rows: int) -> np.ndarray:
    """The hits :func:`display.plot_arrangement` drew: one row of lines per kit class -> a grid
    [shape=(n_rows, n_columns), bool] over the axes' columns."""
    n_columns = round(ax.get_xlim()[1] + 0.5)
    hits = np.zeros((n_rows, n_columns), dtype=bool)
    for lines in ax.collections:
        hits[round(lines.get_lineoffset()), np.asarray(lines.get_positions(), dtype=int)] = True
    return hits


def test_plot_arrangement_shows_the_form_and_the_arrangers_marks() -> None:
    grid = np.zeros((8, 46, 16), dtype=np.uint8)
    grid[:, pitch_to_row(36), 0] = grid[:, pitch_to_row(40), [4, 12]] = 100
    grid[4, pitch_to_row(49), 0] = 110
    sections = Sections(starts=np.array([0, 4]), labels=("A", "B"), n_bars=8)
    decisions = {
        "resting": np.array([True] + [False] * 7),
        "fills": np.array([False] * 3 + [True] + [False] * 4),
        "crashes": np.array([False] * 4 + [True] + [False] * 3),
    }
    ax = display.plot_arrangement(grid, sections=sections, decisions=decisions)
    texts = [text.get_text() for text in ax.texts]
    assert texts.count("A") == 1 and texts.count("B") == 1
    assert texts.count("F") == 1 and texts.count("*") == 1
    assert len(ax.patches) == 1, "one resting bar shaded"
    image = drawn_hits(ax, len(kit.KIT_CLASSES))
    assert image.shape == (len(kit.KIT_CLASSES), 8 * 16)
    assert image[kit.KIT_CLASSES.index("snare")].sum() == 16, "38/40 merged into one snare row"
    assert image[kit.KIT_CLASSES.index("crash"), 4 * 16] == 1
    display.plt.close(ax.figure)


def test_bars_of_other_meters_are_drawn_at_their_own_length() -> None:
    bar_steps = np.array([4, 16, 8, 16])  # a 1/4 pickup, 4/4, a 2/4 bar, 4/4
    grid = np.zeros((4, 46, 16), dtype=np.uint8)
    for bar, steps in enumerate(bar_steps):
        grid[bar, pitch_to_row(36), 0] = grid[bar, pitch_to_row(42), :steps] = 90
    sections = Sections(starts=np.array([0, 3]), labels=("A", "B"), n_bars=4)
    ax = display.plot_arrangement(grid, sections=sections, bar_steps=bar_steps)
    image = drawn_hits(ax, len(kit.KIT_CLASSES))
    assert image.shape == (len(kit.KIT_CLASSES), 44), "4 + 16 + 8 + 16 columns, no padding drawn"
    kick = image[kit.KIT_CLASSES.index("kick")]
    assert np.flatnonzero(kick).tolist() == [0, 4, 20, 28], "each bar's downbeat where the bar starts"
    assert [line.get_xdata()[0] for line in ax.lines] == [27.5], "the B boundary at bar 3's first column"
    display.plt.close(ax.figure)
    rolled = display.plot_drum_grid(grid, bar_steps=bar_steps)
    assert rolled.get_array().shape[1] == 44
    display.plt.close(rolled.figure)
