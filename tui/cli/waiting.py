"""Waiting for jobs from a shell (`submit --wait`, `study --wait`, `follow`) without ever hanging.

A waiting client looks at the engine as well as at its jobs: a free lock
means the engine is gone (noticed within a second), a heartbeat older than
STALE_S means it stopped answering. `submit --wait` then starts it again
(as `submit` would have), a few times at most; `follow` says so and exits 1.

On a terminal the wait shows a progress bar per job with its ETA; written
to a file or a pipe it prints one line per epoch instead (job, epoch,
losses, accuracy), so logs and CI show progress.
"""

from __future__ import annotations

import math
import time

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from engine import control
from engine.lock import STARTING
from runs.records import Job
from runs.store import Store
from tui.cli.common import err

LOOK_S = 1.0         # how often the engine itself is looked at
STALE_S = 30.0       # an engine holding its lock but silent this long has stopped answering
MAX_RESTARTS = 3
EPOCH_METRICS = {"train/loss_epoch": "train loss", "val/loss": "val loss", "val/accuracy": "val accuracy",
                 "gan/g_loss_epoch": "g loss", "gan/d_loss_epoch": "d loss", "gan/d_real": "D(x)",
                 "gan/d_fake": "D(G(z))"}
PERCENT = {"val/accuracy"}


class EngineGone(Exception):
    """The engine stopped and the client does not (or may no longer) start it; the message says where to look."""


class EngineWatch:
    def __init__(self, store: Store, restart: bool):
        self.store, self.restart = store, restart
        self.restarts = 0
        self._looked = 0.0

    def check(self, waiting_on: list[Job]) -> None:
        """Raise EngineGone, or start the engine again, if it stopped while these jobs are unfinished."""
        now = time.monotonic()
        if now - self._looked < LOOK_S or all(j.finished for j in waiting_on):
            return
        self._looked = now
        log = self.store.paths.engine_log
        pid = control.engine_pid(self.store.paths.root)
        if pid is None:
            if not self.restart or self.restarts >= MAX_RESTARTS:
                times = f" ({self.restarts + 1} times)" if self.restarts else ""
                raise EngineGone(f"the engine stopped{times}; see {log}")
            self.restarts += 1
            err.print(f"[yellow]the engine stopped; starting it again ({self.restarts} of {MAX_RESTARTS}); "
                      f"see {log}[/]")
            try:
                control.start(self.store.paths.root)
            except control.EngineError as exc:
                raise EngineGone(f"the engine stopped and did not start again: {exc}") from None
            return
        row = self.store.engine_row() or {}
        beat = row.get("heartbeat_at")
        if pid != STARTING and beat is not None and time.time() - beat > STALE_S:
            raise EngineGone(f"the engine (pid {pid}) stopped answering: no heartbeat for {time.time() - beat:.0f} s; "
                             f"see {log}")


class EpochLines:
    """One plain line per finished epoch of each job, read incrementally from the store."""

    def __init__(self, store: Store, print_line):
        self.store, self.print_line = store, print_line
        self.after: dict[int, int] = {}
        self.pending: dict[tuple[int, int], dict[str, float]] = {}
        self.status: dict[int, tuple[str, int]] = {}

    def update(self, jobs: list[Job]) -> None:
        for job in jobs:
            rows = self.store.metrics_after(job.id, self.after.get(job.id, 0))
            if rows:
                self.after[job.id] = rows[-1]["id"]
            for r in rows:
                if r["name"] in EPOCH_METRICS:
                    self.pending.setdefault((job.id, r["step"]), {})[r["name"]] = r["value"]
            for (job_id, epoch), values in sorted(self.pending.items()):
                if job_id == job.id:
                    self.print_line(epoch_line(job, epoch, values))
            self.pending = {k: v for k, v in self.pending.items() if k[0] != job.id}
            self._status(job)

    def _status(self, job: Job) -> None:
        decile = int(job.progress * 10)
        state = (job.status, decile if "epochs" not in job.spec else 0)
        if self.status.get(job.id) == state:
            return
        self.status[job.id] = state
        text = f"job {job.id} {job.kind}: {job.status}"
        if job.status == "running" and "epochs" not in job.spec:
            text += f" {job.progress:.0%} {job.progress_text or ''}".rstrip()
        if job.finished and job.reason:
            text += f": {job.reason}"
        self.print_line(text)


def epoch_line(job: Job, epoch: int, values: dict[str, float]) -> str:
    total = job.spec.get("epochs")
    parts = []
    for name, label in EPOCH_METRICS.items():
        if name in values:
            value = values[name]
            shown = "nan" if math.isnan(value) else f"{value:.2%}" if name in PERCENT else f"{value:.4f}"
            parts.append(f"{label} {shown}")
    return f"job {job.id} epoch {epoch}{f'/{total}' if total else ''}: " + ", ".join(parts)


def wait_for(ids: list[int], *, quiet: bool = False, restart_engine: bool = True, poll_s: float = 0.25) -> list[Job]:
    """Block until every job has ended; raises EngineGone if the engine stopped for good."""
    store = Store()
    watch = EngineWatch(store, restart_engine)
    if not quiet and not err.is_terminal:
        lines = EpochLines(store, lambda text: err.print(text, soft_wrap=True, highlight=False))
        while True:
            jobs = store.jobs(ids=ids)
            lines.update(jobs)
            if all(j.finished for j in jobs):
                return jobs
            watch.check(jobs)
            time.sleep(poll_s)
    progress = Progress(TextColumn("job {task.fields[id]}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                        TextColumn("{task.fields[status]}"), TimeRemainingColumn(), console=err,
                        disable=quiet, transient=True)
    tasks = {i: progress.add_task("", total=1.0, id=i, status="queued") for i in ids}
    with progress:
        while True:
            jobs = store.jobs(ids=ids)
            for job in jobs:
                progress.update(tasks[job.id], completed=job.progress, status=job.status)
            if all(j.finished for j in jobs):
                return jobs
            watch.check(jobs)
            time.sleep(poll_s)
