"""A study's options (`mnistlab study <type> --...`): defaults filled in, each checked like a spec field."""

from __future__ import annotations

from jobs.schema import Field, SpecError


def fill(study: str, fields: tuple[Field, ...], options: dict, distinct: tuple[str, ...] = (),
         blank_is_default: bool = True) -> dict:
    """Every option with its default, coerced and checked; list options named in `distinct`
    may not repeat a value. With `blank_is_default`, "" and [] mean 'not given'."""
    out: dict = {}
    for f in fields:
        value = options.get(f.name)
        missing = value is None or (blank_is_default and value in ("", []))
        out[f.name] = f.default_for(out) if missing else f.coerce(f"study {study}", value)
    for name in distinct:
        if len(set(out[name])) != len(out[name]):
            raise SpecError(f"study {study}", name, out[name], "distinct values", "repeats a value")
    return out
