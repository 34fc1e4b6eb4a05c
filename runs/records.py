"""Plain records that cross the store's boundary: a job request, a job row."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("queued", "running", "done", "failed", "cancelled")
# Values that say nothing in one line: the default seed, data set and net head.
UNSHOWN_DEFAULTS = {"seed": 0, "dataset": "mnist", "as_published": False}
FINISHED = ("done", "failed", "cancelled")
DEFAULT_MAX_ATTEMPTS = 2  # starts a job gets if the engine dies under it
NODE_LABEL = re.compile(r"^[A-Za-z0-9._\-:/=]{1,100}$")


class InputError(ValueError):
    """Bad input from a person (unknown id, wrong state, bad option): exit code 2."""


@dataclass
class JobRequest:
    """A job to queue. `depends_on` holds ids of jobs already in the store;
    `after` holds indexes of requests in the same batch (a study queues its
    whole graph in one transaction)."""

    kind: str
    spec: dict
    priority: int = 0
    study: str | None = None
    label: str | None = None
    gpu: int | None = None
    exclude_gpus: list[int] = field(default_factory=list)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    depends_on: list[int] = field(default_factory=list)
    after: list[int] = field(default_factory=list)
    data_dir: str | None = None
    node: str | None = None  # run only on slots with this label (a cluster node's label or custom resource)

    def placement(self) -> dict:
        out: dict[str, Any] = {}
        if self.gpu is not None:
            out["gpu"] = self.gpu
        if self.exclude_gpus:
            out["exclude_gpus"] = sorted(set(self.exclude_gpus))
        if self.node is not None:
            out["node"] = self.node
        return out

    def check(self) -> None:
        if not -1000 <= self.priority <= 1000:
            raise InputError(f"priority {self.priority} is out of range; allowed: -1000 to 1000")
        if not 1 <= self.max_attempts <= 10:
            raise InputError(f"max_attempts {self.max_attempts} is out of range; allowed: 1 to 10")
        if self.gpu is not None and self.gpu < 0:
            raise InputError(f"gpu {self.gpu} is not allowed; allowed: a GPU index >= 0")
        if self.gpu is not None and self.gpu in self.exclude_gpus:
            raise InputError(f"gpu {self.gpu} is both asked for and excluded")
        if self.node is not None and not NODE_LABEL.match(self.node):
            raise InputError(f"node label {self.node!r} is not allowed; allowed: 1-100 letters, digits and . _ - : / = "
                             "(a Ray node label KEY=VALUE or custom resource name, e.g. bigmem or zone=a)")


@dataclass
class Job:
    id: int
    kind: str
    spec: dict
    status: str
    priority: int
    study: str | None
    label: str | None
    placement: dict
    depends_on: list[int]
    data_dir: str | None
    max_attempts: int
    attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    slot: str | None
    device: str | None
    worker_pid: int | None
    heartbeat_at: float | None
    progress: float
    progress_text: str | None
    eta_s: float | None
    cancel_requested: bool
    wait_reason: str | None
    reason: str | None
    result: dict | None
    headline: float | None
    repro: dict
    seq: int
    worker_started: float | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Job":
        d = dict(row)
        for key in ("spec", "placement", "depends_on", "repro"):
            d[key] = json.loads(d[key])
        d["result"] = json.loads(d["result"]) if d["result"] else None
        d["cancel_requested"] = bool(d["cancel_requested"])
        return cls(**d)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def runtime_s(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or self.heartbeat_at or self.started_at) - self.started_at

    def short_spec(self) -> str:
        """The spec fields that identify the run, e.g. 'net=10.1 samples=1000 epochs=10'."""
        parts = []
        for key in identity_keys(self.kind):
            value = self.spec.get(key)
            if value is None or (key in UNSHOWN_DEFAULTS and value == UNSHOWN_DEFAULTS[key]):
                continue
            if isinstance(value, list):
                value = ",".join(map(str, value))
            parts.append(f"{key}={value}")
        return " ".join(parts) if parts else json.dumps(self.spec, sort_keys=True)

    def to_json(self) -> dict:
        return asdict(self)


def identity_keys(kind: str) -> tuple[str, ...]:
    """The spec fields that identify a run of this kind, most telling first (none for an unknown kind)."""
    from jobs.kinds import KINDS  # each kind names them; jobs.kinds itself is torch-free

    found = KINDS.get(kind)
    return tuple(found.identity) if found else ()
