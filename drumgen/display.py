"""Plots of drumgen's data: the only module that imports matplotlib.

Each function draws on a given ``ax`` (or a new figure) and returns the matplotlib object it
made, so notebooks can compose figures. Used by every notebook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pretty_midi

from drumgen import kit
from drumgen.representation import DRUM_PITCHES

_DRUM_NAMES = {pitch: pretty_midi.note_number_to_drum_name(pitch) for pitch in DRUM_PITCHES}


def _axes(ax: Any | None, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def _bar_columns(n_bars: int, n_steps: int, bar_steps: np.ndarray | None) -> np.ndarray:
    """First column of each bar in a roll of bars, and the roll's width last [shape=(n_bars + 1,)]:
    every bar ``n_steps`` wide, or each its own ``bar_steps`` (a 2/4 bar half as wide as a 4/4 one)."""
    widths = np.full(n_bars, n_steps) if bar_steps is None else np.asarray(bar_steps, dtype=np.int64)[:n_bars]
    return np.concatenate([[0], np.cumsum(widths)])


def _roll(bars: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Bars [shape=(n_bars, n_rows, n_steps)] side by side, each cut to its own width
    (``columns`` from :func:`_bar_columns`) -> [shape=(n_rows, columns[-1])]."""
    return np.concatenate([bar[:, : columns[i + 1] - columns[i]] for i, bar in enumerate(bars)], axis=1)


def plot_bar_cqts(
    bar_cqts: np.ndarray,
    *,
    ax: Any | None = None,
    max_bars: int | None = 16,
    title: str = "CQT per bar (84 bins x 96 cells)",
) -> Any:
    """Show per-bar CQTs side by side with bar lines.

    Parameters
    ----------
    bar_cqts : np.ndarray [shape=(n_bars, n_bins, n_cells), in [0, 1]]
    max_bars : int or None
        Show only the first bars (None: all).
    """
    shown = bar_cqts if max_bars is None else bar_cqts[:max_bars]
    n_bars, n_bins, n_cells = shown.shape
    ax = _axes(ax, (12, 3.5))
    image = ax.imshow(
        np.concatenate(list(shown), axis=1),
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    for bar in range(1, n_bars):
        ax.axvline(bar * n_cells - 0.5, color="white", linewidth=0.8)
    ax.set_xticks(np.arange(n_bars) * n_cells + n_cells / 2, [str(b) for b in range(n_bars)])
    octaves = np.arange(0, n_bins, 12)
    ax.set_yticks(octaves, [f"C{1 + o // 12}" for o in octaves])
    ax.set_xlabel("bar")
    ax.set_ylabel("pitch")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="(dB + 80) / 80", fraction=0.03)
    return image


def plot_cqt(
    cqt_db: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    bar_times: np.ndarray | None = None,
    ax: Any | None = None,
    title: str = "CQT (dB)",
) -> Any:
    """Show a whole-song CQT in dB against time, with bar lines.

    Parameters
    ----------
    cqt_db : np.ndarray [shape=(n_bins, n_frames), dB]
    bar_times : np.ndarray [shape=(n_bars + 1,), seconds], optional
    """
    ax = _axes(ax, (12, 3.5))
    duration = cqt_db.shape[1] * hop_length / sr
    image = ax.imshow(
        cqt_db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        extent=(0, duration, 0, cqt_db.shape[0]),
        interpolation="nearest",
    )
    if bar_times is not None:
        for time in bar_times:
            ax.axvline(time, color="white", linewidth=0.6, alpha=0.7)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("CQT bin (C1 = 0)")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="dB", fraction=0.03)
    return image


