"""Submit-time checks of spec fields that name other runs (`Field(runs=(kind, ...))`).

A job that reads another run's artifacts (an attack on trained classifiers, a
map of a trained GAN) can only start when those runs exist, are of the right
kind and are done. `check_run_refs` says so in one line before anything is
queued. A negative value -k names the request k places earlier in the same
batch, which the job must also wait for (`after`): a study that trains its
nets and attacks them queues both in one transaction. A run that is still
queued or running may be named only by a job that waits for it (`depends_on`).
"""

from __future__ import annotations

from jobs.kinds import get_kind
from jobs.schema import SpecError
from runs.records import JobRequest
from runs.store import Store


def check_run_refs(requests: list[JobRequest], store: Store) -> None:
    """Raise SpecError (one line, naming the field and the run) on the first bad reference."""
    for i, req in enumerate(requests):
        kind = get_kind(req.kind)
        fields = [f for f in kind.fields if f.runs]
        if not fields:
            continue
        spec = kind.validate(req.spec)
        for f in fields:
            values = spec[f.name] if f.is_list else [spec[f.name]]
            for value in values or []:
                _check_one(store, requests, i, kind.name, f, value)


def _check_one(store: Store, requests: list[JobRequest], i: int, kind: str, field, value: int) -> None:
    allowed = field.allowed()
    if value <= 0:
        j = i + value
        if value == 0 or j < 0:
            raise SpecError(kind, field.name, value, allowed, "is not a run id")
        if j not in requests[i].after:
            raise SpecError(kind, field.name, value, allowed,
                            f"names request {j} of this batch, which the job does not wait for")
        if requests[j].kind not in field.runs:
            raise SpecError(kind, field.name, value, allowed,
                            f"names a {requests[j].kind} request of this batch, not a {' or '.join(field.runs)} run")
        return
    rows = store.query("SELECT kind, status FROM jobs WHERE id = ?", (value,))
    if not rows:
        last = store.query("SELECT max(id) FROM jobs")[0][0]
        known = f"ids run from 1 to {last}" if last else "the store has no jobs yet"
        raise SpecError(kind, field.name, value, allowed, f"is not a job in this store ({known})")
    run_kind, status = rows[0]
    if run_kind not in field.runs:
        raise SpecError(kind, field.name, value, allowed, f"is a {run_kind} job, not a {' or '.join(field.runs)} run")
    waits = status in ("queued", "running") and value in requests[i].depends_on
    if status != "done" and not waits:
        what = "still queued" if status == "queued" else "still running" if status == "running" else status
        raise SpecError(kind, field.name, value, allowed, f"is {what}, not finished")
