"""Chaos: random kill -9 of the engine and its workers over a small workload, then every job has ended
once, and every finished training run has its whole, gap-free history. Run alone with `-m chaos`."""

from __future__ import annotations

import os
import random
import signal
import time

import psutil
import pytest

from engine import control
from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.store import Store
from tests.conftest import wait_until

pytestmark = pytest.mark.chaos

EPOCHS, SAMPLES, BATCH = 3, 1024, 64


def _kill_group(pid: int) -> None:
    try:
        os.killpg(os.getpgid(pid), signal.SIGKILL)  # the engine and the workers it spawned
    except ProcessLookupError:
        pass


def test_engine_start_json_always_answers_the_real_pid_even_right_after_kills(home, cli):
    for _ in range(50):
        result = cli("engine", "start", "--json")
        assert result.code == 0, result.err
        pid = result.json()["pid"]
        assert pid == control.engine_pid(home) and pid > 0
        assert "engine" in " ".join(psutil.Process(pid).cmdline())
        _kill_group(pid)
        wait_until(lambda: control.engine_pid(home) is None, 10, what="the lock to be released")


def test_random_kills_lose_nothing_and_run_nothing_twice(home, monkeypatch):
    monkeypatch.setenv("MNISTLAB_CPU_SLOTS", "2")
    store = Store(home)
    ids = store.submit([JobRequest("train", {"net": net, "samples": SAMPLES, "epochs": EPOCHS, "seed": seed,
                                             "batch_size": BATCH}, max_attempts=10)
                        for seed, net in enumerate(["1", "2", "10.1", "1", "13.1", "2"])])
    rng = random.Random(7)
    kills = 0
    deadline = time.monotonic() + 400
    while not all(j.finished for j in store.jobs(ids=ids)):
        assert time.monotonic() < deadline, [(j.id, j.status, j.reason) for j in store.jobs(ids=ids)]
        pid, _ = control.start(home)
        if kills >= 6:  # enough chaos: let the rest finish
            time.sleep(0.5)
            continue
        running = wait_until(lambda: [j for j in store.jobs(ids=ids) if j.status == "running"]
                             or all(j.finished for j in store.jobs(ids=ids)), 120, what="a running job")
        if running is True:
            break
        time.sleep(rng.uniform(0.0, 1.5))  # somewhere inside an epoch, or between two
        victim = rng.choice(running)
        if rng.random() < 0.5 and victim.worker_pid and psutil.pid_exists(victim.worker_pid):
            os.kill(victim.worker_pid, signal.SIGKILL)  # a worker: its job's attempt ends, the engine goes on
        else:
            _kill_group(pid)
            wait_until(lambda: control.engine_pid(home) is None, 10, what="the lock to be released")
        kills += 1

    engine = EngineStore(home)
    interrupted = [a for i in ids for a in engine.attempts(i) if a["outcome"] in ("lost", "crashed")]
    assert interrupted, "no kill hit a running job: this run tested nothing"
    for job in store.jobs(ids=ids):
        outcomes = [a["outcome"] for a in engine.attempts(job.id)]
        assert outcomes.count("done") == (1 if job.status == "done" else 0), (job.id, outcomes)  # never twice
        assert job.status in ("done", "failed", "cancelled") and (job.status == "done" or job.reason)
        if job.status == "done":
            iterations = EPOCHS * (SAMPLES // BATCH)
            assert [s for s, _ in store.series(job.id, "val/accuracy")] == list(range(1, EPOCHS + 1)), job.id
            assert [s for s, _ in store.series(job.id, "train/loss")] == list(range(1, iterations + 1)), job.id
