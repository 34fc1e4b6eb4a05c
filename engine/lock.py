"""One engine per data folder, held by an flock on `engine.lock` (not a pid guess).

The kernel drops the lock when the engine dies, even by kill -9, so a stale
pid file can never keep a new engine out or let two in. The holder's pid is
written into the locked file in one fixed-width write (never truncated
first), and a reader that finds the lock held but no live pid there yet
looks again for a moment: a client never reports a half-written pid.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

PID_WIDTH = 20
STARTING = -1  # the lock is held but its holder has not written its pid yet


class EngineLock:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self, wait_s: float = 3.0) -> bool:
        """Take the lock, retrying briefly (a client's probe holds it for microseconds)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)
        os.fchmod(fd, 0o600)  # a lock file of an earlier release may be world-readable
        os.pwrite(fd, f"{os.getpid():<{PID_WIDTH}}\n".encode(), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder(path: Path, settle_s: float = 1.0) -> int | None:
    """The pid of the engine holding the lock, None if no engine runs, or STARTING if the lock is held
    and its holder has not written a live pid within `settle_s`."""
    deadline = time.monotonic() + settle_s
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.pread(fd, PID_WIDTH + 1, 0).decode(errors="replace").strip()
                if text.isascii() and text.isdigit() and _alive(int(text)):
                    return int(text)
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
                return None
        finally:
            os.close(fd)
        if time.monotonic() > deadline:
            return STARTING
        time.sleep(0.02)
