"""`mnistlab bench tsne`: t-SNE of the latent-map phase, openTSNE vs scikit-learn (imports torch lazily)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich import box
from rich.table import Table

from runs.records import InputError
from tui.cli.bench_cmd import OutOpt, bench_app, report
from tui.cli.common import JsonOpt, console, err, store


def _source(run: int | None, points: int) -> tuple[Path | None, Path | None]:
    """(a latent-N.npz, a generator.pt): from --run, else the newest finished analysis or GAN of the store."""
    s = store()
    if run is None and not s.paths.db.exists():
        return None, None
    if run is not None:
        job = s.job(run)
        if job.kind not in ("ganmap", "gan") or job.status != "done":
            raise InputError(f"--run {run} is a {job.status} {job.kind} job; allowed: a finished ganmap or gan job")
        candidates = [job]
    else:
        candidates = s.jobs(kind=["ganmap", "gan"], status=["done"], newest_first=True)
    for job in candidates:
        if job.kind == "ganmap":
            sizes = sorted(n for n in job.spec.get("sizes", []) if n >= points)
            path = s.artifact_path(job.id, f"latent-{sizes[0]}") if sizes else None
            if path is not None and path.exists():
                return path, None
        else:
            path = s.artifact_path(job.id, "generator")
            if path is not None and path.exists():
                return None, path
        if run is not None:
            raise InputError(f"--run {run} holds no latent map of {points:,} or more points; allowed: a ganmap job "
                             f"with such a size, or a finished gan job")
    return None, None


@bench_app.command("tsne")
def tsne_bench(run: Optional[int] = typer.Option(None, "--run", help="A finished ganmap job (its latent map's "
                                                 "points) or gan job (fresh G(z)) [default: the newest in the "
                                                 "store, else MNIST test images as a stand-in]."),
               points: int = typer.Option(10000, "--points", min=100, max=60000, help="Points per map."),
               methods: str = typer.Option("opentsne,sklearn", "--methods",
                                           help="Comma-separated: opentsne, sklearn, opentsne-bh, opentsne-fft."),
               threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                                     help="openTSNE threads [default: all cores]."),
               seed: int = typer.Option(0, "--seed", min=0),
               as_json: bool = JsonOpt, out: Optional[Path] = OutOpt) -> None:
    """t-SNE time and trustworthiness for both latent maps (G(z) and z), openTSNE vs scikit-learn's default."""
    from jobs import bench_tsne

    chosen = tuple(m.strip() for m in methods.split(",") if m.strip())
    unknown = [m for m in chosen if m not in bench_tsne.METHODS]
    if unknown or not chosen:
        raise InputError(f"--methods {methods!r} is not allowed; allowed: a comma-separated list of "
                         + ", ".join(bench_tsne.METHODS))
    npz, generator = _source(run, points)
    gz, z, where = bench_tsne.load_points(npz, points, seed, os.environ.get("MNISTLAB_DATA"), generator)
    results = bench_tsne.run(gz, z, seed=seed, n_jobs=threads, methods=chosen, log=lambda m: err.print(m))
    results["source"] = where
    report(results, as_json, out)
    if as_json:
        return
    # The title is a line of its own: as a table title it would wrap at the narrow table's width.
    console.print(f"[bold]t-SNE of the latent maps, {results['points']:,} points "
                  f"(openTSNE threads: {results['n_jobs_opentsne']})[/]")
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("map", "input", "method", "seconds", f"trustworthiness (k={results['trust_neighbors']})"):
        table.add_column(column, justify="right" if column in ("seconds",) or column.startswith("trust") else "left")
    for key, entry in results["maps"].items():
        for method, r in entry["runs"].items():
            table.add_row(key, f"{entry['input_dims']}-d", method, f"{r['seconds']:.1f}", f"{r['trustworthiness']:.4f}")
    console.print(table)
    pick = results["choice"]
    ratios = ", ".join(f"{m} takes {ratio:.1f}x as long" for m, ratio in pick["time_ratio_of_others"].items())
    console.print(f"fastest at equal quality (trustworthiness within {bench_tsne.TOLERANCE} of the best on both "
                  f"maps): {pick['method']}, {pick['total_s']:.1f} s for both maps" + (f"; {ratios}" if ratios else ""))
    console.print(f"[dim]points: {where}[/]")
