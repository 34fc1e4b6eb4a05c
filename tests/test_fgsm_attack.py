"""FGSM itself (jobs/attacks.py): closed-form checks on a linear model, scales, clamping, one sign per batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from jobs import data
from jobs.attacks import (attack_row, fgsm, freeze, gradient_sign, on_scale, perturb, predict,
                          valid_range)
from jobs.nets import build_net

EPS = [0.2, 0.5, 1.0]


def test_valid_range_is_the_pixel_range_on_each_scale():
    assert valid_range("pixel") == (0.0, 1.0)
    lo, hi = valid_range("normalized")
    assert lo == pytest.approx(-0.1307 / 0.3081) and hi == pytest.approx((1 - 0.1307) / 0.3081)
    assert (lo * 0.3081 + 0.1307, hi * 0.3081 + 0.1307) == pytest.approx((0.0, 1.0))


def ramp_model(v: torch.Tensor) -> nn.Module:
    """logits_k = k * (v . x): cross-entropy's input gradient is (E_p[k] - y) * v in closed form.

    For label 0 (the smallest k) the factor is positive, for label 9 (the largest) negative, so
    sign(grad_x L) = sign(v) for y = 0 and -sign(v) for y = 9, whatever the softmax p is.
    """
    linear = nn.Linear(784, 10, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.arange(10.0)[:, None] * v.reshape(1, 784))
    return freeze(nn.Sequential(nn.Flatten(), linear))


def real_images(mnist_dir, n: int, normalize: bool) -> torch.Tensor:
    arrays, _ = data.arrays(mnist_dir)
    return data.to_tensor(arrays["test_x"][:n], "cpu", normalize=normalize)


def closed_form_case(mnist_dir, scale: str, v_scale: float = 0.01):
    torch.manual_seed(0)
    v = torch.randn(784) * v_scale
    v[v == 0] = 1e-3  # no zero components: the sign is +-1 everywhere
    x = real_images(mnist_dir, 32, normalize=scale == "normalized")
    y = torch.tensor([0, 9] * 16)
    expected = torch.where(y[:, None] == 0, v.sign(), -v.sign()).reshape(32, 1, 28, 28)
    return on_scale(ramp_model(v), scale), x, y, expected


@pytest.mark.parametrize("scale", ["normalized", "pixel"])
@pytest.mark.parametrize("clamp", [False, True])
def test_perturbation_is_eps_times_the_closed_form_sign(mnist_dir, scale, clamp):
    model, x, y, expected = closed_form_case(mnist_dir, scale)
    sign, _ = gradient_sign(model, x, y)
    assert torch.equal(sign, expected)
    bounds = valid_range(scale) if clamp else None
    lo, hi = valid_range(scale)
    for eps in EPS:
        adv = perturb(x, sign, eps, bounds)
        assert torch.equal(adv, fgsm(model, x, y, eps, bounds))  # one epsilon at a time: the same images
        unclamped = x + eps * expected
        if not clamp:
            assert torch.equal(adv, unclamped)
            assert (adv < lo).any() or (adv > hi).any()  # without clamping images leave the pixel range
        else:
            assert torch.equal(adv, unclamped.clamp(lo, hi))
            assert adv.min() >= lo and adv.max() <= hi
            inside = (unclamped >= lo) & (unclamped <= hi)
            assert inside.any() and not inside.all()
            assert torch.equal(adv[inside], unclamped[inside])


@pytest.mark.parametrize("scale", ["normalized", "pixel"])
def test_perturbation_difference_is_exactly_eps_times_sign_on_exact_numbers(mnist_dir, scale):
    """With pixels and eps that float32 represents exactly, x_adv - x == eps * sign bit for bit."""
    model, x, y, expected = closed_form_case(mnist_dir, scale)
    x = torch.round(x * 64) / 64  # multiples of 1/64: sums with eps = k/8 are exact in float32
    sign, _ = gradient_sign(model, x, y)
    for eps in (0.125, 0.25, 0.5, 1.0):
        adv = perturb(x, sign, eps)
        assert torch.equal(adv - x, eps * expected)


def test_sign_survives_a_saturated_softmax(mnist_dir):
    """A net sure of its answer: in float32, p_y rounds to 1 and autograd of F.cross_entropy loses
    the -grad z_y term (a wrong sign) or, when the other classes' p underflow, everything (zero).
    The attack's gradient keeps the closed-form sign in both cases."""
    torch.manual_seed(0)
    x = real_images(mnist_dir, 16, normalize=False)
    flat = x.reshape(16, 784)
    v = torch.randn(784).abs() + 0.1
    v = v / (flat @ v).min() * 20.0  # v . x >= 20 for every image: logit margins of 20 or more

    def naive_sign(model, y):
        leaf = x.clone().requires_grad_(True)
        F.cross_entropy(model(leaf), y).backward()
        return leaf.grad.sign()

    # Label 9, the top logit (9 * v.x): the truth is (E_p[k] - 9) * v, so -sign(v).
    model, nines = ramp_model(v), torch.full((16,), 9)
    assert torch.softmax(model(x), 1)[:, 9].eq(1.0).all()  # float32: p_9 is exactly 1
    assert torch.equal(naive_sign(model, nines), v.sign().reshape(1, 1, 28, 28).expand_as(x))  # wrong sign
    assert torch.equal(gradient_sign(model, x, nines)[0], -v.sign().reshape(1, 1, 28, 28).expand_as(x))

    # Label 0 with margins of 100 and more (-6v): every other p underflows, the naive gradient is zero.
    model, zeros = ramp_model(-6 * v), torch.zeros(16, dtype=torch.int64)
    assert torch.equal(naive_sign(model, zeros), torch.zeros_like(x))
    assert torch.equal(gradient_sign(model, x, zeros)[0], -v.sign().reshape(1, 1, 28, 28).expand_as(x))


