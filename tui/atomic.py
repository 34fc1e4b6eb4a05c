"""Writing a file so that a reader never sees half of it: a private temp file beside it, then a rename."""

from __future__ import annotations

import os
from pathlib import Path


def write_text(path: str | os.PathLike, text: str, mode: int = 0o600) -> Path:
    """Write `text` to `path` atomically; the file gets `mode` (private by default). Raises OSError."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, mode)  # O_CREAT's mode is masked by the umask; the file may also have existed
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
