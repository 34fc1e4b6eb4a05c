"""The SQLite file under a data folder: opening, refusing what is not ours, migrating.

WAL mode so readers (dashboards, `follow`) never block the engine's writes;
every write is a short BEGIN IMMEDIATE transaction. A connection belongs to
the process that opened it (see `runs.store.Store`).
"""

from __future__ import annotations

import fcntl
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from runs.schema import MIGRATIONS

APPLICATION_ID = 0x4D4E4C42  # "MNLB": marks the file as an mnistlab store
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(Exception):
    """The store cannot be used; the message says why and what to do."""


def _refuse(path: Path, why: str) -> StoreError:
    return StoreError(f"{path} {why}; mnistlab refuses to touch it. Move it away, "
                      f"or choose another data folder with --home or MNISTLAB_HOME")


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if absent) and migrate the store at `path`."""
    # No peeking at the file with open()/close() first: closing any descriptor of the
    # database drops this process's POSIX locks on it, which SQLite's other connections rely on.
    with _opening_lock(path):
        return _open(path)


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        _check_identity(conn, path)  # before anything that writes: a foreign file stays byte-identical
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise StoreError(f"{path} stayed locked by another process for 30 s; try again") from None
        if not _has_sqlite_header(path):
            raise _refuse(path, "is not an mnistlab store (not a SQLite database)") from None
        raise _refuse(path, f"is corrupt or unreadable ({exc})") from None
    except StoreError:
        conn.close()
        raise
    return conn


@contextmanager
def _opening_lock(path: Path) -> Iterator[None]:
    # SQLite answers "database is locked" at once, without its busy timeout, when two
    # processes switch a new file to WAL together (the engine starting while a submit
    # opens the store). Opening is rare and quick, so processes take turns at it.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = path.with_name(path.name + ".open-lock").open("a")
    except OSError as exc:
        raise StoreError(f"cannot use the data folder {path.parent} ({exc.strerror}); "
                         f"choose a writable one with --home or MNISTLAB_HOME") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _has_sqlite_header(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == SQLITE_HEADER


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    # One statement, so one snapshot: read separately, another process's first migration
    # could commit in between, and a half-seen new store would look like a foreign one.
    app_id, version, tables = conn.execute(
        "SELECT a.application_id, v.user_version, (SELECT count(*) FROM sqlite_master)"
        " FROM pragma_application_id() AS a, pragma_user_version() AS v").fetchone()
    has_tables = tables > 0
    if app_id != APPLICATION_ID and (app_id != 0 or has_tables):
        raise _refuse(path, "is a SQLite database of another program, not an mnistlab store")
    if version > len(MIGRATIONS):
        raise StoreError(f"{path} was written by a newer mnistlab (store schema v{version}; "
                         f"this one knows up to v{len(MIGRATIONS)}): upgrade mnistlab")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    with transaction(conn):
        _check_identity(conn, path)  # again, under the write lock: another process may have raced us
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in MIGRATIONS[version:]:
            for statement in _statements(step):
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT our transaction; run the statements one by one.
    return [s.strip() for s in script.split(";") if s.strip()]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
