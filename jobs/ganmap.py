"""Job kind `ganmap` (study 3): a trained generator's latent space, seen through a classifier.

1. Interpolation: z1, z2 ~ N(0, I) (seeded, saved in `interpolation.npz`),
   G(z1), G(z2), the histograms of z1 and z2, and G(a*z1 + (1-a)*z2) for
   a = 0, 0.1, ..., 1 as one strip, with the classifier's reading of each step.
2. Latent maps for each N of `sizes`: N fresh z, every G(z) labelled by the
   classifier, t-SNE of G(z) (784-d, after PCA-50) and of z (100-d, as is),
   stored as scatter tables `gz-N` and `z-N` whose points' images are in
   `latent-N.npz`, plus PNG plots and the class balance and confidence.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from jobs.context import Context
from jobs.embedding import prepare, scatter_image, tsne_prepared
from jobs.gan import GENERATOR
from jobs.gan_nets import load_generator, to_classifier_input, to_pixels, to_uint8
from jobs.imaging import digit_grid
from jobs.datasets import DEFAULT, display_name
from jobs.nets import load_trained
from jobs.schema import resolve_run
from jobs.spec_ganmap import INTERPOLATION_STEPS

CLASSES = 10
BATCH = 1000  # images generated and classified per forward pass


class MissingInput(RuntimeError):
    """A run this analysis reads has not left what it needs (unknown, unfinished or wrong kind)."""


def input_file(ctx: Context, job_id: int, filename: str, what: str) -> Path:
    path = ctx.input_file(job_id, filename)
    if not path.is_file():
        raise MissingInput(f"{what} run {job_id} has no {filename} in {path.parent} "
                           f"(is it a finished {'gan' if what == 'gan' else 'train'} job of this store?)")
    return path


def map_seed(seed: int, n: int) -> int:
    """Each map draws its z from its own stream, so adding a size never changes another map."""
    return int(np.random.SeedSequence([seed, n]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _rounded(values: np.ndarray, digits: int) -> list[float]:
    """Short JSON numbers: rounded in float64 (float32's 0.1 would print as 0.10000000149011612)."""
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


@torch.no_grad()
def generate_and_classify(generator, classifier, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """G(z) on the tanh scale (B, 1, 28, 28) and the classifier's softmax (B, 10), in batches."""
    images, probs = [], []
    for i in range(0, len(z), BATCH):
        g = generator(z[i:i + BATCH])
        images.append(g)
        probs.append(torch.softmax(classifier(to_classifier_input(g)), dim=1))
    return torch.cat(images), torch.cat(probs)


def class_table(labels: np.ndarray, confidence: np.ndarray, threshold: float) -> dict:
    """Per predicted digit: how many were generated, their share, mean confidence, share above the threshold."""
    counts = np.bincount(labels, minlength=CLASSES)
    rows = [counts.tolist() + [int(len(labels))],
            [round(float(c) / len(labels), 4) for c in counts] + [1.0]]
    means, confident = [], []
    for c in range(CLASSES):
        picked = confidence[labels == c]
        means.append(round(float(picked.mean()), 4) if len(picked) else None)
        confident.append(round(float((picked > threshold).mean()), 4) if len(picked) else None)
    means.append(round(float(confidence.mean()), 4))
    confident.append(round(float((confidence > threshold).mean()), 4))
    return {"rows": "measure", "columns": "predicted digit",
            "labels": [str(c) for c in range(CLASSES)] + ["all"],
            "row_labels": ["generated", "share", "mean confidence", f"confidence > {threshold:g}"],
            "matrix": [rows[0], rows[1], means, confident]}


def interpolate(ctx: Context, generator, classifier, z_dim: int, seed: int, device) -> dict:
    gen = torch.Generator().manual_seed(seed)
    z1, z2 = torch.randn(2, z_dim, generator=gen).unbind(0)
    alphas = np.round(np.linspace(0.0, 1.0, INTERPOLATION_STEPS), 2)
    path = torch.stack([float(a) * z1 + (1 - float(a)) * z2 for a in alphas])
    ends, ends_p = generate_and_classify(generator, classifier, torch.stack([z1, z2]).to(device))
    strip, strip_p = generate_and_classify(generator, classifier, path.to(device))
    label_1, label_2 = (int(v) for v in ends_p.argmax(1).tolist())

    for name, image, p, z_name in (("g-z1", ends[:1], ends_p[0], "z1"), ("g-z2", ends[1:], ends_p[1], "z2")):
        ctx.image(name, digit_grid(to_pixels(image), nrow=1, normalized=False),
                  f"G({z_name}): read as {int(p.argmax())} ({float(p.max()):.0%})")
    ctx.image("interpolation", digit_grid(to_pixels(strip), nrow=INTERPOLATION_STEPS, normalized=False),
              "G(a*z1 + (1-a)*z2), a = 0, 0.1, ..., 1 from left to right (left: G(z2), right: G(z1))")
    ctx.table("z-histograms", {"kind": "histogram", "title": f"components of z1 and z2 ({z_dim} each, N(0, 1))",
                               "series": {"z1": _rounded(z1, 4), "z2": _rounded(z2, 4)}, "bins": 20})
    strip_labels = strip_p.argmax(1).tolist()
    ctx.table("interpolation", {
        "kind": "curves", "title": "classifier along the interpolation", "x_label": "a", "y_label": "probability",
        "x": alphas.tolist(),
        "series": {f"P({digit}) (digit of {ends})": _rounded(strip_p[:, digit].cpu(), 4)
                   for digit, ends in _end_digits(label_1, label_2)},
        "labels": strip_labels,
    })
    arrays = {"z1": z1.numpy(), "z2": z2.numpy(), "alphas": alphas, "images": to_uint8(strip).numpy(),
              "labels": np.array(strip_labels), "confidence": strip_p.max(1).values.cpu().numpy()}
    ctx.save_arrays("interpolation-data", arrays, {"arrays": list(arrays)}, filename="interpolation.npz")
    return {"z1_label": label_1, "z2_label": label_2, "labels": strip_labels}


def _end_digits(label_1: int, label_2: int) -> list[tuple[int, str]]:
    if label_1 == label_2:
        return [(label_1, "G(z1) and G(z2)")]
    return [(label_1, "G(z1)"), (label_2, "G(z2)")]


def scatter_payload(title: str, points: np.ndarray, labels: np.ndarray, confidence: np.ndarray,
                    artifact: str, label_name: str) -> dict:
    return {"kind": "scatter", "title": title,
            "x": _rounded(points[:, 0], 3), "y": _rounded(points[:, 1], 3),
            "labels": labels.tolist(), "label_name": label_name,
            "confidence": _rounded(confidence, 4),
            "images": {"artifact": artifact, "key": "images"}}


def latent_map(ctx: Context, generator, classifier, z_dim: int, n: int, spec: dict, device,
               phase: tuple[int, int], classifier_name: str) -> dict:
    seed = spec["seed"]
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(map_seed(seed, n)))
    images, probs = generate_and_classify(generator, classifier, z.to(device))
    confidence, labels = (t.cpu().numpy() for t in probs.max(1))
    pixels = to_uint8(images).numpy()
    name = f"latent-{n}"
    ctx.save_arrays(name, {"images": pixels, "z": z.numpy(), "labels": labels, "confidence": confidence},
                    {"points": n, "arrays": ["images", "z", "labels", "confidence"]})

    counts = np.bincount(labels, minlength=CLASSES)
    ctx.table(f"classes-{n}", class_table(labels, confidence, spec["confidence"]))
    ctx.table(f"confidence-{n}", {"kind": "histogram", "title": f"{classifier_name}'s confidence in G(z), N={n:,}",
                                  "series": {f"N={n:,}": _rounded(confidence, 4)}, "bins": 20})
    done, total = phase
    timings = {}
    for key, data, pca_dims, what in (("gz", pixels.reshape(n, -1) / 255.0, 50, "G(z), 784-d after PCA-50"),
                                      ("z", z.numpy(), None, f"z, {z_dim}-d")):
        ctx.check_cancelled()
        started = time.perf_counter()
        text = f"t-SNE of {what}, N={n:,}"
        prepared = prepare(data, pca_dims, seed)
        points = tsne_prepared(prepared, seed, n_jobs=torch.get_num_threads(), progress=lambda i, of: (
            ctx.check_cancelled(), ctx.progress(done + i / of, total, text)))
        timings[key] = time.perf_counter() - started
        done += 1
        title = f"t-SNE of {what}, N={n:,}, coloured by {classifier_name}'s label"
        ctx.table(f"{key}-{n}", scatter_payload(title, points, labels, confidence, name,
                                                f"predicted digit ({classifier_name})"))
        ctx.image(f"{key}-{n}-scatter", scatter_image(points[:, 0], points[:, 1], labels, title, seed=seed),
                  title, {"table": f"{key}-{n}"})
        ctx.log(f"{text}: {timings[key]:.1f} s")
    confident = float((confidence > spec["confidence"]).mean())
    ctx.log(f"N={n:,}: {confident:.1%} labelled with confidence > {spec['confidence']:g}; "
            f"classes {counts.tolist()}")
    # Only the classes generated (no nulls: results stay plain numbers for every reader).
    per_class = {str(c): round(float(confidence[labels == c].mean()), 4) for c in range(CLASSES) if counts[c]}
    return {"points": n, "class_counts": counts.tolist(), "classes_generated": int((counts > 0).sum()),
            "class_confidence": per_class,
            "confident_fraction": confident, "mean_confidence": float(confidence.mean()),
            "tsne_gz_s": timings["gz"], "tsne_z_s": timings["z"]}


def run(spec: dict, ctx: Context) -> dict:
    started = time.perf_counter()
    ctx.seed_everything()
    device = ctx.torch_device()
    gan_run, classifier_run = (resolve_run(spec[k], ctx.job_id) for k in ("gan_run", "classifier_run"))
    gan_file = input_file(ctx, gan_run, f"{GENERATOR}.pt", "gan")
    classifier_file = input_file(ctx, classifier_run, "weights.pt", "classifier")
    generator, gan_meta = load_generator(gan_file, device)
    classifier, classifier_meta = load_trained(classifier_file, device)
    z_dim, net = gan_meta["z_dim"], classifier_meta["net"]
    classifier_data = classifier_meta.get("spec", {}).get("dataset", DEFAULT)
    if classifier_data != DEFAULT:  # the GANs are trained on MNIST, and G(z) is normalised with its constants
        raise ValueError(f"run {classifier_run} was trained on {display_name(classifier_data)}; label the GAN's "
                         "digits with a classifier trained on MNIST")
    classifier_name = f"net {net}"
    trained_on = classifier_meta.get("spec", {}).get("samples")
    ctx.record(inputs={"gan_run": gan_run, "gan_spec": gan_meta.get("spec"),
                       "classifier_run": classifier_run, "classifier_net": net,
                       "classifier_samples": trained_on})
    ctx.log(f"generator of gan run {gan_run} ({gan_meta['arch']}, z_dim {z_dim}); classifier: "
            f"{classifier_name} of run {classifier_run} (trained on {trained_on or '?'} images)")
    if net != "11.1":
        ctx.log(f"study 3 labels with net 11.1; this analysis uses net {net}", "warning")

    inter = interpolate(ctx, generator, classifier, z_dim, spec["seed"], device)
    sizes = spec["sizes"]
    maps = {}
    for i, n in enumerate(sizes):
        maps[str(n)] = latent_map(ctx, generator, classifier, z_dim, n, spec, device, (2 * i, 2 * len(sizes)),
                                  classifier_name)
    first = maps[str(sizes[0])]
    return {
        "confident_fraction": first["confident_fraction"], "classes_generated": first["classes_generated"],
        "class_counts": first["class_counts"], "mean_confidence": first["mean_confidence"],
        "points": first["points"], "classifier_net": net, "gan_run": gan_run, "classifier_run": classifier_run,
        "maps": maps, "interpolation": inter,
        "wall_time_s": time.perf_counter() - started,
    }
