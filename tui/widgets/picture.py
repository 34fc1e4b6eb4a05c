"""Image artifacts (PNG digit grids) as half-block pictures, scaled to fit; a missing file says so in place.

A grid of samples whose meta names its rows (FGSM's clean + one row per
eps) is redrawn as labelled columns that fit the terminal (`sample_grid`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rich.console import Group
from rich.text import Text

from tui.pixels import halfblocks


@lru_cache(maxsize=64)
def _scaled(path: str, mtime: float, max_width: int, max_lines: int) -> tuple[tuple[int, ...], ...]:
    from PIL import Image

    with Image.open(path) as image:
        grey = image.convert("L")
        w, h = grey.size
        scale = min(1.0, max_width / w, (max_lines * 2) / h)
        if scale < 1.0:
            grey = grey.resize((max(1, round(w * scale)), max(2, round(h * scale))), Image.BOX)
        w, h = grey.size
        data = grey.tobytes()
    return tuple(tuple(data[r * w:(r + 1) * w]) for r in range(h))


@lru_cache(maxsize=16)
def _pixels(path: str, mtime: float):
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def picture(path: str | Path, max_width: int, max_lines: int, ansi: bool, meta: dict | None = None) -> Text:
    from tui.widgets.sample_grid import is_sample_grid, sample_grid

    if meta and meta.get("rows"):
        p = Path(path)
        pixels = _pixels(str(p), p.stat().st_mtime)
        if is_sample_grid(pixels, meta):
            return sample_grid(pixels, meta, max_width, max_lines, ansi)
    p = Path(path)
    rows = _scaled(str(p), p.stat().st_mtime, max(4, max_width), max(2, max_lines))
    return halfblocks([list(r) for r in rows], color=not ansi)


def pixels_picture(pixels, max_width: int, ansi: bool) -> Text:
    """A uint8 (H, W) array (numpy or lists) scaled down to `max_width` cells."""
    return halfblocks(pixels, max_width=max_width, color=not ansi)


def artifact_picture(artifact: dict | None, name: str, max_width: int, max_lines: int, ansi: bool):
    """The picture with its caption, or a one-line message saying why it cannot be shown."""
    if artifact is None:
        return Text(f"image {name!r}: not in the store", style="yellow")
    caption = (artifact.get("meta") or {}).get("caption") or ""
    title = Text.assemble((name, "bold"), ("  " + caption if caption else "", "dim"))
    path = Path(artifact["path"])
    if not path.exists():
        return Group(title, Text(f"missing: {path} is not in the run's folder any more", style="yellow"))
    try:
        return Group(title, picture(path, max_width, max_lines - 1, ansi, artifact.get("meta") or {}))
    except Exception as exc:  # noqa: BLE001 - a damaged file is a message, not a crash
        return Group(title, Text(f"cannot read {path.name}: {type(exc).__name__}: {exc}", style="red"))