def plot_ssm(
    ssm: np.ndarray,
    *,
    ax: Any | None = None,
    title: str = "SSM",
    as_similarity: bool = True,
    sections: Any = None,
) -> Any:
    """Show a distance SSM, by default as similarity ``1 - distance`` (bright = alike).

    Parameters
    ----------
    ssm : np.ndarray [shape=(n_bars, n_bars)]
        Distances (0 = identical).
    sections : drumgen.sections.Sections, optional
        When given, its boundaries are drawn as thin lines on both axes and its labels along the top.
    """
    ax = _axes(ax, (5, 4.5))
    shown = 1.0 - ssm if as_similarity else ssm
    image = ax.imshow(
        shown, origin="upper", cmap="viridis", interpolation="nearest", vmin=float(shown.min()), vmax=1.0
    )
    ax.set_xlabel("bar")
    ax.set_ylabel("bar")
    if sections is None:
        ax.set_title(title)
    else:
        _draw_sections(ax, sections, n_bars=len(ssm))
        ax.set_title(title, pad=14)
    ax.figure.colorbar(image, ax=ax, label="1 - distance" if as_similarity else "distance", fraction=0.046)
    return image


def _draw_sections(
    ax: Any,
    sections: Any,
    *,
    n_bars: int,
    columns_per_bar: int = 1,
    bar_columns: np.ndarray | None = None,
    both_axes: bool = True,
    line_style: dict[str, Any] | None = None,
    label_style: dict[str, Any] | None = None,
) -> None:
    """Section boundaries as lines on an image whose columns are bars (or ``columns_per_bar``
    steps each, or bars starting at ``bar_columns``), on both axes for an SSM, and each section's
    label above its middle."""
    line = line_style or {"color": "white", "linewidth": 0.7, "alpha": 0.9}
    text = label_style or {"fontsize": 8}
    starts = [int(start) for start in sections.starts]
    ends = [*starts[1:], n_bars]
    columns = np.arange(n_bars + 1) * columns_per_bar if bar_columns is None else bar_columns
    for start in starts[1:]:
        ax.axvline(columns[start] - 0.5, **line)
        if both_axes:
            ax.axhline(columns[start] - 0.5, **line)
    for start, end, label in zip(starts, ends, sections.labels, strict=True):
        ax.text(
            (columns[start] + columns[end]) / 2 - 0.5,
            1.0,
            label,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            clip_on=False,
            **text,
        )


def plot_ssms(ssms: dict[str, np.ndarray | None], *, sections: Any = None) -> Any:
    """Show several SSMs side by side (``None`` entries are skipped). Returns the figure.

    ``sections`` (a :class:`drumgen.sections.Sections`, optional) is drawn on each panel.
    """
    present = {name: ssm for name, ssm in ssms.items() if ssm is not None}
    figure, axes = plt.subplots(1, len(present), figsize=(5.2 * len(present), 4.5), squeeze=False)
    for ax, (name, ssm) in zip(axes[0], present.items(), strict=True):
        plot_ssm(ssm, ax=ax, title=name, sections=sections)
    figure.tight_layout()
    return figure


def plot_drum_grid(
    grid: np.ndarray,
    *,
    ax: Any | None = None,
    title: str = "drums",
    only_used_rows: bool = True,
    bar_steps: np.ndarray | None = None,
) -> Any:
    """Show drum grids of consecutive bars as a piano roll of drum rows.

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, n_steps)] or [shape=(46, n_steps)]
        Velocities, hits or probabilities.
    only_used_rows : bool
        Hide rows without any hit.
    bar_steps : np.ndarray [shape=(n_bars,) or longer, int], optional
        Each bar's own steps (its meter), from the first bar of ``grid`` on: drawn that wide,
        without the canvas' padding. Default: every bar ``n_steps`` wide.
    """
    grid = np.asarray(grid, dtype=float)
    if grid.ndim == 2:
        grid = grid[None]
    n_bars, n_rows, n_steps = grid.shape
    columns = _bar_columns(n_bars, n_steps, bar_steps)
    rolled = _roll(grid, columns)
    rows = np.arange(n_rows)
    if only_used_rows and rolled.any():
        rows = rows[rolled.any(axis=1)]
    ax = _axes(ax, (12, 0.25 * len(rows) + 1.5))
    image = ax.imshow(
        rolled[rows], origin="lower", aspect="auto", cmap="Greys", interpolation="nearest", vmin=0
    )
    for bar in range(1, n_bars):
        ax.axvline(columns[bar] - 0.5, color="tab:red", linewidth=0.8)
    ax.set_yticks(
        np.arange(len(rows)), [f"{DRUM_PITCHES[r]} {_DRUM_NAMES[DRUM_PITCHES[r]]}" for r in rows], fontsize=7
    )
    ax.set_xticks((columns[:-1] + columns[1:]) / 2 - 0.5, [str(b) for b in range(n_bars)])
    ax.set_xlabel("bar")
    ax.set_title(title)
    return image


