"""The store: WAL, refusing files that are not ours, atomic submits, job transitions."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from jobs.schema import SpecError
from runs.db import StoreError
from runs.records import InputError, JobRequest
from runs.store import Store


def test_new_store_is_wal_and_versioned(home):
    store = Store(home)
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.query("PRAGMA user_version")[0][0] >= 1
    assert store.jobs() == []


def _open_store_after(barrier, home) -> None:
    barrier.wait()
    try:
        Store(home).seq()
    except StoreError as exc:
        raise SystemExit(str(exc))  # a non-zero exit code, with the message on stderr


def test_processes_opening_a_new_store_together_all_get_it(tmp_path):
    # The engine starting while a submit opens the same new store: both must succeed.
    ctx = multiprocessing.get_context("fork")
    for attempt in range(10):
        home = tmp_path / str(attempt)
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_open_store_after, args=(barrier, home)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0


@pytest.mark.parametrize("content", [b"hello, this is my thesis\n" * 100, b"\x00\x01garbage" * 50])
def test_foreign_file_is_refused_and_left_alone(home, cli, content):
    home.mkdir(parents=True)
    db = home / "mnistlab.db"
    db.write_bytes(content)
    with pytest.raises(StoreError, match="not an mnistlab store"):
        Store(home).jobs()
    result = cli("ls")
    assert result.code == 2 and "refuses to touch it" in result.err
    assert db.read_bytes() == content


def test_a_data_folder_that_cannot_be_made_is_named(tmp_path, monkeypatch, cli):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv("MNISTLAB_HOME", str(blocker / "home"))
    result = cli("ls")
    assert result.code == 2
    assert f"cannot use the data folder {blocker / 'home'}" in result.err and "MNISTLAB_HOME" in result.err
    assert blocker.read_text() == "not a folder\n"


def test_sqlite_file_of_another_program_is_refused(home, cli):
    home.mkdir(parents=True)
    db = home / "mnistlab.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    result = cli("submit", "train", "--net", "1")
    assert result.code == 2 and "another program" in result.err
    assert db.read_bytes() == before


def test_truncated_store_is_refused(home, cli):
    store = Store(home)
    store.submit([JobRequest("train", {"net": "1"})])
    store.close()
    db = home / "mnistlab.db"
    for suffix in ("-wal", "-shm"):
        (home / f"mnistlab.db{suffix}").unlink(missing_ok=True)
    data = db.read_bytes()
    db.write_bytes(data[:100] + b"\xff" * 200 + data[300:1024])
    result = cli("ls")
    assert result.code == 2 and "mnistlab.db" in result.err


def test_store_from_newer_mnistlab_is_refused(home):
    Store(home).jobs()
    conn = sqlite3.connect(home / "mnistlab.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer mnistlab"):
        Store(home).jobs()


def test_submit_is_all_or_nothing(home):
    store = Store(home)
    with pytest.raises(SpecError):
        store.submit([JobRequest("train", {"net": "1"}), JobRequest("train", {"net": "nope"})])
    assert store.jobs() == []
    ids = store.submit([JobRequest("train", {"net": "1"}), JobRequest("train", {"net": "2"}, after=[0])])
    jobs = store.jobs()
    assert [j.id for j in jobs] == ids and jobs[1].depends_on == [ids[0]]
    assert jobs[0].spec["epochs"] == 10 and jobs[0].spec["lr"] == 0.01  # defaults filled in


def test_cancel_retry_priority_transitions(home):
    store = Store(home)
    [a, b] = store.submit([JobRequest("train", {"net": "1"}), JobRequest("train", {"net": "2"})])
    seq = store.seq()
    assert store.cancel(a) == "cancelled"
    assert store.seq() > seq
    job = store.job(a)
    assert job.status == "cancelled" and job.reason == "cancelled before it started"
    with pytest.raises(InputError, match="already cancelled"):
        store.cancel(a)
    with pytest.raises(InputError, match="only failed or cancelled"):
        store.retry(b)
    store.retry(a)
    assert store.job(a).status == "queued"
    store.set_priority(b, 10)
    assert store.job(b).priority == 10
    with pytest.raises(InputError, match="out of range"):
        store.set_priority(b, 10**6)
    with pytest.raises(InputError, match="no job 99"):
        store.job(99)


def test_incremental_reads_by_seq(home):
    store = Store(home)
    [a] = store.submit([JobRequest("train", {"net": "1"})])
    seq = store.seq()
    assert store.jobs(since_seq=seq) == []
    [b] = store.submit([JobRequest("train", {"net": "2"})])
    assert [j.id for j in store.jobs(since_seq=seq)] == [b]
