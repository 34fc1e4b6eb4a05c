"""Jobs as lines of fixed columns, for `ls`: a window of them, or every one, printed page by page.

Plain lines rather than a rich Table: a listing of 100,000 jobs is printed as it is read, in columns
that stay in line from the first page to the last, at the cost of a few string joins per row.
"""

from __future__ import annotations

from rich.text import Text

from jobs.kinds import KINDS
from runs import sweeps
from runs.records import STATUSES, Job
from tui import format as fmt

HEADERS = ("id", "kind", "spec", "status", "device", "progress", "result")
SPEC, RIGHT = 2, {0, 6}  # the column that gives way; right-aligned columns
GAP = "   "
WIDE = 120  # a terminal this wide also gets the note column
ALL_OF_IT = 10**6  # a spec width that asks for all the room there is


def status_text(job: Job) -> Text:
    return Text(f"{fmt.STATUS_MARK[job.status]} {job.status}", style=fmt.STATUS_STYLE[job.status])


def note(job: Job, engine_running: bool) -> str:
    if job.status == "queued":
        if not engine_running:
            return "engine not running (`mnistlab engine start`)"
        return job.wait_reason or job.reason or "waiting for the engine"
    if job.status == "running":
        return ("cancelling… " if job.cancel_requested else "") + (job.progress_text or "")
    return job.reason or ""


def progress_cell(job: Job) -> str:
    """A bar with ETA while it runs; how long it took once done."""
    if job.status == "done":
        return f"took {fmt.duration(job.runtime_s)}"
    return fmt.progress_text(job.status, job.progress, job.eta_s, 5)


def spec_text(job: Job) -> str:
    """The fields that identify a run; a sweep's job starts with its point (e.g. lr=0.1), which may be a
    field the short spec leaves out."""
    spec = job.short_spec()
    if not (job.label and sweeps.is_sweep(job.study)):
        return spec
    swept = {part.split("=")[0] for part in job.label.split()}
    return " ".join([job.label, *(part for part in spec.split() if part.split("=")[0] not in swept)])


def cells(job: Job) -> list[str]:
    return [str(job.id), job.kind, spec_text(job), status_text(job).plain, job.slot or "-", progress_cell(job),
            fmt.headline(job.headline, job.kind)]


class JobColumns:
    """Column widths for a terminal `width` wide: every column keeps its whole text but the spec, which gets
    what is left (cut with an ellipsis), so no line is longer than the terminal (80 columns and up)."""

    def __init__(self, width: int, engine_running: bool = True, widths: list[int] | None = None):
        self.width, self.engine_running, self.wide = width, engine_running, width >= WIDE
        self.widths = [max(len(h), w) for h, w in zip(HEADERS, widths or [0] * len(HEADERS))]

    @classmethod
    def for_listing(cls, width: int, engine_running: bool, last_id: int) -> "JobColumns":
        """Columns sized before the first page, so that every page of a long listing lines up."""
        status = max(len(f"{fmt.STATUS_MARK[s]} {s}") for s in STATUSES)
        return cls(width, engine_running, [len(str(last_id)), max(map(len, KINDS)), ALL_OF_IT, status, 4, 10, 7])

    def fit(self, rows: list[list[str]]) -> None:
        self.widths = [max([w] + [len(r[c]) for r in rows]) for c, w in enumerate(self.widths)]

    @property
    def spec_width(self) -> int:
        others = sum(w for c, w in enumerate(self.widths) if c != SPEC)
        rest = self.width - others - len(GAP) * (len(HEADERS) - (0 if self.wide else 1))
        return min(40 if self.wide else max(8, rest), self.widths[SPEC])

    @property
    def note_width(self) -> int:
        used = sum(w for c, w in enumerate(self.widths) if c != SPEC) + self.spec_width + len(GAP) * len(HEADERS)
        return max(10, self.width - used)

    def _line(self, texts: list[str], styles: list[str]) -> Text:
        line = Text()
        for c, (text, style) in enumerate(zip(texts, styles)):
            width = self.spec_width if c == SPEC else self.note_width if c == len(HEADERS) else self.widths[c]
            if len(text) > width:
                text = text[:width - 1] + "…"
            last = c == len(texts) - 1
            padded = text.rjust(width) if c in RIGHT else text if last else text.ljust(width)
            line.append(padded, style=style)
            if not last:
                line.append(GAP)
        return line

    def header(self) -> Text:
        titles = list(HEADERS) + (["note"] if self.wide else [])
        head = self._line(titles, ["bold"] * len(titles))
        return Text.assemble(head, "\n", ("─" * head.cell_len, "dim"))

    def rows(self, jobs: list[Job], table: list[list[str]] | None = None) -> Text:
        """The jobs' lines; `table`: their `cells`, if the caller made them already (to `fit` them)."""
        out = Text()
        for n, job in enumerate(jobs):
            texts = list(table[n]) if table is not None else cells(job)
            styles = ["bold", "", "", fmt.STATUS_STYLE[job.status], "", "", ""]
            if self.wide:
                texts.append(note(job, self.engine_running))
                styles.append("dim")
            out.append_text(self._line(texts, styles))
            if n < len(jobs) - 1:
                out.append("\n")
        return out


def jobs_table(jobs: list[Job], engine_running: bool = True, width: int = 80) -> Text:
    """A window of jobs under a header, columns sized to what they show."""
    columns = JobColumns(width, engine_running)
    table = [cells(job) for job in jobs]
    columns.fit(table)
    return Text.assemble(columns.header(), "\n", columns.rows(jobs, table))
