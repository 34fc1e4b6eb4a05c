"""Study 4, FGSM robustness: six trained nets, then one attack job over all of them.

The plan trains N1, N11, N2, N22, N3, N33 (N11 is N1's spec with another
seed, and so on; N2 is N1's architecture trained with SGD) and queues an
`fgsm` job that waits for all six. The summary shows one accuracy matrix per
epsilon (rows attacked, columns evaluated, the diagonal marked) and the clean
accuracies, filled in as the jobs end.
"""

from __future__ import annotations

from jobs.datasets import DATASETS, DEFAULT
from jobs.schema import Field, SpecError, resolve_run
from jobs.spec_fgsm import KIND as FGSM
from jobs.spec_fgsm import samples_artifact
from jobs.spec_train import FULL_TRAIN
from runs.records import Job, JobRequest
from runs.studies.datasets import data_label
from runs.studies.options import fill
from runs.studies.table import Cell, Grid, StudyView, add_job, status_cell, status_counts

TYPE = "fgsm"
TITLE = "Study 4: FGSM robustness and transfer (accuracy on adversarial test images, %)"
NETS = ("N1", "N2", "N3")

OPTIONS = (
    Field("samples", int, FULL_TRAIN, "training images per net (epochs default to the train job's: 4 for 60,000)",
          min=1, max=FULL_TRAIN),
    Field("seeds", int, [0, 1], "two seeds: N1, N2, N3 train with the first, N11, N22, N33 with the second",
          min=0, max=2**31 - 1, is_list=True, min_items=2, max_items=2),
    *(FGSM.field(name) for name in ("dataset", "eps", "scale", "clamp", "tsne_eps", "tsne_points", "test_images",
                                    "batch_size")),
)


def validate(options: dict) -> dict:
    # "" is a value here: an empty --tsne-eps turns the maps off
    out = fill("fgsm", OPTIONS, options, blank_is_default=False)
    if out["seeds"][0] == out["seeds"][1]:
        raise SpecError("study fgsm", "seeds", out["seeds"], "two different seeds", "repeats a seed")
    return out


def names(seeds: int = 2) -> list[str]:
    """N1, N11, N2, N22, N3, N33: the study's names for each net and seed."""
    return [net + net[1:] * i for net in NETS for i in range(seeds)]


def plan(options: dict, overrides: dict | None = None) -> list[JobRequest]:
    """Six train jobs, then the attack job waiting for them; `overrides` are extra train-spec fields."""
    opts = validate(options)
    requests = []
    for net in NETS:
        for i, seed in enumerate(opts["seeds"]):
            spec = {**(overrides or {}), "net": net, "samples": opts["samples"], "seed": seed,
                    "dataset": opts["dataset"]}
            requests.append(JobRequest("train", spec, label=f"{net + net[1:] * i} · {opts['samples']:,}"))
    attack = {name: opts[name] for name in ("dataset", "eps", "scale", "clamp", "tsne_eps", "tsne_points",
                                            "test_images", "batch_size")}
    # The nets are this batch's six train jobs: -6 is the request six places before the attack, and so on.
    n = len(requests)
    attack.update(nets=list(range(-n, 0)), names=names())
    requests.append(JobRequest("fgsm", attack, label="FGSM attack", after=list(range(n))))
    return requests


def _attack_job(jobs: list[Job]) -> Job | None:
    attacks = [j for j in jobs if j.kind == "fgsm"]
    return max(attacks, key=lambda j: j.id) if attacks else None


