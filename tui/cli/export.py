"""`mnistlab export`: a job's (or a study's) metrics and tables as CSV, JSON or Markdown."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Optional

import typer

from runs.jsonsafe import json_safe
from tui.cli.common import console, fail, parse_ids, store
from tui.cli.outfile import check_out, write_out

FORMATS = ("csv", "json", "md")


def records_csv(records: list[dict]) -> str:
    """Long format, one number per row: job_id, kind, section, name, step, value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["job_id", "kind", "section", "name", "step", "value"])
    for r in records:
        for name, points in r["metrics"].items():
            writer.writerows([r["id"], r["kind"], "metric", name, step, value] for step, value in points)
        for key, value in sorted((r["result"] or {}).items()):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                writer.writerow([r["id"], r["kind"], "result", key, "", value])
        for table, payload in r["tables"].items():
            matrix = payload.get("matrix") if isinstance(payload, dict) else None
            for i, row in enumerate(matrix or []):
                writer.writerows([r["id"], r["kind"], "table", f"{table}[{i}][{j}]", "", v] for j, v in enumerate(row))
    return out.getvalue()


def _md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("-" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v))
                                for v in row) + " |" for row in rows]
    return "\n".join(lines)


def record_markdown(r: dict) -> str:
    parts = [f"## Job {r['id']}: {r['kind']} {r['short_spec']}", "", f"Status: **{r['status']}**"
             + (f" ({r['reason']})" if r["reason"] else ""), "", "### Spec", "",
             _md_table(["field", "value"], [[k, v] for k, v in sorted(r["spec"].items())])]
    if r["result"]:
        parts += ["", "### Result", "", _md_table(["metric", "value"], [[k, v] for k, v in sorted(r["result"].items())])]
    names = [n for n in ("train/loss_epoch", "val/loss", "val/accuracy") if n in r["metrics"]]
    if names:
        lookup = {n: dict(r["metrics"][n]) for n in names}
        steps = sorted({s for n in names for s in lookup[n]})
        parts += ["", "### Per epoch", "", _md_table(["epoch", *names], [[s, *[lookup[n].get(s) for n in names]]
                                                                        for s in steps])]
    for table, payload in r["tables"].items():
        if isinstance(payload, dict) and "matrix" in payload:
            labels = payload.get("labels") or list(range(len(payload["matrix"][0])))
            rows = [[(payload.get("row_labels") or labels)[i], *row] for i, row in enumerate(payload["matrix"])]
            parts += ["", f"### {table} (rows: {payload.get('rows', '')}, columns: {payload.get('columns', '')})",
                      "", _md_table(["", *map(str, labels)], rows)]
    return "\n".join(parts) + "\n"


def export(job_ids: Optional[list[str]] = typer.Argument(None, help="Job ids (or use --study)."),
           format_: str = typer.Option("json", "--format", "-f", help="csv, json or md."),
           study: Optional[str] = typer.Option(None, "--study", help="Export a study's table instead of jobs."),
           out: Optional[Path] = typer.Option(None, "--out", "-o", callback=check_out,
                                              help="Write to this file instead of stdout.")) -> None:
    """Metrics and tables of jobs or a study, for papers and scripts."""
    if format_ not in FORMATS:
        fail(f"--format {format_!r} is not allowed; allowed: {', '.join(FORMATS)}")
    s = store()
    if study:
        text = s.study_view(study).export(format_)
    else:
        if not job_ids:
            fail("export needs job ids or --study NAME, e.g. `mnistlab export 7 --format md`")
        records = [s.record(i) for i in parse_ids(job_ids)]
        if format_ == "json":
            text = json.dumps(json_safe(records[0] if len(records) == 1 else records), indent=2, sort_keys=True,
                              default=str, allow_nan=False)
        elif format_ == "md":
            text = "\n".join(record_markdown(r) for r in records)
        else:
            text = records_csv(records)
    if out:
        write_out(out, text if text.endswith("\n") else text + "\n")
        console.print(f"wrote {out}", markup=False)
    else:
        typer.echo(text.rstrip("\n"))
