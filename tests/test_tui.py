"""The dashboard's panes, driven with Textual's pilot on stores made by the engine's own store methods.

These tests are about what is shown and what the keys do; the flows that
need real training (submit -> run -> result, cancel) are in test_tui_flows.py.
Each pane is checked at 80x24 and at 200x60.
"""

from __future__ import annotations

import json
import shutil

import pytest

from runs.engine_store import EngineStore
from runs.store import Store
from tests.tui_helpers import SIZES, add_fake_study, fake_study, notices, run, screen_text, type_text, wait_for
from tests.tui_store import populate
from tui.app import MnistlabApp
from tui.screens.compare import CompareScreen
from tui.screens.job import JobScreen
from tui.widgets.job_table import JobTable

BULK = 2000  # old runs, so that lists are thousands of rows long


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One populated store shared by the tests that only read it."""
    home = tmp_path_factory.mktemp("lab") / "home"
    ids = populate(home, bulk=BULK)
    ids["fake_study"] = add_fake_study(home)
    return home, ids


@pytest.fixture
def studies(monkeypatch, lab):
    """Register the test double of a multi-grid study type (as runs/studies/fgsm.py will be)."""
    from runs.studies import STUDY_TYPES
    from tests.tui_helpers import FAKE_TYPE

    monkeypatch.setitem(STUDY_TYPES, FAKE_TYPE, fake_study(lab[1]["done"]))


def app_for(home, monkeypatch, **kwargs) -> MnistlabApp:
    """The dashboard on `home`, opening on the queue (the stores here are shared between tests, so the view
    one test leaves must not be where the next starts; reopening it is tested on its own)."""
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    kwargs.setdefault("restore_view", False)
    return MnistlabApp(home, start_engine=False, **kwargs)


def row_of(text: str, job_id: int) -> str:
    """The queue line of a job (its id is the first thing on it)."""
    for line in text.splitlines():
        parts = line.replace("●", " ").replace("▌", " ").split()
        if parts and parts[0] == str(job_id):
            return line
    raise AssertionError(f"no row for job {job_id} in:\n{text}")


# -- queue -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue_shows_jobs_with_status_progress_result_and_why_they_wait(lab, monkeypatch, engine_up, size):
    home, ids = lab

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=size) as pilot:
            text = await wait_for(pilot, lambda: "running" in screen_text(app) and screen_text(app), what="rows")
            assert "Queue" in text.splitlines()[0] and "● engine" in text.splitlines()[0]
            running = row_of(text, ids["running"])
            assert "▶ running" in running and "40%" in running and "█" in running and "cpu0" in running
            assert "no free slot" in row_of(text, ids["queued"])
            assert f"waits for #{ids['running']}" in row_of(text, ids["waiting"])
            # running first, then the queue in the engine's order, then the newest finished
            order = [int(line.split()[0]) for line in text.splitlines()[3:7]]
            assert order[0] == ids["running"]
            # a window of the store, read through its indexes: the first 500 rows of them all
            assert f"first 500 of {sum(app.live.counts().values()):,}" in text
            if size[0] >= 120:  # wide: the study column and the whole note
                assert "zoo" in row_of(text, ids["study_queued"])
                assert "waiting for job %d (running) to finish" % ids["running"] in row_of(text, ids["waiting"])
            # the line under the table explains the highlighted job
            assert text.splitlines()[-2].startswith(f"#{ids['running']} epoch 2/4 · train net=1 samples=2000")
            # a finished job's result
            await pilot.press("slash")
            await type_text(pilot, "status:done net=10.1 lr=0.001 epochs=3")
            await pilot.press("enter")
            text = await wait_for(pilot, lambda: "97.12%" in screen_text(app) and screen_text(app), what="result")
            assert "✓ done" in row_of(text, ids["done"]) and "1 of" in text
            await pilot.press("slash", "ctrl+u")
            await type_text(pilot, "status:cancelled")
            await pilot.press("enter")
            text = await wait_for(pilot, lambda: "cancelled" in row_of(screen_text(app), ids["cancelled"])
                                  and screen_text(app), what="the cancelled job")
            assert "⊘ cancelled" in row_of(text, ids["cancelled"])

    run(go())


def test_queue_without_engine_says_so(lab, monkeypatch):
    monkeypatch.setattr("tui.live.engine_pid", lambda home=None: None)
    home, ids = lab

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test() as pilot:
            text = await wait_for(pilot, lambda: "engine" in screen_text(app) and screen_text(app))
            assert "engine off" in text.splitlines()[0]
            assert "engine stopped" in row_of(text, ids["queued"])

    run(go())


def test_queue_filters_sorts_and_scrolls_through_thousands(lab, monkeypatch, engine_up):
    """Thousands of runs: the list holds a window of them (read through the indexes), says so, and every
    filter and sort still reaches into the whole store."""
    from tui.job_window import WINDOW

    home, ids = lab

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.screen.query_one(JobTable)
            pane = app.screen.pane
            await wait_for(pilot, lambda: len(table.ids) == WINDOW)
            everything = sum(app.live.counts().values())
            assert everything > BULK and f"first {WINDOW} of {everything:,}" in screen_text(app)
            # the last row of the window, and back
            await pilot.press("end")
            text = screen_text(app)
            assert row_of(text, table.ids[-1]) and table.cursor == WINDOW - 1
            await pilot.press("home")
            assert table.cursor == 0 and row_of(screen_text(app), table.ids[0])
            await pilot.press("pagedown")
            assert table.cursor > 10
            # status filter: s cycles all -> active -> queued -> running -> done -> failed
            for _ in range(5):
                await pilot.press("s")
            await pilot.pause(0.1)
            assert [pane.shown[i].status for i in table.ids] == ["failed"]
            assert "status:failed" in screen_text(app) and " 1 of " in screen_text(app)
            await pilot.press("escape")  # clears the filter
            await wait_for(pilot, lambda: len(table.ids) == WINDOW)
            # text filter by a word and a spec field, live as you type; the oldest runs are found too
            await pilot.press("slash")
            await type_text(pilot, "kind:train net=13.2 seed=3")
            await pilot.pause(0.1)
            assert table.ids and all(pane.shown[i].spec["net"] == "13.2" and pane.shown[i].spec["seed"] == 3
                                     for i in table.ids)
            oldest = min(j.id for j in app.store.jobs(kind=["train"]) if j.spec.get("net") == "13.2"
                         and j.spec.get("seed") == 3)
            assert oldest in table.ids
            await pilot.press("enter")
            assert app.focused is table
            await pilot.press("escape")
            await wait_for(pilot, lambda: len(table.ids) == WINDOW)
            # sort by result, best first: no index keeps it, so the newest runs are sorted, and it says so
            table.focus()
            pane.set_sort("result", False)
            await pilot.pause(0.1)
            best = [pane.shown[i].headline for i in table.ids[:5]]
            top = max(j.headline for j in pane.shown.values() if j.headline is not None)
            assert best == sorted(best, reverse=True) and best[0] == top
            assert f"newest {WINDOW} of {everything:,}, sorted" in screen_text(app)
            await pilot.press("O")
            await pilot.pause(0.1)
            assert pane.shown[table.ids[0]].headline is None
            await pilot.press("o")
            assert pane.sort == "runtime"
            # a click on a column title sorts by it
            await pilot.click(JobTable, offset=(2, 0))
            await pilot.pause(0.1)
            assert pane.sort == "id"

    run(go())


def test_queue_keys_open_raise_priority_and_retry(tmp_path, monkeypatch, engine_up):
    home = tmp_path / "home"
    ids = populate(home)
    monkeypatch.setattr("tui.app.MnistlabApp.ensure_engine", lambda self: None)  # no engine in this test

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(notifications=True) as pilot:
            table = app.screen.query_one(JobTable)
            await wait_for(pilot, lambda: ids["waiting"] in table.ids)
            table.select_job(ids["waiting"])
            await pilot.press("plus")  # ahead of every other queued job
            await wait_for(pilot, lambda: app.live.jobs[ids["waiting"]].priority == 1)
            assert table.ids.index(ids["waiting"]) < table.ids.index(ids["queued"])
            assert "↑1" in row_of(screen_text(app), ids["waiting"])
            await pilot.press("minus")
            await wait_for(pilot, lambda: app.live.jobs[ids["waiting"]].priority == 0)
            # retry is refused for a queued job (its key is hidden and says why), allowed for a failed one
            assert app.screen.check_action("retry", ()) is False
            await pilot.press("r")
            await wait_for(pilot, lambda: "only a failed or cancelled job can be queued again" in notices(app))
            assert app.live.jobs[ids["waiting"]].status == "queued"
            table.select_job(ids["failed"])
            await pilot.pause(0.05)
            assert app.screen.check_action("retry", ()) is True
            await pilot.press("r")
            await wait_for(pilot, lambda: app.live.jobs[ids["failed"]].status == "queued")
            assert Store(home).job(ids["failed"]).status == "queued"
            # Enter opens the job
            table.select_job(ids["done"])
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            assert app.screen.job_id == ids["done"]
            await pilot.press("escape")
            assert not isinstance(app.screen, JobScreen)

    run(go())


def test_cancel_a_queued_job_from_the_queue(tmp_path, monkeypatch, engine_up):
    home = tmp_path / "home"
    ids = populate(home)

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test() as pilot:
            table = app.screen.query_one(JobTable)
            await wait_for(pilot, lambda: ids["queued"] in table.ids)
            table.select_job(ids["queued"])
            await pilot.press("c")
            assert f"Cancel job {ids['queued']}" in screen_text(app)
            await pilot.press("n")  # keep it
            await pilot.pause(0.1)
            assert app.live.jobs[ids["queued"]].status == "queued"
            await pilot.press("c")
            await pilot.press("y")
            await wait_for(pilot, lambda: app.live.jobs[ids["queued"]].status == "cancelled")
            assert "⊘ cancelled" in row_of(screen_text(app), ids["queued"])
            assert Store(home).job(ids["queued"]).reason == "cancelled before it started"

    run(go())


# -- job detail --------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_job_detail_shows_curves_results_spec_log_and_images(lab, monkeypatch, size):
    home, ids = lab

    async def go():
        app = app_for(home, monkeypatch, colors="truecolor")
        async with app.run_test(size=size) as pilot:
            await pilot.pause(0.2)
            app.open_job(ids["done"])
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            text = await wait_for(pilot, lambda: "val/accuracy" in screen_text(app) and screen_text(app))
            assert "#%d train net=10.1" % ids["done"] in text and "✓ done" in text and "97.12%" in text
            braille = [ch for ch in text if 0x2800 < ord(ch) <= 0x28FF]
            assert len(braille) > 50, text  # the curves are drawn
            # one loss chart on an epoch axis: the iterations, the epochs' train and validation losses, each
            # with its marker, named in a legend outside the plot; accuracy is the next chart
            assert "chart 1 of 2: loss" in text
            assert "⠒ train/loss (per iteration)  ● train/loss_epoch  ✕ val/loss" in text
            assert "val/accuracy 97.12%" in text
            await pilot.press("right_square_bracket")  # results
            text = await wait_for(pilot, lambda: "confusion" in screen_text(app) and screen_text(app))
            assert "test_accuracy" in text and "per epoch" in text and "97.12%" in text
            await pilot.press("right_square_bracket")  # spec
            text = await wait_for(pilot, lambda: "spec (every default" in screen_text(app) and screen_text(app))
            assert "batch_size" in text and "64" in text
            await pilot.press("right_square_bracket")  # log
            text = await wait_for(pilot, lambda: "epoch 3/3" in screen_text(app) and screen_text(app))
            await pilot.press("right_square_bracket")  # images
            text = await wait_for(pilot, lambda: "ten test digits" in screen_text(app) and screen_text(app))
            assert text.count("▀") > 20  # the picture, in half blocks
            await pilot.press("escape")
            assert not isinstance(app.screen, JobScreen)

    run(go())


def test_job_detail_draws_every_table_shape_and_the_region_view(lab, monkeypatch):
    home, ids = lab

    async def go():
        app = app_for(home, monkeypatch, colors="truecolor")
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause(0.2)
            app.open_job(ids["maps"])
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            text = await wait_for(pilot, lambda: "gan/d_loss" in screen_text(app) and screen_text(app))
            assert "per iteration" in text  # g_loss and d_loss share the per-iteration plot
            await pilot.press("right_square_bracket")
            text = await wait_for(pilot, lambda: "transfer" in screen_text(app) and screen_text(app))
            assert "accuracy under attack" in text  # curves
            assert "latent_map" in text and "200 points" in text and "digit: ●0" in text  # scatter
            results = app.screen.query_one("#results-box")
            results.scroll_end(animate=False)
            text = await wait_for(pilot, lambda: "z1 and z2" in screen_text(app) and screen_text(app))  # histogram
            assert "attacked" in text and "60.00" in text  # the colour-scaled matrix, in percent
            await pilot.press("v")
            text = await wait_for(pilot, lambda: "points inside" in screen_text(app) and screen_text(app))
            inside = int(text.split(" of 200 points inside")[0].split()[-1])
            assert inside > 0 and "region view" in text
            await pilot.press("minus", "minus", "minus")  # a larger rectangle holds more points
            text = await wait_for(pilot, lambda: int(screen_text(app).split(" of 200 points inside")[0]
                                                     .split()[-1]) > inside and screen_text(app))
            assert text.count("▀") > 50  # their digits
            await pilot.press("escape", "escape")

    run(go())


def test_job_detail_of_a_failed_job_and_a_missing_image_say_so(tmp_path, monkeypatch):
    home = tmp_path / "home"
    ids = populate(home)
    image = home / "runs" / str(ids["done"]) / "samples.png"
    image.unlink()

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test() as pilot:
            await pilot.pause(0.2)
            app.open_job(ids["failed"])
            text = await wait_for(pilot, lambda: "SIGKILL" in screen_text(app) and screen_text(app))
            assert "✗ failed" in text
            await pilot.press("escape")
            app.open_job(ids["done"])
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            app.screen.query_one("TabbedContent").active = "images"
            text = await wait_for(pilot, lambda: "missing:" in screen_text(app) and screen_text(app))
            assert "ten test digits" in text and "▀" not in text  # said in place of the picture

    run(go())


def test_bad_tables_and_files_are_messages_in_place(tmp_path, monkeypatch):
    """Whatever a job wrote, the dashboard shows the rest and says what it could not show."""
    home = tmp_path / "home"
    ids = populate(home)
    store = EngineStore(home)
    broken = home / "runs" / str(ids["maps"]) / "broken.png"
    broken.write_bytes(b"not a png at all")
    store.apply_events([
        (ids["maps"], "table", {"name": "bad_matrix", "payload": {"matrix": "oops"}}),
        (ids["maps"], "table", {"name": "bad_curves", "payload": {"kind": "curves", "x": [1, 2], "series": 5}}),
        (ids["maps"], "table", {"name": "empty_map", "payload": {"kind": "scatter", "x": [], "y": [],
                                                                 "images": {"artifact": "gone", "key": "images"}}}),
        (ids["maps"], "artifact", {"name": "broken", "kind": "image", "path": str(broken), "meta": {}}),
    ])

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(120, 60)) as pilot:
            await pilot.pause(0.2)
            app.open_job(ids["maps"])
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            app.screen.query_one("TabbedContent").active = "results"
            text = await wait_for(pilot, lambda: "bad_matrix" in screen_text(app) and screen_text(app))
            assert "table 'bad_matrix' (matrix) cannot be shown" in text
            assert "accuracy under attack" in text  # the good tables still show
            await pilot.press("v")  # two maps with images: which one?
            await wait_for(pilot, lambda: "Which map?" in screen_text(app))
            await pilot.press("enter")  # empty_map comes first: it cannot be shown, and says so
            await pilot.pause(0.2)
            assert isinstance(app.screen, JobScreen)
            app.screen.query_one("TabbedContent").active = "images"
            text = await wait_for(pilot, lambda: "cannot read broken.png" in screen_text(app) and screen_text(app))
            await pilot.press("escape")
            assert app.is_running

    run(go())


def test_job_detail_follows_a_running_job(tmp_path, monkeypatch, engine_up):
    """New metric rows reach the plots within a look or two, read incrementally."""
    home = tmp_path / "home"
    ids = populate(home)
    engine = EngineStore(home)

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test() as pilot:
            await pilot.pause(0.2)
            app.open_job(ids["running"])
            await wait_for(pilot, lambda: "train/loss 0.5 @60" in screen_text(app))
            seen = []
            real = app.store.query
            monkeypatch.setattr(app.store, "query", lambda sql, params=(): seen.append(sql) or real(sql, params))
            engine.apply_events([(ids["running"], "metrics", {"name": "train/loss", "steps": [61, 62],
                                                              "values": [0.25, 0.125]}),
                                 (ids["running"], "metrics", {"name": "val/accuracy", "steps": [1], "values": [0.875]}),
                                 (ids["running"], "progress", {"fraction": 0.55, "text": "epoch 3/4"}),
                                 (ids["running"], "log", {"level": "info", "message": "epoch 2/4 done"})])
            text = await wait_for(pilot, lambda: "@62" in screen_text(app) and "87.50%" in screen_text(app)
                                  and screen_text(app), timeout=5)
            assert "train/loss 0.125 @62" in text and "55%" in text and "epoch 3/4" in text
            assert "accuracy" in text  # a per-epoch plot appeared beside the per-iteration one
            # incremental reads only: changed job rows by counter, metric rows by row id
            assert any("seq > ?" in sql for sql in seen)
            assert any("+job_id = ? AND id > ?" in sql for sql in seen)
            assert not any(sql.startswith("SELECT * FROM jobs") and "WHERE" not in sql for sql in seen)
            assert not any("FROM metrics WHERE job_id = ? AND id > ?" in sql for sql in seen)

    run(go())


# -- studies ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_study_pane_shows_the_zoo_table_and_steps_through_a_studys_grids(lab, monkeypatch, studies, size):
    home, ids = lab

    async def go():
        app = app_for(home, monkeypatch, colors="truecolor")
        async with app.run_test(size=size) as pilot:
            await pilot.press("3")
            text = await wait_for(pilot, lambda: "network zoo" in screen_text(app) and "92.00" in screen_text(app)
                                  and screen_text(app))
            assert "92.00 ± 1.41" in text  # net 1: seeds 0 and 1 finished
            assert "95.00 …" in text      # net 10.1: seed 0 finished, seed 1 still queued
            assert "3 done" in text and "1 queued" in text
            # Enter on a cell with two runs asks which; choosing opens it
            grid = app.screen.query_one("#study-grid")
            grid.focus()
            grid.move_cursor(row=0, column=1)
            await pilot.press("enter")
            text = await wait_for(pilot, lambda: "which run?" in screen_text(app) and screen_text(app))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            await pilot.press("escape")
            # the next study: three matrices (one per epsilon), stepped with ] and [
            await pilot.press("full_stop")
            text = await wait_for(pilot, lambda: "FGSM transfer" in screen_text(app) and screen_text(app))
            assert "grid 1 of 3" in text and "eps 0.2" in text and "95.00" in text
            await pilot.press("right_square_bracket")
            text = await wait_for(pilot, lambda: "grid 2 of 3" in screen_text(app) and screen_text(app))
            assert "eps 0.5" in text and "65.00" in text and "eps 0.5 on the normalised scale" in text
            await pilot.press("left_square_bracket", "left_square_bracket")
            text = await wait_for(pilot, lambda: "grid 3 of 3" in screen_text(app) and screen_text(app))
            assert "adversarial samples" in text and text.count("▀") > 20  # the study's image
            if size[0] >= 120:  # beside the grid, not below it
                line = next(line for line in text.splitlines() if "adversarial samples" in line)
                assert line.index("adversarial samples") > 60

    run(go())


def test_study_of_an_uninstalled_type_is_a_message(lab, monkeypatch):
    home, ids = lab  # without the `studies` fixture, type fakefgsm is unknown here

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test() as pilot:
            await pilot.press("3", "full_stop")
            text = await wait_for(pilot, lambda: "cannot be shown" in screen_text(app) and screen_text(app))
            assert "fgsm" in text

    run(go())


# -- devices, history, compare, export --------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_devices_pane_shows_slots_and_the_machine(lab, monkeypatch, engine_up, size):
    home, ids = lab
    store = EngineStore(home)
    store.engine_started(4242, [{"name": "gpu0", "label": "gpu 0 (pretend GPU, runs on cpu)", "gpu": 0,
                                 "pretend": True, "threads": 1, "worker_pid": None, "ready": True,
                                 "job_id": ids["running"]},
                                {"name": "gpu1", "label": "gpu 1", "gpu": 1, "pretend": True, "threads": 1,
                                 "worker_pid": None, "ready": True, "job_id": None},
                                {"name": "cpu0", "label": "cpu 0", "gpu": None, "threads": 1, "worker_pid": None,
                                 "ready": False, "job_id": None,
                                 "problem": "the worker did not say it was ready within 60 s; starting again in 4 s "
                                            "(failed 2 time(s))"}], {})

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=size) as pilot:
            await pilot.press("2")
            text = await wait_for(pilot, lambda: "gpu1" in screen_text(app) and "cpu0" in screen_text(app)
                                  and screen_text(app))
            # a slot whose worker will not start says why, whole (wrapped within its column)
            header = next(line for line in text.splitlines() if line.split()[:2] == ["slot", "job"])
            column = header.index("job")
            rows = text.splitlines()
            start = next(i for i, line in enumerate(rows) if line.split()[:1] == ["cpu0"])
            said = " ".join(rows[i][column:header.index("worker")].strip() for i in range(start, start + 6))
            assert "the worker did not say it was ready within 60 s; starting again in 4 s" in " ".join(said.split())
            assert "engine pid 4242" in text
            assert "gpu0" in text and f"#{ids['running']}" in text and "pretend GPU" in text
            assert "idle" in text
            assert "cpu" in text and "ram" in text and "of" in text

    run(go())
    store.engine_stopped()


def test_devices_pane_shows_a_clusters_nodes_their_gpus_and_lost_ones(lab, monkeypatch, engine_up):
    """Slots on Ray nodes: the node (with host and labels), GPU use as that node read it, and lost nodes."""
    home, ids = lab
    store = EngineStore(home)
    remote = {"pretend": False, "threads": 1, "worker_pid": 31337, "ready": True, "gpu_name": "NVIDIA A100",
              "host": "gpu-box-7 10.0.0.7"}
    store.engine_started(4242, [
        {**remote, "name": "n1.gpu0", "label": "gpu 0 (NVIDIA A100) on n1", "gpu": 0, "node": "a" * 56,
         "labels": ["bigmem"], "job_id": ids["running"], "gpu_util": 87.0, "gpu_mem_used_mb": 30 * 1024.0,
         "gpu_mem_total_mb": 80 * 1024.0},
        {**remote, "name": "n2.gpu0", "label": "gpu 0 on n2", "gpu": 0, "node": "b" * 56, "labels": [],
         "job_id": None, "lost": True, "ready": False, "host": "gpu-box-8 10.0.0.8"}], {})

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("2")
            text = await wait_for(pilot, lambda: "n2.gpu0" in screen_text(app) and screen_text(app))
            row1 = next(line for line in text.splitlines() if "n1.gpu0" in line)
            assert "n1 gpu-box-7" in row1 and "87%" in row1 and "30.0 GB/80.0 GB" in row1
            assert f"#{ids['running']}" in row1
            row2 = next(line for line in text.splitlines() if "n2.gpu0" in line)
            assert "lost n2" in row2 and "its node left" in row2 and "31337" not in row2
            assert "[bigmem]" in text

    run(go())
    store.engine_stopped()


def test_devices_pane_shows_gpu_use_and_memory(lab, monkeypatch, engine_up):
    """With real GPUs, each GPU slot shows NVML's utilisation and memory (NVML is faked here)."""
    from tui.sysinfo import GpuSample, Sampler

    home, ids = lab
    monkeypatch.setattr(Sampler, "_gpus", lambda self: [GpuSample(0, "NVIDIA H100 80GB HBM3", 87.0, 30 * 2**30,
                                                                  80 * 2**30, 54)])
    store = EngineStore(home)
    store.engine_started(4242, [{"name": "gpu0", "label": "gpu 0 (NVIDIA H100)", "gpu": 0, "pretend": False,
                                 "threads": 4, "worker_pid": None, "ready": True, "job_id": ids["running"]}], {})

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("2")
            text = await wait_for(pilot, lambda: "H100" in screen_text(app) and screen_text(app))
            assert "87%" in text and "30.0 GB/80.0 GB" in text and "54°C" in text

    run(go())
    store.engine_stopped()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_history_compares_two_runs_and_exports_them(lab, monkeypatch, tmp_path, size):
    home, ids = lab
    monkeypatch.chdir(tmp_path)

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=size) as pilot:
            await pilot.press("4")
            table = await wait_for(pilot, lambda: app.screen.query(JobTable) and app.screen.query_one(JobTable))
            await wait_for(pilot, lambda: table.ids)
            assert all(app.live.jobs[i].finished for i in table.ids)
            await pilot.press("slash")
            await type_text(pilot, "net=10.1 samples=1000 status:done kind:train")
            await pilot.press("enter")
            await wait_for(pilot, lambda: set(table.ids) >= {ids["done"], ids["done2"]})
            table.select_job(ids["done2"])
            await pilot.press("space")
            table.select_job(ids["done"])
            await pilot.press("space")
            assert table.marked == {ids["done"], ids["done2"]}
            assert "●" in row_of(screen_text(app), ids["done"])
            # the mouse marks too: a click on the mark column of a row
            line = table.ids.index(ids["done2"]) - int(table.scroll_y) + 1
            await pilot.click(JobTable, offset=(0, line))
            assert table.marked == {ids["done"]}
            await pilot.click(JobTable, offset=(0, line))
            assert table.marked == {ids["done"], ids["done2"]}
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
            text = await wait_for(pilot, lambda: "metric: val/loss" in screen_text(app) and screen_text(app))
            assert f"job {ids['done']}" in text and f"job {ids['done2']}" in text
            assert "lr" in text and "net" not in [line.split()[0] for line in text.splitlines() if line.split()]
            assert "97.12%" in text and "94.33%" in text and "same in all" in text
            await wait_for(pilot, lambda: sum(0x2800 < ord(ch) <= 0x28FF for ch in screen_text(app)) > 10,
                           what="the overlaid curves")
            await pilot.press("m", "m")
            assert app.screen.metric == "val/accuracy"
            await pilot.press("e")
            text = await wait_for(pilot, lambda: "Export 2 jobs" in screen_text(app) and screen_text(app))
            await pilot.click("#format-md")
            await pilot.press("enter")  # in the path box: write
            written = tmp_path / f"mnistlab-2-jobs-{ids['done']}-{ids['done2']}.md"
            await wait_for(pilot, lambda: written.exists(), what=str(written))
            body = written.read_text()
            assert f"## Job {ids['done']}: train" in body and f"## Job {ids['done2']}: train" in body
            assert body.count("| epoch | train/loss_epoch | val/loss | val/accuracy |") == 2
            # and CSV of the highlighted run from the history list
            await pilot.press("escape")
            await pilot.press("escape")  # clears the marks
            assert not table.marked
            table.select_job(ids["done"])
            await pilot.press("e")
            await wait_for(pilot, lambda: "Export job" in screen_text(app))
            await pilot.press("enter")
            csv_file = tmp_path / f"mnistlab-job-{ids['done']}.csv"
            await wait_for(pilot, lambda: csv_file.exists())
            assert csv_file.read_text().startswith("job_id,kind,section,name,step,value")

    run(go())


