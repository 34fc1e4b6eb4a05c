"""A job's result dict as a person reads it: numbers in aligned, keyed tables, never raw JSON.

- scalars (and short lists of them) as key/value pairs, several a line;
- a dict of numbers (FGSM's clean accuracy per net) as a two-column table;
- a dict of equal-length lists whose length matches a list in the result
  (accuracy per eps) as a table with that list's values as column names;
- a dict of square matrices whose size matches a list of names (FGSM's 6x6
  matrix per eps) as one table per key, rows and columns named.

Accuracies and other fractions are percentages with the dashboard's decimals;
other numbers are grouped (525,200). Plain rich renderables; no Textual here.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui import format as fmt
from tui.colors import heat, heat_legend

Number = (int, float)
LONG_TEXT = 40  # a text longer than this gets a line of its own under the key/value pairs


def _is_number(v) -> bool:
    return isinstance(v, Number) and not isinstance(v, bool)


def _is_scalar(v) -> bool:
    return v is None or isinstance(v, (str, bool, int, float))


def _fractions(values) -> bool:
    nums = [v for v in values if _is_number(v)]
    return bool(nums) and all(isinstance(v, float) and 0 <= v <= 1 for v in nums)


class ResultView:
    """Lays out `result`; `fraction_kind`: the job's kind reports fractions (its values in [0, 1] are
    percentages unless their key says otherwise)."""

    def __init__(self, result: dict, fraction_kind: bool = True, ansi: bool = False):
        self.result = {k: v for k, v in result.items() if v is not None}
        self.fraction_kind, self.ansi = fraction_kind, ansi

    def percent(self, key: str, values, nested: bool = True) -> bool:
        """Fractions shown as percentages: by their key (accuracy, *_fraction), or, for tables of a kind that
        reports fractions, when every value is one (a lone number needs its key to say so)."""
        if not _fractions(values):
            return False
        return fmt.is_fraction_key(key) or nested and self.fraction_kind and "loss" not in key

    def cell(self, key: str, value, percent: bool, colour: bool = False) -> Text:
        if value is None:
            return Text("-", style="dim")
        if percent and _is_number(value):
            text = Text(fmt.percent(value).rstrip("%") if colour else fmt.percent(value))
            if colour:
                text.stylize(heat(float(value), self.ansi))
            return text
        if isinstance(value, list) and all(_is_scalar(v) for v in value):
            return Text(", ".join(fmt.number(v, key) for v in value) or "none")
        return Text(fmt.number(value, key) if _is_number(value) else str(value))

    # -- the parts ---------------------------------------------------------------------
    def _axis(self, n: int, rows: list[str]) -> tuple[str, list]:
        """The list in the result that names `n` columns (eps for a value per eps): of that length, not the rows'
        own names, fractional numbers first, then other numbers; else the column numbers."""
        candidates = [(key, value) for key, value in sorted(self.result.items())
                      if isinstance(value, list) and len(value) == n and all(_is_scalar(v) for v in value)
                      and {str(v) for v in value} != set(rows)]
        candidates.sort(key=lambda kv: (not all(isinstance(v, float) for v in kv[1]),  # eps before run ids
                                        not all(_is_number(v) for v in kv[1])))
        return candidates[0] if candidates else ("", list(range(n)))

    def _names(self, n: int) -> list[str] | None:
        for key, value in self.result.items():
            if isinstance(value, list) and len(value) == n and all(isinstance(v, str) for v in value):
                return value
        return None

    def scalars(self, width: int) -> RenderableType | None:
        pairs = [(k, v) for k, v in sorted(self.result.items())
                 if _is_scalar(v) or isinstance(v, list) and all(_is_scalar(x) for x in v) and len(v) <= 12]
        notes = [(k, v) for k, v in pairs if isinstance(v, str) and len(v) > LONG_TEXT]
        pairs = [p for p in pairs if p not in notes]
        if not pairs and not notes:
            return None
        per_line = max(1, min(3, width // 38))
        grid = Table.grid(padding=(0, 2))
        for _ in range(per_line):
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(no_wrap=False, max_width=max(12, width // per_line - 20))
        for i in range(0, len(pairs), per_line):
            cells: list = []
            for key, value in pairs[i:i + per_line]:
                pct = self.percent(key, [value], nested=False)
                text = self.cell(key, value, pct)
                if pct:
                    text.stylize("bold green")
                cells += [key, text]
            grid.add_row(*cells)
        if not notes:
            return grid
        prose = Table.grid(padding=(0, 2))  # long texts (a method's note) a line each, the whole width
        prose.add_column(style="dim", no_wrap=True)
        prose.add_column()
        for key, value in notes:
            prose.add_row(key, value)
        return Group(grid, prose)

    def keyed(self, key: str, value: dict) -> RenderableType | None:
        """A dict of numbers, or of lists along an axis of the result."""
        if not value:
            return None
        items = list(value.items())
        if all(_is_scalar(v) for _, v in items):
            pct = self.percent(key, [v for _, v in items])
            table = _table()
            table.add_column("", style="bold", no_wrap=True)
            table.add_column("%" if pct else "value", justify="right", no_wrap=True)
            for name, v in items:
                table.add_row(str(name), self.cell(key, v, pct, colour=pct))
            return _titled(f"{key}{' (%)' if pct else ''}", table)
        lengths = {len(v) for _, v in items if isinstance(v, list)}
        if len(lengths) == 1 and all(isinstance(v, list) and all(_is_scalar(x) for x in v) for _, v in items):
            n = lengths.pop()
            axis_name, axis = self._axis(n, [str(name) for name, _ in items])
            values = [x for _, v in items for x in v]
            pct = self.percent(key, values)
            table = _table()
            table.add_column(axis_name, style="bold", no_wrap=True)
            for a in axis:
                table.add_column(fmt.number(a) if _is_number(a) else str(a), justify="right", no_wrap=True)
            for name, v in items:
                table.add_row(str(name), *[self.cell(key, x, pct, colour=pct) for x in v])
            return _titled(f"{key}{' (%)' if pct else ''}" + (f", by {axis_name}" if axis_name else ""), table)
        return None

    def matrices(self, key: str, value: dict) -> list[RenderableType]:
        """A dict of square matrices named by a list of names in the result: one table each."""
        out: list[RenderableType] = []
        for name, matrix in value.items():
            if not (isinstance(matrix, list) and matrix and all(isinstance(r, list) and len(r) == len(matrix)
                                                                for r in matrix)):
                return []
            labels = self._names(len(matrix)) or [str(i) for i in range(len(matrix))]
            values = [x for r in matrix for x in r]
            pct = self.percent(key, values)
            axis = self._axis_of(list(value))
            table = _table()
            table.add_column("", style="bold", no_wrap=True)
            for label in labels:
                table.add_column(label, justify="right", no_wrap=True)
            for i, row in enumerate(matrix):
                cells = [self.cell(key, x, pct, colour=pct) for x in row]
                cells[i].stylize("underline")  # the diagonal
                table.add_row(labels[i], *cells)
            out.append(_titled(f"{key} · {axis + '=' if axis else ''}{name}{' (%)' if pct else ''}", table))
        return out

    def _axis_of(self, keys: list[str]) -> str:
        """The name of the list in the result whose values are these keys (e.g. 'eps' for '0.2', '0.4')."""
        for name, value in self.result.items():
            if isinstance(value, list) and value and all(_is_scalar(v) for v in value):
                shown = {f"{v:g}" if _is_number(v) else str(v) for v in value}
                if set(keys) <= shown:
                    return name
        return ""

    def render(self, width: int) -> RenderableType:
        parts: list[RenderableType] = [Text("result", style="bold")]
        scalars = self.scalars(width)
        if scalars is not None:
            parts.append(scalars)
        coloured = False
        for key, value in sorted(self.result.items()):
            if not isinstance(value, dict):
                if isinstance(value, list) and (len(value) > 12 or not all(_is_scalar(v) for v in value)):
                    parts += [Text(""), Text(f"{key}: {len(value)} values (see mnistlab show --json)", style="dim")]
                continue
            tables = self.matrices(key, value) or [t for t in [self.keyed(key, value)] if t is not None]
            if not tables:
                parts += [Text(""), Text(f"{key}: {len(value)} entries (see mnistlab show --json)", style="dim")]
                continue
            for table in tables:
                parts += [Text(""), table]
            coloured = coloured or self.percent(key, _leaves(value))
        if coloured:
            parts += [Text(""), heat_legend(0.0, 1.0, self.ansi, percent=True)]
        return Group(*parts)


def _leaves(value) -> list:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def _table() -> Table:
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)


def _titled(title: str, table: Table) -> Group:
    """The title on a line of its own (a table's own title wraps at the table's width)."""
    return Group(Text(title, style="bold"), table)
