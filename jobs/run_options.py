"""Spec fields about how a job runs rather than what it computes; every kind takes them.

They are ordinary spec fields (validated, filled in, recorded with the run),
so a person can set them per job: `mnistlab submit train --stall-limit-s 1200`.
"""

from __future__ import annotations

from jobs.schema import Field

DAY_S = 86400


def run_options(stall_limit_s: int, *, trains: bool = True) -> tuple[Field, ...]:
    """`stall_limit_s` is the kind's default: the longest silence a healthy job of this kind keeps."""
    fields = [
        Field("stall_limit_s", int, stall_limit_s, "fail the job when it reports no progress for this many "
              "seconds (a hung job, not a slow one: progress is reported several times a second)", min=5, max=DAY_S),
        Field("deterministic", bool, False, "use PyTorch's deterministic algorithms (slower on GPUs; recorded)"),
    ]
    if trains:
        fields.append(Field("keep_nonfinite", bool, False, "keep training when the loss becomes NaN or infinite "
                            "(default: stop at once and fail, saying where)"))
    return tuple(fields)
