"""The real `mnistlab tui` in a tmux pane at 80x24, driven with send-keys and read with capture-pane:
what a person sees (queue rows, a curve in braille, a finished accuracy), through a real tiny job."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import REPO
from tests.tui_store import populate

TMUX = shutil.which("tmux") or "/usr/bin/tmux"


class Pane:
    def __init__(self, socket: str):
        self.socket = socket

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=check)

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "lab", check=False).stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "lab", *keys)

    def wait(self, predicate, timeout: float = 30.0, what: str = "the screen") -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if predicate(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; the pane shows:\n{text}")

    def alive(self) -> bool:
        return self.tmux("has-session", "-t", "lab", check=False).returncode == 0


@pytest.fixture
def pane(home):
    if not os.path.exists(TMUX):
        raise RuntimeError("this test drives the real program in tmux: install tmux (.ci/run does)")
    socket = f"mnistlab-tui-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    p = Pane(socket)
    yield p
    p.tmux("kill-server", check=False)


def row(text: str, job_id: int) -> str:
    return next((line for line in text.splitlines() if line.split()[:1] == [str(job_id)]), "")


def test_real_program_in_tmux_at_80x24(home, pane, mnist_dir):
    ids = populate(home, active=False)  # finished runs only: the engine has nothing else to run
    env = {"MNISTLAB_HOME": str(home), "MNISTLAB_DATA": str(mnist_dir), "PYTHONPATH": str(REPO)}
    command = " ".join([f"{k}={v}" for k, v in env.items()] + [sys.executable, "-m", "tui.cli.main", "tui"])
    pane.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "lab", f"cd {REPO} && exec env {command}")

    # the queue: rows with status, progress and results; the engine started by the dashboard
    text = pane.wait(lambda t: "Queue" in t and "97.12%" in t, what="the queue")
    assert "✓ done" in row(text, ids["done"]) and "97.12%" in row(text, ids["done"])
    assert "⊘ cancelled" in row(text, ids["study_queued"])
    assert "✗ failed" in row(text, ids["failed"])
    pane.wait(lambda t: "●" in t.splitlines()[0], timeout=60, what="the engine to start")

    # submit a tiny real job through the form: net 1, 256 images, 1 epoch
    pane.keys("n")
    pane.wait(lambda t: "Submit" in t and "samples" in t, what="the form")
    pane.keys("1", "Tab", "256", "Tab", "1")
    text = pane.wait(lambda t: "will queue 1 train job: net=1 samples=256 epochs=1" in t, what="the plan")
    pane.keys("Enter")
    new_id = max(ids.values()) + 1
    text = pane.wait(lambda t: row(t, new_id) != "", what="the new job in the queue")
    assert "net=1 samples=256" in row(text, new_id)

    # it runs to the end: a finished accuracy in its row
    text = pane.wait(lambda t: "✓ done" in row(t, new_id) and "%" in row(t, new_id).split("done", 1)[1],
                     timeout=150, what="the new job to finish")
    accuracy = row(text, new_id).split()[-1]
    assert accuracy.endswith("%") and 0 < float(accuracy[:-1]) <= 100

    # its curves, drawn in braille, and its result; the cursor is already on it
    pane.keys("Enter")
    text = pane.wait(lambda t: sum(0x2800 < ord(c) <= 0x28FF for c in t) > 20 and "val/accuracy" in t,
                     what="the loss curve")
    assert f"#{new_id} train net=1 samples=256 epochs=1" in text and accuracy in text
    pane.keys("]")
    text = pane.wait(lambda t: "test_accuracy" in t and "per epoch" in t, what="the results tab")
    assert accuracy in text
    pane.keys("Escape")
    pane.wait(lambda t: "Queue" in t and row(t, new_id) != "", what="the queue again")

    # q quits; the engine goes on (the home fixture stops it)
    pane.keys("q")
    deadline = time.monotonic() + 10
    while pane.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pane.alive()
    from engine.control import engine_pid

    assert engine_pid(home) is not None
