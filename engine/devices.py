"""Device slots: which GPUs (or CPU slots) the engine runs workers on.

Torch-free: GPUs are counted through NVML, so neither the engine nor a
`submit` that checks a GPU request has to import torch.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Slot:
    name: str            # "gpu0", "gpu0.1" (a second slot on GPU 0), "cpu0"
    gpu: int | None      # the GPU index this slot's worker sees as its only device
    threads: int         # torch intra-op threads for the worker
    label: str           # what `ls` and the dashboard show, e.g. "gpu 0 (NVIDIA H100)"
    pretend: bool = False

    def env(self) -> dict[str, str]:
        # Set before the worker imports torch; a CPU slot sees no GPU at all.
        return {"CUDA_VISIBLE_DEVICES": "" if self.gpu is None else str(self.gpu)}

    @property
    def torch_device(self) -> str:
        return "cuda:0" if self.gpu is not None and not self.pretend else "cpu"

    def to_json(self) -> dict:
        return asdict(self)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def real_gpus() -> list[tuple[int, str]]:
    """(index, name) of the CUDA GPUs this process may use; [] without NVML or GPUs."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no driver, no library: no GPUs
        return []
    try:
        found = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            name = pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(i))
            found.append((i, name.decode() if isinstance(name, bytes) else name))
    finally:
        pynvml.nvmlShutdown()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        allowed = [int(v) for v in visible.split(",") if v.strip().isdigit()]
        found = [g for g in found if g[0] in allowed]
    return found


def gpus() -> list[tuple[int, str]]:
    """Real GPUs, or `MNISTLAB_FAKE_GPUS=N` pretend ones (run on CPU, for testing assignment)."""
    fake = os.environ.get("MNISTLAB_FAKE_GPUS", "").strip()
    if fake:
        if not fake.isdigit() or not 0 < int(fake) <= 64:
            raise ValueError(f"MNISTLAB_FAKE_GPUS={fake!r} is not allowed; allowed: a whole number from 1 to 64")
        return [(i, "pretend GPU") for i in range(int(fake))]
    return real_gpus()


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= 64:
        raise ValueError(f"{name}={value!r} is not allowed; allowed: a whole number from 1 to 64")
    return int(value)


def discover(gpu_slots: int | None = None, cpu_slots: int | None = None) -> list[Slot]:
    """One slot per GPU (times `gpu_slots`), else `cpu_slots` CPU slots.

    Defaults come from MNISTLAB_GPU_SLOTS / MNISTLAB_CPU_SLOTS, else 1 per GPU
    and one CPU slot per 4 cores (at least one). Torch threads are split
    evenly between the slots.
    """
    gpu_slots = gpu_slots or _env_int("MNISTLAB_GPU_SLOTS") or 1
    cores = usable_cores()
    found = gpus()
    pretend = bool(os.environ.get("MNISTLAB_FAKE_GPUS", "").strip())
    if found:
        count = len(found) * gpu_slots
        threads = max(1, cores // count)
        slots = []
        for index, name in found:
            for k in range(gpu_slots):
                suffix = f".{k}" if gpu_slots > 1 else ""
                label = f"gpu {index}{suffix} ({name}{', runs on cpu' if pretend else ''})"
                slots.append(Slot(f"gpu{index}{suffix}", index, threads, label, pretend))
        return slots
    count = cpu_slots or _env_int("MNISTLAB_CPU_SLOTS") or max(1, cores // 4)
    threads = max(1, cores // count)
    return [Slot(f"cpu{i}", None, threads, f"cpu {i} ({threads} threads)") for i in range(count)]
