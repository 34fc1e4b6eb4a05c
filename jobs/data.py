"""A data set as tensors in memory, on the job's device.

A warm worker keeps the parsed arrays between jobs (keyed by data set and
folder), so only the first job of a worker pays for decompressing and
hashing the files. Images are normalised with the set's own mean and std
(MNIST's published 0.1307 and 0.3081; computed from the training images for
the others), recorded with every run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from jobs import datasets
from jobs.idx_files import ROLES, find_file, read_bytes

MEAN, STD = datasets.DATASETS[datasets.DEFAULT].mean, datasets.DATASETS[datasets.DEFAULT].std  # MNIST's


@dataclass(frozen=True)
class Norm:
    """The normalisation of a data set's inputs: x_net = (pixel - mean) / std."""

    mean: float = MEAN
    std: float = STD


MNIST_NORM = Norm()

_cache: dict[tuple[str, str], tuple[dict[str, np.ndarray], datasets.Verified]] = {}
_KEYS = {"train_images": "train_x", "train_labels": "train_y", "test_images": "test_x", "test_labels": "test_y"}


@dataclass
class Split:
    x: torch.Tensor  # (N, 1, 28, 28) float32, normalised unless asked otherwise
    y: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Mnist:
    """A loaded data set (MNIST or another of the same format)."""

    train: Split
    test: Split
    check: datasets.Verified
    norm: Norm


def _parse(data: bytes, transposed: bool) -> np.ndarray:
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    # copy: frombuffer views are read-only, and torch wants writable memory
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return np.ascontiguousarray(array.transpose(0, 2, 1)) if transposed and ndim == 3 else array.copy()


def arrays(folder: str | os.PathLike | None = None,
           dataset: str = datasets.DEFAULT) -> tuple[dict[str, np.ndarray], datasets.Verified]:
    """Verified uint8 arrays train_x (N, 28, 28), train_y, test_x, test_y of `dataset` in `folder`."""
    path = datasets.resolve_folder(folder, dataset)[0]
    key = (dataset, str(path))
    if key not in _cache:
        names = datasets.file_names(dataset)
        found = {role: find_file(path, names[role]) if path.is_dir() else None for role in ROLES}
        contents = {role: read_bytes(p) for role, p in found.items() if p is not None}
        verified = datasets.verify(dataset, path, contents)  # checks the bytes parsed below, not a cache
        transposed = dataset in datasets.DATASETS and datasets.DATASETS[dataset].transposed
        _cache[key] = ({_KEYS[role]: _parse(data, transposed) for role, data in contents.items()}, verified)
    return _cache[key]


def norm_of(verified: datasets.Verified) -> Norm:
    return Norm(verified.mean, verified.std)


def to_tensor(images: np.ndarray, device: torch.device | str, normalize: bool = True,
              norm: Norm = MNIST_NORM) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device).float().div_(255.0).unsqueeze(1)
    return x.sub_(norm.mean).div_(norm.std) if normalize else x


def load(folder: str | os.PathLike | None = None, samples: int = 60000, device: torch.device | str = "cpu",
         normalize: bool = True, dataset: str = datasets.DEFAULT) -> Mnist:
    """The first `samples` training images and the whole test set."""
    a, check = arrays(folder, dataset)
    norm = norm_of(check)

    def split(xk: str, yk: str, n: int | None) -> Split:
        x = a[xk] if n is None else a[xk][:n]
        y = a[yk] if n is None else a[yk][:n]
        return Split(to_tensor(x, device, normalize, norm), torch.from_numpy(y.astype(np.int64)).to(device))
    return Mnist(split("train_x", "train_y", samples), split("test_x", "test_y", None), check, norm)
