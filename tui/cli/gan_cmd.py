"""`mnistlab gan ...`: look into a GAN study's results from a shell (no torch here).

- `gan region RUN --map gz-10000 --x A B --y C D`: the generated digits whose
  points fall in a rectangle of a latent map, ordered left to right (to watch
  one cluster turn into the next), as half-block pictures; `--json` lists them.
- `gan map RUN --map gz-1000`: the map as a terminal scatter plot (plotext),
  coloured by net 11.1's label.
- `gan show RUN`: a gan run's latest sample grid, or an analysis's
  interpolation strip and class balance.

It also puts a store check in front of `mnistlab submit ganmap`: the runs a
spec names must exist, be of the right kind and be done (exit 2, nothing
queued, otherwise).
"""

from __future__ import annotations

from typing import Optional, Tuple

import typer
from rich.console import Group
from rich.text import Text

from runs.records import InputError, Job
from runs.scatter import bounds, load_images, points_in_rect
from runs.store import Store
from tui.cli.common import JsonOpt, console, print_json, store
from tui.cli.views import matrix_table
from tui.pixels import halfblocks, png_pixels

gan_app = typer.Typer(help="Study 3's results: latent-map regions, maps and pictures in the terminal.",
                      no_args_is_help=True)

MapOpt = typer.Option("gz-10000", "--map", help="Map name: gz-N (t-SNE of G(z)) or z-N (t-SNE of z).")


def analysis_job(s: Store, run: int) -> Job:
    """The ganmap job `run`; a gan run id gets a pointer to its analyses instead."""
    job = s.job(run)
    if job.kind == "ganmap":
        return job
    if job.kind == "gan":
        maps = [j.id for j in s.jobs(kind=["ganmap"]) if (j.result or {}).get("gan_run") == run
                or j.spec.get("gan_run") == run]
        hint = (f"its analyses: job(s) {', '.join(map(str, maps))}" if maps
                else f"analyse it with `mnistlab study gan --gan-run {run}`")
        raise InputError(f"job {run} is the gan run itself; the maps are in its ganmap analysis ({hint})")
    raise InputError(f"job {run} is a {job.kind} job, not a ganmap analysis (the maps of study 3 are there)")


def scatter_table(s: Store, job: Job, name: str) -> dict:
    tables = s.tables(job.id)
    maps = sorted(k for k, v in tables.items() if isinstance(v, dict) and v.get("kind") == "scatter")
    if name not in tables or name not in maps:
        if job.status != "done" and not maps:
            raise InputError(f"job {job.id} is {job.status} and has drawn no map yet")
        raise InputError(f"job {job.id} has no map {name!r}; allowed: {', '.join(maps) or 'none yet'}")
    return tables[name]


