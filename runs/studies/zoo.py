"""Study 1, the network zoo: every net of the zoo on each data regime, over seeds."""

from __future__ import annotations

from jobs.catalog import ABLATION_IDS, NETS, PUBLISHED_DEPARTURES, ZOO_IDS
from jobs.schema import Field
from runs.records import Job, JobRequest
from runs.studies.datasets import by_data
from runs.studies.options import fill
from runs.studies.table import Cell, Grid, StudyView, add_job, status_counts

TYPE = "zoo"
TITLE = "Study 1: the network zoo (test accuracy, %)"

OPTIONS = (
    Field("regimes", int, [1000, 60000], "training-set sizes; epochs default to 10 (1,000) or 4 (60,000)",
          min=1, max=60000, is_list=True),
    Field("nets", str, list(ZOO_IDS + ABLATION_IDS), "net ids (default: the 19 nets and the 2 ablations)",
          choices=tuple(NETS), is_list=True),
    Field("seeds", int, [0], "one run per seed; the table shows mean ± std", min=0, max=2**31 - 1,
          is_list=True, max_items=20),
)


def validate(options: dict) -> dict:
    return fill("zoo", OPTIONS, options, distinct=("regimes", "nets", "seeds"))


def plan(options: dict, overrides: dict | None = None) -> list[JobRequest]:
    """One train job per (regime, net, seed); `overrides` are extra train-spec fields (e.g. epochs)."""
    opts = validate(options)
    requests = []
    for samples in opts["regimes"]:
        for net in opts["nets"]:
            for seed in opts["seeds"]:
                spec = {**(overrides or {}), "net": net, "samples": samples, "seed": seed}
                requests.append(JobRequest("train", spec, label=f"net {net} · {samples:,}"))
    return requests


def regime_label(samples: int, epochs: int) -> str:
    return f"{samples:,} × {epochs} ep"


def row_label(net: str, as_published: bool) -> str:
    """A net's row; one trained under default settings whose published result departs from ours is marked †."""
    if as_published:
        return f"{net} (as published)"
    return f"{net} †" if net in PUBLISHED_DEPARTURES else net


def _grid(title: str, train: list[Job]) -> tuple[Grid, set[str]]:
    regimes = sorted({(j.spec["samples"], j.spec["epochs"]) for j in train})
    keys = {(j.spec["net"], bool(j.spec.get("as_published"))) for j in train}
    order = [(n, p) for n in NETS for p in (False, True) if (n, p) in keys]
    cells = {(key, r): Cell() for key in order for r in regimes}
    for job in train:
        key = (job.spec["net"], bool(job.spec.get("as_published")))
        add_job(cells[(key, (job.spec["samples"], job.spec["epochs"]))], job)
    grid = Grid(title, "net", [regime_label(*r) for r in regimes],
                [(row_label(*key), [cells[(key, r)] for r in regimes]) for key in order], color_scale=(0.9, 1.0))
    marked = {net for net, published in order if not published and net in PUBLISHED_DEPARTURES}
    return grid, marked


def summarize(name: str, jobs: list[Job]) -> StudyView:
    train = [j for j in jobs if j.kind == "train"]
    view = StudyView(name, TYPE, TITLE, [], status_counts(jobs))
    marked: set[str] = set()
    for data, runs in by_data(train).items():  # one table per data set: never mixed
        grid, nets = _grid(f"test accuracy by net and regime, {data}", runs)
        view.grids.append(grid)
        marked |= nets
    if not view.grids:
        view.grids.append(Grid("test accuracy by net and regime", "net", []))
    seeds = sorted({j.spec["seed"] for j in train})
    view.notes.append(f"seeds: {', '.join(map(str, seeds)) or '-'}; cells show mean ± std over finished seeds; "
                      "… = still queued or running")
    view.notes += [f"† {net}: {PUBLISHED_DEPARTURES[net]}" for net in NETS if net in marked]
    return view
