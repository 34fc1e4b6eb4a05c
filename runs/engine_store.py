"""The store as the engine writes it: claims, reports, heartbeats, endings, recovery.

Only the engine (which holds the data folder's lock) calls these. Each
method is one short transaction, so a crash between two leaves the store
consistent and the next engine can pick up from it.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterable

from runs.records import Job
from runs.store import Store, dumps

Event = tuple[int, str, dict]  # (job_id, event name, payload) as sent by a worker's context


class EngineStore(Store):
    def queued(self) -> list[Job]:
        """Queued jobs in the order the engine considers them: priority, then FIFO."""
        rows = self.query("SELECT * FROM jobs WHERE status = 'queued' ORDER BY priority DESC, id")
        return [Job.from_row(r) for r in rows]

    def statuses(self, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        ids = list(ids)
        if not ids:
            return {}
        rows = self.query(f"SELECT id, status, reason FROM jobs WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {r[0]: (r[1], r[2]) for r in rows}

    def claim(self, job_id: int, slot: str, device: str, worker_pid: int | None) -> Job | None:
        """Atomically move a queued job to running; None if someone else changed it first."""
        now = time.time()
        with self._lock, self.write() as c:
            seq = self.bump(c)
            cur = c.execute(
                "UPDATE jobs SET status='running', attempts=attempts+1, started_at=?, heartbeat_at=?, "
                "slot=?, device=?, worker_pid=?, wait_reason=NULL, reason=NULL, eta_s=NULL, seq=? "
                "WHERE id=? AND status='queued'", (now, now, slot, device, worker_pid, seq, job_id))
            if cur.rowcount != 1:
                return None
            job = Job.from_row(c.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone())
            c.execute("INSERT OR REPLACE INTO attempts (job_id, n, started_at, slot, device, worker_pid) "
                      "VALUES (?,?,?,?,?,?)", (job_id, job.attempts, now, slot, device, worker_pid))
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

    def requeue(self, job_id: int, reason: str, outcome: str) -> None:
        """Back to the queue (engine stopped or died under it); it resumes from its checkpoint."""
        now = time.time()
        with self._lock, self.write() as c:
            seq = self.bump(c)
            c.execute("UPDATE jobs SET status='queued', reason=?, slot=NULL, device=NULL, worker_pid=NULL, "
                      "eta_s=NULL, seq=? WHERE id=?", (reason, seq, job_id))
            c.execute("UPDATE attempts SET ended_at=?, outcome=?, reason=? WHERE job_id=? AND "
                      "n=(SELECT attempts FROM jobs WHERE id=?)", (now, outcome, reason, job_id, job_id))

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
        """Record why each queued job waits; only rows whose reason changed are touched."""
        if not reasons:
            return
        ids = list(reasons)
        current = {r[0]: r[1] for r in self.query(
            f"SELECT id, wait_reason FROM jobs WHERE id IN ({','.join('?' * len(ids))})", ids)}
        changed = [(reason, job_id) for job_id, reason in reasons.items() if current.get(job_id) != reason]
        if not changed:
            return
        with self._lock, self.write() as c:
            seq = self.bump(c)
            c.executemany(f"UPDATE jobs SET wait_reason=?, seq={seq} WHERE id=? AND status='queued'", changed)

    def running(self) -> list[Job]:
        return [Job.from_row(r) for r in self.query("SELECT * FROM jobs WHERE status='running' ORDER BY id")]

    def lost_attempts(self, job_id: int) -> int:
        return self.query("SELECT count(*) FROM attempts WHERE job_id=? AND outcome='lost'", (job_id,))[0][0]

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
