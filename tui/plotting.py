"""Which metrics share a chart, and drawing a chart so that it reads in any terminal. No Textual here.

Metric names are free (train/loss, val/accuracy, gan/g_loss, ...). A series
is per epoch when its last step is within the job's epochs (or far below the
densest series), else per iteration. The charts, most telling first:

- loss: the per-iteration losses and the per-epoch ones on one epoch axis
  (an iteration maps to an epoch through the row order: the iteration
  reached when the last epoch was reported); per iteration only when no
  epoch has ended yet;
- accuracy: per-epoch accuracies, in percent;
- the rest, per epoch or per iteration.

Drawing (`draw_lines`): epochs get integer ticks; each per-epoch series
carries its own marker (●, ✕, ◆...), so train and validation differ without
colour; a chart can be zoomed to its last N epochs and shown on a log scale.
The legend is a line of text outside the data (`legend`), never a box
drawn over the curves. Non-finite values (a diverged loss: nan, inf) are
gaps in the curves; the latest value still says them.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field

from rich.text import Text

from tui.colors import SERIES, rich_color

Series = dict[str, tuple[list[int], list[float]]]  # name -> (steps, values)
MARKERS = ("●", "✕", "◆", "▲", "■", "○", "+")
LINE_MARK = "⠒"  # how a line without markers looks in the legend
ZOOMS = (20, 10, 5, 2)  # "the last N epochs", the ones shorter than the run


@dataclass
class Chart:
    key: str
    title: str
    names: list[str]                               # in draw order: lines first, marked series on top
    per_epoch: set[str] = field(default_factory=set)
    x_unit: str = "epoch"                           # or "iteration"
    percent: bool = False


@dataclass
class Line:
    """One curve as drawn: points, colour, and a marker at each point (None: a plain line)."""

    label: str
    xs: list[float]
    ys: list[float]
    color: str
    marker: str | None = None


def is_accuracy(name: str) -> bool:
    return "acc" in name.lower()


def is_loss(name: str) -> bool:
    return "loss" in name.lower()


def split_by_scale(series: Series, epochs: int | None = None) -> tuple[list[str], list[str]]:
    """(per-epoch names, per-iteration names), each sorted."""
    names = sorted(n for n, (steps, _) in series.items() if steps)
    if not names:
        return [], []
    last = {n: max(series[n][0]) for n in names}
    densest = max(last.values())
    per_epoch = [n for n in names if n.endswith("_epoch")
                 or (last[n] <= epochs if epochs else last[n] * 8 <= densest)]
    return per_epoch, [n for n in names if n not in per_epoch]


def charts(series: Series, epochs: int | None = None, iterations_per_epoch: float | None = None) -> list[Chart]:
    per_epoch, per_iter = split_by_scale(series, epochs)
    out: list[Chart] = []
    epoch_losses = [n for n in per_epoch if is_loss(n)]
    iter_losses = [n for n in per_iter if is_loss(n)]
    if epoch_losses and (iterations_per_epoch or not iter_losses):
        out.append(Chart("loss", "loss", iter_losses + epoch_losses, set(epoch_losses), "epoch"))
        iter_losses = []
    elif iter_losses:
        out.append(Chart("loss", "loss per iteration", iter_losses, set(), "iteration"))
        iter_losses = []
        if epoch_losses:  # epochs whose iterations cannot be placed yet: beside, not on one axis
            out.append(Chart("epoch-loss", "loss per epoch", epoch_losses, set(epoch_losses), "epoch"))
    accuracies = [n for n in per_epoch if is_accuracy(n)]
    if accuracies:
        out.append(Chart("accuracy", "accuracy per epoch (%)", accuracies, set(accuracies), "epoch", percent=True))
    rest_epoch = [n for n in per_epoch if n not in epoch_losses and n not in accuracies]
    if rest_epoch:
        out.append(Chart("epoch", "per epoch", rest_epoch, set(rest_epoch), "epoch"))
    rest_iter = [n for n in per_iter if not is_loss(n)]
    if rest_iter:
        out.append(Chart("iteration", "per iteration", rest_iter, set(), "iteration"))
    return out


def iterations_per_epoch(series: Series, ids: dict[str, list[int]], epochs: int | None = None) -> float | None:
    """Iterations in one epoch, from the order the rows were written in: the last iteration step written
    before the last epoch's row, divided by that epoch."""
    per_epoch, per_iter = split_by_scale(series, epochs)
    if not per_epoch or not per_iter:
        return None
    anchor = max(per_epoch, key=lambda n: series[n][0][-1])
    epoch, row = series[anchor][0][-1], ids.get(anchor, [None])[-1]
    dense = max(per_iter, key=lambda n: len(series[n][0]))
    dense_ids = ids.get(dense) or []
    if row is None or not dense_ids or epoch <= 0:
        return None
    before = bisect_left(dense_ids, row)
    if before == 0:
        return None
    return series[dense][0][before - 1] / epoch


