"""What the report shows of each kind of study: its tables, its figures, and what is missing (no torch here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from jobs.datasets import DEFAULT, classes
from runs.records import Job
from runs.report import figures
from runs.studies.datasets import by_data, data_label
from runs.studies.table import StudyView
from runs.studies.zoo import regime_label, row_label


@dataclass
class Figure:
    file: str      # relative to the report's folder
    caption: str


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)  # str (a paragraph), Grid or Figure

    def add(self, block) -> None:
        self.blocks.append(block)


class Builder:
    """Draws one study's figures into `out/figures/` and collects its sections."""

    def __init__(self, store, out: Path, view: StudyView, jobs: list[Job]):
        self.store, self.out, self.view, self.jobs = store, out, view, jobs
        self.by_id = {j.id: j for j in jobs}
        self.sections: list[Section] = []
        self.count = 0

    def figure_path(self, what: str) -> tuple[Path, str]:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.view.name}-{self.count:02d}-{what}".lower()).strip("-")
        relative = f"figures/{slug}.png"
        return self.out / relative, relative

    def artifact(self, job_id: int, name: str) -> Path | None:
        """A run's artifact file, whether the store keeps absolute paths or names relative to the run's folder."""
        path = self.store.artifact_path(job_id, name)
        if path is None:
            return None
        path = path if path.is_absolute() else self.store.paths.artifacts(job_id) / path
        return path if path.is_file() else None

    def picture(self, section: Section, job: Job, artifact: str, caption: str) -> None:
        source = self.artifact(job.id, artifact)
        if source is None:
            section.add(f"(run {job.id} has no {artifact} picture yet)")
            return
        path, relative = self.figure_path(artifact)
        figures.framed_picture(path, source, caption, footer([job]))
        section.add(Figure(relative, f"{caption} ({footer([job])})"))


def runs_text(ids: list[int]) -> str:
    ids = sorted(set(ids))
    if len(ids) > 6 and ids == list(range(ids[0], ids[-1] + 1)):
        return f"runs {ids[0]}-{ids[-1]}"
    return ("run " if len(ids) == 1 else "runs ") + ", ".join(map(str, ids))


def footer(jobs: list[Job]) -> str:
    """Data set, the spec fields the runs share, and their ids: the line under every figure."""
    shared = dict(jobs[0].spec)
    for job in jobs[1:]:
        shared = {k: v for k, v in shared.items() if job.spec.get(k) == v}
    shared.pop("dataset", None)
    spec = " ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in sorted(shared.items()))
    kinds = "/".join(sorted({j.kind for j in jobs}))
    return f"data: {data_label(jobs[0])} · {kinds} {spec} · {runs_text([j.id for j in jobs])}"


def missing(jobs: list[Job]) -> list[str]:
    """One line per job of the study that has not finished well."""
    lines = []
    for job in jobs:
        if job.status == "done":
            continue
        why = job.reason or job.wait_reason or job.progress_text or ""
        lines.append(f"job {job.id} ({job.kind} {job.short_spec()}): {job.status}{f', {why}' if why else ''}")
    return lines


def tables(section: Section, view: StudyView) -> None:
    for grid in view.grids:
        section.add(grid)
        section.blocks += grid.notes


# -- study 1 -----------------------------------------------------------------------------------

def zoo(b: Builder) -> None:
    results = Section("Test accuracy (mean ± std over seeds)")
    tables(results, b.view)
    b.sections.append(results)
    curves = Section("Loss curves per net: training (solid) and validation (dashed) loss per epoch")
    train = [j for j in b.jobs if j.kind == "train"]
    for data, runs in by_data(train).items():
        for regime in sorted({(j.spec["samples"], j.spec["epochs"]) for j in runs}):
            group = [j for j in runs if (j.spec["samples"], j.spec["epochs"]) == regime]
            panels: dict[str, dict] = {}
            drawn_runs = []
            for job in group:
                train_loss, val_loss = (b.store.series(job.id, m) for m in ("train/loss_epoch", "val/loss"))
                if not train_loss:
                    continue
                drawn_runs.append(job)
                series = panels.setdefault(row_label(job.spec["net"], bool(job.spec.get("as_published"))), {})
                series[f"train, seed {job.spec['seed']}"] = train_loss
                series[f"validation, seed {job.spec['seed']}"] = val_loss
            if not drawn_runs:
                curves.add(f"{data}, {regime_label(*regime)}: no epoch finished yet")
                continue
            path, relative = b.figure_path(f"loss-{data}-{regime[0]}")
            title = f"{data}: loss per epoch, {regime_label(*regime)}"
            figures.loss_curves(path, list(panels.items()), footer(drawn_runs), title)
            curves.add(Figure(relative, f"{title} ({footer(drawn_runs)})"))
    b.sections.append(curves)


