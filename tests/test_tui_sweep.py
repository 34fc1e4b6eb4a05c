"""The dashboard's sweep view (issue 15) and the Studies pane's report key (issue 16), driven with the pilot.

The store holds a 2 x 2 sweep of train jobs over two seeds (made with the engine's own store methods): one
point best, one with a diverged seed (a NaN result), one still running a seed; a small zoo study for the
report; and a job outside any group.
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from jobs.kinds import get_kind
from runs import sweeps
from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.store import Store
from runs.studies.table import Cell
from tests.tui_helpers import burst, notices, run, screen_text, type_text, wait_for
from tests.tui_store import finished_train
from tui.app import MnistlabApp
from tui.screens.job import JobScreen
from tui.screens.studies import StudiesScreen
from tui.screens.sweep import SweepScreen

# (net, lr) -> test accuracy of seeds 0 and 1; None: still queued; nan: diverged
ACCURACY = {("1", 0.01): (0.90, 0.92), ("1", 0.1): (0.95, math.nan),
            ("10.1", 0.01): (0.97, 0.99), ("10.1", 0.1): (0.80, None)}
RANKED = ["98.00 ± 1.41", "95.00", "91.00 ± 1.41", "80.00 …"]  # best first, the dashboard's percent form


def make_sweep(home) -> dict[tuple, int]:
    """The sweep as `mnistlab sweep train --net 1,10.1 --lr 0.01,0.1 --seed 0,1` queues it; (net, lr, seed) -> id."""
    kind = get_kind("train")
    given = {"net": "1,10.1", "lr": "0.01,0.1", "seed": "0,1", "samples": "256", "epochs": "1"}
    axes = sweeps.parse_axes(kind, given)
    points = sweeps.plan_points(kind, axes)
    store = EngineStore(home)
    ids = store.submit([JobRequest("train", p, label=sweeps.point_text(p, axes)) for p in points],
                       study=(None, sweeps.TYPE, sweeps.sweep_options(kind, given, axes, None, 0, len(points))))
    by_point = {}
    for job_id, point in zip(ids, points):
        by_point[(point["net"], point["lr"], point["seed"])] = job_id
        accuracy = ACCURACY[(point["net"], point["lr"])][point["seed"]]
        if accuracy is None:
            continue
        store.claim(job_id, "cpu0", "cpu", None)
        store.finish(job_id, "done", result={"test_accuracy": accuracy, "test_loss": 0.3}, headline=accuracy)
    store.close()
    return by_point


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    home = tmp_path_factory.mktemp("sweepview") / "home"
    store = EngineStore(home)
    zoo = ("zoo", "zoo", {"regimes": [1000], "nets": ["1"]})
    finished_train(store, {"net": "1", "samples": 1000, "seed": 0}, accuracy=0.93, epochs=2, study=zoo)
    finished_train(store, {"net": "1", "samples": 1000, "seed": 1}, accuracy=0.95, epochs=2, study=zoo)
    lone = finished_train(store, {"net": "5", "samples": 500}, accuracy=0.9, epochs=1)
    store.close()
    return home, make_sweep(home), lone


def app_for(home, monkeypatch, **kwargs) -> MnistlabApp:
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    monkeypatch.setattr("tui.live.engine_pid", lambda home=None: 4242)  # no engine needed: nothing runs
    return MnistlabApp(home, start_engine=False, restore_view=False, **kwargs)


async def studies_on(pilot, name: str) -> StudiesScreen:
    """The Studies pane showing study `name` (stepping with `>`, as a person would)."""
    app = pilot.app
    await pilot.press("3")
    screen = await wait_for(pilot, lambda: isinstance(app.screen, StudiesScreen) and app.screen.view
                            and app.screen)
    for _ in range(len(screen.names)):
        if screen.current == name:
            break
        await pilot.press("full_stop")
        await pilot.pause(0.1)
    await wait_for(pilot, lambda: screen.view and screen.view.name == name, what=f"study {name}")
    return screen


def footer_keys(app) -> str:
    """The footer: the screen's last line with something on it."""
    return [line for line in screen_text(app).splitlines() if line.strip()][-1]


def test_sweep_view_at_80x24_in_16_colours_ranks_points_plots_each_field_and_opens_runs(lab, monkeypatch):
    home, ids, _ = lab

    async def go():
        app = app_for(home, monkeypatch, colors="16")
        async with app.run_test(size=(80, 24)) as pilot:
            await studies_on(pilot, "zoo")
            await pilot.pause(0.2)
            assert "sweep view" not in footer_keys(app)
            await burst(pilot, ">S")  # typed fast: S acts on the study `>` moved to
            assert app.screen.current == "sweep-1"
            text = await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen) and "against" in
                                  screen_text(app) and screen_text(app))
            assert "sweep 1: train, 4 point(s) (7 done, 1 queued)" in text
            lines = [next(i for i, line in enumerate(text.splitlines()) if cell in line) for cell in RANKED]
            assert lines == sorted(lines), text  # best first
            row = next(line for line in text.splitlines() if "95.00" in line)
            assert "1/2, 1 failed" in row  # the diverged seed: no number, counted as failed
            assert "test_accuracy (%) against net" in text and "(field 1 of 2: f for the next)" in text
            assert "• each point   ▬ best at each net" in text  # the legend: a line outside the data
            plot = text.split("against net", 1)[1]
            assert "1" in plot and "10.1" in plot and any(ch in plot for ch in "⠁⠂⠄⡀⢀•·⠒")
            strips = app.screen._compositor.render_strips()
            assert not {seg.style.color.name for strip in strips for seg in strip
                        if seg.style and seg.style.color and seg.style.color.type.name == "TRUECOLOR"}
            await burst(pilot, "f")
            text = await wait_for(pilot, lambda: "against lr" in screen_text(app) and screen_text(app))
            assert "field 2 of 2" in text and "best at each lr" in text
            # Enter on the best point: its two runs, best first; choosing one opens it
            await pilot.press("enter")
            text = await wait_for(pilot, lambda: "which run?" in screen_text(app) and screen_text(app))
            best, other = ids[("10.1", 0.01, 1)], ids[("10.1", 0.01, 0)]
            assert text.index(f"job {best}: seed 1  done  99.00%") < text.index(f"job {other}: seed 0  done  97.00%")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.job_id == best)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, StudiesScreen))

    run(go())


