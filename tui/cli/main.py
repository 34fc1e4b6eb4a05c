"""The `mnistlab` command: submit, watch and review experiments from a shell.

Exit codes: 0 ok, 2 bad input (nothing was changed), 1 any other failure.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
from pathlib import Path
from typing import Optional

import typer

from jobs.datasets import DataError
from jobs.schema import SpecError
from runs.db import StoreError, damaged
from runs.paths import HomePaths, resolve_home
from runs.records import InputError
from tui.cli import compare as compare_mod
from tui.cli import export as export_mod
from tui.cli import follow as follow_mod
from tui.cli import jobs_cmd
from tui.cli import nets_cmd
from tui.cli import report as report_mod
from tui.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, print_error
from tui.cli.bench_cmd import bench_app
from tui.cli.data_cmd import data_app
from tui.cli.engine_cmd import engine_app
from tui.cli.gan_cmd import gan_app
from tui.cli.outfile import WriteFailed
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


def main(argv: list[str] | None = None) -> int:
    try:
        _command().main(args=argv, prog_name="mnistlab")  # standalone: usage errors exit 2 by themselves
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else EXIT_FAILED)
    except (InputError, SpecError, StoreError) as exc:
        print_error(str(exc))
        return EXIT_BAD_INPUT
    except sqlite3.DatabaseError as exc:  # met by a query: a damaged page, a full disk
        problem = damaged(HomePaths(resolve_home()).db, exc)
        if problem is None:
            raise
        print_error(str(problem))
        return EXIT_FAILED if isinstance(exc, sqlite3.OperationalError) else EXIT_BAD_INPUT
    except (DataError, WriteFailed) as exc:
        print_error(str(exc))
        return EXIT_FAILED
    except BrokenPipeError:  # `mnistlab ls | head` closed our stdout: not an error
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
