"""`mnistlab sweep KIND --FIELD VALUES ...`: a grid (or a random sample) of jobs as one group;
`sweep show N` ranks its points, `sweep list` names the sweeps. See `runs.sweeps` for the value syntax.
"""

from __future__ import annotations

import inspect
import time
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from jobs.kinds import KINDS
from jobs.schema import Field, JobKind
from runs import sweeps
from runs.records import DEFAULT_MAX_ATTEMPTS, FINISHED, InputError, JobRequest
from tui.cli.common import (EXIT_FAILED, EXIT_OK, JsonOpt, console, err, fail, kind_command, print_error,
                            print_json, store)
from tui.cli.groups import sweep_group
from tui.cli.queueing import queue
from tui.cli.sweep_view import render_sweep
from tui.cli.waiting import EngineGone, EngineWatch

sweep_app = typer.Typer(help="Sweeps: every combination (or a seeded random sample) of spec values, queued as "
                             "one group; `sweep show N` ranks the points.", no_args_is_help=True)

FIRST_POINTS = 10  # points a --dry-run prints

COMMON = [
    ("random", Optional[int], typer.Option(None, "--random", min=1, max=sweeps.MAX_POINTS, metavar="N", help=(
        "Draw N distinct points from the given values and ranges instead of taking every combination "
        "(a..b of a real-valued field: any value in [a, b]); each runs once per --seed value given."))),
    ("sample_seed", int, typer.Option(0, "--sample-seed", min=0, help="Seed of the --random draw.")),
    ("dry_run", bool, typer.Option(False, "--dry-run", help="Print the number of jobs and the first points; "
                                                            "queue nothing.")),
    ("priority", int, typer.Option(0, "--priority", help="Higher runs first (-1000 to 1000).")),
    ("max_attempts", int, typer.Option(DEFAULT_MAX_ATTEMPTS, "--max-attempts",
                                       help="Starts allowed if the engine dies under it (1-10).")),
    ("wait", bool, typer.Option(False, "--wait", help="Block until every job has ended, then show the sweep; "
                                                      "exit 1 if any did not finish.")),
    ("as_json", bool, JsonOpt),
]


def _values_help(f: Field) -> str:
    if f.is_list:
        how = "alternatives separated by / (each a comma-separated list)"
    elif f.type is int:
        how = "v1,v2,... or a..b (every whole number from a to b, both included)"
    elif f.type is float:
        how = "v1,v2,... (with --random also a..b)"
    else:
        how = "v1,v2,..."
    default = "set by other fields" if callable(f.default) else sweeps.value_text(f.default)
    return f"{f.help}. Values: {how}; each {f.allowed()}. [default: {default}]"


def _field_param(f: Field) -> inspect.Parameter:
    option = typer.Option(None, f"--{f.name.replace('_', '-')}", help=_values_help(f), show_default=False,
                          metavar="VALUES")
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=Optional[str])


def make_command(kind: JobKind):
    clash = {f.name for f in kind.fields} & {name for name, *_ in COMMON}
    assert not clash, f"sweep {kind.name}: spec fields {clash} clash with the sweep's own options"

    def command(**kwargs) -> None:
        options = {name: kwargs.pop(name) for name, *_ in COMMON}
        given = {k: v for k, v in kwargs.items() if v is not None}
        axes = sweeps.parse_axes(kind, given, drawing=options["random"] is not None)
        points = sweeps.plan_points(kind, axes, options["random"], options["sample_seed"])
        if options["dry_run"]:
            _print_plan(kind, axes, points, options["as_json"])
            return
        requests = [JobRequest(kind.name, point, priority=options["priority"], max_attempts=options["max_attempts"],
                               label=sweeps.point_text(point, axes)) for point in points]
        record = sweeps.sweep_options(kind, given, axes, options["random"], options["sample_seed"], len(points))
        ids = queue(requests, study=(None, sweeps.TYPE, record))
        name = store().job(ids[0]).study
        number = sweeps.number(name)
        if options["wait"]:
            raise typer.Exit(_wait_and_show(name, len(ids), options["as_json"]))
        if options["as_json"]:
            print_json({"sweep": number, "name": name, "ids": ids})
            return
        console.print(f"sweep {number}: {len(ids):,} {kind.name} job(s) queued (ids {ids[0]}-{ids[-1]})")
        console.print(f"`mnistlab sweep show {number}` ranks the points, `mnistlab ls --sweep {number}` lists "
                      f"the jobs", style="dim")

    return kind_command(command, f"sweep_{kind.name}", [_field_param(f) for f in kind.fields], COMMON)


