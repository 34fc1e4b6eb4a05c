"""`mnistlab report`: one HTML page (and a Markdown twin) with a study's tables and figures."""

from __future__ import annotations

from pathlib import Path

import typer

from tui.cli.common import JsonOpt, console, print_json, store


def report(study: str = typer.Option("all", "--study", help="A study name, a study type (zoo, augment, gan, fgsm: "
                                     "every study of that type) or all."),
           out: Path = typer.Option(..., "--out", help="Folder to write report.html, report.md and figures/ into."),
           as_json: bool = JsonOpt) -> None:
    """Write a self-contained report (opens offline): tables, figures (each naming its data set, spec and runs),
    and the jobs still missing."""
    from runs.report import study_names, write_reports

    s = store()
    names = study_names(s, study)
    page = write_reports(s, names, out)
    figures = sorted(p.name for p in (page.parent / "figures").glob("*.png"))
    if as_json:
        print_json({"html": str(page), "markdown": str(page.with_suffix(".md")), "studies": names,
                    "figures": figures})
        return
    console.print(f"report of {', '.join(names)}: {page} ({len(figures)} figures; Markdown twin "
                  f"{page.with_suffix('.md').name} beside it)")
