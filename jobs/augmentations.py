"""Study 2's transforms as batched augmentation with per-image random parameters.

Each transform is the torchvision transform SPEC.md names (same arguments,
same parameter distributions, same pixel arithmetic), but applied to a whole
(N, 1, H, W) batch of [0, 1] pixels in one call:

1. `sample(n, generator, size)` draws every image's parameters on the CPU,
   from the generator it is given (a seed fixes them on any device), from
   the distributions torchvision's `get_params` draws one image's from;
2. `apply(x, params)` transforms the batch on its own device: the geometric
   transforms build one sampling grid per image (torchvision's own grid
   formulas, batched) and call `grid_sample` once; the others are a few
   elementwise operations.

Why not kornia.augmentation (measured side by side by `mnistlab bench
augment`, one CPU thread): its modules draw per-image parameters, but for the
geometric transforms (T2, T3, T5, T7, T8) they run 3 to 7 times slower than
the grids here (which run T8 about 15 times as fast as torchvision's
DataLoader pipeline at batch 64, 25 times for a whole epoch in one call); and its sampling is not torchvision's: translations and
perspective offsets are continuous instead of whole pixels, erasing ratios
uniform instead of log-uniform, and ColorJitter draws the order of
brightness and contrast once per batch instead of once per image. The
batched transforms here give torchvision's pixels for the same parameters
(tests/test_augmentations.py checks that image by image, and the
distributions over thousands of draws).

MixUp (T9) mixes pairs and their losses, so it is a training-step hook
(`mixup_loss`), not a pixel transform.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

Size = tuple[int, int]  # (height, width)


def _uniforms(n: int, k: int, g: torch.Generator) -> np.ndarray:
    """(n, k) uniforms in [0, 1) from the job's generator, in one call: the raw randomness of n images.

    The parameters are computed from them with numpy: for batches of tens of
    images, a few numpy operations cost less than the torch calls they replace.
    """
    return torch.rand(n, k, generator=g, dtype=torch.float64).numpy()


def _between(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """`torch.empty(1).uniform_(low, high)`, per image."""
    return low + (high - low) * u


def _whole(u: np.ndarray, low: int, high: int) -> np.ndarray:
    """`torch.randint(low, high + 1)`, per image: a uniform whole number of low..high."""
    return low + np.floor(u * (high - low + 1))


def _device_mask(mask: np.ndarray, x: Tensor, shape: tuple[int, ...] = (-1, 1, 1, 1)) -> Tensor:
    return torch.from_numpy(mask).view(shape).to(x.device)


class Augmentation:
    """A batched transform: per-image parameters drawn on the CPU, pixels changed on x's device."""

    def sample(self, n: int, g: torch.Generator, size: Size):
        raise NotImplementedError

    def apply(self, x: Tensor, params) -> Tensor:
        raise NotImplementedError

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor:
        return self.apply(x, self.sample(len(x), g, (x.shape[-2], x.shape[-1])))


# -- geometric: one grid per image, one grid_sample ---------------------------------------------

@lru_cache(maxsize=16)
def _base_grid(h: int, w: int, centred: bool, k: int, device: torch.device) -> Tensor:
    """The (3 k, h*w*k) matrix that maps every image's (3, k) matrix, flattened, to its grid (h*w, k).

    The grid holds homogeneous pixel-centre coordinates as torchvision builds them: relative to
    the image centre (`centred`, its affine grid) or from the top-left corner (its perspective grid,
    PIL's convention). Spread over k columns (a Kronecker product with the k x k identity), one
    matrix product (n, 3 k) x (3 k, h*w*k) gives the n grids already laid out (n, h*w, k), which is
    both faster than n small batched products and the layout grid_sample reads fastest.
    """
    lo_x, lo_y = (-w * 0.5 + 0.5, -h * 0.5 + 0.5) if centred else (0.5, 0.5)
    grid = torch.empty(h, w, 3, device=device)
    grid[..., 0].copy_(torch.linspace(lo_x, lo_x + w - 1, steps=w, device=device))
    grid[..., 1].copy_(torch.linspace(lo_y, lo_y + h - 1, steps=h, device=device).unsqueeze_(-1))
    grid[..., 2].fill_(1)
    eye = torch.eye(k, device=device)
    return torch.einsum("pi,cd->icpd", grid.view(h * w, 3), eye).reshape(3 * k, h * w * k).contiguous()


