"""The engine's part of `mnistlab bench scale`: its CPU and the gap between short jobs, small vs large queue.

A store is filled through the store's own API (finished runs, then queued
one-epoch jobs on 64 images); one engine with one CPU slot runs the queue
while its own process's CPU time is read (psutil) over a steady stretch,
and the gap between one job's end and the next one's claim on the slot
comes from the store's timestamps. Torch-free: the jobs run in the
engine's worker, not here.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from engine import control
from runs.records import JobRequest
from runs.store import Store

SHORT_JOB = {"net": "1", "samples": 64, "epochs": 1, "batch_size": 64}


def fill_finished(store: Store, count: int, chunk: int = 10000) -> None:
    """`count` finished runs with a result, submitted and then marked done, in chunks."""
    nets = ["1", "2", "5", "8.1", "10.1", "11.1", "13.2"]
    now = time.time()
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        ids = store.submit([JobRequest("train", {"net": nets[(start + i) % len(nets)], "seed": (start + i) % 5})
                            for i in range(n)])
        with store.write() as c:
            seq = store.bump(c)
            c.executemany("UPDATE jobs SET status='done', attempts=1, started_at=?, finished_at=?, progress=1.0, "
                          "headline=?, result=?, seq=? WHERE id=?",
                          [(now - 90, now - 30, 0.9 + (i % 90) / 1000,
                            json.dumps({"test_accuracy": 0.9 + (i % 90) / 1000}), seq, job_id)
                           for i, job_id in enumerate(ids)])


def fill_queued(store: Store, count: int) -> list[int]:
    return store.submit([JobRequest("train", {**SHORT_JOB, "seed": i % 1000}) for i in range(count)])


def start_engine(home: Path, data: str | None) -> int:
    """An engine with exactly one CPU slot on `home` (whatever MNISTLAB_CPU_SLOTS says); returns its pid."""
    return control.start(home, data=data, cpu_slots=1)[0]


def measure_queue(store: Store, pid: int, ids: list[int], warmup: int, measured: int,
                  timeout_s: float = 600) -> dict:
    """With the engine `pid` running the queued jobs `ids`, let `warmup` of them end, then measure over `measured`.

    The engine's CPU is read over the measured stretch; the gaps are between consecutive measured jobs
    (one's finish to the next one's start, from the store's timestamps)."""
    import psutil

    first, last = min(ids), max(ids)
    engine = psutil.Process(pid)
    deadline = time.monotonic() + timeout_s

    def ended() -> int:
        return store.query("SELECT count(*) FROM jobs WHERE id BETWEEN ? AND ? AND status IN ('done','failed')",
                           (first, last))[0][0]

    def wait_for(count: int) -> None:
        while ended() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the engine finished fewer than {count} jobs in {timeout_s:.0f} s")
            time.sleep(0.2)

    wait_for(warmup)
    cpu0, t0, n0 = engine.cpu_times(), time.perf_counter(), ended()
    wait_for(n0 + measured)  # n0, not warmup: on a loaded machine more may have ended by the time it was read
    cpu1, t1, n1 = engine.cpu_times(), time.perf_counter(), ended()
    rows = store.query("SELECT started_at, finished_at, status FROM jobs WHERE id BETWEEN ? AND ? "
                       "AND started_at IS NOT NULL AND status IN ('done','failed') ORDER BY started_at",
                       (first, last))
    spans = [(r[0], r[1]) for r in rows][warmup:]
    gaps = sorted(b[0] - a[1] for a, b in zip(spans, spans[1:]))
    used = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {"engine_cpu_percent": 100.0 * used / (t1 - t0), "jobs_per_minute": 60.0 * (n1 - n0) / (t1 - t0),
            "gap_ms": {"median": 1000 * statistics.median(gaps), "p90": 1000 * gaps[int(0.9 * len(gaps))],
                       "p95": 1000 * gaps[int(0.95 * len(gaps))], "max": 1000 * gaps[-1]},
            "jobs_measured": n1 - n0, "gaps_measured": len(gaps),
            "done": sum(r[2] == "done" for r in rows), "failed": sum(r[2] == "failed" for r in rows)}
