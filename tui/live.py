"""The dashboard's view of the store, kept current by cheap looks.

Each look costs one `PRAGMA data_version` (changes only when another
connection commits); only then the store-wide change counter, and only if
that moved, the job rows changed since the last look (`jobs(since_seq=...)`).
Panes read their own details (metrics, logs) incrementally when a look says
something was committed. The engine's lock is probed every couple of
seconds, since a killed engine writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from engine.control import engine_pid
from runs.records import Job
from runs.store import Store

ENGINE_PROBE_S = 2.0


@dataclass
class Changes:
    jobs: set[int] = field(default_factory=set)      # rows that changed or appeared
    new: set[int] = field(default_factory=set)       # rows seen for the first time
    moved: bool = False     # a status or priority changed (or a job appeared): lists re-sort
    engine: bool = False    # the engine started or stopped
    data: bool = False      # another connection committed something (metrics, logs, tables...)

    def __bool__(self) -> bool:
        return bool(self.jobs or self.engine or self.data)


class Live:
    def __init__(self, store: Store):
        self.store = store
        self.jobs: dict[int, Job] = {}
        self.seq = -1
        self.data_version: int | None = None
        self.engine_pid: int | None = None
        self._engine_probed = 0.0
        self.error: str | None = None   # why the last look failed (shown, never raised)
        self.looks = 0                   # how many looks found something new (for tests and the bench)

    @property
    def engine_running(self) -> bool:
        return self.engine_pid is not None

    def poll(self, force: bool = False) -> Changes:
        """One look; `force` after this process wrote (its own commits do not move data_version)."""
        changes = Changes()
        now = time.monotonic()
        if force or now - self._engine_probed >= ENGINE_PROBE_S:
            self._engine_probed = now
            pid = engine_pid(self.store.paths.root)
            if pid != self.engine_pid:
                self.engine_pid = pid
                changes.engine = True
        version = self.store.data_version()
        if version == self.data_version and not force:
            return changes
        self.data_version = version
        changes.data = True
        seq = self.store.seq()
        if seq != self.seq:
            rows = self.store.jobs(since_seq=self.seq if self.seq >= 0 else None)
            self.seq = seq
            for job in rows:
                old = self.jobs.get(job.id)
                if old is None:
                    changes.new.add(job.id)
                    changes.moved = True
                elif (old.status, old.priority) != (job.status, job.priority):
                    changes.moved = True
                self.jobs[job.id] = job
                changes.jobs.add(job.id)
        self.looks += 1
        return changes

    def job(self, job_id: int) -> Job | None:
        return self.jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for job in self.jobs.values():
            out[job.status] = out.get(job.status, 0) + 1
        return out
