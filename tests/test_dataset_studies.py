"""Studies on data sets other than MNIST, end to end through the real engine, on synthetic IDX sets."""

from __future__ import annotations

import gzip
import hashlib
import json
import textwrap

from tests.conftest import REPO, run_mnistlab
from tests.idx_sets import write_set


def test_a_custom_set_trains_end_to_end_and_fgsm_follows_its_normalisation(home, cli, tmp_path, monkeypatch,
                                                                            mnist_dir):
    folder = tmp_path / "custom"
    write_set(folder)
    monkeypatch.setenv("MNISTLAB_DATA", str(folder))  # what --data sets, undone after the test
    done = cli("--data", folder, "study", "zoo", "--regime", "1000", "--dataset", "custom", "--nets", "1,10.1",
               "--epochs", "2", "--wait", "--json")
    assert done.code == 0, done.err
    view = done.json()["study"]
    assert [g["title"] for g in view["grids"]] == [f"test accuracy by net and regime, custom data in {folder}"]
    runs = done.json()["ids"]
    for run in runs:
        record = cli("show", run, "--json").json()
        data = record["repro"]["data"]
        assert record["spec"]["dataset"] == "custom" and record["result"]["test_accuracy"] > 0.5
        assert data["normalisation"] == "computed from the training images" and data["folder"] == str(folder)
        assert data["sha256"]["train-images-idx3-ubyte"] == hashlib.sha256(
            gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())).hexdigest()
    mean, std = data["mean"], data["std"]
    assert abs(mean - 0.1307) > 0.01  # not MNIST's constants

    attack = cli("submit", "fgsm", "--nets", ",".join(map(str, runs)), "--dataset", "custom", "--test-images", "100",
                 "--tsne-eps", "", "--eps", "0.5", "--wait", "--json")
    assert attack.code == 0, attack.err
    result = attack.json()["result"]
    assert (result["mean"], result["std"]) == (mean, std)
    assert result["valid_range"] == [(0 - mean) / std, (1 - mean) / std]
    monkeypatch.setenv("MNISTLAB_DATA", str(mnist_dir))  # MNIST's test images, nets trained on the custom set
    wrong = cli("submit", "fgsm", "--nets", ",".join(map(str, runs)), "--test-images", "100", "--tsne-eps", "",
                "--wait", "--json")
    assert wrong.code == 1 and "trained on custom data" in wrong.json()["reason"]


def test_fashion_mnist_study_is_labelled_as_such(home, tmp_path):
    """The issue's command, run as a person would. The published Fashion-MNIST files cannot be fetched here, so
    a synthetic set stands in: a sitecustomize module (on PYTHONPATH, so the CLI, the engine and its workers
    all load it) makes the registry's published checksums those of the synthetic files."""
    folder = tmp_path / "fashion"
    write_set(folder)
    sha = {role: hashlib.sha256((folder / f"{name}.gz").read_bytes()).hexdigest()
           for role, name in {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
                              "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}.items()}
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "sitecustomize.py").write_text(textwrap.dedent(f"""
        import dataclasses, sys
        sys.path.insert(0, {str(REPO)!r})
        from jobs import datasets
        datasets.DATASETS["fashion-mnist"] = dataclasses.replace(datasets.DATASETS["fashion-mnist"],
                                                                 gz_sha256={json.dumps(sha)})
    """))
    env = {"PYTHONPATH": str(stub)}
    done = run_mnistlab("study", "zoo", "--regime", "1000", "--dataset", "fashion-mnist", "--data", folder,
                        "--nets", "1,10.1", "--epochs", "2", "--wait", env=env)
    assert done.code == 0, done.err
    assert "test accuracy by net and regime, Fashion-MNIST" in done.out
    shown = run_mnistlab("study", "show", "zoo", "--json", env=env)
    view = json.loads(shown.out)
    assert [g["title"] for g in view["grids"]] == ["test accuracy by net and regime, Fashion-MNIST"]
    assert [r["label"] for r in view["grids"][0]["rows"]] == ["1", "10.1"]
    listed = run_mnistlab("ls", env=env).out
    assert "dataset=fashion-mnist" in listed
