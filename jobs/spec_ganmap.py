"""The spec of job kind `ganmap` (study 3's analysis of a trained GAN).

It reads two finished runs of the same store: a `gan` run (its generator)
and a `train` run (the classifier that labels the generated digits; the
study uses net 11.1 trained on 60,000 images). A negative value -k names
the job queued k places earlier in the same batch: `study gan` queues the
GAN, the classifier and this analysis in one transaction, before their ids
exist; the store records the real ids. Whether the ids name runs of the
right kinds that are done (or that the analysis waits for) is checked
against the store before anything is queued (`runs.refs`), and again, from
their files, when the job starts.
"""

from __future__ import annotations

from jobs.run_options import run_options
from jobs.schema import Field, JobKind, SpecError

MAP_SIZES = (1000, 10000)
INTERPOLATION_STEPS = 11  # a = 0, 0.1, ..., 1


def _check(spec: dict) -> None:
    for name, what in (("gan_run", "gan"), ("classifier_run", "train")):
        if spec[name] is None:
            raise SpecError("ganmap", name, None, f"the id of a finished {what} run", "is missing")
    if len(set(spec["sizes"])) != len(spec["sizes"]):
        raise SpecError("ganmap", "sizes", spec["sizes"], "distinct sizes", "repeats a size")


KIND = JobKind(
    name="ganmap",
    identity=("gan_run", "classifier_run", "sizes", "seed"),
    summary="map a trained GAN's latent space: interpolation, classified samples, t-SNE maps of G(z) and z",
    fields=(
        Field("gan_run", int, None, "job id of the finished gan run whose generator is analysed (required)",
              runs=("gan",)),
        Field("classifier_run", int, None, "job id of the finished train run that labels G(z), net 11.1 in the "
              "study (required)", runs=("train",)),
        Field("sizes", int, list(MAP_SIZES), "latent maps to draw: N random z each", min=100, max=50000,
              is_list=True, max_items=4),
        Field("confidence", float, 0.9, "a generated digit counts as clearly labelled above this confidence",
              min=0, max=1),
        Field("seed", int, 0, "seed of z1, z2 and every map's z", min=0, max=2**31 - 1),
        *run_options(1800, trains=False),
    ),
    headline="confident_fraction",
    check=_check,
)
