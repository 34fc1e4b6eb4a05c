"""Colours that read well in a 16-colour SSH session and in a truecolour one.

`ansi` is True when the dashboard runs on a 16-colour terminal: then only
the named ANSI colours are used (and Textual's ansi theme), otherwise
gradients.
"""

from __future__ import annotations

from rich.style import Style

SERIES = ("cyan+", "magenta+", "green+", "yellow", "blue+", "red+", "white")  # plotext colour names, all 16-colour safe
DIGIT_COLORS = ("red+", "green+", "yellow", "blue+", "magenta+", "cyan+", "white", "red", "green", "blue")  # plotext names


def position(value: float, lo: float, hi: float) -> float:
    if hi == lo:
        return 1.0
    return max(0.0, min(1.0, (value - lo) / (hi - lo)))


def heat(t: float, ansi: bool) -> Style:
    """Low (t=0) is red, middle yellow, high (t=1) green: as a foreground in 16 colours, a background otherwise."""
    if ansi:
        return Style(color="red" if t < 1 / 3 else "yellow" if t < 2 / 3 else "green", bold=True)
    # red -> amber -> green, dark enough for white text
    if t < 0.5:
        u = t / 0.5
        r, g, b = 150, int(40 + 90 * u), 30
    else:
        u = (t - 0.5) / 0.5
        r, g, b = int(150 - 110 * u), int(130 - 10 * u), int(30 + 20 * u)
    return Style(color="#ffffff", bgcolor=f"#{r:02x}{g:02x}{b:02x}")


def shade(t: float, ansi: bool) -> Style:
    """One colour from faint to strong (counts, e.g. a confusion matrix): dim -> bold in 16 colours."""
    if ansi:
        if t <= 0:
            return Style(dim=True)
        return Style(color="cyan", bold=t > 0.5)
    v = int(25 + 150 * t)
    return Style(color="#ffffff" if t > 0.05 else "#808080", bgcolor=f"#{v // 3:02x}{v // 2:02x}{v:02x}")
