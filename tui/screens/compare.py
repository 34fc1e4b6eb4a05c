"""Several runs side by side: one metric overlaid in one plot, and a table of what differs and what came out.

The table is `mnistlab compare`'s (`tui.cli.compare.comparison`): the spec
fields that differ (the others are listed once below), then every final
number, the best accuracy in bold. Each run's curve has its own marker and
colour, named in a legend line above the plot by what sets it apart
(`#12 seed=1`); accuracies are percentages, epochs whole numbers.
"""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui import format as fmt
from tui.cli.compare import comparison
from tui.colors import SERIES
from tui.job_rows import SpecColumn
from tui.live import Changes
from tui.plotting import MARKERS, Line, draw_lines, is_accuracy, legend, thin
from tui.screens.base import DetailScreen
from tui.widgets.plot import Plot


def compare_table(result: dict) -> Table:
    ids = result["ids"]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("")
    for i in ids:
        table.add_column(f"job {i}", justify="right")
    table.add_row("status", *result["status"])
    for key, values in result["spec_differs"].items():
        table.add_row(Text(key, style="yellow"), *[str(v) for v in values])
    table.add_section()
    for key, values in result["final"].items():
        best = max((v for v in values if v is not None), default=None) if "accuracy" in key else None
        cells = [Text("-") if v is None else Text(final_text(key, v), style="bold green" if v == best else "")
                 for v in values]
        table.add_row(key, *cells)
    return table


def final_text(key: str, value) -> str:
    if fmt.is_fraction_key(key) and isinstance(value, float) and 0 <= value <= 1:
        return fmt.percent(value)
    return fmt.number(value, key)


class CompareScreen(DetailScreen):
    DEFAULT_CSS = """
    CompareScreen #compare-metric, CompareScreen #compare-legend { height: 1; padding: 0 1; text-wrap: nowrap;
                                                                   text-overflow: ellipsis; }
    CompareScreen #compare-plot { height: 1fr; min-height: 8; }
    CompareScreen #compare-table-box { height: auto; max-height: 50%; }
    CompareScreen #compare-table { padding: 0 1; }
    """
    BINDINGS = [
        Binding("m", "metric(1)", "next metric"),
        Binding("M", "metric(-1)", "prev metric", show=False),
        Binding("e", "export", "export"),
    ]

    def __init__(self, ids: list[int]):
        super().__init__()
        self.ids = ids
        self.metrics: list[str] = []
        self.metric: str | None = None
        self.series: dict[int, list[tuple[int, float]]] = {}

    def title_text(self) -> str:
        return f"compare {len(self.ids)} runs"

    def compose_body(self) -> ComposeResult:
        yield Static(id="compare-metric")
        yield Static(id="compare-legend")
        yield Plot(self._draw, id="compare-plot")
        with VerticalScroll(id="compare-table-box"):
            yield Static(id="compare-table")

    def on_mount(self) -> None:
        super().on_mount()
        self.guard(self.load)

    def load(self) -> None:
        store = self.app.store
        names: list[str] = []
        for i in self.ids:
            for n in store.metric_names(i):
                if n not in names:
                    names.append(n)
        # the loss curves first (per epoch: runs of different sizes share the axis), then the accuracy
        preferred = ["val/loss", "train/loss_epoch", "val/accuracy", "train/loss"]
        self.metrics = sorted(names, key=lambda n: (preferred.index(n) if n in preferred else 99, n))
        if self.metric not in self.metrics:
            self.metric = self.metrics[0] if self.metrics else None
        self._load_series()
        records = [store.record(i) for i in self.ids]
        result = comparison(records)
        same = ", ".join(f"{k}={v}" for k, v in result["spec_same"].items())
        self.query_one("#compare-table", Static).update(
            Group(compare_table(result), Text(f"same in all: {same or 'nothing'}", style="dim")))

    def _load_series(self) -> None:
        store = self.app.store
        self.series = {i: store.series(i, self.metric) for i in self.ids} if self.metric else {}
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.metric:
            line.append("metric: ", style="dim")
            line.append(self.metric, style="bold")
            line.append(f"  ({self.metrics.index(self.metric) + 1} of {len(self.metrics)}; m: next)", style="dim")
        else:
            line.append("these runs have no metrics", style="dim")
        self.query_one("#compare-metric", Static).update(line)
        self.query_one(Plot).changed()

    def lines(self, width: int) -> list[Line]:
        """One line per run, named by what sets it apart from the others, with its own marker."""
        jobs = self._jobs()
        spec = SpecColumn.of(jobs.values())
        percent = bool(self.metric) and is_accuracy(self.metric)
        out = []
        for k, i in enumerate(self.ids):
            points = self.series.get(i) or []
            if not points:
                continue
            steps, values = zip(*points)
            xs, ys = thin(list(steps), list(values), max(20, width * 2))
            label = f"#{i} {spec.text(jobs[i])}" if i in jobs else f"#{i}"
            out.append(Line(label[:40], xs, [y * 100 for y in ys] if percent else ys, SERIES[k % len(SERIES)],
                            MARKERS[k % len(MARKERS)] if len(xs) <= 60 else None))
        return out

    def _jobs(self) -> dict:
        found = {i: self.app.live.job(i) for i in self.ids}
        return {i: job for i, job in found.items() if job is not None}

    def _per_epoch(self) -> bool:
        """Whether the metric is reported once an epoch (its last step within the runs' epochs)."""
        epochs = [job.spec.get("epochs") for job in self._jobs().values()]
        epochs = [e for e in epochs if isinstance(e, int)]
        last = max((p[-1][0] for p in self.series.values() if p), default=None)
        if last is None:
            return False
        return last <= max(epochs) if epochs else bool(self.metric and self.metric.endswith("_epoch"))

    def _draw(self, plt) -> None:
        width = self.query_one(Plot).size.width or 60
        lines = self.lines(width)
        self.query_one("#compare-legend", Static).update(legend(lines), layout=False)
        per_epoch = self._per_epoch()
        draw_lines(plt, lines, width, integer_x=per_epoch, x_label="epoch" if per_epoch else "step",
                   title=f"{self.metric}{' (%)' if self.metric and is_accuracy(self.metric) else ''}")

    def on_changes(self, changes: Changes | None) -> None:
        if changes is None or set(self.ids) & changes.jobs:
            self.load()

    def action_metric(self, step: int) -> None:
        if not self.metrics:
            return
        i = self.metrics.index(self.metric) if self.metric in self.metrics else 0
        self.metric = self.metrics[(i + step) % len(self.metrics)]
        self._load_series()


    def action_export(self) -> None:
        from tui.screens.export import ExportScreen

        self.app.push_screen(ExportScreen(self.ids))
