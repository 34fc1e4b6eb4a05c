"""The fgsm job run directly (no engine) on real tiny trainings: what it measures and reports."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from jobs import data, fgsm, train
from jobs.context import JobCancelled, LocalContext
from jobs.kinds import validate
from jobs.nets import load_trained
from runs.scatter import load_images

EPS = [0, 0.1, 0.25, 0.5, 1.0]
NETS = [("1", 0), ("1", 1), ("10.1", 0)]  # run ids 1, 2, 3


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mnist_dir):
    """Three trained tiny classifiers in run folders 1, 2, 3 of one store's runs/ folder."""
    root = tmp_path_factory.mktemp("store") / "runs"
    accuracy = {}
    for run_id, (net, seed) in enumerate(NETS, start=1):
        spec = validate("train", {"net": net, "samples": 1000, "epochs": 2, "seed": seed})
        ctx = LocalContext(spec=spec, artifact_dir=root / str(run_id), data_dir=str(mnist_dir), job_id=run_id)
        accuracy[run_id] = train.run(spec, ctx)["test_accuracy"]
    return root, accuracy


def attack(runs, mnist_dir, job_id=10, ctx_class=LocalContext, **spec):
    root, _ = runs
    full = validate("fgsm", {"test_images": 600, "batch_size": 200, "tsne_eps": "", **spec})
    ctx = ctx_class(spec=full, artifact_dir=root / str(job_id), data_dir=str(mnist_dir), job_id=job_id)
    return fgsm.run(full, ctx), ctx


def saturated_share(runs, run_id, mnist_dir, n=600, batch_size=200, logit_scale=1.0) -> float:
    """Of the first n test images, the share where log_softmax of the true class is exactly 0 in float32."""
    root, _ = runs
    net, _ = load_trained(root / str(run_id) / "weights.pt")
    arrays, _ = data.arrays(str(mnist_dir))
    x = data.to_tensor(arrays["test_x"][:n], "cpu")
    y = torch.from_numpy(arrays["test_y"][:n].astype(np.int64))
    with torch.no_grad():
        logits = torch.cat([net(x[i:i + batch_size]) for i in range(0, n, batch_size)]) * logit_scale
    return (torch.log_softmax(logits.float(), 1).gather(1, y[:, None]) == 0).sum().item() / n


def test_accuracy_falls_as_eps_grows_and_every_table_is_there(runs, mnist_dir):
    result, ctx = attack(runs, mnist_dir, nets=[1, 2, 3], eps=EPS, tsne_eps=[0.6], tsne_points=120)
    names = ["1 s0", "1 s1", "10.1"]  # default names: the net id, with the seed where a net repeats
    assert result["names"] == names and result["runs"] == [1, 2, 3]
    assert (result["scale"], result["clamp"], result["eps"]) == ("normalized", True, EPS)
    tables = ctx.tables()
    clean = [result["clean_accuracy"][n] for n in names]
    assert tables["clean accuracy"]["matrix"] == [clean]
    assert all(c > 0.6 for c in clean)

    for e in EPS:
        table = tables[f"eps={e:g}"]
        assert (table["rows"], table["columns"], table["eps"]) == ("attacked net", "evaluated net", e)
        assert table["labels"] == table["row_labels"] == names
        assert table["color_scale"] == [0, 1] and table["diagonal"] is True
        assert (table["scale"], table["clamp"]) == ("normalized", True)
        assert len(table["matrix"]) == 3 and all(len(row) == 3 for row in table["matrix"])
        assert table["matrix"] == result["matrices"][f"{e:g}"]
    # eps 0 changes no image: every row is the evaluated nets' clean accuracy, column by column
    assert tables["eps=0"]["matrix"] == [clean] * 3

    for a, name in enumerate(names):
        own = [tables[f"eps={e:g}"]["matrix"][a][a] for e in EPS]
        assert own == result["own_attack"][name]
        assert all(later <= earlier + 0.01 for earlier, later in zip(own, own[1:])), own
        assert own[-1] < own[0] - 0.4, own  # eps 1.0 (one std) breaks a tiny net
    curves = tables["own attack"]
    assert curves["kind"] == "curves" and curves["x"] == EPS and curves["series"]["10.1"] == result["own_attack"]["10.1"]

    artifacts = ctx.artifacts()
    for a, name in enumerate(names):
        grid = Image.open(artifacts[f"samples-{a + 1}-{name.replace(' ', '_')}"]["path"])
        assert grid.size[1] > 28 * len(EPS)  # a row per epsilon plus the clean row
        scatter = tables[f"tsne {name} eps=0.6"]
        assert scatter["kind"] == "scatter" and len(scatter["x"]) == len(scatter["labels"]) == 120
        assert set(scatter["labels"]) <= set(range(10)) and scatter["label_name"] == "1 s0's prediction"
        images = load_images(list(artifacts.values()), scatter, [0, 119])
        assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert result["attack_images_per_s"] > 0 and result["gradient_passes"] == 3 * 3  # 3 nets x 3 batches
    # the share of clean images on which a net's float32 softmax gives the true class exactly 1, recounted
    assert result["saturated_fraction"] == {name: saturated_share(runs, run_id, mnist_dir)
                                            for name, run_id in zip(names, [1, 2, 3])}
    facts = {k: v for e, p in ctx.events if e == "repro" for k, v in p["facts"].items()}
    assert facts["attack"]["clamp"] is True and [r["run"] for r in facts["runs"]] == [1, 2, 3]

    # The same nets in another order: the same numbers, rows and columns permuted alike.
    again, ctx2 = attack(runs, mnist_dir, job_id=11, nets=[3, 1, 2], names="c,a,b", eps=[0.25, 1.0])
    order = [2, 0, 1]
    for e in (0.25, 1.0):
        first = result["matrices"][f"{e:g}"]
        assert again["matrices"][f"{e:g}"] == [[first[i][j] for j in order] for i in order]
    assert ctx2.tables()["eps=1"]["labels"] == ["c", "a", "b"]


