"""A job kind whose run module cannot be imported: it must disable this kind only."""

from __future__ import annotations

from jobs.schema import Field, JobKind

KIND = JobKind(
    name="broken",
    summary="a test kind whose run module fails to import",
    fields=(Field("seed", int, 0, "unused", min=0, max=10),),
    run_module="tests.kind_broken_runner",
)
