"""`mnistlab study ...`: queue a whole study as one named group, and show its table."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.live import Live

from runs.records import JobRequest
from tui.cli.common import EXIT_FAILED, EXIT_OK, JsonOpt, console, fail, print_json, store
from tui.cli.queueing import announce, queue
from tui.cli.waiting import EngineGone, wait_for
from tui.cli.views import render_study

study_app = typer.Typer(help="Whole studies: queue them as a group, show their tables.", no_args_is_help=True)

NameOpt = typer.Option(None, "--name", help="Group name (default: the study's type). Reusing a name adds "
                                            "runs to that group, e.g. more seeds.")
WaitOpt = typer.Option(False, "--wait", help="Block until every job of the study has ended, then print the table.")
DataOpt = typer.Option(None, "--data", help="Folder holding the data set's files (default: MNISTLAB_DATA, "
                                            "else the set's cache folder, ~/.cache/mnistlab/NAME).")
DatasetOpt = typer.Option(None, "--dataset", help="Data set: mnist, fashion-mnist, kmnist, emnist-digits, or custom "
                                                  "(any valid IDX set in --data) [default: mnist].")


def submit_study(type_: str, name: str | None, options: dict, requests: list[JobRequest], wait: bool,
                 as_json: bool, data: Path | None = None) -> None:
    """Queue a planned study and report it (shared by every `study <type>` command)."""
    if data:  # as the global --data does: the engine this may start sees the same choice
        os.environ["MNISTLAB_DATA"] = str(data.expanduser().resolve())
    name = name or type_
    ids = queue(requests, study=(name, type_, options))
    if wait:
        try:
            jobs = wait_for(ids, quiet=as_json)
        except EngineGone as exc:
            fail(f"{exc}; the study's jobs did not all finish", EXIT_FAILED)
        view = store().study_view(name)
        if as_json:
            print_json({"ids": ids, "study": view.to_json()})
        else:
            console.print(render_study(view))
        raise typer.Exit(EXIT_OK if all(j.status == "done" for j in jobs) else EXIT_FAILED)
    if not as_json:
        console.print(f"study '{name}': {len(ids)} job(s) queued; `mnistlab study show {name}` shows the table")
    announce(ids, as_json)


@study_app.command("show")
def show(name: str = typer.Argument(..., help="Study (group) name, e.g. zoo."),
         as_json: bool = JsonOpt,
         markdown: bool = typer.Option(False, "--md", help="Print Markdown tables."),
         watch: bool = typer.Option(False, "--watch", help="Keep the table updating until every job ended.")) -> None:
    """The study's table: filled in as its jobs finish."""
    s = store()
    view = s.study_view(name)
    if as_json:
        print_json(view.to_json())
    elif markdown:
        console.print(view.to_markdown(), markup=False, highlight=False, soft_wrap=True)
    elif watch and console.is_terminal:
        with Live(render_study(view), console=console, auto_refresh=False) as live:
            while view.counts.get("queued", 0) + view.counts.get("running", 0):
                time.sleep(1.0)
                view = s.study_view(name)
                live.update(render_study(view), refresh=True)
    else:
        console.print(render_study(view))


@study_app.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """Every study group in the store."""
    studies = store().studies()
    if as_json:
        print_json(studies)
        return
    if not studies:
        console.print("no studies yet: try `mnistlab study zoo --regime 1000 --nets 1,10.1`")
    for st in studies:
        console.print(f"{st['name']:<16} {st['type']:<8} {st['done'] or 0}/{st['jobs']} done")


def _register_study_commands() -> None:
    """Import every tui/cli/study_<type>.py: each adds its `study <type>` command to study_app."""
    import importlib
    import pkgutil

    import tui.cli

    for info in sorted(pkgutil.iter_modules(tui.cli.__path__), key=lambda m: m.name):
        if info.name.startswith("study_"):
            importlib.import_module(f"tui.cli.{info.name}")


_register_study_commands()