def _print_plan(kind: JobKind, axes: dict[str, sweeps.Axis], points: list[dict], as_json: bool) -> None:
    shape = {name: ({"range": list(a.span)} if a.span else list(a.values)) for name, a in axes.items()}
    if as_json:
        print_json({"kind": kind.name, "jobs": len(points), "fields": shape, "first_points": points[:FIRST_POINTS]})
        return
    swept = [f"{name} ({'a range' if a.span else len(a.values)})" for name, a in axes.items() if a.swept]
    fixed = " ".join(f"{name}={sweeps.value_text(a.values[0])}" for name, a in axes.items() if not a.swept)
    console.print(f"sweep of {kind.name}: {len(points):,} job(s) over {' × '.join(swept)}")
    if fixed:
        console.print(f"fixed: {fixed}")
    for i, point in enumerate(points[:FIRST_POINTS], 1):
        console.print(f"{i:>6}  {sweeps.point_text(point, axes)}")
    more = f"and {len(points) - FIRST_POINTS:,} more; " if len(points) > FIRST_POINTS else ""
    console.print(f"{more}nothing queued (--dry-run)", style="dim")


def _wait_and_show(name: str, jobs: int, as_json: bool) -> int:
    """Wait on the group's counts (one indexed count a poll, whatever the sweep's size), then show it."""
    s = store()
    with Progress(TextColumn(f"sweep {sweeps.number(name)}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("jobs ended"), console=err, disable=as_json or not err.is_terminal,
                  transient=True) as progress:
        task = progress.add_task("", total=jobs)
        watch = EngineWatch(s, restart=True)  # as `submit --wait`: a dead engine is started again, or we say so
        while True:
            counts = s.count_by_status(study=name)
            ended = sum(counts[st] for st in FINISHED)
            progress.update(task, completed=ended)
            if ended == jobs:
                break
            try:
                watch.check(s.window(["queued", "running"], study=name, limit=1))
            except EngineGone as exc:
                print_error(f"{exc}; sweep {sweeps.number(name)} has {jobs - ended} job(s) unfinished")
                return EXIT_FAILED
            time.sleep(0.5)
    _show(s, name, as_json=as_json)
    return EXIT_OK if counts["done"] == jobs else EXIT_FAILED


@sweep_app.command("show")
def show(sweep: str = typer.Argument(..., help="Sweep number (see `mnistlab sweep list`)."),
         metric: Optional[str] = typer.Option(None, "--metric", help="Result to rank by, e.g. test_loss "
                                                                    "[default: the kind's main number]."),
         best: Optional[str] = typer.Option(None, "--best", help="Which end of the metric is best: high or low "
                                                                "[default: low for a loss, else high]."),
         limit: int = typer.Option(20, "--limit", "-n", min=1, help="Points to show, best first."),
         all_: bool = typer.Option(False, "--all", help="Every point."),
         plot: bool = typer.Option(True, "--plot/--no-plot", help="Plot the metric against each swept field."),
         as_json: bool = JsonOpt) -> None:
    """One row per point of a sweep: mean ± std over seeds, best first; a plot per swept field."""
    if best not in (None, "high", "low"):
        fail(f"--best {best!r} is not allowed; allowed: high or low")
    s = store()
    _show(s, sweep_group(s, sweep), metric, best, None if all_ else limit, plot, as_json)


def _show(s, name: str, metric: str | None = None, best: str | None = None, limit: int | None = 20,
          plot: bool = True, as_json: bool = False) -> None:
    group = s.study(name)
    jobs = s.jobs(study=name)
    if metric is not None:
        _check_metric(metric, jobs)
    summary = sweeps.summarize(jobs, metric, best, group["options"].get("swept"))
    if as_json:
        print_json({"sweep": sweeps.number(name), "name": name, "options": group["options"], **summary.to_json()})
    else:
        console.print(render_sweep(sweeps.number(name), summary, limit, plot))


def _check_metric(metric: str, jobs) -> None:
    known = sorted({k for j in jobs if j.status == "done" for k, v in (j.result or {}).items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)})
    if known and metric not in known:
        raise InputError(f"--metric {metric!r} is not a number in these runs' results; allowed: {', '.join(known)}")


@sweep_app.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """Every sweep in the store: its number, kind, swept fields and progress."""
    rows = [{"sweep": sweeps.number(st["name"]), **st} for st in store().studies() if st["type"] == sweeps.TYPE]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no sweeps yet: try `mnistlab sweep train --net 1 --lr 0.01,0.1 --seed 0,1 --dry-run`")
    for r in rows:
        o = r["options"]
        console.print(f"{r['sweep']:>4}  {o.get('kind', '-'):<8} {', '.join(o.get('swept', [])):<28} "
                      f"{r['done'] or 0:,}/{r['jobs']:,} done")


for _kind in KINDS.values():
    sweep_app.command(_kind.name, help=f"Sweep {_kind.name}: {_kind.summary}, once for every combination of the "
                                       f"values given (e.g. --lr 0.01,0.1 --seed 0..2), as one group of jobs."
                      )(make_command(_kind))
