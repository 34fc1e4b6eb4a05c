"""The Ray backend on a test cluster of 2 nodes with 2 pretend GPUs each (`ray.cluster_utils.Cluster`).

The engine is the real program (`python -m engine --ray ADDRESS`), driven through the store as the
other engine tests drive it. The cluster and the engine are shared by the tests of this file (starting
them and warming four actors is most of its time); the node-loss test destroys the nodes, so it runs last.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time

import pytest

ray = pytest.importorskip("ray", reason="the Ray backend is an extra: `pip install 'mnistlab[ray]'` runs these tests")
from ray.cluster_utils import Cluster  # noqa: E402

from engine import control  # noqa: E402
from engine.devices import usable_cores  # noqa: E402
from runs.engine_store import EngineStore  # noqa: E402
from runs.records import JobRequest  # noqa: E402
from runs.store import Store  # noqa: E402
from tests.conftest import REPO, wait_done, wait_until  # noqa: E402

pytestmark = pytest.mark.ray

THREADS = max(1, usable_cores() // 2)  # torch threads of a slot, on the cluster and on the local engine alike
SPARE = "spare"                        # the second node's custom resource: a placement label
TINY = {"net": "1", "samples": 512, "epochs": 1}
FAST_NODE_DEATH = {"health_check_period_ms": 1000, "health_check_failure_threshold": 3,
                   "health_check_initial_delay_ms": 0}


@pytest.fixture(scope="module")
def cluster(mnist_dir, tmp_path_factory):
    """A head without slots (it stays when the nodes go) and two nodes with 2 pretend GPUs each."""
    with pytest.MonkeyPatch.context() as env:
        # what the cluster's processes inherit: this checkout's code, the test kinds, a scratch folder
        env.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        env.setenv("MNISTLAB_KINDS", "tests.kind_probe")
        env.setenv("MNISTLAB_DATA", str(mnist_dir))
        env.setenv("MNISTLAB_RAY_SCRATCH", str(tmp_path_factory.mktemp("node-scratch")))
        for name in ("MNISTLAB_RAY", "MNISTLAB_FAKE_GPUS", "MNISTLAB_GPU_SLOTS", "MNISTLAB_CPU_SLOTS", "MNISTLAB_HOME"):
            env.delenv(name, raising=False)
        small = {"object_store_memory": 80 * 2**20}
        c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "num_gpus": 0, "include_dashboard": False,
                                                          "_system_config": FAST_NODE_DEATH, **small})
        try:
            nodes = [c.add_node(num_cpus=2 * THREADS, num_gpus=2, **small),
                     c.add_node(num_cpus=2 * THREADS, num_gpus=2, resources={SPARE: 1}, **small)]
            yield c, nodes
        finally:
            c.shutdown()


@pytest.fixture(scope="module")
def engine(cluster, tmp_path_factory):
    """(home, engine pid): an engine whose slots are the cluster's four pretend GPUs, all warm."""
    c, _ = cluster
    home = tmp_path_factory.mktemp("ray-home")
    pid, _ = control.start(home, ray=c.address, wait_s=60)
    try:
        wait_until(lambda: len(ready_slots(home)) == 4, 300, 0.5, "four warm slot actors")
        yield home, pid
    finally:
        control.stop(home, wait_s=60)


def ready_slots(home) -> dict[str, dict]:
    row = Store(home).engine_row() or {}
    return {s["name"]: s for s in row.get("slots", []) if s["ready"] and not s["lost"]}


def running(home, job_id, attempt=1):
    return wait_until(lambda: (j := Store(home).job(job_id)).status == "running" and j.attempts == attempt and j,
                      120, 0.1, f"job {job_id} to run (attempt {attempt})")


def checkpoint_saved(store, job_id) -> float:
    return next((a["meta"]["saved_at"] for a in store.artifacts(job_id) if a["name"] == "checkpoint"), 0.0)


def sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_eight_jobs_on_four_pretend_gpus_each_on_its_own_gpu_with_the_local_executors_accuracies(engine, tmp_path):
    home, engine_pid = engine
    specs = [{**TINY, "seed": seed} for seed in range(8)]
    placement = {4: {"exclude_gpus": [0]}, 5: {"gpu": 1}, 6: {"node": SPARE}, 7: {"node": SPARE}}
    ids = Store(home).submit([JobRequest("train", spec, **placement.get(seed, {})) for seed, spec in enumerate(specs)])
    jobs = [wait_done(home, i) for i in ids]
    assert [j.status for j in jobs] == ["done"] * 8, [j.reason for j in jobs]

    slots = {s["name"]: s for s in Store(home).engine_row()["slots"]}
    for job in jobs:  # each ran on the GPU and the node it was recorded on
        slot = slots[job.slot]
        assert job.slot.endswith(f".gpu{slot['gpu']}") and slot["pretend"]
        assert job.repro["device"]["cuda_visible_devices"] == str(slot["gpu"])  # set by Ray in the actor
        assert job.repro["ray"]["node_id"] == slot["node"] and job.repro["ray"]["actor_pid"] == slot["worker_pid"]
    assert slots[jobs[4].slot]["gpu"] == slots[jobs[5].slot]["gpu"] == 1  # GPU 1 of a node, as asked
    assert all(SPARE in slots[j.slot]["labels"] for j in jobs[6:])  # `--node spare` placed them there
    store = EngineStore(home)
    spans: dict[str, list] = {}
    for job in jobs:
        for a in store.attempts(job.id):
            spans.setdefault(a["slot"], []).append((a["started_at"], a["ended_at"]))
    for slot, times in spans.items():  # never two jobs on one GPU at once
        times.sort()
        assert all(end <= nxt for (_, end), (nxt, _) in zip(times, times[1:])), (slot, times)
    assert "libtorch" not in open(f"/proc/{engine_pid}/maps").read()  # the engine never imported torch

    local = tmp_path / "local"  # the same specs and seeds on the local executor, same torch threads per slot
    control.start(local, cpu_slots=2)
    try:
        local_ids = Store(local).submit([JobRequest("train", spec) for spec in specs])
        local_jobs = [wait_done(local, i) for i in local_ids]
    finally:
        control.stop(local)
    assert {j.repro["device"]["torch_threads"] for j in jobs + local_jobs} == {THREADS}
    assert [j.result["test_accuracy"] for j in jobs] == [j.result["test_accuracy"] for j in local_jobs]
    assert [j.result["test_loss"] for j in jobs] == [j.result["test_loss"] for j in local_jobs]


def test_submit_checks_gpus_and_node_labels_against_the_clusters_slots(engine, cli, monkeypatch):
    home, _ = engine
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    before = len(Store(home).jobs())
    refused = cli("submit", "train", "--node", "bigmem")
    assert refused.code == 2 and "node label 'bigmem' is not allowed; allowed: spare" in " ".join(refused.err.split())
    refused = cli("submit", "train", "--gpu", "2")
    assert refused.code == 2 and "gpu 2 is not allowed; allowed: 0, 1" in refused.err
    refused = cli("submit", "train", "--exclude-gpu", "0,1")
    assert refused.code == 2 and "excludes every GPU on the engine's cluster nodes" in " ".join(refused.err.split())
    assert len(Store(home).jobs()) == before
    status = cli("engine", "status")  # a row per GPU of each node, with its node and labels
    assert status.code == 0 and "node" in status.out
    rows = [line for line in status.out.splitlines() if ".gpu" in line]
    assert len(rows) == 4 and sum("[spare]" in row for row in rows) == 2, status.out


def test_files_come_back_with_the_sha256_the_node_wrote(engine):
    """Weights and images are written on the node, shipped as bytes and written here; the fgsm job reads
    the weights of two train runs that the engine ships to its node on request."""
    home, _ = engine
    ids = Store(home).submit([
        JobRequest("train", {**TINY, "seed": 10}), JobRequest("train", {**TINY, "seed": 11}),
        JobRequest("fgsm", {"nets": [-2, -1], "eps": [0.3], "test_images": 100, "batch_size": 100, "tsne_eps": []},
                   after=[0, 1])])
    jobs = [wait_done(home, i) for i in ids]
    assert [j.status for j in jobs] == ["done"] * 3, [j.reason for j in jobs]
    assert jobs[2].result["runs"] == ids[:2]  # it read the weights of both train runs
    kinds = set()
    for job in jobs:
        artifacts = Store(home).artifacts(job.id)
        assert artifacts
        for a in artifacts:
            assert a["meta"]["sha256"] == sha256(a["path"]), a  # what the node wrote is what landed here
            assert oct(os.stat(a["path"]).st_mode & 0o777) == "0o600"
            kinds.add(a["kind"])
    assert {"weights", "image"} <= kinds


def test_cancel_reaches_a_remote_actor_within_2_s(engine):
    home, _ = engine
    [job_id] = Store(home).submit([JobRequest("train", {"net": "1", "samples": 60000, "epochs": 3})])
    wait_until(lambda: Store(home).series(job_id, "train/loss"), 120, 0.1, "the first losses")
    asked = time.time()
    Store(home).cancel(job_id)
    job = wait_done(home, job_id, 60)
    assert job.status == "cancelled" and job.reason == "cancelled by request"
    assert job.finished_at - asked < 2.0  # the bound, from the store's own timestamp


def test_kill_9_of_an_actor_costs_only_its_job_one_attempt(engine, probe_kinds):
    home, _ = engine
    victim, *others = Store(home).submit([JobRequest("probe", {"behaviour": "sleep", "seconds": 8},
                                                     max_attempts=2) for _ in range(3)])
    job = running(home, victim)
    for other in others:
        running(home, other)
    os.kill(job.worker_pid, signal.SIGKILL)
    ended = wait_done(home, victim)
    assert ended.status == "done"  # it had an attempt left: it ran again
    first, second = EngineStore(home).attempts(victim)
    assert first["outcome"] == "crashed" and first["reason"].startswith("slot actor died: "), first
    assert second["outcome"] == "done"
    for other in others:  # untouched
        assert wait_done(home, other).status == "done" and Store(home).job(other).attempts == 1
    wait_until(lambda: len(ready_slots(home)) == 4, 180, 0.5, "the killed actor's slot to be warm again")


