"""`mnistlab engine start|stop|status|run`."""

from __future__ import annotations

import time
from typing import Optional

import typer
from rich import box
from rich.table import Table

from engine import control
from tui import format as fmt
from tui.cli.common import EXIT_FAILED, JsonOpt, console, fail, print_json, store

engine_app = typer.Typer(help="The background engine that runs jobs (one per data folder).", no_args_is_help=True)

SlotsOpt = typer.Option(None, "--gpu-slots", help="Worker slots per GPU (default 1, or MNISTLAB_GPU_SLOTS).")
CpuOpt = typer.Option(None, "--cpu-slots", help="CPU slots without GPUs (default cores/4, or MNISTLAB_CPU_SLOTS).")


@engine_app.command()
def start(gpu_slots: Optional[int] = SlotsOpt, cpu_slots: Optional[int] = CpuOpt, as_json: bool = JsonOpt) -> None:
    """Start the engine in the background (it outlives this terminal)."""
    for name, value in (("--gpu-slots", gpu_slots), ("--cpu-slots", cpu_slots)):
        if value is not None and not 1 <= value <= 64:
            fail(f"{name} {value} is out of range; allowed: 1 to 64")
    try:
        pid, started = control.start(gpu_slots=gpu_slots, cpu_slots=cpu_slots)
    except control.EngineError as exc:
        fail(str(exc), EXIT_FAILED)
    if as_json:
        print_json({"pid": pid, "started": started})
    else:
        console.print(f"engine {'started' if started else 'already running'}: pid {pid}")


@engine_app.command()
def stop(as_json: bool = JsonOpt) -> None:
    """Stop the engine; running jobs go back to the queue and resume from their checkpoint later."""
    try:
        pid = control.stop()
    except control.EngineError as exc:
        fail(str(exc), EXIT_FAILED)
    if as_json:
        print_json({"stopped": pid})
    else:
        console.print(f"engine {pid} stopped" if pid else "no engine was running")


@engine_app.command()
def status(as_json: bool = JsonOpt) -> None:
    """Whether the engine runs: pid, slots, what runs where."""
    pid = control.engine_pid()
    s = store()
    row = s.engine_row() or {}
    queued = len(s.jobs(status=["queued"]))
    info = {"running": pid is not None, "pid": pid, "home": str(s.paths.root), "log": str(s.paths.engine_log),
            "started_at": row.get("started_at") if pid else None,
            "heartbeat_at": row.get("heartbeat_at") if pid else None,
            "slots": row.get("slots", []) if pid else [], "queued_jobs": queued}
    if as_json:
        print_json(info)
        return
    if pid is None:
        console.print(f"engine: not running (data folder {info['home']}); {queued} job(s) queued. "
                      "Start it with `mnistlab engine start`.")
        return
    console.print(f"engine: running, pid {pid}, up {fmt.duration(time.time() - (info['started_at'] or time.time()))}, "
                  f"last heartbeat {fmt.ago(info['heartbeat_at'])}; {queued} job(s) queued")
    console.print(f"[dim]data folder {info['home']}, log {info['log']}[/]")
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("slot", "device", "worker", "job"):
        table.add_column(col)
    for slot in info["slots"]:
        worker = str(slot["worker_pid"]) + ("" if slot["ready"] else " (starting)") if slot["worker_pid"] else "-"
        job = "-"
        if slot["job_id"]:
            j = s.job(slot["job_id"])
            job = f"{j.id} {j.kind} {j.short_spec()} {j.progress * 100:.0f}%"
        elif slot.get("problem"):
            job = f"[red]{slot['problem']}[/]"
        table.add_row(slot["name"], slot["label"], worker, job)
    console.print(table)


@engine_app.command("run", hidden=True)
def run_foreground(gpu_slots: Optional[int] = SlotsOpt, cpu_slots: Optional[int] = CpuOpt) -> None:
    """Run the engine in this terminal (for debugging)."""
    from engine.__main__ import main as engine_main

    args = []
    if gpu_slots:
        args += ["--gpu-slots", str(gpu_slots)]
    if cpu_slots:
        args += ["--cpu-slots", str(cpu_slots)]
    raise typer.Exit(engine_main(args))
