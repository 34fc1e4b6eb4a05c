"""`mnistlab bench augment`: batched per-image augmentation vs torchvision's DataLoader pipeline (torch lazily)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Optional

import typer

from tui.cli.bench_cmd import OutOpt, bench_app, report
from tui.cli.common import EXIT_FAILED, JsonOpt, console, err, fail


@bench_app.command("augment")
def augment_bench(transforms: str = typer.Option("T8", "--transforms", help="Transforms to measure, e.g. T8 "
                                                 "or T1,T2,T8 (T1-T8; MixUp is not a per-image transform)."),
                  images: int = typer.Option(1000, "--images", min=64, max=60000,
                                             help="Training images per epoch."),
                  batch_size: int = typer.Option(64, "--batch-size", min=1, max=60000),
                  repeats: int = typer.Option(5, "--repeats", min=1, max=50),
                  device: str = typer.Option("cpu", "--device", help="cpu, or cuda for the batched pipelines."),
                  workers: int = typer.Option(0, "--workers", min=0, max=64,
                                              help="DataLoader worker processes for the baseline."),
                  threads: int = typer.Option(1, "--threads", min=1, max=256,
                                              help="torch threads: 1 compares like with like, the DataLoader "
                                                   "pipeline (--workers 0) running on one core."),
                  kornia: bool = typer.Option(True, "--kornia/--no-kornia",
                                              help="Also measure kornia.augmentation's modules."),
                  as_json: bool = JsonOpt, out: Optional[Path] = OutOpt) -> None:
    """Augmented images/s for a 1,000-image epoch: torchvision per image through a DataLoader, against
    jobs.augmentations at batch 64 and for the whole epoch in one call (and kornia), side by side."""
    chosen = [t.strip() for t in transforms.split(",") if t.strip()]
    allowed = [f"T{i}" for i in range(1, 9)]
    for t in chosen:
        if t not in allowed:
            fail(f"--transforms {t!r} is not allowed; allowed: {', '.join(allowed)}")
    if device not in ("cpu", "cuda"):
        fail(f"--device {device!r} is not allowed; allowed: cpu, cuda")
    if kornia and importlib.util.find_spec("kornia") is None:
        fail("--kornia needs kornia, which is not installed: install the bench extra (pip install "
             "'mnistlab[bench]'; in a checkout pip install -e '.[bench]'), or pass --no-kornia", EXIT_FAILED)

    from jobs import bench_augment

    try:
        results = bench_augment.run(chosen, images, batch_size, repeats, device, workers, threads, kornia,
                                    log=lambda m: err.print(m))
    except ValueError as exc:
        fail(str(exc))
    report(results, as_json, out)
    if as_json:
        return
    console.print(f"{images:,} images, batch {batch_size}, {results['device']}, {results['torch_threads']} torch "
                  f"thread(s), DataLoader workers {workers}; medians of {repeats} interleaved repeats")
    for tid, r in results["transforms"].items():
        m, ratio = r["median_images_per_s"], r["ratio_to_dataloader"]
        console.print(f"{tid}: torchvision DataLoader {m['dataloader']:,.0f} images/s")
        for name, value in ratio.items():
            console.print(f"    {name:<14} {m[name]:>12,.0f} images/s  {value:6.1f}x")
