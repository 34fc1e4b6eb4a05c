"""The line at the top of every screen: the panes (click or 1-4), the engine, the counts, any store error."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

MODES = (("queue", "Queue"), ("devices", "Devices"), ("studies", "Studies"), ("history", "History"))


class TopBar(Widget):
    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; color: $foreground; }
    TopBar:ansi { background: ansi_default; }
    """

    def __init__(self, mode: str, title: str | None = None):
        super().__init__()
        self.mode = mode
        self.title = title
        self._spans: list[tuple[int, int, str]] = []

    def update(self) -> None:
        """Repaint if what it says changed (engine, counts, error)."""
        live = getattr(self.app, "live", None)
        key = (live.engine_running, live.error, tuple(sorted(live.counts().items()))) if live else None
        if key != getattr(self, "_key", ()):
            self._key = key
            self.refresh()

    def render(self) -> Text:
        app = self.app
        live = getattr(app, "live", None)
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(" mnistlab ", style="bold")
        self._spans = []
        for i, (mode, label) in enumerate(MODES, 1):
            start = out.cell_len
            chosen = mode == self.mode
            out.append(f" {i} {label} ", style="bold reverse" if chosen else "")
            self._spans.append((start, out.cell_len, mode))
        if self.title:
            out.append(f" │ {self.title}", style="bold")
        right = self._status(live, compact=False)
        if out.cell_len + right.cell_len + 1 > self.size.width:
            right = self._status(live, compact=True)
        gap = self.size.width - out.cell_len - right.cell_len
        if gap >= 1:
            out.append(" " * gap)
            out.append_text(right)
        return out

    @staticmethod
    def _status(live, compact: bool) -> Text:
        right = Text(no_wrap=True)
        if live is None:
            return right
        if live.error:
            right.append("store error " if compact else f"store: {live.error[:60]} ", style="bold red")
        if live.engine_running:
            right.append("●" if compact else "● engine", style="green")
        else:
            right.append("○ engine off" if compact else "○ engine stopped (E starts it)", style="yellow")
        counts = live.counts()
        if counts.get("running"):
            right.append(f" {counts['running']}▶", style="cyan")
        if counts.get("queued"):
            right.append(f" {counts['queued']}·", style="yellow")
        if counts.get("failed") and not compact:
            right.append(f" {counts['failed']}✗", style="red")
        right.append(" ")
        return right

    def on_click(self, event) -> None:
        for start, end, mode in self._spans:
            if start <= event.x < end:
                self.app.switch_mode(mode)
                return
