"""MNIST as tensors in memory, on the job's device.

A warm worker keeps the parsed arrays between jobs (keyed by folder), so only
the first job of a worker pays for decompressing and hashing the files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from jobs.mnist_files import DataCheck, load_arrays, resolve_folder

MEAN, STD = 0.1307, 0.3081

_cache: dict[str, tuple[dict[str, np.ndarray], DataCheck]] = {}


@dataclass
class Split:
    x: torch.Tensor  # (N, 1, 28, 28) float32, normalised unless asked otherwise
    y: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Mnist:
    train: Split
    test: Split
    check: DataCheck


def arrays(folder: str | os.PathLike | None = None) -> tuple[dict[str, np.ndarray], DataCheck]:
    key = str(resolve_folder(folder)[0])
    if key not in _cache:
        _cache[key] = load_arrays(folder)
    return _cache[key]


def to_tensor(images: np.ndarray, device: torch.device | str, normalize: bool = True) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device).float().div_(255.0).unsqueeze(1)
    return x.sub_(MEAN).div_(STD) if normalize else x


def load(folder: str | os.PathLike | None = None, samples: int = 60000,
         device: torch.device | str = "cpu", normalize: bool = True) -> Mnist:
    """The first `samples` training images and the whole test set."""
    a, check = arrays(folder)
    def split(xk: str, yk: str, n: int | None) -> Split:
        x = a[xk] if n is None else a[xk][:n]
        y = a[yk] if n is None else a[yk][:n]
        return Split(to_tensor(x, device, normalize), torch.from_numpy(y.astype(np.int64)).to(device))
    return Mnist(split("train_x", "train_y", samples), split("test_x", "test_y", None), check)
