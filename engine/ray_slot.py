"""One engine slot on a Ray node: a long-lived actor that runs jobs exactly as a local worker does.

Created by `engine.ray_executor` (one per GPU, or per CPU slot on a node without GPUs), it imports torch
and every job kind once (`ready`), then runs one job at a time (`run`) with `engine.runner.SlotRunner`
and a batching context, yielding plain-data messages (encoded by `engine.protocol`) from a streaming
generator:

    ["events", [(name, payload), ...]]                  a batch of the job's reports, at most every 0.25 s
    ["ended", status, result, reason, stats]            the last message of a job

The node shares no folder with the engine. A job writes its files into a node-local scratch folder, and
each "artifact" report carries the file's bytes and SHA-256; the engine writes them into the run's folder.
The files a job's run folder held when it was handed out (a checkpoint to resume from) come with the order.
A file of another run (`ctx.input_file`) is asked for with a "need_input" report and arrives through
`provide`. MNIST is read from the folder the engine named if this node has it with the right checksums,
else from the copy the engine shipped (fetched once per node, written into the scratch folder).

Ray never imports torch in the engine: this module imports it only inside the actor's methods.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
import time
from pathlib import Path
from typing import Callable, Iterator

from engine.protocol import encode
from engine.worker import BatchingContext, after_job, freeze_startup_heap
from jobs.atomic import atomic_write

INPUT_WAIT_S = 300.0   # how long a job waits for a file of another run before it goes on without it
_END = object()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plain_name(name: str) -> bool:
    """A file name that stays inside its folder."""
    return bool(name) and Path(name).name == name and not name.startswith(".")


def write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


class ShippingContext(BatchingContext):
    """A slot's context on a node without the engine's folders: every file it saves travels in its report,
    and a file of another run is fetched from the engine the first time the job opens it.

    A checkpoint travels at most every CHECKPOINT_SHIP_S (the newest one, and always the last at the job's
    end): the engine needs it only to resume the job elsewhere, and shipping one per short epoch cost more
    than the epoch (read, hash, copy through Ray, hash and write again; measured: ~0.15 s of a 1.5 s job)."""

    CHECKPOINT_SHIP_S = 2.0

    def __init__(self, deliver: Callable[[list], None], cancel_event: threading.Event, *,
                 fetch: Callable[[int, str, Path], None], **kwargs):
        super().__init__(deliver, cancel_event, **kwargs)
        self._fetch = fetch
        self._held_lock = threading.Lock()
        self._held: dict | None = None      # the newest checkpoint not shipped yet
        self._shipped_at = float("-inf")    # when a checkpoint last travelled

    def emit(self, event: str, **payload) -> None:
        if event == "artifact" and payload.get("kind") == "checkpoint":
            with self._held_lock:
                if time.monotonic() - self._shipped_at < self.CHECKPOINT_SHIP_S:
                    self._held = payload
                    return
                self._held, self._shipped_at = None, time.monotonic()
        if event == "artifact":
            data = (self.artifact_dir / payload["path"]).read_bytes()
            payload = {**payload, "meta": {**payload["meta"], "sha256": sha256(data)}, "data": data}
        super().emit(event, **payload)

    def ship_held(self, *, due_only: bool = False) -> None:
        """Send the held checkpoint: when its time has come (`due_only`), or now (the job's end)."""
        with self._held_lock:
            if self._held is None or (due_only and time.monotonic() - self._shipped_at < self.CHECKPOINT_SHIP_S):
                return
            held, self._held, self._shipped_at = self._held, None, float("-inf")
        self.emit("artifact", **held)

    def input_file(self, job_id: int, filename: str) -> Path:
        path = super().input_file(job_id, filename)
        if not path.exists() and plain_name(filename):
            self._fetch(int(job_id), filename, path)
        return path


class SlotActor:
    """The actor's class (`ray.remote` is applied by the executor: no Ray import at module level)."""

    def __init__(self, threads: int, gpu_slot: bool, pretend: bool, kinds: str | None, scratch: str | None):
        os.umask(0o077)
        # Before torch is imported: PCI order makes GPU indices those of nvidia-smi (and of Ray's GPU ids);
        # the cuBLAS workspace setting lets a job ask for deterministic algorithms.
        os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        if kinds:
            os.environ["MNISTLAB_KINDS"] = kinds  # the engine's extra job kinds, before jobs.kinds is imported
        self.threads, self.gpu_slot, self.force_pretend = threads, gpu_slot, pretend
        base = Path(scratch or os.environ.get("MNISTLAB_RAY_SCRATCH") or
                    Path(tempfile.gettempdir()) / f"mnistlab-ray-{os.getuid()}")
        self.root = base / f"actor-{os.getpid()}"
        self.data_root = base / "data"
        _sweep_dead_actors(base)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.cancel_event = threading.Event()
        self.job_id: int | None = None
        self.waiting: dict[tuple[int, int, str], threading.Event] = {}
        self.data_dirs: dict[str, str | None] = {}  # data identity -> the folder here
        self.runner = None
        # Every job runs on this one thread: a new thread per job would start a new OpenMP team each time,
        # and the old teams' spinning threads slowed each later job down (measured: 1.8 s -> 2.5 s a job).
        self.job_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job")
        self.nvml_handle = None

    # -- start ---------------------------------------------------------------------
    def ready(self, preload: str | None) -> dict:
        """Import torch and every job kind, preload MNIST if this node has the engine's copy; say who we are."""
        import platform

        import psutil
        import ray
        import torch

        from engine.runner import SlotRunner
        from engine.version import code_version

        torch.set_num_threads(self.threads)
        gpu_ids = [str(g) for g in ray.get_gpu_ids()] if self.gpu_slot else []
        real = self.gpu_slot and not self.force_pretend and torch.cuda.is_available()
        self.device = "cuda:0" if real else "cpu"
        gpu_index, gpu_name = (None, None)
        if gpu_ids:
            gpu_index, gpu_name = self._gpu_identity(gpu_ids[0], real)
        self.label = "cpu" if not self.gpu_slot else f"gpu {gpu_index}"
        self.runner = SlotRunner(self.label, self.device, self.threads)
        if preload:  # as a local worker does: MNIST in memory before the first job, if this node has it
            try:
                from jobs import data

                data.arrays(self._data_dir({"folder": preload}, None))
            except Exception:  # noqa: BLE001 - a job that needs the data ships it or reports the problem itself
                pass
        freeze_startup_heap()
        return {"pid": os.getpid(), "started": psutil.Process().create_time(), "host": platform.node(),
                "node_id": ray.get_runtime_context().get_node_id(), "gpu_ids": gpu_ids, "gpu": gpu_index,
                "gpu_name": gpu_name, "device": self.device, "pretend": self.gpu_slot and not real,
                "threads": self.threads, "broken_kinds": self.runner.broken, "code": code_version()}

    def _gpu_identity(self, ray_id: str, real: bool) -> tuple[int | None, str]:
        """(nvidia-smi index, name) of the GPU Ray gave us; a pretend GPU keeps Ray's id and no name."""
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = (pynvml.nvmlDeviceGetHandleByIndex(int(ray_id)) if ray_id.isdigit()
                      else pynvml.nvmlDeviceGetHandleByUUID(ray_id))
            name = pynvml.nvmlDeviceGetName(handle)
            self.nvml_handle = handle if real else None
            return int(pynvml.nvmlDeviceGetIndex(handle)), name.decode() if isinstance(name, bytes) else str(name)
        except Exception:  # noqa: BLE001 - no NVML or no such device: a pretend GPU
            return (int(ray_id) if ray_id.isdigit() else None), "pretend GPU"

    def stats(self) -> dict:
        """GPU use read on this node (empty for a CPU slot or a pretend GPU); also proves the actor alive."""
        if self.nvml_handle is None:
            return {}
        try:
            import pynvml

            util = pynvml.nvmlDeviceGetUtilizationRates(self.nvml_handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(self.nvml_handle)
            return {"gpu_util": float(util.gpu), "gpu_mem_used_mb": memory.used / 2**20,
                    "gpu_mem_total_mb": memory.total / 2**20}
        except Exception:  # noqa: BLE001 - a driver hiccup gives no numbers, not an error
            return {}

    # -- jobs ----------------------------------------------------------------------
    def cancel(self, job_id: int) -> None:
        if self.job_id == job_id:
            self.cancel_event.set()

    def provide(self, job_id: int, run: int, filename: str, data: bytes | None) -> None:
        """The engine's answer to a "need_input" report: the file's bytes, or None if that run has no such file."""
        done = self.waiting.get((job_id, run, filename))
        if done is None or self.job_id != job_id:
            return
        if data is not None and plain_name(filename):
            write_private(self.inputs / str(run) / filename, data)
        done.set()

    def run(self, order: dict, files: dict, data: list) -> Iterator[bytes]:
        """Run one job; yields encoded messages. `files`: the run folder's files; `data`: [ObjectRef of MNIST]."""
        job_id = order["id"]
        self.cancel_event.clear()
        self.job_id = job_id
        folder = Path(tempfile.mkdtemp(prefix=f"job{job_id}-", dir=self.root))
        self.inputs = folder / "inputs"
        try:
            yield from self._run(order, files, data, folder)
        finally:
            self.job_id = None
            shutil.rmtree(folder, ignore_errors=True)

    def _run(self, order: dict, files: dict, data: list, folder: Path) -> Iterator[bytes]:
        import ray

        from engine.runner import failure_reason

        job_id = order["id"]
        out = folder / "run"
        out.mkdir(mode=0o700)
        try:
            for name, blob in files.items():
                if plain_name(name):
                    write_private(out / name, blob)
            shipped = data[0] if data else None
            data_dir = self._data_dir(order["data"], None if shipped is None else lambda: ray.get(shipped))
            order = {**order, "data": {**order["data"], "folder": data_dir}}  # the runner finds this node's copy
        except Exception as exc:  # noqa: BLE001 - the job fails with it; the slot stays
            yield encode(["ended", "failed", None, failure_reason(exc), after_job(self.device)])
            return
        reports: queue.Queue = queue.Queue()
        ctx = ShippingContext(reports.put, self.cancel_event, fetch=self._fetch_for(job_id, lambda: ctx),
                              spec=order["spec"], artifact_dir=out, runs_dir=self.inputs, device=self.device,
                              data_dir=data_dir, job_id=job_id, attempt=order["attempt"])
        ctx.record(ray={"node_id": ray.get_runtime_context().get_node_id(), "actor_pid": os.getpid(),
                        "gpu_ids": [str(g) for g in ray.get_gpu_ids()] if self.gpu_slot else []})
        ended: list = []

        def work() -> None:
            import torch

            torch.set_num_threads(self.threads)  # OpenMP's thread count is per calling thread: set it in this one
            try:
                ended.append(self.runner.run(order, ctx))
            except BaseException as exc:  # noqa: BLE001 - the runner catches what jobs raise; this is a last guard
                ended.append(("failed", None, failure_reason(exc)))
            finally:
                reports.put(_END)

        self.job_thread.submit(work)
        while True:
            ctx.ship_held(due_only=True)
            try:
                batch = reports.get(timeout=BatchingContext.SEND_INTERVAL_S)
            except queue.Empty:
                ctx.flush()  # reports that waited for the next emit
                continue
            if batch is _END:
                break
            yield encode(["events", batch])
        ctx.ship_held()
        ctx.flush()
        while not reports.empty():
            yield encode(["events", reports.get()])
        status, result, reason = ended[0]
        yield encode(["ended", status, result, reason, after_job(self.device)])

    def _fetch_for(self, job_id: int, context: Callable[[], ShippingContext]):
        def fetch(run: int, filename: str, path: Path) -> None:
            ctx = context()
            done = self.waiting[(job_id, run, filename)] = threading.Event()
            try:
                ctx.emit("need_input", run=run, file=filename)
                ctx.flush()
                deadline = time.monotonic() + INPUT_WAIT_S
                while not done.wait(0.1) and time.monotonic() < deadline:
                    ctx.check_cancelled()
            finally:
                self.waiting.pop((job_id, run, filename), None)
        return fetch

    def _data_dir(self, data: dict, shipped: Callable[[], dict] | None) -> str | None:
        key = data_key(data)
        if key not in self.data_dirs:
            self.data_dirs[key] = dataset_folder(data, shipped, self.data_root)
        return self.data_dirs[key]


def data_key(data: dict) -> str:
    """One data identity ({"name", "sha256", "folder"}) as a key: the same set in the same folder."""
    return f"{data.get('name')}:{data.get('folder')}:{sorted((data.get('sha256') or {}).items())}"


def dataset_folder(data: dict, shipped: Callable[[], dict] | None, data_root: Path) -> str | None:
    """The folder a job on this node reads its data set from: one here that holds exactly the files of
    `data` (the engine's folder, MNISTLAB_DATA, the cache), else the copy the engine shipped (`shipped()`:
    the files' bytes by name), written once per node under `data_root` and verified again."""
    from engine.runner import SlotRunner
    from jobs.datasets import DataError, locate

    try:
        found = SlotRunner.data_folder(data)
        if "sha256" in data or found is None or Path(found).is_dir():
            return found
        problem = DataError(f"{found} does not exist on this node")
    except DataError as exc:
        problem = exc
    tag = json.dumps([data.get("name"), data.get("sha256") or data.get("folder")], sort_keys=True)
    target = data_root / sha256(tag.encode())[:16]
    if "sha256" in data and target.is_dir():  # another slot of this node wrote it already
        try:
            return str(locate(data, [target]))
        except DataError:
            pass
    copy = shipped() if shipped is not None else None
    if not copy:
        raise problem
    for name, blob in copy.items():
        if plain_name(name) and not ((target / name).is_file() and (target / name).stat().st_size == len(blob)):
            write_private(target / name, blob)
    return str(locate(data, [target])) if "sha256" in data else str(target)


def _sweep_dead_actors(base: Path) -> None:
    """Scratch folders of actors that died (kill -9, a lost engine) on this node."""
    import psutil

    for folder in base.glob("actor-*"):
        pid = folder.name.removeprefix("actor-")
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
