"""Generators and discriminators for study 3: a small DCGAN (the default) and an MLP GAN.

Images live on the tanh scale [-1, 1] inside the GAN: G(z) is (B, 1, 28, 28)
in [-1, 1], the discriminator returns one logit per image (trained with
BCE-with-logits). `to_pixels` / `to_classifier_input` move G(z) to the
scales the rest of mnistlab uses.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from jobs.data import MEAN, STD
from jobs.spec_gan import ARCHS

# Saved with every generator: 1 the two-layer DCGAN of the first release, 2 with a full-resolution
# output convolution, 3 with a mapping network in front.
ARCH_VERSION = 3


class DcganGenerator(nn.Module):
    """z -> mapping FC 256-256 -> FC 128x7x7 -> ConvT 64 (14x14) -> ConvT 32 (28x28) -> conv 3x3 to 1;
    batch norm and ReLU, tanh out.

    The mapping network: G must carry one connected Gaussian onto ten separate digit
    clusters, and whatever z it maps between two clusters comes out as a blend (a 4
    that is half a 9). Two fully connected layers before the image layers let G
    make those passages steep; at the same seed and schedule, after 4 of 8 epochs, the
    share of G(z) that net 11.1 labels with confidence > 0.9 went from 0.72 to 0.85
    for 6% more time per epoch (StyleGAN has such a mapping network for related
    reasons). The last 3x3 convolution at full resolution draws strokes from 32
    channels instead of stamping 4x4 transposed kernels straight into pixels (0.66 to
    0.74 after five epochs over the first release, with a more even class balance).
    """

    def __init__(self, z_dim: int = 100, width: int = 64, mapping_width: int = 256, mapping_layers: int = 2):
        super().__init__()
        self.z_dim, self.width = z_dim, width
        sizes = [z_dim] + [mapping_width] * mapping_layers
        mapping: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            mapping += [nn.Linear(n_in, n_out, bias=False), nn.BatchNorm1d(n_out), nn.ReLU(True)]
        self.mapping = nn.Sequential(*mapping)
        self.project = nn.Sequential(nn.Linear(sizes[-1], 2 * width * 7 * 7, bias=False),
                                     nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU(True))
        self.body = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(True),
            nn.Conv2d(width // 2, 1, 3, 1, 1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(self.mapping(z)).view(-1, 2 * self.width, 7, 7))


class DcganDiscriminator(nn.Module):
    """Conv 64 (14x14) -> conv 128 (7x7) -> conv 256 (4x4), batch norm after the first, LeakyReLU 0.2, FC to a logit."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1, bias=False), nn.BatchNorm2d(4 * width), nn.LeakyReLU(0.2, True),
            nn.Flatten(), nn.Linear(4 * width * 4 * 4, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).view(-1)


class MlpGenerator(nn.Module):
    """z -> FC 256-512-1024-784, batch norm and LeakyReLU 0.2, tanh out."""

    def __init__(self, z_dim: int = 100):
        super().__init__()
        self.z_dim = z_dim
        layers: list[nn.Module] = []
        sizes = [z_dim, 256, 512, 1024]
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.LeakyReLU(0.2, True)]
        self.body = nn.Sequential(*layers, nn.Linear(1024, 784), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z).view(-1, 1, 28, 28)


class MlpDiscriminator(nn.Module):
    """FC 784-512-256-1, LeakyReLU 0.2, dropout 0.3."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 512), nn.LeakyReLU(0.2, True), nn.Dropout(0.3),
            nn.Linear(512, 256), nn.LeakyReLU(0.2, True), nn.Dropout(0.3), nn.Linear(256, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).view(-1)


def _init_dcgan(module: nn.Module) -> None:
    # Radford et al.: weights from N(0, 0.02), batch-norm scales from N(1, 0.02).
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build_generator(arch: str, z_dim: int) -> nn.Module:
    if arch == "dcgan":
        net = DcganGenerator(z_dim)
        net.apply(_init_dcgan)
        return net
    if arch == "mlp":
        return MlpGenerator(z_dim)
    raise ValueError(f"unknown GAN architecture {arch!r}; allowed: {', '.join(ARCHS)}")


def build_discriminator(arch: str) -> nn.Module:
    if arch == "dcgan":
        net = DcganDiscriminator()
        net.apply(_init_dcgan)
        return net
    if arch == "mlp":
        return MlpDiscriminator()
    raise ValueError(f"unknown GAN architecture {arch!r}; allowed: {', '.join(ARCHS)}")


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """tanh scale [-1, 1] -> pixel intensities [0, 1]."""
    return ((images + 1) / 2).clamp(0, 1)


def to_classifier_input(images: torch.Tensor) -> torch.Tensor:
    """tanh scale -> the normalised scale the zoo's classifiers were trained on."""
    return (to_pixels(images) - MEAN) / STD


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(B, 1, 28, 28) on the tanh scale -> (B, 28, 28) uint8, as the region view stores them."""
    return (to_pixels(images) * 255).round().to(torch.uint8)[:, 0].cpu()


def load_generator(path: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """A generator saved by a gan job (`generator.pt`), in eval mode, with its metadata."""
    saved = torch.load(path, map_location=device, weights_only=True)
    if saved["arch"] == "dcgan" and saved.get("arch_version", 1) != ARCH_VERSION:
        raise ValueError(f"{path} holds a {saved['arch']} generator of an earlier mnistlab (architecture version "
                         f"{saved.get('arch_version', 1)}, this one builds version {ARCH_VERSION}); train a new GAN "
                         "(`mnistlab study gan` or `mnistlab submit gan`) to analyse it")
    net = build_generator(saved["arch"], saved["z_dim"])
    net.load_state_dict(saved["state_dict"])
    return net.to(device).eval(), {k: v for k, v in saved.items() if k != "state_dict"}
