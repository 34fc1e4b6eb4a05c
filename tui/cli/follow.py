"""`mnistlab follow ID`: a job's progress, loss curve and metrics, live, in a plain terminal.

Reads the store incrementally (metrics and log rows newer than the last
seen id), so following a long job costs a few small queries a second.
"""

from __future__ import annotations

import collections
import json
import math
import sys
import time

import typer
from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from runs.jsonsafe import json_safe
from runs.records import Job
from runs.store import Store
from tui import format as fmt
from tui.cli.common import EXIT_FAILED, EXIT_OK, JsonOpt, console, fail, parse_id, store
from tui.cli.jobs_cmd import log_line
from tui.cli.views import epochs_table, status_text
from tui.cli.waiting import EngineGone, EngineWatch


class Follower:
    def __init__(self, s: Store, job_id: int):
        self.store, self.job_id = s, job_id
        self.job: Job = s.job(job_id)
        self.series: dict[str, list[tuple[int, float]]] = collections.defaultdict(list)
        self.logs: collections.deque = collections.deque(maxlen=6)
        self.metric_id = self.log_id = 0
        self.watch = EngineWatch(s, restart=False)

    def poll(self) -> tuple[list, list]:
        """Read what is new; returns (new metric rows, new log rows). Raises EngineGone if the engine stopped."""
        self.job = self.store.job(self.job_id)
        self.watch.check([self.job])
        metrics = self.store.metrics(self.job_id, after_id=self.metric_id)
        for row in metrics:
            points = self.series[row["name"]]
            if points and points[-1][0] >= row["step"]:  # a resumed job rewrites steps
                points[:] = [p for p in points if p[0] < row["step"]]
            points.append((row["step"], row["value"]))
        if metrics:
            self.metric_id = metrics[-1]["id"]
        logs = self.store.logs(self.job_id, after_id=self.log_id)
        self.logs.extend(logs)
        if logs:
            self.log_id = logs[-1]["id"]
        return metrics, logs

    def render(self, width: int, height: int = 40) -> Panel:
        """Fits the terminal: the plot, the epoch rows and the log lines shrink with its height."""
        job = self.job
        head = Text.assemble(status_text(job), "  ", (job.device or job.wait_reason or "", "dim"),
                             f"  attempt {job.attempts}" if job.attempts > 1 else "")
        parts = [head]
        if job.status != "queued":
            parts.append(Text(f"{fmt.progress_text(job.status, job.progress, job.eta_s, max(10, width - 30))}  "
                              f"{job.progress_text or ''}"))
        tail = []
        if job.result:
            tail.append(Text(f"result: {job.kind} headline {fmt.headline(job.headline, job.kind)}", style="bold green"))
        if job.reason:
            tail.append(Text(job.reason, style="red" if job.status == "failed" else "yellow"))
        room = height - 3 - len(parts) - len(tail)  # the panel's borders, and the line after it
        logs = list(self.logs)[-max(1, min(len(self.logs), room // 6)):] if self.logs else []
        room -= len(logs)
        epochs = max((len(v) for k, v in self.series.items() if k != "train/loss"), default=0)
        epoch_rows = min(epochs, max(1, room // 3 - 6)) if epochs else 0
        room -= epoch_rows + 6 if epochs else 0  # the table's title, header, rule and blank lines
        loss = self.series.get("train/loss")
        if loss and len(loss) > 1 and room >= 6:
            parts.append(loss_plot(loss, width - 4, min(14, room)))
        table = epochs_table({k: v[-epoch_rows:] for k, v in self.series.items()}) if epoch_rows else None
        if table is not None:
            parts.append(table)
        parts += tail + [log_line(r) for r in logs]
        return Panel(Group(*parts), title=f"job {job.id}: {job.kind} {job.short_spec()}", title_align="left")


def loss_plot(points: list[tuple[int, float]], width: int, height: int) -> Text:
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(max(30, width), height)
    plt.theme("pro")
    step = max(1, len(points) // 2000)  # plotext draws at most a few hundred columns anyway
    shown = [(x, y) for x, y in points[::step] if math.isfinite(y)]  # a diverged loss (nan, inf) is left out
    if not shown:
        return Text(f"train loss: {fmt.number(points[-1][1])}", style="red")
    xs, ys = zip(*shown)
    plt.plot(xs, ys, label="train loss / iteration", marker="braille")
    plt.xlabel("iteration")
    return Text.from_ansi(plt.build())


def follow(job_id: str = typer.Argument(..., help="Job id."),
           as_json: bool = JsonOpt,
           interval: float = typer.Option(0.5, "--interval", help="Seconds between looks at the store.")) -> None:
    """Live progress bars, loss curve and metrics of a job, until it ends."""
    jid = parse_id(job_id)
    f = Follower(store(), jid)
    try:
        if as_json:
            raise typer.Exit(_follow_json(f, interval))
        if not console.is_terminal:
            raise typer.Exit(_follow_plain(f, interval))
        with Live(f.render(console.width, console.height), console=console, auto_refresh=False) as live:
            while True:
                f.poll()
                live.update(f.render(console.width, console.height), refresh=True)
                if f.job.finished:
                    break
                time.sleep(interval)
    except EngineGone as exc:
        fail(f"{exc}; job {jid} is {f.job.status}", EXIT_FAILED)
    raise typer.Exit(EXIT_OK if f.job.status == "done" else EXIT_FAILED)


def _follow_json(f: Follower, interval: float) -> int:
    """One JSON object per line: metric points, log lines, status changes."""
    last_status = None
    while True:
        metrics, logs = f.poll()
        out = [{"type": "metric", "name": r["name"], "step": r["step"], "value": r["value"]} for r in metrics]
        out += [{"type": "log", "level": r["level"], "message": r["message"]} for r in logs]
        if f.job.status != last_status or f.job.finished:
            last_status = f.job.status
            out.append({"type": "status", "status": f.job.status, "progress": f.job.progress,
                        "reason": f.job.reason, "result": f.job.result})
        for item in out:
            sys.stdout.write(json.dumps(json_safe(item)) + "\n")
        sys.stdout.flush()
        if f.job.finished:
            return EXIT_OK if f.job.status == "done" else EXIT_FAILED
        time.sleep(interval)


def _follow_plain(f: Follower, interval: float) -> int:
    last = None
    while True:
        _, logs = f.poll()
        for r in logs:
            console.print(log_line(r))
        state = (f.job.status, round(f.job.progress, 1))
        if state != last:
            last = state
            console.print(f"job {f.job.id}: {f.job.status} {f.job.progress * 100:.0f}%")
        if f.job.finished:
            if f.job.reason:
                console.print(f.job.reason)
            return EXIT_OK if f.job.status == "done" else EXIT_FAILED
        time.sleep(interval)
