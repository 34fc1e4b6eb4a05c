"""The store as the CLI and the dashboard see it: submit, read, cancel, retry.

One `Store` per process; its connection is opened lazily in the process
that uses it and reopened if the object crosses into another process.
The engine's writes live in `runs.engine_store`.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from jobs.kinds import get_kind
from jobs.schema import MAX_ID
from runs.db import connect, transaction
from runs.paths import HomePaths, make_private_dir, make_private_files, resolve_home
from runs.records import STATUSES, InputError, Job, JobRequest

# Orders a window can be read in: (ORDER BY, the same order as a sort key).
# "engine" is the order the engine takes queued jobs in: priority, then first come first served.
ORDERS = {
    "id": ("id", lambda job: job.id),
    "newest": ("id DESC", lambda job: -job.id),
    "engine": ("priority DESC, id", lambda job: (-job.priority, job.id)),
}
SHOWN_STUDY_NAMES = 12  # an unknown group's message names this many of the known ones


def dumps(value: Any) -> str:
    """JSON as the store keeps it; a non-finite number is written as NaN/Infinity, which Python reads back
    (what leaves the store for people and programs goes through `runs.jsonsafe`)."""
    return json.dumps(value, sort_keys=True, default=str)


def _value(v: float | None) -> float:
    return math.nan if v is None else v  # SQLite keeps a NaN as NULL


class Store:
    def __init__(self, home: str | os.PathLike | None = None):
        self.paths = HomePaths(resolve_home(home))
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None
        self._lock = threading.RLock()

    # -- connection ----------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            try:
                make_private_dir(self.paths.root)
            except OSError:
                pass  # connect() names the folder and what to do
            self._conn = connect(self.paths.db)
            self._pid = os.getpid()
            make_private_files(self.paths.db)
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def write(self):
        """A short BEGIN IMMEDIATE transaction; use as `with store.write() as c:`."""
        return transaction(self.conn)

    def bump(self, conn: sqlite3.Connection) -> int:
        """Advance the store-wide change counter; rows changed in this transaction take its value."""
        return conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value").fetchone()[0]

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    # -- reads -----------------------------------------------------------------
    def seq(self) -> int:
        return self.query("SELECT value FROM counters WHERE name = 'seq'")[0][0]

    def data_version(self) -> int:
        """Changes when another connection commits: the cheapest 'anything new?' check."""
        return self.query("PRAGMA data_version")[0][0]

    def job(self, job_id: int) -> Job:
        # SQLite cannot even compare an id past its integer range (OverflowError): none is stored
        rows = self.query("SELECT * FROM jobs WHERE id = ?", (job_id,)) if 0 < job_id <= MAX_ID else []
        if not rows:
            last = self.query("SELECT max(id) FROM jobs")[0][0]
            known = f"ids run from 1 to {last}" if last else "the store has no jobs yet"
            raise InputError(f"no job {job_id} in {self.paths.db} ({known})")
        return Job.from_row(rows[0])

    def jobs(self, *, ids: list[int] | None = None, status: list[str] | None = None,
             kind: list[str] | None = None, study: str | None = None, since_seq: int | None = None,
             limit: int | None = None, newest_first: bool = False) -> list[Job]:
        where, params = [], []
        for column, values in (("id", ids), ("status", status), ("kind", kind)):
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                params += list(values)
        if study is not None:
            where.append("study = ?")
            params.append(study)
        if since_seq is not None:
            where.append("seq > ?")
            params.append(since_seq)
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [Job.from_row(r) for r in self.query(sql, params)]

    def find(self, kind: str, status: list[str] | None = None, **spec_match: Any) -> list[Job]:
        """Jobs of a kind whose spec has every given field value, oldest first (e.g. a finished net 11.1)."""
        return [j for j in self.jobs(kind=[kind], status=status)
                if all(j.spec.get(k) == v for k, v in spec_match.items())]

    # -- windows: what a screen shows, read through an index ---------------------------
    def window(self, statuses: Iterable[str], order: str = "id", *, kinds: list[str] | None = None,
               study: str | None = None, limit: int = 20,
               after: Job | None = None, spec_like: list[list[str]] | None = None) -> list[Job]:
        """The first `limit` jobs of these statuses in `order` (see ORDERS), optionally of some kinds or one
        group; `after` continues from the last job of the previous page. `spec_like`: LIKE patterns on the spec's JSON, one list per field, any pattern of
        each list (a cheap first pass of a filter; the caller checks the rows it gets). Each (status, kind)
        is one range of an index read no further than the window, so the cost follows `limit`, not the size
        of the store."""
        sql_order, key = ORDERS[order]
        ranges = []
        for _, where, params in _ranges(statuses, kinds, study):
            if after is not None:
                more, values = _after(order, after)
                where, params = f"{where} AND {more}", [*params, *values]
            for patterns in spec_like or []:
                where += " AND (" + " OR ".join(["spec LIKE ? ESCAPE '\\'"] * len(patterns)) + ")"
                params = [*params, *patterns]
            rows = self.query(f"SELECT * FROM jobs WHERE {where} ORDER BY {sql_order} LIMIT ?", [*params, limit])
            ranges.append([Job.from_row(r) for r in rows])
        return list(itertools.islice(heapq.merge(*ranges, key=key), limit))

    def count_by_status(self, statuses: Iterable[str] = STATUSES, *, kinds: list[str] | None = None,
                        study: str | None = None) -> dict[str, int]:
        """How many jobs of each status match, counted in an index range (one per status and kind)."""
        counts = dict.fromkeys(statuses, 0)
        for status, where, params in _ranges(counts, kinds, study):
            counts[status] += self.query(f"SELECT count(*) FROM jobs WHERE {where}", params)[0][0]
        return counts

    def iter_jobs(self, statuses: Iterable[str] = STATUSES, *, kinds: list[str] | None = None,
                  study: str | None = None, page: int = 500) -> Iterator[list[Job]]:
        """Every matching job, oldest first, a page at a time. Each page is its own short read, so a long
        listing neither holds the whole history in memory nor a read transaction open while it prints."""
        statuses, last = list(statuses), None
        while True:
            jobs = self.window(statuses, "id", kinds=kinds, study=study, limit=page, after=last)
            if not jobs:
                return
            yield jobs
            last = jobs[-1]

    def metrics(self, job_id: int, name: str | None = None, after_id: int = 0) -> list[dict]:
        """Metric rows {id, name, step, value} newer than `after_id`: for incremental readers.
        A NaN value reads as float('nan')."""
        sql = "SELECT id, name, step, value FROM metrics WHERE job_id = ? AND id > ?"
        params: list = [job_id, after_id]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        return _metric_rows(self.query(sql + " ORDER BY id", params))

    def metrics_after(self, job_id: int, after_id: int) -> list[dict]:
        """Like `metrics(job_id, after_id=...)`, but found through the row id once `after_id` is set:
        a live reader's look costs the rows written since its last look, not the run's whole history."""
        if after_id <= 0:
            return self.metrics(job_id)
        return _metric_rows(self.query(
            "SELECT id, name, step, value FROM metrics WHERE +job_id = ? AND id > ? ORDER BY id", (job_id, after_id)))

    def series(self, job_id: int, name: str) -> list[tuple[int, float]]:
        rows = self.query("SELECT step, value FROM metrics WHERE job_id = ? AND name = ? ORDER BY step",
                          (job_id, name))
        return [(r[0], _value(r[1])) for r in rows]

    def metric_names(self, job_id: int) -> list[str]:
        return [r[0] for r in self.query("SELECT DISTINCT name FROM metrics WHERE job_id = ? ORDER BY name",
                                         (job_id,))]

    def tables(self, job_id: int) -> dict[str, Any]:
        rows = self.query("SELECT name, payload FROM result_tables WHERE job_id = ? ORDER BY name", (job_id,))
        return {r[0]: json.loads(r[1]) for r in rows}

    def artifacts(self, job_id: int) -> list[dict]:
        """A run's files: `file` is the name in its folder (what the store keeps), `path` where it is now."""
        rows = self.query("SELECT name, kind, path, meta FROM artifacts WHERE job_id = ? ORDER BY name", (job_id,))
        folder = self.paths.artifacts(job_id)
        return [{"name": r[0], "kind": r[1], "file": _file_name(r[2]), "path": str(folder / _file_name(r[2])),
                 "meta": json.loads(r[3])} for r in rows]

    def outputs_seq(self, job_id: int) -> int:
        """The change counter of a job's newest table or artifact (0 if none): has anything new to show?"""
        rows = self.query("SELECT max(seq) FROM (SELECT seq FROM result_tables WHERE job_id = ? "
                          "UNION ALL SELECT seq FROM artifacts WHERE job_id = ?)", (job_id, job_id))
        return rows[0][0] or 0

    def artifact_path(self, job_id: int, name: str) -> Path | None:
        """Where artifact `name` of a run is now (under the data folder, wherever it was moved)."""
        rows = self.query("SELECT path FROM artifacts WHERE job_id = ? AND name = ?", (job_id, name))
        return self.paths.artifacts(job_id) / _file_name(rows[0][0]) if rows else None

    def logs(self, job_id: int, after_id: int = 0, limit: int | None = None) -> list[sqlite3.Row]:
        sql = "SELECT id, ts, level, message FROM logs WHERE job_id = ? AND id > ? ORDER BY id"
        if limit:
            sql = f"SELECT * FROM ({sql.replace('ORDER BY id', 'ORDER BY id DESC')} LIMIT {int(limit)}) ORDER BY id"
        return self.query(sql, (job_id, after_id))

    def attempts(self, job_id: int) -> list[dict]:
        rows = self.query("SELECT n, started_at, ended_at, slot, device, worker_pid, outcome, reason "
                          "FROM attempts WHERE job_id = ? ORDER BY n", (job_id,))
        return [dict(r) for r in rows]

    def engine_row(self) -> dict | None:
        rows = self.query("SELECT * FROM engine WHERE id = 1")
        if not rows:
            return None
        d = dict(rows[0])
        d["slots"], d["info"] = json.loads(d["slots"]), json.loads(d["info"])
        return d

    def studies(self) -> list[dict]:
        rows = self.query("SELECT s.name, s.type, s.options, s.created_at, count(j.id) AS jobs, "
                          "sum(j.status = 'done') AS done FROM studies s LEFT JOIN jobs j ON j.study = s.name "
                          "GROUP BY s.name ORDER BY s.created_at")
        return [{**dict(r), "options": json.loads(r["options"])} for r in rows]

    def study(self, name: str) -> dict:
        rows = self.query("SELECT name, type, options, created_at FROM studies WHERE name = ?", (name,))
        if not rows:
            names = [r[0] for r in self.query("SELECT name FROM studies ORDER BY created_at")]
            known = ", ".join(names[:SHOWN_STUDY_NAMES]) or "none yet"
            if len(names) > SHOWN_STUDY_NAMES:
                known += f", and {len(names) - SHOWN_STUDY_NAMES} more: `mnistlab study list`"
            raise InputError(f"no study named {name!r} in {self.paths.db} (studies: {known})")
        return {**dict(rows[0]), "options": json.loads(rows[0]["options"])}

    def study_view(self, name: str, jobs: list[Job] | None = None):
        """The study's view, from `jobs` if the caller read them already (they are the study's jobs)."""
        from runs.studies import STUDY_TYPES

        study = self.study(name)
        return STUDY_TYPES[study["type"]].summarize(name, self.jobs(study=name) if jobs is None else jobs)

    def record(self, job_id: int) -> dict:
        """Everything known of a job: what `show --json` prints."""
        job = self.job(job_id)
        return {
            **job.to_json(),
            "short_spec": job.short_spec(),
            "artifact_dir": str(self.paths.artifacts(job_id)),
            "attempt_history": self.attempts(job_id),
            "metrics": {name: self.series(job_id, name) for name in self.metric_names(job_id)},
            "tables": self.tables(job_id),
            "artifacts": self.artifacts(job_id),
        }

    # -- client writes ---------------------------------------------------------
    def submit(self, requests: list[JobRequest], study: tuple[str, str, dict] | None = None) -> list[int]:
        """Queue all requests in one transaction (all or nothing); returns their ids.

        `study` = (name, type, options) files them as one named group; a name of None makes a new group
        named TYPE-N, N one more than the highest such number (read the name from the jobs' `study`).
        """
        prepared = []
        for i, req in enumerate(requests):
            req.check()
            spec = get_kind(req.kind).validate(req.spec)
            if any(not 0 <= a < i for a in req.after):
                raise InputError(f"request {i} waits on {req.after}: only earlier requests of the batch")
            prepared.append((req, spec))
        ids: list[int] = []
        with self._lock, self.write() as c:
            seq = self.bump(c)
            wanted = {d for req, _ in prepared for d in req.depends_on}
            if wanted:
                found = {r[0] for r in c.execute(
                    f"SELECT id FROM jobs WHERE id IN ({','.join('?' * len(wanted))})", list(wanted))}
                missing = sorted(wanted - found)
                if missing:
                    raise InputError(f"cannot depend on job(s) {', '.join(map(str, missing))}: no such job")
            now = time.time()
            if study is not None:
                name, type_, options = study
                if name is None:  # a new group numbered in this transaction: TYPE-1, TYPE-2, ... (sweeps)
                    name = _next_numbered(c, type_)
                existing = c.execute("SELECT type FROM studies WHERE name = ?", (name,)).fetchone()
                if existing is not None and existing[0] != type_:
                    raise InputError(f"study {name!r} already exists as a {existing[0]} study; "
                                     f"choose another --name for this {type_} study")
                if existing is None:
                    c.execute("INSERT INTO studies (name, type, options, created_at) VALUES (?,?,?,?)",
                              (name, type_, dumps(options), now))
                for req, _ in prepared:
                    req.study = name
            for req, spec in prepared:
                spec = _resolve_batch_refs(req.kind, spec, ids)
                deps = sorted(set(req.depends_on) | {ids[a] for a in req.after})
                cur = c.execute(
                    "INSERT INTO jobs (kind, spec, status, priority, study, label, placement, depends_on, "
                    "data_dir, max_attempts, created_at, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (req.kind, dumps(spec), "queued", req.priority, req.study, req.label,
                     dumps(req.placement()), dumps(deps), req.data_dir, req.max_attempts, now, seq))
                ids.append(cur.lastrowid)
        return ids

    def cancel(self, job_id: int) -> str:
        """Cancel a queued job at once; ask the engine to stop a running one."""
        with self._lock, self.write() as c:
            job = self._job_in(c, job_id)
            if job.finished:
                raise InputError(f"job {job_id} is already {job.status}; nothing to cancel")
            return _cancel(c, self.bump(c), "id = ?", [job_id])[job_id]

    def retry(self, job_id: int, fresh: bool = False) -> None:
        """Queue a failed or cancelled job again; it resumes from its checkpoint unless `fresh`.

        `fresh` moves the run's folder aside before the job is queued (under the store's write lock,
        so no engine can start it in the old folder), then deletes it."""
        with self._lock, self.write() as c:
            job = self._job_in(c, job_id)
            if job.status not in ("failed", "cancelled"):
                raise InputError(f"job {job_id} is {job.status}; only failed or cancelled jobs can be retried")
            ids = _requeue(c, self.bump(c), "id = ?", [job_id], fresh)
            discarded = self._discard_folders(ids) if fresh else []
        for folder in discarded:
            shutil.rmtree(folder, ignore_errors=True)

    def _discard_folders(self, job_ids: list[int]) -> list[Path]:
        """Move the run folders of jobs queued afresh aside, inside the transaction that queues them (no
        engine can start them in the old folders); the caller deletes them after the commit."""
        aside = []
        for job_id in job_ids:
            folder = self.paths.artifacts(job_id)
            if folder.exists():
                aside.append(folder.with_name(f".{job_id}.discarded-{time.time_ns()}"))  # swept by the engine
                os.replace(folder, aside[-1])
        return aside

    def set_priority(self, job_id: int, priority: int) -> None:
        _check_priority(priority)
        with self._lock, self.write() as c:
            job = self._job_in(c, job_id)
            if job.status != "queued":
                raise InputError(f"job {job_id} is {job.status}; only a queued job's priority can change")
            _reprioritise(c, self.bump(c), "id = ?", [job_id], priority)

    # -- a whole group (study or sweep) at once: one transaction each -----------------------
    # `what` names the group in messages, e.g. "sweep 3" or "study 'zoo'".
    def cancel_group(self, name: str, what: str) -> dict[int, str]:
        """Cancel every queued job of the group and ask the engine to stop its running ones: {id: outcome}."""
        with self._lock, self.write() as c:
            outcome = _cancel(c, self.bump(c), "study = ?", [name])
            if not outcome:
                raise InputError(f"{what} has no queued or running jobs; nothing to cancel")
            return outcome

    def retry_group(self, name: str, what: str, fresh: bool = False) -> list[int]:
        """Queue every failed or cancelled job of the group again; returns their ids."""
        with self._lock, self.write() as c:
            ids = _requeue(c, self.bump(c), "study = ?", [name], fresh)
            if not ids:
                raise InputError(f"{what} has no failed or cancelled jobs; nothing to retry")
            discarded = self._discard_folders(ids) if fresh else []
        for folder in discarded:
            shutil.rmtree(folder, ignore_errors=True)
        return ids

    def set_group_priority(self, name: str, what: str, priority: int) -> list[int]:
        """Give every queued job of the group this priority; returns their ids."""
        _check_priority(priority)
        with self._lock, self.write() as c:
            ids = _reprioritise(c, self.bump(c), "study = ?", [name], priority)
            if not ids:
                raise InputError(f"{what} has no queued jobs; only a queued job's priority can change")
            return ids

    def _job_in(self, c: sqlite3.Connection, job_id: int) -> Job:
        row = c.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone() if 0 < job_id <= MAX_ID else None
        if row is None:
            raise InputError(f"no job {job_id} in {self.paths.db}")
        return Job.from_row(row)


