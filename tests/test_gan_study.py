"""Study 3 through the real engine and CLI: dependencies, refusals, the region view, the t-SNE bench."""

from __future__ import annotations

import numpy as np

from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.store import Store
from runs.studies import gan as gan_study
from tests.conftest import wait_until
from tests.tui_helpers import run, screen_text, wait_for

TINY_STUDY = ["--samples", "512", "--epochs", "1", "--classifier-samples", "500", "--classifier-epochs", "1",
              "--sizes", "120"]


def wait_all(home, ids, timeout=240):
    store = Store(home)

    def ended():
        jobs = store.jobs(ids=ids)
        return jobs if all(j.finished for j in jobs) else None

    return wait_until(ended, timeout, what=f"jobs {ids} to end")


def test_study_gan_runs_through_the_engine_and_the_analysis_waits(home, cli):
    queued = cli("study", "gan", *TINY_STUDY, "--json")
    assert queued.code == 0, queued.err
    train_id, gan_id, map_id = ids = queued.json()["ids"]
    store = Store(home)
    assert [store.job(i).kind for i in ids] == ["train", "gan", "ganmap"]
    assert store.job(map_id).depends_on == [train_id, gan_id]
    why = wait_until(lambda: store.job(map_id).wait_reason, 60, what="the analysis to say why it waits")
    assert why.startswith("waiting for job") and str(gan_id) in why

    jobs = {j.id: j for j in wait_all(home, ids)}
    assert all(j.status == "done" for j in jobs.values()), {j.id: j.reason for j in jobs.values()}
    assert jobs[map_id].started_at >= max(jobs[train_id].finished_at, jobs[gan_id].finished_at)
    assert jobs[map_id].result["gan_run"] == gan_id and jobs[map_id].result["classifier_run"] == train_id

    gan_artifacts = {a["name"] for a in store.artifacts(gan_id)}
    assert {"samples-epoch-001", "checkpoint", "generator"} <= gan_artifacts
    assert len(store.series(gan_id, "gan/g_loss")) == 8 and len(store.series(gan_id, "gan/d_fake")) == 1
    map_artifacts = {a["name"] for a in store.artifacts(map_id)}
    assert {"g-z1", "g-z2", "interpolation", "interpolation-data", "latent-120", "gz-120-scatter",
            "z-120-scatter"} <= map_artifacts
    tables = store.tables(map_id)
    assert {"z-histograms", "interpolation", "classes-120", "confidence-120", "gz-120", "z-120"} <= set(tables)

    view = cli("study", "show", "gan", "--json").json()
    assert [g["rows"][0]["label"] for g in view["grids"]] == [f"job {map_id}, N=120"] * 2
    assert abs(sum(c["mean"] for c in view["grids"][0]["rows"][0]["cells"]) - 1) < 1e-9  # class shares
    assert any(n.startswith(f"job {map_id}, N=120: ") and "classes generated" in n for n in view["notes"])
    assert {"samples-epoch-001", "interpolation", "gz-120-scatter"} <= {i["artifact"] for i in view["images"]}

    # The region view: every point of the map, then a rectangle holding the left half of it.
    payload = tables["gz-120"]
    everything = cli("gan", "region", map_id, "--map", "gz-120", "--x", -1e6, 1e6, "--y", -1e6, 1e6, "--json")
    assert everything.code == 0 and everything.json()["count"] == 120
    mid = float(np.median(payload["x"]))
    left = cli("gan", "region", map_id, "--map", "gz-120", "--x", -1e6, mid, "--y", -1e6, 1e6, "--json").json()
    assert {p["index"] for p in left["points"]} == {i for i, x in enumerate(payload["x"]) if x <= mid}
    assert [p["x"] for p in left["points"]] == sorted(p["x"] for p in left["points"])  # left to right
    shown = cli("gan", "region", map_id, "--map", "gz-120", "--x", -1e6, mid, "--y", -1e6, 1e6, "--limit", 3,
                "--plain")
    assert shown.code == 0 and f"{left['count']} of 120 points" in shown.out and "▒" in shown.out
    assert cli("gan", "region", map_id, "--map", "gz-999", "--x", 0, 1, "--y", 0, 1).code == 2
    assert "the maps are in its ganmap analysis" in cli("gan", "region", gan_id, "--x", 0, 1, "--y", 0, 1).err
    assert cli("gan", "map", map_id, "--map", "z-120").code == 0
    assert "G(a*z1 + (1-a)*z2)" in cli("gan", "show", map_id, "--plain").out

    dashboard_shows_the_real_study(home, gan_id, map_id)

    # A second analysis reuses both finished runs: one job, no training.
    again = cli("study", "gan", "--gan-run", gan_id, "--classifier-run", train_id, "--sizes", "100",
                "--name", "again", "--json")
    assert again.code == 0, again.err
    [only] = again.json()["ids"]
    assert store.job(only).kind == "ganmap" and store.job(only).spec["gan_run"] == gan_id


