"""The executor seam: how the engine drives slots without knowing what a slot is.

The engine (`engine.daemon`) is the store's only writer, the scheduler and
the one place that decides retries. An executor owns the slots: it starts
them, runs one job at a time on each, carries the job's reports back and
says when a slot or a job was lost. `LocalExecutor` (a spawn'd worker
process per slot, `engine.local_executor`) is the default; a backend for a
cluster is one more module implementing the same few methods.

    executor.start()                      start every slot (asynchronously)
    executor.slots()     -> [SlotState]   what each slot is doing, for the store and the scheduler
    executor.run(slot, order)             hand a job to an idle, ready slot (raises SlotUnavailable)
    executor.cancel(job_id)               ask the job to stop at its next check
    executor.kill(job_id, reason)         stop it now; a JobLost with `reason` follows
    executor.poll(timeout) -> [event]     wait up to `timeout` s for what happened (events below)
    executor.shutdown()                   stop every slot; a last poll(0) returns the final reports, and a
                                          JobLost for each job that was still running

Events are plain data (the engine never imports torch to read them):

    SlotReady(slot)                       the slot can take a job
    Reports(job_id, batch)                [(event, payload), ...] as the job's context emitted them
    JobEnded(job_id, status, result, reason, stats)   the job returned, failed or was cancelled
    JobLost(job_id, reason)               the process, actor or node running it is gone

A job's reports arrive before its JobEnded or JobLost. Whatever an executor
cannot deliver as plain data it reports as JobEnded(failed) with the reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol, Union


@dataclass(frozen=True)
class JobOrder:
    """Everything a slot needs to run one attempt of a job."""

    id: int
    kind: str
    spec: dict
    attempt: int
    run_dir: str    # the run's folder on the engine's machine (its files are named relative to it)
    runs_dir: str   # the folder holding every run's folder (files of runs this job reads)
    data: dict      # the data set: {"name", "folder"} (a slot resolves it to local files)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class SlotState:
    name: str                 # "gpu0", "cpu1", ...
    label: str                # what people see: "gpu 0 (NVIDIA H100)"
    gpu: int | None
    pretend: bool = False
    threads: int = 1
    ready: bool = False
    job_id: int | None = None
    worker_pid: int | None = None
    worker_started: float | None = None   # the process's start time: tells it from a later process with its pid
    problem: str | None = None            # why the slot is not ready (shown in `engine status` and the dashboard)
    node: str | None = None               # the machine's id in a cluster (None: the engine's own machine)
    host: str | None = None               # that machine's name and address
    labels: list[str] = field(default_factory=list)  # what `submit --node LABEL` matches (a cluster's node labels)
    lost: bool = False                    # its machine is gone: the slot never comes back
    gpu_name: str | None = None           # GPU use as read on the slot's machine (None: not known here)
    gpu_util: float | None = None         # percent
    gpu_mem_used_mb: float | None = None
    gpu_mem_total_mb: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SlotReady:
    slot: str


@dataclass(frozen=True)
class Reports:
    job_id: int
    batch: list = field(default_factory=list)


@dataclass(frozen=True)
class JobEnded:
    job_id: int
    status: str               # done | failed | cancelled
    result: dict | None
    reason: str | None
    stats: dict = field(default_factory=dict)


@dataclass(frozen=True)
class JobLost:
    job_id: int
    reason: str


Event = Union[SlotReady, Reports, JobEnded, JobLost]


class SlotUnavailable(RuntimeError):
    """The slot cannot take the job (its worker died a moment ago); the job was not started."""


class Executor(Protocol):
    def start(self) -> None: ...
    def slots(self) -> list[SlotState]: ...
    def run(self, slot: str, order: JobOrder) -> None: ...
    def cancel(self, job_id: int) -> None: ...
    def kill(self, job_id: int, reason: str) -> None: ...
    def poll(self, timeout: float) -> list[Event]: ...
    def shutdown(self) -> None: ...
