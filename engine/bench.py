"""`mnistlab bench engine`: what the engine costs, against a bare PyTorch loop in the same run.

1. Throughput: the same net, the same batches, trained by a train job in the
   engine and by a bare loop in this process, interleaved; the ratio of the
   median training throughputs (samples/s over the training steps).
2. Submit-to-running latency with an idle engine (warm workers), from the
   store's own timestamps: created_at -> started_at (claimed by a worker),
   and -> the job's first log line (model built, data in memory).
3. Cancel latency: from `cancel` of a running job to its 'cancelled' in the store.
4. Peak resident memory of a worker (its max RSS while it ran the jobs).

With `--ray TARGET` it compares the Ray executor with the local one instead (`compare_ray`): jobs per
minute of the same batch of short jobs on each (both engines serving at once and taking turns, so that a
load that drifts during the run weighs on both alike) and submit-to-running latency on each.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from engine import control
from jobs import data
from jobs.catalog import DEFAULT_LR, NETS
from jobs.nets import build_net, build_optimizer
from jobs.training import batch_starts
from runs.records import JobRequest
from runs.store import Store


def bare_train(net: str, samples: int, epochs: int, batch_size: int, seed: int, data_dir: str | None) -> float:
    """The plain loop the engine's job is compared with; returns training samples/s."""
    torch.manual_seed(seed)
    mnist = data.load(data_dir, samples)
    model = build_net(net)
    opt = build_optimizer(net, model.parameters(), DEFAULT_LR[NETS[net].optimizer])
    gen = torch.Generator().manual_seed(seed)
    starts = batch_starts(samples, batch_size)
    seen, elapsed = 0, 0.0
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        order = torch.randperm(samples, generator=gen)
        for s in starts:
            idx = order[s:s + batch_size]
            loss = F.cross_entropy(model(mnist.train.x[idx]), mnist.train.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(idx)
        elapsed += time.perf_counter() - t0
    return seen / elapsed


def engine_train(store: Store, net: str, samples: int, epochs: int, batch_size: int, seed: int,
                 data_dir: str | None) -> dict:
    [job_id] = store.submit([JobRequest("train", {"net": net, "samples": samples, "epochs": epochs,
                                                   "batch_size": batch_size, "seed": seed}, data_dir=data_dir)])
    while not (job := store.job(job_id)).finished:
        time.sleep(0.5)  # the job times itself; polling often would only steal CPU from it
    if job.status != "done":
        raise RuntimeError(f"bench job {job_id} {job.status}: {job.reason}")
    return job.result


def latency(store: Store, data_dir: str | None, count: int) -> dict:
    claimed, computing = [], []
    for _ in range(count):
        [job_id] = store.submit([JobRequest("train", {"net": "1", "samples": 64, "epochs": 1, "batch_size": 64},
                                            data_dir=data_dir)])
        while not (job := store.job(job_id)).finished:
            time.sleep(0.02)
        first_log = store.logs(job_id)[0]["ts"]
        claimed.append(job.started_at - job.created_at)
        computing.append(first_log - job.created_at)
        time.sleep(0.3)  # let the engine go idle again
    return {"submit_to_running_s": {"median": statistics.median(claimed), "max": max(claimed)},
            "submit_to_computing_s": {"median": statistics.median(computing), "max": max(computing)}}


def cancel_latency(store: Store, data_dir: str | None, count: int) -> dict:
    waits = []
    for _ in range(count):
        [job_id] = store.submit([JobRequest("train", {"net": "1", "samples": 60000, "epochs": 4},
                                            data_dir=data_dir)])
        while not store.series(job_id, "train/loss"):  # computing, not just claimed
            time.sleep(0.02)
        asked = time.time()
        store.cancel(job_id)
        while not (job := store.job(job_id)).finished:
            time.sleep(0.01)
        if job.status != "cancelled":
            raise RuntimeError(f"bench job {job_id} {job.status}: {job.reason}")
        waits.append(job.finished_at - asked)
    return {"median": statistics.median(waits), "max": max(waits)}


def run(nets: list[str], samples: int = 60000, epochs: int = 1, batch_size: int = 64, repeats: int = 3,
        latency_jobs: int = 10, data_dir: str | None = None, log=print) -> dict:
    home = Path(tempfile.mkdtemp(prefix="mnistlab-bench-"))
    store = Store(home)
    control.start(home, data=data_dir)
    threads = torch.get_num_threads()
    results: dict = {"samples": samples, "epochs": epochs, "batch_size": batch_size, "repeats": repeats,
                     "torch_threads_bare": threads, "nets": {}}
    try:
        for net in nets:  # warm-up: first iterations of a process pay for allocations and lazy init
            bare_train(net, min(samples, 2048), 1, batch_size, 0, data_dir)
            engine_train(store, net, min(samples, 2048), 1, batch_size, 0, data_dir)
        for net in nets:
            engine_rates, bare_rates = [], []
            for r in range(repeats):
                bare_rates.append(bare_train(net, samples, epochs, batch_size, r, data_dir))
                res = engine_train(store, net, samples, epochs, batch_size, r, data_dir)
                engine_rates.append(res["samples_per_s"])
                log(f"net {net} repeat {r + 1}/{repeats}: bare {bare_rates[-1]:,.0f}/s, "
                    f"engine {engine_rates[-1]:,.0f}/s")
            ratio = statistics.median(engine_rates) / statistics.median(bare_rates)
            results["nets"][net] = {"bare_samples_per_s": bare_rates, "engine_samples_per_s": engine_rates,
                                    "ratio_of_medians": ratio}
        results["latency"] = latency(store, data_dir, latency_jobs)
        results["cancel_latency_s"] = cancel_latency(store, data_dir, 3)
        peaks = [j.repro.get("worker", {}).get("peak_rss_mb") for j in store.jobs()]
        results["worker_peak_rss_mb"] = max(p for p in peaks if p is not None)
        results["worker_threads"] = store.jobs()[0].repro["device"]["torch_threads"]
    finally:
        control.stop(home)
    return results


def jobs_per_minute(store: Store, specs: list[dict], data_dir: str | None) -> float:
    """A batch queued at once; jobs per minute from the first submit to the last end (store timestamps)."""
    ids = store.submit([JobRequest("train", spec, data_dir=data_dir) for spec in specs])
    while not all(job.finished for job in (jobs := store.jobs(ids=ids))):
        time.sleep(0.2)
    failed = [j for j in jobs if j.status != "done"]
    if failed:
        raise RuntimeError(f"bench job {failed[0].id} {failed[0].status}: {failed[0].reason}")
    return len(jobs) * 60 / (max(j.finished_at for j in jobs) - min(j.created_at for j in jobs))


def _serving(home: Path, data_dir: str | None, ray: str | None, log) -> Store:
    """An engine for `home`, its slots warm (one short job done)."""
    control.start(home, data=data_dir, ray=ray, wait_s=120)
    store = Store(home)
    engine_train(store, "1", 256, 1, 64, 0, data_dir)
    log(f"{'ray ' + ray if ray else 'local'} engine ready: "
        f"{len((store.engine_row() or {}).get('slots', []))} slot(s)")
    return store


def _settle(quiet_percent: float = 15.0, most_s: float = 60.0) -> float:
    """Wait until the machine is quiet (a fresh Ray starts idle workers that import for seconds, which a
    measurement would otherwise pay for); returns the seconds waited."""
    import psutil

    start = time.monotonic()
    while time.monotonic() - start < most_s and psutil.cpu_percent(interval=1.0) > quiet_percent:
        pass
    return time.monotonic() - start


def _tree_cpu_s(store: Store) -> float:
    """CPU seconds so far of an engine and every process under it (its slots; a local Ray's daemons)."""
    import psutil

    total = 0.0
    try:
        engine = psutil.Process(int((store.engine_row() or {})["pid"]))
        for proc in [engine, *engine.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass  # it ended meanwhile
    except (psutil.Error, KeyError, TypeError, ValueError):
        pass
    return total


def compare_ray(target: str, batch: int = 6, samples: int = 1000, epochs: int = 10, rounds: int = 4,
                latency_jobs: int = 10, data_dir: str | None = None, log=print) -> dict:
    """Jobs per minute of a Ray slot against a local one on the same batch (by default the zoo's jobs at
    1,000 images: 10 epochs of a few seconds each, so that what is compared is the executors' cost per job),
    and the submit latency of each.

    Both engines serve at once, each with its own store, and take turns: one batch each per round, in the
    order local, Ray in rounds 1, 3, ... and Ray, local in rounds 2, 4, ..., so that a load that drifts during the run
    weighs on both alike (on a small shared machine the same batch moves by 15 % from one minute to the
    next). While one runs its batch the other's slot and, for Ray, its daemons sit idle; what the waiting
    side took meanwhile is measured too (`cpu_percent_while_waiting`, of one core)."""
    specs = [{"net": "1", "samples": samples, "epochs": epochs, "seed": i} for i in range(batch)]
    homes = {name: Path(tempfile.mkdtemp(prefix=f"mnistlab-bench-{name}-")) for name in ("local", "ray")}
    rates: dict[str, list[float]] = {"local": [], "ray": []}
    results: dict = {"target": target, "batch": batch, "samples": samples, "epochs": epochs, "rounds": rounds,
                     "order": "local first in rounds 1, 3, ...; ray first in rounds 2, 4, ..."}
    stores: dict[str, Store] = {}
    try:
        for name in ("local", "ray"):
            stores[name] = _serving(homes[name], data_dir, target if name == "ray" else None, log)
        log(f"machine quiet after {_settle():.0f} s")
        for name in ("local", "ray"):  # not counted: the first batch after a start ran slow
            log(f"{name}: warm-up batch {jobs_per_minute(stores[name], specs, data_dir):.1f} jobs/min (not counted)")
        idle_cpu = {"local": [0.0, 0.0], "ray": [0.0, 0.0]}  # the waiting side's CPU seconds, wall seconds
        for r in range(rounds):
            for name in (("local", "ray") if r % 2 == 0 else ("ray", "local")):
                other = "ray" if name == "local" else "local"
                cpu, wall = _tree_cpu_s(stores[other]), time.monotonic()
                rates[name].append(jobs_per_minute(stores[name], specs, data_dir))
                idle_cpu[other][0] += _tree_cpu_s(stores[other]) - cpu
                idle_cpu[other][1] += time.monotonic() - wall
            log(f"round {r + 1}/{rounds}: local {rates['local'][-1]:.1f}, ray {rates['ray'][-1]:.1f} jobs/min")
        for name in ("local", "ray"):
            results[name] = {"latency": latency(stores[name], data_dir, latency_jobs), "jobs_per_minute": rates[name],
                             "slots": len((stores[name].engine_row() or {}).get("slots", [])),
                             "cpu_percent_while_waiting": 100 * idle_cpu[name][0] / idle_cpu[name][1]}
    finally:
        for name in stores:
            control.stop(homes[name], wait_s=60)
    paired = [r / l for r, l in zip(rates["ray"], rates["local"])]
    results["ratio_jobs_per_minute"] = statistics.median(rates["ray"]) / statistics.median(rates["local"])
    results["ratio_per_round"] = paired
    return results
