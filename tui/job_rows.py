"""One job as one line of a table: the columns, fitted to the terminal's width.

At 80 columns: id, kind, spec, status, device, progress (or why it waits),
result. From 120 columns on: also the study, the age and a note (the whole
wait or failure reason). Plain rich Text; no Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.text import Text

from jobs.kinds import KINDS
from runs.records import Job
from tui import format as fmt


def headline_text(job: Job) -> str:
    return fmt.headline(job.headline, job.kind)


def status_text(job: Job) -> Text:
    label = job.status
    if job.status == "running" and job.cancel_requested:
        label = "stopping"
    out = Text(f"{fmt.STATUS_MARK[job.status]} {label}", style=fmt.STATUS_STYLE[job.status])
    if job.status == "queued" and job.priority:
        out.append(f" {'↑' if job.priority > 0 else '↓'}{abs(job.priority)}", style="bold")
    return out


def wait_text(job: Job, engine_running: bool) -> str:
    if not engine_running:
        return "engine stopped"
    return job.wait_reason or "waiting for the engine"


def note_text(job: Job, engine_running: bool) -> Text:
    """The longer word on a job: why it waits, why it failed, what it is doing."""
    if job.status == "queued":
        return Text(wait_text(job, engine_running), style="yellow")
    if job.status == "running":
        return Text(("cancelling… " if job.cancel_requested else "") + (job.progress_text or ""))
    if job.status == "failed":
        return Text(job.reason or "failed", style="red")
    if job.status == "cancelled":
        return Text(job.reason or "cancelled", style="magenta")
    return Text(job.reason or "", style="dim")


def progress_cell(job: Job, width: int, engine_running: bool) -> Text:
    if job.status == "queued":
        return Text(wait_text(job, engine_running), style="yellow")
    if job.status == "running":
        bar_w = max(4, min(20, width - 11))
        eta = fmt.duration(job.eta_s) if job.eta_s is not None else ""
        return Text.assemble((fmt.bar(job.progress, bar_w), "cyan"), f" {job.progress * 100:3.0f}% {eta}")
    if job.status == "done":
        return Text(f"took {fmt.duration(job.runtime_s)}", style="dim")
    return Text(job.reason or job.status, style="red" if job.status == "failed" else "magenta")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int
    justify: str = "left"
    sort: str | None = None  # the sort order a click on the title picks


Cell = Callable[[Job, int, bool], Text]


def _cells() -> dict[str, Cell]:
    return {
        "id": lambda j, w, e: Text(str(j.id), style="bold"),
        "kind": lambda j, w, e: Text(j.kind),
        "spec": lambda j, w, e: Text(j.short_spec()),
        "status": lambda j, w, e: status_text(j),
        "device": lambda j, w, e: Text(j.slot or "-", style="" if j.slot else "dim"),
        "progress": lambda j, w, e: progress_cell(j, w, e),
        "result": lambda j, w, e: Text(headline_text(j), style="bold green" if j.status == "done" else "dim"),
        "study": lambda j, w, e: Text(j.study or "-", style="" if j.study else "dim"),
        "age": lambda j, w, e: Text(fmt.ago(j.created_at).replace(" ago", ""), style="dim"),
        "note": lambda j, w, e: note_text(j, e),
    }


CELLS = _cells()
KIND_WIDTH = min(8, max([4, *(len(k) for k in KINDS)]))


def layout(width: int, max_id: int, marks: bool = False) -> list[Column]:
    """Columns for a table `width` cells wide; `spec` (and `note`) take what is left."""
    id_w = max(3, len(str(max_id)))
    cols = [Column("mark", "", 1)] if marks else []
    cols += [Column("id", "id", id_w, "right", "id"), Column("kind", "kind", KIND_WIDTH, sort="kind")]
    tail = [Column("status", "status", 11, sort="status"), Column("device", "device", 6),
            Column("progress", "progress", 17, sort="progress"), Column("result", "result", 7, "right", "result")]
    wide = width >= 120
    if wide:
        tail = [Column("study", "study", 10), *tail, Column("age", "age", 7, "right", "newest")]
    fixed = sum(c.width for c in cols + tail) + len(cols) + len(tail)  # one space between columns
    spare = max(8, width - fixed)
    if wide:
        spec_w = min(40, max(16, spare // 2))
        note_w = spare - spec_w - 1
        out = cols + [Column("spec", "spec", spec_w)] + tail
        if note_w >= 10:
            out.append(Column("note", "note", note_w))
        return out
    return cols + [Column("spec", "spec", spare)] + tail


def row_text(job: Job, columns: list[Column], engine_running: bool, marked: bool = False) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, col in enumerate(columns):
        if i:
            line.append(" ")
        if col.key == "mark":
            line.append("●" if marked else " ", style="bold yellow")
            continue
        line.append_text(fit(CELLS[col.key](job, col.width, engine_running), col.width, col.justify))
    return line


def header_text(columns: list[Column], sort: str, reverse: bool) -> Text:
    line = Text(no_wrap=True)
    for i, col in enumerate(columns):
        if i:
            line.append(" ")
        title = col.title
        if col.sort and col.sort == sort:
            title += "▲" if reverse else "▼"
        line.append_text(fit(Text(title), col.width, col.justify))
    return line


def fit(text: Text, width: int, justify: str = "left") -> Text:
    """Exactly `width` cells: cut with an ellipsis, or padded."""
    if text.cell_len > width:
        text = text.copy()
        text.truncate(max(0, width - 1))
        text.append("…", style="dim")
        text.truncate(width)
    pad = width - text.cell_len
    if pad > 0:
        if justify == "right":
            text = Text(" " * pad) + text
        else:
            text = text + Text(" " * pad)
    return text


def column_at(columns: list[Column], x: int) -> Column | None:
    pos = 0
    for col in columns:
        if pos <= x < pos + col.width:
            return col
        pos += col.width + 1
    return None
