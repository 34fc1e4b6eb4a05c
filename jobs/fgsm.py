"""Job kind `fgsm` (study 4): attack trained classifiers with FGSM and measure transfer.

For every attacked net and every epsilon, the adversarial test set is built
from that net's gradient sign (one backward pass per batch, shared by every
epsilon) and classified by every net: one accuracy matrix per epsilon, rows
attacked, columns evaluated, in the order of `nets`. Per attacked net: a grid
of adversarial samples and t-SNE maps of its adversarial images coloured by
the first net's prediction. A checkpoint after each attacked net lets a
requeued job resume there.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import torch

from jobs import data
from jobs.datasets import DEFAULT, display_name
from jobs.attacks import attack_row, freeze, on_scale, valid_range
from jobs.context import Context
from jobs.imaging import digit_grid, to_unit
from jobs.nets import load_trained
from jobs.schema import resolve_run
from jobs.spec_fgsm import safe_name, samples_artifact

GRADIENT_NOTE = ("sign of the exact cross-entropy input gradient (backpropagated as q - onehot(y), a positive "
                 "multiple of p - onehot(y), so a saturated softmax neither zeroes nor biases it)")


def default_names(nets: list[str], seeds: list[int], runs: list[int]) -> list[str]:
    """Each run's net id; a net that appears more than once gets its seed; still-equal ones their run id."""
    count = Counter(nets)
    names = [net if count[net] == 1 else f"{net} s{seed}" for net, seed in zip(nets, seeds)]
    repeated = Counter(names)
    return [n if repeated[n] == 1 else f"{n} #{run}" for n, run in zip(names, runs)]


def _fmt_eps(eps: float) -> str:
    return f"{eps:g}"


def load_nets(spec: dict, ctx: Context, device: torch.device,
              norm: data.Norm) -> tuple[list[torch.nn.Module], list[dict]]:
    models, infos = [], []
    dataset = spec.get("dataset", DEFAULT)
    for value in spec["nets"]:
        run = resolve_run(value, ctx.job_id)
        path = ctx.input_file(run, "weights.pt")
        if not path.exists():
            raise FileNotFoundError(f"run {run} has no trained weights ({path}); "
                                    "nets must name finished train runs")
        model, meta = load_trained(path, device)
        trained_on = meta.get("spec", {}).get("dataset", DEFAULT)
        if trained_on != dataset:
            raise ValueError(f"run {run} was trained on {display_name(trained_on)}, and this attack uses "
                             f"{display_name(dataset)}'s test images; attack nets trained on the same data set "
                             f"(--dataset {trained_on})")
        models.append(on_scale(freeze(model), spec["scale"], norm))
        infos.append({"run": run, "net": meta["net"], "seed": meta.get("spec", {}).get("seed"),
                      "train_spec": meta.get("spec", {})})
    return models, infos


def test_set(spec: dict, ctx: Context, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, data.Norm]:
    arrays, check = data.arrays(ctx.data_dir, spec.get("dataset", DEFAULT))
    n = spec["test_images"]
    norm = data.norm_of(check)
    ctx.record(data=check.record())
    x = data.to_tensor(arrays["test_x"][:n], device, normalize=spec["scale"] == "normalized", norm=norm)
    y = torch.from_numpy(arrays["test_y"][:n].astype(np.int64)).to(device)
    return x, y, norm


def sample_indices(y: torch.Tensor) -> list[int]:
    """The first test image of each digit (fewer if a digit is missing from a short test set)."""
    labels = y.tolist()
    return [labels.index(d) for d in range(10) if d in labels]


