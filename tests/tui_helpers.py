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


def prose(app) -> str:
    """The screen's words in reading order with the boxes' borders and the line breaks taken out (a dialog's
    sentence that wraps reads as one)."""
    text = screen_text(app).translate({ord(ch): " " for ch in "│╭╮╰╯─▌▎▊▔▁"})
    return " ".join(text.split())


def notices(app) -> str:
    """The notifications on screen (needs `run_test(notifications=True)`), as one line of text."""
    return " ".join(" ".join(toast.render().plain.split()) for toast in app.screen.query("Toast"))


async def wait_for(pilot, predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        value = predicate()
        if value:
            return value
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; the screen:\n"
                         f"{screen_text(pilot.app)}")


async def burst(pilot, text: str) -> None:
    """Keys as a terminal delivers a fast typist's (or a slow SSH link's) input: all of them read at once, every
    key event queued before the first is handled (`pilot.press` waits for each key to be handled)."""
    from textual import events
    from textual.app import _character_to_key

    app = pilot.app
    for ch in text:
        key = _character_to_key(ch) if not ch.isalnum() else ch
        event = events.Key(key, ch)
        event.set_sender(app)
        app._driver.send_message(event)
    await pilot.pause(0.2)


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
