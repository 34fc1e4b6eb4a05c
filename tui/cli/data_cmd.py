"""`mnistlab data list|verify|download`: the data sets, where they are read from, and whether they are intact."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from jobs import datasets
from jobs.idx_files import DataError
from runs.records import InputError
from tui.cli.common import EXIT_FAILED, JsonOpt, console, err, print_json

data_app = typer.Typer(help="The data sets: where they are read from, checksums, download.", no_args_is_help=True)

NameArg = typer.Argument(datasets.DEFAULT, help="Data set: " + ", ".join(datasets.NAMES) + ".")


def _known(name: str) -> str:
    if name not in datasets.NAMES:
        raise InputError(f"data set {name!r} is not known; allowed: {', '.join(datasets.NAMES)}")
    return name


def _show(verified: datasets.Verified, as_json: bool, lines: list[str] = ()) -> None:
    if as_json:
        print_json({"ok": True, **verified.record(), "source": verified.source, "notes": list(lines)})
        return
    console.print(f"{datasets.display_name(verified.dataset)} in {verified.folder}"
                  + (f" (chosen by {verified.source})" if verified.source else ""))
    for line in lines:
        console.print(f"  {line}")
    for name, digest in verified.sha256.items():
        console.print(f"  [green]✓[/] {name}  sha256 {digest[:16]}…")
    train, test = verified.counts
    console.print(f"[green]verified[/]: {verified.checked}; {train:,} training and {test:,} test images; "
                  f"mean {verified.mean:.4f}, std {verified.std:.4f} ({verified.normalisation})")


def _problem(name: str, exc: DataError, as_json: bool) -> None:
    if as_json:
        print_json({"ok": False, "dataset": name, "problem": str(exc)})
    else:
        err.print(Text.assemble(("✗ ", "red"), str(exc)), soft_wrap=True)
        err.print(f"{datasets.display_name(name)} is not usable yet")
    raise typer.Exit(EXIT_FAILED)


@data_app.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """The known data sets, what their published checksums are of, and whether a copy is found."""
    rows = []
    for name in datasets.NAMES:
        spec = datasets.DATASETS.get(name)
        try:
            where = str(datasets.find(name).folder)
        except DataError:
            where = None
        rows.append({"name": name, "display": datasets.display_name(name), "found": where,
                     "checksums": spec.checksums if spec else "none: identified by the SHA-256 of its files"})
    if as_json:
        print_json(rows)
        return
    for row in rows:
        found = f"[green]{row['found']}[/]" if row["found"] else "[dim]not found[/]"
        console.print(f"{row['name']:<14} {row['display']:<14} {found}")
        console.print(f"{'':<14} checksums: {row['checksums']}", style="dim")


@data_app.command()
def verify(name: str = NameArg, as_json: bool = JsonOpt) -> None:
    """Check a data set's files (from --data, MNISTLAB_DATA or the cache) against its published checksums."""
    try:
        _show(datasets.find(_known(name)), as_json)
    except DataError as exc:
        _problem(name, exc, as_json)


@data_app.command()
def download(name: str = NameArg,
             to: Optional[Path] = typer.Option(None, "--to", help="Target folder (default: --data, "
                                               "MNISTLAB_DATA, or the set's per-user cache folder)."),
             force: bool = typer.Option(False, "--force", help="Replace files that differ from the published ones "
                                        "(never done without it)."),
             as_json: bool = JsonOpt) -> None:
    """Fetch a known data set from its publishers' mirrors (needs a network), verifying every file."""
    from jobs.dataset_download import download as fetch

    target = to.expanduser().resolve() if to else datasets.resolve_folder(None, _known(name))[0]
    try:
        verified, lines = fetch(name, target, force=force)
    except DataError as exc:
        _problem(name, exc, as_json)
    _show(verified, as_json, lines)
