"""The dashboard's main flows with the real engine: submit through the form, watch the job run, see its
curve and result, cancel a running job from the queue. Plus the form's validation (no engine needed)."""

from __future__ import annotations

import pytest

from jobs.kinds import KINDS
from runs.store import Store
from tests.tui_helpers import SIZES, run, screen_text, type_text, wait_for
from tui.app import MnistlabApp
from tui.presets import preset
from tui.screens.job import JobScreen
from tui.screens.submit import SubmitScreen
from tui.widgets.job_table import JobTable


def row_of(text: str, job_id: int) -> str:
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == str(job_id):
            return line
    raise AssertionError(f"no row for job {job_id} in:\n{text}")


def field_error(app, name: str) -> str:
    row = app.screen.query_one(f"#row-{name}")
    return str(row.query_one(".field-error").render()) if row.has_class("invalid") else ""


def test_submit_form_validates_as_you_type_with_the_clis_messages(home, cli, monkeypatch):
    monkeypatch.setattr("tui.app.MnistlabApp.ensure_engine", lambda self: None)
    cli_says = cli("submit", "train", "--net", "1x").err

    async def go():
        app = MnistlabApp(home, start_engine=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.1)
            await pilot.press("n")
            form = await wait_for(pilot, lambda: isinstance(app.screen, SubmitScreen) and app.screen)
            await type_text(pilot, "1x")
            await pilot.pause(0.1)
            expected = KINDS["train"].field_errors({"net": "1x"})["net"]
            assert field_error(app, "net") == expected
            assert expected in cli_says  # the CLI says the same
            assert form.query_one("#submit").disabled
            await pilot.press("backspace")
            await pilot.pause(0.1)
            assert field_error(app, "net") == ""
            # cross-field rule: a batch larger than the training set
            form.query_one("#field-samples").value = "100"
            form.query_one("#field-batch_size").value = "200"
            await pilot.pause(0.1)
            assert "larger than the training set" in field_error(app, "batch_size")
            assert form.query_one("#field-epochs").placeholder == "auto: 10"
            form.query_one("#field-samples").value = "60000"  # the defaults that depend on it follow
            await pilot.pause(0.1)
            assert form.query_one("#field-epochs").placeholder == "auto: 4"
            form.query_one("#field-samples").value = "100"
            form.query_one("#field-batch_size").value = ""
            # placement, parsed by the CLI's own parser
            form.query_one("#field-after").value = "3,x"
            await pilot.pause(0.1)
            assert field_error(app, "after") == "--after 'x' is not allowed; allowed: comma-separated whole numbers such as 3,4"
            form.query_one("#field-after").value = ""
            form.query_one("#field-priority").value = "5000"
            await pilot.pause(0.1)
            assert field_error(app, "priority") == "priority 5000 is out of range; allowed: -1000 to 1000"
            form.query_one("#field-priority").value = ""
            await pilot.pause(0.1)
            assert not form.query_one("#submit").disabled
            assert "will queue 1 train job: net=1 samples=100 epochs=10" in screen_text(app)
            # a dependency on a job that does not exist is refused by the store, shown in the form
            form.query_one("#field-after").value = "99"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "cannot depend on job(s) 99" in screen_text(app))
            assert isinstance(app.screen, SubmitScreen) and Store(home).jobs() == []
            # the zoo preset: the study's own options, same rules
            select = form.query_one("#choice")
            select.value = "study:zoo"
            await wait_for(pilot, lambda: form.query("#field-nets"))
            form.query_one("#field-nets").value = "1,99"
            await pilot.pause(0.1)
            assert field_error(app, "nets") == preset("zoo").field_errors({"nets": "1,99"})["nets"]
            assert "'1,99' is not a known value" in field_error(app, "nets")
            form.query_one("#field-nets").value = "1,10.1"
            form.query_one("#field-regimes").value = "500"
            form.query_one("#field-epochs").value = "1"
            form.query_one("#field-name").value = "smallzoo"
            await pilot.pause(0.1)
            assert "will queue 2 jobs as study 'smallzoo'" in screen_text(app)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: not isinstance(app.screen, SubmitScreen))
            jobs = Store(home).jobs(study="smallzoo")
            assert [(j.spec["net"], j.spec["samples"], j.spec["epochs"]) for j in jobs] == [("1", 500, 1),
                                                                                            ("10.1", 500, 1)]
            # shown in the queue at once, the cursor on the first new job
            table = app.screen.query_one(JobTable)
            await wait_for(pilot, lambda: table.current == jobs[0].id)
            assert "· queued" in row_of(screen_text(app), jobs[0].id)

    run(go())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_submit_watch_and_cancel_with_the_real_engine(home, size):
    """Submit a tiny real job through the form; it appears, runs, its curve and accuracy show;
    a second job is cancelled from the queue while it runs."""

    async def go():
        app = MnistlabApp(home, start_engine=True)
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: app.live.engine_running, timeout=60, what="the engine to start")
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, SubmitScreen))
            await type_text(pilot, "1")
            await pilot.press("tab")
            await type_text(pilot, "256")
            await pilot.press("tab")
            await type_text(pilot, "1")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: not isinstance(app.screen, SubmitScreen))
            (first,) = [j.id for j in Store(home).jobs()]
            table = app.screen.query_one(JobTable)
            assert table.current == first
            row = row_of(screen_text(app), first)  # there at once, before it ran
            # its spec, cut between fields (never inside a value) where the spec column is narrow
            assert ("net=1 samples=256…" if size[0] < 120 else "net=1 samples=256 epochs=1 ") in row
            # a longer second job, to cancel while it runs
            (second,) = Store(home).submit([__import__("runs.records", fromlist=["JobRequest"]).JobRequest(
                "train", {"net": "1", "samples": 4000, "epochs": 50}, data_dir=app.live.jobs[first].data_dir)])
            await wait_for(pilot, lambda: app.live.jobs.get(first) and app.live.jobs[first].finished,
                           timeout=150, what="the first job to finish")
            assert app.live.jobs[first].status == "done", app.live.jobs[first].reason
            accuracy = f"{app.live.jobs[first].headline * 100:.2f}%"
            await wait_for(pilot, lambda: "✓ done" in row_of(screen_text(app), first)
                           and accuracy in row_of(screen_text(app), first))
            # its curve and result
            table.select_job(first)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            await wait_for(pilot, lambda: sum(0x2800 < ord(c) <= 0x28FF for c in screen_text(app)) > 20,
                           what="the loss curve")
            text = screen_text(app)
            assert accuracy in text and "val/accuracy" in text
            await pilot.press("escape")
            # cancel the second job from the queue while it runs
            await wait_for(pilot, lambda: app.live.jobs[second].status == "running", timeout=60)
            table.select_job(second)
            await pilot.press("c")
            await wait_for(pilot, lambda: f"Cancel job {second}" in screen_text(app))
            await pilot.press("y")
            await wait_for(pilot, lambda: app.live.jobs[second].status == "cancelled", timeout=30)
            await wait_for(pilot, lambda: "⊘ cancelled" in row_of(screen_text(app), second))
            await pilot.press("q")
        assert app.return_code == 0

    run(go())
    # quitting left the engine running: the home fixture stops it
    from engine.control import engine_pid

    assert engine_pid(home) is not None