def _metric_rows(rows: list[sqlite3.Row]) -> list[dict]:
    return [{"id": r[0], "name": r[1], "step": r[2], "value": _value(r[3])} for r in rows]


def _file_name(stored: str) -> str:
    """Artifacts are kept as names in their run's folder; stores written before that kept absolute paths."""
    return Path(stored).name


def _resolve_batch_refs(kind: str, spec: dict, ids: list[int]) -> dict:
    """Run fields may name a request of the same batch as -k (k places earlier); the stored
    spec names the real job instead, so every record says exactly which runs it used."""
    fields = [f for f in get_kind(kind).fields if f.runs]
    if not fields:
        return spec
    here = len(ids)  # this request's index in the batch
    def real(value: int) -> int:
        return ids[here + value] if value < 0 else value
    out = dict(spec)
    for f in fields:
        value = spec[f.name]
        if value is not None:
            out[f.name] = [real(v) for v in value] if f.is_list else real(value)
    return out



def _after(order: str, job: Job) -> tuple[str, list]:
    """The condition for the jobs that come after `job` in `order` (keyset paging)."""
    if order == "id":
        return "id > ?", [job.id]
    if order == "newest":
        return "id < ?", [job.id]
    return "(priority < ? OR (priority = ? AND id > ?))", [job.priority, job.priority, job.id]


