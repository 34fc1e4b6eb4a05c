"""Matrix tables (`{"matrix": [[...]], "labels", "row_labels", "rows", "columns", "color_scale", "diagonal"}`)
as coloured rich tables: a confusion matrix shaded by count, an accuracy matrix coloured on its own fixed
scale (0-100 % for accuracies: a 45 % cell never looks like a 95 % one), with a legend under it."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from tui import format as fmt
from tui.colors import heat, heat_legend, position, shade


def cell_text(value, scale: tuple[float, float] | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if scale is not None and scale[1] <= 1.0 and 0.0 <= value <= 1.0:
            return f"{value * 100:.{fmt.ACCURACY_DECIMALS}f}"
        return fmt.number(value)
    return str(value)


def matrix_table(name: str, payload: dict, ansi: bool):
    matrix = payload["matrix"]
    if not isinstance(matrix, list) or not all(isinstance(r, list) for r in matrix):
        raise ValueError("'matrix' is not a list of rows")
    width = max((len(r) for r in matrix), default=0)
    labels = [str(x) for x in (payload.get("labels") or range(width))]
    row_labels = [str(x) for x in (payload.get("row_labels") or payload.get("labels") or range(len(matrix)))]
    scale = payload.get("color_scale")
    scale = (float(scale[0]), float(scale[1])) if scale else None
    numbers = [v for r in matrix for v in r if isinstance(v, (int, float)) and not isinstance(v, bool)]
    top = max(numbers, default=0) or 1
    diagonal = payload.get("diagonal", scale is None)
    rows_what, cols_what = payload.get("rows", ""), payload.get("columns", "")
    caption = f"rows: {rows_what} · columns: {cols_what}" if rows_what or cols_what else None
    unit = " (%)" if scale is not None and scale[1] <= 1.0 else ""
    table = Table(box=box.SIMPLE, caption=caption, caption_justify="left", caption_style="dim",
                  pad_edge=False, padding=(0, 1))
    table.add_column("", style="bold", justify="right", no_wrap=True)
    for label in labels[:width]:
        table.add_column(label, justify="right", no_wrap=True)
    for i, row in enumerate(matrix):
        cells = []
        for j, value in enumerate(row):
            style = None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                t = position(float(value), *scale) if scale else float(value) / top
                style = heat(t, ansi) if scale else shade(t, ansi)
            text = Text(cell_text(value, scale), style=style or "")
            if diagonal and i == j:
                text.stylize("bold underline")
            cells.append(text)
        cells += [Text("")] * (width - len(cells))
        table.add_row(row_labels[i] if i < len(row_labels) else str(i), *cells)
    # the title on a line of its own: a table's title wraps at the table's width
    title = Text(f"{payload.get('title') or name}{unit}", style="bold")
    if scale is None:
        return Group(title, table)
    return Group(title, table, heat_legend(*scale, ansi, percent=bool(unit)))
