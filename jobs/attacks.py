"""FGSM: x_adv = x + eps * sign(grad_x L(theta, x, y)), on the attacked net.

Two facts shape the code:

- The sign does not depend on eps. `gradient_sign` takes one forward and one
  backward pass per batch; `perturb` builds every eps from it.
- Only the sign of each image's input gradient matters, so any positive
  factor per image may be dropped. Cross-entropy's gradient with respect to
  the logits is p - onehot(y) = (1 - p_y) * (q - onehot(y)), with q the
  softmax over the other classes. In float32, 1 - p_y rounds to 0 once the
  net is confident (a margin of about 17 in the logits), and autograd of
  `F.cross_entropy` then returns the sum of p_k * grad z_k without the
  -grad z_y term, or exactly zero: the sign is wrong or missing on exactly the
  images a well-trained net is surest of. `gradient_sign` backpropagates
  q - onehot(y) instead, computed stably from log-probabilities: the same
  direction, never zero while any other class has a finite logit.

Scales: the nets take normalised inputs. On the `normalized` scale x is the
normalised image and eps is in standard deviations of the data set's pixels
(0.3081 in pixels for MNIST; `Norm` carries each set's); on the
`pixel` scale x is the image in [0, 1] and the net is wrapped in its
normalisation (`PixelInput`). Either way x_adv = x + eps * sign in the units
eps is given in, and clamping to the valid pixel range is explicit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from jobs.data import MNIST_NORM, Norm

SCALES = ("normalized", "pixel")


def valid_range(scale: str, norm: Norm = MNIST_NORM) -> tuple[float, float]:
    """The pixel range [0, 1] in the units of `scale`."""
    if scale == "pixel":
        return 0.0, 1.0
    if scale == "normalized":
        return (0.0 - norm.mean) / norm.std, (1.0 - norm.mean) / norm.std
    raise ValueError(f"unknown scale {scale!r}; allowed: {', '.join(SCALES)}")


class PixelInput(nn.Module):
    """A net that takes pixel-scale images: normalises, then calls the net."""

    def __init__(self, net: nn.Module, norm: Norm = MNIST_NORM):
        super().__init__()
        self.net, self.norm = net, norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.norm.mean) / self.norm.std)


def on_scale(net: nn.Module, scale: str, norm: Norm = MNIST_NORM) -> nn.Module:
    valid_range(scale)
    return PixelInput(net, norm) if scale == "pixel" else net


def freeze(net: nn.Module) -> nn.Module:
    """Eval mode, and no weight gradients: the attack only needs the input's."""
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def logit_direction(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d(cross-entropy)/d(logits) up to a positive factor per row: q - onehot(y), where q is the
    softmax over the classes other than y. Exact in direction at any confidence."""
    others = logits.detach().float().scatter(1, y[:, None], float("-inf"))
    q = torch.softmax(others, dim=1)  # row max is 0 after the shift inside softmax: never all zero
    return q.scatter(1, y[:, None], -1.0).to(logits.dtype)


def gradient_sign(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sign(grad_x L) for a batch (one forward, one backward), and the clean logits of that forward.

    The net must be in eval mode (dropout off, batch norm fixed), so each image's gradient
    depends on that image alone and the batch size changes nothing.
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = net(x)
        (grad,) = torch.autograd.grad(logits, x, grad_outputs=logit_direction(logits, y))
    return grad.sign(), logits.detach()


def perturb(x: torch.Tensor, sign: torch.Tensor, eps: float,
            bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """x + eps * sign, clipped to `bounds` (the valid range) when given."""
    adv = x + eps * sign
    return adv.clamp_(bounds[0], bounds[1]) if bounds is not None else adv


def fgsm(net: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
         bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """One epsilon (for many, call `gradient_sign` once and `perturb` per epsilon)."""
    sign, _ = gradient_sign(net, x, y)
    return perturb(x, sign, eps, bounds)


@torch.inference_mode()
def predict(net: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    return torch.cat([net(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


@dataclass
class Row:
    """One attacked net against every evaluated net: what `attack_row` measures."""

    correct: torch.Tensor          # (len(eps), len(nets)) int64: correctly classified adversarial images
    clean_correct: int             # the attacked net's correct answers on the clean images
    saturated: int = 0             # clean images where float32 cross-entropy has p_y == 1 (see above)
    kept: dict[float, torch.Tensor] = field(default_factory=dict)   # eps -> adversarial images of `keep`
    first_preds: dict[float, torch.Tensor] = field(default_factory=dict)  # eps -> nets[0]'s answers on them
    gradient_passes: int = 0
    grad_s: float = 0.0            # time in forward+backward passes of the attacked net
    eval_s: float = 0.0            # time building adversarial images and classifying them


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def attack_row(attacker: nn.Module, nets: list[nn.Module], x: torch.Tensor, y: torch.Tensor, eps: list[float],
               *, bounds: tuple[float, float] | None, batch_size: int, keep: torch.Tensor | None = None,
               keep_eps: list[float] = (), on_batch: Callable[[int, int], None] | None = None,
               check: Callable[[], None] | None = None) -> Row:
    """Attack `attacker` on all of x and classify every adversarial batch with every net.

    Per batch: one gradient pass on the attacker; then for each eps one `perturb` and one
    forward pass per net. `keep` (sorted indices into x) are images whose adversarial versions
    are returned, for eps and for `keep_eps` (extra strengths made only for these images),
    with nets[0]'s predictions on them. `check` runs before every forward pass (a job's
    cancellation check: one batch of all epsilons and nets can take many seconds on a CPU).
    """
    check = check or (lambda: None)
    device = x.device
    if keep is not None and len(keep) == 0:
        keep = None
    correct = torch.zeros(len(eps), len(nets), dtype=torch.int64, device=device)
    clean = torch.zeros((), dtype=torch.int64, device=device)
    saturated = torch.zeros((), dtype=torch.int64, device=device)
    row = Row(correct, 0)
    extra = [e for e in keep_eps if e not in eps]
    kept: dict[float, list[torch.Tensor]] = {e: [] for e in [*eps, *extra]} if keep is not None else {}
    preds: dict[float, list[torch.Tensor]] = {e: [] for e in kept}
    starts = list(range(0, len(x), batch_size))
    for b, start in enumerate(starts):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        check()
        t0 = time.perf_counter()
        sign, logits = gradient_sign(attacker, xb, yb)
        clean += (logits.argmax(1) == yb).sum()
        saturated += (torch.log_softmax(logits.float(), 1).gather(1, yb[:, None]) == 0).sum()
        _sync(device)
        t1 = time.perf_counter()
        local = None
        if keep is not None:
            local = keep[(keep >= start) & (keep < start + len(xb))] - start
        with torch.inference_mode():
            for k, e in enumerate(eps):
                adv = perturb(xb, sign, e, bounds)
                for j, net in enumerate(nets):
                    check()
                    answer = net(adv).argmax(1)
                    correct[k, j] += (answer == yb).sum()
                    if j == 0 and local is not None:
                        preds[e].append(answer[local])
                if local is not None:
                    kept[e].append(adv[local])
            if local is not None and len(local):
                for e in extra:
                    adv = perturb(xb[local], sign[local], e, bounds)
                    kept[e].append(adv)
                    preds[e].append(nets[0](adv).argmax(1))
        _sync(device)
        row.grad_s += t1 - t0
        row.eval_s += time.perf_counter() - t1
        row.gradient_passes += 1
        if on_batch is not None:
            on_batch(b + 1, len(starts))
    row.clean_correct = int(clean)
    row.saturated = int(saturated)
    row.kept = {e: torch.cat(v) for e, v in kept.items()}
    row.first_preds = {e: torch.cat(v) for e, v in preds.items()}
    return row
