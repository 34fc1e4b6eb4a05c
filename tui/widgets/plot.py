"""A plotext plot that redraws only when its data changed, at most a few times a second."""

from __future__ import annotations

import time
from typing import Callable

from textual_plotext import PlotextPlot

MIN_REDRAW_S = 0.5


class Plot(PlotextPlot):
    """`draw(plt)` fills the plot; `changed()` asks for a redraw (coalesced)."""

    DEFAULT_CSS = """
    Plot { height: 1fr; min-height: 6; }
    """

    def __init__(self, draw: Callable, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.draw = draw
        self._drawn_at = 0.0
        self._pending = False
        self.error: str | None = None

    def on_mount(self) -> None:
        super().on_mount()
        if getattr(self.app, "ansi_mode", False):
            self.theme = "clear"
        self._redraw()

    def on_resize(self) -> None:
        self.changed()

    def changed(self, now: bool = False) -> None:
        """`now`: draw at once (new lines or charts appeared), not at the next coalesced redraw."""
        if self._pending and not now:
            return
        wait = MIN_REDRAW_S - (time.monotonic() - self._drawn_at)
        if wait <= 0 or now:
            self._redraw()
        else:
            self._pending = True
            self.set_timer(wait, self._redraw)

    def _redraw(self) -> None:
        self._pending = False
        self._drawn_at = time.monotonic()
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        try:
            self.draw(plt)
            self.error = None
        except Exception as exc:  # noqa: BLE001 - a bad payload shows as a message in the plot
            plt.clear_data()
            plt.title(f"cannot draw: {type(exc).__name__}: {exc}")
            self.error = str(exc)
        self.refresh()
