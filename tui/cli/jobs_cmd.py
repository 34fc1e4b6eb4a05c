"""Commands on jobs: ls, show, cancel, retry, priority (of jobs, or of a whole study or sweep), logs."""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Optional

import typer
from rich.text import Text

from engine.control import engine_pid
from jobs.kinds import KINDS
from runs.records import FINISHED, STATUSES
from tui.cli.common import JsonOpt, console, fail, known_ids, parse_id, print_json, store
from tui.cli.groups import StudyOpt, SweepOpt, group_option, job_or_group
from tui.cli.jobs_view import JobColumns, cells, jobs_table
from tui.cli.views import render_job

MAX_LIMIT = 1_000_000  # --limit: rows to read; SQLite refuses a LIMIT past 2^63, and nobody reads a million


def ls(
    all_: bool = typer.Option(False, "--all", "-a", help="Every matching job, oldest first, printed as it is "
                                                          "read (not only the queue and the recent ones)."),
    status: Optional[str] = typer.Option(None, "--status", help="Only these statuses (e.g. running,queued)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only these job kinds."),
    study: Optional[str] = StudyOpt,
    sweep: Optional[str] = SweepOpt,
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=MAX_LIMIT, help="How many jobs of each part to show: running, "
                                                                  "next queued, newest finished."),
    as_json: bool = JsonOpt,
) -> None:
    """The running jobs, the next queued ones and the newest finished ones (each part at most --limit),
    with how many more there are; --all lists every job instead."""
    statuses = _statuses(status)
    kinds = _kinds(kind)
    s = store()
    group = group_option(s, study, sweep)
    nothing = ("no jobs match these filters; `mnistlab ls` shows the queue and recent runs"
               if status or kind or group else "no jobs yet: try `mnistlab submit train --net 10.1 --wait`")
    if all_:
        if as_json:
            # vars(): what Job.to_json() gives, without asdict's deep copy (most of a long listing's time)
            stream_json(vars(job) for page in s.iter_jobs(statuses, kinds=kinds, study=group) for job in page)
        elif not _print_listing(s, statuses, kinds, group):
            console.print(nothing)
        return
    finished = [st for st in statuses if st in FINISHED]
    counts = s.count_by_status(statuses, kinds=kinds, study=group)
    parts = {  # name: (jobs shown, how many there are), top to bottom
        "finished": (s.window(finished, "newest", kinds=kinds, study=group, limit=limit)[::-1],
                     sum(counts[st] for st in finished)),
        "running": (s.window(["running"] if "running" in statuses else [], kinds=kinds, study=group, limit=limit),
                    counts.get("running", 0)),
        "queued": (s.window(["queued"] if "queued" in statuses else [], "engine", kinds=kinds, study=group,
                            limit=limit), counts.get("queued", 0)),
    }
    jobs = [job for shown, _ in parts.values() for job in shown]
    if as_json:
        print_json([j.to_json() for j in jobs])
        return
    if not jobs:
        console.print(nothing)
        return
    console.print(jobs_table(jobs, engine_running=engine_pid() is not None, width=console.width))
    for name, (shown, total) in parts.items():
        if total > len(shown):
            more = "older" if name == "finished" else "more"
            console.print(f"and {total - len(shown):,} {more} {name} (ls --all, or --limit N)", style="dim")


def _kinds(text: str | None) -> list[str] | None:
    kinds = [k.strip() for k in text.split(",") if k.strip()] if text else None
    for k in kinds or []:
        if k not in KINDS:
            fail(f"--kind {k!r} is not a job kind; allowed: {', '.join(KINDS)}")
    return kinds


def _statuses(text: str | None) -> list[str]:
    if not text:
        return list(STATUSES)
    statuses = [s.strip() for s in text.split(",") if s.strip()]
    for s in statuses:
        if s not in STATUSES:
            fail(f"--status {s!r} is not a status; allowed: {', '.join(STATUSES)}")
    return statuses


def stream_json(items) -> None:
    """A JSON array written item by item: a listing of any length in constant memory."""
    sys.stdout.write("[")
    for n, item in enumerate(items):
        sys.stdout.write(("," if n else "") + "\n" + json.dumps(item, sort_keys=True, default=str))
    sys.stdout.write("\n]\n")


