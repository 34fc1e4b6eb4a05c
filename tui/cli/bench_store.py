"""`mnistlab bench store`: the bytes a run of each kind adds to the data folder, measured and at the defaults.

Short real runs (train, augment, gan, fgsm) on an engine with one CPU slot in a temporary data folder;
`engine/bench_store.py` says what is measured and how the defaults' figures are derived from it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

from tui.cli.bench_cmd import OutOpt, bench_app, report
from tui.cli.common import JsonOpt, console, err

SHORT = {  # small enough for a CPU; per-iteration curves long enough (> 100 iterations an epoch) to be thinned
    "train": ({"net": "10.1", "samples": 1000, "batch_size": 8}, (1, 3)),
    "augment": ({"net": "B", "samples": 1000, "batch_size": 8}, (1, 3)),
    "gan": ({"arch": "dcgan", "samples": 512, "batch_size": 4}, (1, 2)),
}
FGSM_SHORT = {"test_images": 200, "tsne_points": 100, "batch_size": 200}


def run(log) -> dict:
    from engine import bench_scale, bench_store, control
    from runs.store import Store
    from tui.cli.queueing import data_folder

    data = str(data_folder().folder)
    kinds: dict = {}
    with tempfile.TemporaryDirectory(prefix="mnistlab-bench-store-") as tmp:
        home = Path(tmp) / "home"
        store = Store(home)
        try:
            bench_scale.start_engine(home, data)
            for kind, (short, epochs) in SHORT.items():
                kinds[kind] = bench_store.epoch_kind(home, store, kind, short, epochs, data, log)
            nets = [m["job_id"] for m in kinds["train"]["measured"]]
            log("  a third train run, to attack 3 nets")
            nets.append(bench_store.measure(home, store, "train", {**SHORT["train"][0], "epochs": 1, "seed": 1},
                                            "train (fgsm's third net)", data).job_id)
            kinds["fgsm"] = bench_store.fgsm_kind(home, store, nets, FGSM_SHORT, data, log)
            page_size = store.query("PRAGMA page_size")[0][0]
        finally:
            control.stop(home)
            store.close()
    return {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}, "page_size": page_size,
            "kinds": kinds}


def size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return ""


def print_report(results: dict) -> None:
    from rich.table import Table

    table = Table(title="bytes a run adds: short runs measured, the study defaults derived")
    for col in ("kind", "run", "store", "files", "total", ""):
        table.add_column(col, justify="left" if col in ("kind", "run") else "right")
    for kind, r in results["kinds"].items():
        for m in r["measured"]:
            table.add_row(kind, m["label"], size(sum(m["db"].values())), size(sum(m["files"].values())),
                          size(m["bytes"]), "measured")
        for d in r["derived"]:
            db = sum(v for k, v in d["parts"].items() if k.startswith("db:"))
            table.add_row(kind, d["label"], size(db), size(d["bytes"] - db), size(d["bytes"]), "[bold]derived[/]")
        table.add_section()
    console.print(table)
    for kind in ("train", "augment", "gan"):
        r = results["kinds"][kind]
        per = r["bytes_per_metric_row"]
        rule = ", ".join(f"{m['rows']['metrics']} (rule: {m['metric_rows_by_rule']})" for m in r["measured"])
        console.print(f"{kind}: a metric row is {per.get('db:metrics', 0):.0f} B in the store and "
                      f"{per.get('file:checkpoint', 0):.0f} B in the checkpoint; metric rows measured {rule}")


@bench_app.command("store")
def store_bench(as_json: bool = JsonOpt, out: Optional[Path] = OutOpt) -> None:
    """Bytes a run of each kind adds to the data folder (store rows and run files), measured and derived."""
    results = run(log=lambda m: err.print(m))
    report(results, as_json, out)
    if not as_json:
        print_report(results)
