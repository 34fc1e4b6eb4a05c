"""Declarative job specs: fields, defaults, and one-line validation messages.

A spec arrives as a dict of strings (CLI, dashboard form) or JSON values (a
spec file). `JobKind.validate` returns the full spec with every default
filled in, or raises `SpecError` naming the field, the value and what is
allowed. The CLI and the dashboard use the same rules, so they give the same
messages. No torch here: specs are checked before anything is queued.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

Default = Any | Callable[[dict], Any]  # a value, or a function of the spec so far

MAX_ID = 2**63 - 1  # SQLite's largest integer: no job id, and no whole number in a spec, is larger
# ASCII digits only: "²".isdigit() is True but int() refuses it, and int() and float() take "٣" or "７"
WHOLE = re.compile(r"[+-]?[0-9]+")
SHOWN_CHARS = 60  # a value longer than this is cut short in messages, which stay one readable line


class SpecError(ValueError):
    """A spec value that is not allowed. `str()` is one line for the user."""

    def __init__(self, kind: str, field: str, value: Any, allowed: str, problem: str = "is not allowed"):
        self.kind, self.field, self.value, self.allowed = kind, field, value, allowed
        super().__init__(f"{kind} spec, field '{field}': {shown(value)} {problem}; allowed: {allowed}")


def shown(value: Any) -> str:
    """`repr(value)`, cut short if long (a 5,000-digit number, a pasted paragraph)."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS - 15]}... ({len(text):,} characters)"


@dataclass(frozen=True)
class Field:
    name: str
    type: type  # int, float, str, bool
    default: Default
    help: str
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    is_list: bool = False  # a list of `type`, given as a list or "a,b,c"
    min_items: int = 1
    max_items: int | None = None
    # Run ids: the field names other jobs of these kinds, which must be done when this job is
    # queued (checked against the store by `runs.refs.check_run_refs`, not here: no store in specs).
    # A negative value -k names the request k places earlier in the same batch (a study's own runs).
    runs: tuple[str, ...] = ()

    def allowed(self) -> str:
        if self.runs:
            what = f"the id of a finished {' or '.join(self.runs)} run"
        elif self.choices is not None:
            shown = ", ".join(self.choices)
            what = f"one of {shown}"
        elif self.type is bool:
            what = "true or false"
        elif self.type is str:
            what = "text"
        else:
            noun = "a whole number" if self.type is int else "a number"
            if self.min is not None and self.max is not None:
                low = f"greater than {_fmt(self.min)}" if self.min_exclusive else f"from {_fmt(self.min)}"
                what = f"{noun} {low} {'and at most' if self.min_exclusive else 'to'} {_fmt(self.max)}"
            elif self.min is not None:
                what = f"{noun} {'>' if self.min_exclusive else '>='} {_fmt(self.min)}"
            else:
                what = noun
        if self.is_list:
            count = f"{self.min_items} or more" if self.max_items is None else f"{self.min_items} to {self.max_items}"
            return f"a comma-separated list of {count} values, each {what}"
        return what

    def default_for(self, spec: dict) -> Any:
        return self.default(spec) if callable(self.default) else self.default

    def coerce(self, kind: str, value: Any) -> Any:
        if self.is_list:
            items = value
            if isinstance(value, str):
                items = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(items, (list, tuple)):
                raise SpecError(kind, self.name, value, self.allowed())
            n = len(items)
            if n < self.min_items or (self.max_items is not None and n > self.max_items):
                raise SpecError(kind, self.name, value, self.allowed(), f"has {n} values")
            return [self._one(kind, v, value) for v in items]
        return self._one(kind, value, value)

    def _one(self, kind: str, value: Any, whole: Any) -> Any:
        def bad(problem: str = "is not allowed") -> SpecError:
            return SpecError(kind, self.name, whole, self.allowed(), problem)

        if self.type is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _BOOLS:
                return _BOOLS[value.strip().lower()]
            raise bad()
        if self.type is str:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = _fmt(value)
            if not isinstance(value, str):
                raise bad()
            value = value.strip()
            if not value.isprintable():  # a newline, a control character, half of a surrogate pair
                raise bad("holds a character that cannot be shown")
            if self.choices is not None and value not in self.choices:
                raise bad("is not a known value")
            return value
        number = _number(value, self.type)
        if number is None:
            raise bad("is not a whole number" if self.type is int else "is not a number")
        if self.type is int and not -MAX_ID <= number <= MAX_ID:  # also the +-inf of too many digits
            raise bad("is out of range")
        too_low = self.min is not None and (number <= self.min if self.min_exclusive else number < self.min)
        if too_low or (self.max is not None and number > self.max):
            raise bad("is out of range")
        return number


