"""Writing a file so that a reader never sees half of it: a hidden temp file beside it, then a rename.
(No numpy or torch here: the command line writes files this way too.)"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

TMP_SUFFIX = ".tmp"


def tmp_name(path: Path) -> Path:
    """Where a file is written before its rename: hidden, in the same folder, swept by the engine at start."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}{TMP_SUFFIX}")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = tmp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_private_file(path: str | os.PathLike, data: bytes | str, mode: int = 0o600, sync: bool = False) -> Path:
    """Write `data` (text as UTF-8) to `path` atomically, into a file with `mode` whatever the umask (and on
    the disk before the rename, with `sync`). Raises OSError."""
    path = Path(path)

    def write(tmp: Path) -> None:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            if sync:
                out.flush()
                os.fsync(out.fileno())
        os.chmod(tmp, mode)  # O_CREAT's mode is masked by the umask

    atomic_write(path, write)
    return path