def test_export_json_matches_the_cli(lab, monkeypatch, tmp_path, cli):
    home, ids = lab
    monkeypatch.setenv("MNISTLAB_HOME", str(home))
    from tui.screens.export import jobs_text

    ours = json.loads(jobs_text(Store(home), [ids["done"]], "json"))
    theirs = cli("export", str(ids["done"]), "--format", "json").json()
    assert ours == theirs


# -- keys, help, palette, colours, errors -----------------------------------------------------


def test_help_lists_the_keys_of_the_current_pane(lab, monkeypatch):
    home, _ = lab

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.2)
            await pilot.press("question_mark")
            text = await wait_for(pilot, lambda: "Keys: queue" in screen_text(app) and screen_text(app))
            assert "cancel the job" in text and "raise priority" in text and "status:running" in text
            await pilot.press("escape")
            await pilot.press("4", "question_mark")
            text = await wait_for(pilot, lambda: "Keys: history" in screen_text(app) and screen_text(app))
            assert "compare" in text and "mark" in text

    run(go())


def test_command_palette_opens_a_job_by_id(lab, monkeypatch):
    home, ids = lab

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.2)
            await pilot.press("ctrl+p")
            await type_text(pilot, str(ids["maps"]))
            await wait_for(pilot, lambda: f"Open job {ids['maps']}" in screen_text(app), timeout=5)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.job_id == ids["maps"])

    run(go())



