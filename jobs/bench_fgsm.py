"""`mnistlab bench fgsm`: the attack phase of study 4 against the loop people copy, and against its floor.

All three build the transfer matrices of six nets under six epsilons in this
process, with the same nets and test images:

- ours (`jobs.attacks.attack_row`, what the fgsm job runs): per batch, one
  forward and backward pass of the attacked net (input gradient only), every
  epsilon built from that sign, each adversarial batch classified by the six
  nets under inference mode;
- per image: the PyTorch FGSM tutorial's loop, one image at a time (forward,
  loss, backward, perturb, then the six nets classify the one image), per
  epsilon. Its cost per image does not depend on how many images there are,
  so it is timed on `reference_images` images and scaled to all of them (the
  result says so);
- the floor: only the passes no implementation can skip, timed alone: one
  forward and backward pass per attacked net over all images, and the six
  nets' forward passes over every adversarial image (built beforehand, not
  timed), in batches of `batch_size` under inference mode.

Ours and the floor run interleaved by attacked net (alternating which goes
first), so load from other processes falls on both alike. Speed does not
depend on what the nets learned, so they are quick stand-ins (N1, N11, N2,
N22, N3, N33 trained for one epoch on 2,000 images by default); trained, not
random, so the matrices mean something and the implementations can be
checked against each other.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jobs import data
from jobs.attacks import attack_row, freeze, gradient_sign, on_scale, perturb, predict, valid_range
from jobs.catalog import DEFAULT_LR, NETS
from jobs.nets import build_net, build_optimizer
from jobs.training import batch_starts

STUDY_NETS = [("N1", 0), ("N1", 1), ("N2", 0), ("N2", 1), ("N3", 0), ("N3", 1)]
STUDY_NAMES = ["N1", "N11", "N2", "N22", "N3", "N33"]


def stand_in(net_id: str, seed: int, train: data.Split, epochs: int, batch_size: int = 64) -> nn.Module:
    torch.manual_seed(seed)
    model = build_net(net_id)
    opt = build_optimizer(net_id, model.parameters(), DEFAULT_LR[NETS[net_id].optimizer])
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(train), generator=gen)
        for s in batch_starts(len(train), batch_size):
            idx = order[s:s + batch_size]
            loss = F.cross_entropy(model(train.x[idx]), train.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval()


def ours_row(models: list[nn.Module], a: int, x: torch.Tensor, y: torch.Tensor, eps: list[float],
             bounds: tuple[float, float] | None, batch_size: int) -> dict:
    """What the fgsm job runs for attacked net `a`."""
    started = time.perf_counter()
    row = attack_row(models[a], models, x, y, eps, bounds=bounds, batch_size=batch_size)
    return {"seconds": time.perf_counter() - started, "gradient_s": row.grad_s, "evaluation_s": row.eval_s,
            "correct": row.correct}


def floor_row(models: list[nn.Module], a: int, x: torch.Tensor, y: torch.Tensor, eps: list[float],
              bounds: tuple[float, float] | None, batch_size: int) -> dict:
    """The passes that cannot be skipped for attacked net `a`, each timed alone."""
    signs = [gradient_sign(models[a], x[s:s + batch_size], y[s:s + batch_size])[0]
             for s in range(0, len(x), batch_size)]  # untimed: the adversarial images to classify
    adversarial = [perturb(x, torch.cat(signs), e, bounds) for e in eps]
    t0 = time.perf_counter()
    for s in range(0, len(x), batch_size):
        gradient_sign(models[a], x[s:s + batch_size], y[s:s + batch_size])
    t1 = time.perf_counter()
    with torch.inference_mode():
        for adv in adversarial:
            for net in models:
                for s in range(0, len(x), batch_size):
                    net(adv[s:s + batch_size])
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "gradient_s": t1 - t0, "evaluation_s": t2 - t1}


def per_image_row(models: list[nn.Module], a: int, x: torch.Tensor, y: torch.Tensor, eps: list[float],
                  bounds: tuple[float, float] | None) -> dict:
    """The PyTorch tutorial's FGSM loop for attacked net `a`: one image at a time, per epsilon."""
    attacker = models[a]
    correct = torch.zeros(len(eps), len(models), dtype=torch.int64)
    started = time.perf_counter()
    for k, e in enumerate(eps):
        for i in range(len(x)):
            image, label = x[i:i + 1].clone().requires_grad_(True), y[i:i + 1]
            loss = F.cross_entropy(attacker(image), label)
            attacker.zero_grad()
            loss.backward()
            adv = perturb(image.detach(), image.grad.sign(), e, bounds)
            with torch.no_grad():
                for j, net in enumerate(models):
                    correct[k, j] += int(net(adv).argmax(1).item() == label.item())
    return {"seconds": time.perf_counter() - started, "correct": correct}


