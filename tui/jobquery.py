"""Which jobs a list shows, and in what order: a small query language and the sort orders.

A query is what a person types after `/`, e.g. `status:running,queued kind:train net=10.1 adam`:

- `status:a,b` (also `status:active` = queued + running, `status:finished`),
  `kind:k`, `study:s`: keep jobs with one of these values;
- `field=value`: keep jobs whose spec has that value (compared as text);
- any other word: keep jobs whose id, kind, spec, status, study, label,
  device or reason contain it (case-insensitive).

Pure functions of `Job` records: the dashboard's lists and the tests share them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from runs.records import FINISHED, STATUSES, Job

STATUS_GROUPS = {"active": ("queued", "running"), "finished": FINISHED, "all": ()}
STATUS_CYCLE = ("all", "active", "queued", "running", "done", "failed", "cancelled")


@dataclass
class Query:
    statuses: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    studies: set[str] = field(default_factory=set)
    spec: dict[str, str] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # tokens that were not understood

    @classmethod
    def parse(cls, text: str) -> "Query":
        q = cls()
        try:
            tokens = shlex.split(text or "")
        except ValueError:  # an unclosed quote while typing
            tokens = (text or "").split()
        for token in tokens:
            key, sep, value = token.partition(":")
            if sep and key.lower() in ("status", "kind", "study", "is"):
                values = {v.strip() for v in value.split(",") if v.strip()}
                if key.lower() in ("status", "is"):
                    for v in values:
                        v = v.lower()
                        if v in STATUS_GROUPS:
                            q.statuses |= set(STATUS_GROUPS[v])
                        elif v in STATUSES:
                            q.statuses.add(v)
                        else:
                            q.problems.append(f"unknown status {v!r} (allowed: {', '.join(STATUSES)}, "
                                              "active, finished)")
                elif key.lower() == "kind":
                    q.kinds |= values
                else:
                    q.studies |= values
                continue
            name, eq, wanted = token.partition("=")
            if eq and name:
                q.spec[name.replace("-", "_")] = wanted
                continue
            q.words.append(token.lower())
        return q

    def matches(self, job: Job) -> bool:
        if self.statuses and job.status not in self.statuses:
            return False
        if self.kinds and job.kind not in self.kinds:
            return False
        if self.studies and (job.study or "") not in self.studies:
            return False
        for name, wanted in self.spec.items():
            if name not in job.spec or _text(job.spec[name]) != wanted:
                return False
        if self.words:
            hay = haystack(job)
            return all(w in hay for w in self.words)
        return True


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(map(_text, value))
    return str(value)


def haystack(job: Job) -> str:
    parts = [f"#{job.id}", str(job.id), job.kind, job.short_spec(), job.status, job.study or "",
             job.label or "", job.slot or "", job.device or "", job.reason or "", job.wait_reason or ""]
    return " ".join(parts).lower()


def with_status(text: str, status: str) -> str:
    """The query text with its status token replaced (`all` removes it)."""
    kept = [t for t in (text or "").split() if not t.lower().startswith(("status:", "is:"))]
    if status != "all":
        kept.insert(0, f"status:{status}")
    return " ".join(kept)


def next_status(text: str) -> str:
    """The status filter after the current one in STATUS_CYCLE."""
    current = next((t.split(":", 1)[1] for t in (text or "").split() if t.lower().startswith("status:")), "all")
    i = STATUS_CYCLE.index(current) if current in STATUS_CYCLE else 0
    return STATUS_CYCLE[(i + 1) % len(STATUS_CYCLE)]


# -- sorting ------------------------------------------------------------------

_STATUS_RANK = {"running": 0, "queued": 1, "failed": 2, "cancelled": 3, "done": 4}


def _queue_key(job: Job):
    """Running first, then queued in the order the engine takes them, then finished (newest first, by id:
    the order an index keeps, so a window of the history is read without sorting it)."""
    if job.status == "running":
        return (0, 0, job.id)
    if job.status == "queued":
        return (1, -job.priority, job.id)
    return (2, 0, -job.id)


SORTS: dict[str, tuple[str, object]] = {
    # name: (description, key function); `reverse` flips any of them
    "queue": ("queue order", _queue_key),
    "id": ("id", lambda j: j.id),
    "newest": ("newest first", lambda j: -j.id),
    "status": ("status", lambda j: (_STATUS_RANK.get(j.status, 9), j.id)),
    "kind": ("kind", lambda j: (j.kind, j.id)),
    "progress": ("progress", lambda j: (-(j.progress or 0), j.id)),
    "result": ("result", lambda j: (j.headline is None, -(j.headline or 0), j.id)),
    "runtime": ("runtime", lambda j: (-(j.runtime_s or 0), j.id)),
}
SORT_CYCLE = tuple(SORTS)
VOLATILE_SORTS = {"progress", "runtime"}  # orders that change while jobs run


def arrange(jobs, query: Query, sort: str = "queue", reverse: bool = False) -> list:
    """The jobs `query` matches, in the order of `sort`."""
    return sorted((j for j in jobs if query.matches(j)), key=SORTS[sort][1], reverse=reverse)
