"""The screen for a store that cannot be used: what is wrong, and how to get out of it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static


class StoreProblem(Screen):
    """The store cannot be read (not ours, corrupt, newer): say so and how to get out of it."""

    DEFAULT_CSS = """
    StoreProblem { align: center middle; }
    StoreProblem > Vertical { width: 90%; max-width: 100; height: auto; border: round $error; padding: 1 2; }
    """
    BINDINGS = [Binding("r", "retry", "try again"), Binding("q", "app.quit", "quit")]

    def __init__(self, message: str):
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("The store cannot be opened", style="bold red"))
            yield Static(Text(self.message), id="problem-message")
            yield Static(Text("\nNothing was changed. Fix or move the file (or start with another data folder: "
                              "--home DIR or MNISTLAB_HOME), then press r to try again, or q to quit.",
                              style="dim"))
        yield Footer(compact=True)

    def action_retry(self) -> None:
        self.app.pop_screen()
        self.app.open_store()
