"""Rich renderings of store records for the plain-terminal CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from runs.records import Job
from runs.store import Store
from runs.studies.table import Grid, StudyView
from tui import format as fmt
from tui.cli.jobs_view import jobs_table, status_text  # noqa: F401 - jobs_table: where callers look for it
from tui.pixels import halfblocks, png_pixels


def key_values(pairs: list[tuple[str, Any]], title: str | None = None) -> RenderableType:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in pairs:
        table.add_row(key, value if isinstance(value, (Text, Table)) else _plain(value))
    return Group(Text(title, style="bold"), table) if title else table


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """{'a': {'b': 1}} -> [('a.b', 1)], with long hashes shortened for reading."""
    if isinstance(value, dict):
        out = []
        for key in sorted(value):
            out += flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        value = value[:16] + "…"
    return [(prefix, value)]


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return "-" if value is None else str(value)


def epochs_table(metrics: dict[str, list[tuple[int, float]]]) -> Table | None:
    names = [n for n in ("train/loss_epoch", "val/loss", "val/accuracy") if n in metrics]
    if not names:
        return None
    table = Table(box=box.SIMPLE_HEAD, title="per epoch", title_justify="left", title_style="bold")
    table.add_column("epoch", justify="right")
    for n in names:
        table.add_column(n, justify="right")
    steps = sorted({s for n in names for s, _ in metrics[n]})
    lookup = {n: dict(metrics[n]) for n in names}
    for step in steps:
        cells = []
        for n in names:
            v = lookup[n].get(step)
            cells.append("-" if v is None else (f"{v * 100:.2f}%" if n.endswith("accuracy") else f"{v:.4f}"))
        table.add_row(str(step), *cells)
    return table


class matrix_table:
    """A result matrix (confusion, accuracy grid, class table) as a table whose numbers are never cut."""

    def __init__(self, name: str, payload: dict):
        self.name, self.payload = name, payload

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        p = self.payload
        matrix = p["matrix"]
        columns = [str(c) for c in p.get("labels") or range(len(matrix[0]))]
        rows = [str(r) for r in p.get("row_labels") or columns]
        square = len(matrix) == len(matrix[0])
        diagonal = p.get("diagonal", square) and square  # a confusion matrix's diagonal is its hits
        cells = [[Text(_plain(v), style="bold" if diagonal and i == j else "") for j, v in enumerate(row)]
                 for i, row in enumerate(matrix)]
        table, turned = fitted_table(rows, columns, cells, options.max_width, label_style="dim")
        axes = (p.get("columns", ""), p.get("rows", "")) if turned else (p.get("rows", ""), p.get("columns", ""))
        yield Text(f"{self.name} (rows: {axes[0]}, columns: {axes[1]})", style="bold")
        yield table


def fitted_table(rows: list[str], columns: list[str], cells: list[list[Text]], max_width: int,
                 corner: str = "", label_style: str = "") -> tuple[Table, bool]:
    """A table of labelled cells whose numbers are never cut. When its columns do not fit `max_width` it is
    drawn turned (rows as columns) if that is narrower, e.g. a 4 x 11 class table becomes 11 x 4; labels
    wrap at spaces. Returns the table and whether it was turned."""
    cells = [row + [Text("")] * (len(columns) - len(row)) for row in cells]
    turned = False
    if _table_width(rows, columns, cells, corner) > max_width:
        flipped = [list(column) for column in zip(*cells)]
        if _table_width(columns, rows, flipped, "") < _table_width(rows, columns, cells, corner):
            rows, columns, cells, corner, turned = columns, rows, flipped, "", True
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0, 0, 1))
    table.add_column(corner, style=label_style, justify="right" if label_style else "left",
                     min_width=_longest_word([corner, *rows]))
    for j, label in enumerate(columns):
        table.add_column(label, justify="right", min_width=_column_width(label, cells, j))
    for label, row in zip(rows, cells):
        table.add_row(label, *row)
    return table, turned


def _longest_word(texts: list[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=0)


def _column_width(label: str, cells: list[list[Text]], j: int) -> int:
    return max([_longest_word([label])] + [len(row[j].plain) for row in cells])


def _table_width(rows: list[str], columns: list[str], cells: list[list[Text]], corner: str) -> int:
    # Each column after the first: a (blank) separator, one space of padding, the values.
    return 1 + _longest_word([corner, *rows]) + sum(2 + _column_width(label, cells, j)
                                                    for j, label in enumerate(columns))


class Picture:
    """A greyscale PNG drawn with half blocks, as wide as the terminal allows (shades when not in colour)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        try:
            pixels = png_pixels(self.path)
        except OSError as exc:
            yield Text(f"(cannot read {self.path}: {exc.strerror or exc})", style="dim")
            return
        yield halfblocks(pixels, max_width=options.max_width, color=console.color_system is not None)


