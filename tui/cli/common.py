"""What every CLI command shares: consoles, the store, JSON output, errors."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from jobs.schema import MAX_ID, WHOLE
from runs.records import InputError
from runs.jsonsafe import json_safe
from runs.store import Store

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")

from tui.cli.failures import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK  # noqa: F401 - the commands import them from here


def store() -> Store:
    return Store()


def print_json(value: Any) -> None:
    """Strict JSON: non-finite numbers as "nan", "inf", "-inf" (see runs.jsonsafe)."""
    sys.stdout.write(json.dumps(json_safe(value), indent=2, sort_keys=True, default=str, allow_nan=False) + "\n")


def print_error(message: str) -> None:
    """One line on stderr: a newline or control character from a path or a value is shown escaped."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    err.print(Text.assemble(("error: ", "bold red"), shown), soft_wrap=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    print_error(message)
    raise typer.Exit(code)


def whole_numbers(text: str, what: str, allowed: str, low: int = 0, high: int = MAX_ID) -> list[int]:
    """Comma-separated whole numbers in ASCII digits, each from `low` to `high`; blanks are skipped.
    Anything else raises InputError naming the part and what is allowed."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not WHOLE.fullmatch(part) or part[0] in "+-":
            raise InputError(f"{what} {part!r} is not allowed; allowed: {allowed}")
        digits = part.lstrip("0") or "0"
        if len(digits) > len(str(high)) or not low <= int(digits) <= high:  # no int() of 5,000 digits
            raise InputError(f"{what} {part} is out of range; allowed: {allowed}, from {low} to {high}")
        out.append(int(digits))
    return out


ID_ALLOWED = "a positive whole number such as 7"


def parse_ids(values: list[str]) -> list[int]:
    """Job ids given as arguments, each one id or a comma-separated list of them."""
    ids = [i for value in values for i in whole_numbers(value, "job id", ID_ALLOWED, low=1)]
    if not ids:
        fail(f"no job id given; allowed: one or more job ids, each {ID_ALLOWED}")
    return ids


def parse_id(value: str) -> int:
    """The one job id of a command that takes one."""
    ids = parse_ids([value])
    if len(ids) > 1:
        raise InputError(f"job id {value.strip()!r} is not allowed; allowed: one job id, {ID_ALLOWED}")
    return ids[0]


def known_ids(s: Store, values: list[str]) -> list[int]:
    """Job ids that are all in the store: checked before a command changes any of them."""
    ids = parse_ids(values)
    for i in ids:
        s.job(i)
    return ids


def kind_command(command, name: str, fields: list, common: list) -> object:
    """`command(**kwargs)` given the signature typer reads: one parameter per spec field of a job kind, then
    the options every such command shares ((name, annotation, default) each)."""
    import inspect

    shared = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
              for n, annotation, default in common]
    command.__signature__ = inspect.Signature([*fields, *shared])
    command.__name__ = name
    return command
