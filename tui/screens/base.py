"""What every pane shares: the top bar, the footer, and live updates from the store.

A pane that is not on screen only notes that it is stale; it catches up
when it comes back (`on_screen_resume`), so hidden panes cost nothing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from tui.live import Changes
from tui.widgets.top_bar import TopBar


class LabScreen(Screen):
    MODE = ""
    TITLE_TEXT: str | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stale = False

    def compose(self) -> ComposeResult:
        yield TopBar(self.MODE, self.TITLE_TEXT)
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        self.app.lab_screens.add(self)

    def on_unmount(self) -> None:
        self.app.lab_screens.discard(self)

    @property
    def on_view(self) -> bool:
        """On screen: the top screen, or the one right under a dialog. (Textual counts the screen under
        any top screen as visible; repainting a pane hidden under a job's detail would cost for nothing.)"""
        try:
            stack = self.app.screen_stack
        except Exception:  # noqa: BLE001 - no screens while the app shuts down
            return False
        return bool(stack) and (stack[-1] is self or (stack[-1].is_modal and len(stack) > 1 and stack[-2] is self))

    def store_changed(self, changes: Changes) -> None:
        """Called by the app after each look that found something (a direct call: a hidden pane is not
        woken up, it only notes that it is stale)."""
        if not self.on_view:
            self._stale = True
            return
        if changes.jobs or changes.engine:
            self.query_one(TopBar).update()
        self.guard(self.on_changes, changes)

    def on_screen_resume(self) -> None:
        self.query_one(TopBar).refresh()
        if self._stale:
            self._stale = False
            self.guard(self.on_changes, None)

    def on_changes(self, changes: Changes | None) -> None:
        """Show what changed; `None` means: catch up on everything."""

    def guard(self, fn, *args):
        """Run `fn`; an error becomes a message on screen, never the end of the app."""
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - the dashboard must stay up
            self.app.report_error(f"{type(exc).__name__}: {exc}")
            return None
