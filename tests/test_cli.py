"""The CLI as a person uses it: studies, ls, show, follow, compare, export."""

from __future__ import annotations

import csv
import io
import json

from tests.conftest import run_mnistlab


def test_zoo_study_queues_a_group_and_fills_its_table(home, cli):
    result = cli("study", "zoo", "--regime", "256", "--nets", "1,2", "--seeds", "0,1", "--epochs", "1",
                 "--wait", "--json")
    assert result.code == 0, result.err
    view = result.json()["study"]
    assert view["type"] == "zoo" and view["counts"] == {"done": 4}
    [grid] = view["grids"]
    assert grid["columns"] == ["256 × 1 ep"] and [r["label"] for r in grid["rows"]] == ["1", "2"]
    import statistics

    jobs = cli("ls", "--json", "--study", "zoo").json()
    for row in grid["rows"]:
        cell = row["cells"][0]
        accuracies = [j["result"]["test_accuracy"] for j in jobs if j["spec"]["net"] == row["label"]]
        assert cell["n"] == 2 and sorted(cell["values"]) == sorted(accuracies)
        assert cell["mean"] == statistics.fmean(accuracies) and cell["std"] == statistics.stdev(accuracies)
        assert cell["text"] == f"{cell['mean'] * 100:.1f} ± {cell['std'] * 100:.1f}"

    table = cli("study", "show", "zoo")
    assert table.code == 0 and "± " in table.out and "256 × 1 ep" in table.out
    md = cli("export", "--study", "zoo", "--format", "md")
    assert "| net | 256 × 1 ep |" in md.out
    listed = cli("study", "list", "--json").json()
    assert listed[0]["name"] == "zoo" and listed[0]["jobs"] == 4 and listed[0]["done"] == 4


def test_ls_show_compare_export_logs(home, cli, tmp_path):
    a = cli("submit", "train", "--net", "1", "--samples", "256", "--epochs", "2", "--wait", "--json").json()
    b = cli("submit", "train", "--net", "1", "--samples", "256", "--epochs", "2", "--lr", "0.05", "--wait",
            "--json").json()
    rows = cli("ls", "--json").json()
    assert [r["id"] for r in rows] == [a["id"], b["id"]] and all(r["status"] == "done" for r in rows)
    text = run_mnistlab("ls")
    assert text.code == 0 and "✓ done" in text.out and f"{a['result']['test_accuracy'] * 100:.2f}%" in text.out

    shown = cli("show", a["id"])
    assert "spec (defaults filled in)" in shown.out and "reproducibility record" in shown.out
    assert "confusion" in shown.out and "versions.torch" in shown.out

    compared = cli("compare", a["id"], b["id"], "--json").json()
    assert compared["spec_differs"] == {"lr": [0.01, 0.05]}
    assert compared["final"]["test_accuracy"] == [a["result"]["test_accuracy"], b["result"]["test_accuracy"]]
    assert "lr" in cli("compare", a["id"], b["id"]).out

    rows = list(csv.DictReader(io.StringIO(cli("export", a["id"], b["id"], "--format", "csv").out)))
    losses = [r for r in rows if r["job_id"] == str(a["id"]) and r["name"] == "train/loss"]
    assert len(losses) == 2 * 4 and {r["section"] for r in rows} == {"metric", "result", "table"}
    md = cli("export", a["id"], "--format", "md").out
    assert "### Per epoch" in md and "| epoch | train/loss_epoch | val/loss | val/accuracy |" in md
    out = tmp_path / "run.json"
    assert cli("export", a["id"], "--format", "json", "--out", out).code == 0
    assert json.loads(out.read_text())["metrics"]["val/accuracy"] == a["metrics"]["val/accuracy"]

    logs = cli("logs", a["id"], "--json").json()
    assert any("epoch 2/2" in line["message"] for line in logs)


def test_follow_streams_a_job_to_its_end(home, cli):
    job_id = cli("submit", "train", "--net", "1", "--samples", "512", "--epochs", "2", "--json").json()["ids"][0]
    result = run_mnistlab("follow", str(job_id), "--json", "--interval", "0.2")
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses[-1] == "done" and events[-1]["result"]["test_accuracy"] > 0.5
    assert sum(e["type"] == "metric" and e["name"] == "val/accuracy" for e in events) == 2
    plain = run_mnistlab("follow", str(job_id))
    assert plain.code == 0 and f"job {job_id}: done" in plain.out


def test_retry_resumes_a_cancelled_job(home, cli):
    from runs.store import Store
    from tests.conftest import wait_until

    job_id = cli("submit", "train", "--net", "10.1", "--samples", "8000", "--epochs", "4",
                 "--json").json()["ids"][0]
    store = Store(home)
    wait_until(lambda: store.artifact_path(job_id, "checkpoint"), 300, what="a checkpoint")
    assert cli("cancel", job_id).code == 0
    wait_until(lambda: store.job(job_id).status == "cancelled", 20, what="the cancel")
    assert cli("retry", job_id).code == 0
    done = wait_until(lambda: (j := store.job(job_id)).finished and j, 300, what="the retried job")
    assert done.status == "done" and done.result["resumed_from_epoch"] >= 1
    assert [s for s, _ in store.series(job_id, "val/accuracy")] == [1, 2, 3, 4]