# -- study 2 -----------------------------------------------------------------------------------

def augment(b: Builder) -> None:
    results = Section("Test accuracy and improvement over the baseline")
    tables(results, b.view)
    b.sections.append(results)
    samples = Section("Sample grid per transform: the originals on top, one draw of the transform per row")
    for image in b.view.images:
        b.picture(samples, b.by_id[image["job_id"]], image["artifact"], image["caption"])
    if not b.view.images:
        samples.add("no transform has run yet")
    b.sections.append(samples)


# -- study 3 -----------------------------------------------------------------------------------

def gan(b: Builder) -> None:
    results = Section("Generated digits as net 11.1 reads them")
    tables(results, b.view)
    b.sections.append(results)
    for job in (j for j in b.jobs if j.kind == "gan" and j.status == "done"):
        section = Section(f"GAN run {job.id}: samples of the final generator")
        b.picture(section, job, f"samples-epoch-{job.spec['epochs']:03d}",
                  f"G(z) for one fixed z batch after epoch {job.spec['epochs']}")
        b.sections.append(section)
    for job in (j for j in b.jobs if j.kind == "ganmap" and j.status == "done"):
        section = Section(f"Latent space of analysis run {job.id}")
        found = b.store.tables(job.id)
        gan_job = b.by_id.get(job.spec.get("gan_run")) or job
        b.picture(section, job, "interpolation", "G(a*z1 + (1-a)*z2), a = 0, 0.1, ..., 1 (left: G(z2), right: G(z1))")
        if "z-histograms" in found:
            path, relative = b.figure_path("z-histograms")
            figures.histograms(path, found["z-histograms"], footer([job]))
            section.add(Figure(relative, f"{found['z-histograms']['title']} ({footer([job])})"))
        for n in job.spec.get("sizes", []):
            maps = [found[key] for key in (f"gz-{n}", f"z-{n}") if key in found]
            if maps:
                path, relative = b.figure_path(f"tsne-{n}")
                figures.scatter_maps(path, maps, footer([job]), classes(gan_job.spec.get("dataset", DEFAULT)))
                section.add(Figure(relative, f"t-SNE maps of G(z) (left) and z (right), N={n:,} "
                                             f"({footer([job])})"))
        b.sections.append(section)


# -- study 4 -----------------------------------------------------------------------------------

def fgsm(b: Builder) -> None:
    results = Section("Accuracy on adversarial test images")
    tables(results, b.view)
    b.sections.append(results)
    attacks = [j for j in b.jobs if j.kind == "fgsm" and j.status == "done"]
    for job in attacks[-1:]:
        r = job.result
        section = Section(f"Attack run {job.id}: {r['scale']} scale, clamp {'on' if r['clamp'] else 'off'}, "
                          f"eps in {r['eps_unit']}")
        path, relative = b.figure_path("eps-matrices")
        figures.heatmaps(path, [(f"eps {e}", m) for e, m in r["matrices"].items()], r["names"], footer([job]),
                         "accuracy (%) per eps: rows attacked, columns evaluated (diagonal: white box)")
        section.add(Figure(relative, f"FGSM accuracy matrices as heatmaps ({footer([job])})"))
        own = b.store.tables(job.id).get("own attack")
        if own:
            path, relative = b.figure_path("accuracy-vs-eps")
            figures.curves(path, own, footer([job]), y_limits=(0, 1))
            section.add(Figure(relative, f"{own['title']} ({footer([job])})"))
        for image in b.view.images:
            b.picture(section, job, image["artifact"], image["caption"] + ": rows clean, then each eps")
        b.sections.append(section)


BUILDERS = {"zoo": zoo, "augment": augment, "gan": gan, "fgsm": fgsm}


def build(store, out: Path, view: StudyView, jobs: list[Job]) -> list[Section]:
    b = Builder(store, out, view, jobs)
    BUILDERS[view.type](b)
    lines = missing(jobs)
    if lines:
        gap = Section(f"Not finished: {len(lines)} of {len(jobs)} jobs (their cells and figures are missing below)")
        gap.blocks += lines
        b.sections.insert(0, gap)
    notes = Section("Notes")
    notes.blocks += b.view.notes
    b.sections.append(notes)
    return b.sections


__all__ = ["Figure", "Section", "build"]
