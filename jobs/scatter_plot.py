"""A labelled 2-D scatter as an RGB picture (PIL only; no plotting library needed).

For t-SNE maps coloured by a predicted digit: one colour per label (the
tab10 palette), a title, and a key of the labels with their counts.
"""

from __future__ import annotations

import numpy as np

TAB10 = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
         (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def scatter_picture(x: np.ndarray, y: np.ndarray, labels: np.ndarray, title: str = "",
                    size: int = 640, radius: int = 2, classes: int = 10) -> np.ndarray:
    """(H, W, 3) uint8: points at (x, y) coloured by integer `labels` in [0, classes)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=14)
    key_w, head_h, margin = 120, 28 if title else 8, 12
    image = Image.new("RGB", (size + key_w, size + head_h), "white")
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((margin, 6), title, fill="black", font=font)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    span = lambda v: (v.min(), max(v.max() - v.min(), 1e-12)) if len(v) else (0.0, 1.0)  # noqa: E731
    (x0, xs), (y0, ys) = span(x), span(y)
    inner = size - 2 * margin
    px = margin + (x - x0) / xs * inner
    py = head_h + margin + (1 - (y - y0) / ys) * inner  # y grows upwards
    draw.rectangle([margin - 4, head_h + margin - 4, size - margin + 4, head_h + size - margin + 4],
                   outline=(200, 200, 200))
    order = np.random.default_rng(0).permutation(len(labels))  # no colour always drawn on top
    for i in order:
        colour = TAB10[labels[i] % len(TAB10)]
        draw.ellipse([px[i] - radius, py[i] - radius, px[i] + radius, py[i] + radius], fill=colour)
    counts = np.bincount(labels, minlength=classes) if len(labels) else np.zeros(classes, dtype=int)
    for c in range(classes):
        top = head_h + margin + c * 22
        draw.rectangle([size + 8, top + 3, size + 20, top + 15], fill=TAB10[c % len(TAB10)])
        draw.text((size + 26, top), f"{c}: {counts[c]}", fill="black", font=font)
    return np.asarray(image, dtype=np.uint8)
