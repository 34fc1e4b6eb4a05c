"""`mnistlab tui`: the dashboard over a data folder's store.

Everything shown is read from the store (one cheap look every quarter
second, see `tui.live`); everything done goes through the store (submit,
cancel, retry, priority). The engine is started if none runs; quitting
leaves it and its jobs running. Never imports torch.
"""

from __future__ import annotations

import os
import sqlite3
import weakref

from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, TextArea

from jobs.schema import SpecError
from runs.db import StoreError
from runs.records import InputError
from runs.store import Store
from tui.commands import FooterCommands, LabCommands
from tui.live import Changes, Live
from tui.ui_state import UiState

POLL_S = 0.25


class MnistlabApp(App[int]):
    TITLE = "mnistlab"
    CSS = """
    Screen { background: $background; }
    Toast { max-width: 70; }
    /* The focused pane has a bar down its left edge: seen in every theme, 16 colours included. */
    .focus-bar { border-left: blank; }
    .focus-bar:focus { border-left: outer $accent; }
    """
    COMMANDS = App.COMMANDS | {LabCommands, FooterCommands}
    MODES = {name: (lambda name=name: _pane(name)) for name in ("queue", "devices", "studies", "history")}
    DEFAULT_MODE = "queue"
    wanted_study: str | None = None  # the study the studies pane opens on (the one left last time)
    BINDINGS = [
        Binding("1", "mode('queue')", "queue", show=False),
        Binding("2", "mode('devices')", "devices", show=False),
        Binding("3", "mode('studies')", "studies", show=False),
        Binding("4", "mode('history')", "history", show=False),
        # priority: the form opens before the keys typed after `n` are delivered (they go into its first field)
        Binding("n", "submit", "new", priority=True, tooltip="submit a job or a study"),
        Binding("E", "start_engine", "start engine", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, home: str | os.PathLike | None = None, *, start_engine: bool = True,
                 poll_s: float = POLL_S, colors: str | None = None, restore_view: bool = True):
        super().__init__()
        if home is not None:  # like --home: the engine and the CLI helpers it calls see the same folder
            os.environ["MNISTLAB_HOME"] = str(os.path.abspath(os.path.expanduser(str(home))))
        self.home = home
        self.store = Store(home)
        self.live = Live(self.store)
        self.start_engine_on_mount = start_engine
        self.poll_s = poll_s
        self.color_mode = colors or os.environ.get("MNISTLAB_TUI_COLORS") or "auto"
        self.lab_screens: weakref.WeakSet = weakref.WeakSet()  # the panes, told of every change
        self._store_ok = False
        self.ui_state = UiState(self.store.paths.root)
        self._left = self.ui_state.view() if restore_view else None  # the view to open again, read before any
        self._restored = False                                        # pane overwrites it

    @property
    def ansi_mode(self) -> bool:
        """A 16-colour terminal (or the ansi theme chosen): named colours only, shade-block pictures."""
        if self.color_mode in ("256", "truecolor"):
            return bool(self.current_theme.ansi)
        return bool(self.current_theme.ansi) or self.color_mode == "16" or self.console.color_system == "standard"

    # -- start ---------------------------------------------------------------------
    def on_load(self) -> None:
        """Before the first screen is built: the colours, and a first look at the store, so the first
        frame shows the queue with its rows (no placeholder screen, no second paint)."""
        if self.color_mode == "16" or (self.color_mode == "auto" and self.console.color_system == "standard"):
            self.theme = "ansi-dark"
        self._first_look()

    def _first_look(self) -> bool:
        try:
            self.live.poll(force=True)
        except (StoreError, sqlite3.Error, OSError) as exc:
            self.live.error = str(exc)
            self._store_ok = False
            return False
        self.live.error = None
        self._store_ok = True
        return True

    def on_mount(self) -> None:
        self.set_interval(self.poll_s, self.poll, name="store poll")
        self._opened()

    def _opened(self) -> None:
        if not self._store_ok:
            from tui.screens.problem import StoreProblem

            self.push_screen(StoreProblem(self.live.error or "unknown error"))
            return
        if self.start_engine_on_mount:
            self.ensure_engine()
        self._restore_view()

    # -- the view a person left (reconnecting over SSH opens it again) ---------------------------
    def _restore_view(self) -> None:
        left, self._left = self._left, None
        self._restored = True
        self.remember_view(self.screen)  # also mends a damaged file at once
        if not left:
            return
        if left["pane"] != self.current_mode:
            self.wanted_study = left["study"]
            self.switch_mode(left["pane"])
        job = left["job"]
        if job is not None:
            if self.live.job(job) is not None:
                self.call_later(self.open_job, job)
            else:
                self.notify(f"job {job}, open when you left, is no longer in this store", timeout=4)

    def remember_view(self, screen) -> None:
        """Note what is on screen now (a pane, a job, a study), for the next start."""
        if not self._restored:
            return
        from tui.screens.job import JobScreen

        if isinstance(screen, JobScreen):
            self.ui_state.remember_view(pane=self.current_mode, job=screen.job_id)
        elif screen.MODE:
            study = getattr(screen, "current", None) if screen.MODE == "studies" else None
            self.ui_state.remember_view(pane=screen.MODE, job=None, **({"study": study} if study else {}))

    def open_store(self) -> None:
        """Try the store again (after the person fixed it): the panes catch up, or the message stays."""
        if self._first_look():
            self._tell(Changes(jobs=set(self.live.jobs), new=set(self.live.jobs), moved=True, engine=True,
                               data=True))
        self._opened()

    def poll(self, force: bool = False) -> None:
        if not self._store_ok:
            return
        try:
            changes = self.live.poll(force=force)
        except (StoreError, sqlite3.Error, OSError) as exc:
            if self.live.error != str(exc):
                self.live.error = str(exc)
                self._tell(Changes(engine=True))
            return
        if self.live.error:
            self.live.error = None
            changes.engine = True
        if changes:
            self._tell(changes)

    def _tell(self, changes: Changes) -> None:
        for screen in list(self.lab_screens):
            screen.store_changed(changes)

    # -- the engine ------------------------------------------------------------------
    def ensure_engine(self) -> None:
        if self.live.engine_running:
            return
        self.run_worker(self._start_engine, thread=True, exclusive=True, group="engine")

    def _start_engine(self) -> None:
        from engine import control

        try:
            pid, started = control.start(self.store.paths.root)
        except (control.EngineError, OSError) as exc:
            self.call_from_thread(self.notify, f"The engine did not start: {exc}\nStart it by hand with "
                                  "`mnistlab engine start` (its log: engine.log in the data folder).",
                                  title="engine", severity="error", timeout=12)
            return
        if started:
            self.call_from_thread(self.notify, f"engine started (pid {pid}); it keeps running when you quit",
                                  title="engine", timeout=4)
        self.call_from_thread(self.poll, True)

    def action_start_engine(self) -> None:
        if self.live.engine_running:
            self.notify(f"the engine is running (pid {self.live.engine_pid})")
        else:
            self.ensure_engine()

    # -- actions on jobs -------------------------------------------------------------------
    def job_action(self, fn, done: str = "{}") -> None:
        """Run `fn(store)` (cancel, retry, priority...); its result or its error becomes a notification."""
        try:
            result = fn(self.store)
        except (InputError, SpecError, StoreError, sqlite3.Error) as exc:
            self.notify(str(exc), severity="error", timeout=8, markup=False)
            return
        self.notify(done.format(result), timeout=3, markup=False)
        self.poll(force=True)

    def report_error(self, message: str) -> None:
        self.notify(message, title="error (the dashboard keeps going)", severity="error", timeout=10, markup=False)

    def open_job(self, job_id: int) -> None:
        from tui.screens.job import JobScreen

        if self.live.job(job_id) is None:
            self.notify(f"no job {job_id} in this store", severity="error")
            return
        self.push_screen(JobScreen(job_id))

    def clone_job(self, job) -> None:
        """The submit form for the job's kind, filled with its spec: change a field, submit."""
        from tui.screens.submit import SubmitScreen, form_values

        self.push_screen(SubmitScreen(self.live, choice=f"kind:{job.kind}", values=form_values(job),
                                      source=f"a copy of job {job.id}"), self._submitted)

    def _submitted(self, ids: list[int] | None) -> None:
        """After the form: the queue, its cursor on the first job queued."""
        if ids:
            self.show_job_in_queue(ids[0])

    def show_job_in_queue(self, job_id: int) -> None:
        self.poll(force=True)
        self.switch_mode("queue")
        self.call_after_refresh(lambda: self.screen.select_job(job_id) if hasattr(self.screen, "select_job")
                                else None)

    # -- keys -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("mode", "submit", "help", "start_engine") and isinstance(self.screen, ModalScreen):
            return False
        if action in ("mode", "submit") and not self._store_ok:
            return False
        if action == "submit" and isinstance(self.focused, (Input, TextArea)):
            return False  # an `n` typed into a filter or a form is a letter
        return True

    def action_mode(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_submit(self, kind: str | None = None) -> None:
        from tui.screens.submit import SubmitScreen

        self.push_screen(SubmitScreen(self.live, choice=kind), self._submitted)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.screen))


def _pane(name: str):
    if name == "queue":
        from tui.screens.queue import QueueScreen as pane
    elif name == "devices":
        from tui.screens.devices import DevicesScreen as pane
    elif name == "studies":
        from tui.screens.studies import StudiesScreen as pane
    else:
        from tui.screens.history import HistoryScreen as pane
    return pane()


def run_dashboard() -> int:
    app = MnistlabApp()
    code = app.run()
    return code if isinstance(code, int) else 0
