"""The data sets mnistlab trains on, by name (no torch here): MNIST and its 28x28 greyscale 10-class kin.

A data set's identity is its name plus the SHA-256 of each of its four files
(decompressed). `verify(name, folder)` checks a folder against a set and
returns what was verified (the identity, the files, the normalisation); it
raises `DataError` with one line saying what is wrong and what to do.
`locate(identity, folders)` finds the folder that holds exactly those files.

Published checksums, and where they come from:
- MNIST: SHA-256 of each decompressed file (shared/data/mnist/README.md; the
  same files torchvision downloads), so gzipped or not, any copy verifies.
- Fashion-MNIST, KMNIST: their publishers give checksums of the .gz files as
  distributed (MD5 in torchvision's `datasets/mnist.py`; the SHA-256 used here
  are those of the same files as listed by torchvision's Ruby port and other
  loaders, which agree). Only the .gz files as downloaded can be verified.
- EMNIST digits: EMNIST publishes one checksum, of its whole archive
  (`gzip.zip`, MD5 58c8d27c78d21e728a6bc7b3cc06412e in torchvision), none per
  file. A download verifies the archive; a folder of loose files is checked
  for format and counts only, and says so.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from jobs.idx_files import ROLES, DataError, FileFacts, cache_root, facts, find_file
from jobs.schema import Field

MNIST_NAMES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
               "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
DIGITS = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class Archive:
    """A publisher's archive holding the files (EMNIST): verified by its MD5, then unpacked."""

    url: str
    md5: str
    members: dict[str, str]  # role -> member path inside the archive (a .gz)


@dataclass(frozen=True)
class DataSet:
    name: str
    display: str
    files: dict[str, str]                                   # role -> file name (without .gz)
    content_sha256: dict[str, str] = field(default_factory=dict)  # role -> SHA-256 of the decompressed file
    gz_sha256: dict[str, str] = field(default_factory=dict)       # role -> SHA-256 of the .gz as published
    mirrors: tuple[str, ...] = ()
    archive: Archive | None = None
    mean: float | None = None   # None: computed from the training images when verified
    std: float | None = None
    counts: tuple[int, int] | None = None  # training and test images of the published set
    transposed: bool = False    # images stored column by column (EMNIST): transposed when loaded
    classes: tuple[str, ...] = DIGITS
    checksums: str = ""         # what the published checksums are of, in words

    def matches(self, role: str, found: FileFacts) -> bool:
        """Is `found` the published file of `role`: by its content's SHA-256 where the set publishes those,
        else by the .gz file's (a set without checksums: any well-formed file)."""
        if self.content_sha256:
            return found.sha256 == self.content_sha256[role]
        if self.gz_sha256:
            return found.file_sha256 == self.gz_sha256[role]
        return not found.problem


