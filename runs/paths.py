"""Where a data folder (the store, artifacts, the engine's lock and log) lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mnistlab"


def resolve_home(explicit: str | os.PathLike | None = None) -> Path:
    """`--home`, else `MNISTLAB_HOME`, else the per-user default."""
    chosen = explicit or os.environ.get("MNISTLAB_HOME") or default_home()
    return Path(chosen).expanduser().resolve()


def make_private_dir(path: Path) -> None:
    """Create a folder readable by its owner only (missing parents as mkdir makes them); tighten one that exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        try:
            path.chmod(0o700)
        except OSError:
            pass  # not ours to change (a shared parent chosen by the person): leave it


def make_private_files(*paths: Path) -> None:
    """The store and its WAL files: owner read/write only."""
    for path in paths:
        for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                if candidate.stat().st_mode & 0o077:
                    candidate.chmod(0o600)
            except OSError:
                pass


@dataclass(frozen=True)
class HomePaths:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / "mnistlab.db"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def artifacts(self, job_id: int) -> Path:
        return self.runs / str(job_id)

    @property
    def engine_lock(self) -> Path:
        return self.root / "engine.lock"

    @property
    def engine_log(self) -> Path:
        return self.root / "engine.log"
