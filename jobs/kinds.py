"""The job kinds mnistlab knows, by name (no torch here).

Each kind is a spec module `jobs/spec_<kind>.py` defining `KIND` (a
`JobKind`: its fields, headline, and the module with `run(spec, ctx)` that
only slots import). Spec modules are found by name, so adding a kind
touches no shared file. `MNISTLAB_KINDS` names more spec modules
(comma-separated, importable, e.g. a lab's own kinds). A spec module that
fails to import disables its kind alone; `BROKEN_KINDS` says why.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

import jobs
from jobs.schema import JobKind, SpecError

BROKEN_KINDS: dict[str, str] = {}  # module name -> why it could not be loaded


def _modules() -> list[str]:
    found = sorted(f"jobs.{m.name}" for m in pkgutil.iter_modules(jobs.__path__) if m.name.startswith("spec_"))
    extra = [m.strip() for m in os.environ.get("MNISTLAB_KINDS", "").split(",") if m.strip()]
    return found + extra


def _discover() -> dict[str, JobKind]:
    found = {}
    for module in _modules():
        try:
            kind = importlib.import_module(module).KIND
        except Exception as exc:  # noqa: BLE001 - one broken kind must not take the others down
            BROKEN_KINDS[module.rsplit(".", 1)[-1].removeprefix("spec_")] = f"{type(exc).__name__}: {exc}"
            continue
        found[kind.name] = kind
    return dict(sorted(found.items(), key=lambda item: (item[0] != "train", item[0])))


KINDS: dict[str, JobKind] = _discover()


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        if name in BROKEN_KINDS:
            raise SpecError("job", "kind", name, "one of " + ", ".join(KINDS),
                            f"cannot be loaded ({BROKEN_KINDS[name]})") from None
        raise SpecError("job", "kind", name, "one of " + ", ".join(KINDS), "is not a known job kind") from None


def validate(kind: str, raw: dict) -> dict:
    return get_kind(kind).validate(raw)
