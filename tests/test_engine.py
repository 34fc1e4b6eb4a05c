"""The engine with real processes: kills, restarts, cancel, slots, dependencies."""

from __future__ import annotations

import os
import signal

import psutil

from engine import control
from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.store import Store
from tests.conftest import run_mnistlab, wait_done, wait_until

LONG = {"net": "10.1", "samples": 15000, "epochs": 4}  # ~8 s on 2 cores: long enough to interrupt
TINY = {"net": "1", "samples": 256, "epochs": 1}


def submit(home, spec, kind="train", **options) -> int:
    [job_id] = Store(home).submit([JobRequest(kind, spec, **options)])
    return job_id


def job(home, job_id):
    return Store(home).job(job_id)


def has_checkpoint(home, job_id) -> bool:
    return Store(home).artifact_path(job_id, "checkpoint") is not None


def test_submit_wait_prints_the_same_record_as_show(home):
    result = run_mnistlab("submit", "train", "--net", "1", "--samples", "256", "--epochs", "1", "--wait", "--json")
    assert result.code == 0, result.err
    record = result.json()
    assert record["status"] == "done" and 0.1 < record["result"]["test_accuracy"] <= 1
    assert record == run_mnistlab("show", str(record["id"]), "--json").json()
    assert record["repro"]["spec"] == record["spec"] and record["repro"]["versions"]["torch"]


def test_worker_kill_9_counts_as_an_attempt_and_fails_only_its_job(home, probe_kinds):
    control.start(home)
    victim = submit(home, {"behaviour": "sleep", "seconds": 600}, kind="probe", max_attempts=2)
    for attempt in (1, 2):
        running = wait_until(lambda: (j := job(home, victim)).status == "running" and j.attempts == attempt and j,
                             90, what=f"attempt {attempt}")
        os.kill(running.worker_pid, signal.SIGKILL)  # the first kill leaves an attempt: it is queued again
    failed = wait_done(home, victim)
    assert failed.status == "failed"
    assert failed.reason == ("failed after 2 attempts; attempt 1: worker process killed by signal 9 SIGKILL (kill -9, "
                             "or the out-of-memory killer); attempt 2: worker process killed by signal 9 SIGKILL "
                             "(kill -9, or the out-of-memory killer)")
    history = EngineStore(home).attempts(victim)
    assert [a["outcome"] for a in history] == ["crashed", "crashed"]
    assert history[0]["reason"].startswith("worker process killed by signal 9")
    after = submit(home, TINY)
    assert wait_done(home, after).status == "done"  # the engine kept serving, on a fresh worker


def test_engine_kill_9_then_restart_requeues_or_fails_and_loses_nothing(home, monkeypatch):
    monkeypatch.setenv("MNISTLAB_CPU_SLOTS", "2")
    pid, _ = control.start(home)
    resumable = submit(home, LONG, max_attempts=2)
    one_shot = submit(home, LONG, max_attempts=1)
    queued = [submit(home, TINY), submit(home, TINY)]
    wait_until(lambda: has_checkpoint(home, resumable), 300, what="a first checkpoint")
    assert job(home, one_shot).status == "running"
    workers = [p.pid for p in psutil.Process(pid).children()]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: control.engine_pid(home) is None, 10, what="the lock to be released")
    wait_until(lambda: not any(psutil.pid_exists(w) and psutil.Process(w).status() != "zombie" for w in workers),
               10, what="the orphaned workers to die with their engine")

    control.start(home)
    resumed = wait_done(home, resumable, 180)
    assert resumed.status == "done" and resumed.result["resumed_from_epoch"] >= 1
    history = EngineStore(home).attempts(resumable)
    assert [a["outcome"] for a in history] == ["lost", "done"]
    # the metric history is the checkpoint's plus what came after: every epoch once, in order
    assert [s for s, _ in Store(home).series(resumable, "val/accuracy")] == [1, 2, 3, 4]
    lost = wait_done(home, one_shot)
    assert lost.status == "failed"
    assert lost.reason == f"the engine stopped once while running this job (see {home / 'engine.log'})"
    for q in queued:
        assert wait_done(home, q).status == "done"
    assert all(j.finished and (j.status == "done" or j.reason) for j in Store(home).jobs())