def tile(images, columns: int, scale: int, gap: int = 1) -> list[list[int]]:
    """uint8 (N, 28, 28) digits -> one picture, `columns` per row, shrunk by `scale` (2x2 mean for 2)."""
    import numpy as np

    imgs = np.asarray(images, dtype=np.float32)
    if scale > 1:
        n, h, w = imgs.shape
        imgs = imgs[:, :h - h % scale, :w - w % scale].reshape(n, h // scale, scale, w // scale, scale).mean((2, 4))
    n, h, w = imgs.shape
    rows = -(-n // columns)
    canvas = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), 40, dtype=np.float32)
    for i, img in enumerate(imgs):
        r, c = divmod(i, columns)
        canvas[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = img
    return canvas.round().astype(np.uint8).tolist()


@gan_app.command("region")
def region(run: int = typer.Argument(..., help="Job id of the ganmap analysis."),
           map_: str = MapOpt,
           x: Tuple[float, float] = typer.Option(..., "--x", help="The rectangle's x range: two numbers."),
           y: Tuple[float, float] = typer.Option(..., "--y", help="The rectangle's y range: two numbers."),
           limit: int = typer.Option(40, "--limit", min=1, max=10000, help="Show at most this many digits."),
           scale: int = typer.Option(2, "--scale", min=1, max=4, help="Shrink each 28x28 digit by this factor."),
           plain: bool = typer.Option(False, "--plain", help="Shade characters instead of colours."),
           as_json: bool = JsonOpt) -> None:
    """The generated digits whose points fall inside a rectangle of a latent map, left to right."""
    s = store()
    job = analysis_job(s, run)
    payload = scatter_table(s, job, map_)
    inside = sorted(points_in_rect(payload, x, y), key=lambda i: (payload["x"][i], payload["y"][i]))
    (x0, x1), (y0, y1) = bounds(payload)
    labels, conf = payload.get("labels") or [], payload.get("confidence") or []
    points = [{"index": i, "x": payload["x"][i], "y": payload["y"][i],
               "label": labels[i] if labels else None, "confidence": conf[i] if conf else None} for i in inside]
    shown = points[:limit]
    if as_json:
        ref = payload.get("images") or {}
        path = s.artifact_path(job.id, ref.get("artifact", "")) if ref else None
        print_json({"job_id": job.id, "map": map_, "x": sorted(x), "y": sorted(y), "count": len(points),
                    "total": len(payload["x"]), "bounds": {"x": [x0, x1], "y": [y0, y1]}, "points": points,
                    "images": {"path": str(path) if path else None, "key": ref.get("key")}})
        return
    head = (f"map {map_} of job {job.id}: {len(points):,} of {len(payload['x']):,} points in "
            f"x [{min(x):g}, {max(x):g}], y [{min(y):g}, {max(y):g}]")
    if not points:
        console.print(f"{head}; the map spans x [{x0:.1f}, {x1:.1f}], y [{y0:.1f}, {y1:.1f}]")
        return
    images = load_images(s.artifacts(job.id), payload, [p["index"] for p in shown])
    cell = 28 // scale + 1
    columns = max(1, min(len(shown), (console.width + 1) // cell))
    parts = [Text(head + (f" (showing the first {limit} from the left; --limit for more)"
                          if len(points) > limit else ""), style="bold")]
    for start in range(0, len(shown), columns):
        row = shown[start:start + columns]
        parts.append(halfblocks(tile(images[start:start + columns], columns, scale), color=not plain))
        parts.append(Text("".join(f"{_label(p):<{cell}}" for p in row)[:console.width], style="dim"))
    parts.append(Text(f"{payload.get('label_name', 'label')}, with confidence, under each digit; "
                      "ordered by x", style="dim"))
    console.print(Group(*parts))


def _label(point: dict) -> str:
    if point["label"] is None:
        return ""
    return f"{point['label']}" + (f" {point['confidence']:.2f}" if point["confidence"] is not None else "")


@gan_app.command("map")
def map_command(run: int = typer.Argument(..., help="Job id of the ganmap analysis."),
                map_: str = typer.Option("gz-1000", "--map", help="Map name: gz-N or z-N."),
                width: Optional[int] = typer.Option(None, "--width", min=20, help="Plot width in characters."),
                height: Optional[int] = typer.Option(None, "--height", min=10, help="Plot height in lines.")) -> None:
    """A latent map as a terminal scatter plot, one colour per predicted digit."""
    import plotext as plt

    s = store()
    job = analysis_job(s, run)
    payload = scatter_table(s, job, map_)
    labels = payload.get("labels") or [0] * len(payload["x"])
    plt.clear_figure()
    plt.plotsize(width or min(console.width, 120), height or max(20, min(console.height - 4, 40)))
    plt.theme("clear")
    colors = ["blue", "orange", "green", "red", "magenta", "brown", "cyan", "gray", "yellow", "white"]
    for digit in sorted(set(labels)):
        xs = [px for px, lab in zip(payload["x"], labels) if lab == digit]
        ys = [py for py, lab in zip(payload["y"], labels) if lab == digit]
        plt.scatter(xs, ys, marker=str(digit) if len(xs) < 3000 else "dot", color=colors[digit % 10],
                    label=str(digit))
    plt.title(payload.get("title", map_))
    console.print(Text.from_ansi(plt.build()))
    console.print(Text(f"colour and marker: {payload.get('label_name', 'label')}; "
                       f"`mnistlab gan region {job.id} --map {map_} --x A B --y C D` shows the digits "
                       "of a rectangle", style="dim"))


def grid_digits(pixels: list[list[int]], padding: int = 2, size: int = 28):
    """The digits of a `digit_grid` picture (uint8 rows), as (N, size, size), row by row."""
    import numpy as np

    grid = np.asarray(pixels, dtype=np.uint8)
    if grid.shape == (size, size):  # torchvision's make_grid returns a lone image without padding
        return grid[None]
    pitch = size + padding
    rows, columns = (grid.shape[0] - padding) // pitch, (grid.shape[1] - padding) // pitch
    tops = [padding + r * pitch for r in range(rows)]
    lefts = [padding + c * pitch for c in range(columns)]
    return np.stack([grid[top:top + size, left:left + size] for top in tops for left in lefts])


def _picture(image: dict, limit: int, scale: int, plain: bool) -> list:
    digits = grid_digits(png_pixels(image["path"]))
    shown = digits[:limit]
    columns = max(1, min(len(shown), (console.width + 1) // (28 // scale + 1)))
    caption = image["meta"].get("caption", image["name"])
    if len(digits) > len(shown):
        caption += f" (the first {len(shown)} of {len(digits)}; --limit for more)"
    return [Text(caption, style="bold"), halfblocks(tile(shown, columns, scale), color=not plain)]


@gan_app.command("show")
def show(run: int = typer.Argument(..., help="Job id of a gan run or of its ganmap analysis."),
         limit: int = typer.Option(20, "--limit", min=1, max=400, help="Digits of the sample grid to show."),
         scale: int = typer.Option(2, "--scale", min=1, max=4, help="Shrink each 28x28 digit by this factor."),
         plain: bool = typer.Option(False, "--plain", help="Shade characters instead of colours.")) -> None:
    """A gan run's latest sample grid, or an analysis's G(z1), G(z2), interpolation strip and class balance."""
    s = store()
    job = s.job(run)
    if job.kind not in ("gan", "ganmap"):
        raise InputError(f"job {run} is a {job.kind} job; `gan show` takes a gan run or a ganmap analysis")
    images = {a["name"]: a for a in s.artifacts(run) if a["kind"] == "image"}
    parts: list = []
    if job.kind == "gan":
        grids = sorted(n for n in images if n.startswith("samples-epoch-"))
        if not grids:
            raise InputError(f"gan job {run} is {job.status} and has drawn no sample grid yet (one per epoch)")
        parts += _picture(images[grids[-1]], limit, scale, plain)
    else:
        for name in ("g-z1", "g-z2", "interpolation"):
            if name in images:
                parts += _picture(images[name], 11, scale, plain)
        tables = s.tables(run)
        for name in sorted(k for k in tables if k.startswith("classes-")):
            parts.append(matrix_table(name, tables[name]))
        if not parts:
            raise InputError(f"ganmap job {run} is {job.status} and has drawn nothing yet")
    console.print(Group(*parts))