def _project(theta: Tensor, h: int, w: int, centred: bool) -> Tensor:
    """(n, h*w, k): each image's matrix theta (n, 3, k) applied to the pixel-centre grid."""
    n, _, k = theta.shape
    return (theta.reshape(n, 3 * k) @ _base_grid(h, w, centred, k, theta.device)).view(n, h * w, k)


def _warp(x: Tensor, grid: Tensor, mode: str) -> Tensor:
    """torchvision's `_apply_grid_transform` with fill 0, for a batch with one grid per image."""
    n, _, h, w = x.shape
    grid = grid.view(n, h, w, 2)
    out = F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if mode == "nearest":  # torchvision's mask < 0.5 -> fill 0 is exactly zero padding
        return out
    # Bilinear: torchvision also warps a channel of ones and multiplies the image by it (its fill),
    # which darkens samples taken less than a pixel outside the image once more. That only changes
    # samples whose in-image neighbours are border pixels, so on the CPU, where looking costs no
    # device sync, only images with ink on their border get it (about 1.4% of MNIST).
    if x.device.type != "cpu":
        return out.mul_(_inside(grid, h, w))
    rows = _border_ink(x).nonzero().squeeze(1)
    if len(rows):
        out[rows] = out[rows] * _inside(grid[rows], h, w)
    return out


def _inside(grid: Tensor, h: int, w: int) -> Tensor:
    """(n, 1, h, w): the bilinear weight of in-image pixels at each grid point, torchvision's warped ones.

    Computed from the grid rather than sampled as a second channel (which makes grid_sample several
    times slower on CPU): along an axis of size s, at grid value g, it is clamp(min(u + 1, s - u), 0, 1)
    with u = ((g + 1) s - 1) / 2, that is clamp((s + 1) / 2 - |g| s / 2, 0, 1).
    """
    half = torch.tensor([0.5 * w, 0.5 * h], device=grid.device)
    return torch.addcmul(half + 0.5, grid.abs(), half, value=-1).clamp_(0, 1).prod(-1).unsqueeze(1)


def _border_ink(x: Tensor) -> Tensor:
    """(n,) bool: has the image a pixel other than 0 in its outermost rows or columns?"""
    return x[..., [0, -1], :].flatten(1).any(1) | x[..., :, [0, -1]].flatten(1).any(1)


@dataclass
class AffineParams:
    angle: np.ndarray      # (n,) degrees
    translate: np.ndarray  # (n, 2) whole pixels (dx, dy)
    scale: np.ndarray      # (n,)
    shear: np.ndarray      # (n, 2) degrees (x, y)


def _pair(r) -> tuple[float, float]:
    return (-float(r), float(r)) if isinstance(r, (int, float)) else (float(r[0]), float(r[1]))


