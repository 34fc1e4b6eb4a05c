"""Naming a group of jobs on the command line: `--study NAME` or `--sweep N` (ls, cancel, retry, priority)."""

from __future__ import annotations

from typing import Optional

import typer

from runs import sweeps
from runs.records import InputError
from runs.store import Store
from tui.cli.common import fail

StudyOpt = typer.Option(None, "--study", help="The jobs of this study (its group name, see `mnistlab study list`).")
SweepOpt = typer.Option(None, "--sweep", help="The jobs of this sweep (its number, see `mnistlab sweep list`).")


def sweep_group(s: Store, ref: str) -> str:
    """The group name of sweep `ref` (3 or sweep-3); exit 2 naming the sweeps there are if it is not one."""
    name = sweeps.group_name(ref)
    try:
        group = s.study(name)
    except InputError:
        numbers = sorted(sweeps.number(r[0]) for r in s.query("SELECT name FROM studies WHERE type = ?",
                                                              (sweeps.TYPE,)))
        known = ", ".join(map(str, numbers[-12:])) if numbers else "none yet"
        raise InputError(f"no sweep {sweeps.number(name)} in {s.paths.db} (sweeps: {known})") from None
    if group["type"] != sweeps.TYPE:
        raise InputError(f"group {name!r} is a {group['type']} study, not a sweep; name it with --study {name}")
    return name


def group_option(s: Store, study: Optional[str], sweep: Optional[str]) -> Optional[str]:
    """The group named by --study or --sweep (None if neither); an unknown one is refused."""
    if study is not None and sweep is not None:
        fail("give --study or --sweep, not both")
    if sweep is not None:
        return sweep_group(s, sweep)
    if study is not None:
        s.study(study)
    return study


def group_label(name: str, type_: str) -> str:
    """How messages name a group: 'sweep 3' or "study 'zoo'"."""
    return f"sweep {sweeps.number(name)}" if type_ == sweeps.TYPE else f"study {name!r}"


def job_or_group(s: Store, job_ids: Optional[list[str]], study: Optional[str],
                 sweep: Optional[str]) -> tuple[Optional[str], str]:
    """(group name, its label) when --study/--sweep is given, else (None, ''); job ids and a group exclude
    each other, and one of them is needed."""
    group = group_option(s, study, sweep)
    if group is None:
        if not job_ids:
            fail("no job id given; allowed: one or more job ids such as 7, or --study NAME, or --sweep N")
        return None, ""
    if job_ids:
        fail(f"give job ids or --{'sweep' if sweep is not None else 'study'}, not both")
    return group, group_label(group, s.study(group)["type"])