def dashboard_shows_the_real_study(home, gan_id: int, map_id: int) -> None:
    """The sample grid, the interpolation strip, the maps and their region view, as the jobs stored them."""
    from tui.app import MnistlabApp
    from tui.screens.region import RegionScreen

    async def go():
        app = MnistlabApp(home, start_engine=False, colors="truecolor")
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause(0.2)
            app.open_job(gan_id)
            await wait_for(pilot, lambda: "gan/d_loss" in screen_text(app), what="the GAN's losses")
            app.screen.query_one("TabbedContent").active = "images"
            await wait_for(pilot, lambda: "G(z) after epoch 1/1" in screen_text(app)
                           and screen_text(app).count("▀") > 20, what="the sample grid, drawn")
            await pilot.press("escape")
            app.open_job(map_id)
            await wait_for(pilot, lambda: "Images (" in screen_text(app), what="the analysis")
            app.screen.query_one("TabbedContent").active = "images"
            await wait_for(pilot, lambda: "g-z1" in screen_text(app), what="the analysis's pictures")
            box = app.screen.query_one("#images-box")
            for _ in range(40):  # scroll down to the strip, as a person would
                if "G(a*z1 + (1-a)*z2)" in screen_text(app):
                    break
                box.scroll_relative(y=5, animate=False)
                await pilot.pause(0.05)
            assert "G(a*z1 + (1-a)*z2)" in screen_text(app), screen_text(app)
            app.screen.query_one("TabbedContent").active = "results"
            await wait_for(pilot, lambda: "gz-120" in screen_text(app) and "120 points" in screen_text(app),
                           what="the latent maps")
            await pilot.press("v")  # two maps: pick one, then the region view
            await wait_for(pilot, lambda: "Which map?" in screen_text(app), what="the map picker")
            await pilot.press("enter")
            text = await wait_for(pilot, lambda: isinstance(app.screen, RegionScreen)
                                  and "points inside" in screen_text(app) and screen_text(app), what="the region view")
            assert " of 120 points inside" in text

    run(go())  # the `home` fixture has set MNISTLAB_HOME


def test_analysis_fails_with_the_reason_of_a_failed_dependency(home, mnist_dir):
    requests = gan_study.plan({"samples": 256, "epochs": 1, "classifier_samples": 500, "sizes": [100]},
                              store=Store(home))
    for r in requests:
        r.data_dir = str(mnist_dir)
    requests[0].data_dir = str(home / "no-mnist-here")  # the classifier cannot find its data
    ids = Store(home).submit(requests, study=("broken", "gan", {}))
    from engine import control

    control.start(home)
    train, gan_job, analysis = wait_all(home, ids)
    assert train.status == "failed" and "MNIST" in train.reason
    assert analysis.status == "failed"
    assert analysis.reason == f"dependency job {train.id} was failed: {train.reason}"
    assert analysis.started_at is None  # it never ran


