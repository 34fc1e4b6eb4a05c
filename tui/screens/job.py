"""One job: live curves, result tables (matrices, curves, histograms, maps), spec and record, log, images.

Opened with Enter from any job list; Escape goes back. While the job runs,
each look at the store reads only what is new: metric rows and log lines
after the last seen id; tables and images are re-read only when the job's
newest table or artifact changed.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import RichLog, Static, TabbedContent, TabPane

from runs.records import Job
from tui import format as fmt
from tui import job_rows
from tui.cli.views import epochs_table, flatten, key_values
from tui.live import Changes
from tui.screens.base import LabScreen
from tui.screens.confirm import Confirm
from tui.widgets.metric_plots import MetricPlots
from tui.widgets.picture import artifact_picture
from tui.widgets.results import table_kind, table_widgets

TABS = ("curves", "results", "spec", "log", "images")
LOG_LINES = 2000


class JobScreen(LabScreen):
    DEFAULT_CSS = """
    JobScreen #job-head { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    JobScreen TabbedContent { height: 1fr; }
    JobScreen TabPane { padding: 0; }
    JobScreen #spec-text, JobScreen .result-table { padding: 0 1; }
    JobScreen .result-table { margin-bottom: 1; }
    JobScreen #images-box > Static { margin-bottom: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("right_square_bracket", "tab(1)", "next tab"),
        Binding("left_square_bracket", "tab(-1)", "prev tab", show=False),
        Binding("c", "cancel", "cancel"),
        Binding("r", "retry", "retry"),
        Binding("v", "region", "region view", show=False),
        Binding("e", "export", "export", show=False),
    ]

    def __init__(self, job_id: int):
        super().__init__()
        self.job_id = job_id
        self.job: Job | None = None
        self.metric_id = 0
        self.log_id = 0
        self.outputs_key: tuple | None = None
        self.tables: dict = {}
        self.artifacts: list[dict] = []

    def compose(self) -> ComposeResult:
        self.MODE = self.app.current_mode
        self.TITLE_TEXT = f"job {self.job_id}"
        yield from super().compose()

    def compose_body(self) -> ComposeResult:
        job = self.app.live.jobs.get(self.job_id)
        epochs = job.spec.get("epochs") if job and isinstance(job.spec.get("epochs"), int) else None
        yield Static(id="job-head")
        with TabbedContent(initial="curves"):
            with TabPane("Curves", id="curves"):
                yield MetricPlots(epochs=epochs)
            with TabPane("Results", id="results"):
                yield VerticalScroll(id="results-box")
            with TabPane("Spec", id="spec"):
                with VerticalScroll():
                    yield Static(id="spec-text")
            with TabPane("Log", id="log"):
                yield RichLog(id="log-view", max_lines=LOG_LINES, wrap=True, markup=False, auto_scroll=True)
            with TabPane("Images", id="images"):
                yield VerticalScroll(id="images-box")

    def on_mount(self) -> None:
        super().on_mount()
        self.guard(self.reload)

    # -- reading ---------------------------------------------------------------
    def reload(self) -> None:
        """Everything from scratch (on open, and when a fresh retry wiped the job's reports)."""
        store = self.app.store
        self.job = store.job(self.job_id)
        self.metric_id = self.log_id = 0
        self.query_one(MetricPlots).reset()
        self.query_one("#log-view", RichLog).clear()
        self.outputs_key = None
        self._read_new()
        self._show_head()
        self._show_spec()

    def _read_new(self) -> None:
        store = self.app.store
        rows = store.metrics_after(self.job_id, self.metric_id)
        if rows:
            self.metric_id = rows[-1]["id"]
            self.query_one(MetricPlots).add(rows)
        logs = store.logs(self.job_id, after_id=self.log_id, limit=None if self.log_id else LOG_LINES)
        if logs:
            self.log_id = logs[-1]["id"]
            view = self.query_one("#log-view", RichLog)
            for row in logs:
                view.write(log_text(row))
        key = (store.outputs_seq(self.job_id), self.job.status if self.job else None)
        if key != self.outputs_key:
            self.outputs_key = key
            self.tables = store.tables(self.job_id)
            self.artifacts = store.artifacts(self.job_id)
            self._show_results()
            self._show_images()

    def on_changes(self, changes: Changes | None) -> None:
        job = self.app.live.jobs.get(self.job_id)
        if job is None:
            return
        if changes is not None and self.job_id not in changes.jobs and not changes.data:
            return
        old = self.job
        self.job = job
        if old is not None and job.status == "queued" and old.status != "queued" and job.progress == 0:
            self.reload()  # retried from scratch: its old reports are gone
            return
        if changes is None or changes.data:
            self._read_new()
        if old is None or old.seq != job.seq:
            self._show_head()
            if old is None or old.status != job.status or old.repro != job.repro or old.result != job.result:
                self._show_spec()
        state = (job.status, job.cancel_requested)
        if state != getattr(self, "_keys_state", None):  # the footer's keys follow the job, when they change
            self._keys_state = state
            self.refresh_bindings()

    # -- showing ---------------------------------------------------------------------
    def _show_head(self) -> None:
        job = self.job
        live = self.app.live
        line1 = Text(no_wrap=True, overflow="ellipsis")
        line1.append(f"#{job.id} ", style="bold")
        line1.append(f"{job.kind} {job.short_spec()}")
        if job.study:
            line1.append(f"  study {job.study}", style="dim")
        line2 = Text(no_wrap=True, overflow="ellipsis")
        line2.append_text(job_rows.status_text(job))
        if job.slot:
            line2.append(f"  on {job.device or job.slot}", style="dim")
        if job.status == "running":
            line2.append(f"  {fmt.bar(job.progress, 16)} {job.progress * 100:3.0f}%", style="cyan")
            if job.eta_s is not None:
                line2.append(f"  ETA {fmt.duration(job.eta_s)}")
        if job.runtime_s is not None:
            line2.append(f"  ran {fmt.duration(job.runtime_s)}", style="dim")
        if job.headline is not None:
            line2.append("  result ", style="dim")
            line2.append(job_rows.headline_text(job), style="bold green")
        if job.attempts > 1:
            line2.append(f"  attempt {job.attempts}", style="dim")
        parts = [line1, line2]
        note = job_rows.note_text(job, live.engine_running)
        if note.plain:
            parts.append(note)
        key = tuple(p.plain for p in parts)
        if key != getattr(self, "_head_key", None):
            layout = len(parts) != len(getattr(self, "_head_key", ()) or ())
            self._head_key = key
            self.query_one("#job-head", Static).update(Group(*parts), layout=layout)

    def _show_spec(self) -> None:
        job = self.job
        blocks = [key_values(sorted(job.spec.items()), title="spec (every default filled in)")]
        facts = [("status", job.status), ("reason", job.reason or "-"), ("study", job.study or "-"),
                 ("label", job.label or "-"), ("priority", job.priority),
                 ("placement", job.placement or "any slot"), ("depends on", job.depends_on or "-"),
                 ("data folder", job.data_dir or "-"),
                 ("artifacts", str(self.app.store.paths.artifacts(job.id))),
                 ("created", fmt.ago(job.created_at)), ("attempts", f"{job.attempts} of {job.max_attempts}")]
        blocks.append(key_values(facts, title="job"))
        if job.result:
            blocks.append(key_values(sorted(job.result.items()), title="result"))
        if job.repro:
            repro = {k: v for k, v in job.repro.items() if k != "spec"}
            blocks.append(key_values(flatten(repro), title="reproducibility record"))
        attempts = self.app.store.attempts(job.id)
        if attempts:
            table = Table(title="attempts", title_justify="left", title_style="bold", box=None, pad_edge=False)
            for col in ("n", "started", "took", "slot", "outcome", "reason"):
                table.add_column(col, overflow="fold")
            for a in attempts:
                took = (a["ended_at"] - a["started_at"]) if a["ended_at"] else None
                table.add_row(str(a["n"]), fmt.ago(a["started_at"]), fmt.duration(took), a["slot"] or "-",
                              a["outcome"] or "running", a["reason"] or "")
            blocks.append(table)
        spaced = []
        for block in blocks:
            spaced += [block, Text("")]
        self.query_one("#spec-text", Static).update(Group(*spaced))

    def _show_results(self) -> None:
        box = self.query_one("#results-box", VerticalScroll)
        box.remove_children()
        ansi = self.app.ansi_mode
        widgets = []
        job = self.job
        if job and job.result:
            widgets.append(Static(result_grid(job.result, self.app.size.width), classes="result-table"))
        elif job and job.status == "failed":
            widgets.append(Static(Text(f"failed: {job.reason or 'no reason recorded'}", style="red"),
                                  classes="result-table"))
        per_epoch = epochs_table({n: list(zip(*s)) for n, s in self.query_one(MetricPlots).series.items()})
        if per_epoch is not None:
            widgets.append(Static(per_epoch, classes="result-table"))
        for name, payload in self.tables.items():
            widgets += table_widgets(name, payload, ansi)
        if not widgets:
            widgets.append(Static(Text("no results yet", style="dim"), classes="result-table"))
        box.mount_all(widgets)
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("results").label = f"Results ({len(self.tables)})" if self.tables else "Results"

    def _images(self) -> list[dict]:
        return [a for a in self.artifacts if a["kind"] == "image"]

    def _show_images(self) -> None:
        box = self.query_one("#images-box", VerticalScroll)
        box.remove_children()
        images = self._images()
        width = max(20, (box.size.width or self.app.size.width) - 3)
        lines = max(8, (box.size.height or self.app.size.height - 8) - 2)
        if not images:
            box.mount(Static(Text("no images: this job stored none (yet)", style="dim")))
        else:
            box.mount_all([Static(artifact_picture(a, a["name"], width, lines, self.app.ansi_mode))
                           for a in images])
        self.query_one(TabbedContent).get_tab("images").label = f"Images ({len(images)})" if images else "Images"

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "images":
            self.call_after_refresh(self._show_images)  # its size is known once it shows

    # -- keys -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        job = self.job
        if action == "cancel":
            return job is not None and not job.finished and not job.cancel_requested or None
        if action == "retry":
            return job is not None and job.status in ("failed", "cancelled") or None
        if action == "region":
            return any(table_kind(p) == "scatter" and p.get("images") for p in self.tables.values()) or None
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        i = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(i + step) % len(TABS)]

    def action_cancel(self) -> None:
        job = self.job
        if job is None or job.finished:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.job_action(lambda s: s.cancel(job.id), f"job {job.id}: {{}}")

        self.app.push_screen(Confirm(f"Cancel job {job.id} ({job.status}: {job.kind} {job.short_spec()})?",
                                     yes="Cancel job", no="Keep"), answered)

    def action_retry(self) -> None:
        job = self.job

        def retry(store) -> str:
            store.retry(job.id)
            self.app.ensure_engine()
            return "queued again (resumes from its checkpoint)"

        self.app.job_action(retry, f"job {job.id}: {{}}")

    def action_region(self) -> None:
        from tui.screens.region import RegionScreen, pick_scatter

        scatters = [(n, p) for n, p in self.tables.items() if table_kind(p) == "scatter" and p.get("images")]
        if not scatters:
            self.notify("this job has no map with images of its points", severity="warning")
            return
        if len(scatters) == 1:
            screen = self.guard(RegionScreen, self.job_id, *scatters[0], self.artifacts)
            if screen is not None:
                self.app.push_screen(screen)
        else:
            pick_scatter(self.app, self.job_id, scatters, self.artifacts)

    def action_export(self) -> None:
        from tui.screens.export import ExportScreen

        self.app.push_screen(ExportScreen([self.job_id]))


def result_grid(result: dict, width: int):
    """A job's result as key/value pairs, two or three pairs a line (it is read at a glance)."""
    from tui.cli.views import _plain

    pairs = [(k, v) for k, v in sorted(result.items()) if v is not None]
    per_line = max(1, min(3, width // 38))
    grid = Table.grid(padding=(0, 2))
    for _ in range(per_line):
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(no_wrap=True)
    for i in range(0, len(pairs), per_line):
        cells = []
        for key, value in pairs[i:i + per_line]:
            shown = f"{value * 100:.2f}%" if "accuracy" in key and isinstance(value, float) and 0 <= value <= 1 \
                else _plain(value)
            cells += [key, Text(shown, style="bold green" if "accuracy" in key else "")]
        grid.add_row(*cells)
    return Group(Text("result", style="bold"), grid)


def log_text(row) -> Text:
    import time

    stamp = time.strftime("%H:%M:%S", time.localtime(row["ts"]))
    style = {"error": "red", "warning": "yellow"}.get(row["level"], "")
    return Text.assemble((stamp + " ", "dim"), (row["message"].rstrip(), style))
