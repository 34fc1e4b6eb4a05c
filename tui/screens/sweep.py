"""A sweep: one row per point (mean ± std over seeds, best first) and the main metric against a swept field.

Opened with `S` from the Studies pane (a sweep on show), from any job of a
sweep (its view, its queue or history row), or from the palette ("Open sweep
N"). `f` plots the metric against the next swept field, Enter on a point opens
its run (or lists its seeds' runs, best first), Escape goes back.

The same heading, row cells and plot as `mnistlab sweep show` (tui/cli/sweep_view.py),
summarised by `runs.sweeps.summarize`. The sweep's jobs are read once through
the store's group index; after that only the changed ones, by id, and the
view is recomputed at most once a second however many of them change.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from runs import sweeps
from runs.records import Job
from runs.sweeps import SweepSummary
from tui import format as fmt
from tui.cli.sweep_view import draw_field, heading, legend_labels, metric_title, point_cells
from tui.colors import SERIES, rich_color
from tui.live import Changes
from tui.screens.base import DetailScreen, Throttled
from tui.widgets.plot import Plot

SHOWN = 200       # points in the table; `mnistlab sweep show N --all` lists every one
REFRESH_S = 1.0


class PointsTable(DataTable):
    DEFAULT_CLASSES = "focus-bar"
    BINDINGS = [Binding("j", "cursor_down", show=False), Binding("k", "cursor_up", show=False)]


def sweep_groups(store) -> list[tuple[str, dict]]:
    """(group name, options) of every sweep, oldest first: a read of the small studies table only; none when
    the store cannot be read (the palette still opens)."""
    import json
    import sqlite3

    from runs.db import StoreError

    try:
        rows = store.query("SELECT name, options FROM studies WHERE type = ? ORDER BY created_at", (sweeps.TYPE,))
    except (StoreError, sqlite3.Error, OSError):
        return []
    return [(r[0], json.loads(r[1])) for r in rows]


def open_sweep(app, group: str) -> None:
    app.push_screen(SweepScreen(group))


class SweepScreen(DetailScreen):
    DEFAULT_CSS = """
    SweepScreen #sweep-head { height: auto; max-height: 2; padding: 0 1; background: $boost; }
    SweepScreen #sweep-points { height: auto; max-height: 40%; }
    SweepScreen #sweep-note, SweepScreen #plot-legend { height: 1; padding: 0 1; text-wrap: nowrap;
                                                        text-overflow: ellipsis; }
    SweepScreen #sweep-note { color: $text-muted; }
    SweepScreen #sweep-plot { height: 1fr; min-height: 8; }
    """
    BINDINGS = [
        Binding("f", "field(1)", "next field", tooltip="plot the metric against the next swept field"),
        Binding("F", "field(-1)", "prev field", show=False, tooltip="plot against the previous swept field"),
    ]

    def __init__(self, group: str):
        super().__init__()
        self.group = group
        self.current = group  # what the Studies pane opens on next time (the view a person left)
        self.number = sweeps.number(group)
        self.jobs: dict[int, Job] = {}
        self.order: list[str] = []
        self.summary: SweepSummary | None = None
        self.field_index = 0
        self._columns: tuple | None = None
        self._dirty: set[int] = set()
        self.reread_soon = Throttled(self, self._reread, REFRESH_S)

    def title_text(self) -> str:
        return f"sweep {self.number}"

    def compose_body(self) -> ComposeResult:
        yield Static(id="sweep-head")
        yield PointsTable(id="sweep-points", cursor_type="row", zebra_stripes=False)
        yield Static(id="sweep-note")
        yield Static(id="plot-legend")
        yield Plot(self._draw, id="sweep-plot")

    def on_mount(self) -> None:
        super().on_mount()
        self.guard(self.load)
        self.set_focus(self.query_one(PointsTable))

    # -- reading ---------------------------------------------------------------------
    def load(self) -> None:
        """Every job of the sweep (one indexed read of its group)."""
        store = self.app.store
        self.order = store.study(self.group)["options"].get("swept") or []
        self.jobs = {job.id: job for job in store.jobs(study=self.group)}
        self.show()

    def on_changes(self, changes: Changes | None) -> None:
        if changes is None:
            self.load()
            return
        self._dirty |= {i for i in changes.jobs if i in self.jobs}
        if changes.new and sum(self.app.store.count_by_status(study=self.group).values()) != len(self.jobs):
            self.load()  # jobs joined the group (counted through its index, only when jobs appeared)
        elif self._dirty:
            self.reread_soon.soon()

    def _reread(self) -> None:
        ids, self._dirty = sorted(self._dirty), set()
        if ids:
            self.jobs.update((job.id, job) for job in self.app.store.jobs(ids=ids))
        self.show()

    # -- showing ----------------------------------------------------------------------
    def show(self) -> None:
        self.reread_soon.ran()
        summary = self.summary = sweeps.summarize(sorted(self.jobs.values(), key=lambda j: j.id), order=self.order)
        self.query_one("#sweep-head", Static).update(Text(heading(self.number, summary), style="bold"))
        self._show_table(summary)
        shown = min(len(summary.rows), SHOWN)
        note = "mean ± std over finished seeds; … = seeds still to run; Enter: a point's runs"
        if shown < len(summary.rows):
            note = f"the best {shown:,} of {len(summary.rows):,} points (every one: `mnistlab sweep show " \
                   f"{self.number} --all`); " + note
        self.query_one("#sweep-note", Static).update(note)
        self.field_index = min(self.field_index, max(0, len(summary.fields) - 1))
        self._show_plot()
        self.keys_follow()

    def _show_plot(self) -> None:
        """The legend as a line of text above the plot (never drawn over the data), then the plot."""
        fields = self.summary.fields
        legend = Text(no_wrap=True, overflow="ellipsis")
        if fields:
            points, best = legend_labels(fields[self.field_index])
            legend.append("• ", style=rich_color(SERIES[0]))
            legend.append(points + "   ")
            legend.append("▬ ", style=rich_color(SERIES[1]))
            legend.append(best)
            if len(fields) > 1:
                legend.append(f"   (field {self.field_index + 1} of {len(fields)}: f for the next)", style="dim")
        self.query_one("#plot-legend", Static).update(legend)
        self.query_one(Plot).changed()

    def _show_table(self, summary: SweepSummary) -> None:
        table = self.query_one(PointsTable)
        columns = ("#", *summary.fields, metric_title(summary), "seeds", "jobs")
        keep = table.cursor_row
        if columns != self._columns:
            self._columns = columns
            table.clear(columns=True)
            for i, name in enumerate(columns):
                right = name in ("#", metric_title(summary), "seeds")
                table.add_column(Text(name, style="bold", justify="right" if right else "left"), key=f"c{i}")
        else:
            table.clear()
        digits = fmt.ACCURACY_DECIMALS if summary.scale == 100 else None
        metric_at = 1 + len(summary.fields)
        for rank, row in enumerate(summary.rows[:SHOWN], 1):
            cells = [Text(text) for text in point_cells(summary, rank, row, digits)]
            cells[0].stylize("bold")
            if row.cell.mean is None:
                cells[metric_at].stylize("red" if row.cell.failed and not row.cell.pending else "dim")
            table.add_row(*cells, key=f"p{rank}")
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1), animate=False)
        self.call_after_refresh(table.refresh, layout=True)  # its height follows its rows, once counted

    def _draw(self, plt) -> None:
        summary = self.summary
        if summary is None:
            return
        if not summary.rows:
            plt.title("no jobs in this sweep: it was stopped before its jobs were queued")
            return
        if not summary.fields:
            plt.title("one point: its runs differ only in their seed, so there is nothing to plot against")
            return
        name = summary.fields[self.field_index]
        if not draw_field(plt, summary, name, legend=False):
            plt.title(f"{metric_title(summary)} against {name}: no plot until two values of {name} have a result")

    # -- keys -----------------------------------------------------------------------------
    def why_not(self, action: str, parameters: tuple) -> str | None:
        if action == "field" and (self.summary is None or len(self.summary.fields) < 2):
            fields = self.summary.fields if self.summary else []
            return (f"this sweep varies one field ({fields[0]}): the plot shows it" if fields
                    else "this sweep varies no field but the seed: there is no plot to change")
        return None


    def action_field(self, step: int) -> None:
        if self.summary and len(self.summary.fields) > 1:
            self.field_index = (self.field_index + step) % len(self.summary.fields)
            self._show_plot()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.summary is None or not 0 <= event.cursor_row < len(self.summary.rows):
            return
        row = self.summary.rows[event.cursor_row]
        ids = self._best_first(row.cell.job_ids)
        if len(ids) == 1:
            self.app.open_job(ids[0])
            return
        from tui.screens.pick import Pick

        def chosen(index: int | None) -> None:
            if index is not None:
                self.app.open_job(ids[index])

        self.app.push_screen(Pick(f"sweep {self.number}, {row.label}: which run? (best first)",
                                  [self._choice(i) for i in ids]), chosen)

    def _best_first(self, ids: list[int]) -> list[int]:
        """Finished runs by their metric, best first, then the rest by id."""
        summary = self.summary
        sign = -1 if summary.best == "high" else 1

        def key(job_id: int):
            job = self.jobs.get(job_id)
            value = sweeps.metric_value(job, summary.metric) if job and job.status == "done" else None
            return (value is None, sign * value if value is not None else 0, job_id)

        return sorted(ids, key=key)

    def _choice(self, job_id: int) -> str:
        job = self.jobs.get(job_id)
        if job is None:
            return f"job {job_id}"
        value = sweeps.metric_value(job, self.summary.metric) if job.status == "done" else None
        shown = "" if value is None else "  " + (fmt.percent(value) if self.summary.scale == 100
                                                 else fmt.number(value))
        return f"job {job.id}: seed {job.spec.get(sweeps.SEED, '-')}  {job.status}{shown}"
