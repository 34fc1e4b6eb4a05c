"""Sweeps as the study views show them (`study show sweep-3`, the dashboard's Studies pane): the best points."""

from __future__ import annotations

from runs import sweeps
from runs.records import Job
from runs.studies.table import Grid, StudyView

TYPE = "sweep"  # sweeps.TYPE (runs.sweeps may still be importing this package)
TITLE = "Sweep"
SHOWN = 50  # points in the view; `mnistlab sweep show N --all` lists every one


def summarize(name: str, jobs: list[Job]) -> StudyView:
    summary = sweeps.summarize(jobs)
    grid = Grid(f"{summary.metric} by point, best first", "point", [summary.metric],
                [(row.label, [row.cell]) for row in summary.rows[:SHOWN]], unit=summary.unit)
    view = StudyView(name, TYPE, f"Sweep {sweeps.number(name)}: {summary.kind}, {len(summary.rows):,} points",
                     [grid], summary.counts)
    view.notes.append("cells show mean ± std over finished seeds; … = still queued or running")
    if len(summary.rows) > SHOWN:
        view.notes.append(f"the best {SHOWN} of {len(summary.rows):,} points; every one: "
                          f"`mnistlab sweep show {sweeps.number(name)} --all`")
    return view
