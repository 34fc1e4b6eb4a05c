"""The train job run directly (no engine): real tiny trainings on real MNIST slices."""

from __future__ import annotations

import pytest
import torch

from jobs import train
from jobs.catalog import NETS
from jobs.context import JobCancelled, LocalContext
from jobs.kinds import validate
from jobs.nets import build_net


def run_train(tmp_path, mnist_dir, name="run", ctx_class=LocalContext, **spec):
    full = validate("train", spec)
    ctx = ctx_class(spec=full, artifact_dir=tmp_path / name, data_dir=str(mnist_dir))
    return train.run(full, ctx), ctx


@pytest.mark.parametrize("net_id", list(NETS))
def test_every_net_maps_a_batch_to_ten_logits(net_id):
    torch.manual_seed(0)
    net = build_net(net_id).eval()
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_reports_everything_the_study_needs(tmp_path, mnist_dir):
    result, ctx = run_train(tmp_path, mnist_dir, net="1", samples=256, epochs=2, batch_size=32)
    assert len(ctx.series("train/loss")) == 2 * 8  # every iteration
    assert [s for s, _ in ctx.series("val/accuracy")] == [1, 2]
    assert [s for s, _ in ctx.series("val/loss")] == [1, 2] and len(ctx.series("train/loss_epoch")) == 2
    confusion = ctx.tables()["confusion"]["matrix"]
    assert sum(map(sum, confusion)) == 10000  # validation is the whole test set
    assert abs(sum(confusion[i][i] for i in range(10)) / 10000 - result["test_accuracy"]) < 1e-6
    assert result["samples_per_s"] > 0 and result["wall_time_s"] >= result["train_time_s"] > 0
    assert {"checkpoint", "weights"} <= set(ctx.artifacts())
    saved = torch.load(ctx.artifacts()["weights"]["path"], weights_only=True)
    assert saved["net"] == "1" and set(saved["state_dict"]) == set(build_net("1").state_dict())
    facts = [p["facts"] for e, p in ctx.events if e == "repro"]
    assert facts and set(facts[0]["data"]["sha256"]) == {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}


def test_same_spec_and_seed_give_the_same_numbers(tmp_path, mnist_dir):
    a, ctx_a = run_train(tmp_path, mnist_dir, "a", net="10.1", samples=256, epochs=2, seed=3)
    b, ctx_b = run_train(tmp_path, mnist_dir, "b", net="10.1", samples=256, epochs=2, seed=3)
    _, ctx_c = run_train(tmp_path, mnist_dir, "c", net="10.1", samples=256, epochs=2, seed=4)
    assert a["test_accuracy"] == b["test_accuracy"] and ctx_a.series("train/loss") == ctx_b.series("train/loss")
    assert ctx_a.series("train/loss")[0] != ctx_c.series("train/loss")[0]


def test_resume_from_checkpoint_matches_an_uninterrupted_run(tmp_path, mnist_dir):
    class StopAfterFirstEpoch(LocalContext):
        @property
        def cancelled(self):
            return any(e == "metrics" and p["name"] == "val/accuracy" for e, p in self.events)

    full, full_ctx = run_train(tmp_path, mnist_dir, "full", net="10.1", samples=512, epochs=3, seed=1)
    with pytest.raises(JobCancelled):
        run_train(tmp_path, mnist_dir, "resumed", ctx_class=StopAfterFirstEpoch, net="10.1", samples=512,
                  epochs=3, seed=1)
    resumed, ctx = run_train(tmp_path, mnist_dir, "resumed", net="10.1", samples=512, epochs=3, seed=1)
    assert resumed["resumed_from_epoch"] == 1
    assert resumed["test_accuracy"] == full["test_accuracy"] and resumed["test_loss"] == full["test_loss"]
    # the checkpoint's metric history comes back first: the resumed run's curves are the uninterrupted run's
    assert [e for e, _ in ctx.events].count("metrics_reset") == 1
    for name in ("train/loss", "train/loss_epoch", "val/accuracy", "val/loss"):
        assert ctx.series(name) == full_ctx.series(name), name


def test_net_10_1_on_1000_images_reaches_93_percent(tmp_path, mnist_dir):
    result, _ = run_train(tmp_path, mnist_dir, net="10.1", samples=1000, epochs=10)
    assert result["test_accuracy"] >= 0.93


def test_net_1_on_60000_images_reaches_97_percent(tmp_path, mnist_dir):
    result, _ = run_train(tmp_path, mnist_dir, net="1", samples=60000, epochs=4)
    assert result["test_accuracy"] >= 0.97
