"""Study 2 from the command line: planning, the table, bad input, the benchmark, and a real small study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.control import engine_pid
from jobs.kinds import validate
from runs.records import Job
from runs.store import Store
from runs.studies import augment as study
from tests.conftest import run_mnistlab


def test_the_study_plans_twenty_runs():
    requests = study.plan({})
    assert len(requests) == 20  # 2 nets x (baseline + T1-T9)
    specs = [validate(r.kind, r.spec) for r in requests]
    assert {(s["net"], s["transform"]) for s in specs} == {(n, t) for n in "AB" for t in study.TRANSFORMS}
    assert all(s["samples"] == 1000 and s["epochs"] == 100 and s["seed"] == 0 for s in specs)
    assert {s["lr"] for s in specs if s["net"] == "A"} == {0.01} and {s["lr"] for s in specs if s["net"] == "B"} == {1e-3}
    seeded = study.plan({"nets": "B", "transforms": "T8", "seeds": "0,1,2"}, {"epochs": 5})
    assert [(r.spec["transform"], r.spec["seed"], r.spec["epochs"]) for r in seeded] == [
        ("none", 0, 5), ("none", 1, 5), ("none", 2, 5), ("T8", 0, 5), ("T8", 1, 5), ("T8", 2, 5)]


def _job(id_: int, net: str, transform: str, seed: int, status: str = "done", acc: float | None = None) -> Job:
    spec = validate("augment", {"net": net, "transform": transform, "seed": seed})
    return Job(id=id_, kind="augment", spec=spec, status=status, priority=0, study="augment", label=None,
               placement={}, depends_on=[], data_dir=None, max_attempts=2, attempts=1, created_at=0.0,
               started_at=None, finished_at=None, slot=None, device=None, worker_pid=None, heartbeat_at=None,
               progress=0.0, progress_text=None, eta_s=None, cancel_requested=False, wait_reason=None,
               reason=None, result={"test_accuracy": acc} if acc is not None else None, headline=acc, repro={},
               seq=0)


def test_the_table_pairs_each_run_with_its_baselines_seed():
    jobs = [_job(1, "B", "none", 0, acc=0.90), _job(2, "B", "none", 1, acc=0.92),
            _job(3, "B", "T3", 0, acc=0.93), _job(4, "B", "T3", 1, acc=0.93),
            _job(5, "B", "T6", 0, acc=0.85), _job(6, "B", "T6", 1, status="running"),
            _job(7, "A", "none", 0, status="failed"), _job(8, "A", "T3", 0, acc=0.88),
            _job(9, "A", "T9", 0, status="queued")]
    view = study.summarize("augment", jobs)
    [grid] = view.grids
    assert grid.columns == ["net A", "net A Δ", "net B", "net B Δ"]
    rows = {label: [c.text for c in cells] for label, cells in grid.rows}
    assert rows["baseline"] == ["failed", "-", "91.0 ± 1.4", "-"]
    # T3 on B: accuracies 93, 93; paired changes +3 and +1 points -> +2.0 ± 1.4
    assert rows["T3 rotation"] == ["88.0", "failed", "93.0 ± 0.0", "+2.0 ± 1.4"]
    assert rows["T6 vertical flip"] == ["-", "-", "85.0 …", "-5.0 …"]
    assert rows["T9 MixUp"] == ["…", "failed", "-", "-"]
    # one sample grid per transform and seed from a job that has started
    assert [(i["job_id"], i["artifact"]) for i in view.images] == [(3, "samples"), (4, "samples"), (5, "samples"),
                                                                   (6, "samples")]
    assert "RandomVerticalFlip(p=0.5)" in view.images[2]["caption"]


BAD = [
    (["submit", "augment", "--transform", "T10"], ["transform", "'T10'", "none, T1, T2"]),
    (["submit", "augment", "--transform", "flip"], ["transform", "'flip'"]),
    (["submit", "augment", "--net", "C"], ["net", "'C'", "one of A, B"]),
    (["submit", "augment", "--net", "10.1"], ["net", "'10.1'", "one of A, B"]),
    (["submit", "augment", "--alpha", "0"], ["alpha", "greater than 0"]),
    (["submit", "augment", "--alpha", "-1"], ["alpha", "'-1'"]),
    (["submit", "augment", "--alpha", "nan"], ["alpha", "not a number"]),
    (["submit", "augment", "--samples", "60001"], ["samples", "60000"]),
    (["submit", "augment", "--samples", "100", "--batch-size", "128"], ["batch_size", "samples"]),
    (["submit", "augment", "--epochs", "0"], ["epochs", "1 to 1000"]),
    (["study", "augment", "--transforms", "T3,T0"], ["transforms", "T0"]),
    (["study", "augment", "--transforms", "T3,T3"], ["transforms", "repeats"]),
    (["study", "augment", "--nets", "B,C"], ["nets", "C"]),
    (["study", "augment", "--seeds", "-1"], ["seeds"]),
    (["study", "augment", "--alpha", "0"], ["alpha", "greater than 0"]),
    (["study", "augment", "--samples", "70000"], ["samples", "60000"]),
    (["bench", "augment", "--transforms", "T9"], ["--transforms", "'T9'", "T1"]),
]


@pytest.mark.parametrize("args,words", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_refused_with_one_line(home, cli, args, words):
    result = cli(*args)
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == "" and len(result.err.strip().splitlines()) == 1
    text = " ".join(result.err.split())
    for word in words:
        assert word in text, f"{word!r} missing from: {result.err}"
    assert Store(home).jobs() == [] and Store(home).studies() == []
    assert engine_pid(home) is None


def test_bench_measures_every_pipeline_side_by_side(home, cli, tmp_path):
    out = tmp_path / "bench.json"
    result = cli("bench", "augment", "--transforms", "T8,T1", "--images", "128", "--repeats", "1",
                 "--threads", "1", "--json", "--out", out)
    assert result.code == 0, result.err
    results = json.loads(out.read_text())
    assert results == result.json()
    assert set(results["transforms"]) == {"T8", "T1"} and results["torch_threads"] == 1
    for r in results["transforms"].values():
        assert set(r["median_images_per_s"]) == {"dataloader", "batched_b64", "batched_epoch", "kornia_b64",
                                                 "kornia_epoch"}
        assert all(v > 0 for v in r["median_images_per_s"].values())
        assert set(r["ratio_to_dataloader"]) == set(r["median_images_per_s"]) - {"dataloader"}


def test_a_small_study_for_net_b_runs_end_to_end(home):
    """`study augment` queues the group, the engine runs it, the table and the sample grids come back."""
    done = run_mnistlab("study", "augment", "--nets", "B", "--transforms", "T3,T9", "--samples", "256",
                        "--epochs", "2", "--wait", timeout=240)
    assert done.code == 0, done.err
    text = " ".join(done.out.split())
    for row in ("baseline", "T3 rotation", "T9 MixUp", "net B Δ", "256 images × 2 epochs"):
        assert row in text

    view = json.loads(run_mnistlab("study", "show", "augment", "--json").out)
    [grid] = view["grids"]
    cells = {row["label"]: row["cells"] for row in grid["rows"]}
    base = cells["baseline"][0]["mean"]
    for label in ("T3 rotation", "T9 MixUp"):
        accuracy, change = cells[label]
        assert accuracy["n"] == 1 and change["values"] == [pytest.approx(accuracy["mean"] - base)]
    store = Store(home)
    assert [i["caption"].split(" ")[0] for i in view["images"]] == ["T3", "T9"]
    for image in view["images"]:
        assert Path(store.artifact_path(image["job_id"], image["artifact"])).is_file()

    shown = run_mnistlab("show", str(view["images"][0]["job_id"]))
    assert shown.code == 0 and "samples: T3 (rotation): RandomAffine(degrees=(-20, 20))" in shown.out
    assert "▀" in shown.out or "█" in shown.out or "▒" in shown.out  # the grid, drawn in the terminal


def test_the_cli_stays_torch_free_with_the_augment_commands():
    import subprocess
    import sys

    code = ("import sys, tui.cli.main, tui.cli.app, runs.studies.augment, tui.cli.study_augment, tui.cli.bench_augment; "
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
