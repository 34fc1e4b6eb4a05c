"""Sweeps: many jobs of one kind over a grid (or a seeded random sample) of spec values, queued as one group.

Each field of the kind takes its values as text (`mnistlab sweep KIND --FIELD TEXT ...`):

    v1,v2,...   these values (a list field takes alternatives separated by "/", each a comma list)
    a..b        every whole number from a to b, both included; with --random, any value in [a, b]
    v           one value: the field is fixed for the whole sweep

`plan_points` turns them into points, the whole grid or `random` points drawn with a seed (the `seed`
field is never drawn: every drawn point runs once per seed given), and checks every point with the
kind's own validation before anything is queued. `summarize` folds a sweep's jobs into one row per
point: mean ± std of a metric over seeds, best first. No torch here.
"""

from __future__ import annotations

import itertools
import math
import random as random_module
from dataclasses import dataclass, field
from typing import Any

from jobs.kinds import get_kind
from jobs.schema import Field, JobKind, SpecError
from runs.records import InputError, Job
from runs.studies.table import Cell, status_counts

TYPE = "sweep"        # the group type of a sweep in the store's studies table; groups are named sweep-N
MAX_POINTS = 100_000  # jobs one sweep may queue
SEED = "seed"         # the field that repeats a point rather than moving it
DRAW_DIGITS = 4       # a value drawn from a real range keeps this many significant digits


@dataclass(frozen=True)
class Axis:
    """The values one field takes: a finite list, or a range [lo, hi] to draw from (--random)."""

    field: Field
    values: tuple = ()
    span: tuple[Any, Any] | None = None

    @property
    def swept(self) -> bool:
        return self.span is not None or len(self.values) > 1

    @property
    def size(self) -> int | None:
        """How many values it can take; None for a range of real numbers."""
        if self.span is None:
            return len(self.values)
        return self.span[1] - self.span[0] + 1 if self.field.type is int else None

    def value_at(self, i: int) -> Any:
        return self.span[0] + i if self.span is not None else self.values[i]

    def draw(self, rng: random_module.Random) -> Any:
        if self.span is None:
            return rng.choice(self.values)
        lo, hi = self.span
        if self.field.type is int:
            return rng.randint(lo, hi)
        return min(hi, max(lo, float(f"{rng.uniform(lo, hi):.{DRAW_DIGITS}g}")))


def parse_axis(kind: JobKind, f: Field, text: str, drawing: bool) -> Axis:
    """One field's values from its option text; `drawing` (--random) lets a range stay a range."""
    def bad(allowed: str, problem: str) -> SpecError:
        return SpecError(kind.name, f.name, text, allowed, problem)

    text = str(text).strip()
    if f.is_list:
        parts = text.split("/")
    elif ".." in text and f.type in (int, float):
        lo, hi = (f.coerce(kind.name, end) for end in text.split("..", 1))
        if hi < lo:
            raise bad("a..b with a <= b", "is an empty range")
        if drawing:
            return Axis(f, span=(lo, hi))
        if f.type is float:
            raise bad("a list such as 0.01,0.1 (a range of real numbers only with --random)", "is a range")
        if hi - lo + 1 > MAX_POINTS:
            raise bad(f"a range of at most {MAX_POINTS:,} values", f"has {hi - lo + 1:,} values")
        return Axis(f, values=tuple(range(lo, hi + 1)))
    else:
        parts = text.split(",")
    if any(not p.strip() for p in parts):
        raise bad(f"values separated by {'slashes' if f.is_list else 'commas'}, each {f.allowed()}", "has an empty value")
    values = tuple(f.coerce(kind.name, p) for p in parts)
    if len({_key(v) for v in values}) < len(values):
        raise bad("distinct values", "repeats a value")
    return Axis(f, values=values)


def parse_axes(kind: JobKind, given: dict[str, str], drawing: bool = False) -> dict[str, Axis]:
    """Axes of the fields given (in the kind's field order); refuses a sweep that varies nothing."""
    axes = {f.name: parse_axis(kind, f, given[f.name], drawing and f.name != SEED)  # seeds are never drawn
            for f in kind.fields if given.get(f.name) is not None}
    if not any(a.swept for a in axes.values()):
        raise InputError(f"a sweep of {kind.name} needs at least one field with two or more values, "
                         f"e.g. --lr 0.01,0.1 or --seed 0..2; allowed fields: {', '.join(f.name for f in kind.fields)}")
    return axes


