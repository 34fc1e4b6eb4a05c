"""Running one job inside a slot (a local worker process or a remote actor): the part both share.

A slot imports torch and every job kind's run module once. A kind whose
module fails to import is disabled alone: its jobs fail with the import
error, every other kind runs as usual.
"""

from __future__ import annotations

import importlib
import os
import platform
import traceback

from jobs.context import Context, JobCancelled, JobFailed
from jobs.kinds import BROKEN_KINDS, KINDS


def repro_base(slot_label: str, device: str, threads: int) -> dict:
    """Versions and device as plain strings (a torch version object would make the engine import torch)."""
    import numpy
    import torch
    import torchvision

    from engine.version import code_version

    versions = {
        "python": platform.python_version(), "torch": str(torch.__version__),
        "torchvision": str(torchvision.__version__), "numpy": str(numpy.__version__),
        "mnistlab": code_version(), "platform": platform.platform(), "host": platform.node(),
    }
    device_info = {"slot": slot_label, "torch_device": device, "torch_threads": threads,
                   "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                   "cuda_device_order": os.environ.get("CUDA_DEVICE_ORDER")}
    if device.startswith("cuda"):
        device_info["gpu_name"] = str(torch.cuda.get_device_name(0))
        device_info["cuda"] = str(torch.version.cuda)
    return {"versions": versions, "device": device_info}


class SlotRunner:
    def __init__(self, slot_label: str, device: str, threads: int):
        self.slot_label, self.device, self.threads = slot_label, device, threads
        self.modules: dict[str, object] = {}
        self.broken: dict[str, str] = dict(BROKEN_KINDS)
        for name, kind in KINDS.items():
            try:
                self.modules[name] = importlib.import_module(kind.runner)
            except Exception as exc:  # noqa: BLE001 - any import failure disables only this kind
                self.broken[name] = f"{type(exc).__name__}: {exc}"

    def run(self, order: dict, ctx: Context) -> tuple[str, dict | None, str | None]:
        """(status, result, reason) of one attempt."""
        kind, job_id = order["kind"], order["id"]
        if kind in self.broken:
            return "failed", None, (f"job kind {kind!r} cannot be loaded ({self.broken[kind]}); the other kinds "
                                    f"run as usual. Fix it, restart the engine and `mnistlab retry {job_id}`")
        if kind not in self.modules:
            return "failed", None, (f"job kind {kind!r} is unknown to this engine, which was started before it was "
                                    "installed; restart it (`mnistlab engine stop`, then `mnistlab engine start`) "
                                    f"and `mnistlab retry {job_id}`")
        spec = order["spec"]
        try:
            ctx.data_dir = self.data_folder(order["data"])
            deterministic = bool(spec.get("deterministic", False))
            _set_deterministic(deterministic)
            ctx.record(spec=spec, seed=ctx.seed, attempt=order["attempt"], deterministic=deterministic,
                       **repro_base(self.slot_label, self.device, self.threads))
            result = self.modules[kind].run(spec, ctx)
            return "done", result, None
        except JobCancelled:
            ctx.log("cancelled: stopped at the next iteration", "warning")
            return "cancelled", None, "cancelled by request"
        except JobFailed as exc:
            ctx.log(str(exc), "error")
            return "failed", None, str(exc)
        except Exception as exc:  # noqa: BLE001 - whatever a job raises fails that job, never the slot
            ctx.log(traceback.format_exc(), "error")
            return "failed", None, failure_reason(exc)
        finally:
            _set_deterministic(False)

    @staticmethod
    def data_folder(data: dict) -> str | None:
        """This machine's copy of the job's data set: the engine's folder if it holds exactly those files,
        else the set's usual places here (MNISTLAB_DATA, the cache). Raises DataError if none does."""
        if "sha256" not in data:
            return data.get("folder")
        from jobs.datasets import candidates, locate

        folders = [data["folder"], *(folder for folder, _ in candidates(data["name"]))]
        return str(locate(data, list(dict.fromkeys(f for f in folders if f))))


def failure_reason(exc: BaseException) -> str:
    """A failed job's reason: a data set's problem as it says it, anything else with its type."""
    from jobs.datasets import DataError

    return str(exc) if isinstance(exc, DataError) else f"{type(exc).__name__}: {exc}"


def _set_deterministic(on: bool) -> None:
    import torch

    torch.use_deterministic_algorithms(on)
    torch.backends.cudnn.benchmark = False if on else torch.backends.cudnn.benchmark
