"""`mnistlab bench tui`: the dashboard's start time, its imports, and its CPU use while jobs stream.

1. imports: `python -X importtime` of the program's modules, proof that torch is not among them;
2. first paint: the real `mnistlab tui` started in a pseudo-terminal on a store of `--rows` finished
   runs; the time from spawning the process to the first frame that shows the queue (its pane title
   and its row count), `--repeats` times;
3. CPU: `--jobs` train jobs stream metrics at once (MNISTLAB_FAKE_GPUS gives the engine that many
   slots), the dashboard runs in a pseudo-terminal; its CPU time (psutil) over `--seconds` on the
   queue, then as long on the detail of a running job (live curves).

Everything runs in a fresh data folder with its own engine, stopped at the end.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

import typer

from tui.cli.bench_cmd import OutOpt, bench_app, report
from tui.cli.common import JsonOpt, console, err

REPO = Path(__file__).resolve().parents[2]


# -- 1. imports ---------------------------------------------------------------------------------------

def import_proof() -> dict:
    """Every module the dashboard's program imports, from `python -X importtime`."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import tui.cli.main, tui.app"],
                          capture_output=True, text=True, env=_env({}), cwd=str(REPO))
    modules, cumulative = [], {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            name = m.group(4)
            modules.append(name)
            cumulative[name] = int(m.group(2))
    heavy = sorted(((us, name) for name, us in cumulative.items() if "." not in name), reverse=True)[:8]
    return {"modules": len(modules), "torch_imported": any(n == "torch" or n.startswith("torch.") for n in modules),
            "torch_modules": [n for n in modules if n.split(".")[0] == "torch"],
            "tui_app_ms": cumulative.get("tui.app", 0) / 1000, "tui_cli_main_ms": cumulative.get("tui.cli.main", 0) / 1000,
            "largest_top_level_ms": {name: us / 1000 for us, name in heavy}, "returncode": proc.returncode}


# -- the program in a pseudo-terminal ----------------------------------------------------------------------

class Terminal:
    """`mnistlab tui` in a pty of `cols` x `rows`; its output is read (and kept) by a thread."""

    def __init__(self, env: dict, cols: int, rows: int):
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.output = bytearray()
        self.lock = threading.Lock()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "tui.cli.main", "tui"], stdin=slave, stdout=slave,
                                     stderr=slave, env=env, cwd=str(REPO), start_new_session=True)
        os.close(slave)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.output += chunk

    def text(self) -> str:
        with self.lock:
            return self.output.decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> float | None:
        """Seconds from spawn until `pattern` (a regex over the raw output) appeared."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.text(), re.DOTALL):
                return time.perf_counter() - self.started
            if self.proc.poll() is not None:
                return None
            time.sleep(0.005)
        return None

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def quit(self, timeout: float = 10.0) -> int | None:
        try:
            self.send(b"q")
            self.proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        return self.proc.returncode


def _env(extra: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO) + (os.pathsep + os.environ["PYTHONPATH"]
                                                    if os.environ.get("PYTHONPATH") else "")}
    env.update(extra)
    return env


# -- a store to start on --------------------------------------------------------------------------------------

def fill(home: Path, rows: int) -> None:
    """`rows` finished runs (the engine's own columns), written in bulk transactions."""
    from engine.bench_scale import fill_finished
    from runs.store import Store

    store = Store(home)
    fill_finished(store, rows)
    store.close()


def dashboard(home: Path, cols: int, rows: int) -> Terminal:
    """The real `mnistlab tui` on the data folder `home`, in a 256-colour pty of `cols` x `rows`."""
    return Terminal(_env({"MNISTLAB_HOME": str(home), "TERM": "xterm-256color", "COLORTERM": "truecolor"}), cols, rows)


def queue_painted(jobs: int) -> str:
    """A regex for the first frame with data: the queue's title, then the job count as written (`2,000`), whole."""
    return r"Queue.*?(?<![\d,])%s(?![\d,])" % re.escape(f"{jobs:,}")


def first_paint(home: Path, cols: int, rows: int, expected_rows: int, log, timeout: float = 30) -> dict | None:
    """Seconds from spawning the dashboard to its first frame with the queue's title and its job count.

    The count is matched as the dashboard writes it (`2,000 jobs`, or `20 of 2,000`), whole."""
    term = dashboard(home, cols, rows)
    try:
        first_byte = term.wait_for(r".", 20)
        painted = term.wait_for(queue_painted(expected_rows), timeout)
    finally:
        code = term.quit()
    if painted is None:
        log(f"no queue frame seen; the program exited with {code}; its output ends:\n{term.text()[-400:]}")
        return None
    return {"first_byte_s": first_byte, "first_paint_s": painted, "exit_code": code}


def cpu_phase(term: Terminal, seconds: float) -> float:
    import psutil

    proc = psutil.Process(term.proc.pid)
    before, t0 = proc.cpu_times(), time.perf_counter()
    time.sleep(seconds)
    after, t1 = proc.cpu_times(), time.perf_counter()
    used = (after.user - before.user) + (after.system - before.system)
    return 100.0 * used / (t1 - t0)


def metric_rows(home: Path) -> int:
    from runs.store import Store

    return Store(home).query("SELECT count(*) FROM metrics")[0][0]


def run(jobs: int, seconds: float, rows: int, repeats: int, size: tuple[int, int], samples: int, log) -> dict:
    from engine import control
    from runs.records import JobRequest
    from runs.store import Store
    from tui.cli.queueing import data_folder

    results: dict = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
                     "size": f"{size[0]}x{size[1]}", "rows": rows, "jobs": jobs, "seconds": seconds}
    log("imports: python -X importtime -c 'import tui.cli.main, tui.app'")
    results["imports"] = import_proof()
    with tempfile.TemporaryDirectory(prefix="mnistlab-bench-tui-") as tmp:
        home = Path(tmp) / "home"
        fill(home, rows)
        engine_env = {"MNISTLAB_FAKE_GPUS": str(jobs)}
        old = {k: os.environ.get(k) for k in engine_env}
        os.environ.update(engine_env)
        try:
            control.start(home)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        try:
            log(f"first paint: {repeats} start(s) on {rows:,} runs at {size[0]}x{size[1]}")
            paints = [first_paint(home, *size, rows, log) for _ in range(repeats)]
            paints = [p for p in paints if p]
            times = [p["first_paint_s"] for p in paints]
            results["first_paint"] = {"runs": paints, "median_s": statistics.median(times) if times else None,
                                      "max_s": max(times) if times else None}
            log(f"cpu: {jobs} jobs streaming, {seconds:.0f} s on the queue, then {seconds:.0f} s on a job's curves")
            store = Store(home)
            ids = store.submit([JobRequest("train", {"net": "1", "samples": samples, "epochs": 1000, "seed": i},
                                           data_dir=str(data_folder().folder)) for i in range(jobs)])
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                if all(j.status == "running" and j.progress > 0 for j in store.jobs(ids=ids)):
                    break
                if any(j.finished for j in store.jobs(ids=ids)):
                    raise RuntimeError("a streaming job ended early: " +
                                       "; ".join(f"{j.id}: {j.reason}" for j in store.jobs(ids=ids) if j.finished))
                time.sleep(0.5)
            term = dashboard(home, *size)
            try:
                term.wait_for(r"Queue", 30)
                time.sleep(2.0)  # settle after start
                m0 = metric_rows(home)
                queue_cpu = cpu_phase(term, seconds)
                m1 = metric_rows(home)
                term.send(b"\r")  # the cursor starts on the first running job: open it
                time.sleep(2.0)
                detail_cpu = cpu_phase(term, seconds)
                m2 = metric_rows(home)
            finally:
                term.quit()
            results["cpu"] = {"queue_percent_of_one_core": queue_cpu, "job_detail_percent_of_one_core": detail_cpu,
                              "metric_rows_per_s_queue": (m1 - m0) / seconds,
                              "metric_rows_per_s_detail": (m2 - m1) / seconds}
            for job_id in ids:
                store.cancel(job_id)
        finally:
            control.stop(home)
    return results


