"""Driving the dashboard in tests: start it on a data folder, read the screen as text, wait for things."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from runs.records import JobRequest
from runs.store import Store
from runs.studies.table import Cell, Grid, StudyView

SIZES = [(80, 24), (200, 60)]


def screen_text(app) -> str:
    """What a person sees on the top screen (modal dialogs included), as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_for(pilot, predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        value = predicate()
        if value:
            return value
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; the screen:\n"
                         f"{screen_text(pilot.app)}")


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press({" ": "space", ",": "comma", ".": "full_stop", "=": "equals_sign",
                           ":": "colon", "/": "slash", "-": "minus"}.get(ch, ch))


# -- a study type with several grids, as FGSM will have (one colour-scaled matrix per epsilon) --

FAKE_TYPE = "fakefgsm"
NETS = ["N1", "N2", "N3"]


def fake_study(image_job: int) -> SimpleNamespace:
    """A study module whose view has three colour-scaled 3x3 matrices (diagonal marked) and an image."""

    def summarize(name, jobs) -> StudyView:
        grids = []
        for k, eps in enumerate((0.2, 0.5, 1.0)):
            rows = []
            for r, attacked in enumerate(NETS):
                cells = []
                for c, _ in enumerate(NETS):
                    value = 0.95 - 0.3 * k if r == c else 0.6 - 0.1 * k
                    cells.append(Cell(values=[value], job_ids=[j.id for j in jobs[:1]]))
                rows.append((attacked, cells))
            grids.append(Grid(f"accuracy under FGSM, eps {eps}", "attacked", list(NETS), rows,
                              color_scale=(0.0, 1.0), diagonal=True, notes=[f"eps {eps} on the normalised scale"]))
        images = [{"job_id": image_job, "artifact": "samples", "caption": f"adversarial samples (job {image_job})"}]
        return StudyView(name, FAKE_TYPE, "Study 4 (test double): FGSM transfer", grids,
                         {"queued": len(jobs)}, ["one matrix per epsilon"], images)

    return SimpleNamespace(TYPE=FAKE_TYPE, TITLE="Study 4 (test double): FGSM transfer", OPTIONS=(),
                           plan=lambda options: [], summarize=summarize, __doc__="A test double of study 4.")


def add_fake_study(home, name: str = "fgsm") -> int:
    store = Store(home)
    (job_id,) = store.submit([JobRequest("train", {"net": "N1", "samples": 500})], study=(name, FAKE_TYPE, {}))
    store.close()
    return job_id


def run(coro):
    return asyncio.run(coro)
