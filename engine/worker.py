"""The worker process of one local slot: imports torch once, then runs jobs.

Started with the `spawn` start method by `engine.local_executor`;
`CUDA_VISIBLE_DEVICES` is set before torch is imported, so the job sees
only its slot's GPU. It talks to the engine over one pipe:

    engine -> worker   ("run", order) | ("cancel", job_id) | ("stop",)
    worker -> engine   ("ready", info) | ("events", job_id, [(name, payload), ...])
                       | ("heartbeat", job_id) | ("ended", job_id, status, result, reason, stats)

What the worker sends is plain data, encoded by `engine.protocol`. A
reader thread turns "cancel" into the job's cancel flag; a heartbeat
thread proves the worker alive while the job computes. If the engine
dies, the worker dies with it (EOF on the pipe, and PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import gc
import os
import queue
import resource
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Callable

from engine.protocol import encode
from jobs.context import Context

HEARTBEAT_S = 1.0


class Sender:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.lock = threading.Lock()

    def send(self, message: tuple) -> None:
        data = encode(message)
        with self.lock:
            try:
                self.conn.send_bytes(data)
            except (BrokenPipeError, EOFError, OSError):
                os._exit(3)  # the engine is gone: so are we


class BatchingContext(Context):
    """Hands reports over in batches, at most every SEND_INTERVAL_S.

    Batching matters on small machines: every message wakes the engine, and a
    woken engine steals a core from the job's torch threads.
    """

    SEND_INTERVAL_S = 0.25

    def __init__(self, deliver: Callable[[list], None], cancel_event: threading.Event, **kwargs):
        super().__init__(**kwargs)
        self._deliver = deliver
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
            self._deliver(batch)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def main(conn: Connection, env: dict, threads: int, slot_label: str, device: str,
         preload_data: str | None) -> None:
    os.environ.update(env)
    os.umask(0o077)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the engine, which stops us
    _die_with_parent()
    import torch

    from engine.runner import SlotRunner

    torch.set_num_threads(threads)
    runner = SlotRunner(slot_label, device, threads)
    if preload_data:
        from jobs import data
        try:
            data.arrays(preload_data)
        except Exception:  # noqa: BLE001 - a job that needs the data reports the problem itself
            pass
    freeze_startup_heap()

    sender = Sender(conn)
    orders: queue.Queue = queue.Queue()
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
                orders.put(message[1])
            elif message[0] == "stop":
                orders.put(None)
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
    sender.send(("ready", {"pid": os.getpid(), "device": device, "broken_kinds": runner.broken}))

    while (order := orders.get()) is not None:
        cancel.clear()
        job_id = order["id"]
        ctx = BatchingContext(lambda batch, job_id=job_id: sender.send(("events", job_id, batch)), cancel,
                              spec=order["spec"], artifact_dir=order["run_dir"], runs_dir=order["runs_dir"],
                              device=device, data_dir=order["data"].get("folder"), job_id=job_id,
                              attempt=order["attempt"])
        current.update(id=job_id, ctx=ctx)
        status, result, reason = runner.run(order, ctx)
        ctx.flush()
        current.update(id=None, ctx=None)
        sender.send(("ended", job_id, status, result, reason, after_job(device)))


def freeze_startup_heap() -> None:
    """Leave what torch and the job kinds imported out of every later garbage collection: a slot's heap
    holds ~340,000 such objects, and a full collection of them took ~160 ms (after every job, and in the
    collections Python starts by itself while a job trains); after this one it takes well under 1 ms."""
    gc.collect()
    gc.freeze()


def after_job(device: str) -> dict:
    """Give back what the job held (the CUDA cache, garbage) and say what the slot's process peaked at."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    gc.collect()
    return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
