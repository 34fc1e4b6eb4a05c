"""What the machine is doing: CPU and memory (psutil, always), GPU use (NVML, where GPUs exist).

Sampled only while the devices pane is on screen. Any failure (no driver, a
process that ended) gives fewer numbers, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GpuSample:
    index: int
    name: str
    util: float | None        # percent
    mem_used: int | None      # bytes
    mem_total: int | None
    temperature: int | None = None


@dataclass
class ProcSample:
    pid: int
    cpu: float | None         # percent of one core
    rss: int | None           # bytes


@dataclass
class Sample:
    cpu_per_core: list[float] = field(default_factory=list)
    cpu_total: float = 0.0
    mem_used: int = 0
    mem_total: int = 0
    load: tuple[float, float, float] | None = None
    gpus: list[GpuSample] = field(default_factory=list)
    procs: dict[int, ProcSample] = field(default_factory=dict)
    gpu_problem: str | None = None


# NVML's errors by class name (pynvml makes one class per error code), as a person would say them.
NVML_PROBLEMS = {
    "LibraryNotFound": "no NVIDIA driver library (NVML) on this machine",
    "DriverNotLoaded": "the NVIDIA driver is not loaded",
    "NoPermission": "no permission to read the GPUs (NVML)",
    "InsufficientPower": "a GPU reports too little power",
    "GpuIsLost": "a GPU has fallen off the bus",
    "Uninitialized": "NVML did not start",
    "NotSupported": "these GPUs do not report use and memory",
    "Unknown": "NVML failed without saying why",
}


def gpu_problem(exc: BaseException) -> str:
    """One readable line for why there are no GPU numbers (never a raw NVML exception)."""
    if isinstance(exc, ModuleNotFoundError):
        return "no GPU numbers: the nvidia-ml-py package is not installed"
    name = type(exc).__name__
    for key, words in NVML_PROBLEMS.items():
        if key in name:
            return f"no GPU numbers: {words}"
    detail = " ".join(str(exc).split())[:80]  # one line, however the library wrapped it
    return f"no GPU numbers: {detail or name}"


class Sampler:
    def __init__(self) -> None:
        self._nvml = None          # the module once initialised, False if unavailable
        self._procs: dict = {}     # pid -> psutil.Process (cpu_percent needs the same object)
        self.gpu_problem: str | None = None

    def _gpus(self) -> list[GpuSample]:
        if self._nvml is False:
            return []
        try:
            if self._nvml is None:
                import pynvml

                pynvml.nvmlInit()
                self._nvml = pynvml
            nv = self._nvml
            out = []
            for i in range(nv.nvmlDeviceGetCount()):
                handle = nv.nvmlDeviceGetHandleByIndex(i)
                name = nv.nvmlDeviceGetName(handle)
                name = name.decode() if isinstance(name, bytes) else name
                util = mem = temp = None
                try:
                    util = float(nv.nvmlDeviceGetUtilizationRates(handle).gpu)
                except Exception:  # noqa: BLE001 - some GPUs (MIG) do not report it
                    pass
                try:
                    mem = nv.nvmlDeviceGetMemoryInfo(handle)
                except Exception:  # noqa: BLE001
                    pass
                try:
                    temp = int(nv.nvmlDeviceGetTemperature(handle, 0))
                except Exception:  # noqa: BLE001
                    pass
                out.append(GpuSample(i, name, util, mem.used if mem else None, mem.total if mem else None, temp))
            return out
        except Exception as exc:  # noqa: BLE001 - no driver, no library: no GPU numbers
            self._nvml = False
            self.gpu_problem = gpu_problem(exc)
            return []

    def sample(self, pids: list[int]) -> Sample:
        import psutil

        out = Sample()
        out.cpu_per_core = psutil.cpu_percent(percpu=True)
        out.cpu_total = sum(out.cpu_per_core) / max(1, len(out.cpu_per_core))
        mem = psutil.virtual_memory()
        out.mem_used, out.mem_total = mem.total - mem.available, mem.total
        try:
            out.load = psutil.getloadavg()
        except (AttributeError, OSError):
            pass
        out.gpus = self._gpus()
        out.gpu_problem = self.gpu_problem
        for pid in pids:
            try:
                proc = self._procs.get(pid)
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                    proc.cpu_percent(None)
                with proc.oneshot():
                    out.procs[pid] = ProcSample(pid, proc.cpu_percent(None), proc.memory_info().rss)
            except (psutil.Error, OSError):
                self._procs.pop(pid, None)
        for pid in list(self._procs):
            if pid not in pids:
                del self._procs[pid]
        return out

    def close(self) -> None:
        if self._nvml:
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass
        self._nvml = None
