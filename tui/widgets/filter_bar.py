"""The line above a job table: what it filters and sorts by, and an input to change it (`/`)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from tui import format as fmt
from tui.jobquery import SORTS, Query


class FilterBar(Horizontal):
    DEFAULT_CSS = """
    FilterBar { height: 1; }
    FilterBar > Input { display: none; width: 1fr; }
    FilterBar.editing > Input { display: block; }
    FilterBar.editing > #filter-summary { display: none; }
    FilterBar > #filter-summary { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
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
        self.shown, self.total, self.window_text = 0, 0, ""
        self.shared = ""  # what every listed job shares (the spec column shows only what differs)

    def compose(self) -> ComposeResult:
        # compact: one row, no border (a bordered input needs three rows, and in one its border hides the text)
        yield Input(self.text, placeholder=self.placeholder, compact=True, id="filter-input")
        yield Static(id="filter-summary")
        yield Static(id="filter-count")

    def on_mount(self) -> None:
        self._summarise()

    @property
    def editing(self) -> bool:
        return self.has_class("editing")

    def edit(self) -> None:
        """Show the input and focus it now (not after the keys already waiting): what is typed next lands in it."""
        self.add_class("editing")
        box = self.query_one(Input)
        box.value = self.text
        self.screen.set_focus(box)
        box.cursor_position = len(box.value)

    def set_text(self, text: str) -> None:
        self.text = text
        self.query_one(Input).value = text
        self._summarise()

    def set_sort(self, sort: str, reverse: bool) -> None:
        self.sort, self.reverse = sort, reverse
        self._summarise()

    def set_counts(self, shown: int, total: int, window: str = "") -> None:
        """`window`: what a list that shows only part of its matches says instead of "shown of total"."""
        if (shown, total, window) == (self.shown, self.total, self.window_text) and self.total:
            return
        old = self._count_text(self.shown, self.total, self.window_text)
        self.shown, self.total, self.window_text = shown, total, window
        text = self._count_text(shown, total, window)
        self.query_one("#filter-count", Static).update(Text(text, style="dim"), layout=len(text) != len(old))

    def set_shared(self, shared: str) -> None:
        if shared != self.shared:
            self.shared = shared
            self._summarise()

    @staticmethod
    def _count_text(shown: int, total: int, window: str = "") -> str:
        if window:
            return f" {window} "
        return f" {shown:,} of {total:,} " if shown != total else f" {fmt.plural(total, 'job')} "

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
        elif self.shared:
            out.append("  all: ", style="dim")
            out.append(self.shared)
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
