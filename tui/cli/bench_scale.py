"""`mnistlab bench scale`: what a large store costs, as ratios against a small one measured in the same run.

Each store lives in its own temporary data folder, filled through the store's own API (finished runs,
then queued one-epoch jobs on 64 images; `engine/bench_scale.py`). On each, in this order:

1. `ls` and `ls --status done`: the real program as a child process, wall time, median of `--repeats`
   (no engine running);
2. one job streams (net 1, many epochs, queued ahead of the short jobs) on an engine with one CPU slot;
   the real dashboard at 80x24 in a pseudo-terminal: first paint (`bench tui`'s measure), then its CPU
   over `--seconds` on the queue screen;
3. the streaming job is cancelled and the engine runs the short jobs: its CPU and the gap between one
   job's end and the next one's start, over `--measured` jobs after `--warmup`.

The engine and every dashboard are stopped, and both folders removed, whatever happens.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from runs.records import InputError
from tui.cli.bench_cmd import OutOpt, bench_app, report
from tui.cli import bench_tui  # the pty and its measures (a module: bench_tui may be mid-import)
from tui.cli.common import JsonOpt, console, err

RATIO_GOAL = 1.5
SIZE = (80, 24)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    below: float | None = None  # the goal for the large store's value, if the issue sets one

    def value(self, measured: dict) -> float | None:
        part, _, name = self.key.partition(".")
        return measured[part].get(name)


METRICS = (
    Metric("dashboard.first_paint_s", "tui first paint (s)", below=0.5),
    Metric("dashboard.cpu_percent", "tui CPU, 1 job streams %"),
    Metric("engine.cpu_percent", "engine CPU, short jobs %"),
    Metric("engine.gap_median_ms", "job gap, median (ms)", below=20),
    Metric("engine.gap_p95_ms", "job gap, p95 (ms)"),
    Metric("ls.ls_s", "ls (s)"),
    Metric("ls.ls_done_s", "ls --status done (s)"),
)


@dataclass(frozen=True)
class Plan:
    repeats: int
    seconds: float
    warmup: int
    measured: int
    stream_samples: int
    data: str


def time_ls(home: Path, args: list[str], repeats: int) -> float:
    """Median wall time of the real `mnistlab ls ARGS` on `home`."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        env = bench_tui._env({"MNISTLAB_HOME": str(home), "COLUMNS": "120"})
        proc = subprocess.run([sys.executable, "-m", "tui.cli.main", "ls", *args], capture_output=True, text=True,
                              env=env, cwd=str(bench_tui.REPO))
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"`mnistlab ls {' '.join(args)}` exited {proc.returncode}: {proc.stderr.strip()}")
    return statistics.median(times)


def wait_streaming(store, job_id: int, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = store.job(job_id)
        if job.finished:
            raise RuntimeError(f"the streaming job {job_id} ended early: {job.status}, {job.reason}")
        if job.status == "running" and job.progress > 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the streaming job {job_id} did not start within {timeout_s:.0f} s")


def dashboard_phase(home: Path, total: int, repeats: int, seconds: float, log) -> dict:
    """`repeats` starts of the dashboard timed to their first frame with data; the last one stays on its
    queue screen for the CPU window while the job streams."""
    paints, cpu = [], None
    for n in range(repeats):
        term = bench_tui.dashboard(home, *SIZE)
        try:
            painted = term.wait_for(bench_tui.queue_painted(total), 120)
            if painted is None:
                log(f"  no queue frame seen; the dashboard's output ends:\n{term.text()[-400:]}")
                continue
            paints.append(painted)
            if n == repeats - 1:
                time.sleep(min(2.0, seconds))  # settle after the start
                cpu = bench_tui.cpu_phase(term, seconds)
        finally:
            term.quit()
    return {"first_paint_s": statistics.median(paints) if paints else None, "first_paints_s": paints,
            "cpu_percent": cpu}


def measure_store(runs: int, queued: int, plan: Plan, log) -> dict:
    """Build one store in a temporary data folder and measure everything on it."""
    from engine import bench_scale, control
    from runs.records import JobRequest
    from runs.store import Store

    with tempfile.TemporaryDirectory(prefix="mnistlab-bench-scale-") as tmp:
        home = Path(tmp) / "home"
        store = Store(home)
        t0 = time.perf_counter()
        bench_scale.fill_finished(store, runs)
        short_ids = bench_scale.fill_queued(store, queued)
        build_s = time.perf_counter() - t0
        log(f"  store of {runs:,} runs and {queued:,} queued built in {build_s:.1f} s; ls and ls --status done")
        ls = {"ls_s": time_ls(home, [], plan.repeats), "ls_done_s": time_ls(home, ["--status", "done"], plan.repeats)}
        stream = store.submit([JobRequest("train", {"net": "1", "samples": plan.stream_samples, "epochs": 1000},
                                          priority=1, data_dir=plan.data)])[0]
        total = runs + queued + 1
        try:
            pid = bench_scale.start_engine(home, plan.data)
            wait_streaming(store, stream)
            log(f"  one job streaming: dashboard first paint x{plan.repeats}, then its CPU over {plan.seconds:g} s")
            m0 = store.query("SELECT count(*) FROM metrics WHERE job_id = ?", (stream,))[0][0]
            ui = dashboard_phase(home, total, plan.repeats, plan.seconds, log)
            ui["stream_metric_rows"] = store.query("SELECT count(*) FROM metrics WHERE job_id = ?",
                                                   (stream,))[0][0] - m0
            store.cancel(stream)
            log(f"  engine on the short jobs: {plan.warmup} to warm up, {plan.measured} measured")
            queue = bench_scale.measure_queue(store, pid, short_ids, plan.warmup, plan.measured)
        finally:
            control.stop(home)
            store.close()
    return {"runs": runs, "queued": queued, "build_s": build_s, "ls": ls,
            "dashboard": ui,
            "engine": {"cpu_percent": queue["engine_cpu_percent"], "gap_median_ms": queue["gap_ms"]["median"],
                       "gap_p95_ms": queue["gap_ms"]["p95"], "gap_max_ms": queue["gap_ms"]["max"],
                       "jobs_per_minute": queue["jobs_per_minute"], "jobs_measured": queue["jobs_measured"],
                       "gaps_measured": queue["gaps_measured"], "done": queue["done"], "failed": queue["failed"]}}


def compare(small: dict, large: dict) -> list[dict]:
    """A row per metric: both values, large/small, the goals and whether they are met."""
    rows = []
    for m in METRICS:
        s, g = m.value(small), m.value(large)
        ratio = g / s if s and g is not None else None
        met = None
        if ratio is not None:
            met = ratio <= RATIO_GOAL and (m.below is None or g < m.below)
        rows.append({"metric": m.key, "label": m.label, "small": s, "large": g, "ratio": ratio,
                     "goal_ratio": RATIO_GOAL, "goal_below": m.below, "met": met})
    return rows


def run(small: tuple[int, int], large: tuple[int, int], plan: Plan, log) -> dict:
    load_before = os.getloadavg()
    stores = {}
    for name, (runs, queued) in (("small", small), ("large", large)):
        log(f"{name} store: {runs:,} finished runs, {queued:,} queued short jobs")
        stores[name] = measure_store(runs, queued, plan, log)
    return {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0],
                        "load_average_before": list(load_before), "load_average_after": list(os.getloadavg())},
            "plan": {"repeats": plan.repeats, "seconds": plan.seconds, "warmup": plan.warmup,
                     "measured": plan.measured, "stream_samples": plan.stream_samples, "size": "%dx%d" % SIZE},
            "stores": stores, "rows": compare(stores["small"], stores["large"])}


