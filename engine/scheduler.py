"""Which queued job goes to which free slot, and why the others wait.

A pure function of the queue, the slots and the dependencies' states, so
the placement rules are tested without processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.devices import Slot
from runs.records import Job


@dataclass
class Plan:
    assign: list[tuple[Job, Slot]] = field(default_factory=list)
    waits: dict[int, str] = field(default_factory=dict)   # job id -> why it waits
    fail: list[tuple[Job, str]] = field(default_factory=list)  # dependants of failed jobs


def eligible(job: Job, slot: Slot) -> bool:
    want = job.placement.get("gpu")
    if want is not None and slot.gpu != want:
        return False
    label = job.placement.get("node")
    if label is not None and label not in slot.labels:
        return False
    return slot.gpu is None or slot.gpu not in job.placement.get("exclude_gpus", [])


def _unplaceable(job: Job, slots: list[Slot]) -> str:
    """Why no slot of this engine could ever take `job`."""
    label, want = job.placement.get("node"), job.placement.get("gpu")
    if label is not None and not any(label in s.labels for s in slots):
        have = ", ".join(sorted({lb for s in slots for lb in s.labels})) or "none"
        return f"asks for node label {label}, which no slot of this engine has (labels: {have})"
    if want is not None:
        have = ", ".join(str(g) for g in sorted({s.gpu for s in slots if s.gpu is not None})) or "none"
        return f"asks for GPU {want}, which this engine does not have (GPUs: {have})"
    return "every GPU of this engine is excluded by the job"


def _dependency_state(job: Job, deps: dict[int, tuple[str, str | None]]) -> tuple[str, str]:
    """('ready'|'wait'|'fail', explanation)."""
    waiting = []
    for dep in job.depends_on:
        status, reason = deps.get(dep, ("missing", None))
        if status in ("failed", "cancelled", "missing"):
            why = f": {reason}" if reason else ""
            return "fail", f"dependency job {dep} {'was ' + status if status != 'missing' else 'is missing'}{why}"
        if status != "done":
            waiting.append(f"{dep} ({status})")
    if waiting:
        return "wait", "waiting for job " + ", ".join(waiting) + " to finish"
    return "ready", ""


def plan(queued: list[Job], free: list[Slot], slots: list[Slot], busy: dict[str, int],
         deps: dict[int, tuple[str, str | None]]) -> Plan:
    """`queued` in priority-then-FIFO order; `busy` maps slot name -> job id on it."""
    result = Plan()
    slots = [s for s in slots if not getattr(s, "lost", False)]  # a lost machine's slots never come back
    available = list(free)
    for job in queued:
        state, why = _dependency_state(job, deps)
        if state == "fail":
            result.fail.append((job, why))
            continue
        if state == "wait":
            result.waits[job.id] = why
            continue
        possible = [s for s in slots if eligible(job, s)]
        if not possible:
            result.waits[job.id] = _unplaceable(job, slots)
            continue
        slot = next((s for s in available if eligible(job, s)), None)
        if slot is not None:
            available.remove(slot)
            result.assign.append((job, slot))
            continue
        holders = ", ".join(f"{s.name}: job {busy[s.name]}" for s in possible if s.name in busy)
        if job.placement.get("gpu") is not None:
            result.waits[job.id] = f"GPU {job.placement['gpu']}, which it asked for, is busy ({holders or 'starting'})"
        elif len(possible) == len(slots):
            result.waits[job.id] = f"no free slot (all {len(slots)} busy{': ' + holders if holders else ''})"
        else:
            result.waits[job.id] = f"no free slot among the ones it may use ({holders or 'starting'})"
    return result
