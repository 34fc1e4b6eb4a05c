"""The spec of job kind `gan` (study 3: a GAN trained on the first N MNIST training images)."""

from __future__ import annotations

from jobs.datasets import dataset_field
from jobs.run_options import run_options
from jobs.schema import Field, JobKind, SpecError

FULL_TRAIN = 60000
ARCHS = ("dcgan", "mlp")  # jobs.gan_nets builds them (kept here too: specs stay torch-free)


def _default_epochs(spec: dict) -> int:
    # The DCGAN's digits are clearly classifiable after a few epochs on 60,000 images (about a minute
    # each on two CPU cores) and sharpen while the learning rates fall; the MLP GAN learns more slowly
    # per epoch but each costs far less.
    return 10 if spec["arch"] == "dcgan" else 40


def _check(spec: dict) -> None:
    if spec["batch_size"] > spec["samples"]:
        raise SpecError("gan", "batch_size", spec["batch_size"],
                        f"at most samples ({spec['samples']})", "is larger than the training set")


KIND = JobKind(
    name="gan",
    identity=("dataset", "arch", "samples", "epochs", "seed"),
    summary="train a GAN (generator and discriminator) on the first N MNIST training images",
    fields=(
        Field("arch", str, "dcgan", "generator/discriminator pair: a small DCGAN or an MLP GAN", choices=ARCHS),
        Field("samples", int, FULL_TRAIN, "train on the first N training images", min=2, max=FULL_TRAIN),
        Field("epochs", int, _default_epochs, "passes over the training images (default 10 for dcgan, 40 for mlp)",
              min=1, max=1000),
        Field("z_dim", int, 100, "dimension of the latent vectors z ~ N(0, I)", min=1, max=1024),
        Field("batch_size", int, 64, "training batch size (real images; as many fakes)", min=2, max=FULL_TRAIN),
        Field("lr", float, 2e-4, "Adam learning rate of both nets", min=0, max=1, min_exclusive=True),
        Field("beta1", float, 0.5, "Adam beta1 of both nets (DCGAN's 0.5)", min=0, max=0.999),
        Field("ema", float, 0.999, "decay of the moving average of the generator's weights that is sampled and "
              "saved (0: the last weights)", min=0, max=0.9999),
        Field("lr_decay", bool, True, "keep the learning rates for the first half of the iterations, then decay "
              "them linearly to 0"),
        Field("grid", int, 100, "digits in the grid drawn every epoch from one fixed z batch",
              min=1, max=400),
        Field("seed", int, 0, "seed for initialisation, shuffling, the noise and the fixed z batch",
              min=0, max=2**31 - 1),
        dataset_field("data set the GAN learns to draw (`mnistlab study gan` maps MNIST GANs only: its "
                      "classifier, net 11.1, reads digits)"),
        *run_options(600),
    ),
    headline="d_fake",  # D(G(z)), a probability the discriminator gives, not a share of anything
    headline_is_fraction=False,
    check=_check,
)