def print_table(results: dict) -> None:
    from rich.table import Table

    small, large = results["stores"]["small"], results["stores"]["large"]
    table = Table(title=f"bench scale: {large['runs']:,} runs + {large['queued']:,} queued vs "
                        f"{small['runs']:,} + {small['queued']:,}")
    for col in ("metric", "small", "large", "large/small", "goal", "met?"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    number = lambda v: "-" if v is None else f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"  # noqa: E731
    for r in results["rows"]:
        goal = f"<={r['goal_ratio']:g}x" + (f", <{r['goal_below']:g}" if r["goal_below"] is not None else "")
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[r["met"]]
        table.add_row(r["label"], number(r["small"]), number(r["large"]),
                      "-" if r["ratio"] is None else f"{r['ratio']:.2f}", goal, met)
    console.print(table)
    load = results["machine"]["load_average_before"]
    console.print(f"tui: the dashboard at {results['plan']['size']}, CPU in % of one core on its queue screen; "
                  f"job gap: one short job's end to the next one's start on the engine's one CPU slot. "
                  f"{results['machine']['cores']} cores, load average {load[0]:.2f} at the start; stores built in "
                  f"{small['build_s']:.1f} s and {large['build_s']:.1f} s.")


@bench_app.command("scale")
def scale_bench(small_runs: int = typer.Option(2000, "--small-runs", min=0, max=1_000_000,
                                               help="Finished runs in the small store."),
                small_queued: int = typer.Option(60, "--small-queued", min=3, max=1_000_000,
                                                 help="Queued short jobs in the small store."),
                large_runs: int = typer.Option(100_000, "--large-runs", min=0, max=1_000_000,
                                               help="Finished runs in the large store."),
                large_queued: int = typer.Option(10_000, "--large-queued", min=3, max=1_000_000,
                                                 help="Queued short jobs in the large store."),
                repeats: int = typer.Option(3, "--repeats", min=1, max=20,
                                            help="Dashboard starts and `ls` calls timed (the median counts)."),
                seconds: float = typer.Option(10.0, "--seconds", min=0.2, max=600,
                                              help="Length of the dashboard's CPU window."),
                warmup: int = typer.Option(5, "--warmup", min=0, max=1000,
                                           help="Short jobs the engine runs before its measure starts."),
                measured: int = typer.Option(30, "--measured", min=2, max=10000,
                                             help="Short jobs the engine's CPU and gaps are measured over."),
                stream_samples: int = typer.Option(10000, "--stream-samples", min=256, max=60000,
                                                   help="Training images of the streaming job."),
                as_json: bool = JsonOpt, out: Optional[Path] = OutOpt) -> None:
    """A large store against a small one: dashboard start and CPU, engine CPU and dispatch gap, `ls` times."""
    from tui.cli.queueing import data_folder

    for name, queued in (("--small-queued", small_queued), ("--large-queued", large_queued)):
        if warmup + measured > queued:
            raise InputError(f"{name} {queued} is not allowed; allowed: at least --warmup + --measured "
                             f"({warmup + measured}) short jobs")
    plan = Plan(repeats, seconds, warmup, measured, stream_samples, str(data_folder().folder))
    results = run((small_runs, small_queued), (large_runs, large_queued), plan, log=lambda m: err.print(m))
    report(results, as_json, out)
    if not as_json:
        print_table(results)
