"""Bytes per run (`mnistlab bench store`): what one run of each kind adds to the data folder.

Measured: short real runs, one at a time on an engine with one CPU slot. Before and after each, the
bytes SQLite uses in each table with its indexes (`dbstat`: page size less unused bytes, so free
space is not counted) and the files of the run's folder, by artifact kind.

Derived: the figure at the study defaults. Two runs of a kind differ in one dimension (epochs; for
fgsm the t-SNE points and the number of attacked nets); the per-unit costs come from their
differences, and the defaults' counts from the documented rules: a per-iteration curve keeps every
iteration of its last epoch and at most POINTS_PER_PAST_EPOCH of each earlier one.
Torch-free: the jobs run in the engine's worker.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from jobs.context import POINTS_PER_PAST_EPOCH
from runs.paths import HomePaths
from runs.records import JobRequest
from runs.store import Store

RUN_TABLES = ("jobs", "attempts", "metrics", "logs", "result_tables", "artifacts")


def iterations(samples: int, batch_size: int) -> int:
    """jobs/training.batch_starts: a trailing batch of one is dropped."""
    return sum(1 for i in range(0, samples, batch_size) if min(batch_size, samples - i) >= 2)


def curve_points(samples: int, batch_size: int, epochs: int) -> int:
    """Points one per-iteration curve keeps after `epochs` epochs (the thinning rule)."""
    per_epoch = iterations(samples, batch_size)
    past = per_epoch
    if per_epoch > POINTS_PER_PAST_EPOCH:  # buckets of ceil(n / 100) consecutive iterations, the last one shorter
        past = math.ceil(per_epoch / math.ceil(per_epoch / POINTS_PER_PAST_EPOCH))
    return past * (epochs - 1) + per_epoch


def table_bytes(store: Store) -> dict[str, int]:
    """Bytes in use per run table, its indexes included."""
    rows = store.query("SELECT m.tbl_name, sum(d.pgsize - d.unused) FROM dbstat d "
                       "JOIN sqlite_schema m ON m.name = d.name GROUP BY m.tbl_name")
    used = {r[0]: r[1] for r in rows}
    return {t: used.get(t, 0) for t in RUN_TABLES}


def run_files(home: Path, store: Store, job_id: int) -> dict[str, int]:
    """Bytes of the run's folder, by the kind of artifact each file is (`other` for unnamed files)."""
    folder = HomePaths(home).artifacts(job_id)
    kinds = {r[0]: r[1] for r in store.query("SELECT path, kind FROM artifacts WHERE job_id = ?", (job_id,))}
    sizes: dict[str, int] = {}
    for path in folder.rglob("*") if folder.is_dir() else []:
        if path.is_file():
            kind = kinds.get(str(path.relative_to(folder)), "other")
            sizes[kind] = sizes.get(kind, 0) + path.stat().st_size
    return sizes


@dataclass
class Measured:
    label: str
    spec: dict
    job_id: int
    seconds: float
    db: dict[str, int]
    files: dict[str, int]
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.db.values()) + sum(self.files.values())


def measure(home: Path, store: Store, kind: str, spec: dict, label: str, data: str,
            timeout_s: float = 900) -> Measured:
    """Run one job on the running engine and measure what it added."""
    before = table_bytes(store)
    t0 = time.perf_counter()
    job_id = store.submit([JobRequest(kind, spec, data_dir=data)])[0]
    deadline = time.monotonic() + timeout_s
    while not (job := store.job(job_id)).finished:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label} did not finish within {timeout_s:.0f} s")
        time.sleep(0.2)
    if job.status != "done":
        raise RuntimeError(f"{label} ended {job.status}: {job.reason}")
    seconds = time.perf_counter() - t0
    after = table_bytes(store)
    rows = {t: store.query(f"SELECT count(*) FROM {t} WHERE {'id' if t == 'jobs' else 'job_id'} = ?",
                           (job_id,))[0][0] for t in RUN_TABLES}
    return Measured(label, spec, job_id, seconds, {t: after[t] - before[t] for t in RUN_TABLES},
                    run_files(home, store, job_id), rows)


def per_unit(a: Measured, b: Measured, units_a: float, units_b: float) -> dict[str, float]:
    """Bytes per unit of what differs between runs a and b, for every table and file kind."""
    span = units_b - units_a
    parts = {f"db:{t}": (b.db[t] - a.db[t]) / span for t in a.db}
    for k in set(a.files) | set(b.files):
        parts[f"file:{k}"] = (b.files.get(k, 0) - a.files.get(k, 0)) / span
    return parts


def parts_of(m: Measured) -> dict[str, int]:
    return {**{f"db:{t}": v for t, v in m.db.items()}, **{f"file:{k}": v for k, v in m.files.items()}}


def extrapolate(base: Measured, slopes: list[tuple[dict[str, float], float]]) -> dict[str, float]:
    """`base`'s parts plus, for each (bytes per unit, units more than base), the growth."""
    out = {k: float(v) for k, v in parts_of(base).items()}
    for slope, more in slopes:
        for k, v in slope.items():
            out[k] = out.get(k, 0.0) + v * more
    return out


