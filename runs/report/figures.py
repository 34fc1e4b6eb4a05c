"""The report's figures as PNG files, drawn with matplotlib (Agg, no pyplot state; imported only here).

Every figure carries a footer line saying what it shows: data set, spec and
run ids, so a figure copied out of the report still says where it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

DPI = 110
PALETTE = "tab10"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig, path: Path, footer: str) -> Path:
    fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))  # room for a two-line footer
    fig.text(0.01, 0.005, footer, fontsize=7, color="#555555", ha="left", va="bottom", wrap=True)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fig.savefig(path, format="png")
    path.chmod(0o600)
    return path


def _grid_shape(n: int, columns: int = 4) -> tuple[int, int]:
    columns = max(1, min(columns, n))
    return -(-n // columns), columns


def loss_curves(path: Path, panels: Sequence[tuple[str, dict[str, list[tuple[int, float]]]]], footer: str,
                title: str) -> Path:
    """One small plot per net: every series (e.g. 'train, seed 0', 'validation, seed 0') against the epoch."""
    rows, cols = _grid_shape(len(panels))
    fig = _figure(max(6.4, 2.6 * cols), 2.1 * rows + 1.0)
    fig.suptitle(title, fontsize=10)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (label, series) in zip(axes.flat, panels):
        for name, points in series.items():
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker=".", linewidth=1, label=name,
                        linestyle="--" if name.startswith("validation") else "-")
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("epoch", fontsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", fontsize=7, ncols=min(4, len(labels)))
    return _save(fig, path, footer)


def curves(path: Path, payload: dict, footer: str, y_limits: tuple[float, float] | None = None) -> Path:
    """A `{"kind": "curves"}` table: each series against x."""
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    for name, ys in payload["series"].items():
        ax.plot(payload["x"][:len(ys)], ys, marker="o", markersize=3, linewidth=1.2, label=name)
    ax.set_title(payload.get("title", ""), fontsize=10)
    ax.set_xlabel(payload.get("x_label", ""))
    ax.set_ylabel(payload.get("y_label", ""))
    if y_limits:
        ax.set_ylim(*y_limits)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path, footer)


def histograms(path: Path, payload: dict, footer: str) -> Path:
    """A `{"kind": "histogram"}` table: one histogram per series, side by side."""
    series = payload["series"]
    fig = _figure(3.2 * len(series), 3.0)
    fig.suptitle(payload.get("title", ""), fontsize=10)
    axes = fig.subplots(1, len(series), squeeze=False)[0]
    for ax, (name, values) in zip(axes, series.items()):
        ax.hist(values, bins=payload.get("bins", 20), color="#4c72b0", edgecolor="white")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    return _save(fig, path, footer)


def scatter_maps(path: Path, payloads: Sequence[dict], footer: str, classes: Sequence[str]) -> Path:
    """`{"kind": "scatter"}` tables side by side, points coloured by their label."""
    from matplotlib import colormaps

    colours = colormaps[PALETTE]
    fig = _figure(5.0 * len(payloads), 5.0)
    axes = fig.subplots(1, len(payloads), squeeze=False)[0]
    for ax, payload in zip(axes, payloads):
        labels = payload["labels"]
        for k in sorted(set(labels)):
            xs = [x for x, lab in zip(payload["x"], labels) if lab == k]
            ys = [y for y, lab in zip(payload["y"], labels) if lab == k]
            ax.scatter(xs, ys, s=3, color=colours(k % 10), label=classes[k] if k < len(classes) else str(k))
        ax.set_title(payload.get("title", ""), fontsize=9, wrap=True)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, markerscale=3, title=payload.get("label_name"), title_fontsize=7, loc="best")
    return _save(fig, path, footer)


def heatmaps(path: Path, matrices: Sequence[tuple[str, list[list[float]]]], labels: Sequence[str], footer: str,
             title: str) -> Path:
    """Accuracy matrices (rows attacked, columns evaluated), one panel each, on one colour scale [0, 1]."""
    rows, cols = _grid_shape(len(matrices), 3)
    size = 0.45 * len(labels) + 1.4
    fig = _figure(size * cols + 0.8, size * rows + 0.6)
    fig.suptitle(title, fontsize=10)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(matrices):]:
        ax.set_visible(False)
    image = None
    for ax, (name, matrix) in zip(axes.flat, matrices):
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                ax.text(j, i, f"{value * 100:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if value < 0.6 else "black", fontweight="bold" if i == j else "normal")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=45)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("evaluated", fontsize=7)
        ax.set_ylabel("attacked", fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label="accuracy")
    return _save(fig, path, footer)


def framed_picture(path: Path, source: Path, caption: str, footer: str, scale: int = 3) -> Path:
    """A PNG a run made (digit grids, strips), enlarged without blurring, with its caption and footer."""
    import numpy as np
    from PIL import Image

    with Image.open(source) as picture:
        pixels = np.asarray(picture.convert("L"))
    height, width = pixels.shape
    fig = _figure(max(4.0, width * scale / DPI), height * scale / DPI + 0.9)
    ax = fig.add_subplot()
    ax.imshow(pixels, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(caption, fontsize=8, wrap=True)
    return _save(fig, path, footer)
