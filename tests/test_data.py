"""MNIST files: checksums verified wherever they come from; clear messages when not."""

from __future__ import annotations

import gzip
import shutil

from jobs import mnist_files


def test_shared_folder_verifies(mnist_dir, cli, home):
    check = mnist_files.verify(mnist_dir)
    assert check.ok and set(check.files) == set(mnist_files.CHECKSUMS)
    result = cli("data", "verify", "--json")
    assert result.code == 0 and result.json()["ok"] and result.json()["source"] == "MNISTLAB_DATA"


def test_corrupt_and_missing_files_are_named(tmp_path, mnist_dir, cli, home, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        shutil.copy(mnist_dir / f"{name}.gz", folder)
    raw = bytearray(gzip.decompress((folder / "train-labels-idx1-ubyte.gz").read_bytes()))
    raw[100] ^= 0xFF  # flip one label byte
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    (folder / "train-labels-idx1-ubyte").write_bytes(bytes(raw))
    monkeypatch.setenv("MNISTLAB_DATA", str(folder))
    result = cli("data", "verify")
    assert result.code == 1
    err = " ".join(result.err.split())
    assert "train-labels-idx1-ubyte is corrupt" in err and "t10k-labels-idx1-ubyte is missing" in err
    assert "mnistlab data download" in err
    queued = cli("submit", "train", "--net", "1")
    assert queued.code == 2 and "t10k-labels-idx1-ubyte" in queued.err


def test_loader_refuses_corrupt_data(tmp_path, mnist_dir):
    folder = tmp_path / "mnist"
    shutil.copytree(mnist_dir, folder)
    (folder / "t10k-images-idx3-ubyte.gz").chmod(0o644)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    try:
        mnist_files.load_arrays(folder)
    except mnist_files.DataError as exc:
        assert "t10k-images-idx3-ubyte" in str(exc) and "not a valid gzip" in str(exc)
    else:
        raise AssertionError("corrupt data was loaded")


def test_download_without_network_says_what_to_do(tmp_path):
    try:
        mnist_files.download(tmp_path / "dl", mirrors=("http://127.0.0.1:9/",), timeout=2)
    except mnist_files.DataError as exc:
        assert "could not download" in str(exc) and "MNISTLAB_DATA" in str(exc)
    else:
        raise AssertionError("download from a closed port succeeded")


def test_submit_without_a_chosen_folder_downloads_into_the_cache_or_says_what_to_do(home, cli, monkeypatch,
                                                                                   tmp_path):
    monkeypatch.delenv("MNISTLAB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_files, "MIRRORS", ("http://127.0.0.1:9/",))
    result = cli("submit", "train", "--net", "1")
    assert result.code == 1
    err = " ".join(result.err.split())
    assert "downloading" in err and "could not download" in err and "MNISTLAB_DATA" in err
    from runs.store import Store

    assert Store(home).jobs() == []
