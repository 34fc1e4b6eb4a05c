"""The dashboard's view of the store, kept current by cheap looks.

Each look costs one `PRAGMA data_version` (changes only when another
connection commits); only then the store-wide change counter, and only if
that moved, the job rows changed since the last look (through the change
index). Nothing here reads the whole jobs table: the list panes read their
own windows (`tui.job_window`), counts come from the status index, and
`jobs` holds only the jobs someone looked at (a bounded cache, kept current
by the looks). Panes read their own details (metrics, logs) incrementally
when a look says something was committed. The engine's lock is probed
every couple of seconds, since a killed engine writes nothing.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from dataclasses import dataclass, field

from engine.control import engine_pid
from runs.db import StoreError
from runs.records import InputError, Job
from runs.store import Store

ENGINE_PROBE_S = 2.0
CACHE = 5000        # jobs kept in memory; past it the ones not looked at lately are dropped


@dataclass
class Changes:
    jobs: set[int] = field(default_factory=set)      # rows that changed or appeared
    new: set[int] = field(default_factory=set)       # rows seen for the first time
    moved: bool = False     # a status or priority changed (or a job appeared or went): lists read again
    engine: bool = False    # the engine started or stopped
    data: bool = False      # another connection committed something (metrics, logs, tables...)
    studies: set[str] = field(default_factory=set)   # the groups (studies, sweeps) of the changed jobs

    def __bool__(self) -> bool:
        return bool(self.jobs or self.engine or self.data)


class Live:
    def __init__(self, store: Store):
        self.store = store
        self.jobs: dict[int, Job] = {}   # the jobs looked at (oldest look first), kept current
        self.seq = -1
        self.data_version: int | None = None
        self.engine_pid: int | None = None
        self._engine_probed = 0.0
        self._counts: dict[str, int] | None = None
        self._newest = 0                  # the highest job id seen: a higher one is new
        self._placed: dict[int, tuple[str, int]] = {}  # (status, priority) of the jobs seen, as last seen
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
            if self.seq < 0:  # the first look: the panes read their windows
                changes.moved = True
                self._newest = self.store.query("SELECT max(id) FROM jobs")[0][0] or 0
            else:
                self._changed_since(self.seq, changes)
            self.seq = seq
            if changes.moved:
                self._counts = None
        self.looks += 1
        return changes

    def _changed_since(self, seq: int, changes: Changes) -> None:
        rows = self.store.query("SELECT id, status, priority, study FROM jobs WHERE seq > ?", (seq,))
        for job_id, status, priority, study in rows:
            changes.jobs.add(job_id)
            if study:
                changes.studies.add(study)
            if self._placed.get(job_id) != (status, priority):
                changes.moved = True  # a new job, or one whose place in the lists may change
                self._placed[job_id] = (status, priority)
            if job_id > self._newest:
                changes.new.add(job_id)
        self._newest = max([self._newest, *changes.new])
        cached = [i for i in changes.jobs if i in self.jobs]
        for chunk in range(0, len(cached), 500):
            for job in self.store.jobs(ids=cached[chunk:chunk + 500]):
                self.jobs[job.id] = job

    def remember(self, jobs) -> None:
        """Keep these jobs (a pane's window) current; the cache stays bounded."""
        for job in jobs:
            self.jobs.pop(job.id, None)
            self.jobs[job.id] = job
            self._placed[job.id] = (job.status, job.priority)
        _trim(self.jobs, CACHE)
        _trim(self._placed, 4 * CACHE)

    def job(self, job_id: int) -> Job | None:
        """The job, from the cache or else the store (None when the store has no such job)."""
        job = self.jobs.get(job_id)
        if job is None:
            try:
                job = self.store.job(job_id)
            except InputError:
                return None
            except (StoreError, sqlite3.Error, OSError) as exc:
                self.error = self.error or str(exc)
                return None
            self.remember([job])
        return job

    def counts(self) -> dict[str, int]:
        """Jobs per status, counted through the status index (again only after a status changed)."""
        if self._counts is None:
            try:
                self._counts = {k: v for k, v in self.store.count_by_status().items() if v}
            except (StoreError, sqlite3.Error, OSError) as exc:  # said by the app; the counts wait
                self.error = self.error or str(exc)
                return {}
        return self._counts


def _trim(kept: dict, most: int) -> None:
    """Drop the oldest entries past `most`."""
    for job_id in list(itertools.islice(kept, max(0, len(kept) - most))):
        del kept[job_id]
