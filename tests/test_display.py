"""Plots: what they draw (texts, lines, image size), on data made in code."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np

from drumgen import display, kit
from drumgen.representation import pitch_to_row
from drumgen.sections import Sections


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
    image = ax.images[0].get_array()
    assert image.shape == (len(kit.KIT_CLASSES), 8 * 16)
    assert image[kit.KIT_CLASSES.index("snare")].sum() == 16, "38/40 merged into one snare row"
    assert image[kit.KIT_CLASSES.index("crash"), 4 * 16] == 1
    display.plt.close(ax.figure)
