"""What a study shows: grids of cells (mean ± std over seeds, or status marks).

Plain data with a JSON form, rendered by the CLI (rich) and the dashboard
(Textual) alike, so every study only computes its numbers, never its looks.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Cell:
    values: list[float] = field(default_factory=list)  # one per finished run (seed)
    pending: int = 0   # queued or running
    failed: int = 0    # failed or cancelled
    scale: float = 100.0   # shown as value * scale (accuracy fractions as percent)
    digits: int = 1
    signed: bool = False   # show a + on improvements
    job_ids: list[int] = field(default_factory=list)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    @property
    def text(self) -> str:
        if self.mean is None:
            if self.pending:
                return "…"
            return "failed" if self.failed else "-"
        sign = "+" if self.signed else ""
        out = f"{self.mean * self.scale:{sign}.{self.digits}f}"
        if self.std is not None:
            out += f" ± {self.std * self.scale:.{self.digits}f}"
        if self.pending:
            out += " …"
        return out

    def to_json(self) -> dict:
        return {"mean": self.mean, "std": self.std, "n": len(self.values), "values": self.values,
                "pending": self.pending, "failed": self.failed, "text": self.text, "job_ids": self.job_ids}


@dataclass
class Grid:
    title: str
    row_label: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)
    color_scale: tuple[float, float] | None = None  # colour cells by mean between these values
    diagonal: bool = False                          # mark the diagonal (square matrices)
    unit: str = "%"
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"title": self.title, "row_label": self.row_label, "columns": self.columns,
                "rows": [{"label": label, "cells": [c.to_json() for c in cells]} for label, cells in self.rows],
                "color_scale": self.color_scale, "diagonal": self.diagonal, "unit": self.unit, "notes": self.notes}

    def to_markdown(self) -> str:
        head = f"| {self.row_label} | " + " | ".join(self.columns) + " |"
        rule = "| --- | " + " | ".join("---:" for _ in self.columns) + " |"
        body = ["| " + label + " | " + " | ".join(c.text for c in cells) + " |" for label, cells in self.rows]
        notes = [f"\n{n}" for n in self.notes]
        return "\n".join([f"**{self.title}** ({self.unit})", "", head, rule, *body, *notes])


@dataclass
class StudyView:
    name: str
    type: str
    title: str
    grids: list[Grid] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # jobs by status
    notes: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)  # {"job_id", "artifact", "caption"} to show beside the grids

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type, "title": self.title, "counts": self.counts,
                "grids": [g.to_json() for g in self.grids], "notes": self.notes, "images": self.images}

    def to_csv(self) -> str:
        """One row per cell: grid, row, column, mean, std, n, pending, failed."""
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["grid", "row", "column", "mean", "std", "n", "pending", "failed"])
        for grid in self.grids:
            for label, cells in grid.rows:
                writer.writerows([grid.title, label, column, c.mean, c.std, len(c.values), c.pending, c.failed]
                                 for column, c in zip(grid.columns, cells))
        return out.getvalue()

    def export(self, format_: str) -> str:
        """The view as "json", "md" or "csv" text (what `export --study` and the dashboard write)."""
        if format_ == "json":
            import json

            return json.dumps(self.to_json(), indent=2, sort_keys=True)
        return self.to_markdown() if format_ == "md" else self.to_csv()

    def to_markdown(self) -> str:
        parts = [f"## {self.title}", ""]
        for grid in self.grids:
            parts += [grid.to_markdown(), ""]
        parts += self.notes
        return "\n".join(parts).rstrip() + "\n"


def status_counts(jobs) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
    return counts


def status_cell(job) -> Cell:
    """A cell that only marks where a job stands (pending or failed), for a row not filled yet."""
    return Cell(job_ids=[job.id], pending=int(job.status in ("queued", "running")),
                failed=int(job.status in ("failed", "cancelled")))


def add_job(cell: Cell, job, value_key: str = "test_accuracy") -> None:
    """Fold one job into a cell: its result if done, else a pending or failed mark."""
    cell.job_ids.append(job.id)
    if job.status == "done" and job.result and job.result.get(value_key) is not None:
        cell.values.append(float(job.result[value_key]))
    elif job.status in ("queued", "running"):
        cell.pending += 1
    elif job.status in ("failed", "cancelled"):
        cell.failed += 1
