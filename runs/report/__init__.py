"""One report for whole studies: an HTML page, its Markdown twin and PNG figures in one folder (no torch).

`write_report(store, study, out_dir)` is what `mnistlab report` and the
dashboard call. Everything comes from the store and the runs' artifact
files; the page links its figures by relative paths (figures/*.png), loads
nothing from the network, and opens offline. The folder is built aside and
moved into place, so a report is never half-written and never keeps stale
figures of an earlier one.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from jobs.atomic import write_private_file
from runs.records import InputError
from runs.report import page, sections
from runs.studies import STUDY_TYPES

HTML, MARKDOWN, FIGURES = "report.html", "report.md", "figures"


def study_names(store, which: str) -> list[str]:
    """`all`, a study's name, or a study type (every study of that type). Sweeps have no report: `all`
    leaves them out, and naming one says where its results are."""
    from runs.sweeps import TYPE as SWEEP, number

    every = store.studies()
    sweep = next((s for s in every if s["name"] == which and s["type"] == SWEEP), None)
    if sweep is not None or which == SWEEP:
        shown = f"`mnistlab sweep show {number(which)}`" if sweep else "`mnistlab sweep show ID`"
        raise InputError(f"{which} is a sweep, which has no report; {shown} ranks its points (a report "
                         f"covers the studies: {', '.join(t for t in STUDY_TYPES if t != SWEEP)})")
    studies = [s for s in every if s["type"] != SWEEP]
    if which == "all":
        names = [s["name"] for s in studies]
    elif any(s["name"] == which for s in studies):
        names = [which]
    else:
        names = [s["name"] for s in studies if s["type"] == which]
    if not names:
        known = ", ".join(s["name"] for s in studies) or "none yet"
        raise InputError(f"no study {which!r} in {store.paths.db}; allowed: all, a study type "
                         f"({', '.join(STUDY_TYPES)}) or a study name (studies: {known})")
    return names


def write_reports(store, names: list[str], out_dir: str | os.PathLike) -> Path:
    """The report of several studies in `out_dir`; returns the HTML page's path."""
    out = Path(out_dir).expanduser().resolve()
    for folder in [*reversed(out.parents), out]:  # every folder it makes is private, not only the last
        if not folder.exists():
            folder.mkdir(mode=0o700)
    staging = out / f".report-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    try:
        studies = []
        for name in names:
            jobs = store.jobs(study=name)
            view = store.study_view(name, jobs)
            done = sum(j.status == "done" for j in jobs)
            heading = f"{view.title} — study '{name}' ({done} of {len(jobs)} jobs done)"
            studies.append((heading, sections.build(store, staging, view, jobs)))
        title = "mnistlab report: " + ", ".join(names)
        intro = [f"Written {time.strftime('%Y-%m-%d %H:%M')} from {store.paths.db}. Every figure says its data set, "
                 "spec and run ids; `mnistlab show ID` has a run's full record (spec with defaults, seed, versions, "
                 "device, data checksums)."]
        write_private_file(staging / HTML, page.to_html(title, intro, studies))
        write_private_file(staging / MARKDOWN, page.to_markdown(title, intro, studies))
        shutil.rmtree(out / FIGURES, ignore_errors=True)
        if (staging / FIGURES).is_dir():
            os.replace(staging / FIGURES, out / FIGURES)
        for name in (MARKDOWN, HTML):  # the page last: once it is there, everything it links is
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / HTML


def default_folder(store, study: str) -> Path:
    """Where the dashboard writes a study's report: `reports/<study>/` in the data folder."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in study) or "study"
    return store.paths.root / "reports" / safe


def write_report(store, study: str, out_dir: str | os.PathLike) -> Path:
    """The report of one study (a name, a type, or "all") in `out_dir`; returns the HTML page's path."""
    return write_reports(store, study_names(store, study), out_dir)