def grid_size(axes: dict[str, Axis]) -> int:
    return math.prod(a.size or 1 for a in axes.values())


def plan_points(kind: JobKind, axes: dict[str, Axis], random: int | None = None, sample_seed: int = 0) -> list[dict]:
    """Every point of the grid, or `random` distinct points drawn with `sample_seed` (crossed with the seeds
    given), each checked by the kind's validation; raises InputError naming the first bad point."""
    if random is None:
        size = grid_size(axes)
        _check_size(size, "the grid")
        points = [dict(zip(axes, combo)) for combo in itertools.product(*(a.values for a in axes.values()))]
    else:
        moving = [a for name, a in axes.items() if name != SEED]
        seeds = axes[SEED].values if SEED in axes else ()
        _check_size(random * max(1, len(seeds)), f"--random {random}" + (f" x {len(seeds)} seeds" if seeds else ""))
        points = [{**p, **({SEED: s} if seeds else {})} for p in _draw(moving, random, sample_seed) for s in seeds or [0]]
    for i, point in enumerate(points):
        try:
            kind.validate(point)
        except SpecError as exc:
            raise InputError(f"sweep point {i + 1} of {len(points):,} ({point_text(point, axes)}) is refused, "
                             f"so nothing was queued: {exc}") from None
    return points


def _check_size(size: int, what: str) -> None:
    if size > MAX_POINTS:
        raise InputError(f"{what} has {size:,} points; allowed: at most {MAX_POINTS:,} jobs in one sweep")


def _draw(axes: list[Axis], n: int, seed: int) -> list[dict]:
    """`n` distinct points: exactly, from the finite grid of the axes, or by drawing when a range is real."""
    rng = random_module.Random(seed)
    names = [a.field.name for a in axes]
    if all(a.size is not None for a in axes):
        total = math.prod(a.size for a in axes)
        if n > total:
            raise InputError(f"--random {n} asks for more points than the {total:,} the given values allow; "
                             f"allowed: at most {total:,}, or leave out --random for the whole grid")
        return [dict(zip(names, _decode(axes, i))) for i in rng.sample(range(total), n)]
    points: dict[tuple, dict] = {}
    for _ in range(100 * n):
        point = {a.field.name: a.draw(rng) for a in axes}
        points.setdefault(_key(point), point)
        if len(points) == n:
            return list(points.values())
    raise InputError(f"--random {n} found only {len(points)} distinct points in the given ranges; allowed: fewer points")


def _decode(axes: list[Axis], index: int) -> list:
    """The point at `index` of the grid, the last axis moving fastest (mixed-radix digits)."""
    values = []
    for axis in reversed(axes):
        index, i = divmod(index, axis.size)
        values.append(axis.value_at(i))
    return values[::-1]


def _key(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    return tuple(map(_key, value)) if isinstance(value, list) else value


def value_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(value_text, value))
    if isinstance(value, float):
        return f"{value:.{DRAW_DIGITS + 2}g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def point_text(point: dict, axes: dict[str, Axis] | None = None) -> str:
    """`lr=0.01 seed=1`: the swept fields of a point (every field when `axes` is not given)."""
    shown = [k for k in point if axes is None or (k in axes and axes[k].swept)]
    return " ".join(f"{k}={value_text(point[k])}" for k in shown) or "(the only point)"


def sweep_options(kind: JobKind, given: dict[str, str], axes: dict[str, Axis], random: int | None,
                  sample_seed: int, points: int) -> dict:
    """What a sweep records in its group: enough to plan the same points again."""
    return {"kind": kind.name, "fields": {k: str(v) for k, v in given.items() if v is not None},
            "swept": [k for k, a in axes.items() if a.swept], "random": random,
            "sample_seed": sample_seed if random is not None else None, "points": points}


