"""Studies: each study's `StudyView` (runs/studies/table.py), filling in live as its jobs finish.

Generic over every study type: a view has grids (one at a time; `[` and `]`
step through them, e.g. FGSM's one matrix per epsilon), cells with
mean ± std over seeds or a pending/failed mark, colours when the grid has
a `color_scale`, the diagonal marked when it asks, and images to show
beside (wide terminals) or below the grids. Enter on a cell opens its job.
The grid has the focus whenever the pane shows: arrows move at once.

`w` writes the report of the study on show (`mnistlab report`'s function, into
`reports/<study>/` in the data folder) in a worker thread, then says where;
`S` opens a sweep (listed here as sweep-N) in the sweep view.
"""

from __future__ import annotations

from dataclasses import replace

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static, Tab, Tabs

from runs import sweeps
from runs.records import InputError
from runs.studies.table import Cell, Grid, StudyView
from tui import format as fmt
from tui.colors import heat, heat_legend, position
from tui.live import Changes
from tui.screens.base import LabScreen, Throttled
from tui.widgets.picture import artifact_picture

REFRESH_S = 1.0
WIDE = 120


class GridTable(DataTable):
    """A study grid: arrows or h j k l move over the cells, Enter opens the cell's run."""

    DEFAULT_CLASSES = "focus-bar"

    BINDINGS = [Binding("j", "cursor_down", show=False), Binding("k", "cursor_up", show=False),
                Binding("h", "cursor_left", show=False), Binding("l", "cursor_right", show=False)]


def cell_text(cell: Cell, grid: Grid, r: int, c: int, ansi: bool) -> Text:
    if cell.scale == 100.0:  # percentages: the dashboard's one number of decimals
        cell = replace(cell, digits=fmt.ACCURACY_DECIMALS)
    text = Text(cell.text)
    if cell.mean is None:
        text.stylize("red" if cell.failed and not cell.pending else "dim")
    elif grid.color_scale:
        text.stylize(heat(position(cell.mean, *grid.color_scale), ansi))
    if grid.diagonal and r == c:
        text.stylize("bold underline")
    return text


