"""The engine against ordinary mistakes: a diverging loss, a report it cannot write, a hung or broken job,
a job that kills its engine, clients of a dead engine, a moved data folder. Each bad job fails alone,
with its reason; the queue goes on."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from engine import control
from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.store import Store
from tests.conftest import REPO, wait_done, wait_until

TINY = {"net": "1", "samples": 256, "epochs": 1}


def submit(home, kind, spec, **options) -> int:
    [job_id] = Store(home).submit([JobRequest(kind, spec, **options)])
    return job_id


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_diverging_loss_fails_saying_where_and_why_and_the_next_job_runs(home, cli):
    engine_pid, _ = control.start(home)
    diverging = submit(home, "train", {"net": "1", "lr": 10, "samples": 1024, "epochs": 1})
    after = submit(home, "train", TINY)
    failed = wait_done(home, diverging)
    assert failed.status == "failed"
    assert failed.reason.startswith("loss became NaN at epoch 1, step ")
    assert "lr 10 is high for sgd (default 0.01)" in failed.reason and "keep_nonfinite" in failed.reason
    step = int(failed.reason.split("step ")[1].split(" ")[0])
    losses = Store(home).series(diverging, "train/loss")
    assert len(losses) == step and losses[-1][1] != losses[-1][1]  # stored up to the NaN, which reads as NaN
    shown = cli("show", diverging, "--json")
    assert shown.code == 0 and shown.json()["metrics"]["train/loss"][-1] == [step, "nan"]
    assert wait_done(home, after).status == "done"
    # reading the workers' reports never made the engine import torch (it would stall it for seconds)
    assert "libtorch" not in open(f"/proc/{engine_pid}/maps").read()

    # what it wrote is private to its user
    assert mode(home) == 0o700 and mode(home / "runs") == 0o700 and mode(home / "runs" / str(after)) == 0o700
    for path in [home / "mnistlab.db", home / "engine.log", home / "engine.lock",
                 *(home / "runs" / str(after)).iterdir()]:
        assert mode(path) == 0o600, path


def test_bad_jobs_fail_alone_with_their_reasons_and_the_engine_serves_on(home, probe_kinds, cli):
    store = Store(home)
    ids = dict(zip(
        ("bad_report", "stall", "broken", "nonfinite", "sleep"),
        store.submit([JobRequest("probe", {"behaviour": "bad_report"}),
                      JobRequest("probe", {"behaviour": "stall", "stall_limit_s": 5}),
                      JobRequest("broken", {}),
                      JobRequest("probe", {"behaviour": "nonfinite"}),
                      JobRequest("probe", {"behaviour": "sleep", "seconds": 0.2})])))
    pid, _ = control.start(home)
    jobs = {name: wait_done(home, job_id) for name, job_id in ids.items()}
    assert control.engine_pid(home) == pid  # one engine saw them all

    assert jobs["bad_report"].status == "failed"
    assert jobs["bad_report"].reason == ("the engine could not handle this job's report "
                                         "(IntegrityError: NOT NULL constraint failed: metrics.name)")
    assert jobs["stall"].status == "failed" and jobs["stall"].reason.startswith("no progress for 5 s (stall_limit_s)")
    assert jobs["broken"].status == "failed"
    assert jobs["broken"].reason.startswith("job kind 'broken' cannot be loaded (ModuleNotFoundError: No module "
                                            "named 'mnistlab_no_such_dependency'); the other kinds run as usual")
    assert jobs["sleep"].status == "done" and jobs["sleep"].headline == 1.0

    # non-finite numbers are stored and shown: as NaN/inf in the store, as strings in JSON
    done = jobs["nonfinite"]
    assert done.status == "done" and done.headline is None
    assert [(s, str(v)) for s, v in store.series(done.id, "probe/value")] == [(1, "0.5"), (2, "nan"), (3, "inf")]
    record = cli("show", done.id, "--json").json()
    assert record["metrics"]["probe/value"] == [[1, 0.5], [2, "nan"], [3, "inf"]]
    assert record["result"] == {"spread": "inf", "value": "nan"}
    assert record["tables"]["values"]["matrix"] == [[1.0, "nan"], ["-inf", 2.0]]
    exported = cli("export", done.id, "--format", "json")
    json.loads(exported.out, parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))
    assert "probe/value,3,inf" in cli("export", done.id, "--format", "csv").out


def test_a_job_that_kills_its_engine_fails_after_max_attempts_and_the_queue_goes_on(home, probe_kinds):
    poison = submit(home, "probe", {"behaviour": "kill_engine"}, max_attempts=2)
    after = submit(home, "probe", {"behaviour": "sleep", "seconds": 0.2})
    starts = 0
    while not Store(home).job(poison).finished:
        assert starts < 5, "the poison job took the engine down more than max_attempts times"
        pid, _ = control.start(home)
        starts += 1
        wait_until(lambda: control.engine_pid(home) != pid or Store(home).job(poison).finished, 90,
                   what="the poison job to kill its engine")
    failed = Store(home).job(poison)
    assert starts == 3  # two deaths while it ran, then the third engine fails it at recovery
    assert failed.status == "failed"
    assert failed.reason == f"the engine stopped 2 times while running this job (see {home / 'engine.log'})"
    assert [a["outcome"] for a in EngineStore(home).attempts(poison)] == ["lost", "lost"]
    assert wait_done(home, after).status == "done"


def _client(home, *args) -> subprocess.Popen:
    env = {**os.environ, "MNISTLAB_HOME": str(home), "COLUMNS": "120"}
    return subprocess.Popen([sys.executable, "-m", "tui.cli.main", *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_engine(home) -> None:
    pid = control.engine_pid(home)
    os.killpg(os.getpgid(pid), signal.SIGKILL)  # the engine and its workers, as a crash of the machine's OOM killer
    wait_until(lambda: control.engine_pid(home) is None, 10, what="the lock to be released")


def test_follow_and_wait_give_up_on_a_dead_engine_within_seconds(home, probe_kinds):
    control.start(home)
    followed = submit(home, "probe", {"behaviour": "sleep", "seconds": 600}, max_attempts=1)
    wait_until(lambda: Store(home).job(followed).status == "running", 90, what="the job to start")
    follow = _client(home, "follow", followed)
    time.sleep(1)
    _kill_engine(home)
    out, err = follow.communicate(timeout=10)  # the bound: within 10 s of the kill
    assert follow.returncode == 1, (out, err)
    assert f"error: the engine stopped; see {home / 'engine.log'}; job {followed} is running" in " ".join(err.split())

    # `submit --wait` starts the engine again, as submit would; recovery ends the job it lost
    waiting = _client(home, "submit", "probe", "--behaviour", "sleep", "--seconds", "600", "--max-attempts", "1",
                      "--wait")
    waited = followed + 1
    wait_until(lambda: Store(home).jobs(ids=[waited]) and Store(home).job(waited).status == "running", 90,
               what="the waited job to start")
    _kill_engine(home)
    out, err = waiting.communicate(timeout=10)
    assert waiting.returncode == 1, (out, err)
    assert "the engine stopped; starting it again (1 of 3)" in err
    assert Store(home).job(waited).reason == f"the engine stopped once while running this job (see {home / 'engine.log'})"



def test_sweep_wait_starts_a_dead_engine_again_instead_of_waiting_forever(home, probe_kinds):
    control.start(home)
    waiting = _client(home, "sweep", "probe", "--behaviour", "sleep", "--seconds", "600,1", "--max-attempts", "1",
                      "--wait")
    sleeper = lambda: next((j for j in Store(home).jobs() if j.spec["seconds"] == 600), None)  # noqa: E731
    wait_until(lambda: (job := sleeper()) is not None and job.status == "running", 90, what="the long job to start")
    _kill_engine(home)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 1, (out, err)  # the lost job failed (one attempt allowed); the other ran
    assert "the engine stopped; starting it again (1 of 3)" in err
    assert sleeper().reason == f"the engine stopped once while running this job (see {home / 'engine.log'})"
    assert [j.status for j in Store(home).jobs() if j.spec["seconds"] == 1] == ["done"]

def test_a_moved_data_folder_still_shows_exports_and_resumes_its_runs(tmp_path, monkeypatch, mnist_dir, cli):
    old, new = tmp_path / "lab", tmp_path / "moved" / "lab"
    monkeypatch.setenv("MNISTLAB_HOME", str(old))
    monkeypatch.setenv("MNISTLAB_DATA", str(mnist_dir))
    try:
        control.start(old)
        # epochs of about a second: the cancel sent after the first checkpoint lands before the last epoch
        job_id = submit(old, "train", {"net": "1", "samples": 30000, "epochs": 3})
        wait_until(lambda: Store(old).artifact_path(job_id, "checkpoint"), 120, what="the first checkpoint")
        Store(old).cancel(job_id)
        assert wait_done(old, job_id).status == "cancelled"
        control.stop(old)
        new.parent.mkdir()
        shutil.move(old, new)
        monkeypatch.setenv("MNISTLAB_HOME", str(new))

        record = cli("show", job_id, "--json").json()
        assert record["artifact_dir"] == str(new / "runs" / str(job_id))
        assert {a["name"] for a in record["artifacts"]} == {"checkpoint"}
        assert all(os.path.exists(a["path"]) and a["path"].startswith(str(new)) for a in record["artifacts"])
        assert cli("export", job_id, "--format", "csv").code == 0

        assert cli("retry", job_id).code == 0  # starts an engine in the new place
        done = wait_done(new, job_id)
        assert done.status == "done" and done.result["resumed_from_epoch"] >= 1
        assert [s for s, _ in Store(new).series(job_id, "val/accuracy")] == [1, 2, 3]
        weights = Store(new).artifact_path(job_id, "weights")
        assert weights == new / "runs" / str(job_id) / "weights.pt" and weights.exists()
    finally:
        for home in (old, new):
            if control.engine_pid(home):
                control.stop(home)