# -- the kinds at their study defaults ------------------------------------------------------------------

def metric_rows(kind: str, spec: dict) -> int:
    """Metric rows a finished run keeps: its per-iteration curves thinned, plus its per-epoch series."""
    if kind in ("train", "augment"):  # train/loss; train/loss_epoch, val/loss, val/accuracy
        return curve_points(spec["samples"], spec["batch_size"], spec["epochs"]) + 3 * spec["epochs"]
    if kind == "gan":  # gan/g_loss, gan/d_loss; d_real, d_fake, g_loss_epoch, d_loss_epoch
        return 2 * curve_points(spec["samples"], spec["batch_size"], spec["epochs"]) + 4 * spec["epochs"]
    return 0


DEFAULTS = {  # the figures stated: each study's regime(s), with its defaults
    "train": [("net 10.1, 1,000 images x 10 epochs", {"samples": 1000, "epochs": 10, "batch_size": 64}),
              ("net 10.1, 60,000 images x 4 epochs", {"samples": 60000, "epochs": 4, "batch_size": 64})],
    "augment": [("net B, 1,000 images x 100 epochs", {"samples": 1000, "epochs": 100, "batch_size": 64})],
    "gan": [("dcgan, 60,000 images x 10 epochs", {"samples": 60000, "epochs": 10, "batch_size": 64})],
    "fgsm": [("6 nets, 6 eps, 3 t-SNE maps of 2,000 points", {"nets": 6, "tsne_points": 2000})],
}


def epoch_kind(home: Path, store: Store, kind: str, short: dict, epochs: tuple[int, int], data: str,
               log) -> dict:
    """Two runs that differ in epochs. The metrics table and the checkpoint (which carries the metric history)
    grow per metric row; log rows, artifact rows and images (the GAN's sample grid) per epoch; the rest is
    the first run's (the job's row, its tables, the weights)."""
    runs = []
    for e in epochs:
        log(f"  {kind}: {short} for {e} epoch(s)")
        runs.append(measure(home, store, kind, {**short, "epochs": e}, f"{kind} {e} epochs", data))
    a, b = runs
    per_row = per_unit(a, b, a.rows["metrics"], b.rows["metrics"])
    per_epoch = per_unit(a, b, *epochs)
    row_parts, epoch_parts = {"db:metrics", "file:checkpoint"}, {"db:logs", "db:artifacts", "file:image"}
    slope_row = {k: v for k, v in per_row.items() if k in row_parts}
    slope_epoch = {k: v for k, v in per_epoch.items() if k in epoch_parts}
    derived = []
    for label, spec in DEFAULTS[kind]:
        rows = metric_rows(kind, spec)
        parts = extrapolate(a, [(slope_row, rows - a.rows["metrics"]), (slope_epoch, spec["epochs"] - epochs[0])])
        derived.append({"label": label, "metric_rows": rows, "bytes": sum(parts.values()), "parts": parts})
    return {"measured": [vars_of(m, kind) for m in runs], "derived": derived,
            "bytes_per_metric_row": {k: per_row[k] for k in row_parts if k in per_row},
            "bytes_per_epoch_other": sum(slope_epoch.values())}


def fgsm_kind(home: Path, store: Store, nets: list[int], short: dict, data: str, log) -> dict:
    """bytes(N nets, P t-SNE points) = c0 + N*a + N*P*b, from three runs: (2, P), (2, 2P), (3, P)."""
    p = short["tsne_points"]
    plans = [(nets[:2], p), (nets[:2], 2 * p), (nets[:3], p)]
    runs = []
    for ids, points in plans:
        spec = {**short, "nets": ids, "names": [f"n{i + 1}" for i in range(len(ids))], "tsne_points": points}
        log(f"  fgsm: {len(ids)} nets, {points} t-SNE points")
        runs.append(measure(home, store, "fgsm", spec, f"fgsm {len(ids)} nets {points} points", data))
    a, b, c = runs
    per_net_point = per_unit(a, b, 2 * p, 4 * p)
    per_net = per_unit(a, c, 2, 3)  # a net more, at p points: a + p*b
    derived = []
    for label, want in DEFAULTS["fgsm"]:
        n, points = want["nets"], want["tsne_points"]
        parts = extrapolate(a, [(per_net, n - 2), (per_net_point, n * points - 2 * p - (n - 2) * p)])
        derived.append({"label": label, "bytes": sum(parts.values()), "parts": parts})
    return {"measured": [vars_of(m, "fgsm") for m in runs], "derived": derived}


def vars_of(m: Measured, kind: str) -> dict:
    out = {"label": m.label, "job_id": m.job_id, "seconds": m.seconds, "bytes": m.total, "db": m.db,
           "files": m.files, "rows": m.rows}
    if kind in ("train", "augment", "gan"):
        out["metric_rows_by_rule"] = metric_rows(kind, m.spec)
    return out
