"""Devices: each engine slot with the job on it; GPU use and memory (NVML) where GPUs exist; CPU and RAM always."""

from __future__ import annotations

import platform
import time

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui import format as fmt
from tui.live import Changes
from tui.screens.base import LabScreen
from tui.sysinfo import Sample, Sampler

SAMPLE_S = 1.0


def size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return "-"


def meter(fraction: float | None, width: int = 12, style: str = "cyan") -> Text:
    if fraction is None:
        return Text("-".ljust(width), style="dim")
    fraction = max(0.0, min(1.0, fraction))
    colour = "red" if fraction > 0.9 else "yellow" if fraction > 0.7 else style
    return Text(fmt.bar(fraction, width), style=colour)


def _here(slot: dict) -> bool:
    """Whether the slot's worker runs on this machine (a pid elsewhere in a cluster is not ours to sample)."""
    host = (slot.get("host") or "").split()
    return not slot.get("node") or (bool(host) and host[0] == platform.node())


def _node_cell(slot: dict, nodes: dict[str, str]) -> Text:
    out = Text()
    if slot.get("lost"):
        out.append("lost ", style="bold red")
    out.append(nodes.get(slot.get("node"), "-"), style="bold")
    if slot.get("host"):  # its name, without the address (`engine status` has both)
        out.append(f" {slot['host'].split()[0]}", style="dim")
    if slot.get("labels"):
        out.append(f" [{', '.join(slot['labels'])}]", style="cyan")
    return out


def _gpu_meters(util: float | None, used: int | None, total: int | None) -> Text:
    """A GPU's use: a meter and percent, then a memory meter and used/total (bytes); '-' where unknown."""
    fraction = used / total if used is not None and total else None
    return Text.assemble(meter(util / 100 if util is not None else None, 6),
                         f" {util:.0f}% " if util is not None else " - ", meter(fraction, 6, "magenta"),
                         f" {size(used)}/{size(total)}")


def _remote_gpu(slot: dict) -> Text:
    util, used, total = slot.get("gpu_util"), slot.get("gpu_mem_used_mb"), slot.get("gpu_mem_total_mb")
    if util is None and used is None:
        return Text(f"{slot.get('gpu_name') or 'GPU'}: no numbers from its node yet", style="dim")
    return _gpu_meters(util, int(used * 2**20) if used is not None else None, int(total * 2**20) if total else None)


