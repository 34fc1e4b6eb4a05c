"""IDX files on disk (no torch here): finding, reading, checking their format, and remembering what was found.

A data set is four IDX files (training images and labels, test images and
labels), gzipped or not. `facts(path, role)` reads one, checks that it is
what its role needs (28x28 unsigned-byte images, labels 0-9) and returns its
SHA-256 (of the decompressed content: the file's identity, whatever the
compression) with a few numbers about it. The answer is cached in the user's
cache folder keyed by path, size and modification time, so a second submit
does not hash 50 MB again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
IMAGE_SIDE = 28
CACHE_VERSION = 1


class DataError(Exception):
    """A data set that is missing, malformed or not what it claims to be; the message says what to do."""


@dataclass
class FileFacts:
    path: str
    sha256: str           # of the decompressed content: the file's identity
    file_sha256: str      # of the bytes on disk (a published .gz is checked with this)
    count: int = 0        # images or labels in the file
    problem: str = ""     # why the file is not usable for its role ("" when it is)
    pixel_sum: float = 0.0     # images: sum and sum of squares of the pixels in [0, 1] (for mean and std)
    pixel_sq_sum: float = 0.0

    @property
    def name(self) -> str:
        return Path(self.path).name


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mnistlab"


def find_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz", folder / "MNIST" / "raw" / name,
                      folder / "MNIST" / "raw" / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _decompress(raw: bytes, path: Path) -> bytes | str:
    """The content of a file, or what is wrong with its compression."""
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        return f"is not a valid gzip file ({exc})"


def read_bytes(path: Path) -> bytes:
    """The decompressed content of an IDX file."""
    data = _decompress(path.read_bytes(), path)
    if isinstance(data, str):
        raise DataError(f"{path} {data}")
    return data


# -- the format ------------------------------------------------------------------------------

def header(data: bytes, role: str) -> tuple[int, int]:
    """(count, header length) of an IDX file fit for `role`; raises DataError naming the problem."""
    images = role.endswith("images")
    want = 3 if images else 1
    shape = f"N x {IMAGE_SIDE} x {IMAGE_SIDE} unsigned bytes" if images else "N unsigned bytes (labels)"
    if len(data) < 4:
        raise DataError(f"is truncated ({len(data)} bytes, shorter than an IDX header); allowed: an IDX file of "
                        f"{shape}")
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"has the wrong magic number {data[:4].hex()}; allowed: 0000080{want} (an IDX file of "
                        f"{shape})")
    ndim = data[3]
    if ndim != want:
        raise DataError(f"has {ndim} dimension(s); allowed: {want} ({shape})")
    size = 4 + 4 * ndim
    if len(data) < size:
        raise DataError(f"is truncated inside its header ({len(data)} bytes); allowed: an IDX file of {shape}")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    if images and dims[1:] != [IMAGE_SIDE, IMAGE_SIDE]:
        raise DataError(f"holds {dims[1]}x{dims[2]} images; allowed: {IMAGE_SIDE}x{IMAGE_SIDE}")
    if dims[0] == 0:
        raise DataError(f"holds no {'images' if images else 'labels'}; allowed: at least one")
    expected = dims[0] * (IMAGE_SIDE * IMAGE_SIDE if images else 1)
    actual = len(data) - size
    if actual < expected:
        raise DataError(f"is truncated: {actual:,} bytes of data for {dims[0]:,} "
                        f"{'images' if images else 'labels'}, which need {expected:,}")
    if actual > expected:
        raise DataError(f"has {actual - expected:,} bytes past the {dims[0]:,} "
                        f"{'images' if images else 'labels'} its header announces")
    return dims[0], size


def _check(data: bytes, role: str) -> tuple[int, str, float, float]:
    """(count, problem, pixel sum, pixel square sum) of one file's content."""
    import numpy as np  # here: the CLI stays light until it reads data

    try:
        count, size = header(data, role)
    except DataError as exc:
        return 0, str(exc), 0.0, 0.0
    values = np.frombuffer(data, dtype=np.uint8, offset=size)
    if role.endswith("labels"):
        bad = np.flatnonzero(values > 9)
        if len(bad):
            return count, (f"has {len(bad):,} label(s) outside 0-9 (the first: {int(values[bad[0]])} at index "
                           f"{int(bad[0]):,}); allowed: labels 0 to 9"), 0.0, 0.0
        return count, "", 0.0, 0.0
    levels = np.bincount(values, minlength=256).astype(np.float64)  # no float copy of 47 M pixels
    scale = np.arange(256, dtype=np.float64) / 255.0
    return count, "", float(levels @ scale), float(levels @ np.square(scale))


# -- the cache of facts ----------------------------------------------------------------------

def _cache_file() -> Path:
    return cache_root() / "verified.json"


def _load_cache() -> dict:
    try:
        cached = json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return cached if isinstance(cached, dict) and cached.get("version") == CACHE_VERSION else {}


def _save_cache(entries: dict) -> None:
    """Written atomically and privately; a cache that cannot be written only costs time later."""
    path = _cache_file()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"version": CACHE_VERSION, "files": entries}, out)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def facts(path: Path, role: str, content: bytes | None = None) -> FileFacts:
    """What one file is (hashes, count, any problem), from the cache when the file has not changed."""
    path = path.resolve()
    key = f"{path}|{role}"
    stamp = _stamp(path)
    if content is None:
        entry = _load_cache().get("files", {}).get(key)
        if entry and entry.get("stamp") == stamp:
            return FileFacts(**entry["facts"])
    compressed = path.suffix == ".gz"
    raw = path.read_bytes() if content is None or compressed else content  # content: `path`'s, read already
    data = content if content is not None else _decompress(raw, path)
    if isinstance(data, str):
        found = FileFacts(str(path), "", hashlib.sha256(raw).hexdigest(), problem=data)
    else:
        count, problem, total, squares = _check(data, role)
        content_sha256 = hashlib.sha256(data).hexdigest()
        found = FileFacts(str(path), content_sha256, hashlib.sha256(raw).hexdigest() if compressed else content_sha256,
                          count, problem, total, squares)
    cached = _load_cache().get("files", {})  # re-read: another process may have added entries meanwhile
    cached[key] = {"stamp": stamp, "facts": asdict(found)}
    _save_cache(cached)
    return found
