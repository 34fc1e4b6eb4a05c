"""The SQLite file under a data folder: opening, refusing what is not ours, migrating.

WAL mode so readers (dashboards, `follow`) never block the engine's writes;
every write is a short BEGIN IMMEDIATE transaction. A connection belongs to
the process that opened it (see `runs.store.Store`).
"""

from __future__ import annotations

import fcntl
import sqlite3
import struct
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from runs.paths import HomePaths
from runs.schema import MIGRATIONS

APPLICATION_ID = 0x4D4E4C42  # "MNLB": marks the file as an mnistlab store
SQLITE_HEADER = b"SQLite format 3\x00"
WAL_MAGIC = (0x377F0682, 0x377F0683)  # the last bit: the byte order of the header's checksum
WAL_VERSION = 3007000
WAL_HEADER_BYTES = 32


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
    # Before SQLite sees the files: it would make a new store over lost records, and drop a WAL
    # it cannot read (deleting it when the last connection closes).
    _check_not_lost(path)
    _check_wal(path)
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        current = _check_identity(conn, path)  # before anything that writes: a foreign file stays byte-identical
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if not current:  # a store that is up to date is only read: opening it changes no byte
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


def _check_not_lost(path: Path) -> None:
    """A missing or empty store beside run folders: its records were lost, and a new store would hand
    out their ids again (new job 1 resuming old run 1's checkpoint)."""
    try:
        empty = path.stat().st_size == 0
    except FileNotFoundError:
        empty = True
    if not empty:
        return
    runs = HomePaths(path.parent).runs
    try:
        count = sum(1 for _ in runs.iterdir())
    except OSError:  # no runs folder (a new data folder), or not a folder
        return
    if count:
        what = "is empty (0 bytes)" if path.exists() else "is missing"
        raise StoreError(f"{path} {what}, but {runs} holds {count} run folder(s) that it recorded; mnistlab "
                         f"refuses to start a new store over them. Restore {path.name} from a backup, or move "
                         f"{runs} away to start afresh")


def _check_wal(path: Path) -> None:
    """A write-ahead log with frames but a header SQLite cannot read holds changes SQLite would drop
    without a word. A header being rewritten by a live writer can read torn once: look again."""
    wal = path.with_name(path.name + "-wal")
    for attempt in range(3):
        try:
            with wal.open("rb") as fh:  # SQLite takes no locks on the -wal file: reading it is safe
                head = fh.read(WAL_HEADER_BYTES + 1)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _refuse(wal, f"cannot be read ({exc.strerror})") from None
        if len(head) <= WAL_HEADER_BYTES or wal_header_ok(head[:WAL_HEADER_BYTES]):
            return  # empty, or a header cut short before any frame: nothing in it to lose
        time.sleep(0.05 * (attempt + 1))
    raise StoreError(f"{wal} (the store's log of recent changes) is damaged: its header is not a SQLite "
                     f"write-ahead log header, so the changes it holds would be silently dropped; mnistlab "
                     f"refuses to open {path}. Restore both files from a backup, or move {wal.name} away "
                     f"to open the store without those changes")


def wal_header_ok(head: bytes) -> bool:
    """The 32-byte header of a SQLite WAL: magic, version, page size, and its own checksum."""
    magic, version, page_size, _, _, _, sum1, sum2 = struct.unpack(">8I", head)
    if magic not in WAL_MAGIC or version != WAL_VERSION:
        return False
    if not 512 <= page_size <= 65536 or page_size & (page_size - 1):
        return False
    return _wal_checksum(head[:24], big_endian=bool(magic & 1)) == (sum1, sum2)


def _wal_checksum(data: bytes, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack((">" if big_endian else "<") + f"{len(data) // 4}I", data)
    s0 = s1 = 0
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def damaged(path: Path, exc: sqlite3.DatabaseError) -> StoreError | None:
    """The one line for a store error met while reading or writing an open store (a damaged page
    shows only when a query reaches it: opening reads the header and the schema); None when the
    error says nothing about the file (a bug of ours, to be seen whole)."""
    if isinstance(exc, sqlite3.OperationalError):  # locked, disk full, I/O error: the machine, not the file
        return StoreError(f"{path} could not be used ({exc})")
    if (exc.sqlite_errorcode or 0) & 0xFF not in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return None
    return StoreError(f"{path} is damaged ({exc}); nothing was changed. "
                      f"Restore it from a backup, or save what is left with `sqlite3 {path.name} .recover "
                      f"| sqlite3 recovered.db` and move it away")


def _has_sqlite_header(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == SQLITE_HEADER


def _check_identity(conn: sqlite3.Connection, path: Path) -> bool:
    """Refuse a file that is not an mnistlab store, or is newer; True when it is up to date."""
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
    return app_id == APPLICATION_ID and version == len(MIGRATIONS)


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
