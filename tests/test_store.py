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


# -- damaged and lost stores: one line, exit 2, not a byte changed ---------------------------------

def _refused_unchanged(cli, home, args, words, files=("mnistlab.db",)):
    before = {name: (home / name).read_bytes() for name in files}
    result = cli(*args)
    assert result.code == 2 and result.out == "", result
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    text = " ".join(result.err.split())
    assert all(word in text for word in words), result.err
    assert {name: (home / name).read_bytes() for name in files} == before
    wal = home / "mnistlab.db-wal"
    if wal.name not in files:  # no frame was written for SQLite to carry into the store later
        assert (wal.stat().st_size if wal.exists() else 0) == 0


@pytest.mark.parametrize("empty", [True, False], ids=["0-byte store", "missing store"])
def test_a_lost_store_beside_its_runs_is_refused_with_how_to_recover(home, cli, empty):
    (home / "runs" / "1").mkdir(parents=True)
    (home / "runs" / "1" / "weights.pt").write_bytes(b"old run")
    db = home / "mnistlab.db"
    if empty:
        db.touch()
    result = cli("ls")
    assert result.code == 2 and result.err.count("\n") == 1, result
    text = " ".join(result.err.split())
    assert ("is empty (0 bytes)" if empty else "is missing") in text
    assert f"{home / 'runs'} holds 1 run folder(s)" in text and "Restore mnistlab.db from a backup" in text
    if empty:
        assert db.stat().st_size == 0
    else:
        assert not db.exists()  # not created by the refusal
    assert (home / "runs" / "1" / "weights.pt").read_bytes() == b"old run"


def test_an_empty_store_file_without_runs_is_a_new_store(home):
    home.mkdir()
    (home / "mnistlab.db").touch()
    (home / "runs").mkdir()  # made but never used
    assert Store(home).jobs() == []


def _store_with_frames_in_its_wal(home, copy_to):
    """A store whose last jobs live only in its write-ahead log, copied while its writer is open."""
    store = Store(home)
    store.submit([JobRequest("train", {"net": "1"}), JobRequest("train", {"net": "2"})])
    assert (home / "mnistlab.db-wal").stat().st_size > 32
    copy_to.mkdir()
    for name in ("mnistlab.db", "mnistlab.db-wal"):
        (copy_to / name).write_bytes((home / name).read_bytes())
    return store


def test_a_valid_wal_is_read_and_a_garbled_one_is_refused(home, cli, tmp_path, monkeypatch):
    live = _store_with_frames_in_its_wal(home, tmp_path / "copy")
    assert [j["id"] for j in cli("ls", "--json").json()] == [1, 2]  # the writer's own WAL, open, in use
    monkeypatch.setenv("MNISTLAB_HOME", str(tmp_path / "copy"))
    assert [j["id"] for j in cli("ls", "--json").json()] == [1, 2]  # the jobs are only in the WAL
    live.close()

    garbled = tmp_path / "garbled"
    _store_with_frames_in_its_wal(tmp_path / "home2", garbled)
    wal = garbled / "mnistlab.db-wal"
    wal.write_bytes(b"\xa5" * 32 + wal.read_bytes()[32:])
    monkeypatch.setenv("MNISTLAB_HOME", str(garbled))
    _refused_unchanged(cli, garbled, ["ls"], [f"{wal} (the store's log of recent changes) is damaged",
                                             "silently dropped", "move mnistlab.db-wal away"],
                       files=("mnistlab.db", "mnistlab.db-wal"))
    _refused_unchanged(cli, garbled, ["cancel", "1"], ["is damaged"], files=("mnistlab.db", "mnistlab.db-wal"))


@pytest.fixture(scope="module")
def populated_store(tmp_path_factory) -> tuple[bytes, dict[str, int]]:
    """The bytes of a checkpointed store with 30 jobs and their metrics, and each table's root page."""
    home = tmp_path_factory.mktemp("populated")
    store = Store(home)
    ids = store.submit([JobRequest("train", {"net": "1"}) for _ in range(30)])
    with store.write() as c:
        for job_id in ids:
            c.executemany("INSERT INTO metrics (job_id, name, step, value) VALUES (?, ?, ?, ?)",
                          [(job_id, "train/loss", step, 0.5) for step in range(300)])
    roots = {r[0]: r[1] for r in store.query("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0")}
    store.close()
    return (home / "mnistlab.db").read_bytes(), roots


PAGE = 4096


def _garble(data: bytes, start: int, length: int) -> bytes:
    return data[:start] + b"\xa5" * length + data[start + length:]


# Each is a traceback-free refusal; the first three were tracebacks (DatabaseError from a query:
# opening a store reads only its header and schema).
GARBLED = {
    "a table's page": (lambda d, r: _garble(d, (r["jobs"] - 1) * PAGE, PAGE), ["ls"]),
    "an index's page": (lambda d, r: _garble(d, (r["jobs_by_status"] - 1) * PAGE, PAGE), ["cancel", "2"]),
    "a page a query reaches": (lambda d, r: _garble(d, (r["metrics"] - 1) * PAGE, PAGE), ["show", "1"]),
    "the header's fields": (lambda d, r: _garble(d, 16, 84), ["ls"]),
    "the schema page": (lambda d, r: _garble(d, 100, PAGE - 100), ["ls"]),
    "a truncated file": (lambda d, r: d[:len(d) // 2], ["show", "30"]),
}


@pytest.mark.parametrize("case", GARBLED)
def test_a_garbled_store_is_refused_in_one_line_and_left_as_it_was(home, cli, populated_store, case):
    data, roots = populated_store
    garble, args = GARBLED[case]
    home.mkdir()
    (home / "mnistlab.db").write_bytes(garble(data, roots))
    _refused_unchanged(cli, home, args, [f"{home / 'mnistlab.db'} is ", "database disk image is malformed"
                                         if case.startswith("a ") else "mnistlab.db"])


def test_opening_an_up_to_date_store_changes_no_byte(home, cli, populated_store):
    home.mkdir()
    (home / "mnistlab.db").write_bytes(populated_store[0])
    assert cli("ls").code == 0 and cli("show", "3").code == 0
    Store(home).jobs()
    assert (home / "mnistlab.db").read_bytes() == populated_store[0]
