"""The default executor: one spawn'd worker process per device slot on this machine.

It keeps a warm worker per slot (torch imported, data in memory), hands it
one job at a time over a pipe, and turns what comes back into the events of
`engine.executor`. A worker that dies is started again; one that never
reports ready, or stops answering, is killed and started again with a
growing pause, and its slot says why.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from engine import worker
from engine.devices import Slot
from engine.executor import Event, JobEnded, JobLost, JobOrder, Reports, SlotReady, SlotState, SlotUnavailable
from engine.protocol import ReportError, decode

log = logging.getLogger("mnistlab.engine")

SIGNAL_NAMES = {signal.SIGKILL: "SIGKILL (kill -9, or the out-of-memory killer)",
                signal.SIGSEGV: "SIGSEGV (segmentation fault)", signal.SIGTERM: "SIGTERM",
                signal.SIGABRT: "SIGABRT (abort)", signal.SIGBUS: "SIGBUS"}
BACKOFF_S = (1, 2, 5, 10, 30, 60)


def exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker process vanished"
    if exitcode < 0:
        try:
            sig = signal.Signals(-exitcode)
            name = SIGNAL_NAMES.get(sig, sig.name)
        except ValueError:
            name = "unknown signal"
        return f"worker process killed by signal {-exitcode} {name}"
    return f"worker process exited with code {exitcode}"


def process_start_time(pid: int | None) -> float | None:
    try:
        import psutil

        return psutil.Process(pid).create_time() if pid else None
    except Exception:  # noqa: BLE001 - gone already
        return None


@dataclass
class LocalWorker:
    slot: Slot
    process: multiprocessing.process.BaseProcess
    conn: Connection
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    job_id: int | None = None
    last_message: float = field(default_factory=time.monotonic)
    kill_reason: str | None = None
    process_started: float | None = None


class LocalExecutor:
    def __init__(self, slots: list[Slot], *, preload_data: str | None = None, ready_timeout_s: float = 180.0,
                 hang_timeout_s: float = 300.0):
        self.slot_list = slots
        self.preload_data = preload_data
        self.ready_timeout_s, self.hang_timeout_s = ready_timeout_s, hang_timeout_s
        self.spawn = multiprocessing.get_context("spawn")
        self.workers: dict[str, LocalWorker] = {}
        self.problems: dict[str, str] = {}
        self.failed_starts: dict[str, int] = {}
        self.restart_at: dict[str, float] = {}  # slot -> when its next worker may start
        self.stopping = False

    # -- slots ------------------------------------------------------------------------
    def start(self) -> None:
        for slot in self.slot_list:
            self._start_worker(slot)

    def _start_worker(self, slot: Slot) -> None:
        parent, child = self.spawn.Pipe(duplex=True)
        process = self.spawn.Process(
            target=worker.main, name=f"mnistlab-worker-{slot.name}", daemon=True,
            args=(child, slot.env(), slot.threads, slot.label, slot.torch_device, self.preload_data))
        process.start()
        child.close()
        self.workers[slot.name] = LocalWorker(slot, process, parent, process_started=process_start_time(process.pid))
        self.restart_at.pop(slot.name, None)

    def slots(self) -> list[SlotState]:
        out = []
        for slot in self.slot_list:
            w = self.workers.get(slot.name)
            out.append(SlotState(
                slot.name, slot.label, slot.gpu, slot.pretend, slot.threads,
                ready=bool(w and w.ready), job_id=w.job_id if w else None,
                worker_pid=w.process.pid if w else None, worker_started=w.process_started if w else None,
                problem=self.problems.get(slot.name)))
        return out

    # -- jobs -------------------------------------------------------------------------
    def run(self, slot: str, order: JobOrder) -> None:
        w = self.workers.get(slot)
        if w is None or not w.ready or w.job_id is not None:
            raise SlotUnavailable(f"slot {slot} cannot take a job now")
        try:
            w.conn.send(("run", order.to_json()))
        except (OSError, ValueError) as exc:  # BrokenPipe: it died a moment ago
            raise SlotUnavailable(f"the worker of {w.slot.label} died before it took the job ({exc})") from None
        w.job_id = order.id

    def _worker_of(self, job_id: int) -> LocalWorker | None:
        return next((w for w in self.workers.values() if w.job_id == job_id), None)

    def cancel(self, job_id: int) -> None:
        w = self._worker_of(job_id)
        if w is not None:
            try:
                w.conn.send(("cancel", job_id))
            except (OSError, ValueError):
                pass  # it is dying: its exit is noticed by poll()

    def kill(self, job_id: int, reason: str) -> None:
        w = self._worker_of(job_id)
        if w is not None and w.kill_reason is None:
            w.kill_reason = reason
            w.process.kill()

    # -- what happened ------------------------------------------------------------------
    def poll(self, timeout: float) -> list[Event]:
        live = [w for w in self.workers.values() if w.process.exitcode is None]
        waitables = [w.conn for w in live] + [w.process.sentinel for w in live]
        timeout = min([timeout] + [max(0.0, t - time.monotonic()) for t in self.restart_at.values()])
        if waitables:
            wait(waitables, timeout=timeout)
        elif timeout > 0:
            time.sleep(timeout)
        events: list[Event] = []
        for w in list(self.workers.values()):
            events += self._drain(w)
            if w.process.exitcode is not None:
                events += self._on_exit(w)
        self._watch(events)
        return events

    def _drain(self, w: LocalWorker) -> list[Event]:
        events: list[Event] = []
        try:
            while w.conn.poll():
                data = w.conn.recv_bytes()
                w.last_message = time.monotonic()
                try:
                    message = decode(data)
                except ReportError as exc:
                    events += self._unreadable(w, str(exc))
                    continue
                events += self._on_message(w, message)
        except (EOFError, OSError):
            pass
        return events

    def _unreadable(self, w: LocalWorker, why: str) -> list[Event]:
        """A report that is not plain data fails the job it came from; the worker is replaced."""
        log.error("worker %s sent an unreadable report: %s", w.process.pid, why)
        if w.job_id is None:
            return []
        job_id, w.job_id = w.job_id, None
        w.kill_reason = "replaced after an unreadable report"
        w.process.kill()
        return [JobEnded(job_id, "failed", None, why, {})]

    def _on_message(self, w: LocalWorker, message: list) -> list[Event]:
        kind = message[0]
        if kind == "events" and message[1] == w.job_id:
            return [Reports(message[1], message[2])]
        if kind == "ready":
            w.ready = True
            self.failed_starts[w.slot.name] = 0
            self.problems.pop(w.slot.name, None)
            log.info("worker %d ready on %s", w.process.pid, w.slot.label)
            return [SlotReady(w.slot.name)]
        if kind == "ended" and message[1] == w.job_id:
            _, job_id, status, result, reason, stats = message
            w.job_id = None
            return [JobEnded(job_id, status, result, reason, stats)]
        return []  # heartbeats, and anything about a job this worker no longer runs

    def _on_exit(self, w: LocalWorker) -> list[Event]:
        reason = w.kill_reason or exit_reason(w.process.exitcode)
        w.conn.close()
        del self.workers[w.slot.name]
        events: list[Event] = [JobLost(w.job_id, reason)] if w.job_id is not None else []
        if self.stopping:
            return events
        if w.job_id is None and w.ready:
            log.warning("idle worker on %s ended: %s", w.slot.label, reason)
        if w.ready:
            self._start_worker(w.slot)
        else:
            self._retry_later(w.slot, f"its worker did not start: {reason}")
        return events

    def _retry_later(self, slot: Slot, why: str) -> None:
        failures = self.failed_starts.get(slot.name, 0) + 1
        self.failed_starts[slot.name] = failures
        pause = BACKOFF_S[min(failures, len(BACKOFF_S)) - 1]
        self.problems[slot.name] = f"{why}; starting again in {pause} s (failed {failures} time(s))"
        self.restart_at[slot.name] = time.monotonic() + pause
        log.error("slot %s: %s", slot.label, self.problems[slot.name])

    def _watch(self, events: list[Event]) -> None:
        now = time.monotonic()
        for w in list(self.workers.values()):
            if w.kill_reason is not None:
                continue
            if not w.ready and now - w.started > self.ready_timeout_s:
                w.kill_reason = f"did not report ready within {self.ready_timeout_s:.0f} s and was killed"
                w.process.kill()
            elif w.ready and now - w.last_message > self.hang_timeout_s:
                w.kill_reason = (f"worker stopped responding (no heartbeat for {self.hang_timeout_s:.0f} s) "
                                 "and was killed")
                w.process.kill()
        for slot in self.slot_list:
            due = self.restart_at.get(slot.name)
            if due is not None and now >= due and slot.name not in self.workers and not self.stopping:
                self._start_worker(slot)

    # -- the end ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every worker: idle ones are asked, busy ones killed (their last reports and a JobLost each
        come from the next `poll`)."""
        self.stopping = True
        for w in self.workers.values():
            if w.job_id is not None:
                w.process.kill()
            elif w.process.is_alive():
                try:
                    w.conn.send(("stop",))
                except (OSError, ValueError):
                    pass
        deadline = time.monotonic() + 3
        for w in self.workers.values():
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1)