def plot_piano_roll(
    song: pretty_midi.PrettyMIDI,
    *,
    fs: int = 20,
    ax: Any | None = None,
    bar_times: np.ndarray | None = None,
    title: str = "piano roll",
) -> Any:
    """Show the non-drum notes of a song as a piano roll (``fs`` columns per second)."""
    roll = song.get_piano_roll(fs=fs)
    ax = _axes(ax, (12, 3.5))
    used = np.nonzero(roll.any(axis=1))[0]
    low, high = (int(used.min()), int(used.max()) + 1) if used.size else (0, 128)
    image = ax.imshow(
        roll[low:high],
        origin="lower",
        aspect="auto",
        cmap="Blues",
        extent=(0, roll.shape[1] / fs, low, high),
        interpolation="nearest",
    )
    if bar_times is not None:
        for time in bar_times:
            ax.axvline(time, color="grey", linewidth=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title)
    return image


def plot_selection(
    ssm: np.ndarray, neighbor_idx: np.ndarray, *, ax: Any | None = None, title: str = "selected neighbours"
) -> Any:
    """Show an SSM (as similarity) with each bar's chosen neighbours marked."""
    ax = _axes(ax, (5, 4.5))
    image = plot_ssm(ssm, ax=ax, title=title)
    rows = np.repeat(np.arange(len(neighbor_idx)), neighbor_idx.shape[1])
    ax.scatter(neighbor_idx.ravel(), rows, s=8, c="red", marker="s", label="neighbour")
    ax.legend(loc="upper right", fontsize=7)
    return image


def audio(samples: np.ndarray, *, sr: int) -> Any:
    """An inline audio player for a notebook."""
    from IPython.display import Audio

    return Audio(samples, rate=sr)


