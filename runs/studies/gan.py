"""Study 3, a GAN and its latent space: train a GAN, then map what it generates with net 11.1 and t-SNE.

`plan` queues whatever is missing in one batch: net 11.1 trained on 60,000
images (unless a finished, running or queued one is in the store), the `gan`
job, and the `ganmap` analysis, which waits for both. The analysis names
same-batch runs by relative ids (-k: k places earlier), since their ids do
not exist before the batch is stored.
"""

from __future__ import annotations

from jobs.datasets import DEFAULT
from jobs.schema import Field
from jobs.spec_gan import ARCHS
from jobs.spec_ganmap import MAP_SIZES
from runs.records import Job, JobRequest
from runs.studies.options import fill
from runs.studies.table import Cell, Grid, StudyView, status_cell, status_counts

TYPE = "gan"
TITLE = "Study 3: GAN and its latent space"
CLASSIFIER_NET = "11.1"
FULL_TRAIN = 60000

OPTIONS = (
    Field("arch", str, "dcgan", "GAN architecture", choices=ARCHS),
    Field("epochs", int, None, "GAN epochs (default: the gan job's, 10 for dcgan)", min=1, max=1000),
    Field("samples", int, FULL_TRAIN, "GAN training images (the first N)", min=2, max=FULL_TRAIN),
    Field("z_dim", int, 100, "latent dimension", min=1, max=1024),
    Field("seed", int, 0, "seed of the GAN and of the analysis's z", min=0, max=2**31 - 1),
    Field("sizes", int, list(MAP_SIZES), "latent maps: N random z each", min=100, max=50000, is_list=True,
          max_items=4),
    Field("classifier_samples", int, FULL_TRAIN, "images net 11.1 is trained on (reused if such a run exists)",
          min=1, max=FULL_TRAIN),
    Field("classifier_epochs", int, None, "epochs of a new net 11.1 run (default: the train job's, 4 for 60,000)",
          min=1, max=1000),
    Field("gan_run", int, None, "analyse this finished gan run instead of training a new GAN", min=1),
    Field("classifier_run", int, None, "label with this finished train run instead of finding net 11.1", min=1),
)


def validate(options: dict) -> dict:
    return fill(TYPE, OPTIONS, options, distinct=("sizes",))


def find_classifier(store, samples: int, epochs: int | None = None) -> Job | None:
    """The newest net 11.1 run on `samples` images that is done, else one running or queued."""
    match = {"net": CLASSIFIER_NET, "samples": samples}
    if epochs is not None:
        match["epochs"] = epochs
    for status in (["done"], ["running", "queued"]):
        # the GAN learns MNIST, so its labeller is a plain net 11.1 trained on MNIST
        found = [j for j in store.find("train", status=status, **match)
                 if j.spec.get("dataset", DEFAULT) == DEFAULT and not j.spec.get("as_published")]
        if found:
            return found[-1]
    return None


# -- the plan --------------------------------------------------------------------------------

def plan(options: dict, store=None) -> list[JobRequest]:
    """The jobs to queue, in one batch. With a `store`, a net 11.1 run already there is reused
    (waited for if unfinished); without one, a new net 11.1 is always trained. Runs named by
    id are checked when the batch is queued (`runs.refs`)."""
    opts = validate(options)
    requests: list[JobRequest] = []
    refs: dict[str, int] = {}       # field -> a job id already in the store
    batch: dict[str, int] = {}      # field -> index of a request of this batch
    depends_on: list[int] = []

    if opts["classifier_run"] is not None:
        refs["classifier_run"] = opts["classifier_run"]
    else:
        found = find_classifier(store, opts["classifier_samples"], opts["classifier_epochs"]) if store else None
        if found is not None:
            refs["classifier_run"] = found.id
            if found.status != "done":
                depends_on.append(found.id)
        else:
            spec = {"net": CLASSIFIER_NET, "samples": opts["classifier_samples"]}
            if opts["classifier_epochs"] is not None:
                spec["epochs"] = opts["classifier_epochs"]
            batch["classifier_run"] = len(requests)
            requests.append(JobRequest("train", spec, label=f"net {CLASSIFIER_NET} · "
                                       f"{opts['classifier_samples']:,} (labels G(z))"))

    if opts["gan_run"] is not None:
        refs["gan_run"] = opts["gan_run"]
    else:
        spec = {k: opts[k] for k in ("arch", "samples", "z_dim", "seed")}
        if opts["epochs"] is not None:
            spec["epochs"] = opts["epochs"]
        batch["gan_run"] = len(requests)
        requests.append(JobRequest("gan", spec, label=f"gan {opts['arch']} · {opts['samples']:,}"))

    me = len(requests)  # the analysis comes last; same-batch runs are named relative to it
    spec = {**refs, **{field: index - me for field, index in batch.items()},
            "sizes": opts["sizes"], "seed": opts["seed"]}
    source = "the GAN above" if "gan_run" in batch else f"gan run {refs['gan_run']}"
    requests.append(JobRequest("ganmap", spec, after=sorted(batch.values()), depends_on=depends_on,
                               label=f"latent maps of {source}"))
    return requests


