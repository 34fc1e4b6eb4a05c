"""`?`: the keys of the screen you are on (read from its bindings, so always current), and a few notes."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

NOTES = {
    "QueueScreen": "Filter with / : words match id, kind, spec, status, study, reason; status:running,queued "
                   "(or status:active), kind:train, study:zoo, net=10.1 (any spec field). s cycles the status "
                   "filter, o the sort order (O reverses), a click on a column title sorts by it. The spec "
                   "column shows what differs between the jobs listed (what they share is in its title); a "
                   "queued job's progress column says why it waits. C clones the highlighted job into the "
                   "submit form. A key that can do nothing for this job is hidden; pressed anyway, it says why.",
    "HistoryScreen": "Past runs (status:finished). space marks a run, shift+↓ (J) marks this run and the next, "
                     "a marks all shown; c compares the marked runs (with none marked: every run shown, when "
                     "2 to 8), e exports them (CSV, JSON or Markdown); with nothing marked, e exports the "
                     "highlighted run. Same filter syntax as the queue (/).",
    "JobScreen": "[ and ] switch tabs: curves, results (tables, matrices, maps), spec and reproducibility "
                 "record, log, images; the tab on show has the focus, so arrows scroll it at once. On the "
                 "curves: m shows the next chart (loss, accuracy, ...), z zooms to the last 20, 10, 5, 2 "
                 "epochs, l switches the log scale. C clones the job into the submit form, v opens the region "
                 "view of a map with images, e exports the job.",
    "StudiesScreen": "One tab per study (< and > switch). [ and ] step through the study's grids (e.g. one "
                     "accuracy matrix per epsilon). Arrows move over the cells at once; Enter opens the cell's "
                     "run. … marks runs still queued or running. Colours are on the grid's fixed scale (legend "
                     "above the grid).",
    "DevicesScreen": "Each engine slot with its job, worker CPU and memory; GPU use and memory where NVIDIA "
                     "GPUs exist (NVML); this machine's CPU and RAM. E starts the engine if none runs.",
    "RegionScreen": "Arrows (h j k l) move the rectangle, shift+arrows (H J K L) resize it, + and - zoom, "
                    "0 resets. The digits inside show on the right.",
    "CompareScreen": "m cycles the metric overlaid in the plot (each run has its own marker, named above the "
                     "plot); the table shows only the spec fields that differ, then every final number (best "
                     "accuracy in green). e exports the runs.",
}
GLOBAL = ("1 2 3 4 switch panes (queue, devices, studies, history) · n submit a job or a study (Enter moves "
          "between fields, ctrl+s submits) · ctrl+p command palette (every key of the footer, open a job by id, "
          "submit forms, themes) · q quits: the engine and its jobs keep running, and the next start opens "
          "the view you left.")


def key_name(key: str) -> str:
    names = {"left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?", "slash": "/",
             "plus": "+", "minus": "-", "equals_sign": "=", "space": "space", "greater_than_sign": ">",
             "less_than_sign": "<", "full_stop": ".", "comma": ",", "shift+down": "shift+↓", "shift+up": "shift+↑"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $primary;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss(None)", "close")]

    def __init__(self, under: Screen):
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._content())

    def _content(self):
        screen = self.under
        pairs = []
        seen = set()
        for b in getattr(screen, "BINDINGS", []):
            if not isinstance(b, Binding) or not b.description:
                continue
            name = key_name(b.key)
            if name in seen:
                continue
            seen.add(name)
            pairs.append((name, b.tooltip or b.description))
        table = Table(box=None, show_header=False, pad_edge=False, expand=True)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column(ratio=1)
        for pair in pairs:
            table.add_row(*pair)
        title = type(screen).__name__.replace("Screen", "").lower() or "dashboard"
        parts = [Text(f"Keys: {title}", style="bold")]
        note = NOTES.get(type(screen).__name__)
        if note:
            parts.append(Text(note, style="dim"))
        parts.append(table)
        if screen.query("JobTable"):
            parts.append(Text("move: arrows or j k, page up/down, g G (first, last); Enter opens; "
                              "a double click opens too", style="dim"))
        parts += [Text(""), Text("Everywhere", style="bold"), Text(GLOBAL, style="dim"),
                  Text("Mouse: pane names, rows, column titles (sort), tabs and buttons are clickable. "
                       "escape or ? closes this help.", style="dim")]
        return Group(*parts)
