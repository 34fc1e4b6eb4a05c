"""`mnistlab study augment`: nets A and B, each without augmentation and with T1-T9 (study 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from runs.studies import augment
from tui.cli.common import JsonOpt
from tui.cli.study import DataOpt, DatasetOpt, NameOpt, WaitOpt, study_app, submit_study


@study_app.command("augment")
def augment_command(
    nets: Optional[str] = typer.Option(None, "--nets", help="Nets of study 2, e.g. B [default: A,B]."),
    transforms: Optional[str] = typer.Option(None, "--transforms",
                                             help="Transforms besides the baseline, e.g. T3,T8 [default: T1-T9]."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Seeds, e.g. 0,1,2 [default: 0]."),
    samples: Optional[str] = typer.Option(None, "--samples", help="Training images [default: 1000]."),
    epochs: Optional[str] = typer.Option(None, "--epochs", help="Epochs [default: 100]."),
    batch_size: Optional[str] = typer.Option(None, "--batch-size", help="Batch size [default: 64]."),
    alpha: Optional[str] = typer.Option(None, "--alpha", help="MixUp's Beta(alpha, alpha) for T9 [default: 1.0]."),
    dataset: Optional[str] = DatasetOpt,
    data: Optional[Path] = DataOpt,
    name: Optional[str] = NameOpt,
    wait: bool = WaitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Queue the augmentation study as one group: an augment job per net, transform (and baseline) and seed."""
    options = augment.validate({"nets": nets, "transforms": transforms, "seeds": seeds})
    overrides = {k: v for k, v in (("samples", samples), ("epochs", epochs), ("batch_size", batch_size),
                                   ("alpha", alpha), ("dataset", dataset)) if v is not None}
    submit_study(augment.TYPE, name, {**options, **overrides}, augment.plan(options, overrides), wait, as_json, data)
