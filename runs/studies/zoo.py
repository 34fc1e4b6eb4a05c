"""Study 1, the network zoo: every net of the zoo on each data regime, over seeds."""

from __future__ import annotations

from jobs.catalog import ABLATION_IDS, NETS, ZOO_IDS
from jobs.schema import Field
from runs.records import Job, JobRequest
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


def summarize(name: str, jobs: list[Job]) -> StudyView:
    train = [j for j in jobs if j.kind == "train"]
    regimes = sorted({(j.spec["samples"], j.spec["epochs"]) for j in train})
    order = [n for n in NETS if any(j.spec["net"] == n for j in train)]
    cells = {(net, r): Cell() for net in order for r in regimes}
    for job in train:
        add_job(cells[(job.spec["net"], (job.spec["samples"], job.spec["epochs"]))], job)
    grid = Grid("test accuracy by net and regime", "net", [regime_label(*r) for r in regimes],
                [(net, [cells[(net, r)] for r in regimes]) for net in order], color_scale=(0.9, 1.0))
    seeds = sorted({j.spec["seed"] for j in train})
    view = StudyView(name, TYPE, TITLE, [grid], status_counts(jobs))
    view.notes.append(f"seeds: {', '.join(map(str, seeds)) or '-'}; cells show mean ± std over finished seeds; "
                      "… = still queued or running")
    return view
