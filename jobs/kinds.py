"""The job kinds mnistlab knows, by name (no torch here).

Each kind has a spec (`jobs/spec_<kind>.py`) and a run function
(`jobs/<kind>.py`, imported only by workers).
"""

from __future__ import annotations

from jobs.schema import JobKind, SpecError
from jobs.spec_train import TRAIN

KINDS: dict[str, JobKind] = {k.name: k for k in (TRAIN,)}


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise SpecError("job", "kind", name, "one of " + ", ".join(KINDS), "is not a known job kind") from None


def validate(kind: str, raw: dict) -> dict:
    return get_kind(kind).validate(raw)
