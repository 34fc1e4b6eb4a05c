"""Every `mnistlab` command (typer): submit, watch and review experiments from a shell.

Exit codes: 0 ok, 2 bad input (nothing was changed), 1 any other failure.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Optional

import typer

from tui.cli import compare as compare_mod
from tui.cli import export as export_mod
from tui.cli import follow as follow_mod
from tui.cli import jobs_cmd
from tui.cli import nets_cmd
from tui.cli import report as report_mod
from tui.cli.common import EXIT_FAILED
from tui.cli.failures import one_line
from tui.cli.bench_cmd import bench_app
from tui.cli.data_cmd import data_app
from tui.cli.engine_cmd import engine_app
from tui.cli.gan_cmd import gan_app
from tui.cli.study import study_app
from tui.cli.submit import submit_app
from tui.cli.sweep import sweep_app

app = typer.Typer(
    name="mnistlab", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    pretty_exceptions_enable=False, context_settings={"help_option_names": ["-h", "--help"]},
    help="mnistlab: run, watch and review MNIST experiments (a store, a background engine, a dashboard).",
)


@app.callback()
def root(
    home: Optional[Path] = typer.Option(None, "--home", help="Data folder: store, artifacts, engine "
                                        "(default: MNISTLAB_HOME, else ~/.local/share/mnistlab)."),
    data: Optional[Path] = typer.Option(None, "--data", help="Folder of the data set's IDX files (default: "
                                        "MNISTLAB_DATA, else ~/.cache/mnistlab/NAME for --dataset NAME)."),
) -> None:
    # Exported so that the engine this command may start sees the same choice.
    if home:
        os.environ["MNISTLAB_HOME"] = str(home.expanduser().resolve())
    if data:
        os.environ["MNISTLAB_DATA"] = str(data.expanduser().resolve())


app.add_typer(submit_app, name="submit")
app.command("ls")(jobs_cmd.ls)
app.command("show")(jobs_cmd.show)
app.command("follow")(follow_mod.follow)
app.command("cancel")(jobs_cmd.cancel)
app.command("retry")(jobs_cmd.retry)
app.command("priority", context_settings={"ignore_unknown_options": True})(jobs_cmd.priority)  # -5 is a value
app.command("logs")(jobs_cmd.logs)
app.command("compare")(compare_mod.compare)
app.command("export")(export_mod.export)
app.command("nets")(nets_cmd.nets)
app.command("report")(report_mod.report)
app.add_typer(study_app, name="study")
app.add_typer(sweep_app, name="sweep")
app.add_typer(engine_app, name="engine")
app.add_typer(data_app, name="data")
app.add_typer(bench_app, name="bench")
app.add_typer(gan_app, name="gan")


@app.command("tui")
def tui_command() -> None:
    """Open the dashboard (the engine keeps running when you quit)."""
    from tui.app import run_dashboard

    raise typer.Exit(run_dashboard())


@functools.cache
def _command():
    # typer rebuilds the click command tree (every option of every command) on each call of `app`:
    # tens of milliseconds that every in-process call (the tests' `cli` fixture: hundreds) would pay
    return typer.main.get_command(app)


def run(argv: list[str] | None = None) -> int:
    """Run one command line; returns its exit code (errors the commands raise become one line)."""

    def command() -> int:
        try:
            _command().main(args=argv, prog_name="mnistlab")  # standalone: usage errors exit 2 by themselves
        except SystemExit as done:
            return done.code if isinstance(done.code, int) else (0 if done.code is None else EXIT_FAILED)
        return 0

    return one_line(command)
