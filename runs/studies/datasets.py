"""Which data set a study's runs used: so that no table mixes data sets silently (no torch here)."""

from __future__ import annotations

from jobs.datasets import CUSTOM, DEFAULT, display_name
from runs.records import Job


def data_label(job: Job) -> str:
    """The data set a run trains or is evaluated on, as tables name it; custom sets by their folder."""
    name = job.spec.get("dataset", DEFAULT)
    if name == CUSTOM:
        return f"{display_name(name)} in {job.data_dir or '?'}"
    return display_name(name)


def by_data(jobs: list[Job]) -> dict[str, list[Job]]:
    """Runs grouped by data set, MNIST first, then in the order they were queued."""
    groups: dict[str, list[Job]] = {}
    for job in sorted(jobs, key=lambda j: (j.spec.get("dataset", DEFAULT) != DEFAULT, j.id)):
        groups.setdefault(data_label(job), []).append(job)
    return groups
