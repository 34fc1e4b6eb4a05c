"""A sweep as text: one row per point, best first, and the metric against each swept field (plotext).

The CLI (`mnistlab sweep show`) prints `render_sweep`; the dashboard's sweep view
(tui/screens/sweep.py) shows the same heading, row cells and plots through
`heading`, `point_cells` and `draw_field`.
"""

from __future__ import annotations

import math
from dataclasses import replace

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from runs.sweeps import PointRow, SweepSummary, value_text
from tui.colors import SERIES

PLOT_HEIGHT = 14
MAX_PLOT_WIDTH = 100


def id_ranges(ids: list[int], most: int = 3) -> str:
    """[12, 13, 14, 20] -> '12-14,20'; after `most` runs of ids, '+N' says how many more ids there are."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    text = ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:most])
    rest = sum(b - a + 1 for a, b in runs[most:])
    return text + (f",+{rest}" if rest else "")


class render_sweep:
    """The ranked points of a sweep (at most `limit`, None for all) and, with `plot`, a plot per field."""

    def __init__(self, number: int, summary: SweepSummary, limit: int | None, plot: bool):
        self.number, self.summary, self.limit, self.plot = number, summary, limit, plot

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        s = self.summary
        yield Text(heading(self.number, s), style="bold")
        if not s.rows:
            yield Text("no jobs in this sweep: it was stopped before its jobs were queued", style="dim")
            return
        shown = s.rows if self.limit is None else s.rows[:self.limit]
        yield self._table(shown)
        if len(shown) < len(s.rows):
            yield Text(f"and {len(s.rows) - len(shown):,} more point(s) (--all, or --limit N)", style="dim")
        yield Text("mean ± std over finished seeds; … = still queued or running", style="dim")
        if self.plot:
            width = min(options.max_width, MAX_PLOT_WIDTH)
            for name in s.fields:
                plot = field_plot(s, name, width)
                if plot is not None:
                    yield plot

    def _table(self, rows: list[PointRow]) -> Table:
        s = self.summary
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("#", justify="right", style="bold")
        for name in s.fields:
            table.add_column(name, no_wrap=True)
        table.add_column(metric_title(s), justify="right", no_wrap=True)
        table.add_column("seeds", justify="right", no_wrap=True)
        table.add_column("jobs", no_wrap=True, overflow="ellipsis")
        for rank, row in enumerate(rows, 1):
            table.add_row(*point_cells(s, rank, row))
        return table


def heading(number: int, summary: SweepSummary) -> str:
    """'sweep 3: train, 3 point(s) (5 done, 1 queued); ranked by test_accuracy, highest first'."""
    s = summary
    counts = ", ".join(f"{n:,} {status}" for status, n in sorted(s.counts.items())) or "no jobs"
    return (f"sweep {number}: {s.kind}, {len(s.rows):,} point(s) ({counts}); ranked by {s.metric}, "
            f"{'highest' if s.best == 'high' else 'lowest'} first")


def metric_title(summary: SweepSummary) -> str:
    return summary.metric + (f" ({summary.unit})" if summary.unit else "")


def point_cells(summary: SweepSummary, rank: int, row: PointRow, digits: int | None = None) -> list[str]:
    """One point's row: its rank (blank until a seed finished), the swept values, mean ± std (with `digits`
    decimals if given), finished/all seeds, and the job ids."""
    cell = row.cell if digits is None else replace(row.cell, digits=digits)
    done = f"{len(cell.values)}/{len(cell.job_ids)}" + (f", {cell.failed} failed" if cell.failed else "")
    return [str(rank) if cell.mean is not None else "", *(value_text(row.values[k]) for k in summary.fields),
            cell.text, done, id_ranges(cell.job_ids)]


def field_plot(summary: SweepSummary, name: str, width: int) -> Text | None:
    """`draw_field` as text for a plain terminal; None when there is nothing to plot."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, PLOT_HEIGHT)
    plt.theme("clear")
    if not draw_field(plt, summary, name):
        return None
    return Text.from_ansi(plt.build())


def legend_labels(name: str) -> tuple[str, str]:
    """What the plot's two series are: its points (SERIES[0]) and the best at each value (SERIES[1])."""
    return "each point", f"best at each {name}"


def draw_field(plt, summary: SweepSummary, name: str, legend: bool = True) -> bool:
    """Every point's mean against one field's value, and the best point at each value as a line, drawn on
    `plt` (plotext, or a dashboard plot; `legend=False` leaves the legend to the caller, outside the data).
    Points without a finite mean are left out; False (nothing drawn) when fewer than two values of the field
    have a result."""
    points = [(row.values.get(name), row.cell.mean * summary.scale) for row in summary.rows
              if row.cell.mean is not None and math.isfinite(row.cell.mean * summary.scale)]
    labels = list(dict.fromkeys(value_text(x) for x, _ in points))
    if len(labels) < 2:
        return False
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x, _ in points)
    if numeric:
        xs = [float(x) for x, _ in points]
        if min(xs) > 0 and max(xs) / min(xs) >= 100:
            plt.xscale("log")
    else:  # categories (net ids, transforms) in the order of their best point
        position = {label: i + 1.0 for i, label in enumerate(labels)}
        xs = [position[value_text(x)] for x, _ in points]
        plt.xticks(list(position.values()), labels)
    ys = [y for _, y in points]
    best = max if summary.best == "high" else min
    top: dict[float, float] = {}
    for x, y in zip(xs, ys):
        top[x] = best(top.get(x, y), y)
    line = sorted(top.items())
    point_label, line_label = legend_labels(name) if legend else (None, None)
    plt.plot([x for x, _ in line], [y for _, y in line], color=SERIES[1], label=line_label)
    plt.scatter(xs, ys, marker="dot", color=SERIES[0], label=point_label)  # on top: the line hides no point
    plt.title(f"{metric_title(summary)} against {name}")
    return True