def images_section(artifacts: list[dict]) -> list[RenderableType]:
    """Every image artifact of a job (sample grids, ...) with its caption."""
    parts: list[RenderableType] = []
    for a in artifacts:
        if a["kind"] == "image":
            caption = (a.get("meta") or {}).get("caption") or ""
            parts += [Text(f"{a['name']}" + (f": {caption}" if caption else ""), style="bold"), Picture(a["path"])]
    return parts


def render_job(record: dict, store: Store | None = None) -> RenderableType:
    job = Job(**{k: record[k] for k in Job.__dataclass_fields__})
    head = key_values([
        ("status", status_text(job)),
        ("reason", job.reason or "-"),
        ("study", job.study or "-"),
        ("device", job.device or "-"),
        ("attempts", f"{job.attempts} of max {job.max_attempts} after an engine crash"),
        ("created", fmt.ago(job.created_at)),
        ("runtime", fmt.duration(job.runtime_s)),
        ("progress", fmt.progress_text(job.status, job.progress, job.eta_s, 20) or job.wait_reason or "-"),
        ("artifacts", record["artifact_dir"]),
    ], title=f"job {job.id}: {job.kind} {job.short_spec()}")
    parts: list[RenderableType] = [head, key_values(sorted(job.spec.items()), title="spec (defaults filled in)")]
    if job.result:
        parts.append(key_values(sorted(job.result.items()), title="result"))
    epochs = epochs_table(record["metrics"])
    if epochs is not None:
        parts.append(epochs)
    for name, payload in record["tables"].items():
        if isinstance(payload, dict) and "matrix" in payload:
            parts.append(matrix_table(name, payload))
    parts += images_section(record["artifacts"])
    if record["artifacts"]:
        parts.append(key_values([(a["name"], f"{a['kind']}: {a['path']}") for a in record["artifacts"]],
                                title="artifacts"))
    if job.repro:
        repro = {k: v for k, v in job.repro.items() if k != "spec"}  # the spec is shown above
        parts.append(key_values(flatten(repro), title="reproducibility record"))
    if store is not None:
        logs = store.logs(job.id, limit=8)
        if logs:
            parts.append(key_values([(fmt.ago(r["ts"]), r["message"].strip().splitlines()[-1]) for r in logs],
                                    title="last log lines"))
    return Group(*parts)


class grid_table:
    """A study's grid under its title; numbers are never cut (see `fitted_table`)."""

    def __init__(self, grid: Grid):
        self.grid = grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        grid, lo_hi = self.grid, self.grid.color_scale
        cells = []
        for r, (_, row) in enumerate(grid.rows):
            shown = []
            for c, cell in enumerate(row):
                style = ""
                if lo_hi and cell.mean is not None:
                    t = (cell.mean - lo_hi[0]) / (lo_hi[1] - lo_hi[0]) if lo_hi[1] != lo_hi[0] else 1.0
                    style = "red" if t < 1 / 3 else "yellow" if t < 2 / 3 else "green"
                if grid.diagonal and r == c:
                    style += " bold underline"
                shown.append(Text(cell.text, style=style.strip()))
            cells.append(shown)
        table, _ = fitted_table([label for label, _ in grid.rows], grid.columns, cells, options.max_width,
                                corner=grid.row_label)
        yield Text(f"{grid.title} ({grid.unit})", style="bold")
        yield table


def render_study(view: StudyView) -> RenderableType:
    counts = ", ".join(f"{n} {s}" for s, n in sorted(view.counts.items())) or "no jobs"
    parts: list[RenderableType] = [Text(f"{view.title} — study '{view.name}' ({counts})", style="bold")]
    parts += [grid_table(g) for g in view.grids]
    for grid in view.grids:
        parts += [Text(n, style="dim") for n in grid.notes]
    parts += [Text(n, style="dim") for n in view.notes]
    return Group(*parts)
