"""Greyscale pictures in a terminal: two pixel rows per character cell with '▀'.

Each cell's foreground is the upper pixel and its background the lower one,
so a 28x28 digit takes 28x14 cells. Works in 256-colour and truecolour
terminals; in 16 colours, a shade ramp of block characters stands in.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

SHADES = " ░▒▓█"


def _grey(value: int) -> str:
    v = max(0, min(255, int(value)))
    return f"#{v:02x}{v:02x}{v:02x}"


def halfblocks(pixels, max_width: int | None = None, color: bool = True) -> Text:
    """A uint8 (H, W) array (or nested lists) as rich Text; downsampled to `max_width` columns."""
    rows = [list(map(int, r)) for r in pixels]
    height, width = len(rows), len(rows[0]) if rows else 0
    if max_width and width > max_width:  # average boxes of pixels: thin strokes stay visible
        import numpy as np
        from PIL import Image

        small = Image.fromarray(np.asarray(rows, dtype=np.uint8)).resize(
            (max_width, max(2, round(height * max_width / width))), Image.BOX)
        rows = np.asarray(small).tolist()
        height, width = len(rows), max_width
    text = Text(no_wrap=True, overflow="crop")
    if not color:
        for r in range(0, height, 2):
            lower = rows[r + 1] if r + 1 < height else [0] * width
            text.append("".join(SHADES[min(4, (a + b) * 5 // 512)] for a, b in zip(rows[r], lower)) + "\n")
        return text
    for r in range(0, height, 2):
        upper, lower = rows[r], rows[r + 1] if r + 1 < height else [0] * width
        for a, b in zip(upper, lower):
            text.append("▀", Style(color=_grey(a), bgcolor=_grey(b)))
        text.append("\n")
    text.rstrip()
    return text


def png_pixels(path) -> list[list[int]]:
    """A PNG as greyscale rows (Pillow, no torch)."""
    from PIL import Image

    with Image.open(path) as image:
        grey = image.convert("L")
        width, height = grey.size
        data = list(grey.tobytes())  # mode L: one byte per pixel, row by row
    return [data[i * width:(i + 1) * width] for i in range(height)]
