"""Shared fixtures: a private data folder per test, the real MNIST files, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent


def find_mnist() -> Path:
    candidates = [os.environ.get("MNISTLAB_DATA"), REPO.parent / "shared" / "data" / "mnist",
                  Path("/work/shared/data/mnist")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "t10k-labels-idx1-ubyte.gz").exists():
            return Path(candidate).resolve()
    raise RuntimeError("the tests train on real MNIST: set MNISTLAB_DATA to a folder with the four IDX files")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    return find_mnist()


@pytest.fixture(autouse=True)
def mnist_env(monkeypatch, mnist_dir) -> None:
    """Every test (and every engine it starts) finds the real MNIST files, however pytest was started."""
    monkeypatch.setenv("MNISTLAB_DATA", str(mnist_dir))


@pytest.fixture
def home(tmp_path, monkeypatch, mnist_dir) -> Path:
    """A fresh data folder; any engine started in it is stopped afterwards."""
    from engine import control

    path = tmp_path / "home"
    monkeypatch.setenv("MNISTLAB_HOME", str(path))
    monkeypatch.setenv("MNISTLAB_DATA", str(mnist_dir))
    for name in ("MNISTLAB_FAKE_GPUS", "MNISTLAB_GPU_SLOTS", "MNISTLAB_CPU_SLOTS", "MNISTLAB_RAY"):
        monkeypatch.delenv(name, raising=False)
    yield path
    try:
        control.stop(path, wait_s=20)
    except control.EngineError:
        pid = control.engine_pid(path)
        if pid and pid > 0:
            os.kill(pid, 9)


@pytest.fixture
def probe_kinds(monkeypatch):
    """The test kinds `probe` and `broken` (tests/kind_*.py), known here and to any engine started now."""
    from jobs import kinds
    from tests import kind_broken, kind_probe

    monkeypatch.setenv("MNISTLAB_KINDS", "tests.kind_probe,tests.kind_broken")
    monkeypatch.setitem(kinds.KINDS, "probe", kind_probe.KIND)
    monkeypatch.setitem(kinds.KINDS, "broken", kind_broken.KIND)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self):
        import json

        return json.loads(self.out)


@pytest.fixture
def cli(capsys) -> Callable[..., CliResult]:
    """Run `mnistlab ARGS...` in this process (fast; for many small calls)."""
    from tui.cli.main import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_mnistlab(*args: str, env: dict | None = None, timeout: float = 300) -> CliResult:
    """Run the real `mnistlab` program in a child process, as a person would."""
    proc = subprocess.run([sys.executable, "-m", "tui.cli.main", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {}), "COLUMNS": "120"},
                          cwd=REPO)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def wait_until(predicate: Callable[[], object], timeout: float = 60, interval: float = 0.1,
               what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_done(home, job_id: int, timeout: float = 300, interval: float = 0.1):
    """The job once it has ended (done, failed or cancelled)."""
    from runs.store import Store

    return wait_until(lambda: (j := Store(home).job(job_id)).finished and j, timeout, interval, f"job {job_id} to end")


@pytest.fixture
def engine_up(monkeypatch):
    """Pretend an engine holds the data folder's lock (for dashboard tests that need no real one)."""
    monkeypatch.setattr("tui.live.engine_pid", lambda home=None: 4242)
