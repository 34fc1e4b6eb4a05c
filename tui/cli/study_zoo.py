"""`mnistlab study zoo`: every net of the zoo on each regime (study 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from runs.studies import zoo
from tui.cli.common import JsonOpt
from tui.cli.study import DataOpt, DatasetOpt, NameOpt, WaitOpt, study_app, submit_study


def _joined(values: list[str] | None) -> str | None:
    return ",".join(values) if values else None


@study_app.command("zoo")
def zoo_command(
    regime: Optional[list[str]] = typer.Option(None, "--regime", "--regimes",
                                               help="Training-set size(s), e.g. 1000 or 1000,60000 [default: both]."),
    nets: Optional[str] = typer.Option(None, "--nets", help="Net ids, e.g. 1,10.1 [default: 19 nets + 2 ablations]."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Seeds, e.g. 0,1,2 [default: 0]."),
    epochs: Optional[str] = typer.Option(None, "--epochs", help="Override the regime's epochs (10 or 4)."),
    batch_size: Optional[str] = typer.Option(None, "--batch-size", help="Override the batch size (64)."),
    dataset: Optional[str] = DatasetOpt,
    data: Optional[Path] = DataOpt,
    as_published: bool = typer.Option(False, "--as-published", help="Build every net as the published study did "
                                      "(a softmax after the last layer: a double softmax with cross-entropy)."),
    name: Optional[str] = NameOpt,
    wait: bool = WaitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Queue the network zoo as one group: a train job per net, regime and seed."""
    options = zoo.validate({"regimes": _joined(regime), "nets": nets, "seeds": seeds})
    overrides = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size), ("dataset", dataset),
                                   ("as_published", as_published or None)) if v is not None}
    submit_study(zoo.TYPE, name, {**options, **overrides}, zoo.plan(options, overrides), wait, as_json, data)
