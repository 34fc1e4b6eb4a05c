"""The region view of a map (a scatter table with images): move a rectangle over it, see the digits inside.

Arrows (or h j k l) move the rectangle, shift+arrows (or H J K L) resize it,
+ and - zoom it, 0 resets it. The points inside come from
`runs.scatter.points_in_rect`, their images from the map's .npz artifact.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from runs.scatter import bounds, load_images, points_in_rect
from tui.screens.base import DetailScreen
from tui.widgets.picture import pixels_picture
from tui.widgets.plot import Plot
from tui.widgets.results import draw_scatter, scatter_key

MAX_DIGITS = 48
STEP = 0.05  # of the map's range, per key press


class RegionScreen(DetailScreen):
    DEFAULT_CSS = """
    RegionScreen #region-body { height: 1fr; }
    RegionScreen #region-plot { width: 55%; height: 1fr; }
    RegionScreen #region-side { width: 1fr; }
    RegionScreen #region-info { height: auto; padding: 0 1; }
    RegionScreen #region-digits { padding: 0 1; }
    """
    BINDINGS = [
        Binding("left,h", "move(-1, 0)", "move", show=False),
        Binding("right,l", "move(1, 0)", "move", show=False),
        Binding("up,k", "move(0, 1)", "move", show=False),
        Binding("down,j", "move(0, -1)", "move", show=False),
        Binding("shift+left,H", "grow(-1, 0)", "narrower", show=False),
        Binding("shift+right,L", "grow(1, 0)", "wider", show=False),
        Binding("shift+up,K", "grow(0, 1)", "taller", show=False),
        Binding("shift+down,J", "grow(0, -1)", "shorter", show=False),
        Binding("plus,equals_sign", "zoom(0.8)", "smaller"),
        Binding("minus", "zoom(1.25)", "larger"),
        Binding("0", "reset", "reset"),
    ]

    def __init__(self, job_id: int, name: str, payload: dict, artifacts: list[dict]):
        super().__init__()
        self.job_id, self.map_name, self.payload, self.artifacts = job_id, name, payload, artifacts
        if not payload.get("x") or len(payload["x"]) != len(payload.get("y") or []):
            raise ValueError(f"map {name!r} has no points to show (or its x and y differ in length)")
        (x0, x1), (y0, y1) = bounds(payload)
        self.full = ((x0, x1), (y0, y1))
        self.span = (max(x1 - x0, 1e-9), max(y1 - y0, 1e-9))
        self.images = None
        self.problem: str | None = None
        self.action_reset(draw=False)

    def title_text(self) -> str:
        return f"job {self.job_id}: {self.map_name} region view"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="region-body"):
            yield Plot(lambda plt: draw_scatter(plt, self.payload, self.rect), id="region-plot")
            with Vertical(id="region-side"):
                yield Static(scatter_key(self.payload))
                yield Static(id="region-info")
                with VerticalScroll():
                    yield Static(id="region-digits")

    def on_mount(self) -> None:
        super().on_mount()
        try:
            self.images = load_images(self.artifacts, self.payload, list(range(len(self.payload["x"]))))
        except Exception as exc:  # noqa: BLE001 - a missing .npz is a message here, not a crash
            self.problem = str(exc)
        self.call_after_refresh(self._show)

    @property
    def rect(self):
        (cx, cy), (hx, hy) = self.center, self.half
        return (cx - hx, cx + hx), (cy - hy, cy + hy)

    def _show(self) -> None:
        self.query_one(Plot).changed()
        x, y = self.rect
        inside = points_in_rect(self.payload, x, y)
        labels = self.payload.get("labels") or []
        info = Text()
        info.append(f"x {x[0]:.3g} … {x[1]:.3g}   y {y[0]:.3g} … {y[1]:.3g}\n", style="bold")
        info.append(f"{len(inside)} of {len(self.payload['x'])} points inside")
        if labels and inside:
            common = Counter(labels[i] for i in inside).most_common(6)
            info.append("  " + " ".join(f"{label}×{n}" for label, n in common), style="dim")
        self.query_one("#region-info", Static).update(info)
        digits = self.query_one("#region-digits", Static)
        if self.problem:
            digits.update(Text(self.problem, style="yellow"))
            return
        if not inside:
            digits.update(Text("no points here: move the rectangle (arrows) or make it larger (-)", style="dim"))
            return
        chosen = inside if len(inside) <= MAX_DIGITS else [inside[round(k * (len(inside) - 1) / (MAX_DIGITS - 1))]
                                                             for k in range(MAX_DIGITS)]
        width = max(12, (digits.size.width or 30) - 1)
        px = max(8, min(28, (width - 2) // 3 - 1))
        grid = Table.grid(padding=(0, 1))
        per_row = max(1, (width + 1) // (px + 1))
        for _ in range(per_row):
            grid.add_column()
        cells = []
        for i in chosen:
            caption = Text(str(labels[i]) if i < len(labels) else "", style="dim")
            cells.append(Group(pixels_picture(self.images[i], px, self.app.ansi_mode), caption))
        for r in range(0, len(cells), per_row):
            grid.add_row(*cells[r:r + per_row])
        shown = Text(f"showing {len(chosen)} of {len(inside)}", style="dim") if len(chosen) < len(inside) else Text("")
        digits.update(Group(grid, shown))

    def on_resize(self) -> None:
        self.call_after_refresh(self._show)


    def action_move(self, dx: int, dy: int) -> None:
        (cx, cy) = self.center
        self.center = (cx + dx * STEP * self.span[0], cy + dy * STEP * self.span[1])
        self._show()

    def action_grow(self, dx: int, dy: int) -> None:
        hx, hy = self.half
        self.half = (max(self.span[0] * 0.01, hx + dx * STEP * self.span[0] / 2),
                     max(self.span[1] * 0.01, hy + dy * STEP * self.span[1] / 2))
        self._show()

    def action_zoom(self, factor: float) -> None:
        hx, hy = self.half
        self.half = (max(self.span[0] * 0.01, hx * factor), max(self.span[1] * 0.01, hy * factor))
        self._show()

    def action_reset(self, draw: bool = True) -> None:
        (x0, x1), (y0, y1) = self.full
        mid = ((x0 + x1) / 2, (y0 + y1) / 2)
        # centred on the point nearest the middle, so the first look shows some digits
        xs, ys = self.payload["x"], self.payload["y"]
        nearest = min(range(len(xs)), key=lambda i: ((xs[i] - mid[0]) / self.span[0]) ** 2
                      + ((ys[i] - mid[1]) / self.span[1]) ** 2)
        self.center = (xs[nearest], ys[nearest])
        self.half = (self.span[0] / 8, self.span[1] / 8)
        if draw:
            self._show()


def pick_scatter(app, job_id: int, scatters: list[tuple[str, dict]], artifacts: list[dict]) -> None:
    from tui.screens.pick import Pick

    def chosen(index: int | None) -> None:
        if index is None:
            return
        try:
            app.push_screen(RegionScreen(job_id, *scatters[index], artifacts))
        except Exception as exc:  # noqa: BLE001 - a bad map is a message
            app.report_error(f"{type(exc).__name__}: {exc}")

    app.push_screen(Pick("Which map?", [n for n, _ in scatters]), chosen)
