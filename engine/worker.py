"""The worker process of one device slot: imports torch once, then runs jobs.

Started with the `spawn` start method; `CUDA_VISIBLE_DEVICES` is set before
torch is imported, so the job sees only its slot's GPU. It talks to the
engine over one pipe:

    engine -> worker   ("run", job) | ("cancel", job_id) | ("stop",)
    worker -> engine   ("ready", info) | ("events", job_id, [(name, payload), ...])
                       | ("heartbeat", job_id) | ("finished", job_id, status, result, reason, stats)

A reader thread turns "cancel" into the job's cancel flag; a heartbeat
thread proves the worker alive while the job computes. If the engine dies,
the worker dies with it (EOF on the pipe, and PR_SET_PDEATHSIG on Linux).
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import platform
import queue
import resource
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection

from jobs.context import Context, JobCancelled
from jobs.kinds import KINDS

HEARTBEAT_S = 1.0


class Sender:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.lock = threading.Lock()

    def send(self, message: tuple) -> None:
        with self.lock:
            try:
                self.conn.send(message)
            except (BrokenPipeError, EOFError, OSError):
                os._exit(3)  # the engine is gone: so are we


class PipeContext(Context):
    """Sends reports to the engine in batches, at most every SEND_INTERVAL_S.

    Batching matters on small machines: every message wakes the engine, and a
    woken engine steals a core from the job's torch threads.
    """

    SEND_INTERVAL_S = 0.25

    def __init__(self, sender: Sender, cancel_event: threading.Event, **kwargs):
        super().__init__(**kwargs)
        self._sender = sender
        self._cancel = cancel_event
        self._buffer: list[tuple[str, dict]] = []
        self._buffer_lock = threading.Lock()
        self._last_send = time.monotonic()

    def emit(self, event: str, **payload) -> None:
        with self._buffer_lock:
            self._buffer.append((event, payload))
        if time.monotonic() - self._last_send >= self.SEND_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        """Send what is buffered (also called by the heartbeat thread, and at the job's end)."""
        with self._buffer_lock:
            batch, self._buffer = self._buffer, []
            self._last_send = time.monotonic()
        if batch:
            self._sender.send(("events", self.job_id, batch))

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def repro_base(slot_label: str, device: str, threads: int) -> dict:
    import numpy
    import torch
    import torchvision

    from engine.version import code_version

    info = {
        "python": platform.python_version(), "torch": torch.__version__,
        "torchvision": torchvision.__version__, "numpy": numpy.__version__,
        "mnistlab": code_version(), "platform": platform.platform(), "host": platform.node(),
    }
    device_info = {"slot": slot_label, "torch_device": device, "torch_threads": threads,
                   "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    if device.startswith("cuda"):
        device_info["gpu_name"] = torch.cuda.get_device_name(0)
        device_info["cuda"] = torch.version.cuda
    return {"versions": info, "device": device_info}


def main(conn: Connection, env: dict, threads: int, slot_label: str, device: str,
         preload_data: str | None) -> None:
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the engine, which stops us
    _die_with_parent()
    import torch

    torch.set_num_threads(threads)
    modules = {kind: importlib.import_module(f"jobs.{kind}") for kind in KINDS}
    if preload_data:
        from jobs import data
        try:
            data.arrays(preload_data)
        except Exception:  # a job that needs the data reports the problem itself
            pass

    sender = Sender(conn)
    jobs: queue.Queue = queue.Queue()
    cancel = threading.Event()
    current: dict = {"id": None, "ctx": None}

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                os._exit(3)
            if message[0] == "cancel" and message[1] == current["id"]:
                cancel.set()
            elif message[0] == "run":
                jobs.put(message[1])
            elif message[0] == "stop":
                jobs.put(None)
                return

    def beat() -> None:
        while True:
            time.sleep(HEARTBEAT_S)
            ctx = current["ctx"]
            if ctx is not None:
                ctx.flush()
            sender.send(("heartbeat", current["id"]))

    threading.Thread(target=read, daemon=True, name="reader").start()
    threading.Thread(target=beat, daemon=True, name="heartbeat").start()
    sender.send(("ready", {"pid": os.getpid(), "device": device}))

    while (job := jobs.get()) is not None:
        cancel.clear()
        ctx = PipeContext(sender, cancel, spec=job["spec"], artifact_dir=job["artifact_dir"], device=device,
                          data_dir=job["data_dir"], job_id=job["id"], attempt=job["attempt"])
        current.update(id=job["id"], ctx=ctx)
        status, result, reason = _run_one(job, ctx, modules, slot_label, device, threads)
        ctx.flush()
        current.update(id=None, ctx=None)
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        gc.collect()
        stats = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        sender.send(("finished", job["id"], status, result, reason, stats))


def _run_one(job: dict, ctx: PipeContext, modules: dict, slot_label: str, device: str,
             threads: int) -> tuple[str, dict | None, str | None]:
    if job["kind"] not in modules:
        return "failed", None, (f"job kind {job['kind']!r} is unknown to this engine, which was started before "
                                "it was installed; restart it (`mnistlab engine stop`, then `mnistlab engine "
                                f"start`) and `mnistlab retry {job['id']}`")
    try:
        ctx.record(spec=job["spec"], seed=ctx.seed, attempt=job["attempt"], **repro_base(slot_label, device, threads))
        result = modules[job["kind"]].run(job["spec"], ctx)
        return "done", result, None
    except JobCancelled:
        ctx.log("cancelled: stopped at the next iteration", "warning")
        return "cancelled", None, "cancelled by request"
    except Exception as exc:
        from jobs.mnist_files import DataError

        reason = str(exc) if isinstance(exc, DataError) else f"{type(exc).__name__}: {exc}"
        ctx.log(traceback.format_exc(), "error")
        return "failed", None, reason
