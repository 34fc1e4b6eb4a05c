"""The queue: every job, live; cancel, retry, raise priority, open."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from tui.live import Changes
from tui.screens.base import LabScreen
from tui.screens.confirm import Confirm
from tui.widgets.job_table import JobTable
from tui.widgets.jobs_pane import JobsPane


class QueueScreen(LabScreen):
    MODE = "queue"
    BINDINGS = [
        Binding("c", "cancel", "cancel", tooltip="cancel the job (asks first)"),
        Binding("r", "retry", "retry", tooltip="queue a failed or cancelled job again (resumes)"),
        Binding("R", "retry(True)", "retry fresh", show=False, tooltip="queue it again from scratch"),
        Binding("plus,equals_sign", "priority(1)", "prio+", tooltip="raise priority: before every queued job"),
        Binding("minus", "priority(-1)", "prio-", show=False, tooltip="lower priority by one"),
        Binding("slash", "filter", "filter", tooltip="filter: words, status:, kind:, study:, field=value"),
        Binding("s", "status", "status", show=False, tooltip="cycle the status filter"),
        Binding("o", "sort", "sort", show=False, tooltip="cycle the sort order"),
        Binding("O", "reverse", "reverse sort", show=False),
        Binding("escape", "clear_filter", "clear filter", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield JobsPane(self.app.live, sort="queue", empty="no jobs yet: press n to submit one")

    @property
    def pane(self) -> JobsPane:
        return self.query_one(JobsPane)

    def on_mount(self) -> None:
        super().on_mount()
        self.pane.table.focus()

    def on_changes(self, changes: Changes | None) -> None:
        self.pane.apply(changes)
        self._keys_follow_job()

    def on_job_table_highlighted(self, event: JobTable.Highlighted) -> None:
        self._keys_follow_job()

    def _keys_follow_job(self) -> None:
        """Refresh the footer's keys only when what they may do changed (a footer redraw is not cheap)."""
        job = self._current()
        state = (job.status, job.cancel_requested) if job else None
        if state != getattr(self, "_keys_state", ()):
            self._keys_state = state
            self.refresh_bindings()

    def on_job_table_opened(self, event: JobTable.Opened) -> None:
        self.app.open_job(event.job_id)

    def select_job(self, job_id: int) -> None:
        """Show this job (clearing a filter that hides it) and put the cursor on it."""
        pane = self.pane
        if job_id not in pane.table.ids:
            pane.set_query("")
        pane.rearrange(keep=job_id)
        pane.table.focus()

    # -- what the keys may do now ------------------------------------------------
    def _current(self):
        job_id = self.pane.table.current
        return self.app.live.jobs.get(job_id) if job_id is not None else None

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        job = self._current()
        if action == "cancel":
            return job is not None and not job.finished and not job.cancel_requested or None
        if action == "retry":
            return job is not None and job.status in ("failed", "cancelled") or None
        if action == "priority":
            return job is not None and job.status == "queued" or None
        return True

    # -- actions -------------------------------------------------------------------
    def action_cancel(self) -> None:
        job = self._current()
        if job is None or job.finished:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.job_action(lambda s: s.cancel(job.id), f"job {job.id}: {{}}")

        what = "stop it (it keeps what it reported so far)" if job.status == "running" else "take it off the queue"
        self.app.push_screen(Confirm(f"Cancel job {job.id} ({job.status}: {job.kind} {job.short_spec()})?\n"
                                     f"This will {what}.", yes="Cancel job", no="Keep"), answered)

    def action_retry(self, fresh: bool = False) -> None:
        job = self._current()
        if job is None:
            return

        def retry(store) -> str:
            store.retry(job.id, fresh=fresh)
            self.app.ensure_engine()
            return "queued again" + (" from scratch" if fresh else " (resumes from its checkpoint)")

        self.app.job_action(retry, f"job {job.id}: {{}}")

    def action_priority(self, step: int) -> None:
        job = self._current()
        if job is None or job.status != "queued":
            return
        others = [j.priority for j in self.app.live.jobs.values() if j.status == "queued" and j.id != job.id]
        if step > 0:  # ahead of every other queued job
            target = max([job.priority, *others]) + 1 if others and max(others) >= job.priority else job.priority + 1
        else:
            target = job.priority - 1
        if not -1000 <= target <= 1000:
            self.notify(f"job {job.id}'s priority is already {job.priority}; allowed: -1000 to 1000",
                        severity="warning")
            return

        def set_priority(store) -> str:
            store.set_priority(job.id, target)
            return f"priority {target}"

        self.app.job_action(set_priority, f"job {job.id}: {{}}")

    def action_filter(self) -> None:
        self.pane.filter_bar.edit()

    def action_status(self) -> None:
        status = self.pane.cycle_status()
        self.notify(f"showing {status} jobs", timeout=1.5)

    def action_sort(self) -> None:
        self.pane.cycle_sort()

    def action_reverse(self) -> None:
        self.pane.set_sort(self.pane.sort, not self.pane.reverse)

    def action_clear_filter(self) -> None:
        if self.pane.query_text:
            self.pane.set_query("")
