"""2-D embeddings of many points (t-SNE), for latent maps and adversarial maps.

openTSNE (FFT-accelerated gradients, approximate neighbours) after a PCA to
50 dimensions, the usual recipe for high-dimensional inputs.
"""

from __future__ import annotations

import numpy as np


def pca(x: np.ndarray, dims: int = 50, seed: int = 0) -> np.ndarray:
    if x.shape[1] <= dims:
        return x.astype(np.float32)
    from sklearn.decomposition import PCA

    return PCA(n_components=dims, random_state=seed).fit_transform(x).astype(np.float32)


def tsne_2d(x: np.ndarray, seed: int = 0, n_jobs: int = -1, pca_dims: int = 50) -> np.ndarray:
    """(N, D) points -> (N, 2) t-SNE coordinates, deterministic for a seed."""
    from openTSNE import TSNE

    reduced = pca(np.asarray(x, dtype=np.float32), pca_dims, seed)
    embedding = TSNE(n_components=2, random_state=seed, n_jobs=n_jobs, verbose=False).fit(reduced)
    return np.asarray(embedding, dtype=np.float32)