class RandomAffine(Augmentation):
    """torchvision.transforms.RandomAffine (nearest interpolation, fill 0, about the image centre)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None):
        self.degrees = _pair(degrees)
        self.translate, self.scale = translate, scale
        if shear is None:
            shear = (0.0, 0.0)
        elif isinstance(shear, (int, float)):
            shear = _pair(shear)
        self.shear = tuple(float(v) for v in shear) + ((0.0, 0.0) if len(shear) == 2 else ())

    def sample(self, n: int, g: torch.Generator, size: Size) -> AffineParams:
        h, w = size
        u = _uniforms(n, 6, g)
        translate = np.zeros((n, 2))
        if self.translate is not None:  # round(uniform(-max, max)) in pixels; np.round rounds half to even, as round()
            max_dx, max_dy = self.translate[0] * w, self.translate[1] * h
            translate = np.round(np.stack([_between(u[:, 1], -max_dx, max_dx),
                                           _between(u[:, 2], -max_dy, max_dy)], 1))
        scale = np.ones(n) if self.scale is None else _between(u[:, 3], *self.scale)
        shear = np.stack([_between(u[:, 4], *self.shear[:2]), _between(u[:, 5], *self.shear[2:])], 1)
        return AffineParams(_between(u[:, 0], *self.degrees), translate, scale, shear)

    @staticmethod
    def inverse_matrix(p: AffineParams) -> np.ndarray:
        """(n, 2, 3): output pixel -> input pixel, about the centre (torchvision's `_get_inverse_affine_matrix`)."""
        rot, sx, sy = np.radians(p.angle), np.radians(p.shear[:, 0]), np.radians(p.shear[:, 1])
        a = np.cos(rot - sy) / np.cos(sy)
        b = -np.cos(rot - sy) * np.tan(sx) / np.cos(sy) - np.sin(rot)
        c = np.sin(rot - sy) / np.cos(sy)
        d = -np.sin(rot - sy) * np.tan(sx) / np.cos(sy) + np.cos(rot)
        zero = np.zeros_like(a)
        m = np.stack([d, -b, zero, -c, a, zero], 1) / p.scale[:, None]
        tx, ty = p.translate[:, 0], p.translate[:, 1]
        m[:, 2] += m[:, 0] * -tx + m[:, 1] * -ty
        m[:, 5] += m[:, 3] * -tx + m[:, 4] * -ty
        return m.reshape(-1, 2, 3)

    def apply(self, x: Tensor, p: AffineParams) -> Tensor:
        _, _, h, w = x.shape
        # torchvision's `_gen_affine_grid`, batched: float32 theta, transposed, over (0.5 w, 0.5 h)
        theta = self.inverse_matrix(p).astype(np.float32).transpose(0, 2, 1) / np.float32([0.5 * w, 0.5 * h])
        theta = torch.from_numpy(theta).to(x.device)
        return _warp(x, _project(theta, h, w, centred=True), "nearest")


@dataclass
class PerspectiveParams:
    applied: np.ndarray  # (n,) bool
    start: np.ndarray    # (4, 2) the image's corners: top-left, top-right, bottom-right, bottom-left
    end: np.ndarray      # (n, 4, 2) where each corner goes, whole pixels


class RandomPerspective(Augmentation):
    """torchvision.transforms.RandomPerspective (bilinear, fill 0)."""

    def __init__(self, p: float = 0.5, distortion_scale: float = 0.5):
        self.p, self.distortion_scale = p, distortion_scale

    def sample(self, n: int, g: torch.Generator, size: Size) -> PerspectiveParams:
        h, w = size
        u = _uniforms(n, 9, g)
        # Each corner moves inwards by a whole number of pixels, 0..dx across and 0..dy down, as
        # torchvision's randint(0, d + 1) and randint(size - d - 1, size) draw them.
        dx, dy = int(self.distortion_scale * (w // 2)), int(self.distortion_scale * (h // 2))
        inward = np.stack([_whole(u[:, 1:5], 0, dx), _whole(u[:, 5:9], 0, dy)], -1)
        start = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float64)
        direction = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)
        return PerspectiveParams(u[:, 0] < self.p, start, start + direction * inward)

    @staticmethod
    def coefficients(start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """(n, 8): the homography output -> input (torchvision's `_get_perspective_coeffs`, batched)."""
        n = len(end)
        ex, ey = end[..., 0], end[..., 1]
        sx, sy = np.broadcast_to(start[:, 0], (n, 4)), np.broadcast_to(start[:, 1], (n, 4))
        one, zero = np.ones_like(ex), np.zeros_like(ex)
        rows_x = np.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], -1)
        rows_y = np.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], -1)
        a = np.stack([rows_x, rows_y], 2).reshape(n, 8, 8)
        b = np.stack([sx, sy], 2).reshape(n, 8, 1)
        return np.linalg.solve(a, b)[..., 0]

    def apply(self, x: Tensor, p: PerspectiveParams) -> Tensor:
        if not p.applied.any():
            return x.clone()
        _, _, h, w = x.shape
        n = int(p.applied.sum())
        # torchvision's `_perspective_grid`, batched: with float32 coefficients k, the grid is
        # (k0 x + k1 y + k2) / (0.5 w) / (k6 x + k7 y + 1) - 1, and likewise for y; the scaling
        # and the - 1 are folded into the numerator's matrix, so one division is left.
        k = self.coefficients(p.start, p.end[p.applied]).astype(np.float32)
        m = np.concatenate([k, np.ones((n, 1), np.float32)], 1).reshape(n, 3, 3).transpose(0, 2, 1)
        xy = m[..., :2] / np.float32([0.5 * w, 0.5 * h]) - m[..., 2:]
        xy, z = (torch.from_numpy(np.ascontiguousarray(v)).to(x.device) for v in (xy, m[..., 2:]))
        grid = _project(xy, h, w, centred=False) / _project(z, h, w, centred=False)
        rows = torch.from_numpy(np.flatnonzero(p.applied)).to(x.device)
        return x.index_copy(0, rows, _warp(x.index_select(0, rows), grid, "bilinear"))


