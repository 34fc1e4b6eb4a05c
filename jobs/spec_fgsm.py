"""The spec of job kind `fgsm` (study 4: FGSM robustness and transfer between trained nets)."""

from __future__ import annotations

import re

from jobs.datasets import dataset_field
from jobs.run_options import run_options
from jobs.schema import Field, JobKind, SpecError

DEFAULT_EPS = [0.2, 0.4, 0.5, 0.7, 0.8, 1.0]
DEFAULT_TSNE_EPS = [0.2, 0.6, 1.0]
TEST_IMAGES = 10000
MAX_EPS = 10.0  # in the scale's units; 10 std is far past any image


def safe_name(name: str) -> str:
    """A net's label as it appears in artifact file names."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "net"


def samples_artifact(index: int, name: str) -> str:
    """The artifact name of the sample grid of the `index`-th (0-based) attacked net."""
    return f"samples-{index + 1}-{safe_name(name)}"


def _distinct(spec: dict, name: str) -> None:
    values = spec[name]
    if len(set(values)) != len(values):
        raise SpecError("fgsm", name, ",".join(map(str, values)), "distinct values", "repeats a value")


def _check(spec: dict) -> None:
    if not spec["nets"]:
        raise SpecError("fgsm", "nets", "", KIND.field("nets").allowed(), "is missing (--nets RUN,RUN,...)")
    _distinct(spec, "nets")
    _distinct(spec, "eps")
    _distinct(spec, "tsne_eps")
    if spec["names"]:
        if len(spec["names"]) != len(spec["nets"]):
            raise SpecError("fgsm", "names", ",".join(spec["names"]), f"one name per net ({len(spec['nets'])})",
                            f"has {len(spec['names'])} names")
        _distinct(spec, "names")
    if spec["tsne_eps"] and spec["tsne_points"] > spec["test_images"]:
        raise SpecError("fgsm", "tsne_points", spec["tsne_points"], f"at most test_images ({spec['test_images']})",
                        "is more than the attacked images")


KIND = JobKind(
    name="fgsm",
    identity=("dataset", "nets", "eps", "scale", "seed"),
    summary="attack finished classifier runs with FGSM: one transfer matrix per epsilon",
    fields=(
        Field("nets", int, [], "run ids of finished train jobs, in the order of the matrices' rows and columns",
              is_list=True, min_items=2, max_items=12, runs=("train",)),
        Field("names", str, [], "labels for the nets (default: each run's net id, with its seed when a net "
              "appears twice)", is_list=True, min_items=2, max_items=12),
        Field("eps", float, list(DEFAULT_EPS), "attack strengths, in the units of --scale", min=0, max=MAX_EPS,
              is_list=True, max_items=20),
        Field("scale", str, "normalized", "units of eps: normalized (1 = one std of the data set's pixels, "
              "0.3081 for MNIST: the study's scale) or pixel (1 = the whole [0, 1] range)",
              choices=("normalized", "pixel")),
        Field("clamp", bool, True, "clip adversarial images to the valid pixel range [0, 1] (on the normalized "
              "scale: [-0.4242, 2.8215] for MNIST)"),
        Field("batch_size", int, 2000, "images per attack and evaluation batch", min=1, max=TEST_IMAGES),
        Field("test_images", int, TEST_IMAGES, "attack the first N test images (the study: all 10,000)",
              min=10, max=TEST_IMAGES),
        Field("tsne_eps", float, list(DEFAULT_TSNE_EPS), "epsilons of the t-SNE maps of adversarial images "
              "(computed even when not in eps; empty: no maps)", min=0, max=MAX_EPS, is_list=True, min_items=0,
              max_items=6),
        Field("tsne_points", int, 2000, "adversarial images per t-SNE map (a seeded sample of the test images)",
              min=100, max=TEST_IMAGES),
        Field("seed", int, 0, "seed for the t-SNE sample and embedding", min=0, max=2**31 - 1),
        dataset_field("data set whose test images are attacked: the one the nets were trained on"),
        *run_options(900, trains=False),
    ),
    headline="white_box_accuracy",
    check=_check,
)