def _sum(rows: list[dict], keys: tuple[str, ...]) -> dict:
    return {key: sum(r[key] for r in rows) for key in keys}


def run(images: int = 10000, eps: list[float] | None = None, batch_size: int = 2000, scale: str = "normalized",
        clamp: bool = True, train_samples: int = 2000, train_epochs: int = 1, reference_images: int = 100,
        data_dir: str | None = None, log=print) -> dict:
    eps = list(eps or [0.2, 0.4, 0.5, 0.7, 0.8, 1.0])
    mnist = data.load(data_dir, train_samples)
    log(f"training six stand-in nets ({train_epochs} epoch(s) on {train_samples:,} images)...")
    trained = [stand_in(net, seed, mnist.train, train_epochs) for net, seed in STUDY_NETS]
    arrays, _ = data.arrays(data_dir)
    x = data.to_tensor(arrays["test_x"][:images], "cpu", normalize=scale == "normalized")
    y = torch.from_numpy(arrays["test_y"][:images].astype(np.int64))
    bounds = valid_range(scale) if clamp else None
    frozen = [on_scale(freeze(m), scale) for m in trained]
    # the tutorial's nets: the same weights, as it holds them (weights require grad)
    loose = []
    for (net, _), m in zip(STUDY_NETS, trained):
        copy = build_net(net)
        copy.load_state_dict(m.state_dict())
        loose.append(on_scale(copy.eval(), scale))

    warm = min(images, batch_size)  # first calls pay for allocations and oneDNN's kernel choices
    ours_row(frozen, 0, x[:warm], y[:warm], eps[:1], bounds, batch_size)
    floor_row(frozen, 0, x[:warm], y[:warm], eps[:1], bounds, batch_size)
    per_image_row(loose, 0, x[:5], y[:5], eps[:1], bounds)

    log(f"attack phase: {len(frozen)} nets x {len(eps)} eps x {images:,} images, ours and its floor...")
    fast, floor = [], []
    for a in range(len(frozen)):
        pair = [(fast, ours_row), (floor, floor_row)]
        for rows, row_fn in (pair if a % 2 == 0 else pair[::-1]):
            rows.append(row_fn(frozen, a, x, y, eps, bounds, batch_size))
        log(f"  attacked {STUDY_NAMES[a]}: ours {fast[-1]['seconds']:.1f} s, floor {floor[-1]['seconds']:.1f} s")
    n_ref = min(reference_images, images)
    log(f"per-image reference (the PyTorch tutorial's loop) on the first {n_ref} images...")
    reference = [per_image_row(loose, a, x[:n_ref], y[:n_ref], eps, bounds) for a in range(len(loose))]
    ours_small = [ours_row(frozen, a, x[:n_ref], y[:n_ref], eps, bounds, batch_size) for a in range(len(frozen))]

    ours = {**_sum(fast, ("seconds", "gradient_s", "evaluation_s"))}
    floor_total = _sum(floor, ("seconds", "gradient_s", "evaluation_s"))
    per_image_s = sum(r["seconds"] for r in reference) / n_ref
    per_image = {"measured_images": n_ref, "measured_seconds": per_image_s * n_ref, "seconds_per_image": per_image_s,
                 "seconds": per_image_s * images, "scaled": n_ref < images}
    acc_fast = torch.stack([r["correct"] for r in fast]).double() / images
    acc_ref = torch.stack([r["correct"] for r in reference]).double() / n_ref
    acc_small = torch.stack([r["correct"] for r in ours_small]).double() / n_ref
    clean = [(predict(m, x, batch_size) == y).double().mean().item() for m in frozen]
    total = len(frozen) * len(eps) * images
    return {
        "nets": STUDY_NAMES, "eps": eps, "images": images, "batch_size": batch_size, "scale": scale, "clamp": clamp,
        "torch_threads": torch.get_num_threads(),
        "stand_ins": {"train_samples": train_samples, "epochs": train_epochs,
                      "clean_accuracy": dict(zip(STUDY_NAMES, clean))},
        "ours": ours, "floor": floor_total, "per_image": per_image,
        "ratio_per_image": per_image["seconds"] / ours["seconds"],
        "ratio_to_floor": ours["seconds"] / floor_total["seconds"],
        "adversarial_images_per_s": {"ours": total / ours["seconds"], "floor": total / floor_total["seconds"],
                                     "per_image": len(eps) * len(frozen) / per_image_s},
        # ours and the tutorial differ only where float32 cross-entropy saturates (see jobs/attacks.py)
        "max_difference_to_per_image": (acc_small - acc_ref).abs().max().item(),
        "matrices": {f"{e:g}": acc_fast[:, k, :].tolist() for k, e in enumerate(eps)},
    }
