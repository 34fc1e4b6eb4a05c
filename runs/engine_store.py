"""The store as the engine writes it: claims, reports, heartbeats, endings, recovery.

Only the engine (which holds the data folder's lock) calls these. Each
method is one short transaction, so a crash between two leaves the store
consistent and the next engine can pick up from it.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterable

from pathlib import Path

from runs.records import Job
from runs.store import Store, dumps

Event = tuple[int, str, dict]  # (job_id, event name, payload) as sent by a worker's context


class EngineStore(Store):
    def queued(self, limit: int | None = None, after: tuple[int, int] | None = None) -> list[Job]:
        """Queued jobs in the order the engine considers them (priority, then FIFO), a page at a time:
        `after` is the (priority, id) of the last job of the previous page. Read through the status index,
        so a page costs its own rows, however long the queue."""
        sql, params = "SELECT * FROM jobs WHERE status = 'queued'", []
        if after is not None:
            sql += " AND (priority < ? OR (priority = ? AND id > ?))"
            params += [after[0], after[0], after[1]]
        sql += " ORDER BY priority DESC, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Job.from_row(r) for r in self.query(sql, params)]

    def ended_badly_since(self, seq: int) -> list[int]:
        """Jobs that failed or were cancelled in changes after `seq` (found through the change index)."""
        return [r[0] for r in self.query(
            "SELECT id FROM jobs WHERE seq > ? AND status IN ('failed', 'cancelled')", (seq,))]

    def dependents(self, job_ids: Iterable[int]) -> list[Job]:
        """Queued jobs that wait for any of `job_ids` (only jobs that wait for something are looked at)."""
        ids = list(job_ids)
        if not ids:
            return []
        rows = self.query(
            "SELECT * FROM jobs WHERE status = 'queued' AND depends_on != '[]' AND EXISTS "
            f"(SELECT 1 FROM json_each(jobs.depends_on) WHERE value IN ({','.join('?' * len(ids))}))", ids)
        return [Job.from_row(r) for r in rows]

    def statuses(self, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        ids = list(ids)
        if not ids:
            return {}
        rows = self.query(f"SELECT id, status, reason FROM jobs WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {r[0]: (r[1], r[2]) for r in rows}

    def claim(self, job_id: int, slot: str, device: str, worker_pid: int | None,
              worker_started: float | None = None) -> Job | None:
        """Atomically move a queued job to running; None if someone else changed it first.

        A job without a checkpoint starts over, so do its curves: metrics left by an earlier attempt
        are dropped (a job resumed from a checkpoint gets the history saved in it instead)."""
        now = time.time()
        with self._lock, self.write() as c:
            seq = self.bump(c)
            cur = c.execute(
                "UPDATE jobs SET status='running', attempts=attempts+1, started_at=?, heartbeat_at=?, "
                "slot=?, device=?, worker_pid=?, worker_started=?, wait_reason=NULL, reason=NULL, eta_s=NULL, "
                "cancel_requested=0, seq=? WHERE id=? AND status='queued'",
                (now, now, slot, device, worker_pid, worker_started, seq, job_id))
            if cur.rowcount != 1:
                return None
            job = Job.from_row(c.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone())
            c.execute("INSERT OR REPLACE INTO attempts (job_id, n, started_at, slot, device, worker_pid, "
                      "worker_started) VALUES (?,?,?,?,?,?,?)",
                      (job_id, job.attempts, now, slot, device, worker_pid, worker_started))
            if c.execute("SELECT 1 FROM artifacts WHERE job_id=? AND kind='checkpoint'", (job_id,)).fetchone() is None:
                c.execute("DELETE FROM metrics WHERE job_id=?", (job_id,))
        return job

    def finish(self, job_id: int, status: str, reason: str | None = None, result: dict | None = None,
               headline: float | None = None, outcome: str | None = None) -> None:
        now = time.time()
        with self._lock, self.write() as c:
            seq = self.bump(c)
            c.execute("UPDATE jobs SET status=?, reason=?, result=?, headline=?, finished_at=?, "
                      "heartbeat_at=?, eta_s=NULL, wait_reason=NULL, seq=?, "
                      "progress=CASE WHEN ?='done' THEN 1.0 ELSE progress END WHERE id=?",
                      (status, reason, dumps(result) if result is not None else None, headline, now, now,
                       seq, status, job_id))
            c.execute("UPDATE attempts SET ended_at=?, outcome=?, reason=? WHERE job_id=? AND "
                      "n=(SELECT attempts FROM jobs WHERE id=?)", (now, outcome or status, reason, job_id, job_id))

    def requeue(self, job_id: int, reason: str, outcome: str = "interrupted") -> None:
        """Back to the queue without counting an attempt (the engine was stopped under it); it resumes
        from its checkpoint. A cancel asked for meanwhile is honoured instead."""
        self.end_attempt(job_id, outcome, reason)

    def end_attempt(self, job_id: int, outcome: str, reason: str) -> str:
        """Close the running attempt of a job that did not end by itself, and decide what comes next.

        `outcome` is why: 'lost' (its engine died), 'crashed' (its worker or node died), or 'interrupted'
        (the engine was stopped; never counted). A job whose cancel was asked for ends cancelled; one
        with attempts left goes back to the queue (it resumes from its last checkpoint); one without
        ends failed, with every attempt's reason. Returns the job's new status.
        """
        now = time.time()
        with self._lock, self.write() as c:
            job = Job.from_row(c.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone())
            if job.status != "running":
                return job.status
            seq = self.bump(c)
            c.execute("UPDATE attempts SET ended_at=?, outcome=?, reason=? WHERE job_id=? AND n=?",
                      (now, outcome, reason, job_id, job.attempts))
            history = [dict(r) for r in c.execute(
                "SELECT n, outcome, reason FROM attempts WHERE job_id=? ORDER BY n", (job_id,))]
            counted = [a for a in history if a["outcome"] != "interrupted"]
            if job.cancel_requested:
                status, text = "cancelled", "cancelled by request"
            elif outcome == "interrupted" or len(counted) < job.max_attempts:
                status = "queued"
                text = (f"requeued: {reason}" if outcome == "interrupted" else
                        f"requeued after attempt {len(counted)} of {job.max_attempts}: {reason}; "
                        "it resumes from its last checkpoint")
            else:
                status, text = "failed", attempts_reason(counted, self.paths.engine_log)
            finished = None if status == "queued" else now
            c.execute("UPDATE jobs SET status=?, reason=?, finished_at=?, slot=CASE WHEN ?='queued' THEN NULL "
                      "ELSE slot END, worker_pid=NULL, worker_started=NULL, eta_s=NULL, cancel_requested=0, "
                      "seq=? WHERE id=?", (status, text, finished, status, seq, job_id))
        return status

    def apply_events(self, events: list[Event]) -> None:
        """Write a batch of worker reports in one transaction."""
        if not events:
            return
        now = time.time()
        with self._lock, self.write() as c:
            seq = self.bump(c)
            for job_id, name, p in events:
                if name == "metrics":
                    c.executemany("INSERT OR REPLACE INTO metrics (job_id, name, step, value) VALUES (?,?,?,?)",
                                  [(job_id, p["name"], s, v) for s, v in zip(p["steps"], p["values"])])
                elif name == "progress":
                    c.execute("UPDATE jobs SET progress=?, progress_text=?, heartbeat_at=?, seq=?, "
                              "eta_s=CASE WHEN ?>0.001 THEN (?-started_at)*(1-?)/? END WHERE id=?",
                              (p["fraction"], p["text"], now, seq, p["fraction"], now, p["fraction"],
                               p["fraction"], job_id))
                elif name == "log":
                    c.execute("INSERT INTO logs (job_id, ts, level, message) VALUES (?,?,?,?)",
                              (job_id, now, p["level"], p["message"]))
                elif name == "table":
                    c.execute("INSERT OR REPLACE INTO result_tables (job_id, name, payload, seq) VALUES (?,?,?,?)",
                              (job_id, p["name"], dumps(p["payload"]), seq))
                elif name == "artifact":
                    c.execute("INSERT OR REPLACE INTO artifacts (job_id, name, kind, path, meta, seq) "
                              "VALUES (?,?,?,?,?,?)", (job_id, p["name"], p["kind"], p["path"],
                                                       dumps(p["meta"]), seq))
                elif name == "metrics_reset":  # a resumed attempt: exactly the history of its checkpoint
                    c.execute("DELETE FROM metrics WHERE job_id=?", (job_id,))
                    for metric, (steps, values) in p["metrics"].items():
                        c.executemany("INSERT INTO metrics (job_id, name, step, value) VALUES (?,?,?,?)",
                                      [(job_id, metric, s, v) for s, v in zip(steps, values)])
                elif name == "series_replace":  # a finished epoch's curve, thinned (jobs.context.thin_epoch)
                    c.execute("DELETE FROM metrics WHERE job_id=? AND name=?", (job_id, p["name"]))
                    c.executemany("INSERT INTO metrics (job_id, name, step, value) VALUES (?,?,?,?)",
                                  [(job_id, p["name"], s, v) for s, v in zip(p["steps"], p["values"])])
                elif name == "repro":
                    row = c.execute("SELECT repro FROM jobs WHERE id=?", (job_id,)).fetchone()
                    merged = {**json.loads(row[0]), **p["facts"]}
                    c.execute("UPDATE jobs SET repro=?, seq=? WHERE id=?", (dumps(merged), seq, job_id))

    def heartbeat(self, job_ids: list[int]) -> None:
        if not job_ids:
            return
        with self._lock, self.write() as c:
            c.execute(f"UPDATE jobs SET heartbeat_at=? WHERE id IN ({','.join('?' * len(job_ids))})",
                      [time.time(), *job_ids])

    def set_wait_reasons(self, reasons: dict[int, str]) -> None:
        """Record why each queued job waits (the caller passes only the reasons that changed)."""
        changed = [(reason, job_id) for job_id, reason in reasons.items()]
        if not changed:
            return
        with self._lock, self.write() as c:
            seq = self.bump(c)
            c.executemany(f"UPDATE jobs SET wait_reason=?, seq={seq} WHERE id=? AND status='queued'", changed)

    def running(self) -> list[Job]:
        return [Job.from_row(r) for r in self.query("SELECT * FROM jobs WHERE status='running' ORDER BY id")]

    def engine_started(self, pid: int, slots: list[dict], info: dict[str, Any]) -> None:
        now = time.time()
        with self._lock, self.write() as c:
            c.execute("INSERT OR REPLACE INTO engine (id, pid, started_at, heartbeat_at, stopped_at, slots, info) "
                      "VALUES (1, ?, ?, ?, NULL, ?, ?)", (pid, now, now, dumps(slots), dumps(info)))
            self.bump(c)

    def engine_heartbeat(self, slots: list[dict]) -> None:
        with self._lock, self.write() as c:
            c.execute("UPDATE engine SET heartbeat_at=?, slots=? WHERE id=1", (time.time(), dumps(slots)))

    def engine_stopped(self) -> None:
        with self._lock, self.write() as c:
            c.execute("UPDATE engine SET stopped_at=?, slots='[]' WHERE id=1", (time.time(),))
            self.bump(c)


def attempts_reason(attempts: list[dict], engine_log: Path) -> str:
    """Why a job ran out of attempts, in one line: every attempt's reason, engine deaths counted together."""
    lost = [a for a in attempts if a["outcome"] == "lost"]
    if len(lost) == len(attempts):
        times = "once" if len(lost) == 1 else f"{len(lost)} times"
        return f"the engine stopped {times} while running this job (see {engine_log})"
    parts = [f"attempt {a['n']}: " + ("the engine stopped (see engine.log)" if a["outcome"] == "lost"
                                       else a["reason"] or a["outcome"]) for a in attempts]
    return f"failed after {len(attempts)} attempts; " + "; ".join(parts)
