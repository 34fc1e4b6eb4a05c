"""`mnistlab bench augment`: batched per-image augmentation against torchvision's per-image pipeline.

Measured side by side in one process, interleaved, on the same 1,000
training images (each pipeline's median over the repeats):

- `dataloader`: the way the original study ran, the torchvision transform
  applied to one PIL image at a time inside a Dataset (as
  `torchvision.datasets.MNIST` hands them out), then ToTensor and Normalize,
  batched by a shuffling DataLoader (batch size 64, `workers` processes);
- `batched_b64`: `jobs.augmentations` on the same batches of 64, on the device;
- `batched_epoch`: `jobs.augmentations` on the whole epoch in one call, on the device;
- `kornia_b64`, `kornia_epoch`: kornia.augmentation's modules for the same
  transform (per-image parameters, configured as close to torchvision as its
  arguments allow), to show why the job does not use them.

Both sides run on one core by default (torch threads 1, DataLoader workers
0), like with like; `threads` and `workers` change that.

Every rate is augmented images per second, normalised tensors ready for the
net (on the device, synchronised), over whole epochs for at least 0.25 s per
measurement. Ratios are of medians, against `dataloader`.
"""

from __future__ import annotations

import platform
import statistics
import time
from typing import Callable

import numpy as np
import torch

from jobs import data
from jobs.augmentations import TRANSFORMS, torchvision_reference


def kornia_reference(tid: str):
    """The same transform from kornia.augmentation (always applied where torchvision always applies)."""
    import kornia.augmentation as K

    affine = dict(resample="nearest", p=1.0)
    return {
        "T1": lambda: K.ColorJitter(brightness=(0.4, 1.6), contrast=(0.4, 1.6), p=1.0),
        "T2": lambda: K.RandomAffine(degrees=(-20, 20), translate=(0.1, 0.2), scale=(0.8, 1),
                                     shear=(-30, 30, -30, 30), **affine),
        "T3": lambda: K.RandomAffine(degrees=(-20, 20), **affine),
        "T4": lambda: K.RandomErasing(scale=(0.02, 0.1), ratio=(0.3, 0.5), value=0.0, p=0.6),
        "T5": lambda: K.RandomPerspective(0.5, p=0.5),
        "T6": lambda: K.RandomVerticalFlip(p=0.5),
        "T7": lambda: K.RandomAffine(degrees=0, shear=(-30, 30, -5, 5), **affine),
        "T8": lambda: K.AugmentationSequential(
            K.RandomPerspective(0.5, p=0.4),
            K.RandomAffine(degrees=(-20, 20), shear=(-20, 20, -5, 5), **affine)),
    }[tid]()


class _PilDigits(torch.utils.data.Dataset):
    """What torchvision.datasets.MNIST does per item: a PIL image, then the transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


def dataloader_pipeline(tid: str, images: np.ndarray, labels: np.ndarray, batch_size: int, workers: int,
                        seed: int) -> Callable[[], int]:
    import torchvision.transforms as T

    tv = torchvision_reference(tid)
    to_tensor, normalize = T.ToTensor(), T.Normalize((data.MEAN,), (data.STD,))
    # RandomErasing works on tensors only; the others on the PIL image, as the study ran them
    steps = [to_tensor, tv, normalize] if tid == "T4" else [tv, to_tensor, normalize]
    loader = torch.utils.data.DataLoader(_PilDigits(images, labels, T.Compose(steps)), batch_size=batch_size,
                                         shuffle=True, num_workers=workers, persistent_workers=workers > 0,
                                         generator=torch.Generator().manual_seed(seed))

    def epoch() -> int:
        return sum(len(xb) for xb, _ in loader)

    return epoch


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - data.MEAN) / data.STD


def batched_pipeline(augment: Callable, x: torch.Tensor, batch_size: int | None, seed: int,
                     generator_arg: bool = True) -> Callable[[], int]:
    """One epoch: the whole tensor in one call (batch_size None) or shuffled batches."""
    g = torch.Generator().manual_seed(seed)
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)

    def call(xb: torch.Tensor) -> torch.Tensor:
        return _normalise(augment(xb, g) if generator_arg else augment(xb))

    def epoch() -> int:
        if batch_size is None:
            call(x)
        else:
            order = torch.randperm(len(x), generator=g).to(x.device)
            for s in range(0, len(x), batch_size):
                call(x[order[s:s + batch_size]])
        sync()
        return len(x)

    return epoch


MIN_SECONDS = 0.25  # one measurement: whole epochs until at least this long (a fast pipeline's epoch is
                    # a few ms, which one time slice lost to another process would swamp)


def _rate(epoch: Callable[[], int]) -> float:
    started, n = time.perf_counter(), 0
    while True:
        n += epoch()
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return n / elapsed


def run(transforms: list[str], images: int = 1000, batch_size: int = 64, repeats: int = 5,
        device: str = "cpu", workers: int = 0, threads: int | None = None, kornia: bool = True,
        data_dir: str | None = None, log=print) -> dict:
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda is not allowed here; allowed: cpu (torch sees no CUDA GPU)")
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _run(transforms, images, batch_size, repeats, device, workers, kornia, data_dir, log)
    finally:
        torch.set_num_threads(before)


def _run(transforms: list[str], images: int, batch_size: int, repeats: int, device: str, workers: int,
         kornia: bool, data_dir: str | None, log) -> dict:
    mnist = data.load(data_dir, images, device, normalize=False)
    arrays, _ = data.arrays(data_dir)
    pil_images, labels = arrays["train_x"][:images], arrays["train_y"][:images]
    x = mnist.train.x
    results: dict = {"images": images, "batch_size": batch_size, "repeats": repeats, "device": str(x.device),
                     "dataloader_workers": workers, "torch_threads": torch.get_num_threads(),
                     "cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
                     "transforms": {}}
    if x.device.type == "cuda":
        results["gpu"] = torch.cuda.get_device_name(x.device)
    for tid in transforms:
        pipelines = {
            "dataloader": dataloader_pipeline(tid, pil_images, labels, batch_size, workers, 0),
            "batched_b64": batched_pipeline(TRANSFORMS[tid], x, batch_size, 0),
            "batched_epoch": batched_pipeline(TRANSFORMS[tid], x, None, 0),
        }
        if kornia:
            k = kornia_reference(tid).to(x.device)
            pipelines["kornia_b64"] = batched_pipeline(k, x, batch_size, 0, generator_arg=False)
            pipelines["kornia_epoch"] = batched_pipeline(k, x, None, 0, generator_arg=False)
        for epoch in pipelines.values():  # warm-up: allocations, lazy init, worker start
            epoch()
        rates: dict[str, list[float]] = {name: [] for name in pipelines}
        for r in range(repeats):  # interleaved, so that a busy moment of the machine hits every pipeline
            for name, epoch in pipelines.items():
                rates[name].append(_rate(epoch))
            log(f"{tid} repeat {r + 1}/{repeats}: " + ", ".join(f"{n} {v[-1]:,.0f}/s" for n, v in rates.items()))
        medians = {name: statistics.median(v) for name, v in rates.items()}
        base = medians["dataloader"]
        results["transforms"][tid] = {
            "images_per_s": rates,
            "median_images_per_s": medians,
            "ratio_to_dataloader": {name: m / base for name, m in medians.items() if name != "dataloader"},
        }
    return results