# -- the others: elementwise ------------------------------------------------------------------

@dataclass
class JitterParams:
    brightness: np.ndarray        # (n,)
    contrast: np.ndarray          # (n,)
    brightness_first: np.ndarray  # (n,) bool: torchvision applies the two in a random order, per image


class ColorJitter(Augmentation):
    """torchvision.transforms.ColorJitter with brightness and contrast only (greyscale images)."""

    def __init__(self, brightness: tuple[float, float], contrast: tuple[float, float]):
        self.brightness, self.contrast = brightness, contrast

    def sample(self, n: int, g: torch.Generator, size: Size) -> JitterParams:
        u = _uniforms(n, 3, g)
        # torchvision draws randperm(4) over (brightness, contrast, saturation, hue): brightness comes first
        # with probability 1/2
        return JitterParams(_between(u[:, 0], *self.brightness), _between(u[:, 1], *self.contrast), u[:, 2] < 0.5)

    def apply(self, x: Tensor, p: JitterParams) -> Tensor:
        def col(v: np.ndarray) -> Tensor:  # torchvision's python-float factors, as float32
            return _device_mask(v.astype(np.float32), x)

        b, c, one_minus_c = col(p.brightness), col(p.contrast), col(1.0 - p.contrast)

        def brightness(img: Tensor) -> Tensor:  # adjust_brightness: blend with black
            return (b * img).clamp_(0, 1)

        def contrast(img: Tensor) -> Tensor:  # adjust_contrast: blend with the image's mean
            return (c * img + one_minus_c * img.mean((1, 2, 3), keepdim=True)).clamp_(0, 1)

        return torch.where(_device_mask(p.brightness_first, x), contrast(brightness(x)), brightness(contrast(x)))


@dataclass
class ErasingParams:
    applied: np.ndarray  # (n,) bool
    top: np.ndarray      # (n,) whole pixels
    left: np.ndarray
    height: np.ndarray
    width: np.ndarray


class RandomErasing(Augmentation):
    """torchvision.transforms.RandomErasing with a constant value."""

    attempts = 10  # torchvision tries this often to find a box that fits; if none does, the image is kept

    def __init__(self, p: float, scale: tuple[float, float], ratio: tuple[float, float], value: float = 0.0):
        self.p, self.scale, self.ratio, self.value = p, scale, ratio, value

    def sample(self, n: int, g: torch.Generator, size: Size) -> ErasingParams:
        h, w = size
        k = self.attempts
        u = _uniforms(n, 3 + 2 * k, g)
        area = h * w * _between(u[:, 3:3 + k], *self.scale)
        aspect = np.exp(_between(u[:, 3 + k:], np.log(self.ratio[0]), np.log(self.ratio[1])))  # log-uniform h/w
        eh, ew = np.round(np.sqrt(area * aspect)), np.round(np.sqrt(area / aspect))
        fits = (eh < h) & (ew < w)
        first = np.argmax(fits, 1)[:, None]  # the first attempt that fits
        eh, ew = np.take_along_axis(eh, first, 1)[:, 0], np.take_along_axis(ew, first, 1)[:, 0]
        applied = (u[:, 0] < self.p) & fits.any(1)
        return ErasingParams(applied, _whole(u[:, 1], 0, h - eh), _whole(u[:, 2], 0, w - ew), eh, ew)

    def apply(self, x: Tensor, p: ErasingParams) -> Tensor:
        _, _, h, w = x.shape

        def col(v: np.ndarray) -> Tensor:
            return _device_mask(v.astype(np.int64), x, (-1, 1, 1))

        top, left = col(p.top), col(p.left)
        ys = torch.arange(h, device=x.device).view(1, h, 1)
        xs = torch.arange(w, device=x.device).view(1, 1, w)
        box = (ys >= top) & (ys < top + col(p.height)) & (xs >= left) & (xs < left + col(p.width))
        return x.masked_fill((box & _device_mask(p.applied, x, (-1, 1, 1))).unsqueeze(1), self.value)