def test_result_matrices_never_cut_numbers_and_turn_when_too_wide():
    from rich.console import Console

    from tui.cli.views import matrix_table

    classes = {"rows": "measure", "columns": "predicted digit", "labels": [str(d) for d in range(10)] + ["all"],
               "row_labels": ["generated", "share", "mean confidence", "confidence > 0.9"],
               "matrix": [[1000 + d for d in range(10)] + [10045], [0.1234] * 10 + [1.0],
                          [0.9876] * 10 + [0.9876], [0.8765] * 10 + [0.8765]]}

    def draw(payload, width):
        console = Console(width=width, record=True, color_system=None)
        console.print(matrix_table("classes", payload))
        return console.export_text()

    wide, narrow = draw(classes, 120), draw(classes, 80)
    assert "rows: measure, columns: predicted digit" in wide
    assert "rows: predicted digit, columns: measure" in narrow  # 11 value columns do not fit 80: turned
    assert max(map(len, narrow.splitlines())) <= 80
    for text in (wide, narrow):
        for number in ["1009", "10045", "0.1234", "0.9876", "0.8765", "confidence > 0.9", "all"]:
            assert number in text, (number, text)
    square = {"rows": "attacked", "columns": "evaluated", "labels": ["N1", "N2"], "matrix": [[0.9093, 0.5], [0.25, 1]]}
    assert " N1  0.9093  0.5" in draw(square, 30)  # fits: rows stay rows


def test_study_grids_never_cut_numbers_and_turn_when_too_wide():
    from rich.console import Console

    from runs.studies.table import Cell, Grid
    from tui.cli.views import grid_table

    columns = [str(d) for d in range(10)] + ["> 0.9", "all"]
    grid = Grid(title="confidence", row_label="map", columns=columns,
                rows=[(f"job {j}, N=10,000", [Cell([0.9 + j / 1000 + c / 10000]) for c in range(12)])
                      for j in (30, 32, 35)])

    def draw(width):
        console = Console(width=width, record=True, color_system=None)
        console.print(grid_table(grid))
        return console.export_text()

    wide, narrow = draw(120), draw(80)
    assert any(line.startswith(" job 35, N=10,000") for line in wide.splitlines())  # a map per row
    assert max(map(len, narrow.splitlines())) <= 80
    assert any(line.split()[:1] == ["all"] for line in narrow.splitlines())  # turned: a column per map
    shown = [f"{(0.9 + j / 1000 + c / 10000) * 100:.1f}" for j in (30, 32, 35) for c in range(12)]
    for text in (wide, narrow):
        assert all(value in text.split() for value in shown)


def test_ls_shows_each_kinds_main_number_whole_at_80_columns(tmp_path):
    from rich.console import Console

    from runs.engine_store import EngineStore
    from runs.records import JobRequest
    from tests.tui_store import finished_train
    from tui.cli.views import jobs_table

    store = EngineStore(tmp_path)
    finished_train(store, {"net": "10.1", "samples": 1000, "seed": 0}, accuracy=0.9712)
    (gan_id,) = store.submit([JobRequest("gan", {"arch": "dcgan", "samples": 60000, "epochs": 10, "seed": 0})])
    store.claim(gan_id, "cpu0", "cpu", None)
    store.finish(gan_id, "done", result={"d_fake": 0.35294}, headline=0.35294)
    console = Console(width=80, record=True, color_system=None)
    console.print(jobs_table(store.jobs(), width=80))
    lines = console.export_text().splitlines()
    assert max(map(len, lines)) <= 80
    assert lines[0].split()[-1] == "result"
    train_row, gan_row = (next(line for line in lines if f" {kind} " in line) for kind in ("train", "gan"))
    assert train_row.endswith("97.12%") and "…" in train_row  # the spec gives way, not the number
    assert gan_row.endswith("0.353")  # D(G(z)) is a probability, not a share: no percent sign


def test_the_dashboard_starts_without_loading_every_command():
    """`mnistlab [--home H] [--data D] tui` goes straight to the dashboard; anything else is a command line."""
    import subprocess
    import sys

    from tui.cli.main import dashboard_only

    assert dashboard_only(["tui"]) == {}
    assert dashboard_only(["--home", "/x", "--data=/d", "tui"]) == {"--home": "/x", "--data": "/d"}
    for other in (["tui", "--help"], ["ls"], ["--home", "tui"], ["--home=", "tui"], [], ["--verbose", "tui"]):
        assert dashboard_only(other) is None, other
    code = "import sys, tui.cli.main, tui.app; sys.exit(1 if {'typer', 'tui.cli.app'} & set(sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
