"""A job's metrics as plots, grouped (per iteration on top; per-epoch losses and accuracies below).

Fed incrementally (`add(rows)`); a resumed job that rewrites steps replaces
them. Plots are redrawn at most twice a second, and only while visible.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from tui.colors import SERIES
from tui.plotting import PlotGroup, Series, group_series, latest, thin, value_text
from tui.widgets.plot import Plot


def add_rows(series: Series, rows) -> set[str]:
    """Fold metric rows (id, name, step, value) into `series`; returns the names that changed."""
    touched = set()
    for row in rows:
        name, step, value = row["name"], row["step"], row["value"]
        steps, values = series.setdefault(name, ([], []))
        if steps and steps[-1] >= step:  # a resumed job reports these steps again
            keep = next((i for i, s in enumerate(steps) if s >= step), len(steps))
            del steps[keep:], values[keep:]
        steps.append(step)
        values.append(value)
        touched.add(name)
    return touched


def draw_group(plt, series: Series, group: PlotGroup, width: int, labels: dict[str, str] | None = None) -> None:
    for i, name in enumerate(group.names):
        steps, values = series.get(name, ([], []))
        if not steps:
            continue
        xs, ys = thin(steps, values, max(20, width * 2))
        if len(xs) == 1:
            plt.scatter(xs, ys, label=(labels or {}).get(name, name), color=SERIES[i % len(SERIES)])
        else:
            plt.plot(xs, ys, label=(labels or {}).get(name, name), marker="braille", color=SERIES[i % len(SERIES)])
    plt.title(group.title)
    plt.xlabel(group.x_label)


class MetricPlots(Vertical):
    DEFAULT_CSS = """
    MetricPlots { height: 1fr; }
    MetricPlots > #metric-latest { height: 2; }
    MetricPlots > Horizontal { height: 1fr; }
    MetricPlots > #metric-empty { color: $text-muted; padding: 1 2; }
    """

    def __init__(self, epochs: int | None = None, id: str | None = None):
        super().__init__(id=id)
        self.series: Series = {}
        self.epochs = epochs
        self.groups: list[PlotGroup] = []
        self.plots: dict[str, Plot] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="metric-latest")
        yield Static("no metrics yet: they appear here as the job reports them", id="metric-empty")
        yield Horizontal(id="row-0")
        yield Horizontal(id="row-1")

    def reset(self) -> None:
        self.series.clear()
        self.update_plots(set())

    def add(self, rows) -> None:
        touched = add_rows(self.series, rows)
        if touched:
            self.update_plots(touched)

    def update_plots(self, touched: set[str]) -> None:
        self.groups = group_series(self.series, self.epochs)
        wanted = {g.key: g for g in self.groups}
        for key in [k for k in self.plots if k not in wanted]:
            self.plots.pop(key).remove()
        for group in self.groups:
            plot = self.plots.get(group.key)
            if plot is None:
                plot = self.plots[group.key] = Plot(self._drawer(group.key), classes=f"plot-{group.key}")
                self.query_one(f"#row-{group.row}", Horizontal).mount(plot)
            elif touched & set(group.names):
                plot.changed()
        for row in (0, 1):
            self.query_one(f"#row-{row}", Horizontal).display = any(g.row == row for g in self.groups)
        self.query_one("#metric-empty").display = not self.groups
        self._latest()

    def _drawer(self, key: str):
        def draw(plt) -> None:
            group = next((g for g in self.groups if g.key == key), None)
            plot = self.plots.get(key)
            if group is not None and plot is not None:
                draw_group(plt, self.series, group, plot.size.width or 40)
        return draw

    def _latest(self) -> None:
        out = Text(overflow="fold")
        for name in sorted(self.series):
            last = latest(self.series, name)
            if last is None:
                continue
            if out:
                out.append("  ")
            out.append(f"{name} ", style="dim")
            out.append(value_text(name, last[1]), style="bold")
            out.append(f" @{last[0]}", style="dim")
        self.query_one("#metric-latest", Static).update(out, layout=False)