def test_a_lost_node_requeues_its_jobs_elsewhere_and_a_second_loss_fails_them_with_both_reasons(
        engine, cluster, probe_kinds):
    home, _ = engine
    c, (first_node, spare_node) = cluster
    store = Store(home)
    short = {s["node"]: s["name"].split(".")[0] for s in wait_until(
        lambda: len(ready_slots(home)) == 4 and ready_slots(home).values(), 180, 0.5, "four warm slots")}
    # two sleepers hold the spare node, so the two trainers start on the first node
    sleepers = store.submit([JobRequest("probe", {"behaviour": "sleep", "seconds": 600}, node=SPARE)] * 2)
    for sleeper in sleepers:
        running(home, sleeper)
    resumed, lost_twice = store.submit([
        JobRequest("train", {"net": "1", "samples": 8192, "epochs": 3}, max_attempts=3),
        JobRequest("train", {"net": "1", "samples": 8192, "epochs": 12}, max_attempts=2)])
    for job_id in (resumed, lost_twice):
        assert ready_slots(home)[running(home, job_id).slot]["node"] == first_node.node_id
    for sleeper in sleepers:  # free the spare node's GPUs for them
        store.cancel(sleeper)
    for job_id in (resumed, lost_twice):
        wait_until(lambda: store.artifact_path(job_id, "checkpoint"), 120, 0.2, f"job {job_id}'s first checkpoint")
    assert all(wait_done(home, sleeper).status == "cancelled" for sleeper in sleepers)

    removed = time.time()
    c.remove_node(first_node, allow_graceful=False)
    again = {job_id: running(home, job_id, attempt=2) for job_id in (resumed, lost_twice)}
    for job_id in (resumed, lost_twice):
        assert again[job_id].started_at - removed < 10  # running elsewhere within 10 s of the loss (store's times)
        first = EngineStore(home).attempts(job_id)[0]
        # Ray's health check (1 s x 3 here) names the node lost; an actor that stops answering before it does
        # is given up on after 5 s, its reason naming the node as well
        assert first["outcome"] == "crashed" and first["reason"].startswith(
            (f"node {short[first_node.node_id]} ", f"slot actor on node {short[first_node.node_id]} ")), first
        assert f"id {first_node.node_id[:12]}" in first["reason"]
    done = wait_done(home, resumed)
    assert done.status == "done" and done.result["resumed_from_epoch"] >= 1
    assert [step for step, _ in store.series(resumed, "val/accuracy")] == [1, 2, 3]  # the whole history, once

    wait_until(lambda: checkpoint_saved(store, lost_twice) > again[lost_twice].started_at, 120, 0.2,
               "a checkpoint after the resume")
    c.remove_node(spare_node, allow_graceful=False)
    failed = wait_done(home, lost_twice)
    assert failed.status == "failed"
    assert failed.reason.startswith("failed after 2 attempts; attempt 1: ")
    first, second = failed.reason.split("; attempt 2: ")
    assert f"node {short[first_node.node_id]} " in first and f"id {first_node.node_id[:12]}" in first
    assert f"node {short[spare_node.node_id]} " in second and f"id {spare_node.node_id[:12]}" in second
    lost = wait_until(lambda: len(x := [s for s in store.engine_row()["slots"] if s["lost"]]) == 4 and x, 30, 0.2,
                      "both nodes' slots to be listed as lost")
    assert all(s["problem"].startswith("node lost at ") and not s["ready"] for s in lost)


def test_a_file_that_arrives_damaged_or_named_outside_its_folder_is_refused(tmp_path):
    from engine.ray_executor import Node, RayExecutor, RaySlot

    slot = RaySlot("n1.gpu0", Node("0" * 56, "n1", "host", [], 1, 2), True, 1, 1, 0, run_dir=str(tmp_path / "7"))
    store_file = RayExecutor("local")._store_file  # no Ray started: only the engine's side of a report
    good = b"weights"
    store_file(slot, {"path": "weights.pt", "meta": {"sha256": hashlib.sha256(good).hexdigest()}, "data": good})
    assert (tmp_path / "7" / "weights.pt").read_bytes() == good
    with pytest.raises(ValueError, match="arrived damaged"):
        store_file(slot, {"path": "weights.pt", "meta": {"sha256": hashlib.sha256(good).hexdigest()}, "data": b"x"})
    with pytest.raises(ValueError, match="not a plain file name"):
        store_file(slot, {"path": "../weights.pt", "meta": {}, "data": good})
    assert (tmp_path / "7" / "weights.pt").read_bytes() == good and not (tmp_path / "weights.pt").exists()
