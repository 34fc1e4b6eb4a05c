"""The queue: every job, live; cancel, retry, raise priority, open, clone."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from tui import job_actions
from tui.screens.cancel import ask_to_cancel
from tui.screens.job_list import LIST_BINDINGS, JobListScreen
from tui.widgets.jobs_pane import JobsPane


class QueueScreen(JobListScreen):
    MODE = "queue"
    BINDINGS = [
        Binding("c", "cancel", "cancel", tooltip="cancel the job (asks first)"),
        Binding("r", "retry", "retry", tooltip="queue a failed or cancelled job again (resumes)"),
        Binding("R", "retry(True)", "retry fresh", show=False, tooltip="queue it again from scratch"),
        Binding("plus,equals_sign", "priority(1)", "prio+", tooltip="raise priority: before every queued job"),
        Binding("minus", "priority(-1)", "prio-", show=False, tooltip="lower priority by one"),
        *LIST_BINDINGS,
        Binding("escape", "clear_filter", "clear filter", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield JobsPane(self.app.live, sort="queue", empty="no jobs yet: press n to submit one")

    def select_job(self, job_id: int) -> None:
        """Show this job (clearing a filter that hides it) and put the cursor on it."""
        pane = self.pane
        if job_id not in pane.table.ids:
            pane.set_query("")
        pane.rearrange(keep=job_id)
        pane.table.focus()

    def why_not(self, action: str, parameters: tuple) -> str | None:
        if action == "clear_filter" and self.ready and not self.pane.query_text:
            return ""
        return super().why_not(action, parameters)

    def action_cancel(self) -> None:
        job = self.current_job()
        if job is not None and not job.finished:
            ask_to_cancel(self.app, job)

    def action_retry(self, fresh: bool = False) -> None:
        job = self.current_job()
        if job is not None:
            job_actions.retry(self.app, job, fresh)

    def action_priority(self, step: int) -> None:
        job = self.current_job()
        if job is not None and job.status == "queued":
            job_actions.set_priority(self.app, job, step)

    def action_clear_filter(self) -> None:
        self.pane.set_query("")
