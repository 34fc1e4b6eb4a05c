"""History: past runs, searchable and filterable; mark several to compare or export.

Comparing takes two keys: shift+↓ marks the highlighted run and the next
(shift+↑ the one above), c compares the marked runs. With nothing marked,
c compares every run the filter shows (when there are 2 to 8).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from tui import format as fmt
from tui.screens.job_list import LIST_BINDINGS, JobListScreen
from tui.widgets.jobs_pane import JobsPane

MAX_COMPARED = 8
BASE_QUERY = "status:finished"


class HistoryScreen(JobListScreen):
    MODE = "history"
    BINDINGS = [
        Binding("space", "mark", "mark", tooltip="mark or unmark the run (to compare or export several)"),
        Binding("shift+down,J", "extend(1)", "mark down", show=False,
                tooltip="mark this run and the next: shift+↓ then c compares two runs"),
        Binding("shift+up,K", "extend(-1)", "mark up", show=False, tooltip="mark this run and the one above"),
        Binding("c", "compare", "compare", tooltip="overlay the marked runs' curves, with what differs"),
        Binding("e", "export", "export", tooltip="write the marked runs (or this one) as CSV, JSON or Markdown"),
        *LIST_BINDINGS,
        Binding("a", "mark_all", "mark all shown", show=False),
        Binding("escape", "clear", "clear marks", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield JobsPane(self.app.live, query=BASE_QUERY, sort="newest", marks=True, base_query=BASE_QUERY,
                       empty="no finished runs yet")

    def marked(self) -> list[int]:
        return sorted(i for i in self.pane.table.marked if self.app.live.job(i) is not None)

    def chosen(self) -> list[int]:
        """The marked jobs (in id order), else the highlighted one."""
        table = self.pane.table
        return self.marked() or ([table.current] if table.current is not None else [])

    def compared(self) -> list[int]:
        """The marked runs, else every run shown when they are few."""
        marked = self.marked()
        if marked:
            return marked
        shown = self.pane.table.ids
        return sorted(shown) if 2 <= len(shown) <= MAX_COMPARED else []

    def why_not(self, action: str, parameters: tuple) -> str | None:
        if not self.ready:
            return ""
        if action == "compare" and len(self.compared()) < 2:
            if len(self.marked()) == 1:
                return "one run is marked: mark another with space (or shift+↓), then c"
            return "mark two or more runs with space (shift+↓ marks this run and the next), then c"
        if action in ("export", "mark", "extend", "mark_all") and not self.pane.table.ids:
            return "no runs are shown"
        if action == "clear" and not self.pane.table.marked and self.pane.query_text == BASE_QUERY:
            return ""
        if action in ("compare", "export", "mark", "extend", "mark_all", "clear"):
            return None
        return super().why_not(action, parameters)

    def action_mark(self) -> None:
        table = self.pane.table
        table.toggle_mark()
        table.action_cursor(1)
        self._say_marks()

    def action_extend(self, step: int) -> None:
        table = self.pane.table
        if table.current is not None:
            table.marked.add(table.current)
        table.action_cursor(step)
        if table.current is not None:
            table.marked.add(table.current)
        table.refresh()
        self._say_marks()

    def action_mark_all(self) -> None:
        table = self.pane.table
        table.marked |= set(table.ids)
        table.refresh()
        self._say_marks()

    def _say_marks(self) -> None:
        n = len(self.pane.table.marked)
        self.notify(f"{fmt.plural(n, 'run')} marked: c compares them, e exports them", timeout=2)
        self.keys_follow()

    def action_clear(self) -> None:
        table = self.pane.table
        if table.marked:
            table.marked.clear()
            table.refresh()
            self.keys_follow()
        elif self.pane.query_text != BASE_QUERY:
            self.pane.set_query(BASE_QUERY)

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen

        ids = self.compared()
        if len(ids) >= 2:
            self.app.push_screen(CompareScreen(ids))

    def action_export(self) -> None:
        from tui.screens.export import ExportScreen

        ids = self.chosen()
        if ids:
            self.app.push_screen(ExportScreen(ids))
