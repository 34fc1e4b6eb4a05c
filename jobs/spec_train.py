"""The spec of job kind `train` (study 1: one net of the zoo on N images)."""

from __future__ import annotations

from jobs.catalog import DEFAULT_LR, NETS
from jobs.datasets import dataset_field
from jobs.run_options import run_options
from jobs.schema import Field, JobKind, SpecError

FULL_TRAIN = 60000


def _default_epochs(spec: dict) -> int:
    # SPEC's two regimes: 1,000 images for 10 epochs, 60,000 images for 4.
    return 4 if spec["samples"] >= FULL_TRAIN else 10


def _check(spec: dict) -> None:
    if spec["batch_size"] > spec["samples"]:
        raise SpecError("train", "batch_size", spec["batch_size"],
                        f"at most samples ({spec['samples']})", "is larger than the training set")


KIND = JobKind(
    name="train",
    identity=("dataset", "net", "as_published", "samples", "epochs", "seed"),
    summary="train one net of the zoo on the first N training images (MNIST unless --dataset)",
    fields=(
        Field("net", str, "10.1", "network id (`mnistlab nets` lists each net's layers and optimiser)", choices=tuple(NETS)),
        Field("samples", int, 1000, "train on the first N training images", min=1, max=FULL_TRAIN),
        Field("epochs", int, _default_epochs, "passes over the training images (default 10, or 4 for 60,000)",
              min=1, max=1000),
        Field("batch_size", int, 64, "training batch size", min=1, max=FULL_TRAIN),
        Field("lr", float, lambda s: DEFAULT_LR[NETS[s["net"]].optimizer],
              "learning rate (default: SGD 0.01, Adam 0.001, Adadelta 1.0)", min=0, max=10, min_exclusive=True),
        Field("momentum", float, 0.9, "SGD momentum (ignored by Adam and Adadelta)", min=0, max=0.999),
        Field("weight_decay", float, 0.0, "L2 weight decay", min=0, max=1),
        Field("seed", int, 0, "seed for initialisation, shuffling and dropout", min=0, max=2**31 - 1),
        Field("as_published", bool, False, "build the net as the published study did: a softmax after the last "
              "layer, so that cross-entropy is applied to probabilities (a double softmax)"),
        dataset_field(),
        *run_options(600),
    ),
    check=_check,
)