# -- the summary -----------------------------------------------------------------------------

def _sizes(job: Job) -> list[int]:
    return list(job.spec.get("sizes") or [])


def summarize(name: str, jobs: list[Job]) -> StudyView:
    maps = [j for j in jobs if j.kind == "ganmap"]
    gans = [j for j in jobs if j.kind == "gan"]
    columns = [str(d) for d in range(10)]
    share = Grid("generated digits by net 11.1's label (share of the N generated)", "map", columns)
    confidence = Grid("net 11.1's mean confidence by label", "map", columns + ["> 0.9", "all"])
    share.unit = confidence.unit = "%"
    view = StudyView(name, TYPE, TITLE, [share, confidence], status_counts(jobs))

    for job in maps:
        result = job.result or {}
        for n in _sizes(job):
            label = f"job {job.id}, N={n:,}"
            facts = (result.get("maps") or {}).get(str(n)) if job.status == "done" else None
            if facts is None:
                share.rows.append((label, [status_cell(job) for _ in range(10)]))
                confidence.rows.append((label, [status_cell(job) for _ in range(12)]))
                continue
            counts = facts["class_counts"]
            share.rows.append((label, [Cell(values=[c / n], job_ids=[job.id]) for c in counts]))
            per_class = facts.get("class_confidence") or {}
            row = [Cell(values=[per_class[d]] if d in per_class else [], job_ids=[job.id]) for d in columns]
            row += [Cell(values=[facts["confident_fraction"]], job_ids=[job.id]),
                    Cell(values=[facts["mean_confidence"]], job_ids=[job.id])]
            confidence.rows.append((label, row))
            threshold = job.spec.get("confidence", 0.9)
            view.notes.append(
                f"job {job.id}, N={n:,}: {facts['confident_fraction']:.1%} of the generated digits labelled with "
                f"confidence > {threshold:g} by net {result.get('classifier_net', '?')}; "
                f"{facts['classes_generated']} of 10 classes generated; class histogram "
                + " ".join(f"{d}:{c}" for d, c in enumerate(counts)))
        if job.status == "done":
            view.images.append({"job_id": job.id, "artifact": "interpolation",
                                "caption": "G(a*z1 + (1-a)*z2), a = 0 ... 1"})
            for n in _sizes(job):
                for key, what in (("gz", "G(z)"), ("z", "z")):
                    view.images.append({"job_id": job.id, "artifact": f"{key}-{n}-scatter",
                                        "caption": f"t-SNE of {what}, N={n:,}", "table": f"{key}-{n}"})
        elif job.status in ("failed", "cancelled"):
            view.notes.append(f"analysis job {job.id} {job.status}: {job.reason or '-'}")

    for job in gans:
        epochs = job.spec.get("epochs", 0)
        done = epochs if job.status == "done" else int((job.progress or 0) * epochs + 1e-9)
        if done >= 1:
            view.images.insert(0, {"job_id": job.id, "artifact": f"samples-epoch-{done:03d}",
                                   "caption": f"GAN job {job.id}: G(z) after epoch {done}/{epochs}"})
        if job.status == "done" and job.result:
            r = job.result
            view.notes.append(f"gan job {job.id} ({job.spec.get('arch')}, {epochs} epochs on "
                              f"{job.spec.get('samples', 0):,} images): final epoch D(x) {r['d_real']:.3f}, "
                              f"D(G(z)) {r['d_fake']:.3f}")
        elif job.status in ("failed", "cancelled"):
            view.notes.append(f"gan job {job.id} {job.status}: {job.reason or '-'}")
    if not maps:
        view.notes.append("no analysis in this study yet")
    return view