def run(spec: dict, ctx: Context) -> dict:
    started = time.perf_counter()
    ctx.seed_everything()
    device = ctx.torch_device()
    x, y, norm = test_set(spec, ctx, device)
    models, infos = load_nets(spec, ctx, device, norm)
    names = spec["names"] or default_names([i["net"] for i in infos], [i["seed"] for i in infos],
                                           [i["run"] for i in infos])
    eps, scale, clamp = spec["eps"], spec["scale"], spec["clamp"]
    bounds = valid_range(scale, norm) if clamp else None
    ctx.record(runs=[{"name": n, **{k: v for k, v in i.items() if k != "train_spec"}} for n, i in zip(names, infos)],
               attack={"scale": scale, "clamp": clamp, "valid_range": list(valid_range(scale, norm)),
                       "mean": norm.mean, "std": norm.std,
                       "gradient": GRADIENT_NOTE})
    ctx.log(f"attacking {len(models)} nets ({', '.join(names)}) on {len(y):,} test images, eps "
            f"{', '.join(map(_fmt_eps, eps))} ({scale} scale, clamp {'on' if clamp else 'off'}), on {device}")

    # Images whose adversarial versions are kept: a seeded sample for the t-SNE maps, one per digit for the grids.
    tsne_eps = spec["tsne_eps"]
    rng = np.random.default_rng(spec["seed"])
    tsne_idx = np.sort(rng.choice(len(y), spec["tsne_points"], replace=False)) if tsne_eps else np.zeros(0, int)
    samples = sample_indices(y)
    keep = np.union1d(tsne_idx, samples)  # sorted
    tsne_pos, sample_pos = np.searchsorted(keep, tsne_idx), np.searchsorted(keep, samples)
    keep = torch.as_tensor(keep, dtype=torch.int64, device=device)

    state = ctx.load_checkpoint() or {"rows": {}}
    if state["rows"]:
        ctx.log(f"resumed: {len(state['rows'])} of {len(models)} attacked nets already done")
    batches = -(-len(y) // spec["batch_size"])
    tsne_units = max(1, batches // 2)  # a t-SNE map costs about half an attack pass
    per_net = batches + tsne_units * len(tsne_eps)
    total = per_net * len(models)

    for a, attacker in enumerate(models):
        if a in state["rows"]:
            continue
        base = a * per_net

        def on_batch(done: int, _batches: int, base: int = base, a: int = a) -> None:
            ctx.progress(base + done, total, f"attacking {names[a]}")

        row = attack_row(attacker, models, x, y, eps, bounds=bounds, batch_size=spec["batch_size"], keep=keep,
                         keep_eps=tsne_eps, on_batch=on_batch, check=ctx.check_cancelled)
        grid = torch.cat([x[samples], *[row.kept[e][sample_pos] for e in eps]])
        ctx.image(samples_artifact(a, names[a]),
                  digit_grid(grid, nrow=len(samples), normalized=scale == "normalized", norm=norm),
                  caption=f"FGSM through {names[a]}: rows clean, then eps {', '.join(map(_fmt_eps, eps))} "
                          f"({scale} scale, clamp {'on' if clamp else 'off'}); one test image per digit",
                  meta={"attacked": names[a], "rows": ["clean", *eps], "scale": scale, "clamp": clamp})
        tsne_s = 0.0
        for t, e in enumerate(tsne_eps):
            ctx.check_cancelled()
            ctx.progress(base + batches + t * tsne_units, total, f"t-SNE of {names[a]}'s images, eps {e:g}",
                         force=True)
            t0 = time.perf_counter()
            tsne_map(ctx, a, names, row.kept[e][tsne_pos], row.first_preds[e][tsne_pos],
                     y[torch.as_tensor(tsne_idx, device=device)], e, scale, clamp, spec["seed"], norm)
            tsne_s += time.perf_counter() - t0
        state["rows"][a] = {"correct": row.correct.tolist(), "clean_correct": row.clean_correct,
                            "grad_s": row.grad_s, "eval_s": row.eval_s, "passes": row.gradient_passes,
                            "saturated": row.saturated, "tsne_s": tsne_s}
        ctx.save_checkpoint(state)
        diag = ", ".join(f"{e:g}: {row.correct[k, a].item() / len(y):.1%}" for k, e in enumerate(eps))
        ctx.log(f"{names[a]}: clean {row.clean_correct / len(y):.2%}; under its own attack {diag}; "
                f"attack pass {row.grad_s + row.eval_s:.1f} s")
    ctx.progress(total, total, "done", force=True)
    return report(ctx, spec, names, infos, state["rows"], len(y), time.perf_counter() - started, norm)


def tsne_map(ctx: Context, a: int, names: list[str], images: torch.Tensor, preds: torch.Tensor,
             truth: torch.Tensor, eps: float, scale: str, clamp: bool, seed: int, norm: data.Norm) -> None:
    from jobs.embedding import tsne_2d
    from jobs.scatter_plot import scatter_picture

    flat = images.reshape(len(images), -1).float().cpu().numpy()
    # one thread: deterministic, and on a small shared CPU faster than two (threads spin-wait)
    xy = tsne_2d(flat, seed=seed, n_jobs=1)
    key = f"eps={eps:g}"
    artifact = f"tsne-{a + 1}-{safe_name(names[a])}-images"
    # every map of this net so far lives in one .npz (rewritten per map, so each reference stays valid)
    path = ctx.artifact_dir / f"{artifact}.npz"
    arrays = dict(np.load(path)) if path.exists() else {}
    pixels = (to_unit(images.float().cpu(), scale == "normalized", norm)[:, 0] * 255).round().to(torch.uint8).numpy()
    arrays[key] = pixels
    ctx.save_arrays(artifact, arrays, {"keys": sorted(arrays)}, kind="images")
    labels = preds.cpu().tolist()
    title = f"adversarial images of {names[a]}, eps {eps:g} ({scale}), coloured by {names[0]}'s prediction"
    ctx.table(f"tsne {names[a]} eps={eps:g}", {
        "kind": "scatter", "title": title, "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist(), "labels": labels,
        "label_name": f"{names[0]}'s prediction", "true_labels": truth.cpu().tolist(),
        "images": {"artifact": artifact, "key": key}, "attacked": names[a], "eps": eps, "scale": scale,
        "clamp": clamp})
    ctx.image(f"tsne-{a + 1}-{safe_name(names[a])}-eps{eps:g}",
              scatter_picture(xy[:, 0], xy[:, 1], np.asarray(labels), title), caption=title,
              meta={"attacked": names[a], "eps": eps})


def report(ctx: Context, spec: dict, names: list[str], infos: list[dict], rows: dict, n: int,
           wall_s: float, norm: data.Norm) -> dict:
    eps, scale, clamp = spec["eps"], spec["scale"], spec["clamp"]
    N = len(names)
    clean = [rows[a]["clean_correct"] / n for a in range(N)]
    matrices = {}
    for k, e in enumerate(eps):
        matrix = [[rows[a]["correct"][k][j] / n for j in range(N)] for a in range(N)]
        matrices[_fmt_eps(e)] = matrix
        ctx.table(f"eps={e:g}", {
            "matrix": matrix, "labels": names, "row_labels": names, "rows": "attacked net",
            "columns": "evaluated net", "color_scale": [0, 1], "diagonal": True, "eps": e, "scale": scale,
            "clamp": clamp, "title": f"accuracy on FGSM images, eps {e:g} ({scale} scale, "
                                     f"clamp {'on' if clamp else 'off'})"})
    ctx.table("clean accuracy", {"matrix": [clean], "labels": names, "row_labels": ["clean"],
                                 "rows": "clean test images", "columns": "net", "color_scale": [0, 1]})
    own = {names[a]: [matrices[_fmt_eps(e)][a][a] for e in eps] for a in range(N)}
    xs = list(eps) if 0 in eps else [0.0, *eps]
    curves = {name: ([] if 0 in eps else [clean[a]]) + own[name] for a, name in enumerate(names)}
    ctx.table("own attack", {"kind": "curves", "title": f"accuracy under its own FGSM attack ({scale} scale, "
                             f"clamp {'on' if clamp else 'off'})", "x_label": f"epsilon ({scale})",
                             "y_label": "accuracy", "x": xs, "series": curves})
    grad_s = sum(r["grad_s"] for r in rows.values())
    eval_s = sum(r["eval_s"] for r in rows.values())
    attack_s = grad_s + eval_s
    adversarial = N * len(eps) * n
    lo, hi = valid_range(scale, norm)
    weakest = eps.index(min(eps))
    return {
        # the headline: mean accuracy of the nets under their own attack at the smallest epsilon
        "white_box_accuracy": sum(own[name][weakest] for name in names) / N,
        "names": names, "runs": [i["run"] for i in infos], "nets": [i["net"] for i in infos],
        "seeds": [i["seed"] for i in infos],
        "scale": scale, "clamp": clamp, "eps": list(eps), "tsne_eps": list(spec["tsne_eps"]),
        "eps_unit": f"standard deviations (1 = {norm.std:g} in pixels)" if scale == "normalized" else "pixel range [0, 1]",
        "dataset": spec.get("dataset", DEFAULT), "mean": norm.mean, "std": norm.std,
        "valid_range": [lo, hi], "gradient": GRADIENT_NOTE,
        "clean_accuracy": dict(zip(names, clean)), "matrices": matrices, "own_attack": own,
        # share of clean images on which float32 cross-entropy has p_y == 1: there a textbook FGSM
        # (autograd of F.cross_entropy) gets a biased or zero gradient; this attack does not
        "saturated_fraction": {names[a]: rows[a]["saturated"] / n for a in range(N)},
        "test_images": n, "batch_size": spec["batch_size"],
        "attack_seconds": attack_s, "gradient_seconds": grad_s, "evaluation_seconds": eval_s,
        "gradient_passes": sum(r["passes"] for r in rows.values()),
        "attack_images_per_s": adversarial / attack_s if attack_s > 0 else None,
        "classified_images_per_s": adversarial * N / attack_s if attack_s > 0 else None,
        "tsne_seconds": sum(r["tsne_s"] for r in rows.values()),
        "wall_time_s": wall_s,
    }
