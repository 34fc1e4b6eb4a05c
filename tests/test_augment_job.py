"""The augment job run directly (no engine): real tiny trainings on real MNIST slices."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from jobs import augment, train
from jobs.context import JobCancelled, LocalContext
from jobs.kinds import validate


def run_augment(tmp_path, mnist_dir, name="run", ctx_class=LocalContext, **spec):
    full = validate("augment", spec)
    ctx = ctx_class(spec=full, artifact_dir=tmp_path / name, data_dir=str(mnist_dir))
    return augment.run(full, ctx), ctx


def test_reports_like_the_train_job_plus_a_sample_grid(tmp_path, mnist_dir):
    result, ctx = run_augment(tmp_path, mnist_dir, net="B", transform="T8", samples=256, epochs=2)
    assert len(ctx.series("train/loss")) == 2 * 4  # every iteration (256 images, batch 64)
    assert [s for s, _ in ctx.series("val/accuracy")] == [1, 2] and [s for s, _ in ctx.series("val/loss")] == [1, 2]
    confusion = ctx.tables()["confusion"]["matrix"]
    assert sum(map(sum, confusion)) == 10000  # validation is the whole test set
    assert abs(sum(confusion[i][i] for i in range(10)) / 10000 - result["test_accuracy"]) < 1e-6
    assert result["transform"] == "T8" and result["augment_time_s"] > 0 and result["epochs"] == 2

    artifacts = ctx.artifacts()
    assert {"samples", "weights", "checkpoint"} <= set(artifacts)
    grid = np.asarray(Image.open(artifacts["samples"]["path"]))
    assert grid.shape == (6 * 30 + 2, 10 * 30 + 2)  # originals + 5 draws, digits 0-9, 2-pixel padding
    cells = grid[2:, 2:].reshape(6, 30, 10, 30)[:, :28, :, :28]  # (row, y, digit, x)
    assert all(not np.array_equal(cells[0], cells[r]) for r in range(1, 6))  # each draw changes the digits
    assert "RandomPerspective(p=0.4)" in artifacts["samples"]["meta"]["caption"]
    saved = torch.load(artifacts["weights"]["path"], weights_only=True)
    assert saved["net"] == "B" and saved["spec"]["transform"] == "T8"
    facts = [p["facts"] for e, p in ctx.events if e == "repro"][0]
    assert facts["augmentation"]["transform"] == "T8" and len(facts["data"]["sha256"]) == 4


def test_the_baseline_is_the_train_job(tmp_path, mnist_dir):
    """transform=none: the very same run as a train job with the same net, data and seed."""
    spec = dict(net="A", samples=256, epochs=2, seed=3)
    base, ctx_base = run_augment(tmp_path, mnist_dir, "base", transform="none", **spec)
    full = validate("train", spec)
    ctx_train = LocalContext(spec=full, artifact_dir=tmp_path / "train", data_dir=str(mnist_dir))
    trained = train.run(full, ctx_train)
    assert ctx_base.series("train/loss") == ctx_train.series("train/loss")
    assert base["test_accuracy"] == trained["test_accuracy"] and base["test_loss"] == trained["test_loss"]
    assert "Top row: the originals" in ctx_base.artifacts()["samples"]["meta"]["caption"]


def test_a_seed_fixes_the_run_and_augmentation_changes_it(tmp_path, mnist_dir):
    spec = dict(net="A", transform="T3", samples=256, epochs=1)
    a, ctx_a = run_augment(tmp_path, mnist_dir, "a", seed=5, **spec)
    b, ctx_b = run_augment(tmp_path, mnist_dir, "b", seed=5, **spec)
    _, ctx_none = run_augment(tmp_path, mnist_dir, "none", seed=5, **{**spec, "transform": "none"})
    assert ctx_a.series("train/loss") == ctx_b.series("train/loss") and a["test_accuracy"] == b["test_accuracy"]
    # same initialisation and batch order; only the augmented inputs differ
    assert ctx_a.series("train/loss")[0] != ctx_none.series("train/loss")[0]


def test_resume_redraws_the_same_augmentations(tmp_path, mnist_dir):
    """Augmentation draws from fit's generator, which the checkpoint holds: a resumed run ends where an
    uninterrupted one does."""
    class StopAfterFirstEpoch(LocalContext):
        @property
        def cancelled(self):
            return any(e == "metrics" and p["name"] == "val/accuracy" for e, p in self.events)

    spec = dict(net="A", transform="T2", samples=256, epochs=3, seed=1)
    full, _ = run_augment(tmp_path, mnist_dir, "full", **spec)
    with pytest.raises(JobCancelled):
        run_augment(tmp_path, mnist_dir, "resumed", ctx_class=StopAfterFirstEpoch, **spec)
    resumed, ctx = run_augment(tmp_path, mnist_dir, "resumed", **spec)
    assert resumed["resumed_from_epoch"] == 1
    assert resumed["test_accuracy"] == full["test_accuracy"] and resumed["test_loss"] == full["test_loss"]


def test_mixup_job_trains_on_mixed_pairs(tmp_path, mnist_dir):
    result, ctx = run_augment(tmp_path, mnist_dir, net="B", transform="T9", alpha=0.4, samples=256, epochs=1)
    losses = [v for _, v in ctx.series("train/loss")]
    assert len(losses) == 4 and all(np.isfinite(losses)) and 0 <= result["test_accuracy"] <= 1
    facts = [p["facts"] for e, p in ctx.events if e == "repro"][0]
    assert facts["augmentation"]["mixup_alpha"] == 0.4
    caption = ctx.artifacts()["samples"]["meta"]["caption"]
    assert "lambda per row" in caption and "Beta(alpha, alpha)" in caption