_BOOLS = {"true": True, "yes": True, "1": True, "on": True,
          "false": False, "no": False, "0": False, "off": False}


def _fmt(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)


def _number(value: Any, kind: type) -> int | float | None:
    """The number a value stands for, or None. Whole-number text with more digits than int() takes
    (4,300) comes back as +-inf, so that it is out of range rather than 'not a whole number'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if not text.isascii():
            return None
        if kind is int and WHOLE.fullmatch(text):
            try:
                return int(text)
            except ValueError:
                return -math.inf if text.startswith("-") else math.inf
        try:
            value = float(text)
        except ValueError:
            return None
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return value if isinstance(value, int) else None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True)
class JobKind:
    name: str
    summary: str
    fields: tuple[Field, ...]
    headline: str = "test_accuracy"  # result key shown as a job's main number
    headline_is_fraction: bool = True  # shown as a percentage (accuracies, shares); else as the number
    check: Callable[[dict], None] | None = None  # cross-field rules; raises SpecError
    run_module: str | None = None  # the module with `run(spec, ctx)`; default jobs.<name> (imported by slots only)
    identity: tuple[str, ...] = ()  # the fields that tell its runs apart in one line (`ls`, tables), in this order

    @property
    def runner(self) -> str:
        return self.run_module or f"jobs.{self.name}"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def normalize(self, raw: dict) -> dict:
        """The given fields under their names (`batch-size` -> `batch_size`), without `kind`; an unknown
        field, or one field given twice in two spellings, raises SpecError."""
        if not isinstance(raw, dict):
            raise SpecError(self.name, "(spec)", raw, "a mapping of field names to values", "is not a mapping")
        names = [f.name for f in self.fields]
        out: dict[str, Any] = {}
        spelled: dict[str, str] = {}
        for key, value in raw.items():
            if key == "kind":
                continue
            norm = key.replace("-", "_") if isinstance(key, str) else key
            if norm not in names:
                raise SpecError(self.name, str(key), value, "fields " + ", ".join(names), "is an unknown field")
            if norm in spelled:
                raise SpecError(self.name, norm, value, "each field once",
                                f"is given twice (as {spelled[norm]!r} and {key!r})")
            spelled[norm] = key
            out[norm] = value
        return out

    def validate(self, raw: dict) -> dict:
        """The full spec with defaults filled in; raises SpecError on the first problem."""
        given = {k: v for k, v in self.normalize(raw).items() if v is not None}
        spec: dict[str, Any] = {}
        for f in self.fields:
            spec[f.name] = f.coerce(self.name, given[f.name]) if f.name in given else f.default_for(spec)
        if self.check:
            self.check(spec)
        return spec

    def field_errors(self, raw: dict) -> dict[str, str]:
        """Every field's problem at once, for a form that validates as you type."""
        errors: dict[str, str] = {}
        given = {k.replace("-", "_"): v for k, v in raw.items() if v not in (None, "")}
        spec: dict[str, Any] = {}
        for f in self.fields:
            try:
                spec[f.name] = f.coerce(self.name, given[f.name]) if f.name in given else f.default_for(spec)
            except SpecError as exc:
                errors[f.name] = str(exc)
                spec[f.name] = f.default_for(spec)
        if not errors and self.check:
            try:
                self.check(spec)
            except SpecError as exc:
                errors[exc.field] = str(exc)
        return errors


def resolve_run(value: int, job_id: int | None) -> int:
    """The run id that a run field's value names: the value itself, or for -k the job queued
    k places before `job_id` in the same batch (a batch's jobs get consecutive ids)."""
    if value > 0:
        return value
    if job_id is None:
        raise ValueError(f"run reference {value} is relative to a job id, and this job has none")
    return job_id + value