def test_bad_run_ids_are_refused_before_anything_is_queued(home, cli):
    store = Store(home)
    [queued_train] = store.submit([JobRequest("train", {"net": "11.1", "samples": 100, "epochs": 1})])
    [done_gan, done_train] = store.submit([JobRequest("gan", {"samples": 64}), JobRequest("train", {"net": "1"})])
    for job_id in (done_gan, done_train):
        EngineStore(home).finish(job_id, "done", None, {}, None)
    before = len(store.jobs())

    cases = [
        (["study", "gan", "--gan-run", "99"], "'gan_run': 99 is not a job in this store (ids run from 1 to 3)"),
        (["study", "gan", "--gan-run", str(done_train)], f"{done_train} is a train job, not a gan run"),
        (["study", "gan", "--gan-run", str(done_gan), "--classifier-run", str(queued_train)],
         f"{queued_train} is still queued, not finished"),
        (["study", "gan", "--classifier-run", str(done_gan)], f"{done_gan} is a gan job, not a train run"),
        (["submit", "ganmap", "--gan-run", str(done_gan), "--classifier-run", "42"], "not a job in this store"),
        (["submit", "ganmap", "--gan-run", str(queued_train), "--classifier-run", str(done_train)],
         "is a train job, not a gan run"),
        (["submit", "ganmap", "--gan-run", str(done_gan)], "'classifier_run': None is missing"),
        (["submit", "ganmap", "--gan-run", "-1", "--classifier-run", str(done_train)], "'gan_run': -1 is not a run id"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.code == 2, (args, result.out, result.err)
        assert message in result.err and len(result.err.strip().splitlines()) == 1, (args, result.err)
    assert len(store.jobs()) == before  # nothing was queued

    ok = cli("submit", "ganmap", "--gan-run", str(done_gan), "--classifier-run", str(done_train),
             "--sizes", "100", "--json")
    assert ok.code == 0, ok.err
    # `--after` makes a queued run acceptable: the analysis waits for it.
    waits = cli("submit", "ganmap", "--gan-run", str(done_gan), "--classifier-run", str(queued_train),
                "--after", str(queued_train), "--json")
    assert waits.code == 0, waits.err
    assert store.job(waits.json()["ids"][0]).depends_on == [queued_train]


def test_plan_reuses_net_11_1_when_the_store_has_one(home):
    store = Store(home)
    fresh = gan_study.plan({"sizes": "1000"}, store=store)
    assert [r.kind for r in fresh] == ["train", "gan", "ganmap"]
    assert fresh[0].spec == {"net": "11.1", "samples": 60000} and fresh[2].after == [0, 1]
    assert (fresh[2].spec["classifier_run"], fresh[2].spec["gan_run"]) == (-2, -1)

    [other] = store.submit([JobRequest("train", {"net": "11.1", "samples": 1000})])  # not 60,000 images
    [queued] = store.submit([JobRequest("train", {"net": "11.1", "samples": 60000})])
    waiting = gan_study.plan({}, store=store)
    assert [r.kind for r in waiting] == ["gan", "ganmap"]
    assert waiting[1].spec["classifier_run"] == queued and waiting[1].depends_on == [queued]
    assert waiting[1].spec["gan_run"] == -1 and waiting[1].after == [0]

    [done] = store.submit([JobRequest("train", {"net": "11.1", "samples": 60000, "seed": 1})])
    EngineStore(home).finish(done, "done", None, {}, None)
    reuse = gan_study.plan({"arch": "mlp", "epochs": "3"}, store=store)
    assert reuse[1].spec["classifier_run"] == done and reuse[1].depends_on == []
    assert reuse[0].spec == {"arch": "mlp", "samples": 60000, "z_dim": 100, "seed": 0, "epochs": 3}
    assert other not in (queued, done)


def test_bench_tsne_measures_both_libraries_on_both_maps(home, cli, tmp_path):
    out = tmp_path / "bench.json"
    result = cli("bench", "tsne", "--points", "150", "--threads", "1", "--json", "--out", out)
    assert result.code == 0, result.err
    report = result.json()
    assert report["points"] == 150 and "stand-in" in report["source"]
    assert set(report["maps"]) == {"gz", "z"}
    assert report["maps"]["gz"]["input_dims"] == 50 and report["maps"]["z"]["input_dims"] == 100
    for entry in report["maps"].values():
        assert set(entry["runs"]) == {"opentsne", "sklearn"}
        assert all(0.5 < r["trustworthiness"] <= 1 and r["seconds"] > 0 for r in entry["runs"].values())
    assert report["choice"]["method"] in report["choice"]["equal_quality"]
    assert out.exists()
