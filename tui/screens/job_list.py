"""What the queue and the history share: a filterable, sortable job list, opening and cloning its jobs.

`/` is a priority key: the filter's input takes the focus before the keys
typed after it are delivered, so `/net=10.1` typed in one burst all lands
in the filter (not `n` opening the submit form).
"""

from __future__ import annotations

from textual.binding import Binding

from tui import job_actions
from tui.live import Changes
from tui.screens.base import LabScreen
from tui.widgets.job_table import JobTable
from tui.widgets.jobs_pane import JobsPane

LIST_BINDINGS = [
    Binding("slash", "filter", "filter", priority=True,
            tooltip="filter: words, status:, kind:, study:, field=value (Esc clears it)"),
    Binding("s", "status", "status", show=False, tooltip="cycle the status filter"),
    Binding("o", "sort", "sort", show=False, tooltip="cycle the sort order"),
    Binding("O", "reverse", "reverse sort", show=False, tooltip="reverse the sort order"),
    Binding("C", "clone", "clone", tooltip="the submit form, filled with this job's spec"),
    Binding("S", "sweep", "sweep", tooltip="the job's sweep: its points ranked, the metric against each field"),
]


class JobListScreen(LabScreen):
    def on_mount(self) -> None:
        super().on_mount()
        self.pane.table.focus()

    @property
    def pane(self) -> JobsPane:
        return self.query_one(JobsPane)

    def current_job(self):
        job_id = self.pane.table.current
        return self.app.live.job(job_id) if job_id is not None else None

    def on_changes(self, changes: Changes | None) -> None:
        self.pane.apply(changes)

    def on_job_table_highlighted(self, event: JobTable.Highlighted) -> None:
        self.keys_follow()

    def on_job_table_opened(self, event: JobTable.Opened) -> None:
        self.app.open_job(event.job_id)

    @property
    def ready(self) -> bool:
        """The pane's table is mounted (the footer asks about keys while a pane is still being built)."""
        return bool(self.query(JobTable))

    def why_not(self, action: str, parameters: tuple) -> str | None:
        if not self.ready:
            return ""
        if action == "filter" and self.pane.filter_bar.editing:
            return ""  # typing a "/" into the filter itself
        return job_actions.why_not(action, self.current_job())

    def action_filter(self) -> None:
        self.pane.filter_bar.edit()

    def action_status(self) -> None:
        status = self.pane.cycle_status()
        self.notify(f"showing {status} jobs", timeout=1.5)

    def action_sort(self) -> None:
        self.pane.cycle_sort()

    def action_reverse(self) -> None:
        self.pane.set_sort(self.pane.sort, not self.pane.reverse)

    def action_clone(self) -> None:
        job = self.current_job()
        if job is not None:
            self.app.clone_job(job)

    def action_sweep(self) -> None:
        job = self.current_job()
        if job is not None:
            job_actions.open_sweep(self.app, job)
