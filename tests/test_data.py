"""Data sets: checksums verified wherever the files come from; clear messages when not; nothing queued then."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil

import pytest

from jobs import dataset_download, datasets, idx_files
from runs.store import Store
from tests.idx_sets import MALFORMED, malformed, write_set


def published_as(monkeypatch, name: str, folder) -> None:
    """Make the registry's published .gz checksums of `name` those of the synthetic files in `folder`
    (in this process only): the real files cannot be fetched here."""
    names = datasets.DATASETS[name].files
    sha = {role: hashlib.sha256((folder / f"{names[role]}.gz").read_bytes()).hexdigest() for role in names}
    monkeypatch.setitem(datasets.DATASETS, name, dataclasses.replace(datasets.DATASETS[name], gz_sha256=sha))


def test_shared_folder_verifies(mnist_dir, cli, home):
    verified = datasets.verify("mnist", mnist_dir)
    assert verified.sha256 == {datasets.MNIST_NAMES[r]: h for r, h in datasets.DATASETS["mnist"].content_sha256.items()}
    assert (verified.mean, verified.std, verified.counts) == (0.1307, 0.3081, (60000, 10000))
    result = cli("data", "verify", "--json")
    assert result.code == 0 and result.json()["ok"] and result.json()["source"] == "MNISTLAB_DATA"


def test_corrupt_and_missing_files_are_named(tmp_path, mnist_dir, cli, home, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        shutil.copy(mnist_dir / f"{name}.gz", folder)
    monkeypatch.setenv("MNISTLAB_DATA", str(folder))
    result = cli("data", "verify")
    assert result.code == 1
    assert "t10k-labels-idx1-ubyte is missing" in " ".join(result.err.split())
    shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", folder)
    raw = bytearray(gzip.decompress((folder / "train-labels-idx1-ubyte.gz").read_bytes()))
    raw[100] ^= 0x01  # one label changed: still a valid IDX file, but not MNIST's
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    (folder / "train-labels-idx1-ubyte").write_bytes(bytes(raw))
    err = " ".join(cli("data", "verify").err.split())
    assert "not the published MNIST files" in err and "train-labels-idx1-ubyte" in err
    assert "--dataset custom" in err and "delete" not in err
    queued = cli("submit", "train", "--net", "1")
    assert queued.code == 2 and "not the published MNIST files" in queued.err
    assert Store(home).jobs() == []


def test_loader_refuses_corrupt_data(tmp_path, mnist_dir):
    from jobs import data

    folder = tmp_path / "mnist"
    shutil.copytree(mnist_dir, folder)
    (folder / "t10k-images-idx3-ubyte.gz").chmod(0o644)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(datasets.DataError, match="t10k-images-idx3-ubyte.gz is not a valid gzip"):
        data.arrays(folder)


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_idx_is_refused_at_submit_and_nothing_is_queued(case, tmp_path, cli, home, monkeypatch):
    spoiled = malformed(tmp_path / "set", case)
    monkeypatch.setenv("MNISTLAB_DATA", str(tmp_path / "set"))
    result = cli("submit", "train", "--net", "1", "--dataset", "custom", "--samples", "100")
    err = " ".join(result.err.split())
    assert result.code == 2, err
    assert spoiled.name in err and all(word in err for word in MALFORMED[case][2]), err
    assert Store(home).jobs() == []


def test_sets_named_like_a_known_one_are_never_called_corrupt(tmp_path, cli, home, monkeypatch):
    write_set(tmp_path / "mine")  # MNIST's file names, but not Fashion-MNIST's published files
    monkeypatch.setenv("MNISTLAB_DATA", str(tmp_path / "mine"))
    err = " ".join(cli("submit", "train", "--dataset", "fashion-mnist").err.split())
    assert "these are not the published Fashion-MNIST files (train-images-idx3-ubyte.gz has SHA-256" in err
    assert "use --dataset custom to train on them anyway" in err and "corrupt" not in err and "delete" not in err
    # files that are another known set's say which: here the synthetic files stand in for Fashion-MNIST
    published_as(monkeypatch, "fashion-mnist", tmp_path / "mine")
    err = " ".join(cli("submit", "train").err.split())
    assert "not the published MNIST files" in err and "use --dataset fashion-mnist" in err
    assert Store(home).jobs() == []


def test_custom_sets_need_a_folder_and_enough_images(tmp_path, cli, home, monkeypatch):
    monkeypatch.delenv("MNISTLAB_DATA")
    result = cli("submit", "train", "--dataset", "custom")
    assert result.code == 2 and "--dataset custom needs a folder" in result.err
    write_set(tmp_path / "small", train=500, test=100)
    monkeypatch.setenv("MNISTLAB_DATA", str(tmp_path / "small"))
    result = cli("submit", "train", "--dataset", "custom", "--samples", "1000")
    err = " ".join(result.err.split())
    assert result.code == 2 and "'samples': 1000 is more than the 500 training images" in err
    assert Store(home).jobs() == []


def test_verification_is_cached_until_a_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    paths = write_set(tmp_path / "set")
    first = datasets.verify("custom", tmp_path / "set")
    checked = []
    real = idx_files._check
    monkeypatch.setattr(idx_files, "_check", lambda data, role: checked.append(role) or real(data, role))
    again = datasets.verify("custom", tmp_path / "set")
    assert checked == [] and again.sha256 == first.sha256 and (again.mean, again.std) == (first.mean, first.std)
    paths["test_labels"].write_bytes(paths["test_labels"].read_bytes())  # same bytes, new mtime: checked again
    datasets.verify("custom", tmp_path / "set")
    assert checked == ["test_labels"]
    assert oct((tmp_path / "cache" / "mnistlab" / "verified.json").stat().st_mode & 0o777) == "0o600"


def test_custom_normalisation_is_computed_from_the_training_images(tmp_path):
    from jobs import data

    write_set(tmp_path / "set")
    arrays, verified = data.arrays(tmp_path / "set", "custom")
    pixels = arrays["train_x"] / 255.0
    assert verified.normalisation == "computed from the training images"
    assert verified.mean == pytest.approx(pixels.mean(), abs=1e-4)
    assert verified.std == pytest.approx(pixels.std(), abs=1e-4)
    assert verified.identity == {"name": "custom", "sha256": {
        name: hashlib.sha256(gzip.decompress((tmp_path / "set" / f"{name}.gz").read_bytes())).hexdigest()
        for name in datasets.MNIST_NAMES.values()}}


def test_locate_finds_the_folder_holding_an_identity(tmp_path):
    write_set(tmp_path / "a", train=400)
    write_set(tmp_path / "b", train=500)
    wanted = datasets.verify("custom", tmp_path / "b").identity
    assert datasets.locate(wanted, [tmp_path / "a", tmp_path / "missing", tmp_path / "b"]) == tmp_path / "b"
    with pytest.raises(datasets.DataError, match="holds the custom data files this run needs"):
        datasets.locate(wanted, [tmp_path / "a"])


def test_download_verifies_and_never_overwrites_a_differing_file_without_force(tmp_path, monkeypatch):
    import http.server
    import threading

    served = tmp_path / "mirror"
    write_set(served)
    published_as(monkeypatch, "kmnist", served)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mirror = (f"http://127.0.0.1:{server.server_port}/",)
    try:
        target = tmp_path / "kmnist"
        verified, lines = dataset_download.download("kmnist", target, mirrors=mirror)
        assert verified.dataset == "kmnist" and lines == [f"{n}.gz: downloaded and verified"
                                                          for n in datasets.MNIST_NAMES.values()]
        again, lines = dataset_download.download("kmnist", target, mirrors=mirror)
        assert all(line.endswith("already there and verified") for line in lines)

        mine = target / "t10k-labels-idx1-ubyte.gz"
        mine.write_bytes(gzip.compress(b"my own labels"))
        with pytest.raises(datasets.DataError, match="was not overwritten .* use --force to replace it"):
            dataset_download.download("kmnist", target, mirrors=mirror)
        assert gzip.decompress(mine.read_bytes()) == b"my own labels"
        dataset_download.download("kmnist", target, mirrors=mirror, force=True)
        assert mine.read_bytes() == (served / "t10k-labels-idx1-ubyte.gz").read_bytes()
    finally:
        server.shutdown()
    with pytest.raises(datasets.DataError, match="could not download .* MNISTLAB_DATA"):
        dataset_download.download("mnist", tmp_path / "dl", mirrors=("http://127.0.0.1:9/",), timeout=2)


def test_submit_without_a_chosen_folder_downloads_into_the_cache_or_says_what_to_do(home, cli, monkeypatch,
                                                                                   tmp_path):
    monkeypatch.delenv("MNISTLAB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mnist = datasets.DATASETS["mnist"]
    monkeypatch.setitem(datasets.DATASETS, "mnist", dataclasses.replace(mnist, mirrors=("http://127.0.0.1:9/",)))
    result = cli("submit", "train", "--net", "1")
    assert result.code == 1
    err = " ".join(result.err.split())
    assert "downloading" in err and "could not download" in err and "MNISTLAB_DATA" in err
    assert Store(home).jobs() == []
