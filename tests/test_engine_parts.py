"""The engine's parts without a running engine: plain-data reports, attempt bookkeeping, the lock,
orphans, GPU lists, temp files, slots that never get ready, atomic writes, a diverging loss."""

from __future__ import annotations

import builtins
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.devices import DeviceError, Slot, visible_gpus
from engine.lock import EngineLock, holder
from engine.protocol import ReportError, decode, encode
from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.store import Store


def test_reports_are_plain_data_and_the_engine_refuses_anything_else():
    import numpy as np
    import torch

    message = ("events", 3, [("repro", {"facts": {"torch": torch.__version__, "x": np.float32(0.5),
                                                   "v": np.arange(3), "t": torch.tensor(2.0), "n": float("nan")}})])
    decoded = decode(encode(message))
    facts = decoded[2][0][1]["facts"]
    assert type(facts["torch"]) is str and facts["x"] == 0.5 and facts["v"] == [0, 1, 2] and facts["t"] == 2.0
    assert facts["n"] != facts["n"]  # NaN survives
    with pytest.raises(ReportError, match="torch.torch_version.TorchVersion"):
        decode(pickle.dumps(torch.__version__))  # unpickling it would import torch in the engine
    with pytest.raises(ReportError, match="could not be read"):
        decode(encode(message)[:-5])


def _running(store: EngineStore, max_attempts: int) -> int:
    [job_id] = store.submit([JobRequest("train", {"net": "1"}, max_attempts=max_attempts)])
    assert store.claim(job_id, "cpu0", "cpu 0", 123, 1.0) is not None
    return job_id


def test_every_attempt_that_ends_badly_counts_and_the_last_fails_with_every_reason(tmp_path):
    store = EngineStore(tmp_path)
    job_id = _running(store, 3)
    assert store.end_attempt(job_id, "interrupted", "the engine was stopped") == "queued"  # not counted
    store.claim(job_id, "cpu0", "cpu 0", 124, 2.0)
    assert store.end_attempt(job_id, "crashed", "worker process killed by signal 9") == "queued"
    assert store.job(job_id).reason == ("requeued after attempt 1 of 3: worker process killed by signal 9; "
                                        "it resumes from its last checkpoint")
    store.claim(job_id, "cpu0", "cpu 0", 125, 3.0)
    assert store.end_attempt(job_id, "lost", "the engine stopped while it ran") == "queued"
    store.claim(job_id, "cpu0", "cpu 0", 126, 4.0)
    assert store.end_attempt(job_id, "lost", "the engine stopped while it ran") == "failed"
    assert store.job(job_id).reason == ("failed after 3 attempts; attempt 2: worker process killed by signal 9; "
                                        "attempt 3: the engine stopped (see engine.log); "
                                        "attempt 4: the engine stopped (see engine.log)")


def test_a_requeue_forgets_a_cancel_that_came_too_late_and_a_cancelled_job_stays_cancelled(tmp_path):
    store = EngineStore(tmp_path)
    job_id = _running(store, 2)
    assert store.cancel(job_id) == "cancelling"
    assert store.end_attempt(job_id, "lost", "the engine stopped while it ran") == "cancelled"
    store.retry(job_id)
    assert store.job(job_id).cancel_requested is False
    other = _running(store, 2)
    store.conn.execute("UPDATE jobs SET cancel_requested=1 WHERE id=?", (other,))  # a stale flag
    store.end_attempt(other, "interrupted", "the engine was stopped")
    assert store.job(other).status == "cancelled"


