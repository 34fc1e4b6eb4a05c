"""History: past runs, searchable and filterable; mark several to compare or export."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from tui.live import Changes
from tui.screens.base import LabScreen
from tui.widgets.job_table import JobTable
from tui.widgets.jobs_pane import JobsPane


class HistoryScreen(LabScreen):
    MODE = "history"
    BINDINGS = [
        Binding("space", "mark", "mark"),
        Binding("c", "compare", "compare"),
        Binding("e", "export", "export"),
        Binding("slash", "filter", "filter"),
        Binding("s", "status", "status", show=False),
        Binding("o", "sort", "sort", show=False),
        Binding("O", "reverse", "reverse sort", show=False),
        Binding("a", "mark_all", "mark all shown", show=False),
        Binding("escape", "clear", "clear marks", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield JobsPane(self.app.live, query="status:finished", sort="newest", marks=True,
                       empty="no finished runs match")

    @property
    def pane(self) -> JobsPane:
        return self.query_one(JobsPane)

    def on_mount(self) -> None:
        super().on_mount()
        self.pane.table.focus()

    def on_changes(self, changes: Changes | None) -> None:
        self.pane.apply(changes)

    def on_job_table_opened(self, event: JobTable.Opened) -> None:
        self.app.open_job(event.job_id)

    def chosen(self) -> list[int]:
        """The marked jobs (in id order), else the highlighted one."""
        table = self.pane.table
        marked = sorted(i for i in table.marked if i in self.app.live.jobs)
        if marked:
            return marked
        return [table.current] if table.current is not None else []

    def action_mark(self) -> None:
        table = self.pane.table
        table.toggle_mark()
        table.action_cursor(1)
        self._say_marks()

    def action_mark_all(self) -> None:
        table = self.pane.table
        table.marked |= set(table.ids)
        table.refresh()
        self._say_marks()

    def _say_marks(self) -> None:
        n = len(self.pane.table.marked)
        self.notify(f"{n} run(s) marked: c compares them, e exports them", timeout=2)

    def action_clear(self) -> None:
        table = self.pane.table
        if table.marked:
            table.marked.clear()
            table.refresh()
        elif self.pane.query_text != "status:finished":
            self.pane.set_query("status:finished")

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen

        ids = self.chosen()
        if len(ids) < 2:
            self.notify("mark two or more runs with space first, then press c", severity="warning")
            return
        self.app.push_screen(CompareScreen(ids))

    def action_export(self) -> None:
        from tui.screens.export import ExportScreen

        ids = self.chosen()
        if ids:
            self.app.push_screen(ExportScreen(ids))

    def action_filter(self) -> None:
        self.pane.filter_bar.edit()

    def action_status(self) -> None:
        self.pane.cycle_status()

    def action_sort(self) -> None:
        self.pane.cycle_sort()

    def action_reverse(self) -> None:
        self.pane.set_sort(self.pane.sort, not self.pane.reverse)
