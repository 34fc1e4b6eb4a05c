"""Placement rules, without processes: priority, FIFO, GPU asks and exclusions, dependencies."""

from __future__ import annotations

from engine.devices import Slot, discover
from engine.scheduler import plan
from runs.records import Job
from tests.store_reads import counted


def job(id_, priority=0, placement=None, depends_on=None) -> Job:
    return Job(id=id_, kind="train", spec={"net": "1"}, status="queued", priority=priority, study=None, label=None,
               placement=placement or {}, depends_on=depends_on or [], data_dir=None, max_attempts=2, attempts=0,
               created_at=0.0, started_at=None, finished_at=None, slot=None, device=None, worker_pid=None,
               heartbeat_at=None, progress=0.0, progress_text=None, eta_s=None, cancel_requested=False,
               wait_reason=None, reason=None, result=None, headline=None, repro={}, seq=0)


GPUS = [Slot(f"gpu{i}", i, 1, f"gpu {i}") for i in range(4)]


def queue_order(jobs):
    return sorted(jobs, key=lambda j: (-j.priority, j.id))


def test_priority_then_fifo_fill_free_slots():
    jobs = queue_order([job(1), job(2), job(3, priority=5), job(4)])
    p = plan(jobs, GPUS[:2], GPUS, {"gpu2": 90, "gpu3": 91}, {})
    assert [(j.id, s.name) for j, s in p.assign] == [(3, "gpu0"), (1, "gpu1")]
    assert p.waits[2].startswith("no free slot (all 4 busy")
    assert "gpu2: job 90" in p.waits[4]


def test_gpu_request_and_exclusion():
    jobs = [job(1, placement={"gpu": 2}), job(2, placement={"exclude_gpus": [0, 1]}), job(3)]
    p = plan(jobs, GPUS, GPUS, {}, {})
    assert {j.id: s.name for j, s in p.assign} == {1: "gpu2", 2: "gpu3", 3: "gpu0"}


def test_busy_requested_gpu_explains_the_wait():
    p = plan([job(1, placement={"gpu": 2}), job(2)], [GPUS[0]], GPUS, {"gpu2": 7, "gpu1": 8, "gpu3": 9}, {})
    assert p.waits[1] == "GPU 2, which it asked for, is busy (gpu2: job 7)"
    assert [(j.id, s.name) for j, s in p.assign] == [(2, "gpu0")]


def test_gpu_this_engine_lacks():
    p = plan([job(1, placement={"gpu": 9})], GPUS, GPUS, {}, {})
    assert "does not have" in p.waits[1] and not p.assign


def test_dependencies_wait_then_fail_with_the_reason():
    waiting = plan([job(5, depends_on=[1, 2])], GPUS, GPUS, {}, {1: ("done", None), 2: ("running", None)})
    assert waiting.waits[5] == "waiting for job 2 (running) to finish" and not waiting.assign
    ready = plan([job(5, depends_on=[1, 2])], GPUS, GPUS, {}, {1: ("done", None), 2: ("done", None)})
    assert [j.id for j, _ in ready.assign] == [5]
    failed = plan([job(5, depends_on=[1, 2])], GPUS, GPUS, {},
                  {1: ("done", None), 2: ("failed", "worker process killed by signal 9")})
    assert failed.fail[0][1] == "dependency job 2 was failed: worker process killed by signal 9"


def test_discover_fake_gpus_and_cpu_slots(monkeypatch):
    monkeypatch.setenv("MNISTLAB_FAKE_GPUS", "4")
    slots = discover(gpu_slots=2)
    assert [s.name for s in slots] == [f"gpu{i}.{k}" for i in range(4) for k in range(2)]
    assert all(s.pretend and s.torch_device == "cpu" and s.env()["CUDA_VISIBLE_DEVICES"] == str(s.gpu)
               for s in slots)
    monkeypatch.delenv("MNISTLAB_FAKE_GPUS")
    monkeypatch.setattr("engine.devices.real_gpus", lambda: [])
    monkeypatch.setattr("engine.devices.usable_cores", lambda: 2)
    cpu = discover()
    assert len(cpu) == 1 and cpu[0].threads == 2 and cpu[0].env()["CUDA_VISIBLE_DEVICES"] == ""
    monkeypatch.setattr("engine.devices.usable_cores", lambda: 16)
    assert [s.threads for s in discover(cpu_slots=4)] == [4, 4, 4, 4]


class OneSlotExecutor:
    """An executor with one idle slot that records what it is asked to run (the seam, without processes)."""

    def __init__(self):
        from engine.executor import SlotState

        self.state = SlotState("cpu0", "cpu 0", None, ready=True)
        self.ran = []

    def slots(self):
        return [self.state]

    def run(self, slot, order):
        self.ran.append(order.id)
        self.state.job_id = order.id

    def start(self): ...
    def cancel(self, job_id): ...
    def kill(self, job_id, reason): ...
    def poll(self, timeout): return []
    def shutdown(self): ...


