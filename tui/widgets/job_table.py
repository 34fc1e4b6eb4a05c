"""A table of jobs that stays smooth with thousands of rows (Textual's Line API).

Only the visible lines are rendered, each from a cache keyed by the job's
change counter, so a job that streams progress costs one line, and
scrolling costs nothing but the lines that come into view. The header line
is sticky; a click on a column title sorts by it.
"""

from __future__ import annotations

from collections import OrderedDict

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from runs.records import Job
from tui import job_rows

CACHE_LINES = 400


class JobTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    JobTable { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    JobTable > .job-table--header { text-style: bold; background: $panel; }
    JobTable:ansi > .job-table--header { background: ansi_default; text-style: bold underline; }
    JobTable > .job-table--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
    }
    JobTable:focus > .job-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    JobTable:ansi > .job-table--cursor { text-style: underline; }
    JobTable:ansi:focus > .job-table--cursor { text-style: reverse bold; }
    JobTable > .job-table--empty { color: $text-muted; }
    """
    # Focus shows on the cursor row (reverse when focused, underlined when not): no bar, the columns need
    # every cell of an 80-column terminal.
    COMPONENT_CLASSES = {"job-table--header", "job-table--cursor", "job-table--empty"}

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "up", show=False),
        Binding("down,j", "cursor(1)", "down", show=False),
        Binding("pageup,ctrl+b", "page(-1)", "page up", show=False),
        Binding("pagedown,ctrl+f", "page(1)", "page down", show=False),
        Binding("home,g", "jump(0)", "first", show=False),
        Binding("end,G", "jump(-1)", "last", show=False),
        Binding("enter", "open", "open", show=True),
    ]

    cursor = reactive(0, always_update=False, repaint=False)

    class Highlighted(Message):
        def __init__(self, table: "JobTable", job_id: int | None):
            super().__init__()
            self.table, self.job_id = table, job_id

    class Opened(Message):
        def __init__(self, table: "JobTable", job_id: int):
            super().__init__()
            self.table, self.job_id = table, job_id

    class SortClicked(Message):
        def __init__(self, table: "JobTable", sort: str):
            super().__init__()
            self.table, self.sort = table, sort

    def __init__(self, *, marks: bool = False, empty: str = "no jobs", id: str | None = None):
        super().__init__(id=id)
        self.marks_enabled = marks
        self.marked: set[int] = set()
        self.ids: list[int] = []
        self.lookup: dict[int, Job] = {}
        self.engine_running = True
        self.sort, self.reverse = "queue", False
        self.empty_text = empty
        self._columns: list[job_rows.Column] = []
        self._columns_for: tuple[int, int] | None = None
        self._cache: OrderedDict[tuple, Strip] = OrderedDict()
        self.spec_column = job_rows.SpecColumn()

    # -- data ----------------------------------------------------------------
    @property
    def current(self) -> int | None:
        return self.ids[self.cursor] if 0 <= self.cursor < len(self.ids) else None

    def set_rows(self, ids: list[int], lookup: dict[int, Job], *, keep: int | None = None,
                 spec_column: job_rows.SpecColumn | None = None, empty: str | None = None) -> None:
        """Show `ids` in this order; the cursor stays on the same job (or `keep`) if it is still shown."""
        follow = keep if keep is not None else self.current
        self.ids, self.lookup = ids, lookup
        if empty is not None:
            self.empty_text = empty
        if spec_column is not None and spec_column is not self.spec_column:
            self.spec_column = spec_column
            self._cache.clear()
        if follow is not None and follow in lookup:
            try:
                index = ids.index(follow)
            except ValueError:
                index = min(self.cursor, max(0, len(ids) - 1))
        else:
            index = min(self.cursor, max(0, len(ids) - 1))
        self.virtual_size = Size(self.size.width, len(ids) + 1)
        self._set_cursor(index, announce=True)
        self.refresh()

    def refresh_jobs(self, ids: set[int]) -> None:
        """Repaint only the visible lines of these jobs (their rows changed, not their order)."""
        top = int(self.scroll_y)
        for line in range(1, self.size.height):
            index = top + line - 1
            if index < len(self.ids) and self.ids[index] in ids:
                self.refresh_line(line)
        if self.current in ids:
            self.post_message(self.Highlighted(self, self.current))

    def set_engine_running(self, running: bool) -> None:
        if running != self.engine_running:
            self.engine_running = running
            self._cache.clear()
            self.refresh()

    def set_sort(self, sort: str, reverse: bool) -> None:
        self.sort, self.reverse = sort, reverse
        self.refresh_line(0)

    def toggle_mark(self, job_id: int | None = None) -> None:
        job_id = self.current if job_id is None else job_id
        if job_id is None:
            return
        self.marked.symmetric_difference_update({job_id})
        self.refresh()

    # -- cursor ----------------------------------------------------------------
    def _set_cursor(self, index: int, announce: bool = False) -> None:
        index = max(0, min(index, len(self.ids) - 1)) if self.ids else 0
        changed = index != self.cursor
        old = self.cursor
        self.cursor = index
        if changed:
            self._refresh_index(old)
            self._refresh_index(index)
        self._scroll_to_cursor()
        if changed or announce:
            self.post_message(self.Highlighted(self, self.current))

    def _refresh_index(self, index: int) -> None:
        line = index - int(self.scroll_y) + 1
        if 1 <= line < self.size.height:
            self.refresh_line(line)

    def _scroll_to_cursor(self) -> None:
        rows = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self.cursor + direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        self._set_cursor(0 if where == 0 else len(self.ids) - 1)

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self, self.current))

    def select_job(self, job_id: int) -> bool:
        if job_id in self.ids:
            self._set_cursor(self.ids.index(job_id))
            return True
        return False

    # -- mouse -------------------------------------------------------------------
    def on_click(self, event) -> None:
        if event.y == 0:
            col = job_rows.column_at(self._layout(), event.x)
            if col is not None and col.sort:
                self.post_message(self.SortClicked(self, col.sort))
            return
        index = int(self.scroll_y) + event.y - 1
        if 0 <= index < len(self.ids):
            self._set_cursor(index)
            if self.marks_enabled and event.x == 0:  # a click on the mark column marks the run
                self.toggle_mark(self.ids[index])
                self.post_message(self.Highlighted(self, self.current))
            elif event.chain >= 2:
                self.action_open()

    # -- rendering ---------------------------------------------------------------
    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.ids) + 1)
        self._scroll_to_cursor()

    def _layout(self) -> list[job_rows.Column]:
        width = self.scrollable_content_region.width or self.size.width
        max_id = max(self.lookup) if self.lookup else 1
        key = (width, len(str(max_id)))
        if key != self._columns_for:
            self._columns_for = key
            self._columns = job_rows.layout(width, max_id, self.marks_enabled)
            self._cache.clear()
        return self._columns

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        columns = self._layout()
        if y == 0:
            style = self.get_component_rich_style("job-table--header")
            text = job_rows.header_text(columns, self.sort, self.reverse)
            return self._strip(text, width, style)
        index = int(self.scroll_y) + y - 1
        if not self.ids:
            if y == 1:
                style = self.get_component_rich_style("job-table--empty")
                return self._strip(Text(self.empty_text), width, style)
            return Strip.blank(width, self.rich_style)
        if index >= len(self.ids):
            return Strip.blank(width, self.rich_style)
        job = self.lookup[self.ids[index]]
        is_cursor = index == self.cursor
        marked = job.id in self.marked
        key = (job.id, job.seq, width, is_cursor, marked, self.has_focus, self.engine_running)
        strip = self._cache.get(key)
        if strip is None:
            text = job_rows.row_text(job, columns, self.engine_running, marked, self.spec_column)
            base = self.get_component_rich_style("job-table--cursor") if is_cursor else self.rich_style
            strip = self._strip(text, width, base)
            self._cache[key] = strip
            if len(self._cache) > CACHE_LINES:
                self._cache.popitem(last=False)
        return strip

    def _strip(self, text, width: int, base: Style) -> Strip:
        segments = [Segment(s.text, base + s.style if s.style else base) if not s.control else s
                    for s in text.render(self.app.console, end="")]
        return Strip(segments).crop_extend(0, width, base)

    def on_focus(self) -> None:
        self._refresh_index(self.cursor)

    def on_blur(self) -> None:
        self._refresh_index(self.cursor)
