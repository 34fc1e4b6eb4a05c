"""A job's metrics as charts: the main one (loss, first) large, the others beside it when there is room.

Fed incrementally (`add(rows)`); a resumed job that rewrites steps replaces
them. Charts are redrawn at most twice a second, and only while visible.
Keys while it has the focus: `m` the next chart, `z` zoom to the last N
epochs, `l` log scale. On a short terminal (80x24) only the main chart is
shown, and it takes most of the height.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from tui.plotting import (Chart, Series, can_log, chart_lines, charts, draw_lines, iterations_per_epoch, latest,
                          legend, value_text, zoom_levels, zoomed)
from tui.widgets.plot import Plot

TALL = 34  # rows from which the other charts get a row under the main one
CHART_KEYS = (("next_chart", "m next chart"), ("zoom", "z zoom"), ("log", "l log"))  # action, bar hint


def add_rows(series: Series, rows, ids: dict[str, list[int]]) -> set[str]:
    """Fold metric rows (id, name, step, value) into `series` and their row ids into `ids`; returns the
    names that changed."""
    touched = set()
    for row in rows:
        name, step, value = row["name"], row["step"], row["value"]
        steps, values = series.setdefault(name, ([], []))
        order = ids.setdefault(name, [])
        if steps and steps[-1] >= step:  # a resumed job reports these steps again
            keep = next((i for i, s in enumerate(steps) if s >= step), len(steps))
            del steps[keep:], values[keep:], order[keep:]
        steps.append(step)
        values.append(value)
        order.append(row["id"])
        touched.add(name)
    return touched


class ChartView(Vertical):
    """One chart: its legend line (outside the data), then the plot."""

    DEFAULT_CSS = """
    ChartView { height: 1fr; }
    ChartView > .chart-legend { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ChartView > Plot { height: 1fr; }
    """

    def __init__(self, owner: "MetricPlots", key: str, main: bool = False, id: str | None = None):
        super().__init__(id=id)
        self.owner, self.key, self.main = owner, key, main

    def compose(self) -> ComposeResult:
        yield Static(classes="chart-legend")
        yield Plot(self._draw)

    def changed(self, now: bool = False) -> None:
        """Redraw soon, or `now` (a plot not mounted yet draws itself when it is)."""
        for plot in self.query(Plot):
            plot.changed(now)

    def _draw(self, plt) -> None:
        chart = self.owner.chart(self.key)
        if chart is None:
            return
        width = self.query_one(Plot).size.width or 60
        lines = chart_lines(chart, self.owner.series, width, self.owner.ipe)
        if self.main:
            lines = zoomed(lines, self.owner.zoom)
        self.query_one(".chart-legend", Static).update(legend(lines), layout=False)
        title = "" if self.main else chart.title
        draw_lines(plt, lines, width, x_label=chart.x_unit, integer_x=chart.x_unit == "epoch",
                   log=self.main and self.owner.log_scale, title=title)


class MetricPlots(Vertical, can_focus=True):
    DEFAULT_CSS = """
    MetricPlots { height: 1fr; }
    MetricPlots > #metric-latest { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    MetricPlots > #chart-bar { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    MetricPlots > #chart-main { height: 2fr; min-height: 8; }
    MetricPlots > #chart-more { height: 1fr; display: none; }
    MetricPlots.tall > #chart-more.some { display: block; }
    MetricPlots > #metric-empty { color: $text-muted; padding: 1 2; }
    """
    BINDINGS = [
        Binding("m", "next_chart", "next chart", tooltip="show the next chart (loss, accuracy, ...)"),
        Binding("z", "zoom", "zoom", tooltip="zoom to the last 20, 10, 5, 2 epochs, then all"),
        Binding("l", "log", "log scale", tooltip="switch the main chart between a linear and a log scale"),
    ]

    def __init__(self, epochs: int | None = None, id: str | None = None):
        super().__init__(id=id)
        self.series: Series = {}
        self.ids: dict[str, list[int]] = {}
        self.epochs = epochs
        self.charts: list[Chart] = []
        self.ipe: float | None = None      # iterations per epoch, once an epoch has ended
        self.main_key: str | None = None   # the chart shown large (the first: loss)
        self.zoom: int | None = None       # the last N epochs (None: all)
        self.log_scale = False

    def compose(self) -> ComposeResult:
        yield Static(id="metric-latest")
        yield Static(id="chart-bar")
        yield Static("no metrics yet: they appear here as the job reports them", id="metric-empty")
        yield ChartView(self, "", main=True, id="chart-main")
        yield Horizontal(id="chart-more")

    def on_mount(self) -> None:
        self.update_plots(set())

    def on_resize(self) -> None:
        self.set_class(self.size.height >= TALL, "tall")

    def reset(self) -> None:
        self.series.clear()
        self.ids.clear()
        self.update_plots(set())

    def add(self, rows) -> None:
        touched = add_rows(self.series, rows, self.ids)
        if touched:
            self.update_plots(touched)

    def chart(self, key: str) -> Chart | None:
        return next((c for c in self.charts if c.key == key), None)

    @property
    def main(self) -> Chart | None:
        return self.chart(self.main_key) if self.main_key else None

    def update_plots(self, touched: set[str]) -> None:
        self.ipe = iterations_per_epoch(self.series, self.ids, self.epochs)
        old = [c.key for c in self.charts]
        self.charts = charts(self.series, self.epochs, self.ipe)
        keys = [c.key for c in self.charts]
        if self.main_key not in keys:
            self.main_key = keys[0] if keys else None
        main_view = self.query_one("#chart-main", ChartView)
        main_view.key = self.main_key or ""
        more = self.query_one("#chart-more", Horizontal)
        others = [k for k in keys if k != self.main_key]
        if keys != old or [v.key for v in more.query(ChartView)] != others:
            more.remove_children()
            more.mount_all([ChartView(self, k) for k in others])
        more.set_class(bool(others), "some")
        main_view.display = bool(self.charts)
        self.query_one("#chart-bar").display = bool(self.charts)
        self.query_one("#metric-empty").display = not self.charts
        for view in self.query(ChartView):
            chart = self.chart(view.key)
            if chart is not None and (touched & set(chart.names) or keys != old):
                view.changed(now=keys != old)
        self._latest()
        allowed = self._chart_keys()
        self._bar(allowed)
        keys = tuple(allowed.values())
        if keys != getattr(self, "_keys", None):  # the footer follows what the chart keys may do now
            self._keys = keys
            if self.is_mounted:
                self.screen.refresh_bindings()

    def _chart_keys(self) -> dict[str, bool]:
        """Which chart keys may act now (each asks for the main chart's lines: worked out once a batch)."""
        return {action: self.why_not(action) is None for action, _ in CHART_KEYS}

    def _bar(self, allowed: dict[str, bool] | None = None) -> None:
        main = self.main
        out = Text(no_wrap=True, overflow="ellipsis")
        if main is None:
            self.query_one("#chart-bar", Static).update(out)
            return
        if len(self.charts) > 1:
            i = [c.key for c in self.charts].index(main.key)
            out.append(f"chart {i + 1} of {len(self.charts)}: ", style="dim")
        out.append(main.title, style="bold")
        unit = "epochs" if main.x_unit == "epoch" else "iterations"
        out.append(f"  ·  {f'last {self.zoom:,} {unit}' if self.zoom else 'all ' + unit}", style="dim")
        out.append(f"  ·  {'log' if self.log_scale else 'linear'} scale", style="dim")
        allowed = allowed or self._chart_keys()
        keys = "  ".join(hint for action, hint in CHART_KEYS if allowed[action])
        if keys:
            out.append(f"  ·  {keys}", style="dim")
        self.query_one("#chart-bar", Static).update(out)

    def _latest(self) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")
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

    def _redraw_main(self) -> None:
        self._bar()
        self.query_one("#chart-main", ChartView).changed()

    # -- keys ----------------------------------------------------------------------------
    def why_not(self, action: str, parameters: tuple = ()) -> str | None:
        main = self.main
        if action in ("next_chart", "zoom", "log") and main is None:
            return "no metrics yet"
        if action == "next_chart" and len(self.charts) < 2:
            return f"this job has one chart ({main.title})"
        if action == "zoom" and not self.zoom and not zoom_levels(self._main_lines(), main.x_unit):
            return "too few epochs to zoom into"
        if action == "log" and not self.log_scale and not can_log(self._main_lines()):
            return "a log scale needs values above zero"
        return None

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return self.why_not(action, parameters) is None

    def _main_lines(self):
        main = self.main
        return chart_lines(main, self.series, 80, self.ipe) if main else []

    def action_next_chart(self) -> None:
        keys = [c.key for c in self.charts]
        if len(keys) > 1:
            self.main_key = keys[(keys.index(self.main_key) + 1) % len(keys)]
            self.zoom, self.log_scale = None, False
            self.update_plots(set(self.series))

    def action_zoom(self) -> None:
        levels = zoom_levels(self._main_lines(), self.main.x_unit)
        later = [n for n in levels if self.zoom is None or n < self.zoom]
        self.zoom = later[0] if later else None
        self._redraw_main()

    def action_log(self) -> None:
        self.log_scale = not self.log_scale
        self._redraw_main()