def test_retry_fresh_removes_the_old_files_before_the_job_is_queued(tmp_path, monkeypatch):
    store = EngineStore(tmp_path)
    job_id = _running(store, 1)
    folder = store.paths.artifacts(job_id)
    folder.mkdir(parents=True)
    (folder / "checkpoint.pt").write_bytes(b"old")
    store.apply_events([(job_id, "artifact", {"name": "checkpoint", "path": "checkpoint.pt", "kind": "checkpoint",
                                              "meta": {}})])
    store.finish(job_id, "failed", "boom")
    store.retry(job_id, fresh=True)
    assert not folder.exists() and not list(store.paths.runs.glob(f".{job_id}.discarded-*"))
    assert store.job(job_id).status == "queued" and store.artifacts(job_id) == []

    # the old folder leaves in the same transaction that queues the job: even if deleting it fails
    # afterwards, the next attempt never sees the old files (the engine sweeps the leftover at start)
    store.claim(job_id, "cpu0", "cpu 0", 1, 1.0)
    folder.mkdir(parents=True)
    (folder / "checkpoint.pt").write_bytes(b"old")
    store.finish(job_id, "failed", "boom")
    monkeypatch.setattr("runs.store.shutil.rmtree", lambda *a, **k: None)
    store.retry(job_id, fresh=True)
    assert store.job(job_id).status == "queued" and not folder.exists()
    assert len(list(store.paths.runs.glob(f".{job_id}.discarded-*"))) == 1


def test_the_lock_never_shows_a_half_written_pid(tmp_path):
    lock = EngineLock(tmp_path / "engine.lock")
    (tmp_path / "engine.lock").write_text("999999999\n")  # a dead engine's pid, as a kill -9 leaves it
    assert holder(tmp_path / "engine.lock") is None
    assert lock.acquire()
    try:
        assert holder(tmp_path / "engine.lock") == os.getpid()
        assert oct(os.stat(tmp_path / "engine.lock").st_mode & 0o777) == "0o600"
    finally:
        lock.release()
    assert holder(tmp_path / "engine.lock") is None


def test_orphans_are_killed_only_if_they_are_the_very_process_that_was_recorded():
    from engine.daemon import _kill_orphan
    from engine.local_executor import process_start_time

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = process_start_time(proc.pid)
        _kill_orphan(proc.pid, started - 5)  # the pid, but another process's start time: not ours
        time.sleep(0.2)
        assert proc.poll() is None
        _kill_orphan(proc.pid, started)
        assert proc.wait(timeout=10) == -9
    finally:
        proc.kill()


def test_cuda_visible_devices_by_index_uuid_or_mig_is_honoured_or_refused():
    found = [(0, "H100", "GPU-aaaa-1111"), (1, "H100", "GPU-bbbb-2222")]
    assert visible_gpus(found, None) == [(0, "H100", "0"), (1, "H100", "1")]
    assert visible_gpus(found, "1") == [(1, "H100", "1")]
    assert visible_gpus(found, "GPU-bbbb") == [(1, "H100", "GPU-bbbb")]
    assert visible_gpus(found, "") == []
    assert visible_gpus(found, "MIG-abcd")[0][2] == "MIG-abcd"
    with pytest.raises(DeviceError, match="no GPU '7'"):
        visible_gpus(found, "7")
    with pytest.raises(DeviceError, match="'gpu0' is not allowed"):
        visible_gpus(found, "gpu0")
    env = Slot("gpu1", 1, 4, "gpu 1", visible="GPU-bbbb").env()
    assert env["CUDA_VISIBLE_DEVICES"] == "GPU-bbbb" and env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"


