"""Where the engine finds MNIST: kept for its imports; the data sets live in `jobs.datasets`
(the registry), `jobs.idx_files` (reading and checking IDX files) and `jobs.dataset_download`."""

from __future__ import annotations

from jobs.datasets import resolve_folder
from jobs.idx_files import DataError

__all__ = ["DataError", "resolve_folder"]
