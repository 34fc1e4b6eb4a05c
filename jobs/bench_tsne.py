"""`mnistlab bench tsne`: the latent-map phase's t-SNE, openTSNE against scikit-learn, in one process.

Both maps of an analysis are embedded by every method from the same prepared
input (G(z): 784-d pixels after PCA-50; z: the latent vectors as they are),
timed, and scored with `sklearn.manifold.trustworthiness` against that input.
The pick is the fastest method whose trustworthiness is within `TOLERANCE`
of the best on both maps ("equal quality").
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from jobs.embedding import prepare, tsne_prepared

TOLERANCE = 0.01  # trustworthiness points (of 1) that still count as equal quality
MAPS = (("gz", "G(z), 784-d pixels after PCA-50", 50), ("z", "z, the latent vectors as they are", None))
Log = Callable[[str], None]


def _opentsne(method: str | None) -> Callable[[np.ndarray, int, int], np.ndarray]:
    def embed(x: np.ndarray, seed: int, n_jobs: int) -> np.ndarray:
        if method is None:  # exactly what jobs/embedding.py does in the ganmap job
            return tsne_prepared(x, seed, n_jobs)
        from openTSNE import TSNE

        return np.asarray(TSNE(n_components=2, random_state=seed, n_jobs=n_jobs, verbose=False,
                               negative_gradient_method=method).fit(x), dtype=np.float32)
    return embed


def _sklearn(x: np.ndarray, seed: int, _n_jobs: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    return TSNE(random_state=seed).fit_transform(x).astype(np.float32)  # scikit-learn's default settings


METHODS: dict[str, tuple[str, Callable]] = {
    "opentsne": ("openTSNE as jobs/embedding.py runs it (FFT from 10,000 points, Barnes-Hut below)", _opentsne(None)),
    "opentsne-bh": ("openTSNE, Barnes-Hut gradients", _opentsne("bh")),
    "opentsne-fft": ("openTSNE, FFT-interpolated gradients", _opentsne("fft")),
    "sklearn": ("scikit-learn TSNE, default settings (Barnes-Hut, 1,000 iterations)", _sklearn),
}


def load_points(source: Path | None, points: int, seed: int, data_dir: str | None,
                generator_file: Path | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """(G(z) pixels in [0, 1] as (N, 784), z as (N, d), where they came from).

    From an analysis's `latent-N.npz` (the real latent-map input), else from a
    generator (`generator.pt`), else MNIST's test images stand in for G(z)
    beside fresh N(0, I) vectors of dimension 100.
    """
    if source is not None:
        with np.load(source) as arrays:
            images, z = arrays["images"], arrays["z"]
        if len(images) < points:
            raise ValueError(f"{source} holds {len(images):,} points, fewer than the {points:,} asked for")
        return images[:points].reshape(points, -1) / 255.0, z[:points], f"{source} (first {points:,})"
    rng = np.random.default_rng(seed)
    if generator_file is not None:
        import torch

        from jobs.gan_nets import load_generator, to_pixels

        generator, meta = load_generator(generator_file)
        z = torch.from_numpy(rng.standard_normal((points, meta["z_dim"]), dtype=np.float32))
        with torch.no_grad():
            images = torch.cat([to_pixels(generator(z[i:i + 1000])) for i in range(0, points, 1000)])
        return images.reshape(points, -1).numpy(), z.numpy(), f"G(z) of {generator_file}, {points:,} fresh z"
    from jobs.data import arrays

    test = arrays(data_dir)[0]["test_x"]
    if len(test) < points:
        raise ValueError(f"the stand-in (MNIST's test images) has {len(test):,} points, fewer than {points:,}")
    return (test[:points].reshape(points, -1) / 255.0, rng.standard_normal((points, 100), dtype=np.float32),
            f"stand-in: MNIST's first {points:,} test images for G(z), N(0, I) 100-d vectors for z")


def run(gz: np.ndarray, z: np.ndarray, *, seed: int = 0, n_jobs: int | None = None,
        methods: tuple[str, ...] = ("opentsne", "sklearn"), neighbors: int = 5, log: Log = print) -> dict:
    from sklearn.manifold import trustworthiness

    n_jobs = n_jobs or os.cpu_count() or 1
    results: dict = {"points": len(gz), "seed": seed, "n_jobs_opentsne": n_jobs, "trust_neighbors": neighbors,
                     "tolerance": TOLERANCE, "methods": {m: METHODS[m][0] for m in methods}, "maps": {}}
    for key, what, pca_dims in MAPS:
        data = gz if key == "gz" else z
        started = time.perf_counter()
        prepared = prepare(data, pca_dims, seed)
        entry: dict = {"input": what, "input_dims": int(prepared.shape[1]),
                       "prepare_s": time.perf_counter() - started, "runs": {}}
        for method in methods:
            log(f"{key}: {method} on {len(prepared):,} points ...")
            started = time.perf_counter()
            embedding = METHODS[method][1](prepared, seed, n_jobs)
            seconds = time.perf_counter() - started
            trust = float(trustworthiness(prepared, embedding, n_neighbors=neighbors))
            entry["runs"][method] = {"seconds": seconds, "trustworthiness": trust}
            log(f"{key}: {method} {seconds:.1f} s, trustworthiness {trust:.4f}")
        results["maps"][key] = entry
    results["choice"] = choose(results)
    return results


def choose(results: dict) -> dict:
    """The fastest method (summed over both maps) whose trustworthiness is within TOLERANCE of the best on each."""
    maps = results["maps"].values()
    methods = list(next(iter(maps))["runs"])
    equal = [m for m in methods
             if all(e["runs"][m]["trustworthiness"] >= max(r["trustworthiness"] for r in e["runs"].values())
                    - TOLERANCE for e in maps)]
    total = {m: sum(e["runs"][m]["seconds"] for e in maps) for m in methods}
    pick = min(equal, key=total.get)
    others = {m: total[m] / total[pick] for m in methods if m != pick}
    return {"method": pick, "total_s": total[pick], "equal_quality": equal,
            "time_ratio_of_others": others}
