"""Starting, stopping and asking after the engine of a data folder (client side, torch-free)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.lock import STARTING, holder
from runs.paths import HomePaths, make_private_dir, resolve_home


class EngineError(Exception):
    pass


def engine_pid(home: str | os.PathLike | None = None) -> int | None:
    return holder(HomePaths(resolve_home(home)).engine_lock)


def start(home: str | os.PathLike | None = None, *, data: str | None = None, gpu_slots: int | None = None,
          cpu_slots: int | None = None, ray: str | None = None, wait_s: float = 30.0) -> tuple[int, bool]:
    """Start a detached engine unless one runs; returns (pid, started_now).

    The engine gets its own session (it survives the terminal that started it)
    and logs to `engine.log` in the data folder. `ray` runs its slots on a Ray
    cluster (`engine.ray_config`; without it, MNISTLAB_RAY decides).
    """
    paths = HomePaths(resolve_home(home))
    pid = holder(paths.engine_lock)
    if pid is not None and pid != STARTING:
        return pid, False
    make_private_dir(paths.root)
    _rotate(paths.engine_log)
    cmd = [sys.executable, "-m", "engine", "--home", str(paths.root)]
    for flag, value in (("--data", data), ("--gpu-slots", gpu_slots), ("--cpu-slots", cpu_slots), ("--ray", ray)):
        if value is not None:
            cmd += [flag, str(value)]
    with os.fdopen(os.open(paths.engine_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as logfile:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logfile, stderr=logfile,
                                start_new_session=True, cwd=str(paths.root),
                                env={**os.environ, "PYTHONPATH": _code_root_path()})
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        pid = holder(paths.engine_lock, settle_s=0.1)
        if pid is not None and pid != STARTING:  # the engine's own pid, written after it took the lock
            return pid, pid == proc.pid
        if proc.poll() is not None:
            pid = holder(paths.engine_lock)
            if pid is not None and pid != STARTING:  # another start won the race: that engine serves us too
                return pid, False
            raise EngineError(f"the engine exited with code {proc.returncode} at start; "
                              f"see {paths.engine_log}:\n{_tail(paths.engine_log)}")
        time.sleep(0.05)
    raise EngineError(f"the engine did not take its lock within {wait_s:.0f} s; see {paths.engine_log}")


def stop(home: str | os.PathLike | None = None, wait_s: float = 20.0) -> int | None:
    """SIGTERM the engine and wait for it to let go of its lock; returns its pid (None if none ran)."""
    paths = HomePaths(resolve_home(home))
    pid = holder(paths.engine_lock)
    if pid is None:
        return None
    if pid != STARTING:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait_s
    while holder(paths.engine_lock) is not None:
        if time.monotonic() > deadline:
            raise EngineError(f"engine {pid} did not stop within {wait_s:.0f} s")
        time.sleep(0.05)
    return pid


def _code_root_path() -> str:
    # Let `python -m engine` find this checkout even when run from elsewhere.
    root = str(Path(__file__).resolve().parent.parent)
    existing = os.environ.get("PYTHONPATH")
    return root + (os.pathsep + existing if existing else "")


def _rotate(log: Path, limit: int = 10 * 2**20) -> None:
    """Keep one previous log; an engine that runs for months should not fill the disk."""
    if log.exists() and log.stat().st_size > limit:
        os.replace(log, log.with_suffix(".log.1"))


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