def summarize(name: str, jobs: list[Job]) -> StudyView:
    view = StudyView(name, TYPE, TITLE, [], status_counts(jobs))
    attack = _attack_job(jobs)
    by_id = {j.id: j for j in jobs}
    if attack is None:
        train = [j for j in jobs if j.kind == "train"]
        labels = [j.label or f"run {j.id}" for j in train]
        row = []
        for j in train:
            cell = Cell()
            add_job(cell, j)
            row.append(cell)
        view.grids.append(Grid("clean test accuracy", "", labels, [("clean", row)], color_scale=(0.0, 1.0)))
        view.notes.append("no attack job in this study yet")
        return view

    spec, result = attack.spec, attack.result if attack.status == "done" else None
    data = data_label(attack)
    runs = [resolve_run(v, attack.id) for v in spec["nets"]]
    labels = (result or {}).get("names") or spec["names"] or [f"run {r}" for r in runs]
    scale, clamp = spec["scale"], spec["clamp"]

    clean = []
    for k, run in enumerate(runs):
        cell = Cell(job_ids=[run])
        if result is not None:
            cell.values.append(result["clean_accuracy"][labels[k]])
        elif run in by_id:
            add_job(cell, by_id[run])
        clean.append(cell)
    view.grids.append(Grid(f"clean accuracy ({spec['test_images']:,} {data} test images)", "", labels,
                           [("clean", clean)], color_scale=(0.0, 1.0)))

    for e in spec["eps"]:
        rows = []
        for a, attacked in enumerate(labels):
            if result is not None:
                matrix = result["matrices"][f"{e:g}"]
                cells = [Cell(values=[matrix[a][j]], job_ids=[attack.id]) for j in range(len(labels))]
            else:
                cells = [status_cell(attack) for _ in labels]
            rows.append((attacked, cells))
        view.grids.append(Grid(f"FGSM eps {e:g} on {data}: rows attacked, columns evaluated", "attacked", labels,
                               rows, color_scale=(0.0, 1.0), diagonal=True))

    std = (result or {}).get("std") or (DATASETS[DEFAULT].std if spec.get("dataset", DEFAULT) == DEFAULT else None)
    one = f"1 = {std:g} in pixels" if std else "1 = the data set's pixel std"
    unit = f"standard deviations of the normalised input ({one})" if scale == "normalized" \
        else "pixel units (1 = the whole [0, 1] range)"
    view.notes.append(f"eps in {unit}; {scale} scale; clamping to the valid pixel range "
                      f"{'on' if clamp else 'off'}; the diagonal is each net under its own attack (white box), the rest "
                      "transfer")
    if attack.status == "queued":
        view.notes.append(f"attack job {attack.id}: queued, {attack.wait_reason or 'waiting for a slot'}")
    elif attack.status == "running":
        view.notes.append(f"attack job {attack.id}: running, {attack.progress_text or ''} "
                          f"({attack.progress * 100:.0f}%)")
    elif attack.status != "done":
        view.notes.append(f"attack job {attack.id} {attack.status}: {attack.reason}")
    else:
        view.notes.append(f"attack job {attack.id}: {result['attack_seconds']:.0f} s for the attack phase "
                          f"({result['attack_images_per_s']:,.0f} adversarial images/s, each classified by "
                          f"{len(labels)} nets); `mnistlab show {attack.id}` has the curves, sample grids "
                          "and t-SNE maps")
        for a, label in enumerate(labels):
            view.images.append({"job_id": attack.id, "artifact": samples_artifact(a, label),
                                "caption": f"adversarial samples through {label}"})
        view.notes.append(scale_note(result))
    return view


def scale_note(result: dict) -> str:
    """What this run's numbers say about the eps scale, next to the published study's (README has the
    comparison): the scale in pixels, and the white-box accuracy at the weakest and strongest eps."""
    eps, std, first = result["eps"], result.get("std", DATASETS[DEFAULT].std), result["names"][0]
    lo, hi = min(eps), max(eps)
    own = dict(zip(eps, result["own_attack"][first]))
    pixels = f"{lo:g} and {hi:g} std = {lo * std:.3f} and {hi * std:.3f} in pixels" \
        if result["scale"] == "normalized" else f"{lo:g} and {hi:g} in pixels"
    return (f"eps scale: {pixels}; {first} under its own attack keeps {own[lo]:.1%} at eps {lo:g} and "
            f"{own[hi]:.1%} at eps {hi:g}. The published study's accuracies are reported to fit no single linear "
            "rescaling of eps (README, 'FGSM and the published numbers'): this study states its scale and clamping "
            "rather than guessing theirs")