def test_saturated_fraction_counts_the_clean_images_a_net_is_certain_of(runs, mnist_dir):
    """A tiny net is rarely that sure (here: on no image); the same net with its logits times 10 is, on
    many: each attacked net's share is its own recount, so the two differ."""
    root, _ = runs
    saved = torch.load(root / "1" / "weights.pt", weights_only=True)
    last = [k for k, v in saved["state_dict"].items() if v.ndim == 2][-1].rsplit(".", 1)[0]  # the output layer
    for key in (f"{last}.weight", f"{last}.bias"):
        saved["state_dict"][key] = saved["state_dict"][key] * 10
    (root / "4").mkdir(exist_ok=True)
    torch.save(saved, root / "4" / "weights.pt")
    result, _ = attack(runs, mnist_dir, job_id=14, nets=[4, 1], names="sure,plain", eps=[0.25])
    sure, plain = saturated_share(runs, 1, mnist_dir, logit_scale=10), saturated_share(runs, 1, mnist_dir)
    assert sure > plain + 0.05
    # w*10 and b*10 instead of logits*10: an image at the edge of float32's 1.0 may round the other way
    assert result["saturated_fraction"] == pytest.approx({"sure": sure, "plain": plain}, abs=1 / 600)


def test_pixel_scale_without_clamping_is_recorded_and_matches_the_normalised_attack(runs, mnist_dir):
    """eps 0.25 pixel units is eps 0.25 / 0.3081 std: the same attack, so nearly the same matrix."""
    pixel, ctx = attack(runs, mnist_dir, job_id=12, nets=[1, 3], eps=[0.25], scale="pixel", clamp=False)
    normal, _ = attack(runs, mnist_dir, job_id=13, nets=[1, 3], eps=[0.25 / 0.3081], clamp=False)
    assert (pixel["scale"], pixel["clamp"], pixel["eps_unit"]) == ("pixel", False, "pixel range [0, 1]")
    table = ctx.tables()["eps=0.25"]
    assert (table["scale"], table["clamp"]) == ("pixel", False)
    a, b = np.array(pixel["matrices"]["0.25"]), np.array(next(iter(normal["matrices"].values())))
    assert np.abs(a - b).max() <= 2 / 600  # a few images whose tiny gradients round differently


def test_a_requeued_attack_resumes_after_the_last_finished_net(runs, mnist_dir):
    class StopAfterFirstNet(LocalContext):
        @property
        def cancelled(self):
            return any(e == "artifact" and p["name"] == "checkpoint" for e, p in self.events)

    whole, _ = attack(runs, mnist_dir, job_id=20, nets=[1, 2, 3], eps=[0.5])
    with pytest.raises(JobCancelled):
        attack(runs, mnist_dir, job_id=21, ctx_class=StopAfterFirstNet, nets=[1, 2, 3], eps=[0.5])
    resumed, ctx = attack(runs, mnist_dir, job_id=21, nets=[1, 2, 3], eps=[0.5])
    assert any(e == "log" and "resumed: 1 of 3" in p["message"] for e, p in ctx.events)
    assert resumed["matrices"] == whole["matrices"] and resumed["clean_accuracy"] == whole["clean_accuracy"]
    assert resumed["gradient_passes"] == whole["gradient_passes"]
