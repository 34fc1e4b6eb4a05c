"""Small synthetic data sets in MNIST's IDX format, written into a test's temporary folder (no network).

Each class is a bright bar at its own height on a noisy background, so a
tiny net learns it in one epoch; `malformed` spoils one file in one of the
ways a real download or a hand-made set goes wrong.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from jobs.datasets import MNIST_NAMES


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file holding `array`."""
    head = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return head + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def images_and_labels(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, 28, 28))
    for i, label in enumerate(labels):
        row = 3 + 2 * label
        images[i, row:row + 2, 4:24] = 255
    return images.astype(np.uint8), labels.astype(np.uint8)


def write_set(folder: Path, train: int = 1200, test: int = 300, gz: bool = True,
              names: dict[str, str] = MNIST_NAMES) -> dict[str, Path]:
    """Four IDX files in `folder` (created); returns role -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    train_x, train_y = images_and_labels(train, 0)
    test_x, test_y = images_and_labels(test, 1)
    arrays = {"train_images": train_x, "train_labels": train_y, "test_images": test_x, "test_labels": test_y}
    paths = {}
    for role, array in arrays.items():
        payload = idx_bytes(array)
        path = folder / (names[role] + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(payload, mtime=0) if gz else payload)
        paths[role] = path
    return paths


# (case, role of the spoiled file, how, words the error must contain)
MALFORMED = {
    "wrong magic": ("train_images", lambda b: b"\x00\x00\x0d" + b[3:], ["wrong magic number", "00000803"]),
    "wrong dimensions": ("test_images", None, ["32x32 images", "allowed: 28x28"]),
    "truncated": ("train_images", lambda b: b[:-500], ["truncated", "need"]),
    "labels outside 0-9": ("train_labels", lambda b: b[:20] + bytes([12]) + b[21:], ["outside 0-9", "12"]),
    "counts differ": ("test_labels", lambda b: b[:4] + (299).to_bytes(4, "big") + b[8:-1],
                      ["300 images", "299 labels"]),
}


def malformed(folder: Path, case: str) -> Path:
    """A synthetic set (uncompressed) with one file spoiled as `case` says; returns the spoiled file."""
    paths = write_set(folder, gz=False)
    role, spoil, _ = MALFORMED[case]
    path = paths[role]
    if spoil is None:  # 32x32 test images
        _, labels = images_and_labels(300, 1)
        path.write_bytes(idx_bytes(np.zeros((len(labels), 32, 32), dtype=np.uint8)))
    else:
        path.write_bytes(spoil(path.read_bytes()))
    return path
