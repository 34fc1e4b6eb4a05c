"""The line above a job table: what it filters and sorts by, and an input to change it (`/`)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from tui.jobquery import SORTS, Query


class FilterBar(Horizontal):
    DEFAULT_CSS = """
    FilterBar { height: 1; }
    FilterBar > Input { display: none; width: 1fr; height: 1; border: none; padding: 0 1; }
    FilterBar.editing > Input { display: block; }
    FilterBar.editing > #filter-summary { display: none; }
    FilterBar > #filter-summary { width: 1fr; }
    FilterBar > #filter-count { width: auto; color: $text-muted; }
    """

    class Changed(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    class Done(Message):
        pass

    def __init__(self, text: str = "", placeholder: str = ""):
        super().__init__()
        self.text = text
        self.placeholder = placeholder or "status:running kind:train net=10.1 words…"
        self.sort, self.reverse = "queue", False
        self.shown, self.total = 0, 0

    def compose(self) -> ComposeResult:
        yield Input(self.text, placeholder=self.placeholder, id="filter-input")
        yield Static(id="filter-summary")
        yield Static(id="filter-count")

    def on_mount(self) -> None:
        self._summarise()

    def edit(self) -> None:
        self.add_class("editing")
        box = self.query_one(Input)
        box.value = self.text
        box.focus()
        box.cursor_position = len(box.value)

    def set_text(self, text: str) -> None:
        self.text = text
        self.query_one(Input).value = text
        self._summarise()

    def set_sort(self, sort: str, reverse: bool) -> None:
        self.sort, self.reverse = sort, reverse
        self._summarise()

    def set_counts(self, shown: int, total: int) -> None:
        if (shown, total) == (self.shown, self.total) and self.total:
            return
        old = f"{self.shown} of {self.total} " if self.shown != self.total else f"{self.total} jobs "
        self.shown, self.total = shown, total
        text = f"{shown} of {total} " if shown != total else f"{total} jobs "
        self.query_one("#filter-count", Static).update(Text(text, style="dim"), layout=len(text) != len(old))

    def _summarise(self) -> None:
        query = Query.parse(self.text)
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append("/ ", style="bold")
        if self.text.strip():
            out.append(self.text, style="bold yellow")
        else:
            out.append("all jobs", style="dim")
        out.append(f"  sort: {SORTS[self.sort][0]}{' (reversed)' if self.reverse else ''}", style="dim")
        if query.problems:
            out.append(f"  {query.problems[0]}", style="red")
        self.query_one("#filter-summary", Static).update(out)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.text = event.value
        self._summarise()
        self.post_message(self.Changed(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("editing")
        self.post_message(self.Done())

    def on_descendant_blur(self, event) -> None:
        self.remove_class("editing")

    def key_escape(self, event) -> None:
        # Escape while typing: forget the filter and go back to the table.
        event.stop()
        self.set_text("")
        self.remove_class("editing")
        self.post_message(self.Changed(""))
        self.post_message(self.Done())
