"""`mnistlab data download NAME`: fetch a known data set into a folder, verifying every file (no torch).

A file already there is kept when it is the published one; one that differs
is never overwritten unless `force` (it may be someone's own data), and the
error says so. Every write is atomic (temp file, then rename) and private.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from pathlib import Path

from jobs.atomic import write_private_file
from jobs.datasets import DATASETS, DataSet, Verified, cache_folder, display_name, verify
from jobs.idx_files import ROLES, DataError, facts, find_file


def _published(spec: DataSet, role: str, payload: bytes) -> bool:
    """Is this .gz payload the published file of `role`?"""
    if spec.gz_sha256:
        return hashlib.sha256(payload).hexdigest() == spec.gz_sha256[role]
    if spec.content_sha256:
        try:
            return hashlib.sha256(gzip.decompress(payload)).hexdigest() == spec.content_sha256[role]
        except (OSError, EOFError):
            return False
    return True  # an archive member: the archive's checksum vouched for it


def _fetch(url: str, timeout: float) -> bytes:
    import urllib.request  # here: only a download needs it

    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _from_mirrors(spec: DataSet, role: str, mirrors: tuple[str, ...], timeout: float, target: Path) -> bytes:
    errors = []
    for mirror in mirrors:
        url = f"{mirror}{spec.files[role]}.gz"
        try:
            payload = _fetch(url, timeout)
        except Exception as exc:  # any network failure: try the next mirror
            errors.append(f"{url}: {exc}")
            continue
        if _published(spec, role, payload):
            return payload
        errors.append(f"{url}: checksum mismatch")
    raise DataError(f"could not download {spec.files[role]}: " + "; ".join(errors)
                    + f". Without a network, copy the {spec.display} files into {target} "
                    "or point MNISTLAB_DATA at a folder that has them")


def _from_archive(spec: DataSet, timeout: float, target: Path) -> dict[str, bytes]:
    archive = spec.archive
    url = archive.url
    try:
        payload = _fetch(url, timeout)
    except Exception as exc:
        raise DataError(f"could not download {url}: {exc}. Without a network, copy the {spec.display} files "
                        f"({', '.join(spec.files.values())}) into {target}") from None
    digest = hashlib.md5(payload).hexdigest()
    if digest != archive.md5:
        raise DataError(f"{url}: the archive's MD5 is {digest}, published {archive.md5}; nothing was written")
    with zipfile.ZipFile(io.BytesIO(payload)) as zipped:
        return {role: zipped.read(member) for role, member in archive.members.items()}


def download(name: str, target: Path | None = None, *, force: bool = False, mirrors: tuple[str, ...] | None = None,
             timeout: float = 30.0) -> tuple[Verified, list[str]]:
    """Fetch what is missing of set `name` into `target` (default: its cache folder); returns the
    verified folder and one line per file saying what was done."""
    if name not in DATASETS:
        raise DataError(f"data set {name!r} cannot be downloaded; allowed: {', '.join(DATASETS)} "
                        "(custom data is yours: point --data at it)")
    spec = DATASETS[name]
    target = Path(target or cache_folder(name))
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    done, wanted = [], []
    for role in ROLES:
        existing = find_file(target, spec.files[role])
        if existing is None:
            wanted.append(role)
        elif spec.matches(role, facts(existing, role)):
            done.append(f"{existing.name}: already there and verified")
        elif force:
            wanted.append(role)
        else:
            raise DataError(f"{existing} differs from the published {spec.display} file and was not overwritten "
                            f"(it may be your own data); move it away, or use --force to replace it")
    if wanted:
        fetched = (_from_archive(spec, timeout, target) if spec.archive else
                   {role: _from_mirrors(spec, role, mirrors or spec.mirrors, timeout, target) for role in wanted})
        for role in wanted:
            path = target / f"{spec.files[role]}.gz"
            stale = find_file(target, spec.files[role])
            write_private_file(path, fetched[role])
            if stale is not None and stale != path:
                stale.unlink()  # a replaced uncompressed copy would otherwise be found first
            done.append(f"{path.name}: downloaded and verified")
    try:
        return verify(name, target), done
    except DataError as exc:
        raise DataError(f"{display_name(name)} downloaded into {target}, but: {exc}") from None
