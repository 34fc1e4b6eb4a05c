"""Job kind `augment` (study 2): net A or B on the first N images, with one of SPEC's transforms.

T1-T8 augment the whole epoch's images in one call per epoch (fit's
`epoch_inputs` hook), in [0, 1] pixel space on the job's device, with
parameters drawn per image from fit's generator (so a seed fixes them, and a
resumed run draws what the uninterrupted one would have); the augmented
pixels are then normalised like every other input. T9 (MixUp) replaces the
batch loss (fit's `step_loss` hook). `none` is the baseline: the same run as
a `train` job with the same net, data and seed.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from jobs import data
from jobs.datasets import DEFAULT
from jobs.augmentations import TRANSFORMS as AUGMENTATIONS
from jobs.augmentations import mixup_loss, mixup_params
from jobs.context import Context
from jobs.data import Split
from jobs.imaging import digit_grid
from jobs.nets import build_net, build_optimizer
from jobs.spec_augment import TRANSFORMS
from jobs.training import confusion_matrix, cross_entropy_step, divergence_of, fit

SAMPLE_DRAWS = 5  # rows of augmented draws under the originals in the sample grid
SAMPLES_SEED_OFFSET = 7919  # the grid's draws come from their own generator, not the training one


def normalise(pixels: torch.Tensor, norm: data.Norm = data.MNIST_NORM) -> torch.Tensor:
    """[0, 1] pixels -> the nets' input scale (the same arithmetic as `data.load`)."""
    return (pixels - norm.mean) / norm.std


def sample_digits(split: Split, count: int = 10) -> torch.Tensor:
    """The first training image of each digit (up to `count`), for the sample grid."""
    labels = split.y.cpu().numpy()
    firsts = [int(np.argmax(labels == d)) for d in range(10) if (labels == d).any()][:count]
    return split.x[torch.tensor(firsts, device=split.x.device)]


def sample_grid(transform: str, train: Split, alpha: float, seed: int) -> tuple[np.ndarray, str]:
    """Originals on the top row, one draw of the transform per row below: a uint8 picture and its caption."""
    g = torch.Generator().manual_seed(seed + SAMPLES_SEED_OFFSET)
    digits = sample_digits(train)
    rows, extra = [digits], ""
    if transform == "T9":
        lambdas = []
        for _ in range(SAMPLE_DRAWS):  # partners from the whole training set, one lambda per draw
            lam, perm = mixup_params(len(train), alpha, g)
            lambdas.append(lam)
            partners = train.x[perm[:len(digits)].to(train.x.device)]
            rows.append(lam * digits + (1.0 - lam) * partners)
        extra = "; lambda per row: " + ", ".join(f"{v:.2f}" for v in lambdas)
    elif transform != "none":
        rows += [AUGMENTATIONS[transform](digits, g) for _ in range(SAMPLE_DRAWS)]
    grid = digit_grid(torch.cat(rows), nrow=len(digits), normalized=False)
    short, text = TRANSFORMS[transform]
    caption = (f"{transform} ({short}): {text}. Top row: the originals"
               + (f"; each row below: one draw, parameters per image{extra}" if transform != "none" else ""))
    return grid, caption


def run(spec: dict, ctx: Context) -> dict:
    started = time.perf_counter()
    ctx.seed_everything()
    device = ctx.torch_device()
    mnist = data.load(ctx.data_dir, spec["samples"], device, normalize=False,
                      dataset=spec.get("dataset", DEFAULT))
    norm = mnist.norm
    pixels = mnist.train.x  # [0, 1]: the transforms work in pixel space, as torchvision's do
    train = Split(normalise(pixels, norm), mnist.train.y)
    test = Split(normalise(mnist.test.x, norm), mnist.test.y)
    transform = spec["transform"]
    ctx.record(data=mnist.check.record(),
               augmentation={"transform": transform, "torchvision": TRANSFORMS[transform][1],
                             "where": "jobs.augmentations: whole epoch per call, per-image parameters, "
                                      f"[0, 1] pixels, then normalised ({norm.mean:g}, {norm.std:g})",
                             **({"mixup_alpha": spec["alpha"], "mixup_lambda": "one per batch"}
                                if transform == "T9" else {})})

    grid, caption = sample_grid(transform, Split(pixels, mnist.train.y), spec["alpha"], spec["seed"])
    ctx.image("samples", grid, caption, {"transform": transform})

    augment_time = [0.0]
    epoch_inputs, step_loss = None, cross_entropy_step
    if transform in AUGMENTATIONS:
        augmentation = AUGMENTATIONS[transform]

        def epoch_inputs(epoch: int, _normalised: torch.Tensor, g: torch.Generator) -> torch.Tensor:
            # fit hands over the normalised images; augment the pixels they came from instead
            t0 = time.perf_counter()
            out = normalise(augmentation(pixels, g), norm)
            if device.type == "cuda":
                torch.cuda.synchronize()
            augment_time[0] += time.perf_counter() - t0
            return out
    elif transform == "T9":
        step_loss = mixup_loss(spec["alpha"])

    model = build_net(spec["net"]).to(device)
    optimizer = build_optimizer(spec["net"], model.parameters(), spec["lr"], spec["momentum"], spec["weight_decay"])
    ctx.log(f"net {spec['net']} with {transform} ({TRANSFORMS[transform][0]}): "
            f"{sum(p.numel() for p in model.parameters()):,} parameters on {device}")
    fitted = fit(model, optimizer, train, test, ctx, epochs=spec["epochs"], batch_size=spec["batch_size"],
                 seed=spec["seed"], epoch_inputs=epoch_inputs, step_loss=step_loss,
                 divergence=divergence_of(spec))

    ctx.table("confusion", {"rows": "true digit", "columns": "predicted digit",
                            "matrix": confusion_matrix(test.y, fitted.last.predictions)})
    ctx.save_weights(model.state_dict(), {"net": spec["net"], "spec": spec, "data": mnist.check.identity,
                                          "norm": [norm.mean, norm.std]})
    return {
        "test_accuracy": fitted.last.accuracy,
        "test_loss": fitted.last.loss,
        "train_loss": fitted.epoch_train_loss[-1] if fitted.epoch_train_loss else None,
        "transform": transform,
        "epochs": spec["epochs"],
        "iterations": fitted.iterations,
        "train_time_s": fitted.train_time_s,
        "augment_time_s": augment_time[0],
        "samples_per_s": fitted.samples_per_s,
        "wall_time_s": time.perf_counter() - started,
        "resumed_from_epoch": fitted.resumed_from_epoch,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
