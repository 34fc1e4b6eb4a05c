"""The Ray executor: the engine's slots are long-lived actors on the GPUs of a Ray cluster (`mnistlab[ray]`).

One actor per GPU of every node (one per CPU slot on a node without GPUs), pinned to its node, with
`CUDA_VISIBLE_DEVICES` set by Ray, is one slot (`engine.ray_slot`). A job's reports come back through a
streaming generator as plain data; its files come back as bytes, written here into the run's folder, so
the nodes share no folder with the engine. The engine stays the store's only writer and the one place
that decides retries: Ray's own retries and restarts are off. An actor or node that dies under a job is
a `JobLost` ("slot actor died: ..." / "node ... lost: ..."); a dead actor is started again on its node,
and the slots of a lost node stay listed as lost. Nodes that join later get slots of their own.

Slot names are `n<k>.gpu<i>` (`n<k>.cpu<i>`): n1, n2, ... number the nodes in the order this engine
first saw them; i is the GPU's index on its node, as nvidia-smi there lists it, and that is what
`--gpu`/`--exclude-gpu` mean on a cluster. A node's labels (`submit --node LABEL`) are its custom
resources (`ray start --resources '{"bigmem": 1}'`, and Ray's own `accelerator_type:A100`) and its Ray node
labels as KEY=VALUE.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from engine.executor import Event, JobEnded, JobLost, JobOrder, Reports, SlotReady, SlotState, SlotUnavailable
from engine.local_executor import BACKOFF_S
from engine.protocol import ReportError, decode
from engine.ray_slot import SlotActor, data_key, plain_name, sha256, write_private
from engine.version import code_version
from jobs.datasets import DEFAULT, file_names
from jobs.idx_files import find_file
from runs.records import InputError

log = logging.getLogger("mnistlab.engine")

REFRESH_S = 1.0          # how often the node list is read (joins, losses)
STATS_S = 5.0            # how often each ready actor is asked for its GPU's use (and so proves alive)
LOSS_GRACE_S = 5.0       # a broken stream whose cause is unclear waits this long for the node's verdict
STANDARD_RESOURCES = {"CPU", "GPU", "TPU", "HPU", "NPU", "memory", "object_store_memory"}
INTERNAL_PREFIXES = ("node:", "ray.io/", "TPU-")  # Ray's own; its accelerator_type:A100 is a useful label
RemoteSlot = ray.remote(max_concurrency=4, max_restarts=0, max_task_retries=0)(SlotActor)
ActorDied = getattr(ray.exceptions, "ActorDiedError", ray.exceptions.RayActorError)
ActorUnavailable = getattr(ray.exceptions, "ActorUnavailableError", ())  # Ray >= 2.10: death not confirmed yet


@dataclass
class Node:
    id: str
    short: str             # n1, n2, ...: in the order this engine first saw the node
    host: str
    labels: list[str]
    gpus: int
    cpus: int
    alive: bool = True

    @property
    def has_slots(self) -> bool:
        return bool(self.gpus or self.cpus)

    def describe(self) -> str:
        return f"{self.short} ({self.host}, id {self.id[:12]})"


@dataclass
class RaySlot:
    name: str
    node: Node
    gpu_slot: bool
    threads: int
    num_gpus: float
    num_cpus: float
    actor: Any = None
    ready_ref: Any = None
    created: float = field(default_factory=time.monotonic)
    ready: bool = False
    gpu: int | None = None
    label: str = ""
    pretend: bool = False
    pid: int | None = None
    pid_started: float | None = None
    job_id: int | None = None
    run_dir: str = ""
    runs_dir: str = ""
    stream: Any = None
    kill_reason: str | None = None
    unclear: tuple[float, str] | None = None   # (when, error): the stream broke, the cause is not known yet
    lost: bool = False
    problem: str | None = None
    stats: dict = field(default_factory=dict)
    stats_ref: Any = None
    stats_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None


class RayExecutor:
    def __init__(self, target: str, *, gpu_slots: int | None = None, cpu_slots: int | None = None,
                 preload_data: str | None = None, ready_timeout_s: float = 180.0, scratch: str | None = None):
        self.target = target
        self.gpu_slots, self.cpu_slots = gpu_slots or 1, cpu_slots
        self.preload_data = preload_data
        self.ready_timeout_s = ready_timeout_s
        self.scratch = scratch
        self.pretend = bool(os.environ.get("MNISTLAB_FAKE_GPUS", "").strip())
        self.nodes: dict[str, Node] = {}
        self.slot_list: list[RaySlot] = []
        self.data_refs: dict[str, Any] = {}
        self.events: list[Event] = []
        self.refreshed = 0.0
        self.stopping = False

    # -- slots ------------------------------------------------------------------------
    def start(self) -> None:
        options = {"namespace": "mnistlab", "log_to_driver": False, "logging_level": logging.WARNING}
        try:
            if self.target == "local":
                fake = os.environ.get("MNISTLAB_FAKE_GPUS", "").strip()
                ray.init(include_dashboard=False, num_gpus=int(fake) if fake.isdigit() else None, **options)
            else:
                ray.init(address=self.target, **options)
        except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError...
            where = "a local Ray" if self.target == "local" else f"the Ray cluster at {self.target}"
            raise InputError(f"cannot connect to {where}: {_why(exc)}") from None
        self._refresh()
        log.info("ray: %d node(s), %d slot(s)", len(self.nodes), len(self.slot_list))

    def _refresh(self) -> None:
        """Read the node list: slots for nodes that joined, lost slots for nodes that died."""
        self.refreshed = time.monotonic()
        try:
            nodes = ray.nodes()
        except Exception as exc:  # noqa: BLE001 - the GCS is briefly unreachable: try again next time
            log.warning("ray: cannot read the node list: %s", exc)
            return
        for info in sorted(nodes, key=lambda n: ("node:__internal_head__" not in n["Resources"], n["NodeID"])):
            node = self.nodes.get(info["NodeID"])
            if node is None and info["Alive"]:
                node = self.nodes[info["NodeID"]] = _node(info, sum(1 for n in self.nodes.values() if n.has_slots))
                self._add_slots(node)
                log.info("ray: node %s joined with %d GPU(s), labels %s", node.describe(), node.gpus,
                         ", ".join(node.labels) or "none")
            elif node is not None and node.alive and not info["Alive"]:
                self._node_lost(node, info.get("DeathReasonMessage") or "Ray marked it dead")

    def _add_slots(self, node: Node) -> None:
        if node.gpus:
            count = node.gpus * self.gpu_slots
            threads = max(1, node.cpus // count)
            for k in range(count):
                self._start_actor(RaySlot(f"{node.short}.slot{k}", node, True, threads, 1 / self.gpu_slots, 0))
        elif node.cpus:
            count = self.cpu_slots or max(1, node.cpus // 4)
            threads = max(1, node.cpus // count)
            for k in range(count):
                self._start_actor(RaySlot(f"{node.short}.cpu{k}", node, False, threads, 0, min(threads, node.cpus)))

    def _start_actor(self, slot: RaySlot) -> None:
        if slot not in self.slot_list:
            self.slot_list.append(slot)
        if self.stopping:
            return
        slot.actor = RemoteSlot.options(
            num_gpus=slot.num_gpus, num_cpus=slot.num_cpus, name=None,
            scheduling_strategy=NodeAffinitySchedulingStrategy(slot.node.id, soft=False),
        ).remote(slot.threads, slot.gpu_slot, self.pretend, os.environ.get("MNISTLAB_KINDS"), self.scratch)
        slot.ready_ref = slot.actor.ready.remote(self.preload_data)
        slot.created, slot.ready, slot.restart_at = time.monotonic(), False, None
        slot.kill_reason = slot.unclear = slot.stats_ref = slot.pid = slot.pid_started = None
        slot.stats = {}

    def slots(self) -> list[SlotState]:
        return [SlotState(
            s.name, s.label or f"{'gpu' if s.gpu_slot else 'cpu'} on {s.node.short} (starting)", s.gpu, s.pretend,
            s.threads, ready=s.ready and not s.lost, job_id=s.job_id, worker_pid=s.pid, worker_started=s.pid_started,
            problem=s.problem, node=s.node.id, host=s.node.host, labels=list(s.node.labels), lost=s.lost,
            gpu_name=s.stats.get("gpu_name"), gpu_util=s.stats.get("gpu_util"),
            gpu_mem_used_mb=s.stats.get("gpu_mem_used_mb"), gpu_mem_total_mb=s.stats.get("gpu_mem_total_mb"))
            for s in self.slot_list]

    # -- jobs -------------------------------------------------------------------------
    def run(self, slot: str, order: JobOrder) -> None:
        s = next((x for x in self.slot_list if x.name == slot), None)
        if s is None or not s.ready or s.lost or s.job_id is not None:
            raise SlotUnavailable(f"slot {slot} cannot take a job now")
        files = _folder_files(Path(order.run_dir))  # a checkpoint to resume from, files of earlier attempts
        data = [self._data_ref(order.data)]
        sent = {k: v for k, v in order.to_json().items() if k not in ("run_dir", "runs_dir")}
        s.stream = s.actor.run.options(num_returns="streaming").remote(sent, files, data)
        s.job_id, s.run_dir, s.runs_dir = order.id, order.run_dir, order.runs_dir

    def _data_ref(self, data: dict):
        """The engine's copy of the job's data set in the object store (put once per set and folder), for
        nodes that lack it. The engine verified it (`data`'s checksums); a node checks them again."""
        folder, name = data.get("folder"), data.get("name", DEFAULT)
        key = data_key(data)
        if key not in self.data_refs:
            paths = [find_file(Path(folder), file) for file in file_names(name).values()] if folder else [None]
            try:  # a file missing here too: a node must have its own copy
                files = {p.name: p.read_bytes() for p in paths} if all(paths) else None
            except OSError:
                files = None
            self.data_refs[key] = ray.put(files) if files else None
        return self.data_refs[key]

    def _busy(self, job_id: int) -> RaySlot | None:
        return next((s for s in self.slot_list if s.job_id == job_id), None)

    def cancel(self, job_id: int) -> None:
        s = self._busy(job_id)
        if s is not None:
            s.actor.cancel.remote(job_id)

    def kill(self, job_id: int, reason: str) -> None:
        s = self._busy(job_id)
        if s is not None and s.kill_reason is None:
            s.kill_reason = reason
            _kill_quietly(s.actor)

    # -- what happened ------------------------------------------------------------------
    def poll(self, timeout: float) -> list[Event]:
        waitables = [s.stream for s in self.slot_list if s.stream is not None]
        waitables += [s.ready_ref for s in self.slot_list if s.ready_ref is not None]
        waitables += [s.stats_ref for s in self.slot_list if s.stats_ref is not None]
        due = [self.refreshed + REFRESH_S] + [s.restart_at for s in self.slot_list if s.restart_at is not None]
        timeout = max(0.0, min([timeout] + [t - time.monotonic() for t in due]))
        if waitables:
            ray.wait(waitables, num_returns=1, timeout=timeout)
        elif timeout > 0:
            time.sleep(timeout)
        for s in list(self.slot_list):
            if s.stream is not None:
                self._drain(s)
            if s.ready_ref is not None:
                self._check_ready(s)
            if s.stats_ref is not None:
                self._check_stats(s)
        if self.stopping:
            return self._final()
        self._watch()
        events, self.events = self.events, []
        return events

    def _drain(self, s: RaySlot) -> None:
        while s.stream is not None:
            if not ray.wait([s.stream], timeout=0)[0]:
                return
            try:
                message = decode(ray.get(next(s.stream)))
            except StopIteration:
                s.stream = None
                if s.job_id is not None:  # the stream ended without the job's result
                    self._lost(s, "the slot actor ended the job's stream without its result")
                return
            except ReportError as exc:
                self._fail(s, str(exc))
                return
            except ray.exceptions.RayError as exc:
                self._broken(s, exc)
                return
            self._on_message(s, message)

    def _on_message(self, s: RaySlot, message: list) -> None:
        if message[0] == "events" and s.job_id is not None:
            batch = []
            for name, payload in message[1]:
                try:
                    if name == "artifact":
                        self._store_file(s, payload)
                    elif name == "need_input":
                        self._send_input(s, payload)
                        continue
                except Exception as exc:  # noqa: BLE001 - this job fails with it, the engine and the slot go on
                    what = (f"store file {payload.get('path')!r} of this job" if name == "artifact" else
                            f"send file {payload.get('file')!r} of run {payload.get('run')} to this job")
                    self._fail(s, f"the engine could not {what}: {type(exc).__name__}: {exc}")
                    return
                batch.append((name, payload))
            if batch:
                self.events.append(Reports(s.job_id, batch))
        elif message[0] == "ended" and s.job_id is not None:
            _, status, result, reason, stats = message
            self.events.append(JobEnded(s.job_id, status, result, reason, {**stats, "node": s.node.id}))
            s.job_id, s.stream = None, None

    def _store_file(self, s: RaySlot, payload: dict) -> None:
        data = payload.pop("data")
        name = payload["path"]
        if not plain_name(name):
            raise ValueError(f"{name!r} is not a plain file name")
        digest = sha256(data)
        if digest != payload["meta"].get("sha256"):
            raise ValueError(f"its bytes arrived damaged (SHA-256 {digest[:12]}..., the node wrote "
                             f"{str(payload['meta'].get('sha256'))[:12]}...)")
        write_private(Path(s.run_dir) / name, data)

    def _send_input(self, s: RaySlot, payload: dict) -> None:
        run, filename = int(payload["run"]), str(payload["file"])
        path = Path(s.runs_dir) / str(run) / filename
        data = path.read_bytes() if run > 0 and plain_name(filename) and path.is_file() else None
        s.actor.provide.remote(s.job_id, run, filename, data)

    def _fail(self, s: RaySlot, reason: str) -> None:
        """The job fails with `reason`; its actor is replaced (its stream may be half-read)."""
        log.error("slot %s: job %s: %s", s.name, s.job_id, reason)
        if s.job_id is not None:
            self.events.append(JobEnded(s.job_id, "failed", None, reason, {}))
        s.job_id, s.stream, s.kill_reason = None, None, "replaced after a job it ran could not be stored"
        _kill_quietly(s.actor)
        self._start_actor(s)

    def _broken(self, s: RaySlot, exc: Exception) -> None:
        """The job's stream broke: the actor was killed, died, or its node is gone (or not answering)."""
        text = _why(exc)
        s.stream = None
        self._refresh()
        if s.lost:
            return  # _refresh saw the node die and reported the job
        if s.kill_reason is not None:
            self._lost(s, s.kill_reason)
        elif "node has died" in str(exc):
            self._node_lost(s.node, text)
        elif isinstance(exc, ActorDied) and not isinstance(exc, ActorUnavailable):
            self._lost(s, f"slot actor died: {text}")
        else:  # unavailable: a dead node, or a dead actor whose death Ray has not confirmed yet
            s.unclear = (time.monotonic(), text)
            return
        if not s.lost:
            self._start_actor(s)

    def _lost(self, s: RaySlot, reason: str) -> None:
        if s.job_id is not None:
            self.events.append(JobLost(s.job_id, reason))
            log.warning("slot %s: job %d lost: %s", s.name, s.job_id, reason)
        s.job_id, s.stream, s.ready, s.unclear = None, None, False, None

    def _node_lost(self, node: Node, why: str) -> None:
        node.alive = False
        log.error("ray: node %s lost: %s", node.describe(), why)
        for s in self.slot_list:
            if s.node is node and not s.lost:
                self._lost(s, f"node {node.describe()} lost: {why}")
                s.lost, s.ready_ref, s.stats_ref = True, None, None
                s.problem = f"node lost at {time.strftime('%H:%M:%S')}: {why}"

    def _check_ready(self, s: RaySlot) -> None:
        if not ray.wait([s.ready_ref], timeout=0)[0]:
            return
        ref, s.ready_ref = s.ready_ref, None
        try:
            info = ray.get(ref)
        except ray.exceptions.RayError as exc:
            _kill_quietly(s.actor)  # its ready() failed (say, torch would not import): the actor is no use
            self._refresh()
            if not s.lost:
                self._retry_later(s, f"its actor did not start: {_why(exc)}")
            return
        s.ready, s.failures, s.problem = True, 0, None
        s.pid, s.pid_started, s.gpu, s.pretend = info["pid"], info["started"], info["gpu"], info["pretend"]
        s.stats = {"gpu_name": info["gpu_name"]} if info["gpu_name"] else {}
        s.stats_at = time.monotonic()
        if s.gpu_slot:
            s.name = self._unique(f"{s.node.short}.gpu{info['gpu']}", s)
            s.label = (f"gpu {info['gpu']} ({info['gpu_name']}{', runs on cpu' if s.pretend else ''}) "
                       f"on {s.node.short} {s.node.host}")
        else:
            s.label = f"cpu ({s.threads} threads) on {s.node.short} {s.node.host}"
        if info.get("code") != code_version():
            log.warning("slot %s runs mnistlab %s, the engine %s", s.name, info.get("code"), code_version())
        log.info("slot %s ready: actor %d, %s", s.name, s.pid, s.label)
        self.events.append(SlotReady(s.name))

    def _unique(self, name: str, own: RaySlot) -> str:
        taken = {x.name for x in self.slot_list if x is not own}
        if name not in taken:
            return name
        return next(f"{name}.{k}" for k in range(1, len(taken) + 2) if f"{name}.{k}" not in taken)

    def _check_stats(self, s: RaySlot) -> None:
        if not ray.wait([s.stats_ref], timeout=0)[0]:
            return
        ref, s.stats_ref = s.stats_ref, None
        try:
            s.stats.update(ray.get(ref))
        except ray.exceptions.RayError as exc:
            if s.job_id is None and not s.lost and not self.stopping:  # an idle actor died (a busy one: its stream)
                self._refresh()
                if not s.lost:
                    log.warning("slot %s: idle actor ended: %s", s.name, _why(exc))
                    s.ready = False
                    self._start_actor(s)

    def _retry_later(self, s: RaySlot, why: str) -> None:
        s.failures += 1
        pause = BACKOFF_S[min(s.failures, len(BACKOFF_S)) - 1]
        s.problem = f"{why}; starting again in {pause} s (failed {s.failures} time(s))"
        s.restart_at, s.ready, s.actor = time.monotonic() + pause, False, None
        log.error("slot %s: %s", s.name, s.problem)

    def _watch(self) -> None:
        now = time.monotonic()
        if now - self.refreshed >= REFRESH_S:
            self._refresh()
        for s in self.slot_list:
            if s.lost:
                continue
            if s.unclear is not None and now - s.unclear[0] > LOSS_GRACE_S:
                _kill_quietly(s.actor)
                self._lost(s, f"slot actor on node {s.node.describe()} unreachable: {s.unclear[1]}")
                self._start_actor(s)
            elif s.ready_ref is not None and now - s.created > self.ready_timeout_s:
                _kill_quietly(s.actor)
                s.ready_ref = None
                self._retry_later(s, f"its actor did not report ready within {self.ready_timeout_s:.0f} s "
                                     "(is its node short of memory or GPUs, or is mnistlab missing there?)")
            elif s.restart_at is not None and now >= s.restart_at:
                self._start_actor(s)
            elif s.ready and s.stats_ref is None and now - s.stats_at >= STATS_S:
                s.stats_at, s.stats_ref = now, s.actor.stats.remote()

    # -- the end ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every actor; the next poll returns what already arrived, a JobLost per running job, and
        disconnects from Ray (a private `local` Ray stops with it)."""
        self.stopping = True
        for s in self.slot_list:
            if s.actor is not None and not s.lost:
                s.kill_reason = "the engine was stopped"
                _kill_quietly(s.actor)

    def _final(self) -> list[Event]:
        for s in self.slot_list:
            self._lost(s, "the engine was stopped")
        events, self.events = self.events, []
        if ray.is_initialized():
            ray.shutdown()
        return events


def _node(info: dict, numbered: int) -> Node:
    """A node as this engine names it: n1, n2, ... count the nodes with slots (a head without CPUs has none)."""
    resources, labels = info.get("Resources", {}), info.get("Labels") or {}
    names = [r for r in resources if r not in STANDARD_RESOURCES and not r.startswith(INTERNAL_PREFIXES)
             and "_group_" not in r]
    names += [f"{k}={v}" for k, v in labels.items() if not k.startswith(INTERNAL_PREFIXES)]
    host = info.get("NodeManagerHostname") or info.get("NodeManagerAddress") or "?"
    if info.get("NodeManagerAddress") and info["NodeManagerAddress"] != host:
        host = f"{host} {info['NodeManagerAddress']}"
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
    return Node(info["NodeID"], f"n{numbered + 1}" if gpus or cpus else "head", host, sorted(names), gpus, cpus)


def _kill_quietly(actor) -> None:
    try:
        ray.kill(actor, no_restart=True)
    except Exception:  # noqa: BLE001 - gone already
        pass


def _folder_files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and plain_name(p.name)}


def _why(exc: Exception) -> str:
    """Ray's multi-line error as one line: the sentence that says why."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    line = next((x for x in lines if "because" in x), lines[0] if lines else type(exc).__name__)
    line = line.split(" Some common causes")[0].removeprefix("The actor is dead because ")
    return line.removeprefix("The actor died because ")[:300]