def test_cancel_stops_a_running_job_quickly_and_keeps_its_metrics(home, cli):
    control.start(home)
    victim = submit(home, LONG)
    wait_until(lambda: Store(home).series(victim, "train/loss"), 60, what="the first losses")
    result = cli("cancel", str(victim))
    assert result.code == 0 and "cancelling" in result.out
    done = wait_done(home, victim, 60)  # how fast: `mnistlab bench engine` measures the cancel latency
    assert done.status == "cancelled" and done.reason == "cancelled by request"
    assert Store(home).series(victim, "train/loss")


def test_four_pretend_gpus_six_jobs_never_share_a_slot(home, monkeypatch):
    monkeypatch.setenv("MNISTLAB_FAKE_GPUS", "4")
    control.start(home)
    ids = Store(home).submit([JobRequest("train", {"net": "1", "samples": 4096, "epochs": 2, "seed": i})
                              for i in range(6)])
    jobs = [wait_done(home, i, 180) for i in ids]
    assert all(j.status == "done" for j in jobs)
    # Which slots serve depends on which workers are warm first (a loaded machine may start one late).
    used = {j.slot for j in jobs}
    assert used <= {"gpu0", "gpu1", "gpu2", "gpu3"} and len(used) >= 2, used
    for j in jobs:  # each job saw only its own pretend GPU
        assert j.repro["device"]["cuda_visible_devices"] == j.slot.removeprefix("gpu")
    store = EngineStore(home)
    spans = {}
    for j in jobs:
        for a in store.attempts(j.id):
            spans.setdefault(a["slot"], []).append((a["started_at"], a["ended_at"]))
    for slot, intervals in spans.items():
        intervals.sort()
        for (_, end), (start, _) in zip(intervals, intervals[1:]):
            assert start >= end, f"two jobs overlapped on {slot}"


def test_gpu_request_and_dependency_chain(home, monkeypatch, cli):
    monkeypatch.setenv("MNISTLAB_FAKE_GPUS", "2")
    control.start(home)
    pinned = submit(home, TINY, gpu=1)
    assert wait_done(home, pinned).slot == "gpu1"

    first = submit(home, LONG)
    dependant = submit(home, TINY, depends_on=[first])
    expected = f"waiting for job {first} (running) to finish"
    wait_until(lambda: job(home, dependant).wait_reason == expected, 30, what=f"the wait reason {expected!r}")
    cli("cancel", str(first))
    failed = wait_done(home, dependant)
    assert failed.status == "failed"
    assert failed.reason.startswith(f"dependency job {first} was cancelled")


def test_engine_status_stop_and_resume(home, cli):
    assert cli("engine", "status", "--json").json()["running"] is False
    assert cli("engine", "start").code == 0
    status = wait_until(lambda: (s := cli("engine", "status", "--json").json())["slots"]
                        and all(x["ready"] for x in s["slots"]) and s, 30, what="a ready worker")
    assert status["running"] and status["pid"] == control.engine_pid(home) and status["slots"][0]["name"] == "cpu0"
    j = submit(home, LONG)
    wait_until(lambda: has_checkpoint(home, j), 300, what="a checkpoint")
    assert cli("engine", "stop").code == 0
    stopped = job(home, j)
    assert stopped.status == "queued" and "engine was stopped" in stopped.reason
    assert cli("engine", "status", "--json").json()["running"] is False
    cli("engine", "start")
    assert wait_done(home, j).result["resumed_from_epoch"] >= 1


def test_a_kind_the_engine_did_not_load_fails_with_what_to_do():
    from engine.runner import SlotRunner

    runner = SlotRunner("cpu 0", "cpu", 1)
    status, result, reason = runner.run({"kind": "nosuchkind", "id": 7, "spec": {}, "attempt": 1}, None)
    assert (status, result) == ("failed", None)
    assert "'nosuchkind' is unknown to this engine" in reason and "mnistlab retry 7" in reason
