"""Turning image tensors into pictures people look at: digit grids as uint8 arrays."""

from __future__ import annotations

import numpy as np
import torch
from torchvision.utils import make_grid

from jobs.data import MNIST_NORM, Norm


def to_unit(x: torch.Tensor, normalized: bool = True, norm: Norm = MNIST_NORM) -> torch.Tensor:
    """Back to pixel intensities in [0, 1] (from the normalised scale if `normalized`)."""
    return (x * norm.std + norm.mean if normalized else x).clamp(0, 1)


def digit_grid(images: torch.Tensor, nrow: int = 10, padding: int = 2, normalized: bool = True,
               norm: Norm = MNIST_NORM) -> np.ndarray:
    """(N, 1, 28, 28) images -> one uint8 greyscale picture, `nrow` digits per row."""
    grid = make_grid(to_unit(images.detach().float().cpu(), normalized, norm), nrow=nrow, padding=padding,
                     pad_value=0.25)
    return (grid[0] * 255).round().to(torch.uint8).numpy()
