"""`mnistlab bench fgsm`: the attack phase of study 4, against a straightforward per-epsilon loop.

Both build the same transfer matrices (six nets, six epsilons, the test
images) in this process with the same nets, batches and evaluation code,
interleaved by attacked net (alternating which goes first), so that load
from other processes falls on both alike:

- ours (`jobs.attacks.attack_row`, what the fgsm job runs): one forward and
  backward pass of the attacked net per batch, input gradient only (weights
  frozen), every epsilon built from that one sign;
- per-epsilon: the textbook loop, one forward and backward pass per epsilon
  and batch (`F.cross_entropy(...).backward()` on nets as loaded, so weight
  gradients are computed too, as such a loop does).

Speed does not depend on what the nets learned, so the six nets are quick
stand-ins (N1, N11, N2, N22, N3, N33 trained for one epoch on 2,000 images
by default); they are trained, not random, so the matrices are meaningful
and the two implementations can be checked against each other.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jobs import data
from jobs.attacks import attack_row, freeze, on_scale, perturb, predict, valid_range
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
            "gradient_passes": row.gradient_passes, "correct": row.correct}


def per_epsilon_row(models: list[nn.Module], a: int, x: torch.Tensor, y: torch.Tensor, eps: list[float],
                    bounds: tuple[float, float] | None, batch_size: int) -> dict:
    """The straightforward implementation for attacked net `a`: a fresh gradient for every epsilon."""
    attacker = models[a]
    correct = torch.zeros(len(eps), len(models), dtype=torch.int64)
    grad_s = eval_s = 0.0
    passes = 0
    started = time.perf_counter()
    for k, e in enumerate(eps):
        for start in range(0, len(x), batch_size):
            t0 = time.perf_counter()
            xb = x[start:start + batch_size].clone().requires_grad_(True)
            yb = y[start:start + batch_size]
            loss = F.cross_entropy(attacker(xb), yb)
            attacker.zero_grad()
            loss.backward()
            adv = perturb(xb.detach(), xb.grad.sign(), e, bounds)
            t1 = time.perf_counter()
            with torch.inference_mode():
                for j, net in enumerate(models):
                    correct[k, j] += (net(adv).argmax(1) == yb).sum()
            grad_s += t1 - t0
            eval_s += time.perf_counter() - t1
            passes += 1
    return {"seconds": time.perf_counter() - started, "gradient_s": grad_s, "evaluation_s": eval_s,
            "gradient_passes": passes, "correct": correct}


def _total(rows: list[dict]) -> dict:
    out = {key: sum(r[key] for r in rows) for key in ("seconds", "gradient_s", "evaluation_s", "gradient_passes")}
    out["correct"] = torch.stack([r["correct"] for r in rows])  # (attacked, eps, evaluated)
    return out


def run(images: int = 10000, eps: list[float] | None = None, batch_size: int = 2000, scale: str = "normalized",
        clamp: bool = True, train_samples: int = 2000, train_epochs: int = 1, data_dir: str | None = None,
        log=print) -> dict:
    eps = list(eps or [0.2, 0.4, 0.5, 0.7, 0.8, 1.0])
    mnist = data.load(data_dir, train_samples)
    log(f"training six stand-in nets ({train_epochs} epoch(s) on {train_samples:,} images)...")
    trained = [stand_in(net, seed, mnist.train, train_epochs) for net, seed in STUDY_NETS]
    arrays, _ = data.arrays(data_dir)
    x = data.to_tensor(arrays["test_x"][:images], "cpu", normalize=scale == "normalized")
    y = torch.from_numpy(arrays["test_y"][:images].astype(np.int64))
    bounds = valid_range(scale) if clamp else None

    frozen = [on_scale(freeze(m), scale) for m in trained]
    # the baseline's nets: the same weights, as a straightforward loop would hold them (weights require grad)
    loose = []
    for (net, _), m in zip(STUDY_NETS, trained):
        copy = build_net(net)
        copy.load_state_dict(m.state_dict())
        loose.append(on_scale(copy.eval(), scale))

    warm = min(images, batch_size)  # first calls pay for allocations and oneDNN's kernel choices
    ours_row(frozen, 0, x[:warm], y[:warm], eps[:1], bounds, batch_size)
    per_epsilon_row(loose, 0, x[:warm], y[:warm], eps[:1], bounds, batch_size)

    # Interleaved by attacked net, alternating which goes first: on a shared machine, load that
    # comes and goes falls on both implementations alike.
    log(f"attack phase: {len(frozen)} nets x {len(eps)} eps x {images:,} images, ours and per-epsilon...")
    fast_rows, slow_rows = [], []
    for a in range(len(frozen)):
        pair = [(fast_rows, ours_row, frozen), (slow_rows, per_epsilon_row, loose)]
        for rows, row_fn, models in (pair if a % 2 == 0 else pair[::-1]):
            rows.append(row_fn(models, a, x, y, eps, bounds, batch_size))
        log(f"  attacked {STUDY_NAMES[a]}: ours {fast_rows[-1]['seconds']:.1f} s, "
            f"per-epsilon {slow_rows[-1]['seconds']:.1f} s")
    fast, slow = _total(fast_rows), _total(slow_rows)

    acc_fast = fast.pop("correct").double() / images
    acc_slow = slow.pop("correct").double() / images
    clean = [(predict(m, x, batch_size) == y).double().mean().item() for m in frozen]
    return {
        "nets": STUDY_NAMES, "eps": eps, "images": images, "batch_size": batch_size, "scale": scale,
        "clamp": clamp, "torch_threads": torch.get_num_threads(),
        "stand_ins": {"train_samples": train_samples, "epochs": train_epochs,
                      "clean_accuracy": dict(zip(STUDY_NAMES, clean))},
        "ours": fast, "per_epsilon": slow,
        "ratio": slow["seconds"] / fast["seconds"],
        "adversarial_images_per_s": {"ours": len(frozen) * len(eps) * images / fast["seconds"],
                                     "per_epsilon": len(frozen) * len(eps) * images / slow["seconds"]},
        # the two differ only where float32 cross-entropy saturates (see jobs/attacks.py)
        "max_matrix_difference": (acc_fast - acc_slow).abs().max().item(),
        "matrices": {f"{e:g}": acc_fast[:, k, :].tolist() for k, e in enumerate(eps)},
    }