def test_the_engine_sweeps_half_written_files_at_start(tmp_path):
    from engine.daemon import sweep_temp_files

    run = tmp_path / "7"
    run.mkdir()
    (run / "weights.pt").write_bytes(b"done")
    (run / ".weights.pt.123.456.tmp").write_bytes(b"half")
    (run / ".tsne-1.tmp.npz").write_bytes(b"half")  # an earlier release's temp name
    (tmp_path / ".8.discarded-1").mkdir()
    assert sweep_temp_files(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["7", "weights.pt"]


def test_a_worker_that_never_gets_ready_is_restarted_with_a_pause_and_its_slot_says_why():
    from engine.local_executor import LocalExecutor

    executor = LocalExecutor([Slot("cpu0", None, 1, "cpu 0")], ready_timeout_s=0.3)
    executor.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not executor.slots()[0].problem:
            executor.poll(0.1)
        problem = executor.slots()[0].problem
        assert problem.startswith("its worker did not start: did not report ready within 0 s and was killed; "
                                  "starting again in 1 s (failed 1 time(s))")
    finally:
        executor.shutdown()


def test_every_file_a_job_writes_goes_through_a_temp_file_and_a_rename(tmp_path, mnist_dir, monkeypatch):
    from jobs import gan, train
    from jobs.context import LocalContext
    from jobs.kinds import get_kind

    opened = []
    real_open = builtins.open

    def recording_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, Path)) and any(m in mode for m in "wax") and str(file).startswith(str(tmp_path)):
            opened.append(Path(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    for module, kind, spec in ((train, "train", {"net": "1", "samples": 256, "epochs": 1}),
                               (gan, "gan", {"samples": 128, "epochs": 1, "grid": 4})):
        full = get_kind(kind).validate(spec)
        ctx = LocalContext(spec=full, artifact_dir=tmp_path / kind, data_dir=str(mnist_dir))
        module.run(full, ctx)
        ctx.save_arrays("extra", {"a": __import__("numpy").arange(3)})
        files = {Path(a["path"]) for a in ctx.artifacts().values()}
        assert files and all(f.exists() for f in files)
    assert opened and all(p.name.startswith(".") and p.name.endswith(".tmp") for p in opened), opened
    assert not [p for p in tmp_path.rglob(".*")], "a temp file was left behind"


def test_keep_nonfinite_trains_on_through_a_diverged_loss(tmp_path, mnist_dir):
    from jobs import train
    from jobs.context import JobFailed, LocalContext
    from jobs.kinds import get_kind

    spec = get_kind("train").validate({"net": "1", "lr": 10, "samples": 1024, "epochs": 2})
    with pytest.raises(JobFailed, match=r"^loss became NaN at epoch 1, step 8 \(iteration 8\); lr 10 is high for sgd "
                                        r"\(default 0.01\); set keep_nonfinite to train on anyway$"):
        train.run(spec, LocalContext(spec=spec, artifact_dir=tmp_path / "a", data_dir=str(mnist_dir)))
    kept = {**spec, "keep_nonfinite": True}
    ctx = LocalContext(spec=kept, artifact_dir=tmp_path / "b", data_dir=str(mnist_dir))
    result = train.run(kept, ctx)
    assert result["epochs"] == 2 and len(ctx.series("train/loss")) == 2 * 16
    assert any(v != v for _, v in ctx.series("train/loss"))


def test_a_long_runs_per_iteration_curve_keeps_its_last_epoch_and_buckets_of_the_others(tmp_path):
    from jobs.context import POINTS_PER_PAST_EPOCH, LocalContext

    ctx = LocalContext(spec={}, artifact_dir=tmp_path / "run")
    per_epoch = 250
    for epoch in range(3):
        first = epoch * per_epoch + 1
        values = [float(s) for s in range(first, first + per_epoch)]
        if epoch == 0:
            values[10] = float("nan")
        ctx.metrics("train/loss", range(first, first + per_epoch), values)
        if epoch < 2:
            ctx.thin_epoch("train/loss", first, first + per_epoch - 1)
    points = ctx.series("train/loss")
    epoch1 = [(s, v) for s, v in points if s <= per_epoch]
    assert len(epoch1) == 84 <= POINTS_PER_PAST_EPOCH  # buckets of 3 iterations: the mean at the last step
    assert epoch1[1] == (6, 5.0) and epoch1[3][1] != epoch1[3][1]  # the bucket with the NaN stays NaN
    assert [s for s, _ in points if s > 2 * per_epoch] == list(range(2 * per_epoch + 1, 3 * per_epoch + 1))

    # the store ends up with exactly what the context holds
    store = EngineStore(tmp_path / "home")
    [job_id] = store.submit([JobRequest("train", {"net": "1"})])
    store.apply_events([(job_id, name, payload) for name, payload in ctx.events])
    assert [(s, str(v)) for s, v in store.series(job_id, "train/loss")] == [(s, str(v)) for s, v in points]