def _ranges(statuses: Iterable[str], kinds: list[str] | None, study: str | None) -> Iterator[tuple[str, str, list]]:
    """(status, WHERE, params) of each index range a filtered read is made of: one per status and kind
    (a single range keeps its index order, which `status IN (...)` would lose)."""
    for status in statuses:
        for kind in kinds or [None]:
            where, params = ["status = ?"], [status]
            for column, value in (("kind", kind), ("study", study)):
                if value is not None:
                    where.append(f"{column} = ?")
                    params.append(value)
            yield status, " AND ".join(where), params


def _next_numbered(c: sqlite3.Connection, type_: str) -> str:
    prefix = f"{type_}-"
    taken = [r[0][len(prefix):] for r in c.execute("SELECT name FROM studies WHERE substr(name, 1, ?) = ?",
                                                   (len(prefix), prefix))]
    return f"{prefix}{max((int(n) for n in taken if n.isdigit()), default=0) + 1}"


# The state changes of cancel, retry and priority, for one job ("id = ?") or a group ("study = ?").
def _cancel(c: sqlite3.Connection, seq: int, where: str, params: list) -> dict[int, str]:
    cancelled = c.execute(f"UPDATE jobs SET status='cancelled', reason=?, finished_at=?, wait_reason=NULL, seq=? "
                          f"WHERE status='queued' AND {where} RETURNING id",
                          ["cancelled before it started", time.time(), seq, *params]).fetchall()
    stopping = c.execute(f"UPDATE jobs SET cancel_requested=1, seq=? WHERE status='running' AND {where} RETURNING id",
                         [seq, *params]).fetchall()
    return {**{r[0]: "cancelled" for r in cancelled}, **{r[0]: "cancelling" for r in stopping}}


def _requeue(c: sqlite3.Connection, seq: int, where: str, params: list, fresh: bool) -> list[int]:
    ids = [r[0] for r in c.execute(
        f"UPDATE jobs SET status='queued', reason=NULL, finished_at=NULL, cancel_requested=0, result=NULL, "
        f"headline=NULL, seq=? WHERE status IN ('failed', 'cancelled') AND {where} RETURNING id", [seq, *params])]
    if fresh:
        for table in ("metrics", "result_tables", "artifacts", "logs"):
            c.executemany(f"DELETE FROM {table} WHERE job_id = ?", [(i,) for i in ids])
        c.executemany("UPDATE jobs SET progress=0, progress_text=NULL, eta_s=NULL WHERE id=?", [(i,) for i in ids])
    return sorted(ids)


def _reprioritise(c: sqlite3.Connection, seq: int, where: str, params: list, priority: int) -> list[int]:
    return sorted(r[0] for r in c.execute(f"UPDATE jobs SET priority=?, seq=? WHERE status='queued' AND {where} "
                                          f"RETURNING id", [priority, seq, *params]))


def _check_priority(priority: int) -> None:
    if not -1000 <= priority <= 1000:
        raise InputError(f"priority {priority} is out of range; allowed: -1000 to 1000")
