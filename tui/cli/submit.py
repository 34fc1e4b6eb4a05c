"""`mnistlab submit KIND --field value ...`: one command per job kind, built from its spec.

Every spec field becomes an option taking text, so the spec's own
validation (shared with the dashboard's form) gives every message; a bool
field becomes a flag pair (`--clamp/--no-clamp`).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from jobs.kinds import KINDS
from jobs.schema import Field, JobKind
from runs.records import DEFAULT_MAX_ATTEMPTS, JobRequest
from tui.cli.common import JsonOpt, kind_command, whole_numbers
from tui.cli.queueing import announce, finish_waiting, queue
from tui.cli.spec_file import read_spec_file

submit_app = typer.Typer(help="Queue one job; the engine starts if none runs.", no_args_is_help=True)


def _default_text(field: Field) -> str:
    if callable(field.default):
        return "auto"
    if field.is_list:
        return ",".join(map(str, field.default))
    return str(field.default).lower() if isinstance(field.default, bool) else str(field.default)


def _field_option(field: Field) -> inspect.Parameter:
    flag = f"--{field.name.replace('_', '-')}"
    if field.type is bool and not field.is_list:  # a flag pair: --clamp / --no-clamp
        help_ = f"{field.help}. [default: {_default_text(field)}]"
        option = typer.Option(None, f"{flag}/--no-{flag[2:]}", help=help_, show_default=False)
        return inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                 annotation=Optional[bool])
    help_ = f"{field.help}. Allowed: {field.allowed()}. [default: {_default_text(field)}]"
    option = typer.Option(None, flag, help=help_, show_default=False, metavar=field.name.upper())
    return inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=Optional[str])


COMMON = [
    ("spec_file", Optional[Path], typer.Option(None, "--spec", help="JSON or TOML file of spec fields; "
                                                "options given on the command line override it.")),
    ("wait", bool, typer.Option(False, "--wait", help="Block until the job ends, print its record; "
                                 "exit 1 if it did not finish.")),
    ("as_json", bool, JsonOpt),
    ("priority", int, typer.Option(0, "--priority", help="Higher runs first (-1000 to 1000).")),
    ("gpu", Optional[int], typer.Option(None, "--gpu", help="Run only on this GPU index (on a Ray cluster: "
                                        "its index on its node).")),
    ("exclude_gpu", Optional[str], typer.Option(None, "--exclude-gpu", help="Never run on these GPUs (e.g. 0,2).")),
    ("node", Optional[str], typer.Option(None, "--node", metavar="LABEL", help="Run only on a cluster node with "
                                          "this label (a Ray node label KEY=VALUE or custom resource).")),
    ("max_attempts", int, typer.Option(DEFAULT_MAX_ATTEMPTS, "--max-attempts",
                                       help="Starts allowed if the engine dies under it (1-10).")),
    ("after", Optional[str], typer.Option(None, "--after", help="Start only after these job ids are done (e.g. 3,4).")),
]


def _int_list(text: str | None, what: str) -> list[int]:
    """--exclude-gpu (GPU indexes) or --after (job ids), as comma-separated whole numbers."""
    low = 1 if what == "--after" else 0
    example = "3,4" if low else "0,2"
    return whole_numbers(text or "", what, f"comma-separated whole numbers such as {example}", low=low)


def make_command(kind: JobKind):
    def command(**kwargs) -> None:
        options = {k: kwargs.pop(k) for k, *_ in COMMON}
        spec = kind.normalize(read_spec_file(options["spec_file"], kind.name)) if options["spec_file"] else {}
        spec.update({k: v for k, v in kwargs.items() if v is not None})
        request = JobRequest(kind.name, spec, priority=options["priority"], gpu=options["gpu"],
                             exclude_gpus=_int_list(options["exclude_gpu"], "--exclude-gpu"),
                             node=options["node"],
                             max_attempts=options["max_attempts"],
                             depends_on=_int_list(options["after"], "--after"))
        ids = queue([request])
        if options["wait"]:
            raise typer.Exit(finish_waiting(ids, options["as_json"]))
        announce(ids, options["as_json"])

    return kind_command(command, f"submit_{kind.name}", [_field_option(f) for f in kind.fields], COMMON)


for _kind in KINDS.values():
    submit_app.command(_kind.name, help=f"{_kind.summary[0].upper()}{_kind.summary[1:]}.")(make_command(_kind))

