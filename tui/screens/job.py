"""One job: live curves, result tables (matrices, curves, histograms, maps), spec and record, log, images.

Opened with Enter from any job list; Escape goes back. While the job runs,
each look at the store reads only what is new: metric rows and log lines
after the last seen id; tables and images are re-read only when the job's
newest table or artifact changed.

The tab on show has the focus (arrows scroll it, the chart keys work at
once); `[` and `]` switch tabs.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import RichLog, Static, TabbedContent, TabPane

from jobs.kinds import KINDS
from runs.records import Job
from tui import format as fmt
from tui import job_actions, job_rows
from tui.cli.views import epochs_table, flatten, key_values
from tui.live import Changes
from tui.screens.base import DetailScreen
from tui.screens.cancel import ask_to_cancel
from tui.widgets.metric_plots import MetricPlots
from tui.widgets.picture import artifact_picture
from tui.widgets.result_view import ResultView
from tui.widgets.results import table_kind, table_widgets

TABS = ("curves", "results", "spec", "log", "images")
LOG_LINES = 2000


class JobScreen(DetailScreen):
    DEFAULT_CSS = """
    JobScreen #job-head { height: auto; max-height: 3; padding: 0 1; background: $boost; text-wrap: nowrap;
                          text-overflow: ellipsis; }
    JobScreen TabbedContent { height: 1fr; }
    JobScreen TabPane { padding: 0; }
    JobScreen #spec-text, JobScreen .result-table { padding: 0 1; }
    JobScreen .result-table { margin-bottom: 1; }
    JobScreen #images-box > Static { margin-bottom: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("right_square_bracket", "tab(1)", "next tab"),
        Binding("left_square_bracket", "tab(-1)", "prev tab", show=False),
        Binding("c", "cancel", "cancel", tooltip="cancel the job (asks first)"),
        Binding("r", "retry", "retry", tooltip="queue a failed or cancelled job again (resumes)"),
        Binding("C", "clone", "clone", tooltip="the submit form, filled with this job's spec"),
        Binding("v", "region", "region view", tooltip="the digits inside a rectangle of a latent map"),
        Binding("S", "sweep", "sweep", tooltip="the job's sweep: its points ranked, the metric against each field"),
        Binding("e", "export", "export", show=False, tooltip="write the job as CSV, JSON or Markdown"),
    ]
    FOCUS = {"curves": MetricPlots, "results": "#results-box", "spec": "#spec-box", "log": "#log-view",
             "images": "#images-box"}

    def __init__(self, job_id: int):
        super().__init__()
        self.job_id = job_id
        self.job: Job | None = None
        self.metric_id = 0
        self.log_id = 0
        self.outputs_key: tuple | None = None
        self.tables: dict = {}
        self.artifacts: list[dict] = []

    def title_text(self) -> str:
        return f"job {self.job_id}"

    def compose_body(self) -> ComposeResult:
        job = self.app.live.job(self.job_id)
        epochs = job.spec.get("epochs") if job and isinstance(job.spec.get("epochs"), int) else None
        yield Static(id="job-head")
        with TabbedContent(initial="curves"):
            with TabPane("Curves", id="curves"):
                yield MetricPlots(epochs=epochs)
            with TabPane("Results", id="results"):
                yield VerticalScroll(id="results-box", classes="focus-bar")
            with TabPane("Spec", id="spec"):
                with VerticalScroll(id="spec-box", classes="focus-bar"):
                    yield Static(id="spec-text")
            with TabPane("Log", id="log"):
                yield RichLog(id="log-view", max_lines=LOG_LINES, wrap=True, markup=False, auto_scroll=True,
                              classes="focus-bar")
            with TabPane("Images", id="images"):
                yield VerticalScroll(id="images-box", classes="focus-bar")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(MetricPlots).add_class("focus-bar")
        self.guard(self.reload)
        self._focus_tab("curves")

    def _focus_tab(self, tab: str) -> None:
        """The shown tab's content takes the focus: arrows scroll it, its keys work, without Tab first."""
        target = self.FOCUS.get(tab)
        if target is not None:
            self.set_focus(self.query_one(target))

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
        job = self.app.live.job(self.job_id)
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
            kind = KINDS.get(job.kind)
            view = ResultView(job.result, kind.headline_is_fraction if kind else True, ansi)
            widgets.append(Static(view.render(self.app.size.width - 4), classes="result-table"))
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
        self._focus_tab(event.pane.id)

    # -- keys -----------------------------------------------------------------------------
    def why_not(self, action: str, parameters: tuple) -> str | None:
        if action == "region" and not self._maps():
            return "this job has no map with images of its points (v is for latent maps)"
        return job_actions.why_not(action, self.job)

    def _maps(self) -> list[tuple[str, dict]]:
        return [(n, p) for n, p in self.tables.items() if table_kind(p) == "scatter" and p.get("images")]


    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        i = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(i + step) % len(TABS)]

    def action_cancel(self) -> None:
        if self.job is not None and not self.job.finished:
            ask_to_cancel(self.app, self.job)

    def action_retry(self) -> None:
        if self.job is not None:
            job_actions.retry(self.app, self.job)

    def action_clone(self) -> None:
        if self.job is not None:
            self.app.clone_job(self.job)

    def action_sweep(self) -> None:
        if self.job is not None:
            job_actions.open_sweep(self.app, self.job)

    def action_region(self) -> None:
        from tui.screens.region import RegionScreen, pick_scatter

        scatters = self._maps()
        if not scatters:
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


def log_text(row) -> Text:
    import time

    stamp = time.strftime("%H:%M:%S", time.localtime(row["ts"]))
    style = {"error": "red", "warning": "yellow"}.get(row["level"], "")
    return Text.assemble((stamp + " ", "dim"), (row["message"].rstrip(), style))
