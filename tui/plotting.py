"""Which metrics share a plot, and thinning long series to what a terminal can show.

Metric names are free (train/loss, val/accuracy, gan/g_loss, ...). Series are
grouped by their step scale: those whose last step is within the job's
epochs (or far below the densest series) are per-epoch, the rest
per-iteration; per-epoch accuracies get their own plot (their scale is 0-1,
not a loss's). No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass

Series = dict[str, tuple[list[int], list[float]]]  # name -> (steps, values)


@dataclass
class PlotGroup:
    key: str
    title: str
    x_label: str
    names: list[str]
    row: int  # 0: the per-iteration row, 1: the per-epoch row


def is_accuracy(name: str) -> bool:
    return "acc" in name.lower()


def group_series(series: Series, epochs: int | None = None) -> list[PlotGroup]:
    names = sorted(n for n, (steps, _) in series.items() if steps)
    if not names:
        return []
    last = {n: max(series[n][0]) for n in names}
    densest = max(last.values())
    per_epoch = [n for n in names if n.endswith("_epoch")
                 or (last[n] <= epochs if epochs else last[n] * 8 <= densest)]
    per_iter = [n for n in names if n not in per_epoch]
    groups = []
    if per_iter:
        title = "per iteration" if len(per_iter) > 1 else per_iter[0]
        groups.append(PlotGroup("iteration", title, "iteration", per_iter, 0))
    losses = [n for n in per_epoch if not is_accuracy(n)]
    accs = [n for n in per_epoch if is_accuracy(n)]
    if losses:
        groups.append(PlotGroup("epoch", "per epoch" if len(losses) > 1 else losses[0], "epoch", losses, 1))
    if accs:
        groups.append(PlotGroup("accuracy", "accuracy per epoch" if len(accs) > 1 else accs[0], "epoch", accs, 1))
    return groups


def thin(steps: list[int], values: list[float], points: int) -> tuple[list[float], list[float]]:
    """At most about `points` points: bucket means (keeps the trend of a noisy loss)."""
    n = len(steps)
    if n <= points or points < 2:
        return list(map(float, steps)), list(values)
    size = n / points
    xs, ys = [], []
    for b in range(points):
        lo, hi = int(b * size), max(int((b + 1) * size), int(b * size) + 1)
        chunk = values[lo:hi]
        xs.append(float(steps[(lo + hi - 1) // 2]))
        ys.append(sum(chunk) / len(chunk))
    return xs, ys


def latest(series: Series, name: str) -> tuple[int, float] | None:
    steps, values = series.get(name, ([], []))
    return (steps[-1], values[-1]) if steps else None


def value_text(name: str, value: float) -> str:
    return f"{value * 100:.2f}%" if is_accuracy(name) and 0 <= value <= 1 else f"{value:.4g}"