class DevicesScreen(LabScreen):
    MODE = "devices"
    DEFAULT_CSS = """
    DevicesScreen VerticalScroll { padding: 0 1; }
    DevicesScreen Static { margin-bottom: 1; }
    """

    def __init__(self):
        super().__init__()
        self.sampler = Sampler()
        self.last: Sample | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="engine-info")
            yield Static(id="slots")
            yield Static(id="system")

    def on_mount(self) -> None:
        super().on_mount()
        self.timer = self.set_interval(SAMPLE_S, self.sample, name="device sampling")
        self.sample()

    def on_screen_suspend(self) -> None:
        self.timer.pause()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.timer.resume()
        self.sample()

    def on_unmount(self) -> None:
        self.sampler.close()

    def on_changes(self, changes: Changes | None) -> None:
        if changes is None or changes.engine or changes.jobs:
            self.guard(self.show)

    def sample(self) -> None:
        def run():
            row = self.app.store.engine_row() if self.app.live.engine_running else None
            pids = [s["worker_pid"] for s in (row or {}).get("slots", []) if s.get("worker_pid") and _here(s)]
            self.last = self.sampler.sample(pids)
            self.show(row)

        self.guard(run)

    def show(self, row: dict | None = None) -> None:
        live = self.app.live
        if row is None and live.engine_running:
            row = self.app.store.engine_row()
        sample = self.last or Sample()
        info = self.query_one("#engine-info", Static)
        if not live.engine_running:
            info.update(Text.assemble(("engine: not running", "bold yellow"),
                                      ("  (press E to start it, or run `mnistlab engine start`)", "dim")))
        else:
            started = row.get("started_at") if row else None
            beat = row.get("heartbeat_at") if row else None
            info.update(Text.assemble(("engine ", "bold"), (f"pid {live.engine_pid}", "green"),
                                      (f"  up {fmt.duration(time.time() - started) if started else '-'}", "dim"),
                                      (f"  heartbeat {fmt.ago(beat)}", "dim"),
                                      (f"  data folder {self.app.store.paths.root}", "dim")))
        self.query_one("#slots", Static).update(self._slots_table(row, sample))
        self.query_one("#system", Static).update(self._system(sample))

    def _slots_table(self, row: dict | None, sample: Sample):
        slots = (row or {}).get("slots") or []
        if not slots:
            return Text("no slots: the engine is not running" if not self.app.live.engine_running
                        else "the engine reports no slots yet", style="dim")
        gpus = {g.index: g for g in sample.gpus}
        table = Table(box=box.SIMPLE_HEAD, title="slots", title_justify="left", title_style="bold",
                      pad_edge=False, expand=True)
        cluster = any(slot.get("node") for slot in slots)
        nodes = {slot["node"]: slot["name"].split(".")[0] for slot in slots if slot.get("node")}
        table.add_column("slot", no_wrap=True)
        if cluster:  # slots on a cluster's machines: which one, its labels, and whether it was lost
            table.add_column("node", overflow="fold")
        table.add_column("job", ratio=3)  # a job fits one line; a slot's problem wraps to be read whole
        table.add_column("worker", no_wrap=True, justify="right")
        table.add_column("cpu", no_wrap=True, justify="right")
        table.add_column("rss", no_wrap=True, justify="right")
        table.add_column("gpu use / memory", no_wrap=True)  # as wide as its numbers; the job takes the rest
        for slot in slots:
            job = self.app.live.job(slot["job_id"]) if slot.get("job_id") else None
            if job is not None:
                what = Text.assemble((f"#{job.id} ", "bold"), f"{job.kind} {job.short_spec()} ",
                                     (f"{fmt.bar(job.progress, 6)} {job.progress * 100:.0f}%", "cyan"),
                                     no_wrap=True, overflow="ellipsis")
            elif slot.get("lost"):
                what = Text("its node left the cluster: jobs run on the other slots", style="red")
            elif slot.get("problem"):  # a worker that would not start: why, and when it tries again
                what = Text(slot["problem"], style="yellow")
            else:
                what = Text("idle" if slot.get("ready") else "starting worker…", style="dim")
            proc = sample.procs.get(slot.get("worker_pid")) if _here(slot) else None
            gpu_cell: Text
            index = slot.get("gpu")
            if slot.get("lost"):
                gpu_cell = Text("-", style="dim")
            elif index is None:
                gpu_cell = Text("cpu slot", style="dim")
            elif slot.get("pretend"):
                gpu_cell = Text("pretend GPU (runs on the CPU)", style="dim")
            elif slot.get("node"):  # another machine's GPU: the numbers its node read, not this machine's
                gpu_cell = _remote_gpu(slot)
            elif index in gpus:
                g = gpus[index]
                gpu_cell = _gpu_meters(g.util, g.mem_used, g.mem_total)
            else:
                gpu_cell = Text(sample.gpu_problem or f"GPU {index}: no numbers", style="dim")
            where = [_node_cell(slot, nodes)] if cluster else []
            table.add_row(Text(slot.get("name", "?"), style="bold"), *where, what,
                          str(slot.get("worker_pid") or "-") if not slot.get("lost") else "-",
                          f"{proc.cpu:.0f}%" if proc and proc.cpu is not None else "-",
                          size(proc.rss) if proc else "-", gpu_cell)
        return table

    def _system(self, sample: Sample):
        parts = [Text("this machine", style="bold")]
        cores = sample.cpu_per_core
        line = Text.assemble(("cpu  ", "dim"), meter(sample.cpu_total / 100, 20), f" {sample.cpu_total:5.1f}%",
                             (f"  {len(cores)} cores", "dim"))
        if sample.load:
            line.append(f"  load {sample.load[0]:.2f} {sample.load[1]:.2f} {sample.load[2]:.2f}", style="dim")
        parts.append(line)
        if cores and len(cores) <= 64:
            per = Text("     ")
            for value in cores:
                per.append("▁▂▃▄▅▆▇█"[min(7, int(value / 100 * 8))], style="cyan")
            parts.append(per)
        mem = sample.mem_used / sample.mem_total if sample.mem_total else None
        parts.append(Text.assemble(("ram  ", "dim"), meter(mem, 20, "magenta"),
                                   f" {size(sample.mem_used)} of {size(sample.mem_total)}"))
        if sample.gpus:
            parts.append(Text(""))
            parts.append(Text("GPUs", style="bold"))
            for g in sample.gpus:
                used = g.mem_used / g.mem_total if g.mem_used is not None and g.mem_total else None
                parts.append(Text.assemble(
                    (f"gpu {g.index} ", "bold"), (f"{g.name[:28]:<28} ", "dim"),
                    meter(g.util / 100 if g.util is not None else None, 10),
                    f" {g.util:3.0f}% " if g.util is not None else "  -  ",
                    meter(used, 10, "magenta"), f" {size(g.mem_used)}/{size(g.mem_total)}",
                    (f"  {g.temperature}°C" if g.temperature is not None else "", "dim")))
        elif sample.gpu_problem:
            parts.append(Text(sample.gpu_problem, style="dim"))
        return Group(*parts)
