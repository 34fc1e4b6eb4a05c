"""A yes/no question in a small box (y / n, Enter / Escape, or the mouse); the safe answer has the focus."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class Confirm(ModalScreen[bool]):
    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical { width: auto; max-width: 90%; min-width: 40; height: auto; border: round $warning;
                         padding: 0 1; background: $surface; }
    Confirm Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    Confirm Button { margin-left: 1; min-width: 8; }
    """
    BINDINGS = [Binding("y", "answer(True)", "yes"), Binding("n,escape", "answer(False)", "no")]

    def __init__(self, question: str | Text, yes: str = "Yes", no: str = "No"):
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question")
            with Horizontal():
                yield Button(f"{self.no} [n]", id="no")
                yield Button(f"{self.yes} [y]", id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def ask(self, question: str | Text, yes_allowed: bool = True) -> None:
        """Change the question while it is open (the thing it is about changed); a change that arrives
        while the box closes, its buttons already gone, changes nothing."""
        self.question = question
        try:
            self.query_one("#question", Static).update(question)
            self.query_one("#yes", Button).disabled = not yes_allowed
        except NoMatches:
            pass

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "answer" and parameters == (True,):
            return not self.query_one("#yes", Button).disabled
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
