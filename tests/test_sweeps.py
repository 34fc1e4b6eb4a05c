"""Sweeps: a grid of spec values queued as one group (all or nothing), ranked per point, and cancelled,
retried or reprioritised as a whole, like a study."""

from __future__ import annotations

import itertools
import statistics

import pytest

from jobs.kinds import get_kind
from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.store import Store

TINY = ["--samples", "128", "--epochs", "1"]


@pytest.fixture
def engine_starts(monkeypatch) -> list:
    """Queue without starting an engine (nothing here needs jobs to run); records each start asked for."""
    started: list = []
    monkeypatch.setattr("engine.control.start", lambda *a, **k: started.append(a) or (0, False))
    return started


def finish(store: EngineStore, job_id: int, accuracy: float | None, status: str = "done") -> None:
    store.claim(job_id, "cpu0", "cpu", None)
    result = {"test_accuracy": accuracy, "test_loss": 1 - accuracy} if accuracy is not None else None
    store.finish(job_id, status, result=result, headline=accuracy)


def test_a_3_by_2_sweep_queues_six_jobs_with_their_specs_in_one_group(home, cli, engine_starts):
    result = cli("sweep", "train", "--net", "1,2,10.1", "--lr", "0.01,0.1", *TINY, "--json")
    assert result.code == 0, result.err
    out = result.json()
    assert out["sweep"] == 1 and out["name"] == "sweep-1" and len(out["ids"]) == 6
    store = Store(home)
    jobs = store.jobs(study="sweep-1")
    assert [j.id for j in jobs] == out["ids"] and all(j.status == "queued" for j in jobs)
    kind = get_kind("train")
    grid = [{"net": net, "samples": 128, "epochs": 1, "lr": lr} for net, lr in
            itertools.product(["1", "2", "10.1"], [0.01, 0.1])]
    assert [j.spec for j in jobs] == [kind.validate(point) for point in grid]  # every default filled in
    assert len({j.seq for j in jobs}) == 1  # one transaction
    group = store.study("sweep-1")
    assert group["type"] == "sweep" and group["options"]["swept"] == ["net", "lr"]
    assert group["options"]["fields"] == {"net": "1,2,10.1", "lr": "0.01,0.1", "samples": "128", "epochs": "1"}
    assert engine_starts  # queued like any submit: the engine is started

    second = cli("sweep", "train", "--net", "1", "--seed", "0..2", *TINY)
    assert "sweep 2: 3 train job(s) queued (ids 7-9)" in second.out and "mnistlab sweep show 2" in second.out
    assert [j["spec"]["seed"] for j in cli("ls", "--sweep", "2", "--json").json()] == [0, 1, 2]
    listed = cli("sweep", "list", "--json").json()
    assert [(s["sweep"], s["jobs"], s["options"]["swept"]) for s in listed] == [(1, 6, ["net", "lr"]), (2, 3, ["seed"])]
    text = cli("ls", "--sweep", "1").out
    assert "net=2 lr=0.1 samples=128" in text  # a sweep's rows start with their point


BAD_SWEEPS = [
    (["--samples", "32,128", "--batch-size", "64"], "sweep point 1 of 2 (samples=32) is refused, so nothing was "
                                                    "queued: train spec, field 'batch_size': 64 is larger"),
    (["--net", "1,99"], "field 'net': '99' is not a known value; allowed: one of 1, 2"),
    (["--lr", "0.01..0.1"], "'0.01..0.1' is a range; allowed: a list such as 0.01,0.1 (a range of real numbers "
                            "only with --random)"),
    (["--seed", "0..200000"], "has 200,001 values; allowed: a range of at most 100,000 values"),
    (["--batch-size", "5..3"], "'5..3' is an empty range"),
    (["--lr", "0.1,0.1"], "repeats a value"),
    (["--lr", "0.1,,0.2"], "has an empty value"),
    (["--lr", "0.1"], "needs at least one field with two or more values"),
    (["--net", "1,2", "--lr", "0.1,0.2", "--random", "5"], "--random 5 asks for more points than the 4"),
    (["--net", "1,2", "--priority", "5000"], "priority 5000 is out of range"),
    (["--net", "1,2", "--batch-size", "1..400", "--seed", "0..300"], "the grid has 240,800 points; allowed: at most"),
]


@pytest.mark.parametrize("args, message", BAD_SWEEPS)
def test_an_invalid_sweep_is_refused_whole_and_queues_nothing(home, cli, engine_starts, args, message):
    result = cli("sweep", "train", *args)
    assert result.code == 2 and message in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1
    store = Store(home)
    assert store.jobs() == [] and store.studies() == [] and not engine_starts