def test_sixteen_colour_terminals_get_ansi_colours_and_shade_pictures(lab, monkeypatch):
    home, ids = lab

    async def go():
        app = app_for(home, monkeypatch, colors="16")
        async with app.run_test() as pilot:
            await pilot.pause(0.2)
            assert app.theme == "ansi-dark" and app.ansi_mode
            app.open_job(ids["done"])
            await wait_for(pilot, lambda: isinstance(app.screen, JobScreen))
            app.screen.query_one("TabbedContent").active = "images"
            text = await wait_for(pilot, lambda: "ten test digits" in screen_text(app) and screen_text(app))
            picture = text.split("ten test digits", 1)[1]
            assert "▀" not in picture and any(ch in picture for ch in "░▒▓█")
            strips = app.screen._compositor.render_strips()
            colours = {seg.style.color.name for strip in strips for seg in strip
                       if seg.style and seg.style.color and seg.style.color.type.name == "TRUECOLOR"}
            assert not colours  # only the terminal's own (ANSI) colours

    run(go())


def test_a_store_that_cannot_be_opened_is_a_message_not_a_crash(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mnistlab.db").write_bytes(b"this is not a database, it is my thesis\n" * 50)

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test() as pilot:
            text = await wait_for(pilot, lambda: "cannot be opened" in screen_text(app) and screen_text(app))
            assert "not an mnistlab store" in text and "Nothing was changed" in text
            await pilot.press("1", "n")  # the panes are not there to switch to
            assert "cannot be opened" in screen_text(app)
            # fixed by hand (moved away): r tries again
            (home / "mnistlab.db").rename(tmp_path / "thesis.txt")
            await pilot.press("r")
            await wait_for(pilot, lambda: app.current_mode == "queue")
            assert "no jobs yet" in screen_text(app)
            await pilot.press("q")
        assert app.return_code == 0

    run(go())
    assert (tmp_path / "thesis.txt").read_bytes().startswith(b"this is not a database")


def test_several_dashboards_on_one_store_stay_in_step(tmp_path, monkeypatch, engine_up):
    home = tmp_path / "home"
    ids = populate(home)

    async def go():
        first, second = app_for(home, monkeypatch), app_for(home, monkeypatch)
        async with first.run_test() as p1, second.run_test() as p2:
            await p1.pause(0.2)
            first.job_action(lambda s: s.cancel(ids["queued"]))
            await wait_for(p2, lambda: second.live.jobs[ids["queued"]].status == "cancelled")
            await wait_for(p2, lambda: "⊘ cancelled" in row_of(screen_text(second), ids["queued"]))
            second.job_action(lambda s: s.set_priority(ids["waiting"], 7))
            await wait_for(p1, lambda: first.live.jobs[ids["waiting"]].priority == 7)
            # and a third writer, the CLI's store
            (new,) = Store(home).submit([__import__("runs.records", fromlist=["JobRequest"])
                                         .JobRequest("train", {"net": "1", "samples": 128})])
            for app, pilot in ((first, p1), (second, p2)):
                await wait_for(pilot, lambda app=app: new in app.live.jobs and row_of(screen_text(app), new))

    run(go())


def test_quitting_leaves_the_engine_alone(tmp_path, monkeypatch):
    home = tmp_path / "home"
    populate(home)
    stopped = []
    monkeypatch.setattr("engine.control.stop", lambda *a, **k: stopped.append(a))

    async def go():
        app = app_for(home, monkeypatch)
        async with app.run_test() as pilot:
            await pilot.pause(0.1)
            await pilot.press("q")
        return app.return_code

    assert run(go()) == 0 and not stopped


def test_copied_store_folder_reads_the_same(lab, tmp_path, monkeypatch):
    """A data folder copied elsewhere (as over SSH to a laptop) opens with the same rows."""
    home, ids = lab
    copy = tmp_path / "copy"
    shutil.copytree(home, copy)

    async def go():
        app = app_for(copy, monkeypatch)
        async with app.run_test() as pilot:
            await wait_for(pilot, lambda: sum(app.live.counts().values()) > BULK)
            app.open_job(ids["done"])
            text = await wait_for(pilot, lambda: "97.12%" in screen_text(app) and screen_text(app))
            assert f"#{ids['done']} train net=10.1" in text

    run(go())


def test_study_presets_call_each_studys_own_plan(monkeypatch, tmp_path):
    """Later studies plan with more than options (e.g. a store to find finished classifiers): the form
    passes what a plan asks for by name, uses a `dashboard_plan` hook when there is one, and says when
    it cannot give what a plan needs."""
    from types import SimpleNamespace

    from jobs.schema import Field
    from runs.records import InputError, JobRequest
    from runs.studies import STUDY_TYPES
    from tui.presets import preset

    seen = {}

    def plan_with_store(options, store):
        seen["store"] = store
        return [JobRequest("train", {"net": "1", "samples": options["samples"]})]

    fields = (Field("samples", int, 500, "images", min=1, max=60000),)
    monkeypatch.setitem(STUDY_TYPES, "withstore", SimpleNamespace(
        TYPE="withstore", TITLE="A study that looks in the store", OPTIONS=fields, plan=plan_with_store,
        summarize=lambda name, jobs: None))
    monkeypatch.setitem(STUDY_TYPES, "hooked", SimpleNamespace(
        TYPE="hooked", TITLE="Hooked", OPTIONS=(), plan=lambda options, classifiers: [],
        dashboard_plan=lambda options, store=None: [JobRequest("train", {"net": "2"})],
        summarize=lambda name, jobs: None))
    monkeypatch.setitem(STUDY_TYPES, "needy", SimpleNamespace(
        TYPE="needy", TITLE="Needy", OPTIONS=(), plan=lambda options, classifiers: [],
        summarize=lambda name, jobs: None))
    store = Store(tmp_path / "home")

    p = preset("withstore")
    assert p.field_errors({"samples": "0"})["samples"] == ("study withstore spec, field 'samples': '0' is out of "
                                                          "range; allowed: a whole number from 1 to 60000")
    options, overrides = p.options_from({"samples": "700"})
    assert [r.spec for r in p.plan(options, overrides, store)] == [{"net": "1", "samples": 700}]
    assert seen["store"] is store
    assert [r.spec for r in preset("hooked").plan({}, {}, store)] == [{"net": "2"}]
    with pytest.raises(InputError, match="needs classifiers .* `mnistlab study needy`"):
        preset("needy").plan({}, {}, store)
    assert preset("augment") is None or preset("augment").type == "augment"  # absent until installed
    zoo = preset("zoo")
    assert [f.name for f in zoo.overrides] == ["epochs", "batch_size"]
