"""Device slots: which GPUs (or CPU slots) the engine runs workers on.

Torch-free: GPUs are counted through NVML, so neither the engine nor a
`submit` that checks a GPU request has to import torch.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from runs.records import InputError


@dataclass(frozen=True)
class Slot:
    name: str            # "gpu0", "gpu0.1" (a second slot on GPU 0), "cpu0"
    gpu: int | None      # the GPU index this slot's worker sees as its only device
    threads: int         # torch intra-op threads for the worker
    label: str           # what `ls` and the dashboard show, e.g. "gpu 0 (NVIDIA H100)"
    pretend: bool = False
    visible: str | None = None  # what the worker's CUDA_VISIBLE_DEVICES names (an index, GPU-uuid or MIG-uuid)
    labels: tuple[str, ...] = ()  # placement labels (`submit --node`); a local slot has none

    def env(self) -> dict[str, str]:
        # Set before the worker imports torch; a CPU slot sees no GPU at all. PCI bus order makes the
        # indices those of nvidia-smi; the cuBLAS workspace setting lets a job ask for determinism.
        device = "" if self.gpu is None else (self.visible or str(self.gpu))
        return {"CUDA_VISIBLE_DEVICES": device, "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
                "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}

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


class DeviceError(InputError):
    """The GPUs this engine may use cannot be worked out; the message says what to change."""


def real_gpus() -> list[tuple[int, str, str]]:
    """(index, name, CUDA_VISIBLE_DEVICES token) of the CUDA GPUs this process may use; [] without NVML.

    Indices are nvidia-smi's (PCI bus order). CUDA_VISIBLE_DEVICES may name GPUs by index, by UUID
    (`GPU-...`) or MIG instances (`MIG-...`); each named device becomes one slot.
    """
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver, no library: no GPUs
        return []
    try:
        found = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name, uuid = pynvml.nvmlDeviceGetName(handle), pynvml.nvmlDeviceGetUUID(handle)
            found.append((i, _text(name), _text(uuid)))
    finally:
        pynvml.nvmlShutdown()
    return visible_gpus(found, os.environ.get("CUDA_VISIBLE_DEVICES"))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def visible_gpus(found: list[tuple[int, str, str]], visible: str | None) -> list[tuple[int, str, str]]:
    """The devices of `found` (index, name, uuid) that CUDA_VISIBLE_DEVICES lets this process use,
    as (index, name, token); refuses a value it cannot honour instead of falling back to the CPU."""
    if visible is None:
        return [(i, name, str(i)) for i, name, _ in found]
    out = []
    for position, token in enumerate(t.strip() for t in visible.split(",")):
        if not token:
            continue
        if token.isascii() and token.isdigit():
            match = [g for g in found if g[0] == int(token)]
        elif token.startswith("GPU-"):
            match = [g for g in found if g[2] == token or g[2].startswith(token)]
        elif token.startswith("MIG-"):
            out.append((position, f"MIG instance {token[:20]}", token))
            continue
        else:
            raise DeviceError(f"CUDA_VISIBLE_DEVICES={visible!r}: {token!r} is not allowed; allowed: GPU indices "
                              "(0,1), GPU UUIDs (GPU-...) or MIG instances (MIG-...), as nvidia-smi -L lists them")
        if not match:
            raise DeviceError(f"CUDA_VISIBLE_DEVICES={visible!r}: no GPU {token!r} on this machine "
                              f"(nvidia-smi -L lists {', '.join(g[2] for g in found) or 'none'})")
        index, name, _ = match[0]
        out.append((index, name, token))
    return out


def gpus() -> list[tuple[int, str, str]]:
    """Real GPUs, or `MNISTLAB_FAKE_GPUS=N` pretend ones (run on CPU, for testing assignment)."""
    fake = os.environ.get("MNISTLAB_FAKE_GPUS", "").strip()
    if fake:
        if not fake.isdigit() or not 0 < int(fake) <= 64:
            raise ValueError(f"MNISTLAB_FAKE_GPUS={fake!r} is not allowed; allowed: a whole number from 1 to 64")
        return [(i, "pretend GPU", str(i)) for i in range(int(fake))]
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
        for index, name, token in found:
            for k in range(gpu_slots):
                suffix = f".{k}" if gpu_slots > 1 else ""
                label = f"gpu {index}{suffix} ({name}{', runs on cpu' if pretend else ''})"
                slots.append(Slot(f"gpu{index}{suffix}", index, threads, label, pretend,
                                  None if token == str(index) else token))
        return slots
    count = cpu_slots or _env_int("MNISTLAB_CPU_SLOTS") or max(1, cores // 4)
    threads = max(1, cores // count)
    return [Slot(f"cpu{i}", None, threads, f"cpu {i} ({threads} threads)") for i in range(count)]
