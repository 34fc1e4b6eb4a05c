"""What a job sees of the world while it runs: `run(spec, ctx)`.

A job reports only through its context (metrics, progress, logs, tables,
files, checkpoints, the reproducibility record) and asks it whether it was
cancelled. Where the reports go is the subclass's business: `LocalContext`
keeps them in memory (tests, direct runs); an engine slot batches them to
the engine, which writes the store.

Files are named, not placed: a job saves `ctx.save_file("weights.pt", ...)`
and the report carries the name relative to the run's folder, so the store
never holds an absolute path and a remote slot can ship the bytes back.
Every file is written atomically (a temp file in the same folder, then a
rename). Every report is plain data (numbers, strings, lists, dicts).

The context keeps the metric history of the run and stores it inside every
checkpoint; a job resumed from a checkpoint re-sends exactly that history,
so what the store shows and what the checkpoint resumes never diverge.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from jobs.atomic import atomic_write

CHECKPOINT = "checkpoint.pt"
POINTS_PER_PAST_EPOCH = 100  # a finished epoch's per-iteration curve is kept as at most this many bucket means
HISTORY_KEY = "_mnistlab_metric_history"


class JobCancelled(Exception):
    """Raised inside a job when its cancel flag is seen."""


class JobFailed(Exception):
    """A failure the job explains itself (a diverged loss, a missing input): `str()` is the whole reason."""


class Context:
    progress_interval_s = 0.25

    def __init__(self, *, spec: dict, artifact_dir: str | os.PathLike, device: str = "cpu",
                 data_dir: str | None = None, job_id: int | None = None, attempt: int = 1,
                 runs_dir: str | os.PathLike | None = None):
        self.spec = spec
        self.job_id = job_id
        self.attempt = attempt
        self.device = device
        self.data_dir = data_dir
        self.seed = int(spec.get("seed", 0))
        self.rng = np.random.default_rng(self.seed)
        self.artifact_dir = Path(artifact_dir)
        self.artifact_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.runs_dir = Path(runs_dir) if runs_dir is not None else self.artifact_dir.parent
        self._last_progress = 0.0
        self._history: dict[str, dict[int, float]] = {}

    # -- where reports go (subclasses) -----------------------------------
    def emit(self, event: str, **payload: Any) -> None:
        raise NotImplementedError

    @property
    def cancelled(self) -> bool:
        raise NotImplementedError

    # -- reports -----------------------------------------------------------
    def metrics(self, name: str, steps: Iterable[int], values: Iterable[float]) -> None:
        steps, values = [int(s) for s in steps], [float(v) for v in values]
        self._history.setdefault(name, {}).update(zip(steps, values))
        self.emit("metrics", name=name, steps=steps, values=values)

    def metric(self, name: str, step: int, value: float) -> None:
        self.metrics(name, [step], [value])

    def thin_epoch(self, name: str, first_step: int, last_step: int) -> None:
        """Keep a finished epoch of a per-iteration curve as at most POINTS_PER_PAST_EPOCH points.

        The rule that bounds a long run's history: the epoch in progress (and the last one) keep every
        iteration; each earlier epoch is cut into equal buckets of consecutive iterations, each kept as
        its mean at its last step (a NaN in a bucket stays visible as a NaN). The whole series is sent
        again, so every reader and the checkpoint hold the same points."""
        points = self._history.get(name, {})
        inside = sorted(s for s in points if first_step <= s <= last_step)
        if len(inside) <= POINTS_PER_PAST_EPOCH:
            return
        size = math.ceil(len(inside) / POINTS_PER_PAST_EPOCH)
        for start in range(0, len(inside), size):
            bucket = inside[start:start + size]
            mean = sum(points[s] for s in bucket) / len(bucket)
            for s in bucket:
                del points[s]
            points[bucket[-1]] = mean
        steps = sorted(points)
        self._history[name] = {s: points[s] for s in steps}
        self.emit("series_replace", name=name, steps=steps, values=[points[s] for s in steps])

    def progress(self, done: float, total: float, text: str = "", force: bool = False) -> None:
        """Fraction done; sent at most a few times a second unless forced."""
        now = time.monotonic()
        if force or now - self._last_progress >= self.progress_interval_s:
            self._last_progress = now
            fraction = min(1.0, done / total) if total else 0.0
            self.emit("progress", fraction=fraction if math.isfinite(fraction) else 0.0, text=str(text))

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=str(message))

    def table(self, name: str, payload: Any) -> None:
        """A JSON-able result table (confusion matrix, accuracy grid, ...)."""
        self.emit("table", name=name, payload=payload)

    def record(self, **facts: Any) -> None:
        """Add facts to the run's reproducibility record (versions, data checksums, ...)."""
        self.emit("repro", facts=facts)

    # -- files -------------------------------------------------------------
    def save_file(self, filename: str, write: Callable[[Path], None], *, name: str | None = None,
                  kind: str = "file", meta: dict | None = None) -> Path:
        """Write `filename` in the run's folder through `write(temp_path)`, atomically, and report it
        as artifact `name` (default: the file's stem)."""
        if Path(filename).name != filename or filename.startswith("."):
            raise ValueError(f"artifact file name {filename!r} must be a plain, visible file name")
        path = self.artifact_dir / filename
        atomic_write(path, write)
        self.emit("artifact", name=name or Path(filename).stem, path=filename, kind=kind, meta=meta or {})
        return path

    def image(self, name: str, pixels: np.ndarray, caption: str = "", meta: dict | None = None) -> Path:
        """Save a uint8 greyscale (H, W) or RGB (H, W, 3) image as PNG and report it."""
        from PIL import Image

        picture = Image.fromarray(np.asarray(pixels, dtype=np.uint8))
        return self.save_file(f"{name}.png", lambda tmp: picture.save(tmp, format="PNG"), name=name, kind="image",
                              meta={"caption": caption, **(meta or {})})

    def save_arrays(self, name: str, arrays: dict[str, np.ndarray], meta: dict | None = None, kind: str = "data",
                    filename: str | None = None) -> Path:
        """Save named arrays as one compressed .npz (`filename`, default NAME.npz) and report it."""
        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:  # a file object: np.savez would append .npz to a bare path
                np.savez_compressed(fh, **arrays)
        return self.save_file(filename or f"{name}.npz", write, name=name, kind=kind, meta=meta)

    def save_weights(self, state_dict: dict, meta: dict, name: str = "weights") -> Path:
        import torch

        payload = {"state_dict": state_dict, **meta}
        return self.save_file(f"{name}.pt", lambda tmp: torch.save(payload, tmp), name=name, kind="weights",
                              meta=meta)

    def input_file(self, job_id: int, filename: str) -> Path:
        """A file of another run of the same store (e.g. the weights of a classifier this job depends on)."""
        return self.runs_dir / str(job_id) / filename

    # -- checkpoints -------------------------------------------------------
    def save_checkpoint(self, state: dict) -> None:
        """Written atomically, with the metric history so far: a resumed job restores both together."""
        import torch

        history = {name: [list(points), list(points.values())] for name, points in self._history.items()}
        payload = {**state, HISTORY_KEY: history}
        self.save_file(CHECKPOINT, lambda tmp: torch.save(payload, tmp), name="checkpoint", kind="checkpoint",
                       meta={"saved_at": time.time()})

    def load_checkpoint(self) -> dict | None:
        """The last checkpoint's state, or None. Its metric history replaces whatever the run reported
        after it (in the store as well), so a resumed run's curves continue exactly from there."""
        import torch

        path = self.artifact_dir / CHECKPOINT
        if not path.exists():
            return None
        state = torch.load(path, map_location="cpu", weights_only=True)  # rng states must stay on the CPU
        history = state.pop(HISTORY_KEY, None)
        if history is not None:
            self._history = {name: dict(zip(steps, values)) for name, (steps, values) in history.items()}
            self.emit("metrics_reset", metrics=history)
        return state

    def discard_checkpoint_history(self) -> None:
        """The job will not resume from the checkpoint it loaded: it starts over, so do its curves."""
        self._history = {}
        self.emit("metrics_reset", metrics={})

    # -- helpers for jobs --------------------------------------------------
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
        """The (step, value) points of a metric as the store would hold them: later reports of a step win,
        and a resume's history replaces what was reported before it."""
        points: dict[int, float] = {}
        for event, p in self.events:
            if event == "metrics" and p["name"] == name:
                points.update(zip(p["steps"], p["values"]))
            elif event == "metrics_reset":
                steps, values = p["metrics"].get(name, ([], []))
                points = dict(zip(steps, values))
            elif event == "series_replace" and p["name"] == name:
                points = dict(zip(p["steps"], p["values"]))
        return sorted(points.items())

    def tables(self) -> dict[str, Any]:
        return {p["name"]: p["payload"] for e, p in self.events if e == "table"}

    def artifacts(self) -> dict[str, dict]:
        """Reported files by artifact name, each with its absolute `path` in this context's folder."""
        return {p["name"]: {**p, "file": p["path"], "path": str(self.artifact_dir / p["path"])}
                for e, p in self.events if e == "artifact"}