def save_figure(figure: Any, path: str | Path) -> Path:
    """Save a figure as PNG and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


_SSM_TITLES = {
    "melodic": "melodic SSM",
    "predicted": "predicted drum SSM",
    "oracle": "true drum SSM (oracle)",
}


def analysis_summary(
    bar_cqts: np.ndarray,
    ssms: dict[str, np.ndarray | None],
    neighbor_idx: np.ndarray,
    *,
    source: str,
    title: str = "",
    sections: Any = None,
) -> Any:
    """One figure of steps 1-3: the first bars' CQTs, the SSMs, and the chosen neighbours.

    Parameters
    ----------
    ssms : dict
        Name -> distance SSM (None entries are skipped), e.g. "melodic", "predicted", "oracle".
    source : str
        The key of ``ssms`` whose SSM chose the neighbours (they are drawn on it).
    sections : drumgen.sections.Sections, optional
        Drawn on each SSM panel (boundaries and labels).
    """
    present = {name: ssm for name, ssm in ssms.items() if ssm is not None}
    n_panels = len(present) + 1
    figure = plt.figure(figsize=(5.2 * n_panels, 8.5))
    grid = figure.add_gridspec(2, n_panels, height_ratios=[1, 1.4])
    plot_bar_cqts(bar_cqts, ax=figure.add_subplot(grid[0, :]), max_bars=8)
    for panel, (name, ssm) in enumerate(present.items()):
        plot_ssm(
            ssm,
            ax=figure.add_subplot(grid[1, panel]),
            title=_SSM_TITLES.get(name, f"{name} SSM"),
            sections=sections,
        )
    plot_selection(
        present[source],
        neighbor_idx,
        ax=figure.add_subplot(grid[1, n_panels - 1]),
        title=f"{neighbor_idx.shape[1]} nearest bars ({source} SSM)",
    )
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_arrangement(
    grid: np.ndarray,
    *,
    sections: Any = None,
    decisions: dict[str, np.ndarray] | None = None,
    ax: Any | None = None,
    title: str = "drums, whole song",
    bar_steps: np.ndarray | None = None,
) -> Any:
    """Show a whole song's drums by kit class (kick, snare, hats, toms, cymbals) with its form: a
    vertical line per hit, at the hit's column (a step of a bar; each bar as wide as its steps).

    Parameters
    ----------
    grid : np.ndarray [shape=(n_bars, 46, n_steps)]
        Velocities or hits.
    sections : drumgen.sections.Sections, optional
        Section boundaries drawn as lines, labels above.
    decisions : dict, optional
        The arranger's per-bar marks (:data:`drumgen.arrangement.DECISIONS`), each
        [shape=(n_bars,), bool]: bars resting (shaded), ending in a fill ("F" below the bar) and
        starting with a crash ("*").
    bar_steps : np.ndarray [shape=(n_bars,), int], optional
        Each bar's own steps: drawn that wide (see :func:`plot_drum_grid`).
    """
    classes = kit.to_kit_classes(grid).astype(float)  # (n_bars, 9, n_steps)
    n_bars, n_classes, n_steps = classes.shape
    columns = _bar_columns(n_bars, n_steps, bar_steps)
    rolled = _roll(classes, columns)
    ax = _axes(ax, (14, 2.5))
    for row, hits in enumerate(rolled):  # one line per hit: an image resampled to the figure's
        # width drops single columns (a crash, a tom) once the song has more steps than pixels
        ax.eventplot(np.flatnonzero(hits), lineoffsets=row, linelengths=0.8, linewidths=0.8, colors="black")
    ax.set_xlim(-0.5, columns[-1] - 0.5)
    ax.set_yticks(np.arange(n_classes), [name.replace("_", " ") for name in kit.KIT_CLASSES], fontsize=7)
    step_ticks = max(1, n_bars // 24)
    ax.set_xticks(columns[0:n_bars:step_ticks] - 0.5, [str(b) for b in range(0, n_bars, step_ticks)])
    ax.set_xlabel("bar")
    if sections is not None:
        _draw_sections(
            ax,
            sections,
            n_bars=n_bars,
            bar_columns=columns,
            both_axes=False,
            line_style={"color": "tab:blue", "linewidth": 1.2},
            label_style={"fontsize": 9, "color": "tab:blue"},
        )
    marks = decisions or {}
    for bar in np.flatnonzero(marks.get("resting", np.zeros(0, bool))):
        ax.axvspan(columns[bar] - 0.5, columns[bar + 1] - 0.5, color="tab:orange", alpha=0.15, linewidth=0)
    for name, symbol, where in (("fills", "F", 0.75), ("crashes", "*", 0.0)):
        for bar in np.flatnonzero(marks.get(name, np.zeros(0, bool))):
            x = columns[bar] + where * (columns[bar + 1] - columns[bar])
            ax.text(x, -0.9, symbol, ha="center", va="top", fontsize=7, color="tab:red")
    ax.set_ylim(-1.5, n_classes - 0.5)
    ax.set_title(title, pad=14 if sections is not None else 6)
    return ax


def generation_summary(
    generated: np.ndarray,
    ssms: dict[str, np.ndarray | None],
    *,
    title: str = "",
    sections: Any = None,
    decisions: dict[str, np.ndarray] | None = None,
    bar_steps: np.ndarray | None = None,
) -> Any:
    """One figure of a generation run: the whole song's drums with its sections, the first 8 bars
    in detail, then SSMs side by side.

    Parameters
    ----------
    generated : np.ndarray [shape=(n_bars, 46, 16)]
        Generated drum velocities.
    ssms : dict
        Name -> distance SSM [shape=(n_bars, n_bars)] (None entries are skipped), e.g. the melodic
        SSM, the predicted drum SSM and the generated drums' own SSM.
    sections, decisions
        See :func:`plot_arrangement`; ``sections`` is drawn on the SSMs too.
    bar_steps : np.ndarray [shape=(n_bars,), int], optional
        Each bar's own steps (its meter), so a 2/4 bar is drawn half as wide as a 4/4 one.
    """
    present = {name: ssm for name, ssm in ssms.items() if ssm is not None}
    n_panels = max(len(present), 1)
    figure = plt.figure(figsize=(5.2 * n_panels, 11.5))
    grid = figure.add_gridspec(3, n_panels, height_ratios=[0.55, 1, 1.3])
    whole_song = figure.add_subplot(grid[0, :])
    plot_arrangement(generated, sections=sections, decisions=decisions, ax=whole_song, bar_steps=bar_steps)
    plot_drum_grid(
        generated[:8],
        ax=figure.add_subplot(grid[1, :]),
        title="generated drums, first 8 bars",
        bar_steps=bar_steps,
    )
    for panel, (name, ssm) in enumerate(present.items()):
        plot_ssm(
            ssm, ax=figure.add_subplot(grid[2, panel]), title=_SSM_TITLES.get(name, name), sections=sections
        )
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_history(history: dict[str, list[float]], *, title: str = "training") -> Any:
    """Plot the per-epoch losses of a Keras history (``val_*`` dashed beside its training twin).

    Returns the figure.
    """
    names = sorted({key.removeprefix("val_") for key in history})
    figure, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        if name in history:
            ax.plot(np.arange(1, len(history[name]) + 1), history[name], label="train")
        if f"val_{name}" in history:
            ax.plot(
                np.arange(1, len(history[f"val_{name}"]) + 1),
                history[f"val_{name}"],
                "--",
                label="validation",
            )
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_drums_side_by_side(
    generated: np.ndarray, real: np.ndarray | None = None, *, bars: slice = slice(0, 8), title: str = ""
) -> Any:
    """Generated drum grids above the real ones (if any) for the same bars. Returns the figure."""
    n_panels = 1 if real is None else 2
    figure, axes = plt.subplots(n_panels, 1, figsize=(12, 4.5 * n_panels), squeeze=False)
    plot_drum_grid(generated[bars], ax=axes[0, 0], title=f"generated {title}".strip())
    if real is not None:
        plot_drum_grid(real[bars], ax=axes[1, 0], title="real drums")
    figure.tight_layout()
    return figure


def plot_metric_bars(
    aggregated: dict[str, dict[str, dict[str, float]]], metric_names: tuple[str, ...]
) -> Any:
    """One bar chart per metric: each method's mean with its 95 % interval. Returns the figure."""
    methods = list(aggregated)
    n_cols = 4
    n_rows = int(np.ceil(len(metric_names) / n_cols))
    figure, axes = plt.subplots(n_rows, n_cols, figsize=(4.2 * n_cols, 3.4 * n_rows), squeeze=False)
    colors = plt.cm.tab10(np.arange(len(methods)) % 10)
    for ax, name in zip(axes.ravel(), metric_names, strict=False):
        means = np.array([aggregated[m].get(name, {}).get("mean", np.nan) for m in methods], dtype=float)
        low = np.array([aggregated[m].get(name, {}).get("ci_low", np.nan) for m in methods], dtype=float)
        high = np.array([aggregated[m].get(name, {}).get("ci_high", np.nan) for m in methods], dtype=float)
        shown = np.nan_to_num(means)
        errors = np.nan_to_num(np.vstack([means - low, high - means]))
        ax.barh(np.arange(len(methods)), shown, xerr=errors, color=colors)
        ax.set_yticks(np.arange(len(methods)), methods, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(name)
    for ax in axes.ravel()[len(metric_names) :]:
        ax.axis("off")
    figure.tight_layout()
    return figure


def plot_evaluation_example(
    song_id: str, real: np.ndarray, generated: dict[str, np.ndarray], *, bars: slice = slice(0, 8)
) -> Any:
    """Real vs generated drums of one song: grids of the first bars, and the drum SSMs.

    Parameters
    ----------
    real : np.ndarray [shape=(n_bars, 46, 16)]
    generated : dict
        method -> drums of the same shape (e.g. "drumgen", "drumgen_oracle").
    """
    from drumgen.similarity import drum_ssm

    names = ["real", *generated]
    grids = [real, *generated.values()]
    figure = plt.figure(figsize=(14, 3.2 * len(names) + 4.5))
    layout = figure.add_gridspec(len(names) + 1, len(names), height_ratios=[1] * len(names) + [1.6])
    for row, (name, grid) in enumerate(zip(names, grids, strict=True)):
        plot_drum_grid(
            np.asarray(grid)[bars], ax=figure.add_subplot(layout[row, :]), title=f"{name}: {song_id}"
        )
    for col, (name, grid) in enumerate(zip(names, grids, strict=True)):
        plot_ssm(
            drum_ssm(np.asarray(grid), scale=15.0),
            ax=figure.add_subplot(layout[-1, col]),
            title=f"{name} drum SSM",
        )
    figure.tight_layout()
    return figure


def plot_dataset_summary(index: dict[str, Any]) -> Any:
    """A built dataset at a glance: bars per kept song, songs per genre, skipped songs by reason.

    Parameters
    ----------
    index : dict
        The dataset's ``index.json`` (see :mod:`drumgen.dataset`).
    """
    songs = index["songs"]
    figure, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    axes[0].hist([song["n_bars"] for song in songs], bins=30, color="tab:blue")
    axes[0].set_xlabel("bars per song")
    axes[0].set_title(f"{len(songs)} songs kept")
    genres: dict[str, int] = {}
    for song in songs:
        genres[song["genre"]] = genres.get(song["genre"], 0) + 1
    axes[1].barh(list(genres), list(genres.values()), color="tab:green")
    axes[1].set_title("songs per genre")
    skipped = index["summary"]["skipped"]
    axes[2].barh(list(skipped) or ["none"], list(skipped.values()) or [0], color="tab:red")
    axes[2].set_title("songs skipped, by reason")
    figure.tight_layout()
    return figure


def plot_learning_curve(
    n_songs: list[int], scores: dict[str, list[float]], *, title: str = "drum VAE learning curve"
) -> Any:
    """Validation scores against the number of training songs (log axis), F1 solid, others dashed.

    Parameters
    ----------
    n_songs : list of int
        Training-set sizes, ascending.
    scores : dict
        Score name (e.g. ``"f1"``, ``"precision"``, ``"recall"``) -> one value per size; from
        :meth:`drumgen.model.learning_curve.LearningCurve.scores`.

    Returns the figure. Used by ``scripts/learning_curve.py``.
    """
    figure, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, values in scores.items():
        style = {"marker": "o"} if name == "f1" else {"linestyle": "--", "alpha": 0.7}
        ax.plot(n_songs, values, label=name, **style)
    if "f1" in scores:
        for n, value in zip(n_songs, scores["f1"], strict=True):
            ax.annotate(f"{value:.3f}", (n, value), textcoords="offset points", xytext=(0, 6), ha="center")
    ax.set_xscale("log")
    ax.set_xticks(n_songs, [str(n) for n in n_songs])
    ax.minorticks_off()
    ax.set_xlabel("training songs")
    ax.set_ylabel("validation onset score")
    ax.set_ylim(0.0, 1.0)
    ax.legend(fontsize=8)
    ax.set_title(title)
    figure.tight_layout()
    return figure
