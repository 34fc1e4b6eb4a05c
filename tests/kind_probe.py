"""A job kind for engine tests: does on purpose what real jobs do by accident (no torch).

Loaded by an engine started with MNISTLAB_KINDS=tests.kind_probe (see the `probe_kinds` fixture).
"""

from __future__ import annotations

import os
import signal
import time

from jobs.run_options import run_options
from jobs.schema import Field, JobKind

BEHAVIOURS = ("sleep", "stall", "kill_engine", "bad_report", "nonfinite")

KIND = JobKind(
    name="probe",
    identity=("behaviour", "seconds"),
    summary="a test job that sleeps, stalls, kills its engine or reports what real jobs should not",
    fields=(
        Field("behaviour", str, "sleep", "what the job does", choices=BEHAVIOURS),
        Field("seconds", float, 1.0, "how long it sleeps (reporting progress) before it returns", min=0, max=3600),
        Field("seed", int, 0, "unused", min=0, max=10),
        *run_options(600, trains=False),
    ),
    headline="value",
    headline_is_fraction=False,
    run_module="tests.kind_probe",
)


def run(spec: dict, ctx) -> dict:
    behaviour = spec["behaviour"]
    ctx.progress(0, 1, behaviour, force=True)
    if behaviour == "kill_engine":
        time.sleep(0.5)  # let the engine record the start
        os.kill(os.getppid(), signal.SIGKILL)  # the worker's parent is the engine
    if behaviour == "stall":
        ctx.log("stalling now")
        while True:  # a hang: no progress, no cancel check
            time.sleep(1)
    if behaviour == "bad_report":
        ctx.emit("metrics", name=None, steps=[1], values=[1.0])  # a metric without a name cannot be stored
    if behaviour == "nonfinite":
        ctx.metrics("probe/value", [1, 2, 3], [0.5, float("nan"), float("inf")])
        ctx.table("values", {"matrix": [[1.0, float("nan")], [float("-inf"), 2.0]]})
        return {"value": float("nan"), "spread": float("inf")}
    deadline = time.monotonic() + spec["seconds"]
    while time.monotonic() < deadline:
        ctx.check_cancelled()
        ctx.progress(spec["seconds"] - (deadline - time.monotonic()), spec["seconds"], "sleeping")
        time.sleep(0.05)
    return {"value": 1.0}
