"""`mnistlab bench fgsm`: the FGSM attack phase against a per-epsilon loop, in one run (torch imported lazily)."""

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
               as_json: bool = JsonOpt, out: Optional[Path] = OutOpt) -> None:
    """Seconds for the attack phase of study 4 (six nets, six epsilons), and the ratio against a
    straightforward implementation with one backward pass per epsilon, measured in the same run."""
    try:
        eps_list = [float(e) for e in eps.split(",") if e.strip()]
    except ValueError:
        eps_list = []
    if not eps_list or any(not 0 <= e <= 10 for e in eps_list):
        from runs.records import InputError

        raise InputError(f"--eps {eps!r} is not allowed; allowed: comma-separated numbers from 0 to 10")
    from jobs import bench_fgsm

    results = bench_fgsm.run(images, eps_list, batch_size, train_samples=train_samples,
                             log=lambda m: err.print(m))
    report(results, as_json, out)
    if as_json:
        return
    fast, slow = results["ours"], results["per_epsilon"]
    console.print(f"attack phase, {len(results['nets'])} nets x {len(results['eps'])} eps x "
                  f"{results['images']:,} images ({results['torch_threads']} torch threads):")
    for label, r in (("sign once per net and batch", fast), ("per-epsilon baseline", slow)):
        console.print(f"  {label:<28} {r['seconds']:7.1f} s  (gradient passes {r['gradient_passes']}: "
                      f"{r['gradient_s']:.1f} s; building + classifying: {r['evaluation_s']:.1f} s)")
    console.print(f"  ratio per-epsilon / ours: {results['ratio']:.2f}x; "
                  f"{results['adversarial_images_per_s']['ours']:,.0f} adversarial images/s, each classified "
                  f"by {len(results['nets'])} nets; matrices agree to {results['max_matrix_difference']:.4f}")
