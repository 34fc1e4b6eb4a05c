"""Study 4 through the real engine: the attack waits for its six nets, fails with a failed net's
reason, and its matrices reach `study show` and `export`; `submit fgsm` refuses bad runs."""

from __future__ import annotations

import re

import pytest

from engine import control
from engine.control import engine_pid
from jobs.schema import SpecError
from jobs.kinds import validate
from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.store import Store
from runs.studies import fgsm as study
from tests.conftest import wait_done, wait_until

NAMES = ["N1", "N11", "N2", "N22", "N3", "N33"]
TINY = ["--samples", "256", "--epochs", "1", "--test-images", "200", "--eps", "0.3,1", "--tsne-eps", ""]


def test_the_attack_waits_for_its_six_nets_then_fills_the_matrices(home, cli):
    queued = cli("study", "fgsm", *TINY, "--json")
    assert queued.code == 0, queued.err
    ids = queued.json()["ids"]
    store = Store(home)
    train, attack = ids[:6], ids[6]
    assert [store.job(i).spec["net"] for i in train] == ["N1", "N1", "N2", "N2", "N3", "N3"]
    assert [store.job(i).spec["seed"] for i in train] == [0, 1, 0, 1, 0, 1]
    assert store.job(attack).depends_on == train

    reason = wait_until(lambda: store.job(attack).wait_reason, 60, what="the attack's wait reason")
    assert reason.startswith("waiting for job") and str(train[-1]) in reason
    shown = cli("study", "show", "fgsm")
    assert "waiting for job" in " ".join(shown.out.split()) and "…" in shown.out

    done = wait_done(home, attack)
    assert done.status == "done", done.reason
    result = done.result
    assert result["runs"] == train  # the relative references named exactly this study's nets
    assert result["names"] == NAMES and result["nets"] == ["N1", "N1", "N2", "N2", "N3", "N3"]
    assert result["seeds"] == [0, 1, 0, 1, 0, 1]
    assert all(0 < result["clean_accuracy"][name] <= 1 for name in NAMES)

    view = cli("study", "show", "fgsm", "--json").json()
    titles = [g["title"] for g in view["grids"]]
    assert titles == ["clean accuracy (200 MNIST test images)",
                      "FGSM eps 0.3 on MNIST: rows attacked, columns evaluated",
                      "FGSM eps 1 on MNIST: rows attacked, columns evaluated"]
    for grid, eps in zip(view["grids"][1:], ("0.3", "1")):
        assert grid["columns"] == NAMES and [r["label"] for r in grid["rows"]] == NAMES
        assert grid["diagonal"] is True and grid["color_scale"] == [0.0, 1.0]
        assert [[c["mean"] for c in r["cells"]] for r in grid["rows"]] == result["matrices"][eps]
    text = " ".join(cli("study", "show", "fgsm").out.split())
    assert "FGSM eps 0.3" in text and "normalized scale; clamping to the valid pixel range on" in text

    md = cli("export", str(attack), "--format", "md").out
    assert "### eps=0.3 (rows: attacked net, columns: evaluated net)" in md
    assert "|  | N1 | N11 | N2 | N22 | N3 | N33 |" in md and "### clean accuracy" in md
    study_md = cli("export", "--study", "fgsm", "--format", "md").out
    assert "**FGSM eps 1 on MNIST: rows attacked, columns evaluated** (%)" in study_md
    assert re.search(r"\| N33 \|( [\d.]+ \|){6}", study_md)

    # Any finished classifier runs, by id, with the flags of the issue.
    other = cli("submit", "fgsm", "--nets", f"{train[4]},{train[0]}", "--eps", "0.5", "--scale", "pixel",
                "--no-clamp", "--tsne-eps", "", "--test-images", "200", "--wait", "--json")
    assert other.code == 0, other.err
    record = other.json()
    assert record["result"]["names"] == ["N3", "N1"] and record["spec"]["clamp"] is False
    assert record["result"]["scale"] == "pixel" and record["tables"]["eps=0.5"]["clamp"] is False

    # Bad runs: one clear line, exit 2, nothing queued.
    control.stop(home)
    [waiting] = store.submit([JobRequest("train", {"net": "1", "samples": 64, "epochs": 1})])
    [running] = store.submit([JobRequest("train", {"net": "1", "samples": 64, "epochs": 1})])
    EngineStore(home).claim(running, "cpu0", "cpu", None)  # what the engine does when a job starts
    before = len(store.jobs())
    for nets, words in [(f"{train[0]},999", ["'nets'", "999 is not a job in this store"]),
                        (f"{train[0]},{attack}", [f"{attack} is a fgsm job, not a train run"]),
                        (f"{train[0]},{waiting}", [f"{waiting} is still queued"]),
                        (f"{train[0]},{running}", [f"{running} is still running"]),
                        (f"{train[0]},-1", ["-1 is not a run id"]),
                        (f"{train[0]}", ["has 1 values"]),
                        (f"{train[0]},{train[0]}", ["repeats a value"]),
                        ("a,b", ["'nets'", "not a whole number"])]:
        refused = cli("submit", "fgsm", "--nets", nets)
        assert refused.code == 2 and refused.out == "", (nets, refused)
        message = " ".join(refused.err.split())
        assert len(refused.err.strip().splitlines()) <= 2  # one line (wrapped at most once by the terminal)
        for word in words:
            assert word in message, (nets, message)
    for args, words in [(["--eps", "-0.1"], ["'eps'", "out of range"]), (["--eps", "big"], ["not a number"]),
                        (["--scale", "log"], ["'scale'", "normalized, pixel"])]:
        refused = cli("submit", "fgsm", "--nets", f"{train[0]},{train[1]}", *args)
        assert refused.code == 2 and all(w in " ".join(refused.err.split()) for w in words), refused
    assert len(store.jobs()) == before and engine_pid(home) is None


