"""Commands on jobs: ls, show, cancel, retry, priority, logs."""

from __future__ import annotations

import time
from typing import Optional

import typer
from rich.text import Text

from engine.control import engine_pid
from runs.records import STATUSES
from tui.cli.common import JsonOpt, console, fail, known_ids, parse_id, print_json, store
from tui.cli.views import jobs_table, render_job

MAX_LIMIT = 1_000_000  # --limit: rows to read; SQLite refuses a LIMIT past 2^63, and nobody reads a million


def ls(
    all_: bool = typer.Option(False, "--all", "-a", help="Every job, not only the queue and the recent ones."),
    status: Optional[str] = typer.Option(None, "--status", help="Only these statuses (e.g. running,queued)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only these job kinds."),
    study: Optional[str] = typer.Option(None, "--study", help="Only the jobs of this study."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=MAX_LIMIT,
                              help="How many finished jobs to show (newest first)."),
    as_json: bool = JsonOpt,
) -> None:
    """The queue and recent runs: id, kind, spec, status, device, progress, accuracy."""
    statuses = [s.strip() for s in status.split(",")] if status else None
    for s in statuses or []:
        if s not in STATUSES:
            fail(f"--status {s!r} is not a status; allowed: {', '.join(STATUSES)}")
    s = store()
    kinds = [k.strip() for k in kind.split(",")] if kind else None
    if all_ or statuses or study:
        jobs = s.jobs(status=statuses, kind=kinds, study=study)
    else:
        active = s.jobs(status=["queued", "running"], kind=kinds)
        recent = s.jobs(status=["done", "failed", "cancelled"], kind=kinds, limit=limit, newest_first=True)
        jobs = sorted(active + recent, key=lambda j: j.id)
    if as_json:
        print_json([j.to_json() for j in jobs])
        return
    if not jobs:
        console.print("no jobs yet: try `mnistlab submit train --net 10.1 --wait`")
        return
    console.print(jobs_table(jobs, engine_running=engine_pid() is not None, width=console.width))


def show(job_id: str = typer.Argument(..., help="Job id."), as_json: bool = JsonOpt) -> None:
    """The full record of a job: spec with defaults, status, attempts, device, metrics, result."""
    jid = parse_id(job_id)
    s = store()
    record = s.record(jid)
    if as_json:
        print_json(record)
    else:
        console.print(render_job(record, s))


def cancel(job_ids: list[str] = typer.Argument(..., help="Job ids."), as_json: bool = JsonOpt) -> None:
    """Cancel jobs: a queued job at once, a running one within a couple of seconds."""
    s = store()
    ids = known_ids(s, job_ids)
    outcome = {i: s.cancel(i) for i in ids}
    if as_json:
        print_json(outcome)
        return
    for i, what in outcome.items():
        console.print(f"job {i}: {what}")


def retry(job_ids: list[str] = typer.Argument(..., help="Job ids."),
          fresh: bool = typer.Option(False, "--fresh", help="Start over instead of resuming from the checkpoint."),
          as_json: bool = JsonOpt) -> None:
    """Queue failed or cancelled jobs again (they resume from their last checkpoint)."""
    from engine import control

    s = store()
    ids = known_ids(s, job_ids)
    for i in ids:
        s.retry(i, fresh=fresh)
    control.start()
    if as_json:
        print_json({"requeued": ids})
        return
    for i in ids:
        console.print(f"job {i}: queued again" + (" from scratch" if fresh else ""))


def priority(job_id: str = typer.Argument(..., help="Job id."),
             value: int = typer.Argument(..., help="New priority (-1000 to 1000); higher runs first."),
             as_json: bool = JsonOpt) -> None:
    """Change the priority of a queued job."""
    jid = parse_id(job_id)
    store().set_priority(jid, value)
    if as_json:
        print_json({"id": jid, "priority": value})
    else:
        console.print(f"job {jid}: priority {value}")


def logs(job_id: str = typer.Argument(..., help="Job id."),
         limit: int = typer.Option(200, "--limit", "-n", min=1, max=MAX_LIMIT, help="Last N lines."),
         as_json: bool = JsonOpt) -> None:
    """A job's log lines."""
    jid = parse_id(job_id)
    s = store()
    s.job(jid)
    rows = s.logs(jid, limit=limit)
    if as_json:
        print_json([dict(r) for r in rows])
        return
    for r in rows:
        console.print(log_line(r))


def log_line(row) -> Text:
    stamp = time.strftime("%H:%M:%S", time.localtime(row["ts"]))
    style = {"error": "red", "warning": "yellow"}.get(row["level"], "")
    return Text.assemble((stamp, "dim"), " ", (row["message"].rstrip(), style))
