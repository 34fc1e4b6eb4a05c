"""2-D embeddings of many points (t-SNE) and their scatter plots, for latent and adversarial maps.

openTSNE (FFT-accelerated gradients from 10,000 points on, Barnes-Hut below,
approximate neighbours) after a PCA to 50 dimensions, the usual recipe for
high-dimensional inputs. `mnistlab bench tsne` measures it against
scikit-learn's TSNE on the same input (time and trustworthiness).

`scatter_image` draws a map as a PNG-ready RGB array with Pillow (no
matplotlib needed), one colour per label.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

# Called every 50 t-SNE iterations with (iteration, total iterations); may raise to stop (cancellation).
Progress = Callable[[int, int], None]

EARLY_EXAGGERATION_ITER, N_ITER = 250, 500  # openTSNE's defaults, named so progress can count them


def pca(x: np.ndarray, dims: int = 50, seed: int = 0) -> np.ndarray:
    if x.shape[1] <= dims:
        return x.astype(np.float32)
    from sklearn.decomposition import PCA

    return PCA(n_components=dims, random_state=seed).fit_transform(x).astype(np.float32)


def prepare(x: np.ndarray, pca_dims: int | None = 50, seed: int = 0) -> np.ndarray:
    """The t-SNE input: `x` as float32, reduced by PCA to `pca_dims` if it has more (None: as is)."""
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    return x if pca_dims is None else pca(x, pca_dims, seed)


def tsne_2d(x: np.ndarray, seed: int = 0, n_jobs: int = -1, pca_dims: int | None = 50,
            progress: Progress | None = None) -> np.ndarray:
    """(N, D) points -> (N, 2) t-SNE coordinates, deterministic for a seed.

    `pca_dims=None` embeds the points as they are (e.g. 100-d latent vectors,
    whose isotropic Gaussian has no leading components for a PCA to keep).
    """
    return tsne_prepared(prepare(x, pca_dims, seed), seed, n_jobs, progress)


def tsne_prepared(reduced: np.ndarray, seed: int = 0, n_jobs: int = -1,
                  progress: Progress | None = None) -> np.ndarray:
    """t-SNE of an already prepared input (what `tsne_2d` does after the PCA)."""
    from openTSNE import TSNE

    total = EARLY_EXAGGERATION_ITER + N_ITER
    state = {"done": 0}

    def callback(iteration: int, _error: float, _embedding) -> bool:
        # openTSNE restarts its count for the second phase; keep one running total.
        state["done"] += 50
        progress(min(state["done"], total), total)
        return False

    perplexity = min(30.0, max(1.0, (len(reduced) - 1) / 3.0))  # openTSNE needs 3 * perplexity < N
    tsne = TSNE(n_components=2, perplexity=perplexity, random_state=seed, n_jobs=n_jobs, verbose=False,
                early_exaggeration_iter=EARLY_EXAGGERATION_ITER, n_iter=N_ITER,
                callbacks=callback if progress else None, callbacks_every_iters=50)
    return np.asarray(tsne.fit(np.ascontiguousarray(reduced, dtype=np.float32)), dtype=np.float32)


# -- scatter plots -------------------------------------------------------------

# matplotlib's tab10, so the colours match what people know from papers and notebooks.
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def scatter_image(x: Sequence[float], y: Sequence[float], labels: Sequence[int], title: str = "",
                  size: int = 640, legend: Sequence[str] | None = None, seed: int = 0) -> np.ndarray:
    """A scatter plot coloured by label as a uint8 (H, W, 3) array (white background, legend on the right)."""
    from PIL import Image, ImageDraw

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    classes = int(labels.max()) + 1 if len(labels) else 0
    legend = list(legend) if legend is not None else [str(c) for c in range(classes)]
    margin, top, legend_w = 12, 28 if title else 12, 70
    width, height = size + 2 * margin + legend_w, size + top + margin
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)

    if len(x):
        def scale(v: np.ndarray) -> np.ndarray:
            lo, hi = v.min(), v.max()
            return (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
        px = margin + 2 + np.round(scale(x) * (size - 5)).astype(np.int64)
        py = top + 2 + np.round((1 - scale(y)) * (size - 5)).astype(np.int64)  # y grows upwards
        colours = np.array([PALETTE[c % len(PALETTE)] for c in range(max(classes, 1))], dtype=np.uint8)
        order = np.random.default_rng(seed).permutation(len(x))  # no class always drawn on top
        radius = 2 if len(x) <= 2000 else 1
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                if dx * dx + dy * dy <= radius * radius + 1:
                    canvas[py[order] + dy, px[order] + dx] = colours[labels[order] % len(colours)]

    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    draw.rectangle([margin, top, margin + size, top + size], outline=(160, 160, 160))
    if title:
        draw.text((margin, 8), title, fill=(0, 0, 0))
    for c, name in enumerate(legend):
        ly = top + 6 + 18 * c
        lx = margin + size + 14
        draw.rectangle([lx, ly, lx + 10, ly + 10], fill=PALETTE[c % len(PALETTE)])
        draw.text((lx + 16, ly - 1), name, fill=(0, 0, 0))
    return np.asarray(image, dtype=np.uint8)
