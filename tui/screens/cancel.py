"""Cancelling a job: a question that follows the job while it is open (a queued job that starts meanwhile
is called running, and the answer says what cancelling will do to it now)."""

from __future__ import annotations

from rich.text import Text

from runs.records import Job
from tui.live import Changes
from tui.screens.confirm import Confirm


def consequence(job: Job) -> tuple[str, bool]:
    """What cancelling does to the job as it is now, and whether there is anything to cancel."""
    if job.status == "queued":
        return "It is queued: cancelling takes it off the queue, and it never starts.", True
    if job.status == "running" and job.cancel_requested:
        return "It is already stopping; it ends 'cancelled' at its next check.", False
    if job.status == "running":
        where = f" on {job.slot}" if job.slot else ""
        progress = f" ({job.progress * 100:.0f}%{', ' + job.progress_text if job.progress_text else ''})"
        return (f"It is running{where}{progress}: cancelling stops it at its next check (within seconds). "
                "What it reported so far (curves, log, last checkpoint) is kept and it ends 'cancelled'; "
                "r retries it later from that checkpoint.", True)
    return f"It has ended ({job.status}) meanwhile: there is nothing left to cancel.", False


def question(job: Job) -> Text:
    what, _ = consequence(job)
    return Text.assemble((f"Cancel job {job.id}?", "bold"), f"  {job.kind} {job.short_spec()}\n",
                         (what, "yellow" if job.status == "running" else ""))


class CancelJob(Confirm):
    """Asks, then cancels through the store; the question is redrawn at every change of the job."""

    def __init__(self, job: Job):
        super().__init__(question(job), yes="Cancel job", no="Keep")
        self.job = job

    def on_mount(self) -> None:
        super().on_mount()
        self.app.lab_screens.add(self)
        self._follow((self.app.live.job(self.job.id) or self.job))

    def on_unmount(self) -> None:
        self.app.lab_screens.discard(self)

    def store_changed(self, changes: Changes) -> None:
        if self.job.id in changes.jobs:
            self._follow((self.app.live.job(self.job.id) or self.job))

    def _follow(self, job: Job) -> None:
        self.job = job
        self.ask(question(job), yes_allowed=consequence(job)[1])


def ask_to_cancel(app, job: Job) -> None:
    def answered(yes: bool | None) -> None:
        if yes:
            app.job_action(lambda s: s.cancel(job.id), f"job {job.id}: {{}}")

    app.push_screen(CancelJob(job), answered)
