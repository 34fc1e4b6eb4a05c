"""Colours that read well in a 16-colour SSH session and in a truecolour one.

`ansi` is True when the dashboard runs on a 16-colour terminal: then only
the named ANSI colours are used (and Textual's ansi theme), otherwise
gradients.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

SERIES = ("cyan+", "magenta+", "green+", "yellow", "blue+", "red+", "white")  # plotext colour names, all 16-colour safe
DIGIT_COLORS = ("red+", "green+", "yellow", "blue+", "magenta+", "cyan+", "white", "red", "green", "blue")  # plotext names


def rich_color(plotext_name: str) -> str:
    """A plotext colour name ('cyan+') as rich names it ('bright_cyan')."""
    return "bright_" + plotext_name[:-1] if plotext_name.endswith("+") else plotext_name


def position(value: float, lo: float, hi: float) -> float:
    if hi == lo:
        return 1.0
    return max(0.0, min(1.0, (value - lo) / (hi - lo)))


HEAT_ANSI = ("red", "magenta", "yellow", "cyan", "green")  # five steps, low to high, each its own hue


def heat(t: float, ansi: bool) -> Style:
    """Low (t=0) is red, middle yellow, high (t=1) green: in 16 colours a foreground in five steps (no two
    alike, so 45% and 95% never look the same), otherwise a background gradient."""
    if ansi:
        step = min(len(HEAT_ANSI) - 1, int(max(0.0, t) * len(HEAT_ANSI)))
        return Style(color=HEAT_ANSI[step], bold=True)
    # red -> amber -> green, dark enough for white text
    if t < 0.5:
        u = t / 0.5
        r, g, b = 150, int(40 + 90 * u), 30
    else:
        u = (t - 0.5) / 0.5
        r, g, b = int(150 - 110 * u), int(130 - 10 * u), int(30 + 20 * u)
    return Style(color="#ffffff", bgcolor=f"#{r:02x}{g:02x}{b:02x}")


def heat_legend(lo: float, hi: float, ansi: bool, percent: bool = True) -> Text:
    """What each colour means, on the scale's own fixed range: '■ <20%  ■ 20-40% ... ■ ≥80%'."""
    steps = len(HEAT_ANSI)
    edges = [lo + (hi - lo) * i / steps for i in range(steps + 1)]

    unit = "%" if percent else ""

    def shown(v: float) -> str:
        return f"{v * 100:.4g}" if percent else f"{v:.4g}"

    out = Text()
    out.append("colour: ", style="dim")
    for i in range(steps):
        style = heat((i + 0.5) / steps, ansi)
        out.append("■", style=Style(color=style.bgcolor or style.color, bold=True))
        label = f"<{shown(edges[1])}" if i == 0 else f"≥{shown(edges[i])}" if i == steps - 1 else \
            f"{shown(edges[i])}-{shown(edges[i + 1])}"
        out.append(f" {label}{unit}  ")
    out.rstrip()
    return out


def shade(t: float, ansi: bool) -> Style:
    """One colour from faint to strong (counts, e.g. a confusion matrix): dim -> bold in 16 colours."""
    if ansi:
        if t <= 0:
            return Style(dim=True)
        return Style(color="cyan", bold=t > 0.5)
    v = int(25 + 150 * t)
    return Style(color="#ffffff" if t > 0.05 else "#808080", bgcolor=f"#{v // 3:02x}{v // 2:02x}{v:02x}")
