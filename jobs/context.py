"""What a job sees of the world while it runs: `run(spec, ctx)`.

A job reports only through its context (metrics, progress, logs, tables,
images, checkpoints, the reproducibility record) and asks it whether it was
cancelled. Where the reports go is the subclass's business: `LocalContext`
keeps them in memory (tests, direct runs); the engine's worker sends them
over a pipe to the engine, which writes the store.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

CHECKPOINT = "checkpoint.pt"


class JobCancelled(Exception):
    """Raised inside a job when its cancel flag is seen."""


class Context:
    progress_interval_s = 0.25

    def __init__(self, *, spec: dict, artifact_dir: str | os.PathLike, device: str = "cpu",
                 data_dir: str | None = None, job_id: int | None = None, attempt: int = 1):
        self.spec = spec
        self.job_id = job_id
        self.attempt = attempt
        self.device = device
        self.data_dir = data_dir
        self.seed = int(spec.get("seed", 0))
        self.rng = np.random.default_rng(self.seed)
        self.artifact_dir = Path(artifact_dir)
        self.artifact_dir.mkdir(parents=True, exist_ok=True)
        self._last_progress = 0.0

    # -- where reports go (subclasses) -----------------------------------
    def emit(self, event: str, **payload: Any) -> None:
        raise NotImplementedError

    @property
    def cancelled(self) -> bool:
        raise NotImplementedError

    # -- reports -----------------------------------------------------------
    def metrics(self, name: str, steps: Iterable[int], values: Iterable[float]) -> None:
        self.emit("metrics", name=name, steps=[int(s) for s in steps], values=[float(v) for v in values])

    def metric(self, name: str, step: int, value: float) -> None:
        self.metrics(name, [step], [value])

    def progress(self, done: float, total: float, text: str = "", force: bool = False) -> None:
        """Fraction done; sent at most a few times a second unless forced."""
        now = time.monotonic()
        if force or now - self._last_progress >= self.progress_interval_s:
            self._last_progress = now
            self.emit("progress", fraction=min(1.0, done / total) if total else 0.0, text=text)

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=message)

    def table(self, name: str, payload: Any) -> None:
        """A JSON-able result table (confusion matrix, accuracy grid, ...)."""
        self.emit("table", name=name, payload=payload)

    def record(self, **facts: Any) -> None:
        """Add facts to the run's reproducibility record (versions, data checksums, ...)."""
        self.emit("repro", facts=facts)

    def artifact(self, name: str, path: str | os.PathLike, kind: str = "file", meta: dict | None = None) -> None:
        self.emit("artifact", name=name, path=str(path), kind=kind, meta=meta or {})

    def image(self, name: str, pixels: np.ndarray, caption: str = "", meta: dict | None = None) -> Path:
        """Save a uint8 greyscale (H, W) or RGB (H, W, 3) image as PNG and report it."""
        from PIL import Image

        path = self.artifact_dir / f"{name}.png"
        _atomic_write(path, lambda tmp: Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(tmp, format="PNG"))
        self.artifact(name, path, "image", {"caption": caption, **(meta or {})})
        return path

    # -- checkpoints -------------------------------------------------------
    def save_checkpoint(self, state: dict) -> None:
        """Written atomically (temp file, then rename): a kill never leaves half a checkpoint."""
        import torch

        path = self.artifact_dir / CHECKPOINT
        _atomic_write(path, lambda tmp: torch.save(state, tmp))
        self.artifact("checkpoint", path, "checkpoint", {"saved_at": time.time()})

    def load_checkpoint(self) -> dict | None:
        import torch

        path = self.artifact_dir / CHECKPOINT
        if not path.exists():
            return None
        return torch.load(path, map_location=self.device, weights_only=False)

    def save_weights(self, state_dict: dict, meta: dict, name: str = "weights") -> Path:
        import torch

        path = self.artifact_dir / f"{name}.pt"
        _atomic_write(path, lambda tmp: torch.save({"state_dict": state_dict, **meta}, tmp))
        self.artifact(name, path, "weights", meta)
        return path

    # -- helpers for jobs --------------------------------------------------
    def artifacts_of(self, job_id: int) -> Path:
        """The artifact folder of another job of the same store (e.g. a classifier this job depends on)."""
        return self.artifact_dir.parent / str(job_id)

    def check_cancelled(self) -> None:
        if self.cancelled:
            raise JobCancelled()

    def seed_everything(self) -> None:
        import torch

        random.seed(self.seed)
        np.random.seed(self.seed % 2**32)
        torch.manual_seed(self.seed)

    def torch_device(self):
        import torch

        return torch.device(self.device)


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class LocalContext(Context):
    """Keeps every report in memory: for tests and running a job in-process."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.events: list[tuple[str, dict]] = []
        self.cancel_event = threading.Event()

    def emit(self, event: str, **payload: Any) -> None:
        self.events.append((event, payload))

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def series(self, name: str) -> list[tuple[int, float]]:
        """Every (step, value) reported for a metric, later reports of a step winning."""
        points: dict[int, float] = {}
        for event, p in self.events:
            if event == "metrics" and p["name"] == name:
                points.update(zip(p["steps"], p["values"]))
        return sorted(points.items())

    def tables(self) -> dict[str, Any]:
        return {p["name"]: p["payload"] for e, p in self.events if e == "table"}

    def artifacts(self) -> dict[str, dict]:
        return {p["name"]: p for e, p in self.events if e == "artifact"}
