"""The engine: one process per data folder that runs queued jobs on an executor's slots.

It holds the data folder's lock, claims queued jobs (priority, then FIFO),
hands them to free slots through the executor (`engine.executor`), writes
everything the slots report into the store, and decides what happens to a
job that did not end by itself (requeue or fail, by its attempts). It never
trusts that it ended cleanly: on start it recovers jobs a dead engine left
'running'. Whatever goes wrong while it handles one job fails that job,
never the engine.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
from dataclasses import dataclass, field

from engine.devices import Slot
from engine.executor import Event, Executor, JobEnded, JobLost, JobOrder, Reports, SlotReady, SlotUnavailable
from engine.lock import EngineLock
from engine.scheduler import plan
from jobs import datasets
from jobs.datasets import DataError
from jobs.kinds import get_kind
from runs.engine_store import EngineStore
from runs.records import Job
from runs.paths import make_private_dir

log = logging.getLogger("mnistlab.engine")

DEFAULT_STALL_LIMIT_S = 600
SCHEDULE_PAGE = 64             # queued jobs read per page when looking for work
SCHEDULE_MAX_EXAMINED = 1024   # pages stop here: jobs further back wait their turn
IDENTITY_TTL_S = 60.0          # how long a verified data folder is trusted before it is looked at again
PROGRESS_EVENTS = ("progress", "metrics", "metrics_reset", "log", "table", "artifact")


@dataclass
class Running:
    """The engine's view of one job on a slot."""

    job_id: int
    slot: str
    stall_limit_s: float
    last_progress: float = field(default_factory=time.monotonic)
    cancel_deadline: float | None = None
    verdict: tuple[str, str] | None = None  # (status, reason) decided by the engine when it killed the job