def thin(steps: list, values: list[float], points: int) -> tuple[list[float], list[float]]:
    """At most about `points` points: bucket means (keeps the trend of a noisy loss)."""
    n = len(steps)
    if n <= points or points < 2:
        return list(map(float, steps)), list(values)
    size = n / points
    xs, ys = [], []
    for b in range(points):
        lo, hi = int(b * size), max(int((b + 1) * size), int(b * size) + 1)
        chunk = values[lo:hi]
        xs.append(float(steps[(lo + hi - 1) // 2]))
        ys.append(sum(chunk) / len(chunk) if all(map(math.isfinite, chunk)) else math.nan)
    return xs, ys


def finite_runs(xs: list[float], ys: list[float]) -> list[tuple[list[float], list[float]]]:
    """The stretches of a curve between its non-finite values: drawn apart, they leave a gap."""
    runs, current = [], ([], [])
    for x, y in zip(xs, ys):
        if math.isfinite(y):
            current[0].append(x)
            current[1].append(y)
        elif current[0]:
            runs.append(current)
            current = ([], [])
    if current[0]:
        runs.append(current)
    return runs


def chart_lines(chart: Chart, series: Series, width: int, ipe: float | None = None) -> list[Line]:
    """The chart's curves in its x unit (iterations mapped to epochs), thinned to what `width` shows."""
    lines, marks = [], iter(MARKERS)
    for i, name in enumerate(chart.names):
        steps, values = series.get(name, ([], []))
        if not steps:
            continue
        xs, ys = thin(steps, values, max(20, width * 2))
        if chart.x_unit == "epoch" and name not in chart.per_epoch:
            if not ipe:
                continue
            xs = [x / ipe for x in xs]
            label = f"{name} (per iteration)"
        else:
            label = name
        if chart.percent:
            ys = [y * 100 for y in ys]
        marker = next(marks) if name in chart.per_epoch else None
        lines.append(Line(label, xs, ys, SERIES[i % len(SERIES)], marker))
    return lines


def zoom_levels(lines: list[Line], x_unit: str = "epoch") -> list[int]:
    """The 'last N' windows worth offering, widest first: shorter than what the lines span (epochs: 20, 10,
    5, 2; iterations: a half, a quarter, a tenth)."""
    span = x_span(lines)
    if not span:
        return []
    width = span[1] - span[0]
    if x_unit == "epoch":
        return [n for n in ZOOMS if n < width]
    return [n for n in (round(width / 2), round(width / 4), round(width / 10)) if 1 < n < width]


def x_span(lines: list[Line]) -> tuple[float, float] | None:
    xs = [x for line in lines for x in line.xs]
    return (min(xs), max(xs)) if xs else None


def zoomed(lines: list[Line], last: float | None) -> list[Line]:
    """Only the points within the last `last` units of x."""
    span = x_span(lines)
    if not last or span is None:
        return lines
    start = span[1] - last
    out = []
    for line in lines:
        keep = [(x, y) for x, y in zip(line.xs, line.ys) if x >= start]
        if keep:
            out.append(Line(line.label, [p[0] for p in keep], [p[1] for p in keep], line.color, line.marker))
    return out


def integer_ticks(lo: float, hi: float, width: int) -> list[int]:
    """Whole-number ticks from lo to hi, no closer than about six cells apart."""
    first, last = math.ceil(lo), math.floor(hi)
    if last < first:
        return [round(lo)]
    most = max(2, width // 6)
    step = max(1, math.ceil((last - first + 1) / most))
    return list(range(first, last + 1, step))


def can_log(lines: list[Line]) -> bool:
    shown = [y for line in lines for y in line.ys if math.isfinite(y)]
    return bool(shown) and min(shown) > 0


def draw_lines(plt, lines: list[Line], width: int, *, x_label: str = "", integer_x: bool = False,
               log: bool = False, title: str = "") -> None:
    """Lines first, then the markers on top; no legend inside (see `legend`)."""
    runs = [(line, xs, ys) for line in lines for xs, ys in finite_runs(line.xs, line.ys)]
    for line, xs, ys in runs:
        if len(xs) > 1:
            plt.plot(xs, ys, marker="braille", color=line.color)
    for line, xs, ys in runs:
        if line.marker or len(xs) == 1:
            plt.scatter(xs, ys, marker=line.marker or "●", color=line.color)
    span = x_span(lines)
    if integer_x and span is not None:
        ticks = integer_ticks(*span, width)
        plt.xticks(ticks, [str(t) for t in ticks])
    if log and can_log(lines):
        plt.yscale("log")
    if title:
        plt.title(title)
    if x_label:
        plt.xlabel(x_label)


def legend(lines: list[Line]) -> Text:
    """One line that says which curve is which, by marker and colour (readable without colour too)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    for line in lines:
        if out:
            out.append("  ")
        out.append(line.marker or LINE_MARK, style=rich_color(line.color))
        out.append(f" {line.label}")
    return out


def latest(series: Series, name: str) -> tuple[int, float] | None:
    steps, values = series.get(name, ([], []))
    return (steps[-1], values[-1]) if steps else None


def value_text(name: str, value: float) -> str:
    from tui import format as fmt

    return fmt.percent(value) if is_accuracy(name) and 0 <= value <= 1 else fmt.number(value)
