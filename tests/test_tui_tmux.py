"""The real `mnistlab tui` in a tmux pane, driven with send-keys and read with capture-pane: at 80x24 what a
person sees through a real tiny job (queue rows, a curve in braille, a finished accuracy); and every view in
16 colours (TERM=screen), with whole wait reasons and a chart of at least ten rows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import REPO
from runs.engine_store import EngineStore
from runs.records import JobRequest
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
    pane.keys("C-s")  # Enter moves between fields; ctrl+s submits
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


def start(pane: Pane, home, mnist_dir, size: tuple[int, int], term: str) -> None:
    env = {"MNISTLAB_HOME": str(home), "MNISTLAB_DATA": str(mnist_dir), "PYTHONPATH": str(REPO), "TERM": term}
    command = " ".join(["env -u COLORTERM -u MNISTLAB_TUI_COLORS"] + [f"{k}={v}" for k, v in env.items()]
                       + [sys.executable, "-m", "tui.cli.main", "tui"])
    pane.tmux("new-session", "-d", "-x", str(size[0]), "-y", str(size[1]), "-s", "lab", f"cd {REPO} && exec {command}")


def cells(text: str, start: int, end: int, job_id: int) -> str:
    """The columns start..end of a job's row."""
    return row(text, job_id)[start:end]


def test_every_view_in_sixteen_colours_at_80x24(home, pane, mnist_dir):
    ids = populate(home, active=False)
    store = EngineStore(home)  # jobs the engine can never start: they wait, and say why
    (gpu,) = store.submit([JobRequest("train", {"net": "1", "samples": 500}, gpu=3)])
    (after,) = store.submit([JobRequest("train", {"net": "2", "samples": 500}, depends_on=[gpu, ids["done"]])])
    (chain,) = store.submit([JobRequest("train", {"net": "5", "samples": 500}, depends_on=[gpu, after])])
    store.close()
    start(pane, home, mnist_dir, (80, 24), "screen")

    # the queue, once the engine has said why each job waits: the reasons whole, never cut mid-word
    text = pane.wait(lambda t: "needs a GPU" in t and "waits for" in row(t, chain), timeout=90,
                     what="the engine's wait reasons")
    header = next(line for line in text.splitlines() if " progress " in line)
    left, right = header.index("progress"), header.index("result") - 1
    for job_id, reason in ((gpu, "needs a GPU"), (after, f"waits for #{gpu}"), (chain, f"waits for #{gpu} #{after}")):
        assert cells(text, left, right, job_id).strip() == reason, row(text, job_id)
    # 16 colours: no 256-colour or truecolour codes anywhere on the screen
    coloured = pane.tmux("capture-pane", "-p", "-e", "-t", "lab").stdout
    assert "\x1b[" in coloured and not any(code in coloured for code in (";5;", "38;2;", "48;2;"))

    # a job: its loss chart gets at least ten rows at 80x24
    pane.keys("/")
    pane.tmux("send-keys", "-t", "lab", "-l", "net=10.1 lr=0.001 epochs=3")
    pane.keys("Enter")
    pane.wait(lambda t: row(t, ids["done"]) and "1 of" in t, what="the filtered queue")
    pane.keys("Enter")
    text = pane.wait(lambda t: "┌" in t and "└" in t and "(per iteration)" in t, what="the chart")
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    assert bottom - top - 1 >= 10, text
    pane.keys("]")
    pane.wait(lambda t: "test_accuracy" in t and "97.12%" in t, what="the results")
    pane.keys("Escape")  # one at a time: an Escape with a key right behind it reads as alt+key
    pane.wait(lambda t: "1 of" in t and "Curves" not in t, what="the queue")
    pane.keys("3")
    pane.wait(lambda t: "network zoo" in t and "92.00 ± 1.41" in t, what="the studies")
    pane.keys("4")
    pane.wait(lambda t: "History" in t and row(t, ids["fgsm"]).replace("●", " ").strip(), what="the history")
    pane.keys("2")
    pane.wait(lambda t: "this machine" in t and "engine pid" in t, what="the devices")
    coloured = pane.tmux("capture-pane", "-p", "-e", "-t", "lab").stdout
    assert not any(code in coloured for code in (";5;", "38;2;", "48;2;"))
    pane.keys("q")
    deadline = time.monotonic() + 10
    while pane.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pane.alive()