def _bulk_queue(store, count: int) -> None:
    """`count` queued one-epoch jobs, written the way Store.submit writes them (one transaction)."""
    from runs.store import dumps

    spec = dumps({"net": "1", "samples": 64, "epochs": 1})
    with store.write() as c:
        seq = store.bump(c)
        c.executemany("INSERT INTO jobs (kind, spec, status, created_at, seq) VALUES ('train', ?, 'queued', 0, ?)",
                      [(spec, seq)] * count)


def test_the_engine_picks_the_best_runnable_job_of_10000_without_reading_the_queue(tmp_path):
    from engine.daemon import SCHEDULE_PAGE, Engine
    from runs.records import JobRequest

    executor = OneSlotExecutor()
    engine = Engine(tmp_path, [], executor=executor)
    store = engine.store
    _bulk_queue(store, 5000)
    [blocked, urgent] = store.submit([JobRequest("train", {"net": "1"}, priority=9, depends_on=[1]),
                                      JobRequest("train", {"net": "2"}, priority=5)])
    _bulk_queue(store, 5000)

    rows = counted(store)
    engine.schedule()
    # the highest priority job waits for job 1; the next one in line runs
    assert executor.ran == [urgent] and store.job(urgent).status == "running"
    assert store.job(blocked).wait_reason == "waiting for job 1 (queued) to finish"
    read = sum(n for _, n in rows)
    assert read <= 3 * SCHEDULE_PAGE, rows  # a page or two, not 10,000 rows
    plan_ = store.conn.execute("EXPLAIN QUERY PLAN SELECT * FROM jobs WHERE status = 'queued' "
                               "ORDER BY priority DESC, id LIMIT 64").fetchall()
    assert "USING INDEX jobs_by_status" in " ".join(r[-1] for r in plan_) and "TEMP B-TREE" not in str(plan_)


def test_a_failed_job_fails_its_dependants_anywhere_in_the_queue(tmp_path):
    from engine.daemon import Engine
    from runs.records import JobRequest

    executor = OneSlotExecutor()
    executor.state.job_id = 999  # busy: nothing starts, only dependencies are judged
    engine = Engine(tmp_path, [], executor=executor)
    store = engine.store
    [first] = store.submit([JobRequest("train", {"net": "1"})])
    _bulk_queue(store, 3000)
    [child, grandchild] = store.submit([JobRequest("train", {"net": "1"}, depends_on=[first]),
                                        JobRequest("train", {"net": "1"}, after=[0])])
    engine.schedule()
    store.cancel(first)
    engine.schedule()
    assert store.job(child).status == "failed"
    assert store.job(child).reason == f"dependency job {first} was cancelled: cancelled before it started"
    assert store.job(grandchild).status == "failed"
    assert store.job(grandchild).reason.startswith(f"dependency job {child} was failed")


def cluster_slot(name, gpu, labels=(), lost=False):
    from engine.executor import SlotState

    return SlotState(name, f"gpu {gpu} on {name[:2]}", gpu, ready=not lost, labels=list(labels), lost=lost,
                     node=name[:2])


def test_a_node_label_places_a_job_on_that_nodes_slots_and_explains_the_wait():
    slots = [cluster_slot("n1.gpu0", 0), cluster_slot("n1.gpu1", 1), cluster_slot("n2.gpu0", 0, ["bigmem", "zone=a"])]
    p = plan([job(1, placement={"node": "zone=a"}), job(2, placement={"node": "bigmem"}), job(3)], slots, slots, {}, {})
    assert [(j.id, s.name) for j, s in p.assign] == [(1, "n2.gpu0"), (3, "n1.gpu0")]
    assert p.waits[2] == "no free slot among the ones it may use (starting)"
    # `--gpu` is the index on a node: GPU 0 of either node will do
    p = plan([job(4, placement={"gpu": 0, "node": "bigmem"}), job(5, placement={"gpu": 0})], slots, slots, {}, {})
    assert [(j.id, s.name) for j, s in p.assign] == [(4, "n2.gpu0"), (5, "n1.gpu0")]
    p = plan([job(6, placement={"node": "gpu-a100"})], slots, slots, {}, {})
    assert p.waits[6] == "asks for node label gpu-a100, which no slot of this engine has (labels: bigmem, zone=a)"
    assert [s.labels for s in GPUS] == [()] * 4  # a local slot has none: a labelled job waits, saying so
    assert "no slot of this engine has (labels: none)" in plan([job(7, placement={"node": "x"})], GPUS, GPUS, {},
                                                                {}).waits[7]


def test_the_slots_of_a_lost_node_are_never_waited_for():
    slots = [cluster_slot("n1.gpu0", 0), cluster_slot("n2.gpu1", 1, ["spare"], lost=True)]
    p = plan([job(1, placement={"node": "spare"}), job(2, placement={"gpu": 1})], [], slots, {"n1.gpu0": 9}, {})
    assert p.waits[1].startswith("asks for node label spare, which no slot of this engine has")
    assert p.waits[2] == "asks for GPU 1, which this engine does not have (GPUs: 0)"