def test_a_sweep_whose_data_is_missing_leaves_no_group(home, cli, engine_starts, tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLAB_DATA", str(tmp_path / "nowhere"))
    result = cli("sweep", "train", "--net", "1,2")
    assert result.code == 2 and "MNIST folder" in result.err and "does not exist" in result.err
    assert Store(home).studies() == [] and Store(home).jobs() == []


def test_dry_run_prints_the_size_and_the_first_points(home, cli, engine_starts):
    result = cli("sweep", "train", "--net", "1,2", "--batch-size", "16..20", "--seed", "0,1", "--epochs", "1",
                 "--dry-run")
    assert result.code == 0, result.err
    assert "sweep of train: 20 job(s) over net (2) × batch_size (5) × seed (2)\nfixed: epochs=1\n" in result.out
    assert "     1  net=1 batch_size=16 seed=0" in result.out and "and 10 more; nothing queued" in result.out
    plan = cli("sweep", "train", "--net", "1,2", "--batch-size", "16..20", "--seed", "0,1", "--dry-run",
               "--json").json()
    grid = list(itertools.product(["1", "2"], range(16, 21), [0, 1]))
    assert plan["jobs"] == 20 and [(p["net"], p["batch_size"], p["seed"]) for p in plan["first_points"]] == grid[:10]
    assert Store(home).jobs() == [] and not engine_starts


def test_random_points_are_seeded_distinct_in_range_and_run_once_per_seed(home, cli, engine_starts):
    args = ["sweep", "train", "--net", "1,2,5", "--lr", "0.001..0.1", "--batch-size", "16..64", "--seed", "0,1",
            "--random", "4", "--dry-run", "--json"]
    first, again = (cli(*args, "--sample-seed", "7").json() for _ in range(2))
    other = cli(*args, "--sample-seed", "8").json()
    assert first == again and first["first_points"] != other["first_points"] and first["jobs"] == 8
    points = first["first_points"]
    assert [p["seed"] for p in points] == [0, 1] * 4
    drawn = [{k: v for k, v in p.items() if k != "seed"} for p in points[::2]]
    assert drawn == [{k: v for k, v in p.items() if k != "seed"} for p in points[1::2]]
    assert len({tuple(p.items()) for p in drawn}) == 4
    assert all(p["net"] in ("1", "2", "5") and 0.001 <= p["lr"] <= 0.1 and 16 <= p["batch_size"] <= 64
               for p in drawn)
    whole = cli("sweep", "train", "--net", "1,2", "--batch-size", "16..17", "--random", "4", "--dry-run",
                "--json").json()
    assert sorted((p["net"], p["batch_size"]) for p in whole["first_points"]) == [
        ("1", 16), ("1", 17), ("2", 16), ("2", 17)]  # a finite space is sampled without repeats


def test_sweep_show_ranks_points_by_mean_over_seeds(home, cli, engine_starts):
    ids = cli("sweep", "train", "--net", "1", "--lr", "0.01,0.1,0.5", "--seed", "0,1", *TINY, "--json").json()["ids"]
    store = EngineStore(home)
    (a0, a1), (b0, b1), (c0, c1) = ids[0:2], ids[2:4], ids[4:6]  # lr 0.01, 0.1, 0.5; seeds 0 and 1
    for job_id, accuracy in ((a0, 0.7), (a1, 0.6), (b0, 0.9), (b1, 0.8), (c0, 0.95)):
        finish(store, job_id, accuracy)
    # c1 stays queued
    shown = cli("sweep", "show", "1", "--json").json()
    assert shown["metric"] == "test_accuracy" and shown["best"] == "high" and shown["fields"] == ["lr"]
    assert [p["point"] for p in shown["points"]] == [{"lr": 0.5}, {"lr": 0.1}, {"lr": 0.01}]
    top, middle, last = shown["points"]
    assert top["n"] == 1 and top["pending"] == 1 and top["std"] is None and top["seeds"] == [0, 1]
    assert middle["mean"] == statistics.fmean([0.9, 0.8]) and middle["std"] == statistics.stdev([0.9, 0.8])
    assert middle["job_ids"] == [b0, b1] and shown["counts"] == {"done": 5, "queued": 1}
    lowest = cli("sweep", "show", "1", "--best", "low", "--json").json()["points"]
    assert [p["point"]["lr"] for p in lowest] == [0.01, 0.1, 0.5]
    losses = cli("sweep", "show", "1", "--metric", "test_loss", "--json").json()
    assert losses["best"] == "low" and [p["point"]["lr"] for p in losses["points"]] == [0.5, 0.1, 0.01]

    text = cli("sweep", "show", "1").out
    assert "sweep 1: train, 3 point(s) (5 done, 1 queued)" in text
    assert "85.00 ± 7.07" in text and "test_accuracy (%) against lr" in text
    assert "against" not in cli("sweep", "show", "1", "--no-plot").out
    assert "and 2 more point(s)" in cli("sweep", "show", "1", "--limit", "1").out
    assert "lr=0.1" in cli("study", "show", "sweep-1").out  # the study views show a sweep too
    for args, message in ((["9"], "no sweep 9 in"), (["1", "--metric", "nope"], "allowed: test_accuracy, test_loss"),
                          (["1", "--best", "up"], "allowed: high or low"), (["x"], "allowed: a sweep number")):
        result = cli("sweep", "show", *args)
        assert result.code == 2 and message in result.err, result.err


def test_cancel_retry_and_priority_apply_to_a_whole_sweep(home, cli, engine_starts):
    ids = cli("sweep", "train", "--net", "1", "--lr", "0.01,0.1", "--seed", "0,1", *TINY, "--json").json()["ids"]
    other = cli("sweep", "train", "--net", "1,2", *TINY, "--json").json()["ids"]
    store = EngineStore(home)
    store.claim(ids[0], "cpu0", "cpu", None)

    result = cli("priority", "--sweep", "1", "-5")
    assert result.code == 0 and "sweep 1: 3 queued job(s) now at priority -5" in result.out
    assert [j.priority for j in store.jobs(ids=ids + other)] == [0, -5, -5, -5, 0, 0]

    assert cli("cancel", "--sweep", "1", "--json").json() == {str(ids[0]): "cancelling",
                                                               **{str(i): "cancelled" for i in ids[1:]}}
    assert [j.status for j in store.jobs(ids=other)] == ["queued", "queued"]
    store.finish(ids[0], "cancelled", reason="cancelled")
    seq = store.seq()
    again = cli("cancel", "--sweep", "1")
    assert again.code == 2 and "sweep 1 has no queued or running jobs; nothing to cancel" in again.err
    assert store.seq() == seq  # nothing changed

    result = cli("retry", "--sweep", "1")
    assert result.code == 0 and "sweep 1: 4 failed or cancelled job(s) queued again" in result.out
    assert all(j.status == "queued" for j in store.jobs(ids=ids))
    assert cli("priority", "--sweep", "2", "9", "--json").json() == {"ids": other, "priority": 9}

    store.submit([JobRequest("train", {"net": "1", "samples": 128})], study=("zoo", "zoo", {}))
    assert "study 'zoo': 1 queued job(s) cancelled" in cli("cancel", "--study", "zoo").out
    for args, message in ((["cancel", "3", "--sweep", "1"], "give job ids or --sweep, not both"),
                          (["cancel"], "no job id given"),
                          (["retry", "--sweep", "1"], "sweep 1 has no failed or cancelled jobs"),
                          (["cancel", "--sweep", "7"], "no sweep 7 in"),
                          (["cancel", "--study", "nope"], "no study named 'nope'"),
                          (["cancel", "--study", "zoo", "--sweep", "1"], "--study or --sweep, not both"),
                          (["priority", "--study", "zoo", "3"], "study 'zoo' has no queued jobs"),
                          (["priority", "--sweep", "1", "lots"], "priority 'lots' is not allowed"),
                          (["priority", "--sweep", "1", "2000"], "priority 2000 is out of range")):
        result = cli(*args)
        assert result.code == 2 and message in result.err, (args, result.err)


def test_numbered_groups_are_named_in_the_submit_transaction(home):
    store = Store(home)
    request = JobRequest("train", {"net": "1", "samples": 128})
    (first,) = store.submit([request], study=(None, "sweep", {}))
    store.submit([request], study=("sweep-5", "zoo", {}))  # a study that happens to look like a sweep's name
    (second,) = store.submit([request], study=(None, "sweep", {}))
    assert [j.study for j in store.jobs(ids=[first, second])] == ["sweep-1", "sweep-6"]


def test_a_real_sweep_runs_and_ranks_its_points(home, cli):
    """The whole path with real training: two learning rates, two seeds, tiny nets on 128 images."""
    result = cli("sweep", "train", "--net", "1", "--lr", "0.005,0.2", "--seed", "0,1", *TINY, "--batch-size", "32",
                 "--wait", "--json")
    assert result.code == 0, result.err
    shown = result.json()
    jobs = Store(home).jobs(study="sweep-1")
    assert shown["counts"] == {"done": 4} and len(shown["points"]) == 2
    for point in shown["points"]:
        runs = [j.result["test_accuracy"] for j in jobs if j.spec["lr"] == point["point"]["lr"]]
        assert point["n"] == 2 and point["mean"] == statistics.fmean(runs) and point["std"] == statistics.stdev(runs)
    assert shown["points"][0]["mean"] >= shown["points"][1]["mean"]