def test_a_failed_net_fails_the_attack_with_its_reason(home, cli, tmp_path):
    requests = study.plan({"samples": 256, "epochs": 1, "test_images": 200, "eps": "0.3", "tsne_eps": ""})
    for r in requests[:6]:
        r.data_dir = str(tmp_path / "no-mnist-here")  # every train job fails at once: no data
    ids = Store(home).submit(requests, study=("broken", "fgsm", {}))
    control.start(home)
    failed = wait_done(home, ids[6], 120)
    assert failed.status == "failed"
    match = re.match(r"dependency job (\d+) was failed: (.*)", failed.reason)
    assert match, failed.reason
    dep = Store(home).job(int(match.group(1)))
    assert dep.id in ids[:6] and dep.status == "failed" and match.group(2) == dep.reason
    assert "no-mnist-here" in dep.reason
    view = cli("study", "show", "broken", "--json").json()
    assert view["grids"][1]["rows"][0]["cells"][0]["text"] == "failed"
    assert any(n.startswith(f"attack job {ids[6]} failed: dependency job") for n in view["notes"])


def test_fgsm_spec_rules():
    for raw, words in [({"nets": "1,2", "names": "a,b,c"}, ["names", "one name per net"]),
                       ({"nets": "1,2", "names": "a,a"}, ["names", "repeats"]),
                       ({"nets": "1,2", "eps": "0.2,0.2"}, ["eps", "repeats"]),
                       ({"nets": "1,2", "test_images": 500, "tsne_points": 600}, ["tsne_points", "test_images"]),
                       ({}, ["nets", "missing"]),
                       ({"nets": "1,2", "eps": "11"}, ["eps", "out of range"])]:
        with pytest.raises(SpecError) as caught:
            validate("fgsm", raw)
        assert all(w in str(caught.value) for w in words), str(caught.value)
    assert validate("fgsm", {"nets": "1,2", "tsne_eps": ""})["tsne_eps"] == []
    plan = study.plan({})
    assert [r.kind for r in plan] == ["train"] * 6 + ["fgsm"]
    assert all(r.spec["samples"] == 60000 for r in plan[:6]) and plan[6].after == list(range(6))
    assert plan[6].spec["nets"] == [-6, -5, -4, -3, -2, -1] and plan[6].spec["names"] == NAMES