def _print_listing(s, statuses: list[str], kinds: list[str] | None, group: str | None) -> bool:
    """Every matching job, oldest first, printed page by page as it is read, in columns sized up front;
    False if there is none."""
    newest = s.window(statuses, "newest", kinds=kinds, study=group, limit=1)
    if not newest:
        return False
    columns = JobColumns.for_listing(console.width, engine_pid() is not None, newest[0].id)
    for n, page in enumerate(s.iter_jobs(statuses, kinds=kinds, study=group)):
        table = [cells(job) for job in page]
        columns.fit(table)
        if n == 0:
            console.print(columns.header(), soft_wrap=True)
        console.print(columns.rows(page, table), soft_wrap=True)
    return True


def show(job_id: str = typer.Argument(..., help="Job id."), as_json: bool = JsonOpt) -> None:
    """The full record of a job: spec with defaults, status, attempts, device, metrics, result."""
    jid = parse_id(job_id)
    s = store()
    record = s.record(jid)
    if as_json:
        print_json(record)
    else:
        console.print(render_job(record, s))


def cancel(job_ids: Optional[list[str]] = typer.Argument(None, help="Job ids (or --study / --sweep)."),
           study: Optional[str] = StudyOpt, sweep: Optional[str] = SweepOpt, as_json: bool = JsonOpt) -> None:
    """Cancel jobs, or a whole study or sweep: a queued job at once, a running one within a couple of seconds."""
    s = store()
    group, label = job_or_group(s, job_ids, study, sweep)
    if group is not None:
        outcome = s.cancel_group(group, label)
    else:
        outcome = {i: s.cancel(i) for i in known_ids(s, job_ids)}
    if as_json:
        print_json(outcome)
    elif group is not None:
        what = list(outcome.values())
        console.print(f"{label}: {what.count('cancelled'):,} queued job(s) cancelled, "
                      f"{what.count('cancelling'):,} running job(s) cancelling")
    else:
        for i, what in outcome.items():
            console.print(f"job {i}: {what}")


def retry(job_ids: Optional[list[str]] = typer.Argument(None, help="Job ids (or --study / --sweep)."),
          study: Optional[str] = StudyOpt, sweep: Optional[str] = SweepOpt,
          fresh: bool = typer.Option(False, "--fresh", help="Start over instead of resuming from the checkpoint."),
          as_json: bool = JsonOpt) -> None:
    """Queue failed or cancelled jobs again, or those of a whole study or sweep (they resume from their last
    checkpoint)."""
    from engine import control

    s = store()
    group, label = job_or_group(s, job_ids, study, sweep)
    if group is not None:
        ids = s.retry_group(group, label, fresh=fresh)
    else:
        ids = known_ids(s, job_ids)
        for i in ids:
            s.retry(i, fresh=fresh)
    control.start()
    how = " from scratch" if fresh else ""
    if as_json:
        print_json({"requeued": ids})
    elif group is not None:
        console.print(f"{label}: {len(ids):,} failed or cancelled job(s) queued again{how}")
    else:
        for i in ids:
            console.print(f"job {i}: queued again{how}")


def priority(args: list[str] = typer.Argument(..., metavar="[JOB_ID] VALUE",
                                              help="A job id and its new priority (-1000 to 1000; higher runs "
                                                   "first), or only the priority with --study / --sweep."),
             study: Optional[str] = StudyOpt, sweep: Optional[str] = SweepOpt, as_json: bool = JsonOpt) -> None:
    """Change the priority of a queued job, or of every queued job of a study or sweep."""
    s = store()
    group, label = job_or_group(s, args[:-1], study, sweep)
    value = _priority_value(args[-1])
    if group is not None:
        ids = s.set_group_priority(group, label, value)
        if as_json:
            print_json({"ids": ids, "priority": value})
        else:
            console.print(f"{label}: {len(ids):,} queued job(s) now at priority {value}")
        return
    if len(args) != 2:
        fail("give a job id and a priority, e.g. `mnistlab priority 7 100`, or --sweep N with a priority")
    jid = parse_id(args[0])
    s.set_priority(jid, value)
    if as_json:
        print_json({"id": jid, "priority": value})
    else:
        console.print(f"job {jid}: priority {value}")


def _priority_value(text: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]{1,5}", text.strip()):  # ASCII digits: int() would also take '٣'
        fail(f"priority {text!r} is not allowed; allowed: a whole number from -1000 to 1000")
    return int(text)


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
