"""`mnistlab bench ...`: measured ratios against a baseline run side by side (imports torch lazily)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from tui.cli.common import JsonOpt, console, err, print_json
from tui.cli.outfile import check_out, write_out

bench_app = typer.Typer(help="Benchmarks: each measures against its baseline in the same run.",
                        no_args_is_help=True)

OutOpt = typer.Option(None, "--out", "-o", callback=check_out, help="Also write the results as JSON to this file.")


def report(results: dict, as_json: bool, out: Path | None) -> None:
    if out:
        write_out(out, json.dumps(results, indent=2, sort_keys=True) + "\n")
    if as_json:
        print_json(results)


@bench_app.command("engine")
def engine_bench(nets: str = typer.Option("1,10.1", "--nets", help="Nets to train both ways."),
                 samples: int = typer.Option(60000, "--samples", min=64, max=60000),
                 epochs: int = typer.Option(1, "--epochs", min=1, max=10),
                 repeats: Optional[int] = typer.Option(None, "--repeats", min=1, max=20, show_default=False,
                                                       help="Repeats of each net [default: 3]; with --ray, "
                                                            "rounds of one batch on each executor [default: 4]."),
                 ray: Optional[str] = typer.Option(None, "--ray", metavar="auto|local|HOST:PORT",
                                                   help="Compare the Ray executor with the local one instead: "
                                                        "jobs per minute and submit latency."),
                 as_json: bool = JsonOpt, out: Optional[Path] = OutOpt) -> None:
    """Engine vs bare-loop training throughput, submit latency, worker memory (or --ray: Ray vs local)."""
    from engine import bench

    if ray is not None:
        from tui.cli.engine_cmd import ray_target

        ray_bench(bench.compare_ray(ray_target(ray), rounds=repeats or 4, log=lambda m: err.print(m)), as_json, out)
        return
    results = bench.run([n.strip() for n in nets.split(",")], samples, epochs, repeats=repeats or 3,
                        log=lambda m: err.print(m))
    report(results, as_json, out)
    if as_json:
        return
    for net, r in results["nets"].items():
        console.print(f"net {net}: engine/bare throughput {r['ratio_of_medians']:.3f} "
                      f"(bare median {sorted(r['bare_samples_per_s'])[len(r['bare_samples_per_s']) // 2]:,.0f}/s)")
    lat = results["latency"]
    console.print(f"submit -> running: median {lat['submit_to_running_s']['median'] * 1000:.0f} ms, "
                  f"max {lat['submit_to_running_s']['max'] * 1000:.0f} ms; submit -> computing: median "
                  f"{lat['submit_to_computing_s']['median'] * 1000:.0f} ms")
    cancel = results["cancel_latency_s"]
    console.print(f"cancel -> cancelled: median {cancel['median'] * 1000:.0f} ms, max {cancel['max'] * 1000:.0f} ms")
    console.print(f"worker peak RSS: {results['worker_peak_rss_mb']:.0f} MB "
                  f"({results['worker_threads']} torch threads per worker)")


def ray_bench(results: dict, as_json: bool, out: Path | None) -> None:
    report(results, as_json, out)
    if as_json:
        return
    ray, local = results["ray"], results["local"]
    rates = lambda r: ", ".join(f"{x:.1f}" for x in r["jobs_per_minute"])  # noqa: E731
    console.print(f"{results['batch']} jobs of net 1 on {results['samples']:,} images x {results['epochs']} epochs, "
                  f"{ray['slots']} Ray slot(s) "
                  f"({results['target']}) vs {local['slots']} local; {results['rounds']} rounds, "
                  f"order {results['order']}")
    paired = results["ratio_per_round"]
    console.print(f"jobs per minute: ray {rates(ray)}, local {rates(local)}: ray/local "
                  f"{results['ratio_jobs_per_minute']:.3f} (medians; round by round {min(paired):.2f}-"
                  f"{max(paired):.2f})")
    for name, r in (("ray", ray), ("local", local)):
        lat = r["latency"]["submit_to_running_s"]
        console.print(f"submit -> running ({name}): median {lat['median'] * 1000:.0f} ms, "
                      f"max {lat['max'] * 1000:.0f} ms")
    console.print(f"while the other ran its batch: the waiting Ray engine, its slot and daemons took "
                  f"{ray['cpu_percent_while_waiting']:.1f} % of a core, the local engine and its worker "
                  f"{local['cpu_percent_while_waiting']:.1f} %")


def _register_bench_commands() -> None:
    """Import every tui/cli/bench_<name>.py: each adds its `bench <name>` command to bench_app."""
    import importlib
    import pkgutil

    import tui.cli

    for info in sorted(pkgutil.iter_modules(tui.cli.__path__), key=lambda m: m.name):
        if info.name.startswith("bench_") and info.name != "bench_cmd":
            importlib.import_module(f"tui.cli.{info.name}")


_register_bench_commands()
