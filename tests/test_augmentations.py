"""Study 2's batched transforms against torchvision's own, one image at a time, on real MNIST digits."""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms as T
import torchvision.transforms.functional as TF

from jobs import data
from jobs.augmentations import (TRANSFORMS, RandomAffine, RandomPerspective, mixup, mixup_loss, mixup_params,
                                torchvision_reference)

SIZE = (28, 28)
GEOMETRIC = ["T2", "T3", "T5", "T7", "T8"]


@pytest.fixture(scope="module")
def digits(mnist_dir) -> torch.Tensor:
    """The first 200 training images as [0, 1] pixels."""
    return data.load(mnist_dir, 200, normalize=False).train.x


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@contextmanager
def one_thread():
    """For torchvision's one-tiny-image calls: more threads only contend (and crawl on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def within_binomial(hits: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(hits - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


# -- the parameters ------------------------------------------------------------------------------

def test_parameters_stay_inside_spec_ranges_and_cover_them():
    n, g = 20000, gen()

    def covers(values, low, high, slack):
        values = np.asarray(values)
        return low <= values.min() <= low + slack and high - slack <= values.max() <= high

    t1 = TRANSFORMS["T1"].sample(n, g, SIZE)
    assert covers(t1.brightness, 0.4, 1.6, 0.01) and covers(t1.contrast, 0.4, 1.6, 0.01)
    assert within_binomial(int(t1.brightness_first.sum()), n, 0.5)

    t2 = TRANSFORMS["T2"].sample(n, g, SIZE)
    assert covers(t2.angle, -20, 20, 0.05) and covers(t2.scale, 0.8, 1.0, 0.001)
    assert covers(t2.shear[:, 0], -30, 30, 0.05) and covers(t2.shear[:, 1], -30, 30, 0.05)
    # translate=(0.1, 0.2): round(uniform(-2.8, 2.8)) and round(uniform(-5.6, 5.6)) whole pixels
    assert set(np.unique(t2.translate[:, 0])) == set(range(-3, 4))
    assert set(np.unique(t2.translate[:, 1])) == set(range(-6, 7))
    assert within_binomial(int((t2.translate[:, 0] == 3).sum()), n, 0.3 / 5.6)

    t3 = TRANSFORMS["T3"].sample(n, g, SIZE)
    assert covers(t3.angle, -20, 20, 0.05)
    assert not t3.translate.any() and (t3.scale == 1).all() and not t3.shear.any()

    t7 = TRANSFORMS["T7"].sample(n, g, SIZE)
    assert not t7.angle.any() and not t7.translate.any() and (t7.scale == 1).all()
    assert covers(t7.shear[:, 0], -30, 30, 0.05) and covers(t7.shear[:, 1], -5, 5, 0.01)

    persp, affine = TRANSFORMS["T8"].sample(n, g, SIZE)
    assert within_binomial(int(persp.applied.sum()), n, 0.4)
    assert covers(affine.angle, -20, 20, 0.05) and not affine.translate.any() and (affine.scale == 1).all()
    assert covers(affine.shear[:, 0], -20, 20, 0.05) and covers(affine.shear[:, 1], -5, 5, 0.01)

    # RandomPerspective(distortion_scale=0.5) on 28x28: every corner moves inwards by 0..7 whole pixels
    t5 = TRANSFORMS["T5"].sample(n, g, SIZE)
    assert within_binomial(int(t5.applied.sum()), n, 0.5)
    inward = (t5.end - t5.start) * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
    assert set(np.unique(inward)) == set(range(8))
    assert within_binomial(int((inward[:, 0, 0] == 7).sum()), n, 1 / 8)

    assert within_binomial(int(TRANSFORMS["T6"].sample(n, g, SIZE).sum()), n, 0.5)
    assert within_binomial(int(TRANSFORMS["T4"].sample(n, g, SIZE).applied.sum()), n, 0.6)


@pytest.mark.parametrize("alpha", [1.0, 0.4])
def test_mixup_lambda_is_beta_alpha_alpha(alpha):
    g = gen()
    lambdas = np.array([mixup_params(8, alpha, g)[0] for _ in range(4000)])
    assert ((lambdas >= 0) & (lambdas <= 1)).all()
    mean, var = 0.5, 1 / (4 * (2 * alpha + 1))  # Beta(a, a)
    assert abs(lambdas.mean() - mean) < 5 * math.sqrt(var / len(lambdas))
    assert abs(lambdas.var() - var) < 0.1 * var


# -- what each transform does to the pixels ------------------------------------------------------

@pytest.mark.parametrize("tid", GEOMETRIC + ["T1"])
def test_two_identical_images_in_one_batch_come_out_different(digits, tid):
    """Parameters are drawn per image, not per batch: one draw per batch would turn 64 copies of a digit
    into 64 equal images. Here nearly all differ; the few equal ones are draws too small to move a pixel
    under nearest sampling (a rotation of a degree or two), and, for T5 (p = 0.5), the untouched copies."""
    batch = digits[:1].repeat(64, 1, 1, 1)
    out = TRANSFORMS[tid](batch, gen(1))
    distinct = len(torch.unique(out.flatten(1), dim=0))
    if tid == "T5":
        changed = (out != batch).flatten(1).any(1)
        assert 16 <= changed.sum() <= 48 and distinct == changed.sum() + 1
    else:
        assert distinct >= 48
    assert not torch.equal(out[0], out[1]) or not torch.equal(out[1], out[2])


def test_vertical_flip_flips_exactly_the_chosen_images(digits):
    t6 = TRANSFORMS["T6"]
    chosen = torch.from_numpy(t6.sample(len(digits), gen(2), SIZE))
    out = t6(digits, gen(2))  # the same generator state draws the same choices
    assert 60 < chosen.sum() < 140
    assert torch.equal(out[chosen], digits[chosen].flip(-2))
    assert torch.equal(out[~chosen], digits[~chosen])
    assert not torch.equal(digits[chosen].flip(-2), digits[chosen])  # the flips are visible


def test_erasing_erases_one_box_within_scale_and_ratio():
    """RandomErasing(p=0.6, scale=(0.02, 0.1), ratio=(0.3, 0.5), value=0) on images with no zero pixel:
    the zeros form one rectangle whose area and height/width can come from those bounds (torchvision rounds
    the box's sides to whole pixels, so the rounded box is checked against the bounds it can round from)."""
    n = 2000
    images = torch.rand(n, 1, 28, 28, generator=gen(3)) * 0.9 + 0.1
    out = TRANSFORMS["T4"](images, gen(4))
    erased = out[:, 0] == 0
    assert torch.equal(out[~erased.unsqueeze(1)], images[~erased.unsqueeze(1)])  # nothing else changed
    touched = erased.flatten(1).any(1)
    assert within_binomial(int(touched.sum()), n, 0.6)
    for mask in erased[touched]:
        rows, cols = mask.any(1).nonzero().squeeze(1), mask.any(0).nonzero().squeeze(1)
        h, w = len(rows), len(cols)
        assert rows[-1] - rows[0] + 1 == h and cols[-1] - cols[0] + 1 == w and mask.sum() == h * w  # one box
        area = 28 * 28
        assert (h - 0.5) * (w - 0.5) <= 0.1 * area and (h + 0.5) * (w + 0.5) >= 0.02 * area
        assert (h - 0.5) / (w + 0.5) <= 0.5 and (h + 0.5) / (w - 0.5) >= 0.3


def _torchvision_one(tid: str, image: torch.Tensor, p) -> torch.Tensor:
    """torchvision's functional transform of one image with the parameters the batch drew for it."""
    def affine(img, a, i):
        return TF.affine(img, float(a.angle[i]), [int(v) for v in a.translate[i]], float(a.scale[i]),
                         [float(v) for v in a.shear[i]], interpolation=T.InterpolationMode.NEAREST, fill=[0.0])

    def perspective(img, q, i):
        if not q.applied[i]:
            return img
        return TF.perspective(img, q.start.astype(int).tolist(), q.end[i].astype(int).tolist(),
                              interpolation=T.InterpolationMode.BILINEAR, fill=[0.0])

    i = p["i"]
    if tid in ("T2", "T3", "T7"):
        return affine(image, p["p"], i)
    if tid == "T5":
        return perspective(image, p["p"], i)
    if tid == "T8":
        q, a = p["p"]
        return affine(perspective(image, q, i), a, i)
    if tid == "T1":
        q = p["p"]
        b, c = float(q.brightness[i]), float(q.contrast[i])
        if q.brightness_first[i]:
            return TF.adjust_contrast(TF.adjust_brightness(image, b), c)
        return TF.adjust_brightness(TF.adjust_contrast(image, c), b)
    if tid == "T4":
        q = p["p"]
        if not q.applied[i]:
            return image
        return TF.erase(image, int(q.top[i]), int(q.left[i]), int(q.height[i]), int(q.width[i]), torch.tensor(0.0))
    if tid == "T6":
        return TF.vflip(image) if p["p"][i] else image
    raise KeyError(tid)


@pytest.mark.parametrize("tid", list(TRANSFORMS))
def test_batched_transform_equals_torchvision_on_each_image(digits, tid):
    """Given the parameters the batch drew, every image is what torchvision's functional transform makes of
    it: bit for bit, except for bilinear sampling (perspective), where the batched grid's arithmetic may
    differ in the last float32 bits. A third of the images get a bright left edge, so that torchvision's
    way of filling outside the image (it multiplies by a warped channel of ones) is exercised too."""
    transform = TRANSFORMS[tid]
    digits = digits.clone()
    digits[::3, :, :, :2] = 0.8  # some images with ink on their border (torchvision's bilinear fill shows there)
    params = transform.sample(len(digits), gen(5), SIZE)
    out = transform.apply(digits, params)
    with one_thread():
        expected = torch.stack([_torchvision_one(tid, digits[i], {"p": params, "i": i}) for i in range(len(digits))])
    if tid in ("T5", "T8"):
        assert (out - expected).abs().max() < 1e-5
    else:
        assert torch.equal(out, expected)


# -- in distribution: the parameters' draws included ----------------------------------------------

DRAWS = 1000  # augmentations of each of 4 digits, on each side


def image_statistics(images: torch.Tensor) -> dict[str, np.ndarray]:
    """Per image: ink (mean pixel), ink centroid (x, y), second moments (xx, yy, xy) about it in pixels,
    and the orientation of the ink's principal axis (radians)."""
    x = images[:, 0].double()
    ink = x.sum((1, 2)).clamp_min(1e-9)
    ys, xs = torch.meshgrid(torch.arange(28.0, dtype=torch.float64), torch.arange(28.0, dtype=torch.float64),
                            indexing="ij")
    cx, cy = (x * xs).sum((1, 2)) / ink, (x * ys).sum((1, 2)) / ink
    dx, dy = xs - cx[:, None, None], ys - cy[:, None, None]
    mxx, myy, mxy = ((x * m).sum((1, 2)) / ink for m in (dx * dx, dy * dy, dx * dy))
    out = {"ink": x.mean((1, 2)), "cx": cx, "cy": cy, "xx": mxx, "yy": myy, "xy": mxy,
           "axis": 0.5 * torch.atan2(2 * mxy, mxx - myy)}
    return {k: v.numpy() for k, v in out.items()}


def agree(a: np.ndarray, b: np.ndarray, sigmas: float = 4.5) -> tuple[bool, str]:
    """Same mean and same variance, each within `sigmas` standard errors of the difference.

    The standard error of a mean is sqrt(var / n); that of a sample variance is sqrt((m4 - var^2) / n)
    (m4 the fourth central moment), estimated from each sample. With n = 1,000 draws of one digit per
    side, 4.5 standard errors make a false alarm about 1 in 150,000 per comparison (about 1 in 330 over
    the 448 here: mean and variance of 7 statistics of 4 digits under 8 transforms, all with fixed
    seeds; the largest z among them is about 3), while
    rotations of +-15 instead of +-20 degrees or flips with p = 0.35 instead of 0.5 fail
    (test_the_distribution_check_tells_close_transforms_apart).
    """
    def moments(v):
        c = v - v.mean()
        return v.mean(), (c ** 2).mean(), (c ** 4).mean()

    (ma, va, m4a), (mb, vb, m4b) = moments(a), moments(b)
    n_a, n_b = len(a), len(b)
    se_mean = math.sqrt(va / n_a + vb / n_b)
    se_var = math.sqrt(max(m4a - va ** 2, 0) / n_a + max(m4b - vb ** 2, 0) / n_b)
    z_mean = abs(ma - mb) / se_mean if se_mean > 0 else (0.0 if ma == mb else math.inf)
    z_var = abs(va - vb) / se_var if se_var > 0 else (0.0 if va == vb else math.inf)
    return z_mean <= sigmas and z_var <= sigmas, f"z(mean) {z_mean:.1f}, z(var) {z_var:.1f}"


def disagreements(digits: torch.Tensor, batched, per_image, seed: int) -> list[str]:
    """DRAWS augmentations of each of 4 digits by the batched transform (one call for all) and by
    torchvision (one call per image); every statistic of every digit compared."""
    chosen = digits[[0, 1, 2, 3]]
    batch = chosen.repeat_interleave(DRAWS, 0)
    ours = batched(batch, gen(seed))
    torch.manual_seed(seed)
    with one_thread():
        theirs = torch.stack([per_image(image) for image in batch])
    found = []
    for d in range(len(chosen)):
        a = image_statistics(ours[d * DRAWS:(d + 1) * DRAWS])
        b = image_statistics(theirs[d * DRAWS:(d + 1) * DRAWS])
        for stat in a:
            ok, why = agree(a[stat], b[stat])
            if not ok:
                found.append(f"digit {d} {stat}: {why}")
    return found


@pytest.mark.parametrize("tid", list(TRANSFORMS))
def test_augmented_images_match_torchvision_in_distribution(digits, tid):
    assert disagreements(digits, TRANSFORMS[tid], torchvision_reference(tid), seed=6) == []


def test_the_distribution_check_tells_close_transforms_apart(digits):
    """The tolerance above is not vacuous: rotations of +-20 against +-15 degrees, and flips with
    p = 0.5 against p = 0.35, fail it."""
    assert disagreements(digits, TRANSFORMS["T3"], T.RandomAffine(degrees=(-15, 15)), seed=7)
    assert disagreements(digits, TRANSFORMS["T6"], T.RandomVerticalFlip(p=0.35), seed=8)


# -- determinism, and MixUp's loss ------------------------------------------------------------------

@pytest.mark.parametrize("tid", list(TRANSFORMS))
def test_a_seed_fixes_the_augmentation(digits, tid):
    transform = TRANSFORMS[tid]
    g = gen(9)
    first, second = transform(digits, g), transform(digits, g)
    assert torch.equal(first, transform(digits, gen(9)))  # same generator state, same images
    assert not torch.equal(first, second)  # the next epoch draws again
    assert first.shape == digits.shape and first.dtype == digits.dtype and first.min() >= 0 and first.max() <= 1


def test_mixup_mixes_inputs_and_losses_with_one_lambda(digits):
    """Zhang et al. 2018: x = lam x_i + (1 - lam) x_j, loss = lam CE(y_i) + (1 - lam) CE(y_j), one lambda."""
    x, y = digits[:32], torch.arange(32) % 10
    seen = []

    def model(inputs):
        seen.append(inputs)
        return inputs.flatten(1)[:, :10] * 3.0

    g = gen(10)
    lam, partner = mixup_params(len(x), 1.0, gen(10))
    loss = mixup_loss(1.0)(model, x, y, g)
    mixed = mixup(x, lam, partner)
    assert torch.equal(seen[0], mixed) and torch.allclose(mixed, lam * x + (1 - lam) * x[partner])
    expected = lam * F.cross_entropy(model(mixed), y) + (1 - lam) * F.cross_entropy(model(mixed), y[partner])
    assert torch.allclose(loss, expected)
    assert 0 < lam < 1 and not torch.equal(partner, torch.arange(32))


def test_affine_matrix_is_torchvisions():
    """The batched inverse matrix is torchvision's `_get_inverse_affine_matrix` for each image's parameters."""
    from torchvision.transforms.functional import _get_inverse_affine_matrix

    p = TRANSFORMS["T2"].sample(50, gen(11), SIZE)
    ours = RandomAffine.inverse_matrix(p).reshape(50, 6)
    for i in range(50):
        expected = _get_inverse_affine_matrix([0.0, 0.0], float(p.angle[i]), p.translate[i].tolist(),
                                              float(p.scale[i]), p.shear[i].tolist())
        assert np.allclose(ours[i], expected, rtol=0, atol=1e-12)


def test_perspective_coefficients_are_torchvisions():
    from torchvision.transforms.functional import _get_perspective_coeffs

    p = RandomPerspective(p=1.0).sample(50, gen(12), SIZE)
    ours = RandomPerspective.coefficients(p.start, p.end)
    for i in range(50):
        expected = _get_perspective_coeffs(p.start.astype(int).tolist(), p.end[i].astype(int).tolist())
        assert np.allclose(ours[i], expected, rtol=1e-6, atol=1e-6)
