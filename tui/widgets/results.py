"""A job's result tables, each drawn by its shape (see CONTRIBUTING: `ctx.table`):

- a dict with `matrix`: a coloured matrix;
- `{"kind": "curves"}`: lines over a shared x; `{"kind": "histogram"}`: one histogram per series;
- `{"kind": "scatter"}`: points coloured by label (with `images`: a region view, key v);
- anything else: its JSON.

A table that cannot be drawn says why in its place; the others still show.
"""

from __future__ import annotations

import json

from rich.console import Group
from rich.pretty import Pretty
from rich.text import Text
from textual.widgets import Static

from tui.colors import DIGIT_COLORS, SERIES, rich_color
from tui.widgets.matrix import matrix_table
from tui.widgets.plot import Plot


def table_kind(payload) -> str:
    if isinstance(payload, dict):
        if "matrix" in payload:
            return "matrix"
        if payload.get("kind") in ("curves", "histogram", "scatter"):
            return payload["kind"]
    return "other"


def draw_curves(plt, payload: dict) -> None:
    xs = list(payload.get("x") or [])
    for i, (name, ys) in enumerate(sorted((payload.get("series") or {}).items())):
        x = xs if len(xs) == len(ys) else list(range(len(ys)))
        plt.plot(x, ys, label=str(name), marker="braille", color=SERIES[i % len(SERIES)])
        if len(x) <= 12:
            plt.scatter(x, ys, color=SERIES[i % len(SERIES)])
    plt.title(payload.get("title") or "")
    plt.xlabel(payload.get("x_label") or "")
    plt.ylabel(payload.get("y_label") or "")


def draw_histogram(plt, payload: dict) -> None:
    bins = int(payload.get("bins") or 20)
    for i, (name, values) in enumerate(sorted((payload.get("series") or {}).items())):
        plt.hist(list(values), bins, label=str(name), color=SERIES[i % len(SERIES)])
    plt.title(payload.get("title") or "")


def label_order(payload: dict) -> list:
    labels = payload.get("labels") or []
    return sorted(set(labels), key=lambda v: (v is None, str(v)))


def scatter_key(payload: dict) -> Text:
    """Which colour is which label (the plot itself has no room for a legend of ten entries)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    name = payload.get("label_name") or "label"
    labels = label_order(payload)
    if labels:
        out.append(f"{name}: ", style="dim")
    for i, label in enumerate(labels):
        out.append("●", style=rich_color(DIGIT_COLORS[i % len(DIGIT_COLORS)]))
        out.append(f"{label} ")
    return out


def draw_scatter(plt, payload: dict, rect: tuple[tuple[float, float], tuple[float, float]] | None = None) -> None:
    xs, ys = payload["x"], payload["y"]
    labels = payload.get("labels") or [None] * len(xs)
    if not len(xs) == len(ys) == len(labels):
        raise ValueError(f"x, y and labels differ in length ({len(xs)}, {len(ys)}, {len(labels)})")
    groups: dict = {}
    for x, y, label in zip(xs, ys, labels):
        gx, gy = groups.setdefault(label, ([], []))
        gx.append(x)
        gy.append(y)
    for i, label in enumerate(sorted(groups, key=lambda v: (v is None, str(v)))):  # the order of scatter_key
        gx, gy = groups[label]
        plt.scatter(gx, gy, marker="braille", color=DIGIT_COLORS[i % len(DIGIT_COLORS)])
    if rect is not None:
        (x0, x1), (y0, y1) = rect
        plt.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="white", marker="braille")
    plt.title(payload.get("title") or "")


class TablePlot(Plot):
    DEFAULT_CSS = """
    TablePlot { height: 18; min-height: 8; }
    """


def table_widgets(name: str, payload, ansi: bool) -> list:
    """The widgets that show one table (a title and its drawing, or a message)."""
    kind = table_kind(payload)
    try:
        if kind == "matrix":
            return [Static(matrix_table(name, payload, ansi), classes="result-table")]
        if kind == "curves":
            return [TablePlot(lambda plt: draw_curves(plt, payload), classes="result-plot")]
        if kind == "histogram":
            return [TablePlot(lambda plt: draw_histogram(plt, payload), classes="result-plot")]
        if kind == "scatter":
            hint = ("press v for the region view: the images of the points in a rectangle"
                    if payload.get("images") else "")
            n = len(payload.get("x") or [])
            return [Static(Text.assemble((name, "bold"), (f"  {n} points  {hint}", "dim"))),
                    Static(scatter_key(payload)),
                    TablePlot(lambda plt: draw_scatter(plt, payload), classes="result-plot")]
        text = json.dumps(payload, sort_keys=True, default=str)
        shown = Pretty(payload, max_length=20, max_string=200) if len(text) < 20000 else Text(text[:2000] + "…")
        return [Static(Group(Text(name, style="bold"), shown), classes="result-table")]
    except Exception as exc:  # noqa: BLE001 - one bad table must not hide the others
        return [Static(Text(f"table {name!r} ({kind}) cannot be shown: {type(exc).__name__}: {exc}",
                            style="red"), classes="result-table")]