@pytest.mark.parametrize("clamp", [False, True])
def test_the_two_scales_make_the_same_images(mnist_dir, clamp):
    """eps on the normalised scale is eps * 0.3081 on the pixel scale: the same attack."""
    torch.manual_seed(0)
    net = freeze(build_net("N1"))
    y = torch.from_numpy(data.arrays(mnist_dir)[0]["test_y"][:64].astype(np.int64))
    x_norm, x_pix = real_images(mnist_dir, 64, True), real_images(mnist_dir, 64, False)
    s_norm, _ = gradient_sign(on_scale(net, "normalized"), x_norm, y)
    s_pix, _ = gradient_sign(on_scale(net, "pixel"), x_pix, y)
    assert (s_norm == s_pix).float().mean() > 0.999  # equal up to float rounding of tiny gradients
    for eps in EPS:
        adv_norm = perturb(x_norm, s_norm, eps, valid_range("normalized") if clamp else None)
        adv_pix = perturb(x_pix, s_norm, eps * data.STD, valid_range("pixel") if clamp else None)
        assert torch.allclose(adv_norm * data.STD + data.MEAN, adv_pix, atol=1e-6)


def test_one_sign_per_batch_gives_what_a_fresh_attack_per_epsilon_gives(mnist_dir):
    """attack_row builds every epsilon from one gradient pass; the counts equal a per-epsilon
    attack image by image, and do not depend on the batch size (eval mode, per-image gradients)."""
    torch.manual_seed(0)
    nets = [on_scale(freeze(build_net(n)), "normalized") for n in ("1", "N1", "1")]
    x = real_images(mnist_dir, 200, True)
    y = torch.from_numpy(data.arrays(mnist_dir)[0]["test_y"][:200].astype(np.int64))
    bounds = valid_range("normalized")
    keep = torch.tensor([3, 100, 199])
    checks = []
    row = attack_row(nets[1], nets, x, y, EPS, bounds=bounds, batch_size=96, keep=keep, keep_eps=[0.6],
                     check=lambda: checks.append(1))
    assert row.gradient_passes == 3 and row.correct.shape == (len(EPS), len(nets))
    assert len(checks) == 3 * (1 + len(EPS) * len(nets))  # before every forward pass: cancellable
    for k, eps in enumerate(EPS):
        adv = fgsm(nets[1], x, y, eps, bounds)
        expected = [int((predict(net, adv) == y).sum()) for net in nets]
        assert row.correct[k].tolist() == expected
        assert torch.equal(row.kept[eps], adv[keep])
        assert torch.equal(row.first_preds[eps], predict(nets[0], adv[keep]))
    assert torch.equal(row.kept[0.6], fgsm(nets[1], x, y, 0.6, bounds)[keep])  # t-SNE-only epsilon
    assert row.clean_correct == int((predict(nets[1], x) == y).sum())
    other = attack_row(nets[1], nets, x, y, EPS, bounds=bounds, batch_size=200)
    assert torch.equal(other.correct, row.correct)
