"""`mnistlab compare A B ...`: spec differences and final metrics side by side."""

from __future__ import annotations

import json

import typer
from rich import box
from rich.table import Table

from tui.cli.common import JsonOpt, console, fail, parse_ids, print_json, store


def comparison(records: list[dict]) -> dict:
    """Which spec fields differ (and which agree), and every final number, per job."""
    keys = sorted({k for r in records for k in r["spec"]} | {"kind"})
    def value(r: dict, k: str):
        return r["kind"] if k == "kind" else r["spec"].get(k)
    differ = {k: [value(r, k) for r in records] for k in keys
              if len({json.dumps(value(r, k), sort_keys=True) for r in records}) > 1}
    same = {k: value(records[0], k) for k in keys if k not in differ}
    result_keys = sorted({k for r in records for k, v in (r["result"] or {}).items()
                          if isinstance(v, (int, float)) and not isinstance(v, bool)})
    finals = {k: [(r["result"] or {}).get(k) for r in records] for k in result_keys}
    last_val = {r["id"]: (r["metrics"].get("val/accuracy") or [[None, None]])[-1][1] for r in records}
    return {"ids": [r["id"] for r in records], "status": [r["status"] for r in records],
            "spec_differs": differ, "spec_same": same, "final": finals, "last_val_accuracy": last_val}


def compare(job_ids: list[str] = typer.Argument(..., help="Two or more job ids."), as_json: bool = JsonOpt) -> None:
    """Side by side: the spec fields that differ, and final metrics."""
    ids = parse_ids(job_ids)
    if len(ids) < 2:
        fail("compare needs at least two job ids, e.g. `mnistlab compare 7 9`")
    s = store()
    result = comparison([s.record(i) for i in ids])
    if as_json:
        print_json(result)
        return
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("")
    for i in ids:
        table.add_column(f"job {i}", justify="right")
    table.add_row("status", *result["status"])
    for key, values in result["spec_differs"].items():
        table.add_row(f"[yellow]{key}[/]", *[str(v) for v in values])
    table.add_section()
    for key, values in result["final"].items():
        best = max((v for v in values if v is not None), default=None) if "accuracy" in key else None
        cells = ["-" if v is None else (f"[bold]{v:.4g}[/]" if v == best and len(ids) > 1 else f"{v:.4g}")
                 for v in values]
        table.add_row(key, *cells)
    console.print(table)
    same = ", ".join(f"{k}={v}" for k, v in result["spec_same"].items())
    console.print(f"[dim]same in all: {same or 'nothing'}[/]", soft_wrap=True)