class StudiesScreen(LabScreen):
    MODE = "studies"
    DEFAULT_CSS = """
    StudiesScreen Tabs { height: 2; }
    StudiesScreen #study-head { height: auto; max-height: 2; padding: 0 1; }
    StudiesScreen #grid-bar { height: auto; max-height: 2; padding: 0 1; background: $boost; text-wrap: nowrap;
                              text-overflow: ellipsis; }
    /* narrow (80 columns): the grid whole, its notes, then the images below; wide: the images beside */
    StudiesScreen #study-body { height: 1fr; layout: vertical; }
    StudiesScreen.wide #study-body { layout: horizontal; }
    StudiesScreen #study-main { height: auto; max-height: 100%; }
    StudiesScreen.wide #study-main { width: 1fr; height: 1fr; }
    StudiesScreen #study-grid { height: auto; max-height: 60vh; }
    StudiesScreen #study-notes { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    StudiesScreen.wide #study-notes { max-height: 100%; }
    StudiesScreen #study-images { display: none; padding: 0 1; height: 1fr; }
    StudiesScreen #study-images.has-images { display: block; }
    StudiesScreen.wide #study-images { width: 45%; }
    StudiesScreen #study-empty { padding: 1 2; color: $text-muted; }
    """
    BINDINGS = [
        Binding("right_square_bracket", "grid(1)", "next grid", tooltip="the study's next grid (e.g. the next eps)"),
        Binding("left_square_bracket", "grid(-1)", "prev grid", show=False),
        # priority: the study changes before the keys typed after `>` are delivered (`>S`, `>w` act on it)
        Binding("greater_than_sign,full_stop", "study(1)", "next study", tooltip="the next study (> or .)",
                priority=True),
        Binding("less_than_sign,comma", "study(-1)", "prev study", show=False, priority=True),
        Binding("e", "export", "export", tooltip="write the study's tables as Markdown, CSV or JSON"),
        Binding("w", "write_report", "report",
                tooltip="write the study's report (HTML page, Markdown twin, figures) into the data folder"),
        Binding("S", "sweep", "sweep view", tooltip="the sweep's points ranked, the metric against each field"),
    ]

    def __init__(self):
        super().__init__()
        self.names: list[str] = []
        self.current: str | None = None
        self.view: StudyView | None = None
        self.grid_index = 0
        self._shape: tuple | None = None
        self.refresh_soon = Throttled(self, self.show_view, REFRESH_S)  # once a second, however many jobs end
        self.writing: str | None = None  # the study whose report a worker is writing

    def compose_body(self) -> ComposeResult:
        yield Tabs(id="study-tabs")
        yield Static(id="study-head")
        yield Static(id="grid-bar")
        with Horizontal(id="study-body"):
            with Vertical(id="study-main"):
                yield GridTable(id="study-grid", cursor_type="cell", zebra_stripes=False)
                yield Static(id="study-notes")
                yield Static(id="study-empty")
            yield VerticalScroll(Static(id="study-images-content"), id="study-images")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_class(self.app.size.width >= WIDE, "wide")
        wanted = getattr(self.app, "wanted_study", None)
        if wanted:
            self.current = wanted
            self.app.wanted_study = None
        self.guard(self.load_studies)
        self.set_focus(self.query_one(GridTable))

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.set_focus(self.query_one(GridTable))

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE, "wide")
        self.call_after_refresh(lambda: self.guard(self._show_images))

    # -- which studies ------------------------------------------------------------
    def load_studies(self) -> None:
        names = [s["name"] for s in self.app.store.studies()]
        tabs = self.query_one(Tabs)
        if names != self.names:
            self.names = names
            tabs.clear()
            for name in names:
                tabs.add_tab(Tab(name, id=f"study-{_tab_id(name)}"))
            if names:
                pick = self.current if self.current in names else names[0]
                tabs.active = f"study-{_tab_id(pick)}"
        if not names:
            self.current = None
            self.query_one("#study-empty", Static).update(
                "no studies yet: press n and choose a study (e.g. the zoo), or run `mnistlab study zoo`")
            self.query_one("#study-empty").display = True
            self.query_one("#study-grid").display = False
        self.show_view()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab is None or event.tab.id != self.query_one(Tabs).active:
            return  # a tab passed over by several fast > presses
        self._select(next((n for n in self.names if f"study-{_tab_id(n)}" == event.tab.id), None))
        self.set_focus(self.query_one(GridTable))  # a click on a tab leaves the arrows on the grid

    def _select(self, name: str | None) -> None:
        if name != self.current:
            self.current = name
            self.grid_index = 0
            self._shape = None
            self.guard(self.show_view)
            self.app.remember_view(self)
            self.keys_follow()

    # -- live --------------------------------------------------------------------------
    def on_changes(self, changes: Changes | None) -> None:
        if changes is None:
            self.load_studies()
            return
        studies = changes.studies
        if any(s not in self.names for s in studies):
            self.load_studies()
        elif self.current in studies:
            self.refresh_soon.soon()

    # -- showing ----------------------------------------------------------------------
    def show_view(self) -> None:
        self.refresh_soon.ran()
        if self.current is None:
            self.view = None
            return
        try:
            self.view = self.app.store.study_view(self.current)
        except Exception as exc:  # noqa: BLE001 - e.g. a study type whose module is not installed here
            self.view = None
            self.query_one("#study-head", Static).update(
                Text(f"study '{self.current}' cannot be shown: {type(exc).__name__}: {exc}", style="red"))
            self.query_one("#study-grid").display = False
            return
        view = self.view
        self.query_one("#study-empty").display = False
        self.query_one("#study-grid").display = True
        counts = "  ".join(f"{n} {s}" for s, n in sorted(view.counts.items())) or "no jobs"
        self.query_one("#study-head", Static).update(
            Text.assemble((view.title, "bold"), ("  " + counts, "dim")))
        self.grid_index = min(self.grid_index, max(0, len(view.grids) - 1))
        self._show_grid()
        notes = [*(view.grids[self.grid_index].notes if view.grids else []), *view.notes]
        self.query_one("#study-notes", Static).update(Text("\n".join(notes)))
        self._show_images()

    def _show_grid(self) -> None:
        view = self.view
        bar = self.query_one("#grid-bar", Static)
        table = self.query_one(DataTable)
        if not view.grids:
            bar.update(Text("this study has nothing to show yet", style="dim"))
            table.clear(columns=True)
            self._shape = None
            return
        grid = view.grids[self.grid_index]
        line = Text(no_wrap=True, overflow="ellipsis")
        if len(view.grids) > 1:
            line.append(f"◀ [ grid {self.grid_index + 1} of {len(view.grids)} ] ▶  ", style="bold")
        line.append(f"{grid.title}", style="bold")
        line.append(f" ({grid.unit})" if grid.unit else "", style="dim")
        if grid.color_scale:
            legend = heat_legend(*grid.color_scale, self.app.ansi_mode, percent=grid.color_scale[1] <= 1.0)
            legend.no_wrap, legend.overflow = True, "ellipsis"
            bar.update(Group(line, legend))
        else:
            bar.update(line)
        ansi = self.app.ansi_mode
        shape = (self.current, self.grid_index, grid.row_label, tuple(grid.columns), tuple(l for l, _ in grid.rows))
        if shape != self._shape:
            self._shape = shape
            table.clear(columns=True)
            table.add_column(Text(grid.row_label, style="bold"), key="label")
            for c, name in enumerate(grid.columns):
                table.add_column(Text(str(name), justify="right"), key=f"c{c}")
            for r, (label, cells) in enumerate(grid.rows):
                table.add_row(Text(str(label), style="bold"),
                              *[cell_text(cell, grid, r, c, ansi) for c, cell in enumerate(cells)], key=f"r{r}")
            self.call_after_refresh(table.refresh, layout=True)  # its height follows its rows, once counted
        else:
            for r, (_, cells) in enumerate(grid.rows):
                for c, cell in enumerate(cells):
                    table.update_cell_at(Coordinate(r, c + 1), cell_text(cell, grid, r, c, ansi))

    def _show_images(self) -> None:
        box = self.query_one("#study-images", VerticalScroll)
        content = self.query_one("#study-images-content", Static)
        images = self.view.images if self.view else []
        box.set_class(bool(images), "has-images")
        if not images:
            content.update("")
            return
        wide = self.has_class("wide")
        width = max(20, (box.size.width if wide and box.size.width else self.size.width) - 3)
        store = self.app.store
        parts = []
        found: dict[int, list[dict]] = {}
        for image in images:
            job_id, name = image.get("job_id"), image.get("artifact")
            if job_id not in found:
                try:
                    found[job_id] = store.artifacts(job_id) if job_id is not None else []
                except Exception:  # noqa: BLE001
                    found[job_id] = []
            artifact = next((a for a in found[job_id] if a["name"] == name), None)
            parts.append(Text(image.get("caption") or f"job {job_id}: {name}", style="bold"))
            parts.append(artifact_picture(artifact, str(name), width, 30, self.app.ansi_mode))
            parts.append(Text(""))
        content.update(Group(*parts))

    # -- keys --------------------------------------------------------------------------
    def why_not(self, action: str, parameters: tuple) -> str | None:
        if action in ("study", "export") and not self.names:
            return "no studies yet: press n and choose a study"
        if action == "study" and len(self.names) < 2:
            return f"'{self.names[0]}' is the only study"
        if action == "grid" and (not self.view or len(self.view.grids) < 2):
            return "this study has a single grid"
        if action == "sweep" and not self._shows_sweep():
            return f"'{self.current}' is a study, not a sweep: S opens a sweep (the tabs named sweep-N)"
        if action == "write_report":
            return self._why_no_report()
        return None

    def _shows_sweep(self) -> bool:
        return self.view.type == sweeps.TYPE if self.view else sweeps.is_sweep(self.current)

    def _why_no_report(self) -> str | None:
        from runs.report.sections import BUILDERS

        if self.writing:
            return f"the report of '{self.writing}' is being written"
        if self.view is None or self.view.type not in BUILDERS:
            what = "a sweep (S shows it)" if self._shows_sweep() else "a study this dashboard cannot show"
            return f"'{self.current}' is {what}; reports cover the studies {', '.join(BUILDERS)}"
        return None

    def action_sweep(self) -> None:
        from tui.screens.sweep import open_sweep

        if self.current and self._shows_sweep():
            open_sweep(self.app, self.current)

    def action_write_report(self) -> None:
        if self.current is None or self._why_no_report():
            return
        name = self.writing = self.current
        self.keys_follow()
        self.notify(f"writing the report of '{name}'…", title="report", timeout=3, markup=False)
        self.run_worker(lambda: self._write_report(name), thread=True, group="report", exit_on_error=False)

    def _write_report(self, name: str) -> None:
        """In a worker thread, with a connection of its own: the dashboard keeps drawing meanwhile."""
        from runs.report import default_folder, write_reports
        from runs.store import Store

        store = Store(self.app.store.paths.root)
        try:
            page, error = write_reports(store, [name], default_folder(store, name)), None
        except Exception as exc:  # noqa: BLE001 - whatever went wrong is said, the dashboard stays up
            page, error = None, str(exc) if isinstance(exc, (InputError, OSError)) else f"{type(exc).__name__}: {exc}"
        finally:
            store.close()
        self.app.call_from_thread(self._report_written, name, page, error)

    def _report_written(self, name: str, page, error: str | None) -> None:
        self.writing = None
        self.keys_follow()
        if error is not None:
            self.notify(f"the report of '{name}' was not written: {error}", title="report", severity="error",
                        timeout=12, markup=False)
        else:
            self.notify(f"report of '{name}': {page}\nMarkdown twin: {page.with_suffix('.md')}", title="report",
                        timeout=15, markup=False)

    def action_grid(self, step: int) -> None:
        if not self.view or len(self.view.grids) < 2:
            return
        self.grid_index = (self.grid_index + step) % len(self.view.grids)
        self.guard(self.show_view)

    def action_study(self, step: int) -> None:
        if not self.names:
            return
        i = self.names.index(self.current) if self.current in self.names else 0
        name = self.names[(i + step) % len(self.names)]
        self._select(name)  # at once: keys typed right after `>` (`>S`, `>w`) act on the study it shows
        self.query_one(Tabs).active = f"study-{_tab_id(name)}"

    def action_export(self) -> None:
        from tui.screens.export import ExportScreen

        if self.current:
            self.app.push_screen(ExportScreen(study=self.current, format_="md"))

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        if not self.view or not self.view.grids or event.coordinate.column == 0:
            return
        grid = self.view.grids[self.grid_index]
        r, c = event.coordinate.row, event.coordinate.column - 1
        if r >= len(grid.rows) or c >= len(grid.rows[r][1]):
            return
        ids = grid.rows[r][1][c].job_ids
        if len(ids) == 1:
            self.app.open_job(ids[0])
        elif ids:
            from tui.screens.pick import Pick

            jobs = {i: self.app.live.job(i) for i in ids}
            choices = [f"job {i}: {jobs[i].status} {jobs[i].short_spec()}" if jobs[i] else f"job {i}" for i in ids]

            def chosen(index: int | None) -> None:
                if index is not None:
                    self.app.open_job(ids[index])

            self.app.push_screen(Pick(f"{grid.rows[r][0]} · {grid.columns[c]}: which run?", choices), chosen)


def _tab_id(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else f"_{ord(ch):x}" for ch in name)