DATASETS: dict[str, DataSet] = {s.name: s for s in [
    DataSet(
        "mnist", "MNIST", MNIST_NAMES,
        content_sha256={
            "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        mean=0.1307, std=0.3081, counts=(60000, 10000),
        checksums="SHA-256 of each decompressed file"),
    DataSet(
        "fashion-mnist", "Fashion-MNIST", MNIST_NAMES,
        gz_sha256={
            "train_images": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train_labels": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "test_images": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "test_labels": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        counts=(60000, 10000),
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"),
        checksums="SHA-256 of each .gz file as published"),
    DataSet(
        "kmnist", "KMNIST", MNIST_NAMES,
        gz_sha256={
            "train_images": "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
            "train_labels": "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
            "test_images": "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
            "test_labels": "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"},
        mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        counts=(60000, 10000),
        classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
        checksums="SHA-256 of each .gz file as published"),
    DataSet(
        "emnist-digits", "EMNIST digits",
        {role: f"emnist-digits-{name.replace('t10k', 'test')}" for role, name in MNIST_NAMES.items()},
        archive=Archive("https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip", "58c8d27c78d21e728a6bc7b3cc06412e",
                        {role: f"gzip/emnist-digits-{name.replace('t10k', 'test')}.gz"
                         for role, name in MNIST_NAMES.items()}),
        counts=(240000, 40000), transposed=True,
        checksums="MD5 of the whole archive gzip.zip only (no per-file checksums are published)"),
]}
CUSTOM = "custom"
DEFAULT = "mnist"
NAMES: tuple[str, ...] = (*DATASETS, CUSTOM)


def dataset_field(help_: str = "data set: mnist, a known MNIST-format set, or custom (any valid IDX set in "
                               "--data, identified by its SHA-256)") -> Field:
    """The `dataset` field every kind that reads data has (recorded in the spec, shown in tables)."""
    return Field("dataset", str, DEFAULT, help_, choices=NAMES)


def display_name(name: str | None) -> str:
    name = name or DEFAULT
    return DATASETS[name].display if name in DATASETS else ("custom data" if name == CUSTOM else name)


def classes(name: str | None) -> tuple[str, ...]:
    return DATASETS[name].classes if name in DATASETS else DIGITS


def file_names(name: str) -> dict[str, str]:
    return DATASETS[name].files if name in DATASETS else MNIST_NAMES


def cache_folder(name: str = DEFAULT) -> Path:
    """The per-user folder `mnistlab data download NAME` fills."""
    return cache_root() / name


def resolve_folder(explicit: str | os.PathLike | None = None, name: str = DEFAULT) -> tuple[Path, str]:
    """The folder chosen for a set: --data, else MNISTLAB_DATA, else the set's cache folder."""
    if explicit:
        return Path(explicit).expanduser().resolve(), "--data"
    env = os.environ.get("MNISTLAB_DATA")
    if env:
        return Path(env).expanduser().resolve(), "MNISTLAB_DATA"
    return cache_folder(name), "cache"


@dataclass
class Verified:
    """A folder checked against a data set: what a run records about its data."""

    dataset: str
    folder: Path
    file_facts: dict[str, FileFacts]  # role -> what was found
    mean: float
    std: float
    normalisation: str           # where mean and std come from
    checked: str                 # what was checked, in words
    source: str = ""             # how the folder was chosen: --data, MNISTLAB_DATA or cache

    @property
    def sha256(self) -> dict[str, str]:
        """File name -> SHA-256 of its content (the identity's checksums, named as on disk)."""
        names = file_names(self.dataset)
        return {names[role]: self.file_facts[role].sha256 for role in ROLES}

    @property
    def identity(self) -> dict:
        return {"name": self.dataset, "sha256": self.sha256}

    @property
    def counts(self) -> tuple[int, int]:
        return self.file_facts["train_images"].count, self.file_facts["test_images"].count

    def record(self) -> dict:
        """The reproducibility record's `data` entry."""
        return {"dataset": self.dataset, "display": display_name(self.dataset), "folder": str(self.folder),
                "sha256": self.sha256, "mean": self.mean, "std": self.std, "normalisation": self.normalisation,
                "checked": self.checked, "train_images": self.counts[0], "test_images": self.counts[1]}


def _how_to_fix(name: str, folder: Path) -> str:
    if name == CUSTOM:
        return "point --data at a folder with the four IDX files (" + ", ".join(MNIST_NAMES.values()) + ")"
    get = f"`mnistlab data download {name}`" if DATASETS[name].mirrors or DATASETS[name].archive else ""
    return (f"put the four {display_name(name)} files (optionally .gz) in {folder}, point --data or MNISTLAB_DATA "
            f"at a folder that has them{', or run ' + get if get else ''}")


def _published_match(files: dict[str, FileFacts]) -> str | None:
    """The known set whose published checksums these files match, if any."""
    for other in DATASETS.values():
        if (other.content_sha256 or other.gz_sha256) and all(other.matches(r, files[r]) for r in ROLES):
            return other.name
    return None


def _check_published(name: str, files: dict[str, FileFacts], folder: Path) -> str:
    """What was checked against the published values; raises DataError when they do not match."""
    spec = DATASETS[name]
    wrong = [r for r in ROLES if not spec.matches(r, files[r])]
    if spec.content_sha256:
        published = spec.content_sha256
        shown = {r: files[r].sha256 for r in ROLES}
    elif spec.gz_sha256:
        loose = [r for r in ROLES if not files[r].path.endswith(".gz")]
        if loose:
            raise DataError(
                f"{folder} holds {', '.join(Path(files[r].path).name for r in loose)} uncompressed; "
                f"{spec.display} publishes the SHA-256 of its .gz files only, so keep the .gz files as downloaded "
                f"(`mnistlab data download {name}`), or use --dataset custom to train on these anyway")
        published = spec.gz_sha256
        shown = {r: files[r].file_sha256 for r in ROLES}
    else:
        return f"format and counts ({spec.checksums})"
    if wrong:
        first = wrong[0]
        match = _published_match(files)
        hint = (f"they are the published {display_name(match)} files: use --dataset {match}" if match
                else "use --dataset custom to train on them anyway")
        raise DataError(
            f"{folder}: these are not the published {spec.display} files ({Path(files[first].path).name} has "
            f"SHA-256 {shown[first][:12]}…, published {published[first][:12]}…"
            f"{f'; {len(wrong)} of 4 files differ' if len(wrong) > 1 else ''}); {hint}")
    return f"published checksums ({spec.checksums})"


def _normalisation(name: str, train: FileFacts) -> tuple[float, float, str]:
    spec = DATASETS.get(name)
    if spec is not None and spec.mean is not None:
        return spec.mean, spec.std, "published constants"
    n = train.count * 28 * 28
    mean = train.pixel_sum / n
    std = math.sqrt(max(train.pixel_sq_sum / n - mean * mean, 0.0))
    if std == 0:
        raise DataError(f"{train.path}: every pixel of every training image is {mean * 255:.0f}; allowed: images "
                        "with some contrast (the inputs are normalised by their standard deviation)")
    return round(mean, 4), round(std, 4), "computed from the training images"


def verify(name: str, folder: str | os.PathLike, contents: dict[str, bytes] | None = None) -> Verified:
    """Check `folder` against data set `name` (or any valid IDX set for "custom"); raises DataError.

    `contents` (role -> decompressed bytes) are files already read: their facts are computed from
    those bytes rather than taken from the cache.
    """
    if name not in NAMES:
        raise DataError(f"data set {name!r} is not known; allowed: {', '.join(NAMES)}")
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise DataError(f"{display_name(name)} folder {folder} does not exist: {_how_to_fix(name, folder)}")
    names = file_names(name)
    paths = {role: find_file(folder, names[role]) for role in ROLES}
    missing = [names[r] for r in ROLES if paths[r] is None]
    if missing:
        raise DataError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing from {folder}: "
                        f"{_how_to_fix(name, folder)}")
    files = {}
    for role in ROLES:
        try:
            files[role] = facts(paths[role], role, (contents or {}).get(role))
        except OSError as exc:
            raise DataError(f"{paths[role]} cannot be read ({exc.strerror or exc})") from None
    checked = "format and counts" if name == CUSTOM else _check_published(name, files, folder)
    for role in ROLES:
        if files[role].problem:
            raise DataError(f"{files[role].path} {files[role].problem}")
    for split in ("train", "test"):
        images, labels = files[f"{split}_images"], files[f"{split}_labels"]
        if images.count != labels.count:
            raise DataError(f"{folder}: {images.name} holds {images.count:,} images but {labels.name} holds "
                            f"{labels.count:,} labels; allowed: one label per image")
    spec = DATASETS.get(name)
    counts = spec.counts if spec and not (spec.content_sha256 or spec.gz_sha256) else None  # else checksummed
    if counts and (files["train_images"].count, files["test_images"].count) != counts:
        raise DataError(f"{folder}: {files['train_images'].count:,} training and {files['test_images'].count:,} "
                        f"test images; the published {display_name(name)} has {counts[0]:,} and {counts[1]:,}: use "
                        "--dataset custom to train on these anyway")
    mean, std, source = _normalisation(name, files["train_images"])
    return Verified(name, folder, files, mean, std, source, checked)


def candidates(name: str, explicit: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """Folders that may hold set `name`, in order: --data, MNISTLAB_DATA, the set's cache folder."""
    chosen = resolve_folder(explicit, name)
    found = [chosen]
    if chosen[1] != "cache" and name != CUSTOM:
        found.append((cache_folder(name), "cache"))
    return found


def find(name: str, explicit: str | os.PathLike | None = None) -> Verified:
    """The first candidate folder that holds set `name`; raises the first folder's DataError if none does."""
    if name == CUSTOM and resolve_folder(explicit)[1] == "cache":
        raise DataError("--dataset custom needs a folder: give --data DIR (or set MNISTLAB_DATA) with the four "
                        "IDX files (" + ", ".join(MNIST_NAMES.values()) + ")")
    first: DataError | None = None
    for folder, source in candidates(name, explicit):
        try:
            verified = verify(name, folder)
            verified.source = source
            return verified
        except DataError as exc:
            first = first or DataError(f"{exc} (folder from {source})" if source != "cache" else str(exc))
    raise first


def locate(identity: dict, folders: list[str | os.PathLike]) -> Path:
    """The first of `folders` whose files are exactly those of `identity` ({"name", "sha256": {file: hash}})."""
    name = identity["name"]
    for folder in folders:
        try:
            verified = verify(name, folder)
        except DataError:
            continue
        if verified.sha256 == identity["sha256"]:
            return verified.folder
    shown = ", ".join(f"{k} {v[:12]}…" for k, v in sorted(identity["sha256"].items()))
    raise DataError(f"none of {', '.join(map(str, folders)) or 'no folders'} holds the {display_name(name)} files "
                    f"this run needs ({shown}): copy them there, or point --data at a folder that has them")
