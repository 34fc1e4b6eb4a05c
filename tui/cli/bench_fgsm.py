"""`mnistlab bench fgsm`: the FGSM attack phase against the per-image loop and its floor, in one run (torch lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tui.cli.bench_cmd import OutOpt, bench_app, report
from tui.cli.common import JsonOpt, console, err


@bench_app.command("fgsm")
def fgsm_bench(images: int = typer.Option(10000, "--images", min=100, max=10000, help="Test images attacked."),
               eps: str = typer.Option("0.2,0.4,0.5,0.7,0.8,1.0", "--eps", help="Epsilons (normalised scale)."),
               batch_size: int = typer.Option(2000, "--batch-size", min=1, max=10000,
                                              help="Attack and evaluation batch size."),
               train_samples: int = typer.Option(2000, "--train-samples", min=64, max=60000,
                                                 help="Training images of the six stand-in nets."),
               reference_images: int = typer.Option(100, "--reference-images", min=5, max=10000,
                                                    help="Images the per-image loop is timed on (its time per "
                                                         "image, scaled to --images)."),
               as_json: bool = JsonOpt, out: Optional[Path] = OutOpt) -> None:
    """Seconds for the attack phase of study 4 (six nets, six epsilons) against the PyTorch tutorial's
    one-image-at-a-time loop and against the floor (the passes no implementation can skip), in one run."""
    try:
        eps_list = [float(e) for e in eps.split(",") if e.strip()]
    except ValueError:
        eps_list = []
    if not eps_list or any(not 0 <= e <= 10 for e in eps_list):
        from runs.records import InputError

        raise InputError(f"--eps {eps!r} is not allowed; allowed: comma-separated numbers from 0 to 10")
    from jobs import bench_fgsm

    results = bench_fgsm.run(images, eps_list, batch_size, train_samples=train_samples,
                             reference_images=reference_images, log=lambda m: err.print(m))
    report(results, as_json, out)
    if as_json:
        return
    ours, floor, per_image = results["ours"], results["floor"], results["per_image"]
    console.print(f"attack phase, {len(results['nets'])} nets x {len(results['eps'])} eps x "
                  f"{results['images']:,} images ({results['torch_threads']} torch threads, batches of "
                  f"{results['batch_size']:,}):")
    for label, r in (("ours", ours), ("floor (passes alone)", floor)):
        console.print(f"  {label:<22} {r['seconds']:8.1f} s  (gradient passes {r['gradient_s']:.1f} s; "
                      f"classifying: {r['evaluation_s']:.1f} s)")
    scaled = (f", timed on {per_image['measured_images']:,} images ({per_image['measured_seconds']:.1f} s) and "
              "scaled" if per_image["scaled"] else "")
    console.print(f"  {'per image (tutorial)':<22} {per_image['seconds']:8.1f} s{scaled}")
    console.print(f"  ratio per-image / ours: {results['ratio_per_image']:.1f}x (goal: at least 20x)")
    console.print(f"  ratio ours / floor: {results['ratio_to_floor']:.2f}x (goal: at most 1.25x)")
    console.print(f"  {results['adversarial_images_per_s']['ours']:,.0f} adversarial images/s, each classified by "
                  f"{len(results['nets'])} nets; matrices agree with the per-image loop to "
                  f"{results['max_difference_to_per_image']:.4f}")
