"""What every pane shares: the top bar, the footer, live updates from the store, and keys that say why.

A pane that is not on screen only notes that it is stale; it catches up
when it comes back (`on_screen_resume`), so hidden panes cost nothing.

A key that can do nothing right now (cancel a finished job, compare one
run) is hidden from the footer, and pressing it anyway says why: a screen
answers `why_not(action, parameters)` with a reason, or None when the key
works.
"""

from __future__ import annotations

import time

from textual import events
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
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
        self._keys_state: tuple | None = None

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
        self.keys_follow()

    def on_screen_resume(self) -> None:
        self.query_one(TopBar).refresh()
        if self._stale:
            self._stale = False
            self.guard(self.on_changes, None)
        self.keys_follow()
        self.app.remember_view(self)

    def on_changes(self, changes: Changes | None) -> None:
        """Show what changed; `None` means: catch up on everything."""

    def guard(self, fn, *args):
        """Run `fn`; an error becomes a message on screen, never the end of the app."""
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - the dashboard must stay up
            self.app.report_error(f"{type(exc).__name__}: {exc}")
            return None

    # -- keys that do nothing now: hidden, and they say why ----------------------------------
    def why_not(self, action: str, parameters: tuple) -> str | None:
        """Why this screen's `action` can do nothing now, or None when it works."""
        return None

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return self.why_not(action, parameters) is None

    def keys_follow(self) -> None:
        """Redraw the footer when what its keys may do changed (a footer redraw is not cheap)."""
        state = tuple(self.why_not(*parse(b.action)[1:]) is None for _, b in self._bindings)
        if state != self._keys_state:
            self._keys_state = state
            self.refresh_bindings()

    def on_key(self, event: events.Key) -> None:
        """A key no widget took: if the binding that would take it is off here, say why."""
        for node, bindings in self._modal_binding_chain:
            for binding in bindings.key_to_bindings.get(event.key, ()):
                _, action, params = parse(binding.action)
                if node.check_action(action, params):
                    return  # a binding that works takes the key
                why_not = getattr(node, "why_not", None)
                reason = why_not(action, params) if why_not is not None else None
                if reason:
                    event.stop()
                    self.notify(reason, title=binding.description or event.key, timeout=4, markup=False)
                    return



class DetailScreen(LabScreen):
    """A view opened over a pane (a job, a sweep, a comparison): Escape goes back to it, and the top bar
    keeps naming the pane it was opened from."""

    BINDINGS = [Binding("escape", "back", "back")]

    def title_text(self) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        self.MODE = self.app.current_mode  # on the instance: the app remembers the view by it
        self.TITLE_TEXT = self.title_text()
        yield from super().compose()

    def action_back(self) -> None:
        self.app.pop_screen()

class Throttled:
    """`fn` run at most once every `every_s` seconds however often `soon()` asks (a view recomputed once a
    second while many of its jobs change); its errors become messages on screen, as with `guard`."""

    def __init__(self, screen: LabScreen, fn, every_s: float):
        self.screen, self.fn, self.every_s = screen, fn, every_s
        self._pending = False
        self._ran = 0.0

    def soon(self) -> None:
        if self._pending:
            return
        wait = self.every_s - (time.monotonic() - self._ran)
        if wait <= 0:
            self.screen.guard(self.fn)
        else:
            self._pending = True
            self.screen.set_timer(wait, lambda: self.screen.guard(self.fn))

    def ran(self) -> None:
        """`fn` just ran (called by it, however it was called)."""
        self._pending = False
        self._ran = time.monotonic()
