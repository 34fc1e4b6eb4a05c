"""The `mnistlab` command: submit, watch and review experiments from a shell.

Exit codes: 0 ok, 2 bad input (nothing was changed), 1 any other failure.

`mnistlab tui` (with at most --home and --data before it) goes straight to the dashboard: the other
commands' modules (tui.cli.app) cost a fifth of a second to import, which a person opening the dashboard
over SSH would wait for on every start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

GLOBAL_OPTIONS = ("--home", "--data")
ENVIRONMENT = {"--home": "MNISTLAB_HOME", "--data": "MNISTLAB_DATA"}


def dashboard_only(args: list[str]) -> dict[str, str] | None:
    """The global options of `[--home H] [--data D] tui`, or None for any other command line."""
    options: dict[str, str] = {}
    rest = list(args)
    while rest and rest[0].split("=", 1)[0] in GLOBAL_OPTIONS:
        name, eq, value = rest.pop(0).partition("=")
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if not value:
            return None
        options[name] = value
    return options if rest == ["tui"] else None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    options = dashboard_only(args)
    if options is None:
        from tui.cli.app import run

        return run(args)
    for name, value in options.items():  # as the full command's --home and --data do
        os.environ[ENVIRONMENT[name]] = str(Path(value).expanduser().resolve())
    from tui.app import run_dashboard
    from tui.cli.failures import one_line

    return one_line(run_dashboard)


if __name__ == "__main__":
    sys.exit(main())
