"""The job kinds mnistlab knows, by name (no torch here).

Each kind is a spec module `jobs/spec_<kind>.py` defining `KIND` (a
`JobKind`), plus a run module `jobs/<kind>.py` with `run(spec, ctx)`, which
only workers import. Spec modules are found by name, so adding a kind
touches no shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

import jobs
from jobs.schema import JobKind, SpecError


def _discover() -> dict[str, JobKind]:
    found = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(jobs.__path__) if m.name.startswith("spec_")):
        kind = importlib.import_module(f"jobs.{module}").KIND
        found[kind.name] = kind
    return dict(sorted(found.items(), key=lambda item: (item[0] != "train", item[0])))


KINDS: dict[str, JobKind] = _discover()


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise SpecError("job", "kind", name, "one of " + ", ".join(KINDS), "is not a known job kind") from None


def validate(kind: str, raw: dict) -> dict:
    return get_kind(kind).validate(raw)
