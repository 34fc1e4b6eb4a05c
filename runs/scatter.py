"""Scatter tables (latent maps, adversarial maps): which points fall in a rectangle, and their images.

A scatter table is `{"kind": "scatter", "x": [...], "y": [...], "labels": [...],
"images": {"artifact": NAME, "key": KEY}}`; the artifact is an .npz whose
array KEY holds the (N, 28, 28) uint8 image of each point, in the same order.
"""

from __future__ import annotations

from pathlib import Path

from runs.records import InputError


def points_in_rect(payload: dict, x: tuple[float, float], y: tuple[float, float]) -> list[int]:
    (x0, x1), (y0, y1) = sorted(x), sorted(y)
    return [i for i, (px, py) in enumerate(zip(payload["x"], payload["y"]))
            if x0 <= px <= x1 and y0 <= py <= y1]


def bounds(payload: dict) -> tuple[tuple[float, float], tuple[float, float]]:
    return (min(payload["x"]), max(payload["x"])), (min(payload["y"]), max(payload["y"]))


def load_images(artifacts: list[dict], payload: dict, indices: list[int]):
    """The uint8 (len(indices), 28, 28) images of the chosen points (numpy, no torch)."""
    import numpy as np

    ref = payload.get("images")
    if not ref:
        raise InputError("this map stores no images of its points")
    found = [a for a in artifacts if a["name"] == ref["artifact"]]
    if not found or not Path(found[0]["path"]).exists():
        raise InputError(f"the images of this map (artifact {ref['artifact']!r}) are missing from the run's folder")
    with np.load(found[0]["path"]) as arrays:
        return arrays[ref["key"]][indices]