@bench_app.command("tui")
def tui_bench(jobs: int = typer.Option(4, "--jobs", min=1, max=16, help="Jobs streaming metrics at once."),
              seconds: float = typer.Option(20.0, "--seconds", min=1, max=600, help="Length of each CPU window."),
              rows: int = typer.Option(2000, "--rows", min=0, max=100000, help="Finished runs in the store."),
              repeats: int = typer.Option(3, "--repeats", min=1, max=20, help="Starts timed for the first paint."),
              size: str = typer.Option("120x40", "--size", help="Terminal size, COLSxROWS."),
              samples: int = typer.Option(10000, "--samples", min=256, max=60000,
                                          help="Training images of each streaming job."),
              as_json: bool = JsonOpt, out: Optional[Path] = OutOpt) -> None:
    """Dashboard start time to first painted screen, torch-free imports, CPU use while jobs stream."""
    try:
        cols, lines = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"--size {size!r} is not allowed; allowed: COLSxROWS such as 80x24") from None
    results = run(jobs, seconds, rows, repeats, (cols, lines), samples, log=lambda m: err.print(m))
    report(results, as_json, out)
    if as_json:
        return
    imp = results["imports"]
    console.print(f"imports: {imp['modules']} modules, torch imported: {imp['torch_imported']} "
                  f"(tui.app {imp['tui_app_ms']:.0f} ms, tui.cli.main {imp['tui_cli_main_ms']:.0f} ms cumulative)")
    fp = results["first_paint"]
    if fp["median_s"] is not None:
        console.print(f"first paint ({rows:,} runs, {size}): median {fp['median_s']:.3f} s, max {fp['max_s']:.3f} s "
                      f"(goal < 1 s)")
    cpu = results["cpu"]
    console.print(f"cpu with {jobs} jobs streaming: queue {cpu['queue_percent_of_one_core']:.1f}%, "
                  f"job detail {cpu['job_detail_percent_of_one_core']:.1f}% of one core (goal < 10%); "
                  f"{cpu['metric_rows_per_s_queue']:.0f} metric rows/s written meanwhile")