class RandomVerticalFlip(Augmentation):
    """torchvision.transforms.RandomVerticalFlip."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def sample(self, n: int, g: torch.Generator, size: Size) -> np.ndarray:
        return _uniforms(n, 1, g)[:, 0] < self.p

    def apply(self, x: Tensor, flipped: np.ndarray) -> Tensor:
        return torch.where(_device_mask(flipped, x), x.flip(-2), x)


class Compose(Augmentation):
    """Transforms one after the other, each with its own per-image parameters."""

    def __init__(self, *steps: Augmentation):
        self.steps = steps

    def sample(self, n: int, g: torch.Generator, size: Size) -> list:
        return [step.sample(n, g, size) for step in self.steps]

    def apply(self, x: Tensor, params: list) -> Tensor:
        for step, p in zip(self.steps, params):
            x = step.apply(x, p)
        return x


# SPEC.md, study 2 (T9, MixUp, is `mixup_loss` below).
TRANSFORMS: dict[str, Augmentation] = {
    "T1": ColorJitter(brightness=(0.4, 1.6), contrast=(0.4, 1.6)),
    "T2": RandomAffine(degrees=(-20, 20), translate=(0.1, 0.2), scale=(0.8, 1), shear=(-30, 30, -30, 30)),
    "T3": RandomAffine(degrees=(-20, 20)),
    "T4": RandomErasing(p=0.6, scale=(0.02, 0.1), ratio=(0.3, 0.5), value=0),
    "T5": RandomPerspective(p=0.5),
    "T6": RandomVerticalFlip(p=0.5),
    "T7": RandomAffine(degrees=0, shear=(-30, 30, -5, 5)),
    "T8": Compose(RandomPerspective(p=0.4), RandomAffine(degrees=(-20, 20), shear=(-20, 20, -5, 5))),
}


# -- MixUp (Zhang et al., ICLR 2018) ------------------------------------------------------------

def mixup_params(n: int, alpha: float, g: torch.Generator) -> tuple[float, Tensor]:
    """lambda ~ Beta(alpha, alpha), one per batch as in the paper's code, and a shuffled partner per image."""
    # torch's Beta sampler takes no generator: draw lambda with numpy, seeded from the job's generator.
    seed = int(torch.randint(0, 2**63 - 1, (1,), generator=g))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    return lam, torch.randperm(n, generator=g)


def mixup(x: Tensor, lam: float, partner: Tensor) -> Tensor:
    return lam * x + (1.0 - lam) * x[partner.to(x.device)]


def mixup_loss(alpha: float):
    """A `step_loss` for `jobs.training.fit`: the loss on mixed pairs, mixed with the same lambda."""

    def step(model: nn.Module, x: Tensor, y: Tensor, g: torch.Generator) -> Tensor:
        lam, partner = mixup_params(len(x), alpha, g)
        partner = partner.to(x.device)
        logits = model(lam * x + (1.0 - lam) * x[partner])
        return lam * F.cross_entropy(logits, y) + (1.0 - lam) * F.cross_entropy(logits, y[partner])

    return step


def torchvision_reference(tid: str):
    """The torchvision transform of SPEC.md that TRANSFORMS[tid] reproduces, for one image at a time."""
    import torchvision.transforms as T

    return {
        "T1": lambda: T.ColorJitter(brightness=[0.4, 1.6], contrast=[0.4, 1.6]),
        "T2": lambda: T.RandomAffine(degrees=(-20, 20), translate=(0.1, 0.2), scale=(0.8, 1),
                                     shear=[-30, 30, -30, 30]),
        "T3": lambda: T.RandomAffine(degrees=(-20, 20)),
        "T4": lambda: T.RandomErasing(p=0.6, scale=(0.02, 0.1), ratio=(0.3, 0.5), value=0),
        "T5": lambda: T.RandomPerspective(p=0.5),
        "T6": lambda: T.RandomVerticalFlip(p=0.5),
        "T7": lambda: T.RandomAffine(degrees=0, shear=[-30, 30, -5, 5]),
        "T8": lambda: T.Compose([T.RandomPerspective(p=0.4),
                                 T.RandomAffine(degrees=(-20, 20), shear=[-20, 20, -5, 5])]),
    }[tid]()
