"""`--out FILE` of `export` and `bench`: checked before any work, written whole or not at all.

The path is checked when the option is parsed (a missing folder, a folder, a
path under a file, a device): one line, exit 2, before a benchmark runs for
minutes. The text goes to a private temporary file beside the target, is
flushed to disk, then renamed over it: a full disk leaves the old file (or
none) and no half-written one, and says so (exit 1: the input was fine).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from jobs.atomic import write_private_file
from runs.records import InputError

ALLOWED = "a file path in an existing folder"
_NOT_BAD_INPUT = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG}  # the disk's fault, not the path's


class WriteFailed(Exception):
    """The path was fine but the text could not be written (exit 1); nothing was changed."""


def check_out(out: Path | None) -> Path | None:
    """A typer callback for --out: refuse a path that cannot become a file, before anything runs."""
    if out is None:
        return None
    target = Path(os.path.realpath(out))  # a link is followed: its target is what gets written
    folder = target.parent
    try:
        if not folder.is_dir():
            nearest = next((p for p in folder.parents if p.exists()), None)
            if folder.exists() or (nearest is not None and not nearest.is_dir()):
                blocker = folder if folder.exists() else nearest
                raise InputError(f"--out {out}: {blocker} is a file, not a folder; allowed: {ALLOWED}")
            raise InputError(f"--out {out}: the folder {folder} does not exist; allowed: {ALLOWED}")
        mode = target.stat().st_mode if target.exists() else None
    except OSError as exc:  # a name too long, a loop of links
        raise InputError(f"--out {out}: {exc.strerror}; allowed: {ALLOWED}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(f"--out {out} is a folder; allowed: {ALLOWED}, e.g. {out / 'export.json'}")
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(f"--out {out} is not a regular file (a device, pipe or socket); allowed: {ALLOWED}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: the folder {folder} is not writable; allowed: {ALLOWED}")
    return out


def write_out(out: Path, text: str) -> None:
    """Write `text` to `out` atomically; InputError or WriteFailed (one line) if it cannot be."""
    check_out(out)
    try:
        write_private_file(os.path.realpath(out), text, sync=True)
    except OSError as exc:
        message = f"could not write {out}: {exc.strerror or exc}; nothing was written"
        if exc.errno in _NOT_BAD_INPUT:
            raise WriteFailed(message) from None
        raise InputError(f"{message}; allowed: {ALLOWED}") from None
