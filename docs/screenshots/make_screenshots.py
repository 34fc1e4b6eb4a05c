"""Make the README's screenshots (SVG) of the dashboard over a real data folder.

    MNISTLAB_HOME=DIR .venv/bin/python docs/screenshots/make_screenshots.py [queue|curves|zoo|fgsm ...]

DIR must hold real runs: `mnistlab study zoo --regime 1000 --nets 1,2,10.1,13.1`, `mnistlab study fgsm
--samples 2000 --epochs 2 --test-images 1000 --tsne-eps ''` and, for live curves, a longer train job
still running (`mnistlab submit train --net 8.1 --samples 4000 --epochs 8`). The dashboard does not
start the engine here, and opens at 100x32 in 256 colours.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tui.app import MnistlabApp  # noqa: E402

SIZE = (100, 32)


async def settle(pilot, seconds: float = 1.0) -> None:
    await pilot.pause(seconds)


async def queue(app, pilot) -> None:
    await settle(pilot)


async def curves(app, pilot) -> None:
    running = [j for j in app.live.jobs.values() if j.status == "running" and j.kind == "train"]
    done = sorted((j for j in app.live.jobs.values() if j.status == "done" and j.kind == "train"), key=lambda j: j.id)
    job = running[0] if running else done[-1]
    app.open_job(job.id)
    await settle(pilot, 2.0)


async def zoo(app, pilot) -> None:
    await pilot.press("3")
    await settle(pilot, 1.5)
    names = app.screen.names
    if "zoo" in names and app.screen.current != "zoo":
        app.screen.current = None
        app.screen.query_one("Tabs").active = f"study-{'zoo'}"
    await settle(pilot, 1.5)


async def fgsm(app, pilot) -> None:
    attack = max((j for j in app.live.jobs.values() if j.kind == "fgsm" and j.status == "done"), key=lambda j: j.id)
    app.open_job(attack.id)
    await settle(pilot)
    await pilot.press("right_square_bracket")
    await settle(pilot, 1.5)
    box = app.screen.query_one("#results-box")
    for _ in range(60):  # down to the first matrix per eps
        if any("matrices · eps=0.2" in line for line in _lines(app)[:12]):
            break
        box.scroll_relative(y=1, animate=False)
        await pilot.pause(0.02)
    await settle(pilot)


def _lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


SHOTS = {"queue": queue, "curves": curves, "zoo": zoo, "fgsm": fgsm}


async def shoot(name: str) -> Path:
    app = MnistlabApp(os.environ["MNISTLAB_HOME"], start_engine=False, colors="256", restore_view=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await SHOTS[name](app, pilot)
        path = app.save_screenshot(filename=f"{name}.svg", path=str(HERE))
    return Path(path)


def main(names: list[str]) -> None:
    for name in names or list(SHOTS):
        started = time.monotonic()
        path = asyncio.run(shoot(name))
        print(f"{path} ({path.stat().st_size:,} bytes, {time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
