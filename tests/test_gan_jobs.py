"""Study 3's jobs run directly (no engine): real tiny GAN trainings and analyses on real MNIST slices."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from jobs import gan, ganmap, train
from jobs.context import JobCancelled, LocalContext
from jobs.embedding import scatter_image, tsne_2d, tsne_prepared
from jobs.gan_nets import load_generator
from jobs.kinds import validate
from jobs.schema import SpecError
from jobs.schema import resolve_run
from runs.scatter import load_images, points_in_rect


def run_job(module, kind, folder, mnist_dir, ctx_class=LocalContext, job_id=None, **spec):
    full = validate(kind, spec)
    ctx = ctx_class(spec=full, artifact_dir=folder, data_dir=str(mnist_dir), job_id=job_id)
    return module.run(full, ctx), ctx


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_dir):
    """Runs 1 (a 2-epoch GAN on 512 images) and 2 (a small classifier) in one artifact root, as in a store."""
    root = tmp_path_factory.mktemp("runs")
    gan_result, gan_ctx = run_job(gan, "gan", root / "1", mnist_dir, samples=512, epochs=2, seed=3)
    run_job(train, "train", root / "2", mnist_dir, net="10.1", samples=1000, epochs=1)
    return root, gan_result, gan_ctx


def test_gan_reports_losses_grids_and_saves_the_generator(trained):
    root, result, ctx = trained
    assert [s for s, _ in ctx.series("gan/g_loss")] == list(range(1, 17))  # 8 iterations per epoch, every one
    assert len(ctx.series("gan/d_loss")) == 16
    for name in ("gan/d_real", "gan/d_fake", "gan/g_loss_epoch", "gan/d_loss_epoch"):
        assert [s for s, _ in ctx.series(name)] == [1, 2]
    assert all(0 < v < 1 for _, v in ctx.series("gan/d_real") + ctx.series("gan/d_fake"))
    assert result["d_fake"] == ctx.series("gan/d_fake")[-1][1] and result["iterations"] == 16
    artifacts = ctx.artifacts()
    for epoch in (1, 2):
        grid = np.asarray(Image.open(artifacts[f"samples-epoch-{epoch:03d}"]["path"]))
        assert grid.shape == (10 * 30 + 2, 10 * 30 + 2)  # 100 digits, 10 a row, padding 2
    first, second = (np.asarray(Image.open(artifacts[f"samples-epoch-00{e}"]["path"]), dtype=float) for e in (1, 2))
    assert np.abs(first - second).mean() > 1  # the same z, a generator that moved
    generator, meta = load_generator(root / "1" / "generator.pt")
    assert meta["arch"] == "dcgan" and meta["z_dim"] == 100
    with torch.no_grad():
        images = generator(torch.randn(5, 100))
    assert images.shape == (5, 1, 28, 28) and images.min() >= -1 and images.max() <= 1


def test_gan_resumes_from_its_checkpoint_exactly(tmp_path, mnist_dir):
    class StopAfterFirstEpoch(LocalContext):
        @property
        def cancelled(self):
            return any(e == "metrics" and p["name"] == "gan/d_real" for e, p in self.events)

    spec = dict(samples=256, epochs=2, batch_size=64, seed=1)
    full, full_ctx = run_job(gan, "gan", tmp_path / "full", mnist_dir, **spec)
    with pytest.raises(JobCancelled):
        run_job(gan, "gan", tmp_path / "resumed", mnist_dir, ctx_class=StopAfterFirstEpoch, **spec)
    resumed, ctx = run_job(gan, "gan", tmp_path / "resumed", mnist_dir, **spec)
    assert resumed["resumed_from_epoch"] == 1 and [s for s, _ in ctx.series("gan/d_real")] == [1, 2]
    for name in ("gan/g_loss", "gan/d_loss", "gan/d_real", "gan/d_fake"):  # history restored, then continued
        assert ctx.series(name) == full_ctx.series(name), name
    a, b = (torch.load(p / "generator.pt", weights_only=True)["state_dict"] for p in (tmp_path / "full",
                                                                                      tmp_path / "resumed"))
    assert all(torch.equal(a[k], b[k]) for k in a)



def test_a_checkpoint_of_an_earlier_architecture_trains_from_the_start(tmp_path, mnist_dir):
    spec = dict(samples=128, epochs=1, batch_size=64, seed=1, grid=4)
    run_job(gan, "gan", tmp_path, mnist_dir, **spec)
    path = tmp_path / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    del state["arch_version"]  # as the releases before version 3 saved it; epoch 1 of 1 done
    torch.save(state, path)
    result, ctx = run_job(gan, "gan", tmp_path, mnist_dir, **spec)
    assert result["resumed_from_epoch"] == 0 and result["iterations"] == 2
    assert any("earlier mnistlab" in p["message"] for e, p in ctx.events if e == "log")

def test_mlp_gan_trains_too_and_ema_0_saves_the_last_weights(tmp_path, mnist_dir):
    result, ctx = run_job(gan, "gan", tmp_path / "mlp", mnist_dir, arch="mlp", samples=256, epochs=1, grid=16,
                          ema=0)
    assert result["iterations"] == 4 and "samples-epoch-001" in ctx.artifacts()
    assert np.asarray(Image.open(ctx.artifacts()["samples-epoch-001"]["path"])).shape == (4 * 30 + 2,) * 2
    generator, meta = load_generator(tmp_path / "mlp" / "generator.pt")
    assert meta["arch"] == "mlp" and meta["weights"] == "last"
    assert generator(torch.randn(2, 100)).shape == (2, 1, 28, 28)
    last = torch.load(tmp_path / "mlp" / "checkpoint.pt", weights_only=True)["generator"]
    assert all(torch.equal(p, last[name]) for name, p in generator.named_parameters())


def test_the_saved_generator_is_a_moving_average_of_the_weights(trained):
    root, _, _ = trained
    saved = torch.load(root / "1" / "generator.pt", weights_only=True)
    state = torch.load(root / "1" / "checkpoint.pt", weights_only=True)
    assert saved["weights"] == "ema"
    averaged, last = saved["state_dict"], state["generator"]
    weight = "project.0.weight"
    assert not torch.equal(averaged[weight], last[weight])
    assert torch.equal(averaged[weight], state["averaged"][weight])
    assert gan.ema_decay(0, 0.999) == 0.1 and gan.ema_decay(10**6, 0.999) == 0.999


def test_analysis_produces_every_artifact(trained, mnist_dir):
    root, _, _ = trained
    result, ctx = run_job(ganmap, "ganmap", root / "3", mnist_dir, job_id=3, gan_run=-2, classifier_run=2,
                          sizes=[150], seed=5)
    assert result["gan_run"] == 1 and result["classifier_run"] == 2  # -2: two places before job 3
    tables, artifacts = ctx.tables(), ctx.artifacts()
    assert {"g-z1", "g-z2", "interpolation", "interpolation-data", "latent-150", "gz-150-scatter",
            "z-150-scatter"} <= set(artifacts)
    strip = np.asarray(Image.open(artifacts["interpolation"]["path"]))
    assert strip.shape == (28 + 4, 11 * 30 + 2)  # G(a*z1 + (1-a)*z2) for a = 0, 0.1, ..., 1 in one row
    with np.load(artifacts["interpolation-data"]["path"]) as saved:
        z1, z2 = torch.randn(2, 100, generator=torch.Generator().manual_seed(5))
        assert np.allclose(saved["z1"], z1.numpy()) and np.allclose(saved["z2"], z2.numpy())
        assert saved["alphas"].tolist() == [round(0.1 * i, 2) for i in range(11)]
        assert saved["images"].shape == (11, 28, 28)
    histograms = tables["z-histograms"]
    assert histograms["kind"] == "histogram" and [len(v) for v in histograms["series"].values()] == [100, 100]
    assert tables["interpolation"]["kind"] == "curves" and len(tables["interpolation"]["x"]) == 11

    for key in ("gz", "z"):
        payload = tables[f"{key}-150"]
        assert payload["kind"] == "scatter" and payload["images"] == {"artifact": "latent-150", "key": "images"}
        assert len(payload["x"]) == len(payload["y"]) == len(payload["labels"]) == len(payload["confidence"]) == 150
        assert set(payload["labels"]) <= set(range(10)) and all(0.1 <= c <= 1 for c in payload["confidence"])
        picked = points_in_rect(payload, (min(payload["x"]), np.median(payload["x"])), (-1e9, 1e9))
        images = load_images(list(artifacts.values()), payload, picked)
        assert images.dtype == np.uint8 and images.shape == (len(picked), 28, 28) and 0 < len(picked) < 150
        assert np.asarray(Image.open(artifacts[f"{key}-150-scatter"]["path"])).shape[2] == 3
    assert tables["gz-150"]["labels"] == tables["z-150"]["labels"]  # one set of points, two embeddings

    classes = tables["classes-150"]
    counts = classes["matrix"][0]
    assert sum(counts[:10]) == counts[10] == 150 and counts[:10] == result["class_counts"]
    assert result["classes_generated"] == sum(c > 0 for c in counts[:10])
    with np.load(artifacts["latent-150"]["path"]) as saved:
        conf = saved["confidence"]
        assert saved["images"].shape == (150, 28, 28) and saved["z"].shape == (150, 100)
        assert saved["labels"].tolist() == tables["gz-150"]["labels"]
    assert result["confident_fraction"] == pytest.approx(float((conf > 0.9).mean()))
    assert tables["confidence-150"]["kind"] == "histogram"


def test_analysis_fails_clearly_when_a_run_left_no_files(trained, mnist_dir):
    root, _, _ = trained
    with pytest.raises(ganmap.MissingInput, match=r"gan run 2 has no generator\.pt"):
        run_job(ganmap, "ganmap", root / "4", mnist_dir, gan_run=2, classifier_run=2, sizes=[100])
    with pytest.raises(ganmap.MissingInput, match=r"classifier run 1 has no weights\.pt"):
        run_job(ganmap, "ganmap", root / "4", mnist_dir, gan_run=1, classifier_run=1, sizes=[100])


def test_ganmap_spec_needs_both_runs_and_resolves_relative_ids():
    with pytest.raises(SpecError, match="'gan_run': None is missing"):
        validate("ganmap", {"classifier_run": 2})
    with pytest.raises(SpecError, match="repeats a size"):
        validate("ganmap", {"gan_run": 1, "classifier_run": 2, "sizes": "1000,1000"})
    assert resolve_run(7, 12) == 7 and resolve_run(-2, 12) == 10


def test_tsne_is_seeded_embeds_as_asked_and_can_be_cancelled():
    x = np.random.default_rng(0).standard_normal((120, 80)).astype(np.float32)
    a, b = tsne_2d(x, seed=1, n_jobs=1), tsne_2d(x, seed=1, n_jobs=1)
    assert a.shape == (120, 2) and np.array_equal(a, b)
    assert not np.array_equal(tsne_2d(x, seed=1, n_jobs=1, pca_dims=None), a)  # 80-d as is, not PCA-50
    seen = []

    def progress(done, total):
        seen.append((done, total))
        raise JobCancelled()

    with pytest.raises(JobCancelled):
        tsne_prepared(x, 0, 1, progress)
    assert seen == [(50, 750)]


def test_scatter_image_colours_points_by_label():
    picture = scatter_image([0, 1, 0.5], [0, 1, 0.5], [0, 3, 9], "three points", size=200)
    assert picture.dtype == np.uint8 and picture.shape == (200 + 28 + 12, 200 + 24 + 70, 3)
    # x grows to the right, y upwards, inside a 12-pixel margin under a 28-pixel title band
    assert tuple(picture[28 + 2 + 195, 12 + 2]) == (31, 119, 180)    # (0, 0), digit 0, bottom left
    assert tuple(picture[28 + 2, 12 + 2 + 195]) == (214, 39, 40)     # (1, 1), digit 3, top right
    assert tuple(picture[28 + 2 + 98, 12 + 2 + 98]) == (23, 190, 207)  # (0.5, 0.5), digit 9


def test_learning_rates_hold_for_half_the_run_then_fall_to_zero():
    from jobs.gan import decay_factor

    assert [decay_factor(i, 100) for i in (0, 25, 50, 75, 100)] == [1.0, 1.0, 1.0, 0.5, 0.0]


def test_a_generator_of_the_first_dcgan_is_refused_with_what_to_do(tmp_path):
    from jobs.gan_nets import load_generator

    path = tmp_path / "generator.pt"
    torch.save({"state_dict": {}, "arch": "dcgan", "z_dim": 100}, path)  # no arch_version: the first release
    with pytest.raises(ValueError, match=r"earlier mnistlab .* train a new GAN"):
        load_generator(path)
