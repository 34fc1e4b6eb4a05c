"""`mnistlab data verify|download`: where MNIST is read from, and whether it is intact."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from jobs import mnist_files
from tui.cli.common import EXIT_FAILED, JsonOpt, console, err, fail, print_json

data_app = typer.Typer(help="The MNIST files: where they are read from, checksums, download.", no_args_is_help=True)


def _report(check: mnist_files.DataCheck, as_json: bool) -> None:
    if as_json:
        print_json(check.to_json())
    else:
        console.print(f"MNIST folder: {check.folder} (chosen by {check.source})")
        for name, digest in check.files.items():
            console.print(f"  [green]✓[/] {name}  sha256 {digest[:16]}…")
        for problem in check.problems:
            err.print(f"  [red]✗[/] {problem}", soft_wrap=True)
        console.print("[green]all four files verified[/]" if check.ok else "[red]MNIST is not usable yet[/]")
    if not check.ok:
        raise typer.Exit(EXIT_FAILED)


@data_app.command()
def verify(as_json: bool = JsonOpt) -> None:
    """Check the four MNIST files against their SHA-256 checksums."""
    _report(mnist_files.verify(), as_json)


@data_app.command()
def download(to: Optional[Path] = typer.Option(None, "--to", help="Target folder (default: --data, "
                                                "MNISTLAB_DATA, or the per-user cache)."),
             as_json: bool = JsonOpt) -> None:
    """Fetch MNIST from torchvision's mirrors (needs a network), verifying each file."""
    try:
        check = mnist_files.download(to.expanduser().resolve() if to else None)
    except mnist_files.DataError as exc:
        fail(str(exc), EXIT_FAILED)
    _report(check, as_json)
