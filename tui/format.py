"""Small text formatters shared by the CLI and the dashboard (no torch, no Textual)."""

from __future__ import annotations

import time

from jobs.kinds import KINDS

STATUS_STYLE = {"queued": "yellow", "running": "cyan", "done": "green", "failed": "red", "cancelled": "magenta"}
STATUS_MARK = {"queued": "·", "running": "▶", "done": "✓", "failed": "✗", "cancelled": "⊘"}


def duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def ago(ts: float | None) -> str:
    return "-" if ts is None else duration(time.time() - ts) + " ago"


ACCURACY_DECIMALS = 2
# Numbers that name things (not amounts): never grouped with commas.
IDENTIFIERS = ("id", "seed", "pid", "run", "job", "gpu", "port", "attempt")


def percent(x: float | None, digits: int = ACCURACY_DECIMALS) -> str:
    """A fraction as a percentage, with the dashboard's one number of decimals: 0.9712 -> '97.12%'."""
    return "-" if x is None else f"{x * 100:.{digits}f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 job', '2 jobs', '1,200 jobs'."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def number(value, key: str = "") -> str:
    """A number as a person reads it: grouped (525,200, not 5.252e+05), four significant digits when small,
    never in exponent notation unless tiny; counts that name things (seed, id) are left alone."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)  # nan, inf: said as they are
    if any(part in IDENTIFIERS for part in key.lower().replace("-", "_").split("_")):
        return str(int(value)) if isinstance(value, int) or float(value).is_integer() else f"{value:g}"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 1e-4:
        return f"{value:.3g}"
    return f"{value:.4g}"


def is_fraction_key(key: str) -> bool:
    """A result key whose value is a fraction shown as a percentage (accuracy, share of images...)."""
    key = key.lower()
    return "accuracy" in key or key.endswith(("_fraction", "_share", "_rate"))


def bar(fraction: float, width: int = 10) -> str:
    """A text progress bar with eighth-block resolution."""
    fraction = min(1.0, max(0.0, fraction or 0.0))
    eighths = int(round(fraction * width * 8))
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return ("█" * full + partial).ljust(width, "░")[:width]


def progress_text(status: str, fraction: float, eta_s: float | None, width: int = 10) -> str:
    if status == "queued":
        return ""
    if status != "running":
        return f"{bar(fraction, width)} {fraction * 100:3.0f}%"
    eta = f" {duration(eta_s)}" if eta_s is not None else ""
    return f"{bar(fraction, width)} {fraction * 100:3.0f}%{eta}"


def headline(value: float | None, kind: str) -> str:
    """A job's main number: a percentage when its kind's headline is a fraction (accuracy, share)."""
    if value is None:
        return "-"
    spec = KINDS.get(kind)
    if spec is None or spec.headline_is_fraction:
        return f"{value * 100:.2f}%"
    return f"{value:.3f}"


def short_device(slot: str | None) -> str:
    return slot or "-"


def gpu_use(slot: dict) -> str:
    """A slot's GPU use as its machine reported it, e.g. '37% 2.1/80.0 GB'; '-' when not known."""
    util, used, total = slot.get("gpu_util"), slot.get("gpu_mem_used_mb"), slot.get("gpu_mem_total_mb")
    if util is None and used is None:
        return "-"
    memory = f" {used / 1024:.1f}/{total / 1024:.1f} GB" if used is not None and total else ""
    return (f"{util:.0f}%" if util is not None else "-") + memory
