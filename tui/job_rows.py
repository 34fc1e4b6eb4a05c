"""One job as one line of a table: the columns, fitted to the terminal's width.

At 80 columns: id, kind, spec, status, device, progress (or why it waits),
result. From 120 columns on: also the study, the age and a note (the whole
wait or failure reason). Plain rich Text; no Textual here.

The spec column shows what tells the listed jobs apart: the fields whose
values differ between the jobs of the same kind, the one with the most
values first (ten seeds of one net show `seed=0` ... `seed=9`, not ten
identical cut-off prefixes); what they all share is said once, above. A queued job's
progress column says why it waits in a few words that always fit
("waits for #12", "needs a GPU"); the whole reason is in the note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from rich.text import Text

from jobs.kinds import KINDS
from runs.records import UNSHOWN_DEFAULTS, Job, identity_keys
from tui import format as fmt

PROGRESS_WIDTH = 17


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


_SHORT_WAITS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"^waiting for job (.+) to finish$"),
     lambda m: _waits_for([int(i) for i in re.findall(r"(\d+) \(", m.group(1))])),
    (re.compile(r"^asks for GPU (\d+), which this engine does not have \(GPUs: none\)"), lambda m: "needs a GPU"),
    (re.compile(r"^asks for GPU (\d+), which this engine does not have"), lambda m: f"needs GPU {m.group(1)}"),
    (re.compile(r"^every GPU of this engine is excluded"), lambda m: "all GPUs excluded"),
    (re.compile(r"^GPU (\d+), which it asked for, is busy"), lambda m: f"waits for GPU {m.group(1)}"),
    (re.compile(r"^no free slot"), lambda m: "no free slot"),
    (re.compile(r"^waiting for the engine$"), lambda m: "engine to take it"),
]


def _waits_for(ids: list[int]) -> str:
    if not ids:
        return "waits for a job"
    text = "waits for " + " ".join(f"#{i}" for i in ids)
    return text if len(text) <= PROGRESS_WIDTH else f"waits for {fmt.plural(len(ids), 'job')}"


def short_wait(job: Job, engine_running: bool, width: int = PROGRESS_WIDTH) -> str:
    """Why a queued job waits, in words that fit `width` whole ("waits for #12", "needs a GPU")."""
    reason = wait_text(job, engine_running)
    for pattern, short in _SHORT_WAITS:
        match = pattern.search(reason)
        if match:
            reason = short(match)
            break
    return whole_words(reason, width)


def whole_words(text: str, width: int) -> str:
    """`text` if it fits, else as many whole words as fit followed by '…' (never half a word)."""
    if len(text) <= width:
        return text
    words, out = text.split(), ""
    for word in words:
        candidate = f"{out} {word}" if out else word
        if len(candidate) + 1 > width:
            break
        out = candidate
    return (out.rstrip(",;:") or text[:max(0, width - 1)]) + "…"


# -- the spec column: what tells the listed jobs apart ------------------------------------------------


def _shown(value) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


@dataclass
class SpecColumn:
    """Per kind, the spec fields whose values differ between the listed jobs; the fields all of them share."""

    differ: dict[str, list[str]] = field(default_factory=dict)
    same: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, jobs) -> "SpecColumn":
        by_kind: dict[str, list[Job]] = {}
        for job in jobs:
            by_kind.setdefault(job.kind, []).append(job)
        out = cls()
        for kind, group in by_kind.items():
            if len(group) < 2:
                continue
            values: dict[str, set[str]] = {}
            for job in group:
                for key, value in job.spec.items():
                    values.setdefault(key, set()).add(_shown(value))
            known = identity_keys(kind)
            keys = sorted(values, key=lambda k: (known.index(k) if k in known else 99, k))
            counts = {k: sum(k in j.spec for j in group) for k in keys}
            # the field with the most values first: it tells the most rows apart when the column is narrow
            differ = sorted((k for k in keys if len(values[k]) > 1 or counts[k] < len(group)),
                            key=lambda k: -len(values[k]))
            if differ:
                out.differ[kind] = differ
                out.same[kind] = {k: next(iter(values[k])) for k in keys
                                  if k not in differ and k in known and not _unshown(k, values[k])}
        return out

    def text(self, job: Job) -> str:
        keys = self.differ.get(job.kind)
        if not keys:
            return job.short_spec()
        return " ".join(f"{k}={_shown(job.spec[k])}" for k in keys if k in job.spec) or job.short_spec()

    def shared(self) -> str:
        """What every listed job shares, when the list holds one kind: 'net=10.1 samples=1000'."""
        if len(self.same) != 1 or len(self.differ) != 1:
            return ""
        return " ".join(f"{k}={v}" for k, v in next(iter(self.same.values())).items())


def _unshown(key: str, values: set[str]) -> bool:
    return key in UNSHOWN_DEFAULTS and values == {_shown(UNSHOWN_DEFAULTS[key])}


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
        return Text(short_wait(job, engine_running, width), style="yellow")
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
            Column("progress", "progress", PROGRESS_WIDTH, sort="progress"),
            Column("result", "result", 7, "right", "result")]
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


def row_text(job: Job, columns: list[Column], engine_running: bool, marked: bool = False,
             spec: SpecColumn | None = None) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, col in enumerate(columns):
        if i:
            line.append(" ")
        if col.key == "mark":
            line.append("●" if marked else " ", style="bold yellow")
            continue
        if col.key == "spec":  # cut between fields, never inside a value
            cell = Text(whole_words(spec.text(job) if spec else job.short_spec(), col.width))
        else:
            cell = CELLS[col.key](job, col.width, engine_running)
        line.append_text(fit(cell, col.width, col.justify))
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
