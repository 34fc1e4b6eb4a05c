"""Study presets for the submit form: one per study type installed under `runs/studies/`.

A study module has TYPE, TITLE, OPTIONS (schema `Field`s) and `plan(...)`.
The form shows OPTIONS (plus a group name, and for the zoo its train
overrides), checks them with the same `Field` rules as the CLI, then asks the
module for its jobs through a hook found by name:

1. `dashboard_plan(options, store=..., overrides=...)` if the module defines it;
2. else `plan(options, ...)`, passing `store` and `overrides` only when its
   signature takes them (later studies look in the store for finished
   classifiers).

A study type that is not installed simply has no preset; one whose plan
needs more than this can give says so when submitted, and the CLI command
remains the way to queue it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from types import ModuleType

from jobs.kinds import KINDS
from jobs.schema import Field, SpecError
from runs.records import InputError, JobRequest

# Fields of a job kind a study may override for all its jobs (e.g. `mnistlab study zoo --epochs 1`).
OVERRIDES: dict[str, tuple[str, tuple[str, ...]]] = {"zoo": ("train", ("epochs", "batch_size"))}


@dataclass
class Preset:
    type: str
    title: str
    module: ModuleType
    options: tuple[Field, ...]
    overrides: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def summary(self) -> str:
        return (self.module.__doc__ or self.title).strip().splitlines()[0]

    def field_errors(self, raw: dict) -> dict[str, str]:
        """Every option's problem at once (the same messages as `mnistlab study TYPE`)."""
        errors: dict[str, str] = {}
        for f in (*self.options, *self.overrides):
            value = raw.get(f.name)
            if value in (None, ""):
                continue
            try:
                f.coerce(f"study {self.type}", value)
            except SpecError as exc:
                errors[f.name] = str(exc)
        return errors

    def options_from(self, raw: dict) -> tuple[dict, dict]:
        """(validated study options, job overrides) from the form's text."""
        given = {f.name: raw.get(f.name) for f in self.options}
        validate = getattr(self.module, "validate", None)
        if validate is not None:
            options = validate(given)
        else:
            options = {}
            for f in self.options:
                value = given[f.name]
                options[f.name] = (f.default_for(options) if value in (None, "")
                                   else f.coerce(f"study {self.type}", value))
        kind_name = OVERRIDES.get(self.type, ("", ()))[0]
        overrides = {f.name: f.coerce(kind_name, raw[f.name]) for f in self.overrides
                     if raw.get(f.name) not in (None, "")}
        return options, overrides

    def plan(self, options: dict, overrides: dict, store) -> list[JobRequest]:
        hook = getattr(self.module, "dashboard_plan", None) or self.module.plan
        params = inspect.signature(hook).parameters
        kwargs = {}
        if "store" in params:
            kwargs["store"] = store
        if "overrides" in params:
            kwargs["overrides"] = overrides
        elif overrides:
            raise InputError(f"study {self.type} takes no job overrides here")
        required = [p.name for p in list(params.values())[1:]
                    if p.default is inspect.Parameter.empty and p.name not in kwargs
                    and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if required:
            raise InputError(f"study {self.type} needs {', '.join(required)} to plan its jobs, which the dashboard "
                             f"cannot give yet; queue it with `mnistlab study {self.type}`")
        return hook(options, **kwargs)


def presets() -> list[Preset]:
    try:
        from runs.studies import STUDY_TYPES
    except Exception:  # noqa: BLE001 - a broken study module must not take the form down
        return []
    out = []
    for type_, module in STUDY_TYPES.items():
        if not hasattr(module, "plan") or not hasattr(module, "OPTIONS"):
            continue
        overrides: tuple[Field, ...] = ()
        if type_ in OVERRIDES and OVERRIDES[type_][0] in KINDS:
            kind = KINDS[OVERRIDES[type_][0]]
            overrides = tuple(kind.field(n) for n in OVERRIDES[type_][1])
        out.append(Preset(type_, getattr(module, "TITLE", type_), module, tuple(module.OPTIONS), overrides))
    return out


def preset(type_: str) -> Preset | None:
    return next((p for p in presets() if p.type == type_), None)
