"""`mnistlab ls` reads what it shows: running jobs, the next queued, the newest finished, each capped,
with counts of the rest; every read goes through an index; --all streams."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import pytest

from runs.engine_store import EngineStore
from runs.records import FINISHED, JobRequest
from runs.schema import MIGRATIONS
from runs.store import Store

FINISHED_RUNS, QUEUED, LIMIT = 1200, 300, 20


def fill_lab(home) -> None:
    """Finished runs (some failed, some cancelled), a few running, a queue with priorities, a second kind
    and a study, written through the store's API as the engine would leave them."""
    store = EngineStore(home)
    ids = store.submit([JobRequest("train", {"net": "1", "samples": 1000 + i, "seed": i % 3})
                        for i in range(FINISHED_RUNS)])
    gans = store.submit([JobRequest("gan", {"arch": "mlp", "samples": 1000, "epochs": 1, "seed": i}) for i in range(30)])
    now = time.time()
    with store.write() as c:
        seq = store.bump(c)
        c.executemany("UPDATE jobs SET status=?, started_at=?, finished_at=?, headline=?, result=?, seq=? WHERE id=?",
                      [("failed" if i % 10 == 0 else "cancelled" if i % 25 == 0 else "done", now - 60, now - 30,
                        0.9, json.dumps({"test_accuracy": 0.9}), seq, job_id) for i, job_id in enumerate(ids + gans)])
    zoo = store.submit([JobRequest("train", {"net": "2", "samples": 500, "seed": i}) for i in range(40)],
                       study=("zoo", "zoo", {}))
    for job_id in zoo[:25]:
        store.claim(job_id, "cpu0", "cpu", None)
        store.finish(job_id, "done", result={"test_accuracy": 0.95}, headline=0.95)
    store.submit([JobRequest("train", {"net": "1", "samples": 100, "epochs": 1, "seed": i}, priority=i % 3)
                  for i in range(QUEUED)])
    store.submit([JobRequest("gan", {"arch": "mlp", "samples": 1000, "epochs": 1, "seed": i}, priority=5)
                  for i in range(5)])
    for job in store.queued()[:3]:
        store.claim(job.id, f"cpu{job.id}", "cpu", None)
    store.close()


@pytest.fixture(scope="module")
def lab_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("lab") / "home"
    fill_lab(home)
    return home


@pytest.fixture
def lab(lab_home, monkeypatch, mnist_dir):
    monkeypatch.setenv("MNISTLAB_HOME", str(lab_home))
    monkeypatch.setenv("MNISTLAB_DATA", str(mnist_dir))
    return lab_home


def expected(home, statuses=None, kinds=None, study=None, limit=LIMIT) -> list[int]:
    """What ls should show, from a full read of the store: newest finished (oldest of them first), running,
    then the queue in the engine's order."""
    store = EngineStore(home)
    every = [j for j in store.jobs(kind=kinds, study=study) if statuses is None or j.status in statuses]
    finished = sorted((j.id for j in every if j.status in FINISHED), reverse=True)[:limit][::-1]
    running = [j.id for j in every if j.status == "running"][:limit]
    wanted = {j.id for j in every}
    queue = [j.id for j in store.queued() if j.id in wanted][:limit]
    return finished + running + queue


def test_ls_shows_running_next_queued_and_newest_finished_each_capped(lab, cli):
    shown = [row["id"] for row in cli("ls", "--json").json()]
    assert shown == expected(lab) and len(shown) == LIMIT + 3 + LIMIT
    counts = EngineStore(lab).count_by_status()
    text = cli("ls").out
    assert f"and {counts['queued'] - LIMIT:,} more queued (ls --all, or --limit N)" in text
    finished = sum(counts[s] for s in FINISHED)
    assert f"and {finished - LIMIT:,} older finished (ls --all, or --limit N)" in text
    assert "more running" not in text  # all 3 are shown


@pytest.mark.parametrize("args, statuses, kinds, study", [
    (["--status", "done"], ["done"], None, None),
    (["--status", "failed,cancelled"], ["failed", "cancelled"], None, None),
    (["--kind", "gan"], None, ["gan"], None),
    (["--status", "queued", "--kind", "train"], ["queued"], ["train"], None),
    (["--study", "zoo"], None, None, "zoo"),
])
def test_limit_applies_with_every_filter(lab, cli, args, statuses, kinds, study):
    rows = cli("ls", *args, "--limit", "7", "--json").json()
    assert [r["id"] for r in rows] == expected(lab, statuses, kinds, study, limit=7)
    assert all((statuses is None or r["status"] in statuses) and (kinds is None or r["kind"] in kinds)
               and (study is None or r["study"] == study) for r in rows)