def test_S_opens_the_sweep_of_a_job_from_its_view_the_queue_and_the_palette(lab, monkeypatch):
    home, ids, lone = lab

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            member = ids[("1", 0.1, 0)]
            app.show_job_in_queue(member)
            await wait_for(pilot, lambda: app.screen.pane.table.current == member, what="the cursor on the job")
            await pilot.pause(0.2)
            assert "S sweep" in footer_keys(app)
            await burst(pilot, "S")
            await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.group == "sweep-1")
            await pilot.press("escape")
            app.open_job(member)
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            await pilot.pause(0.2)
            assert "sweep" in footer_keys(app)
            await burst(pilot, "S")
            await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen))
            await pilot.press("escape", "escape")
            # a job of no sweep: the key is not offered, and pressed anyway it says why
            app.open_job(lone)
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.job_id == lone)
            await pilot.pause(0.2)
            assert "sweep" not in footer_keys(app)
            await burst(pilot, "S")
            assert f"job {lone} is not part of a sweep" in await wait_for(pilot, lambda: notices(app))
            assert isinstance(app.screen, JobScreen)
            await pilot.press("escape")
            # the palette lists every sweep
            await pilot.press("ctrl+p")
            await type_text(pilot, "open sweep")
            await wait_for(pilot, lambda: "Open sweep 1" in screen_text(app), timeout=5)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.group == "sweep-1")

    run(go())


def test_sweep_view_follows_its_jobs_reading_only_the_changed_ones(tmp_path, monkeypatch):
    home = tmp_path / "home"
    ids = make_sweep(home)

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(80, 24)) as pilot:
            from tui.screens.sweep import open_sweep

            open_sweep(app, "sweep-1")
            await wait_for(pilot, lambda: "80.00 …" in screen_text(app))
            reads = []
            original = app.store.jobs
            monkeypatch.setattr(app.store, "jobs", lambda **kw: reads.append(kw) or original(**kw))
            late = ids[("10.1", 0.1, 1)]
            store = EngineStore(home)
            store.claim(late, "cpu0", "cpu", None)
            store.finish(late, "done", result={"test_accuracy": 0.999, "test_loss": 0.01}, headline=0.999)
            store.close()
            text = await wait_for(pilot, lambda: "89.95 ± 14.07" in screen_text(app) and screen_text(app))
            assert text.index("91.00 ± 1.41") < text.index("89.95 ± 14.07") and "80.00 …" not in text
            assert "8 done" in text
            assert {"ids": [late]} in reads and not any("study" in r for r in reads)  # by id, not the group

    run(go())
    plan = Store(home).query("EXPLAIN QUERY PLAN SELECT * FROM jobs WHERE study = ? ORDER BY id", ("sweep-1",))
    assert any("USING INDEX jobs_by_study" in row[3] for row in plan), [tuple(r) for r in plan]


def test_the_plot_leaves_out_points_without_a_finite_mean():
    from tui.cli.sweep_view import field_plot

    rows = [sweeps.PointRow({"lr": lr}, Cell(values=values, digits=2)) for lr, values in
            ((0.01, [0.5]), (0.1, [math.nan]), (1.0, [math.inf]), (10.0, [0.7]))]
    summary = sweeps.SweepSummary("train", "test_accuracy", "high", ["lr"], rows, {"done": 4})
    plot = field_plot(summary, "lr", 60)
    assert plot is not None and "against lr" in plot.plain
    rows[3].cell.values = [math.nan]
    assert field_plot(summary, "lr", 60) is None  # one finite point left: nothing to plot against


def test_report_key_writes_the_study_on_screen_and_says_where(lab, monkeypatch):
    home, _, _ = lab

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await studies_on(pilot, "zoo")
            await pilot.pause(0.2)
            assert "report" in footer_keys(app)
            await burst(pilot, "w")
            page = home.resolve() / "reports" / "zoo" / "report.html"
            said = await wait_for(pilot, lambda: "Markdown twin" in notices(app) and notices(app), timeout=60,
                                  what="the report's notification")
            assert str(page) in said.replace(" ", "") or str(page) in said
            assert page.is_file() and page.with_suffix(".md").is_file()
            html = page.read_text()
            assert "Study 1: the network zoo" in html and "(2 of 2 jobs done)" in html
            assert (page.parent / "figures").is_dir() and any((page.parent / "figures").glob("*.png"))
            # a sweep has no report: the key is not offered, and pressed anyway it says why
            app.clear_notifications()
            await studies_on(pilot, "sweep-1")
            await pilot.pause(0.2)
            assert "report" not in footer_keys(app)
            await burst(pilot, "w")
            said = await wait_for(pilot, lambda: notices(app))
            assert "'sweep-1' is a sweep" in said and "reports cover the studies zoo" in said

    run(go())


def test_the_dashboard_parts_here_import_no_torch():
    code = ("import sys, tui.screens.sweep, tui.screens.studies, tui.commands, runs.report, runs.report.sections; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=str(__import__("pathlib").Path(__file__).parents[1]),
                          timeout=120).returncode == 0
