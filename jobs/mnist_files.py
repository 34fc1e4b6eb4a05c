"""Finding, verifying and downloading the four MNIST IDX files (no torch here).

Where MNIST is read from, in order: an explicit folder (`--data`), the
`MNISTLAB_DATA` environment variable, then the per-user cache
(`~/.cache/mnistlab/mnist`, or `$XDG_CACHE_HOME/mnistlab/mnist`), which
`mnistlab data download` fills from torchvision's mirrors.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# SHA-256 of each decompressed file (the MNIST README in shared/data).
CHECKSUMS = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# The mirrors torchvision.datasets.MNIST downloads from.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


class DataError(Exception):
    """MNIST is missing or corrupt; the message says what to do."""


@dataclass
class DataCheck:
    folder: Path
    source: str  # how the folder was chosen: "--data", "MNISTLAB_DATA" or "cache"
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256 (verified)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"folder": str(self.folder), "source": self.source, "ok": self.ok,
                "files": self.files, "problems": self.problems}


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mnistlab" / "mnist"


def resolve_folder(explicit: str | os.PathLike | None = None) -> tuple[Path, str]:
    if explicit:
        return Path(explicit).expanduser().resolve(), "--data"
    env = os.environ.get("MNISTLAB_DATA")
    if env:
        return Path(env).expanduser().resolve(), "MNISTLAB_DATA"
    return cache_folder(), "cache"


def find_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz", folder / "MNIST" / "raw" / name,
                      folder / "MNIST" / "raw" / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path} is not a valid gzip file ({exc})") from None
    return raw


def _how_to_fix(folder: Path) -> str:
    return (f"put the four MNIST IDX files (optionally .gz) in {folder}, point --data or "
            f"MNISTLAB_DATA at a folder that has them, or run `mnistlab data download`")


def verify(explicit: str | os.PathLike | None = None) -> DataCheck:
    """Check that all four files exist and match their SHA-256; never raises."""
    folder, source = resolve_folder(explicit)
    check = DataCheck(folder, source)
    if not folder.is_dir():
        check.problems.append(f"MNIST folder {folder} (from {source}) does not exist: {_how_to_fix(folder)}")
        return check
    for name, expected in CHECKSUMS.items():
        path = find_file(folder, name)
        if path is None:
            check.problems.append(f"{name} is missing from {folder}: {_how_to_fix(folder)}")
            continue
        try:
            digest = hashlib.sha256(read_bytes(path)).hexdigest()
        except (DataError, OSError) as exc:
            check.problems.append(f"{path} cannot be read ({exc}): {_how_to_fix(folder)}")
            continue
        if digest != expected:
            check.problems.append(
                f"{path} is corrupt (SHA-256 {digest[:12]}..., expected {expected[:12]}...): "
                f"delete it and {_how_to_fix(folder)}")
        else:
            check.files[name] = digest
    return check


def _parse_idx(data: bytes, name: str) -> "np.ndarray":
    import numpy as np  # here, so that `data verify` and the CLI stay light

    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08 or ndim not in (1, 3):
        raise DataError(f"{name} is not an unsigned-byte IDX file")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    # copy: frombuffer views are read-only, and torch wants writable memory
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def load_arrays(explicit: str | os.PathLike | None = None) -> tuple[dict[str, "np.ndarray"], DataCheck]:
    """Verified MNIST as uint8 arrays: train_x (60000,28,28), train_y, test_x, test_y."""
    folder, source = resolve_folder(explicit)
    check = DataCheck(folder, source)
    arrays = {}
    keys = {"train-images-idx3-ubyte": "train_x", "train-labels-idx1-ubyte": "train_y",
            "t10k-images-idx3-ubyte": "test_x", "t10k-labels-idx1-ubyte": "test_y"}
    for name, key in keys.items():
        path = find_file(folder, name) if folder.is_dir() else None
        if path is None:
            raise DataError(f"{name} not found in {folder} (from {source}): {_how_to_fix(folder)}")
        data = read_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        if digest != CHECKSUMS[name]:
            raise DataError(f"{path} is corrupt (SHA-256 mismatch): delete it and {_how_to_fix(folder)}")
        check.files[name] = digest
        arrays[key] = _parse_idx(data, name)
    return arrays, check


def download(target: Path | None = None, mirrors: tuple[str, ...] | None = None,
             timeout: float = 30.0) -> DataCheck:
    """Fetch missing or corrupt files from the mirrors into `target`, verifying each."""
    import urllib.request  # here: only a download needs it, and the CLI starts faster without

    target = target or resolve_folder(None)[0]
    mirrors = mirrors or MIRRORS
    target.mkdir(parents=True, exist_ok=True)
    for name, expected in CHECKSUMS.items():
        existing = find_file(target, name)
        if existing is not None and hashlib.sha256(read_bytes(existing)).hexdigest() == expected:
            continue
        errors = []
        for mirror in mirrors:
            url = f"{mirror}{name}.gz"
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    payload = response.read()
                if hashlib.sha256(gzip.decompress(payload)).hexdigest() != expected:
                    errors.append(f"{url}: checksum mismatch")
                    continue
            except Exception as exc:  # any network or gzip failure: try the next mirror
                errors.append(f"{url}: {exc}")
                continue
            tmp = target / f".{name}.gz.part"
            tmp.write_bytes(payload)
            os.replace(tmp, target / f"{name}.gz")
            break
        else:
            raise DataError(f"could not download {name}: " + "; ".join(errors)
                            + f". Without a network, copy the MNIST files into {target} "
                            "or point MNISTLAB_DATA at a folder that has them")
    return verify(target)