def test_ls_status_done_limit_prints_only_the_newest(lab, cli):
    result = cli("ls", "--status", "done", "--limit", "5")
    table = [line for line in result.out.splitlines() if line.strip()[:1].isdigit()]
    newest = expected(lab, ["done"], limit=5)
    assert [int(line.split()[0]) for line in table] == newest
    done = EngineStore(lab).count_by_status(["done"])["done"]
    assert f"and {done - 5:,} older finished" in result.out


def test_all_streams_every_matching_job_in_pages(lab, cli):
    done = [j.id for j in Store(lab).jobs(status=["done"])]
    assert len(done) > 500  # more than one page
    assert [r["id"] for r in cli("ls", "--all", "--status", "done", "--json").json()] == done
    text = cli("ls", "--all", "--status", "done").out.splitlines()
    assert sum(line.split()[:1] == ["id"] for line in text) == 1  # one header for every page
    rows = [int(line.split()[0]) for line in text if line.strip()[:1].isdigit()]
    assert rows == done and "more" not in text[-1]


def test_every_read_of_ls_goes_through_an_index(lab, cli, monkeypatch):
    """EXPLAIN QUERY PLAN of each statement ls runs on the jobs table: an index range (SEARCH), never a
    scan of the table or of a whole index, never a sort of what it found."""
    import runs.store

    statements: list[str] = []
    real_connect = runs.store.connect

    def traced(path):
        conn = real_connect(path)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(runs.store, "connect", traced)
    for args in ([], ["--status", "done", "--limit", "5"], ["--kind", "gan,train"], ["--study", "zoo"],
                 ["--status", "queued", "--kind", "gan", "--study", "zoo"], ["--all", "--status", "failed"]):
        statements.clear()
        assert cli("ls", *args).code == 0
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and " jobs " in f"{s} "]
        assert reads, args
        db = sqlite3.connect(lab / "mnistlab.db")
        for sql in reads:
            plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
            assert all(step.startswith("SEARCH") for step in plan), (args, sql, plan)
            assert not any("TEMP B-TREE" in step for step in plan), (args, sql, plan)
            # the range itself holds only matching rows: it is keyed by every filter (within a named
            # group, whose size bounds the read, a kind may be checked row by row)
            keys = [c for c in ("status", "kind", "study") if re.search(rf"\b{c} = ", sql)]
            if "study" in keys:
                keys.remove("kind") if "kind" in keys else None
            assert all(f"{c}=?" in plan[0] for c in keys), (args, sql, plan)
        db.close()


def test_bad_filters_are_refused(lab, cli):
    for args, message in ((["--sweep", "4"], "no sweep 4"), (["--study", "nope"], "no study named 'nope'"),
                          (["--status", "finished"], "allowed: queued, running, done, failed, cancelled"),
                          (["--study", "zoo", "--sweep", "1"], "--study or --sweep, not both"),
                          (["--sweep", "zoo"], "allowed: a sweep number such as 3"),
                          (["--kind", "trian"], "--kind 'trian' is not a job kind; allowed: train"),
                          (["--limit", "0"], "--limit")):
        result = cli("ls", *args)
        assert result.code == 2 and message in result.err, (args, result.err)
    assert "no jobs match these filters" in cli("ls", "--kind", "fgsm").out
    assert "no jobs match these filters" in cli("ls", "--kind", "fgsm", "--all").out


def test_a_store_of_schema_v1_gains_the_indexes(tmp_path):
    """A store written before the windowed reads upgrades in place when opened, keeping its jobs."""
    home = tmp_path / "home"
    home.mkdir()
    db = sqlite3.connect(home / "mnistlab.db")
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO jobs (kind, spec, status, created_at) VALUES ('train', '{}', 'done', 0)")
    db.execute("PRAGMA application_id = 1296976962")  # runs.db.APPLICATION_ID
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = Store(home)
    assert store.query("PRAGMA user_version")[0][0] == len(MIGRATIONS)
    indexes = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"jobs_by_status_id", "jobs_by_study_queue"} <= indexes and "jobs_by_study" not in indexes
    assert [j.id for j in store.window(["done"], "newest")] == [1]
