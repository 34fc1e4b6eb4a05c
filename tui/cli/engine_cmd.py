"""`mnistlab engine start|stop|status|run`."""

from __future__ import annotations

import time
from typing import Optional

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from engine import control, ray_config
from runs.records import InputError
from tui import format as fmt
from tui.cli.common import EXIT_FAILED, JsonOpt, console, fail, print_json, store

engine_app = typer.Typer(help="The background engine that runs jobs (one per data folder).", no_args_is_help=True)

SlotsOpt = typer.Option(None, "--gpu-slots", help="Worker slots per GPU (default 1, or MNISTLAB_GPU_SLOTS).")
CpuOpt = typer.Option(None, "--cpu-slots", help="CPU slots without GPUs (default cores/4, or MNISTLAB_CPU_SLOTS; "
                      "on a Ray cluster: per node without GPUs).")
RayOpt = typer.Option(None, "--ray", metavar="auto|local|HOST:PORT",
                      help="Run the slots on a Ray cluster: the one this machine belongs to (auto), a private one "
                           "(local) or the head at HOST:PORT. Default: MNISTLAB_RAY. Needs mnistlab[ray].")


def ray_target(value: str | None) -> str | None:
    """The checked Ray target of `--ray` (or MNISTLAB_RAY); exits 2 saying why if it cannot be used."""
    target = ray_config.chosen(value)
    if target is not None:
        try:
            ray_config.check(target)
            ray_config.require_ray()
        except InputError as exc:
            fail(str(exc))
    return target


@engine_app.command()
def start(gpu_slots: Optional[int] = SlotsOpt, cpu_slots: Optional[int] = CpuOpt, ray: Optional[str] = RayOpt,
          as_json: bool = JsonOpt) -> None:
    """Start the engine in the background (it outlives this terminal)."""
    for name, value in (("--gpu-slots", gpu_slots), ("--cpu-slots", cpu_slots)):
        if value is not None and not 1 <= value <= 64:
            fail(f"{name} {value} is out of range; allowed: 1 to 64")
    target = ray_target(ray)
    try:
        pid, started = control.start(gpu_slots=gpu_slots, cpu_slots=cpu_slots, ray=target)
    except control.EngineError as exc:
        fail(str(exc), EXIT_FAILED)
    if as_json:
        print_json({"pid": pid, "started": started})
        return
    console.print(f"engine {'started' if started else 'already running'}: pid {pid}"
                  + (f", slots on Ray ({target}): see `mnistlab engine status`" if started and target else ""))
    slots = (store().engine_row() or {}).get("slots", [])
    if not started and target and slots and not any(s.get("node") for s in slots):
        console.print("[yellow]it runs local worker processes, not Ray: `mnistlab engine stop` first[/]")


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
    console.print(slots_table(info["slots"], s))


def slots_table(slots: list[dict], s) -> Table:
    """A row per slot; on a cluster also its node (lost ones say so) and its GPU's use as read there."""
    cluster = any(slot.get("node") for slot in slots)
    gpu_use = any(slot.get("gpu_util") is not None for slot in slots)
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("slot", "device", *(["node"] if cluster else []), "worker", *(["gpu use"] if gpu_use else []), "job"):
        table.add_column(col)
    nodes = {slot["node"]: slot["name"].split(".")[0] for slot in slots if slot.get("node")}
    for slot in slots:
        worker = "-"
        if slot["worker_pid"] and not slot.get("lost"):
            worker = str(slot["worker_pid"]) + ("" if slot["ready"] else " (starting)")
        job = "-"
        if slot["job_id"]:
            j = s.job(slot["job_id"])
            job = escape(f"{j.id} {j.kind} {j.short_spec()} {j.progress * 100:.0f}%")
        elif slot.get("problem"):
            job = f"[red]{escape(slot['problem'])}[/]"
        node = []
        if cluster:
            labels = f" [{', '.join(slot['labels'])}]" if slot.get("labels") else ""
            node = [("[red]lost[/] " if slot.get("lost") else "")
                    + escape(f"{nodes.get(slot.get('node'), '-')} {slot.get('host') or ''}{labels}")]
        use = [fmt.gpu_use(slot)] if gpu_use else []
        table.add_row(escape(slot["name"]), escape(slot["label"]), *node, worker, *use, job)
    return table


@engine_app.command("run", hidden=True)
def run_foreground(gpu_slots: Optional[int] = SlotsOpt, cpu_slots: Optional[int] = CpuOpt,
                   ray: Optional[str] = RayOpt) -> None:
    """Run the engine in this terminal (for debugging)."""
    from engine.__main__ import main as engine_main

    args = []
    if gpu_slots:
        args += ["--gpu-slots", str(gpu_slots)]
    if cpu_slots:
        args += ["--cpu-slots", str(cpu_slots)]
    target = ray_target(ray)
    if target:
        args += ["--ray", target]
    raise typer.Exit(engine_main(args))