class Engine:
    def __init__(self, home, slots: list[Slot], *, preload_data: str | None = None, executor: Executor | None = None,
                 poll_s: float = 0.1, flush_s: float = 0.25, cancel_grace_s: float = 3.0,
                 ready_timeout_s: float = 180.0, hang_timeout_s: float = 300.0):
        self.store = EngineStore(home)
        self.preload_data = preload_data
        if executor is None:
            from engine.local_executor import LocalExecutor

            executor = LocalExecutor(slots, preload_data=preload_data, ready_timeout_s=ready_timeout_s,
                                     hang_timeout_s=hang_timeout_s)
        self.executor = executor
        self.poll_s, self.flush_s, self.cancel_grace_s = poll_s, flush_s, cancel_grace_s
        self.lock = EngineLock(self.store.paths.engine_lock)
        self.running: dict[int, Running] = {}
        self.buffered: list[tuple[int, str, dict]] = []
        self.stopping = False
        self._data_version = -1
        self._dependents_seen: int | None = None
        self._identities: dict[tuple, tuple[float, dict]] = {}
        self._last = {"look": 0.0, "schedule": 0.0, "flush": 0.0, "beat": 0.0}

    # -- lifecycle -----------------------------------------------------------------
    def serve(self) -> int:
        os.umask(0o077)
        if not self.lock.acquire():
            log.error("another engine holds %s; not starting a second one", self.lock.path)
            return 3
        try:
            make_private_dir(self.store.paths.runs)
            sweep_temp_files(self.store.paths.runs)
            self.recover()
            self.executor.start()
            from engine.version import code_version
            self.store.engine_started(os.getpid(), self.slot_states(),
                                      {"home": str(self.store.paths.root), "code": code_version(),
                                       "preload_data": self.preload_data})
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
            log.info("engine %d serving %s on %s", os.getpid(), self.store.paths.root,
                     ", ".join(s.label for s in self.executor.slots()))
            while not self.stopping:
                self.tick()
        finally:
            self.shutdown()
            self.lock.release()
        return 0

    def _stop(self, signum, _frame) -> None:
        self.stopping = True

    def recover(self) -> None:
        """Jobs left 'running' by an engine that died: each death counts as an attempt of the job."""
        for job in self.store.running():
            _kill_orphan(job.worker_pid, job.worker_started)
            status = self.store.end_attempt(job.id, "lost", "the engine stopped while it ran (see engine.log)")
            log.warning("job %d was running when the engine stopped: now %s", job.id, status)

    def shutdown(self) -> None:
        self.stopping = True
        self.executor.shutdown()
        for event in self.executor.poll(0):
            if isinstance(event, (Reports, JobEnded)):
                self.handle(event)
        self.flush()
        for job_id in list(self.running):  # killed mid-job: back to the queue, not counted as an attempt
            self.guarded(job_id, lambda job_id=job_id: self.store.requeue(
                job_id, "the engine was stopped; it resumes from its last checkpoint"))
            self.running.pop(job_id, None)
        self.store.engine_stopped()
        log.info("engine %d stopped", os.getpid())

    # -- the loop --------------------------------------------------------------------
    def tick(self) -> None:
        for event in self.executor.poll(self.poll_s):
            self.handle(event)
        now = time.monotonic()
        if now - self._last["look"] >= self.poll_s:  # not on every wake-up: reports wake us often
            self._last["look"] = now
            version = self.store.data_version()
            if version != self._data_version or now - self._last["schedule"] > 1.0:
                self._data_version = version
                self._last["schedule"] = now
                self.check_cancels()
                self.schedule()
        if self.buffered and now - self._last["flush"] > self.flush_s:
            self.flush()
        if now - self._last["beat"] > 1.0:
            self._last["beat"] = now
            self.flush()
            self.store.heartbeat(list(self.running))
            self.store.engine_heartbeat(self.slot_states())
            self.watchdog(now)

    def handle(self, event: Event) -> None:
        job_id = getattr(event, "job_id", None)
        if isinstance(event, SlotReady):
            self.schedule_soon()
        elif job_id is not None and job_id in self.running:
            self.guarded(job_id, lambda: self._on_job_event(event))
        elif job_id is not None:
            log.info("ignored %s for job %d, which this engine no longer runs", type(event).__name__, job_id)

    def _on_job_event(self, event: Event) -> None:
        run = self.running[event.job_id]
        if isinstance(event, Reports):
            batch = [(name, payload) for name, payload in event.batch]
            if any(name in PROGRESS_EVENTS for name, _ in batch):
                run.last_progress = time.monotonic()
            if any(name == "progress" for name, _ in batch):  # only the latest progress of a job matters
                self.buffered = [e for e in self.buffered if not (e[0] == run.job_id and e[1] == "progress")]
                last = max(i for i, (name, _) in enumerate(batch) if name == "progress")
                batch = [e for i, e in enumerate(batch) if e[0] != "progress" or i == last]
            self.buffered.extend((run.job_id, name, payload) for name, payload in batch)
        elif isinstance(event, JobEnded):
            self.flush()
            if run.job_id not in self.running:  # its last reports could not be written: it failed for that
                return
            self.buffered.append((run.job_id, "repro", {"facts": {"worker": event.stats}}))
            self.flush()
            status, reason = run.verdict or (event.status, event.reason)
            headline = None
            if event.result is not None and status == "done":
                value = event.result.get(get_kind(self.store.job(run.job_id).kind).headline)
                headline = value if isinstance(value, (int, float)) else None
            self.store.finish(run.job_id, status, reason, event.result if status == "done" else None, headline)
            self._forget(run, status, reason)
        elif isinstance(event, JobLost):
            self.flush()
            if run.job_id not in self.running:
                return
            if run.verdict is not None:
                status, reason = run.verdict
                self.store.finish(run.job_id, status, reason, outcome=status)
            else:
                status, reason = self.store.end_attempt(run.job_id, "crashed", event.reason), event.reason
            self._forget(run, status, reason)

    def _forget(self, run: Running, status: str, reason: str | None) -> None:
        self.running.pop(run.job_id, None)
        log.info("job %d %s%s", run.job_id, status, f": {reason}" if reason else "")
        self.schedule_soon()

    def guarded(self, job_id: int, action) -> None:
        """Run `action` for one job; if it fails, that job fails with the error, and the engine goes on."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - one job's trouble never stops the engine
            reason = f"the engine could not handle this job's report ({type(exc).__name__}: {exc})"
            log.exception("job %d: %s", job_id, reason)
            self.fail_now(job_id, reason)

    def fail_now(self, job_id: int, reason: str) -> None:
        self.buffered = [e for e in self.buffered if e[0] != job_id]
        run = self.running.pop(job_id, None)
        if run is not None:
            self.executor.kill(job_id, reason)
        try:
            self.store.finish(job_id, "failed", reason, outcome="failed")
        except Exception:  # noqa: BLE001 - the store itself is failing: the log is all that is left
            log.exception("job %d: could not record its failure", job_id)

    def schedule_soon(self) -> None:
        self._last["look"] = self._last["schedule"] = 0.0

    def schedule(self) -> None:
        """Fill free slots with the best runnable jobs, reading the queue a page at a time.

        The cost of a decision depends on the free slots and on the jobs in front of the queue, not on
        its length: pages are read in the engine's order (priority, then FIFO) through the status index,
        only while slots stay free, and only the examined jobs get a wait reason (the rest wait their turn).
        """
        states = self.executor.slots()
        self.fail_dependents_of_failed(states)
        free = [s for s in states if s.ready and s.job_id is None and not self.stopping]
        busy = {s.name: s.job_id for s in states if s.job_id is not None}
        after, examined, waits = None, 0, {}
        while True:
            page = self.store.queued(limit=SCHEDULE_PAGE, after=after)
            examined += len(page)
            deps = self.store.statuses({d for j in page for d in j.depends_on})
            decided = plan(page, free, states, busy, deps)
            for job, reason in decided.fail:
                self.store.finish(job.id, "failed", reason, outcome="failed")
                log.info("job %d failed: %s", job.id, reason)
            for job, slot in decided.assign:
                free.remove(slot)
                self.guarded(job.id, lambda job=job, slot=slot: self.start_job(job, slot))
            current = {j.id: j.wait_reason for j in page}
            waits.update({i: r for i, r in decided.waits.items() if current[i] != r})
            if not free or len(page) < SCHEDULE_PAGE or examined >= SCHEDULE_MAX_EXAMINED:
                break
            after = (page[-1].priority, page[-1].id)
        self.store.set_wait_reasons(waits)

    def fail_dependents_of_failed(self, states) -> None:
        """A job waiting for one that failed or was cancelled fails at once, wherever it is in the queue
        (and so do the jobs waiting for it). Only jobs that changed since the last look are read."""
        seq = self.store.seq()
        if self._dependents_seen is None:  # at start: every queued job that waits for another
            waiting = self.store.query("SELECT * FROM jobs WHERE status = 'queued' AND depends_on != '[]'")
            candidates = [Job.from_row(r) for r in waiting]
        else:
            candidates = self.store.dependents(self.store.ended_badly_since(self._dependents_seen))
        self._dependents_seen = seq
        while candidates:
            deps = self.store.statuses({d for j in candidates for d in j.depends_on})
            failed = plan(candidates, [], states, {}, deps).fail
            for job, reason in failed:
                self.store.finish(job.id, "failed", reason, outcome="failed")
                log.info("job %d failed: %s", job.id, reason)
            candidates = self.store.dependents(job.id for job, _ in failed)

    def start_job(self, job, slot) -> None:
        claimed = self.store.claim(job.id, slot.name, slot.label, slot.worker_pid, slot.worker_started)
        if claimed is None:
            return
        try:
            data = self.data_identity(job)
        except DataError as exc:
            self.store.finish(job.id, "failed", str(exc), outcome="failed")
            return
        limit = job.spec.get("stall_limit_s") or _stall_default(job.kind)
        self.running[job.id] = Running(job.id, slot.name, float(limit))
        order = JobOrder(id=job.id, kind=job.kind, spec=job.spec, attempt=claimed.attempts,
                         run_dir=str(self.store.paths.artifacts(job.id)), runs_dir=str(self.store.paths.runs),
                         data=data)
        try:
            self.executor.run(slot.name, order)
        except SlotUnavailable as exc:
            del self.running[job.id]
            self.store.end_attempt(job.id, "crashed", str(exc))
            return
        log.info("job %d (%s %s) -> %s", job.id, job.kind, job.short_spec(), slot.label)

    def data_identity(self, job) -> dict:
        """The data set a job reads, as an identity a slot resolves to its own files: the set's name and the
        SHA-256 of each file, with the folder they were verified in here (a hint; a remote slot may keep its
        copy elsewhere). A kind without a data set gets only the folder."""
        folder = job.data_dir or self.preload_data
        try:
            field = get_kind(job.kind).field("dataset")
        except KeyError:
            return {"folder": folder}
        name = job.spec.get("dataset", field.default)
        key = (name, folder)
        cached = self._identities.get(key)
        if cached is None or time.monotonic() - cached[0] > IDENTITY_TTL_S:
            verified = datasets.verify(name, folder) if folder else datasets.find(name)
            cached = self._identities[key] = (time.monotonic(), {**verified.identity, "folder": str(verified.folder)})
        return cached[1]

    def check_cancels(self) -> None:
        wanted = {r[0] for r in self.store.query(
            "SELECT id FROM jobs WHERE status = 'running' AND cancel_requested = 1")}
        for job_id in wanted & set(self.running):
            run = self.running[job_id]
            if run.cancel_deadline is None:
                run.cancel_deadline = time.monotonic() + self.cancel_grace_s
                self.executor.cancel(job_id)
                log.info("job %d: cancel sent", job_id)

    def watchdog(self, now: float) -> None:
        for run in list(self.running.values()):
            if run.verdict is not None:
                continue
            if run.cancel_deadline is not None and now > run.cancel_deadline:
                run.verdict = ("cancelled", f"cancelled: the job did not stop within {self.cancel_grace_s:.0f} s "
                                            "and was killed")
            elif run.cancel_deadline is None and now - run.last_progress > run.stall_limit_s:
                run.verdict = ("failed", f"no progress for {run.stall_limit_s:.0f} s (stall_limit_s): the job was "
                                         "killed; raise stall_limit_s if it is slow rather than stuck")
            else:
                continue
            log.warning("job %d: %s", run.job_id, run.verdict[1])
            self.executor.kill(run.job_id, run.verdict[1])

    def flush(self) -> None:
        """Write the buffered reports in one transaction; if that fails, job by job, failing only the culprit."""
        self._last["flush"] = time.monotonic()
        if not self.buffered:
            return
        batch, self.buffered = self.buffered, []
        try:
            self.store.apply_events(batch)
            return
        except Exception:  # noqa: BLE001 - find the job whose reports cannot be written
            log.exception("writing %d reports failed; writing them job by job", len(batch))
        for job_id in dict.fromkeys(e[0] for e in batch):
            own = [e for e in batch if e[0] == job_id]
            self.guarded(job_id, lambda own=own: self.store.apply_events(own))

    def slot_states(self) -> list[dict]:
        return [s.to_json() for s in self.executor.slots()]


def _stall_default(kind: str) -> float:
    """For jobs queued before stall_limit_s was a spec field: their kind's default."""
    try:
        return float(get_kind(kind).field("stall_limit_s").default)
    except (KeyError, ValueError):
        return DEFAULT_STALL_LIMIT_S


def sweep_temp_files(runs_dir) -> int:
    """Half-written files left by a killed worker (`.NAME.PID.TID.tmp`; a finished write is renamed, so
    any temp file an engine finds at start belongs to nothing), and run folders a fresh retry discarded."""
    removed = 0
    for tmp in runs_dir.glob("*/.*.tmp*"):
        try:
            tmp.unlink()
            removed += 1
        except OSError:
            pass
    for folder in runs_dir.glob(".*.discarded-*"):  # `retry --fresh` moved it aside, then was killed
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    if removed:
        log.info("removed %d half-written temp file(s) under %s", removed, runs_dir)
    return removed


def _kill_orphan(pid: int | None, started: float | None) -> None:
    """A worker of a dead engine may still run (without PR_SET_PDEATHSIG); stop it, if it is that very process."""
    if not pid or started is None:
        return
    try:
        import psutil

        proc = psutil.Process(pid)
        if abs(proc.create_time() - started) < 0.01:
            proc.kill()
    except Exception:  # noqa: BLE001 - gone already, or not ours to touch
        pass
