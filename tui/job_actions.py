"""What the keys on one job do (cancel, retry, priority, clone, its sweep) and, when they can do nothing, why.

Shared by the queue and the job's own view. No Textual widgets here, only the app they act through.
"""

from __future__ import annotations

from runs.records import Job
from runs.sweeps import is_sweep

PRIORITY_RANGE = (-1000, 1000)


def why_not(action: str, job: Job | None) -> str | None:
    """Why `action` cannot be done to `job` now (None: it can)."""
    if action not in ("cancel", "retry", "priority", "clone", "sweep"):
        return None
    if job is None:
        return "no job is highlighted"
    if action == "sweep" and not is_sweep(job.study):
        return f"job {job.id} is not part of a sweep" + (f" (it belongs to study {job.study!r})" if job.study else "")
    if action == "cancel":
        if job.finished:
            return f"job {job.id} has ended ({job.status}): there is nothing to cancel"
        if job.cancel_requested:
            return f"job {job.id} is already stopping"
    elif action == "retry" and job.status not in ("failed", "cancelled"):
        return f"job {job.id} is {job.status}: only a failed or cancelled job can be queued again"
    elif action == "priority" and job.status != "queued":
        return f"job {job.id} is {job.status}: a priority only matters while a job is queued"
    return None


def retry(app, job: Job, fresh: bool = False) -> None:
    def run(store) -> str:
        store.retry(job.id, fresh=fresh)
        app.ensure_engine()
        return "queued again" + (" from scratch" if fresh else " (resumes from its checkpoint)")

    app.job_action(run, f"job {job.id}: {{}}")


def priority_target(job: Job, others: list[int], step: int) -> int:
    """Raising puts the job ahead of every other queued job; lowering moves it down by one."""
    if step > 0:
        return max([job.priority, *others]) + 1 if others and max(others) >= job.priority else job.priority + 1
    return job.priority - 1


def set_priority(app, job: Job, step: int) -> None:
    others = [j.priority for j in app.store.window(["queued"], "engine", limit=2) if j.id != job.id][:1]
    target = priority_target(job, others, step)
    lo, hi = PRIORITY_RANGE
    if not lo <= target <= hi:
        app.notify(f"job {job.id}'s priority is already {job.priority}; allowed: {lo} to {hi}", severity="warning")
        return

    def run(store) -> str:
        store.set_priority(job.id, target)
        return f"priority {target}"

    app.job_action(run, f"job {job.id}: {{}}")


def open_sweep(app, job: Job) -> None:
    """The sweep view of the sweep the job belongs to."""
    from tui.screens.sweep import open_sweep

    if is_sweep(job.study):
        open_sweep(app, job.study)
