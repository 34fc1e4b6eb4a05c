"""A grid of digit samples (FGSM's: a row per epsilon, a column per digit) redrawn to fit the terminal.

The PNG is `jobs.imaging.digit_grid`'s: 28-pixel tiles with 2 pixels of
padding; the artifact's meta names its rows (`"rows": ["clean", 0.2, ...]`).
It is drawn turned: one column per row of the PNG (clean, then each eps,
named in a header), one line of digits per digit (its label on the left),
each tile scaled to the column's width. As many digits as the height allows
are shown (at 80x24 a few; the whole ten on a large terminal). Shades in 16
colours, grey half blocks otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from rich.text import Text

from tui.pixels import halfblocks

TILE, PAD = 28, 2
MIN_TILE = 8
LABEL = 2  # the digit's label and a space


def tiles(pixels: np.ndarray) -> tuple[int, int]:
    """(rows, columns) of 28-pixel tiles in a digit_grid picture, or (0, 0) if it is not one."""
    h, w = pixels.shape
    rows, cols = (h - PAD) // (TILE + PAD), (w - PAD) // (TILE + PAD)
    if rows * (TILE + PAD) + PAD != h or cols * (TILE + PAD) + PAD != w:
        return 0, 0
    return rows, cols


def is_sample_grid(pixels: np.ndarray, meta: dict) -> bool:
    labels = meta.get("rows")
    return isinstance(labels, list) and bool(labels) and tiles(pixels)[0] == len(labels)


def tile(pixels: np.ndarray, r: int, c: int, size: int) -> np.ndarray:
    y, x = PAD + r * (TILE + PAD), PAD + c * (TILE + PAD)
    image = pixels[y:y + TILE, x:x + TILE]
    if size == TILE:
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.BOX))


def _label(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def sample_grid(pixels: np.ndarray, meta: dict, max_width: int, max_lines: int, ansi: bool) -> Text:
    """The grid turned and scaled to `max_width` x `max_lines` cells, with its row names and digit labels."""
    rows, cols = tiles(pixels)
    names = [_label(v) for v in meta["rows"]]
    size = min(TILE, (max_width - LABEL) // rows - 1)
    shown_rows = rows
    if size < MIN_TILE:  # too narrow for every row: the first ones, at the smallest legible size
        size = MIN_TILE
        shown_rows = max(1, (max_width - LABEL) // (size + 1))
    lines_per_digit = math.ceil(size / 2)
    digits = max(1, min(cols, (max_lines - 2) // lines_per_digit))
    out = Text(no_wrap=True, overflow="crop")
    header = " " * LABEL + "".join(name[:size].center(size + 1) for name in names[:shown_rows])
    out.append(header.rstrip() + "\n", style="bold")
    for d in range(digits):
        canvas = np.zeros((size, shown_rows * (size + 1)), dtype=np.uint8)
        for r in range(shown_rows):
            canvas[:, r * (size + 1):r * (size + 1) + size] = tile(pixels, r, d, size)
        picture = halfblocks(canvas, color=not ansi).split("\n")
        label = str(d) if cols == 10 else f"#{d + 1}"
        for i, line in enumerate(p for p in picture if p.plain):
            out.append(f"{label if i == lines_per_digit // 2 else '':<{LABEL}}", style="bold")
            out.append_text(line)
            out.append("\n")
    hidden = []
    if digits < cols:
        hidden.append(f"{digits} of {cols} digits")
    if shown_rows < rows:
        hidden.append(f"{shown_rows} of {rows} columns")
    if hidden:
        out.append(f"showing {' and '.join(hidden)}: a larger terminal shows more", style="dim")
    out.rstrip()
    return out
