"""What every CLI command shares: consoles, the store, JSON output, errors."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from runs.jsonsafe import json_safe
from runs.store import Store

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def store() -> Store:
    return Store()


def print_json(value: Any) -> None:
    """Strict JSON: non-finite numbers as "nan", "inf", "-inf" (see runs.jsonsafe)."""
    sys.stdout.write(json.dumps(json_safe(value), indent=2, sort_keys=True, default=str, allow_nan=False) + "\n")


def print_error(message: str) -> None:
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    print_error(message)
    raise typer.Exit(code)


def parse_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) == 0:
                fail(f"job id {part!r} is not allowed; allowed: a positive whole number such as 7")
            ids.append(int(part))
    if not ids:
        fail("no job id given; allowed: one or more positive whole numbers such as 7")
    return ids
