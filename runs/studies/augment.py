"""Study 2, data augmentation: nets A and B, each without augmentation and with each transform, over seeds."""

from __future__ import annotations

from jobs.schema import Field
from jobs.spec_augment import AUGMENT_NETS, TRANSFORMS
from runs.records import Job, JobRequest
from runs.studies.datasets import by_data
from runs.studies.options import fill
from runs.studies.table import Cell, Grid, StudyView, add_job, status_counts

TYPE = "augment"
TITLE = "Study 2: data augmentation (test accuracy, %; Δ over the net's baseline, points)"
BASELINE = "none"
AUGMENTS = tuple(t for t in TRANSFORMS if t != BASELINE)  # T1..T9

OPTIONS = (
    Field("nets", str, list(AUGMENT_NETS), "nets of study 2 (default: A,B)", choices=AUGMENT_NETS, is_list=True),
    Field("transforms", str, list(AUGMENTS), "transforms besides the baseline, which always runs (default: T1-T9)",
          choices=AUGMENTS, is_list=True),
    Field("seeds", int, [0], "one run per seed; the table shows mean ± std", min=0, max=2**31 - 1,
          is_list=True, max_items=20),
)


def validate(options: dict) -> dict:
    return fill("augment", OPTIONS, options, distinct=("nets", "transforms", "seeds"))


def plan(options: dict, overrides: dict | None = None) -> list[JobRequest]:
    """An augment job per (net, transform, seed), baseline first; `overrides` are extra spec fields (epochs, ...)."""
    opts = validate(options)
    order = [BASELINE] + [t for t in AUGMENTS if t in opts["transforms"]]
    requests = []
    for net in opts["nets"]:
        for transform in order:
            for seed in opts["seeds"]:
                spec = {**(overrides or {}), "net": net, "transform": transform, "seed": seed}
                requests.append(JobRequest("augment", spec, label=f"net {net} · {transform}"))
    return requests


def row_label(transform: str) -> str:
    return f"{transform} {TRANSFORMS[transform][0]}" if transform != BASELINE else "baseline"


def _improvement(job: Job, base: Job | None, cell: Cell) -> None:
    """Fold one run into its Δ cell: its accuracy minus its baseline's (same net, seed and regime),
    so that the spread over seeds is that of paired differences."""
    cell.job_ids.append(job.id)
    if base is None:  # no baseline for this seed in the group: nothing to compare with ("-")
        return
    if job.status in ("failed", "cancelled") or base.status in ("failed", "cancelled"):
        cell.failed += 1
    elif job.status != "done" or base.status != "done":
        cell.pending += 1
    else:
        cell.values.append(float(job.result["test_accuracy"]) - float(base.result["test_accuracy"]))


def regime_label(samples: int, epochs: int) -> str:
    return f"{samples:,} images × {epochs} epochs"


def _grid(runs: list[Job], title: str) -> Grid:
    nets = [n for n in AUGMENT_NETS if any(j.spec["net"] == n for j in runs)]
    transforms = [t for t in TRANSFORMS if any(j.spec["transform"] == t for j in runs)]
    baseline = {(j.spec["net"], j.spec["seed"]): j for j in sorted(runs, key=lambda j: -j.id)
                if j.spec["transform"] == BASELINE}  # the first run per net and seed wins
    accuracy = {(n, t): Cell() for n in nets for t in transforms}
    change = {(n, t): Cell(signed=True) for n in nets for t in transforms}
    for job in runs:
        key = (job.spec["net"], job.spec["transform"])
        add_job(accuracy[key], job)
        if job.spec["transform"] != BASELINE:
            _improvement(job, baseline.get((job.spec["net"], job.spec["seed"])), change[key])
    columns = [c for n in nets for c in (f"net {n}", f"net {n} Δ")]
    rows = [(row_label(t), [c for n in nets for c in (accuracy[(n, t)], change[(n, t)])]) for t in transforms]
    grid = Grid(title, "transform", columns, rows, unit="%; Δ in points")
    grid.notes.append("Δ: accuracy minus the same net's baseline run with the same seed; with several seeds, "
                      "mean ± std of those paired differences (their spread over seeds)")
    return grid


def summarize(name: str, jobs: list[Job]) -> StudyView:
    runs = [j for j in jobs if j.kind == "augment"]
    grids = []
    for data, group in by_data(runs).items():  # one table per data set and training regime (usually one)
        for samples, epochs in sorted({(j.spec["samples"], j.spec["epochs"]) for j in group}):
            title = f"test accuracy, {regime_label(samples, epochs)}, {data}"
            grids.append(_grid([j for j in group if (j.spec["samples"], j.spec["epochs"]) == (samples, epochs)],
                               title))
    seeds = sorted({j.spec["seed"] for j in runs})
    view = StudyView(name, TYPE, TITLE, grids, status_counts(jobs))
    view.notes.append(f"seeds: {', '.join(map(str, seeds)) or '-'}; cells show mean ± std over finished seeds; "
                      "… = still queued or running")
    view.images = sample_images(runs)
    return view


def sample_images(runs: list[Job]) -> list[dict]:
    """Each transform's sample grid (artifact `samples`), once per transform and seed: the grid's draws
    depend on the transform and the seed only, so nets A and B show the same picture."""
    images, seen = [], set()
    for job in sorted(runs, key=lambda j: (AUGMENTS.index(j.spec["transform"])
                                           if j.spec["transform"] in AUGMENTS else -1, j.spec["seed"], j.id)):
        key = (job.spec["transform"], job.spec["seed"])
        if job.spec["transform"] == BASELINE or key in seen or job.status not in ("running", "done"):
            continue
        seen.add(key)
        short, text = TRANSFORMS[job.spec["transform"]]
        images.append({"job_id": job.id, "artifact": "samples",
                       "caption": f"{job.spec['transform']} ({short}), seed {job.spec['seed']}: {text}"})
    return images
