"""What every command line's errors become: one line and an exit code, never a traceback."""

from __future__ import annotations

import sqlite3
from typing import Callable

from jobs.datasets import DataError
from jobs.schema import SpecError
from runs.db import StoreError, damaged
from runs.paths import HomePaths, resolve_home
from runs.records import InputError
from tui.cli.outfile import WriteFailed

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def one_line(call: Callable[[], int]) -> int:
    """`call()`'s exit code; bad input exits 2 and a failure 1, each said in one line on stderr."""
    from tui.cli.common import print_error  # only when there is something to say (it loads rich and typer)

    try:
        return call()
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
