"""The spec of job kind `augment` (study 2: one net, one transform, on N images)."""

from __future__ import annotations

from jobs.catalog import DEFAULT_LR, NETS
from jobs.datasets import dataset_field
from jobs.run_options import run_options
from jobs.schema import Field, JobKind, SpecError

FULL_TRAIN = 60000

# SPEC.md, study 2: the transforms in torchvision's names and arguments (what the table and the
# sample grids say), and a short name for each. Torch-free: the CLI, the study and the dashboard read it.
TRANSFORMS: dict[str, tuple[str, str]] = {
    "none": ("baseline", "no augmentation"),
    "T1": ("color jitter", "ColorJitter(brightness=[0.4, 1.6], contrast=[0.4, 1.6])"),
    "T2": ("affine", "RandomAffine(degrees=(-20, 20), translate=(0.1, 0.2), scale=(0.8, 1), "
                     "shear=[-30, 30, -30, 30])"),
    "T3": ("rotation", "RandomAffine(degrees=(-20, 20))"),
    "T4": ("erasing", "RandomErasing(p=0.6, scale=(0.02, 0.1), ratio=(0.3, 0.5), value=0)"),
    "T5": ("perspective", "RandomPerspective(p=0.5)"),
    "T6": ("vertical flip", "RandomVerticalFlip(p=0.5)"),
    "T7": ("shear", "RandomAffine(degrees=0, shear=[-30, 30, -5, 5])"),
    "T8": ("perspective + affine", "RandomPerspective(p=0.4) then "
                                   "RandomAffine(degrees=(-20, 20), shear=[-20, 20, -5, 5])"),
    "T9": ("MixUp", "MixUp (Zhang et al., ICLR 2018): lambda ~ Beta(alpha, alpha), a shuffled partner, "
                    "the loss mixed with the same lambda"),
}
AUGMENT_NETS = tuple(n.id for n in NETS.values() if n.group == "augment")  # ("A", "B")


def _check(spec: dict) -> None:
    if spec["batch_size"] > spec["samples"]:
        raise SpecError("augment", "batch_size", spec["batch_size"],
                        f"at most samples ({spec['samples']})", "is larger than the training set")


KIND = JobKind(
    name="augment",
    identity=("dataset", "net", "transform", "samples", "epochs", "seed"),
    summary="train net A or B of study 2 on the first N training images with one augmentation",
    fields=(
        Field("net", str, "B", "network of study 2 (A: FC with batch norm, SGD; B: conv, Adam)",
              choices=AUGMENT_NETS),
        Field("transform", str, "none", "augmentation from SPEC.md study 2 (none is the baseline)",
              choices=tuple(TRANSFORMS)),
        Field("samples", int, 1000, "train on the first N training images", min=2, max=FULL_TRAIN),
        Field("epochs", int, 100, "passes over the training images", min=1, max=1000),
        Field("batch_size", int, 64, "training batch size", min=2, max=FULL_TRAIN),
        Field("lr", float, lambda s: DEFAULT_LR[NETS[s["net"]].optimizer],
              "learning rate (default: SGD 0.01 for A, Adam 0.001 for B)", min=0, max=10, min_exclusive=True),
        Field("momentum", float, 0.9, "SGD momentum (net A; ignored by Adam)", min=0, max=0.999),
        Field("weight_decay", float, 0.0, "L2 weight decay", min=0, max=1),
        Field("alpha", float, 1.0, "MixUp's Beta(alpha, alpha) parameter (T9 only)", min=0, max=100,
              min_exclusive=True),
        Field("seed", int, 0, "seed for initialisation, shuffling, dropout and augmentation", min=0, max=2**31 - 1),
        dataset_field(),
        *run_options(600),
    ),
    check=_check,
)
