"""The Ray backend's options where Ray is not needed: refusals, what `engine status` shows of a cluster,
and that nothing imports Ray unless it is asked for."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys

import pytest
from rich.console import Console

from engine.control import engine_pid
from runs.records import InputError, JobRequest
from runs.store import Store
from tests.conftest import REPO

NEEDS_RAY = "the Ray backend needs `pip install 'mnistlab[ray]'`"


@pytest.fixture
def without_ray(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # importlib finds no Ray, as where it is not installed


def test_ray_without_ray_installed_is_one_line_and_exit_2(home, cli, without_ray, monkeypatch, caplog):
    result = cli("engine", "start", "--ray", "local")
    assert result.code == 2 and result.out == ""
    assert " ".join(result.err.split()) == f"error: {NEEDS_RAY}"
    monkeypatch.setenv("MNISTLAB_RAY", "10.0.0.5:6379")
    assert cli("engine", "start").err.strip() == f"error: {NEEDS_RAY}"
    assert engine_pid(home) is None and not (home / "mnistlab.db").exists()

    from engine.__main__ import main  # the engine itself, as `engine start` or a submit would spawn it

    with caplog.at_level(logging.ERROR):
        assert main(["--home", str(home), "--ray", "auto"]) == 2
    assert caplog.messages == [NEEDS_RAY]


@pytest.mark.parametrize("value", ["not an address", "10.0.0.5:6379:1", "http://head:6379"])
def test_a_ray_address_that_is_none_is_refused(home, cli, value, monkeypatch):
    result = cli("engine", "start", "--ray", value)
    assert result.code == 2 and "allowed: auto" in result.err and "HOST:PORT" in " ".join(result.err.split())
    monkeypatch.setenv("MNISTLAB_RAY", value)
    assert cli("engine", "start").code == 2
    assert engine_pid(home) is None


def test_which_ray_the_option_or_the_environment_names(monkeypatch):
    from engine.ray_config import check, chosen

    monkeypatch.setenv("MNISTLAB_RAY", " ")
    assert chosen(None) is None  # an empty MNISTLAB_RAY: local worker processes
    monkeypatch.setenv("MNISTLAB_RAY", "auto")
    assert chosen(None) == "auto" and chosen("local") == "local"  # the option wins
    assert [check(v) for v in ("head:6379", "10.0.0.5:6379", "ray://head:10001", "[::1]:6379")] == \
        ["head:6379", "10.0.0.5:6379", "ray://head:10001", "[::1]:6379"]


def test_a_node_label_must_be_a_label():
    with pytest.raises(InputError, match="node label 'a b' is not allowed"):
        JobRequest("train", {}, node="a b").check()
    assert JobRequest("train", {}, node="zone=us-east1/a").placement() == {"node": "zone=us-east1/a"}


def test_engine_status_shows_each_slots_node_its_gpu_use_and_lost_nodes(home):
    from tui.cli.engine_cmd import slots_table

    base = {"pretend": False, "threads": 4, "job_id": None, "worker_started": 1.0, "problem": None, "lost": False,
            "labels": [], "gpu_name": "NVIDIA H200", "gpu_util": None, "gpu_mem_used_mb": None,
            "gpu_mem_total_mb": None}
    slots = [
        {**base, "name": "n1.gpu0", "label": "gpu 0 (NVIDIA H200) on n1 a", "gpu": 0, "ready": True,
         "worker_pid": 4100, "node": "aa" * 28, "host": "alpha 10.0.0.5", "gpu_util": 37.0,
         "gpu_mem_used_mb": 2150.0, "gpu_mem_total_mb": 143771.0},
        {**base, "name": "n2.gpu1", "label": "gpu 1 (NVIDIA H200) on n2 b", "gpu": 1, "ready": False,
         "worker_pid": 5200, "node": "bb" * 28, "host": "beta 10.0.0.6", "labels": ["bigmem"], "lost": True,
         "problem": "node lost at 12:00:01: health check failed"},
    ]
    console = Console(width=200, record=True)
    console.print(slots_table(slots, Store(home)))
    text = console.export_text()
    rows = [line for line in text.splitlines() if line.strip().startswith(("n1.", "n2."))]
    assert "node" in text and "gpu use" in text
    assert "n1 alpha 10.0.0.5" in rows[0] and "37% 2.1/140.4 GB" in rows[0]
    assert "lost n2 beta 10.0.0.6 [bigmem]" in rows[1] and "node lost at 12:00:01" in rows[1]


def test_nothing_imports_ray_unless_asked():
    code = ("import sys, tui.cli.main, tui.cli.app, tui.app, engine.__main__, engine.daemon, engine.local_executor, "
            "engine.ray_config, runs.engine_store; from tui.cli.main import main; "
            "sys.exit(1 if 'ray' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_a_node_without_the_engines_data_set_reads_the_copy_the_engine_ships_once(tmp_path, mnist_dir,
                                                                                    monkeypatch):
    from engine.ray_slot import dataset_folder
    from jobs.datasets import DataError, file_names, find_file, verify

    monkeypatch.delenv("MNISTLAB_DATA")  # this "node" has no copy of its own: no MNISTLAB_DATA, an empty cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    identity = {**verify("mnist", mnist_dir).identity, "folder": str(mnist_dir)}
    shipped = []

    def ship():  # what the executor puts in the object store: the engine's four files by name
        shipped.append(1)
        return {path.name: path.read_bytes()
                for path in (find_file(mnist_dir, name) for name in file_names("mnist").values())}

    assert dataset_folder(identity, ship, tmp_path / "data") == str(mnist_dir) and not shipped  # has it
    elsewhere = {**identity, "folder": str(tmp_path / "the-engines-folder")}  # only on the engine's machine
    with pytest.raises(DataError, match="none of .* holds the MNIST files this run needs"):
        dataset_folder(elsewhere, None, tmp_path / "data")
    copy = dataset_folder(elsewhere, ship, tmp_path / "data")
    assert copy.startswith(str(tmp_path / "data")) and shipped == [1]
    assert verify("mnist", copy).sha256 == identity["sha256"]  # verified again here, same checksums
    assert dataset_folder(elsewhere, ship, tmp_path / "data") == copy and shipped == [1]  # another slot: no fetch
    other = {**elsewhere, "sha256": {**identity["sha256"], "t10k-labels-idx1-ubyte": "0" * 64}}
    with pytest.raises(DataError):  # files that are not the ones the run was queued with are refused
        dataset_folder(other, ship, tmp_path / "data")


def test_a_remote_slots_files_travel_with_their_bytes_and_inputs_are_fetched_when_opened(tmp_path):
    import threading

    from engine.ray_slot import ShippingContext

    batches, fetched = [], []

    def fetch(run, filename, path):  # the engine answers with the file's bytes
        fetched.append((run, filename))
        path.parent.mkdir(parents=True)
        path.write_bytes(b"weights of run %d" % run)

    ctx = ShippingContext(batches.append, threading.Event(), fetch=fetch, spec={}, artifact_dir=tmp_path / "run",
                          runs_dir=tmp_path / "inputs", job_id=9)
    ctx.save_file("grid.png", lambda tmp: tmp.write_bytes(b"\x89PNG..."), kind="image")
    ctx.flush()
    [[(event, payload)]] = batches
    assert event == "artifact" and payload["data"] == b"\x89PNG..." and payload["path"] == "grid.png"
    assert payload["meta"]["sha256"] == hashlib.sha256(b"\x89PNG...").hexdigest()
    path = ctx.input_file(4, "weights.pt")
    assert path.read_bytes() == b"weights of run 4" and ctx.input_file(4, "weights.pt") == path
    assert fetched == [(4, "weights.pt")]  # once: the second open finds it


def test_a_remote_slot_ships_its_newest_checkpoint_at_most_every_interval_and_the_last_one_at_the_end(
        tmp_path, monkeypatch):
    import threading

    from engine import ray_slot
    from engine.ray_slot import ShippingContext

    clock = [100.0]
    monkeypatch.setattr(ray_slot.time, "monotonic", lambda: clock[0])
    batches = []
    ctx = ShippingContext(batches.append, threading.Event(), fetch=None, spec={}, artifact_dir=tmp_path / "run",
                          runs_dir=tmp_path / "inputs", job_id=9)

    def shipped() -> list[bytes]:
        ctx.flush()
        found = [p["data"] for batch in batches for event, p in batch if event == "artifact"]
        batches.clear()
        return found

    def save(epoch: int) -> None:
        ctx.save_file("checkpoint.pt", lambda tmp: tmp.write_bytes(b"epoch %d" % epoch), kind="checkpoint")

    save(1)
    assert shipped() == [b"epoch 1"]  # the first travels at once: a job lost early resumes from it
    clock[0] += 0.3
    save(2)
    clock[0] += 0.3
    save(3)
    ctx.save_file("weights.pt", lambda tmp: tmp.write_bytes(b"w"), kind="weights")  # other files are not held
    ctx.ship_held(due_only=True)
    assert shipped() == [b"w"]
    clock[0] += ShippingContext.CHECKPOINT_SHIP_S
    ctx.ship_held(due_only=True)  # its time came with no newer epoch: the newest held one travels
    assert shipped() == [b"epoch 3"]
    clock[0] += 0.1
    save(4)
    assert shipped() == []
    ctx.ship_held()  # the job's end: the last checkpoint always travels
    assert shipped() == [b"epoch 4"]
    ctx.ship_held()
    assert shipped() == []
