"""The engine: one process per data folder that runs queued jobs on device slots.

It holds the data folder's lock, keeps one warm worker process per slot,
claims queued jobs (priority, then FIFO), hands them to free workers, and
writes everything the workers report into the store. It never trusts that
it ended cleanly: on start it recovers jobs a dead engine left 'running'.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from engine import worker
from engine.devices import Slot
from engine.lock import EngineLock
from engine.scheduler import plan
from jobs.kinds import get_kind
from runs.engine_store import EngineStore, Event

log = logging.getLogger("mnistlab.engine")

SIGNAL_NAMES = {signal.SIGKILL: "SIGKILL (kill -9, or the out-of-memory killer)",
                signal.SIGSEGV: "SIGSEGV (segmentation fault)", signal.SIGTERM: "SIGTERM",
                signal.SIGABRT: "SIGABRT (abort)", signal.SIGBUS: "SIGBUS"}


def exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker process vanished"
    if exitcode < 0:
        sig = signal.Signals(-exitcode)
        return f"worker process killed by signal {-exitcode} {SIGNAL_NAMES.get(sig, sig.name)}"
    return f"worker process exited with code {exitcode}"


@dataclass
class Worker:
    slot: Slot
    process: multiprocessing.process.BaseProcess
    conn: Connection
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    job_id: int | None = None
    last_beat: float = field(default_factory=time.monotonic)
    cancel_deadline: float | None = None
    kill_reason: str | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def state(self) -> dict:
        return {"name": self.slot.name, "label": self.slot.label, "gpu": self.slot.gpu,
                "pretend": self.slot.pretend, "threads": self.slot.threads, "worker_pid": self.pid,
                "ready": self.ready, "job_id": self.job_id}


class Engine:
    def __init__(self, home: str | Path, slots: list[Slot], *, preload_data: str | None = None,
                 poll_s: float = 0.1, flush_s: float = 0.25, hang_timeout_s: float = 300.0,
                 cancel_grace_s: float = 3.0):
        self.store = EngineStore(home)
        self.slots = slots
        self.preload_data = preload_data
        self.poll_s, self.flush_s = poll_s, flush_s
        self.hang_timeout_s, self.cancel_grace_s = hang_timeout_s, cancel_grace_s
        self.lock = EngineLock(self.store.paths.engine_lock)
        self.spawn = multiprocessing.get_context("spawn")
        self.workers: dict[str, Worker] = {}
        self.events: list[Event] = []
        self.stopping = False
        self._data_version = -1
        self._last = {"look": 0.0, "schedule": 0.0, "flush": 0.0, "beat": 0.0}
        self._restarts: dict[str, int] = {}

    # -- lifecycle -----------------------------------------------------------------
    def serve(self) -> int:
        if not self.lock.acquire():
            log.error("another engine holds %s; not starting a second one", self.lock.path)
            return 3
        try:
            self.store.paths.runs.mkdir(parents=True, exist_ok=True)
            self.recover()
            for slot in self.slots:
                self.start_worker(slot)
            from engine.version import code_version
            self.store.engine_started(os.getpid(), self.slot_states(),
                                      {"home": str(self.store.paths.root), "code": code_version(),
                                       "preload_data": self.preload_data})
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
            log.info("engine %d serving %s on %s", os.getpid(), self.store.paths.root,
                     ", ".join(s.label for s in self.slots))
            while not self.stopping:
                self.tick()
        finally:
            self.shutdown()
            self.lock.release()
        return 0

    def _stop(self, signum, _frame) -> None:
        self.stopping = True

    def start_worker(self, slot: Slot) -> None:
        parent, child = self.spawn.Pipe(duplex=True)
        process = self.spawn.Process(
            target=worker.main, name=f"mnistlab-worker-{slot.name}", daemon=True,
            args=(child, slot.env(), slot.threads, slot.label, slot.torch_device, self.preload_data))
        process.start()
        child.close()
        self.workers[slot.name] = Worker(slot, process, parent)

    def recover(self) -> None:
        """Jobs left 'running' by an engine that died: requeue them, or fail them past max_attempts."""
        for job in self.store.running():
            _kill_orphan(job.worker_pid)
            lost = self.store.lost_attempts(job.id) + 1
            if lost >= job.max_attempts:
                reason = (f"lost when the engine died, {lost} time(s) (max_attempts {job.max_attempts}); "
                          f"`mnistlab retry {job.id}` resumes it from its last checkpoint")
                self.store.finish(job.id, "failed", reason, outcome="lost")
                log.warning("job %d failed: %s", job.id, reason)
            else:
                reason = f"requeued: the engine died while it ran (attempt {job.attempts} of {job.max_attempts})"
                self.store.requeue(job.id, reason, outcome="lost")
                log.warning("job %d %s", job.id, reason)

    def shutdown(self) -> None:
        for w in self.workers.values():
            if w.job_id is not None:
                w.process.kill()
        for w in self.workers.values():
            if w.process.is_alive() and w.job_id is None:
                try:
                    w.conn.send(("stop",))
                except OSError:
                    pass
        deadline = time.monotonic() + 3
        for w in self.workers.values():
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1)
            self._drain(w)
        self.flush()
        for w in self.workers.values():
            if w.job_id is not None:
                self.store.requeue(w.job_id, "requeued: the engine was stopped; it resumes from its last checkpoint",
                                   outcome="interrupted")
        self.store.engine_stopped()
        log.info("engine %d stopped", os.getpid())

    # -- the loop --------------------------------------------------------------------
    def tick(self) -> None:
        live = [w for w in self.workers.values() if w.process.exitcode is None]
        waitables = [w.conn for w in live] + [w.process.sentinel for w in live]
        wait(waitables, timeout=self.poll_s)
        for w in list(self.workers.values()):
            self._drain(w)
            if w.process.exitcode is not None:
                self.on_worker_exit(w)
        now = time.monotonic()
        if now - self._last["look"] >= self.poll_s:  # not on every wake-up: messages wake us often
            self._last["look"] = now
            version = self.store.data_version()
            if version != self._data_version or now - self._last["schedule"] > 1.0:
                self._data_version = version
                self._last["schedule"] = now
                self.check_cancels()
                self.schedule()
        if self.events and now - self._last["flush"] > self.flush_s:
            self.flush()
        if now - self._last["beat"] > 1.0:
            self._last["beat"] = now
            self.flush()
            self.store.heartbeat([w.job_id for w in self.workers.values() if w.job_id is not None])
            self.store.engine_heartbeat(self.slot_states())
            self.watchdog(now)

    def _drain(self, w: Worker) -> None:
        try:
            while w.conn.poll():
                self.on_message(w, w.conn.recv())
        except (EOFError, OSError):
            pass

    def on_message(self, w: Worker, message: tuple) -> None:
        kind = message[0]
        w.last_beat = time.monotonic()
        if kind == "events":
            _, job_id, batch = message
            if any(name == "progress" for name, _ in batch):  # only the latest progress of a job matters
                self.events = [e for e in self.events if not (e[0] == job_id and e[1] == "progress")]
                last = max(i for i, (name, _) in enumerate(batch) if name == "progress")
                batch = [e for i, e in enumerate(batch) if e[0] != "progress" or i == last]
            self.events.extend((job_id, name, payload) for name, payload in batch)
        elif kind == "ready":
            w.ready = True
            self._restarts[w.slot.name] = 0
            log.info("worker %d ready on %s", w.pid, w.slot.label)
            self.schedule_soon()
        elif kind == "finished":
            _, job_id, status, result, reason, stats = message
            self.events.append((job_id, "repro", {"facts": {"worker": stats}}))
            self.flush()
            headline = None
            if result is not None:
                headline = result.get(get_kind(self.store.job(job_id).kind).headline)
            self.store.finish(job_id, status, reason, result, headline)
            log.info("job %d %s%s", job_id, status, f": {reason}" if reason else "")
            w.job_id, w.cancel_deadline = None, None
            self.schedule_soon()

    def schedule_soon(self) -> None:
        self._last["look"] = self._last["schedule"] = 0.0

    def on_worker_exit(self, w: Worker) -> None:
        reason = w.kill_reason or exit_reason(w.process.exitcode)
        w.conn.close()
        del self.workers[w.slot.name]
        if w.job_id is not None:
            self.flush()
            cancelled = w.cancel_deadline is not None
            status = "cancelled" if cancelled else "failed"
            self.store.finish(w.job_id, status, reason, outcome=status)
            log.warning("job %d %s: %s", w.job_id, status, reason)
        elif not self.stopping:
            log.warning("idle worker on %s ended: %s", w.slot.label, reason)
        if self.stopping:
            return
        restarts = self._restarts.get(w.slot.name, 0)
        if not w.ready and restarts >= 3:
            log.error("worker on %s failed to start %d times; the slot stays empty", w.slot.label, restarts)
            return
        self._restarts[w.slot.name] = restarts + (0 if w.ready else 1)
        self.start_worker(w.slot)

    def schedule(self) -> None:
        queued = self.store.queued()
        if not queued:
            return
        free = [w.slot for w in self.workers.values() if w.ready and w.job_id is None]
        busy = {w.slot.name: w.job_id for w in self.workers.values() if w.job_id is not None}
        deps = self.store.statuses({d for j in queued for d in j.depends_on})
        decided = plan(queued, free, self.slots, busy, deps)
        for job, reason in decided.fail:
            self.store.finish(job.id, "failed", reason, outcome="failed")
            log.info("job %d failed: %s", job.id, reason)
        for job, slot in decided.assign:
            w = self.workers[slot.name]
            claimed = self.store.claim(job.id, slot.name, slot.label, w.pid)
            if claimed is None:
                continue
            w.job_id, w.cancel_deadline = job.id, None
            w.conn.send(("run", {
                "id": job.id, "kind": job.kind, "spec": job.spec, "attempt": claimed.attempts,
                "artifact_dir": str(self.store.paths.artifacts(job.id)),
                "data_dir": job.data_dir or self.preload_data}))
            log.info("job %d (%s %s) -> %s", job.id, job.kind, job.short_spec(), slot.label)
        self.store.set_wait_reasons(decided.waits)

    def check_cancels(self) -> None:
        wanted = {r[0] for r in self.store.query(
            "SELECT id FROM jobs WHERE status = 'running' AND cancel_requested = 1")}
        for w in self.workers.values():
            if w.job_id in wanted and w.cancel_deadline is None:
                w.cancel_deadline = time.monotonic() + self.cancel_grace_s
                w.conn.send(("cancel", w.job_id))
                log.info("job %d: cancel sent to worker %d", w.job_id, w.pid)

    def watchdog(self, now: float) -> None:
        for w in self.workers.values():
            if w.cancel_deadline is not None and now > w.cancel_deadline and w.kill_reason is None:
                w.kill_reason = f"cancelled: the worker did not stop within {self.cancel_grace_s:.0f} s and was killed"
                w.process.kill()
            elif w.ready and now - w.last_beat > self.hang_timeout_s and w.kill_reason is None:
                w.kill_reason = f"worker stopped responding (no heartbeat for {self.hang_timeout_s:.0f} s) and was killed"
                w.process.kill()

    def flush(self) -> None:
        if self.events:
            batch, self.events = self.events, []
            self.store.apply_events(batch)
        self._last["flush"] = time.monotonic()

    def slot_states(self) -> list[dict]:
        states = {w.slot.name: w.state() for w in self.workers.values()}
        return [states.get(s.name, {"name": s.name, "label": s.label, "gpu": s.gpu, "pretend": s.pretend,
                                    "threads": s.threads, "worker_pid": None, "ready": False, "job_id": None})
                for s in self.slots]


def _kill_orphan(pid: int | None) -> None:
    """A worker of a dead engine may still run (without PR_SET_PDEATHSIG); stop it."""
    if not pid:
        return
    try:
        import psutil

        proc = psutil.Process(pid)
        if "multiprocessing" in " ".join(proc.cmdline()):
            proc.kill()
    except Exception:  # gone already, or not ours to touch
        pass
