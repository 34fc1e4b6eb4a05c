"""The dashboard reads what it shows (issue 15): windows through the indexes, counts from the database, and
looks that read only the rows that changed. Asserted through counted store reads, never through timing."""

from __future__ import annotations

import pytest

from runs.engine_store import EngineStore
from runs.records import JobRequest
from tests.store_reads import counted
from tests.tui_store import add_bulk
from tui import job_window
from tui.jobquery import Query
from tui.live import Live

FINISHED, QUEUED = 12_000, 3_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    home = tmp_path_factory.mktemp("big") / "home"
    store = EngineStore(home)
    add_bulk(store, FINISHED)
    queued = store.submit([JobRequest("train", {"net": "1", "seed": i}, priority=i % 3) for i in range(QUEUED)])
    (running,) = store.submit([JobRequest("train", {"net": "2"})])
    store.claim(running, "cpu0", "cpu", None)
    return home, queued, running


def test_the_queue_window_is_running_then_the_engines_order_then_the_newest(big):
    home, queued, running = big
    store = EngineStore(home)
    rows = counted(store)
    window = job_window.read(store, Query.parse(""), "queue")
    ids = [j.id for j in window.jobs]
    assert ids[0] == running
    top = sorted(queued, key=lambda i: (-(queued.index(i) % 3), i))  # priority 2 first, then FIFO
    assert ids[1:1 + len(top)][:50] == top[:50]
    assert len(ids) == job_window.WINDOW and window.matching == FINISHED + QUEUED + 1
    assert sum(n for _, n in rows) <= job_window.WINDOW + 2 + 2 * 5, rows  # the window, and the counts


def test_a_spec_filter_reaches_the_oldest_runs_reading_pages_not_the_table(big, monkeypatch):
    home, _, _ = big
    store = EngineStore(home)
    rows = counted(store)
    # add_bulk gives run i the spec net=nets[i % 7], samples=1000+i: one run matches samples=1003
    window = job_window.read(store, Query.parse("status:done samples=1003"), "newest")
    assert [j.spec["samples"] for j in window.jobs] == [1003] and window.matching == 1
    assert window.searched is None  # it looked through all 12,000 finished runs, a page at a time
    assert sum(n for _, n in rows) < 50, rows  # SQLite matched the spec first: rows read are (near) matches
    # past SCAN rows it stops and says how far it looked
    monkeypatch.setattr(job_window, "SCAN", 5000)
    window = job_window.read(store, Query.parse("no-such-word"), "newest")
    assert window.jobs == [] and window.searched == 5000


def test_a_look_reads_only_what_changed_and_counts_come_from_the_index(big):
    home, queued, running = big
    store = EngineStore(home)
    live = Live(store)
    rows = counted(store)
    live.poll(force=True)
    assert live.jobs == {} and sum(n for _, n in rows) < 10  # the first look reads no job rows
    counts = live.counts()
    assert counts == {"done": FINISHED, "queued": QUEUED, "running": 1}
    live.remember(store.jobs(ids=[running]))
    rows.clear()
    store.apply_events([(running, "progress", {"fraction": 0.5, "text": "epoch 1/2"})])
    changes = live.poll(force=True)
    assert changes.jobs == {running} and not changes.moved  # progress: the row repaints, the lists stay
    assert live.jobs[running].progress == 0.5
    assert sum(n for _, n in rows) <= 4, rows  # data_version, the counter, the changed id, its row
    store.cancel(queued[0])
    changes = live.poll(force=True)
    assert changes.moved and live.counts()["cancelled"] == 1  # a status changed: lists and counts again