# -- names: a sweep is group sweep-N, typed as N ----------------------------------------------------------
def group_name(ref: str | int) -> str:
    text = str(ref).strip()
    number = text[len(TYPE) + 1:] if text.startswith(f"{TYPE}-") else text
    if not number.isdigit() or int(number) == 0:
        raise InputError(f"sweep {text!r} is not allowed; allowed: a sweep number such as 3 (`mnistlab sweep list`)")
    return f"{TYPE}-{int(number)}"


def number(name: str) -> int:
    return int(name[len(TYPE) + 1:])


def is_sweep(group: str | None) -> bool:
    return bool(group) and group.startswith(f"{TYPE}-") and group[len(TYPE) + 1:].isdigit()


# -- the summary: one row per point, best first --------------------------------------------------------------
@dataclass
class PointRow:
    values: dict[str, Any]  # the fields that differ between the sweep's points
    cell: Cell              # the metric over seeds: mean, std, pending, failed, job ids
    seeds: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return point_text(self.values)

    def to_json(self) -> dict:
        # the cell's "values" are the metric of each finished seed; "point" is where the point is
        return {**self.cell.to_json(), "point": self.values, "label": self.label, "seeds": self.seeds}


@dataclass
class SweepSummary:
    kind: str
    metric: str
    best: str                # "high" or "low": which end of the metric is best
    fields: list[str]        # the fields that differ between points, in the kind's order
    rows: list[PointRow]     # best first; rows with no finished run last
    counts: dict[str, int]   # jobs by status
    scale: float = 100.0     # the metric is shown as value * scale (fractions as percent)

    @property
    def unit(self) -> str:
        return "%" if self.scale == 100 else ""

    def to_json(self) -> dict:
        return {"kind": self.kind, "metric": self.metric, "best": self.best, "fields": self.fields,
                "counts": self.counts, "unit": self.unit, "points": [r.to_json() for r in self.rows]}


def default_best(metric: str) -> str:
    return "low" if metric.endswith("loss") else "high"


def metric_value(job: Job, metric: str) -> float | None:
    value = (job.result or {}).get(metric)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def summarize(jobs: list[Job], metric: str | None = None, best: str | None = None,
              order: list[str] | None = None) -> SweepSummary:
    """One row per point (the spec without its seed): the metric's mean ± std over finished seeds, best
    first. `metric` defaults to the kind's main number; `order` lists swept fields to show first."""
    kind = get_kind(jobs[0].kind) if jobs else None
    metric = metric or (kind.headline if kind else "test_accuracy")
    best = best or default_best(metric)
    fraction = (kind.headline_is_fraction if kind and metric == kind.headline
                else "accuracy" in metric or "fraction" in metric)
    scale, digits = (100.0, 2) if fraction else (1.0, 4)
    fields = _differing(jobs, order or [], kind)
    rows: dict[tuple, PointRow] = {}
    counts = status_counts(jobs)
    for job in jobs:
        point = {k: job.spec.get(k) for k in fields}
        row = rows.setdefault(_key(point), PointRow(point, Cell(scale=scale, digits=digits)))
        row.seeds.append(job.spec.get(SEED))
        row.cell.job_ids.append(job.id)
        value = metric_value(job, metric) if job.status == "done" else None
        if value is not None:
            row.cell.values.append(value)
        elif job.status in ("queued", "running"):
            row.cell.pending += 1
        else:
            row.cell.failed += 1  # failed, cancelled, or done without a finite value of the metric
    sign = -1 if best == "high" else 1
    ranked = sorted(rows.values(), key=lambda r: (r.cell.mean is None, sign * (r.cell.mean or 0), not r.cell.pending))
    return SweepSummary(kind.name if kind else "-", metric, best, fields, ranked, counts, scale)


def _differing(jobs: list[Job], order: list[str], kind: JobKind | None) -> list[str]:
    seen: dict[str, set] = {}
    for job in jobs:
        for k, v in job.spec.items():
            if k != SEED:
                seen.setdefault(k, set()).add(_key(v))
    names = [k for k, values in seen.items() if len(values) > 1]
    rank = {name: i for i, name in enumerate(order + [f.name for f in (kind.fields if kind else ())])}
    return sorted(names, key=lambda k: rank.get(k, len(rank)))
