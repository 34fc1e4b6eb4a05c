"""`mnistlab study fgsm`: six nets trained, then attacked with FGSM (study 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from runs.studies import fgsm
from tui.cli.common import JsonOpt
from tui.cli.study import DataOpt, DatasetOpt, NameOpt, WaitOpt, study_app, submit_study


@study_app.command("fgsm")
def fgsm_command(
    samples: Optional[str] = typer.Option(None, "--samples", help="Training images per net [default: 60000]."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Two seeds: N1/N2/N3, then N11/N22/N33 "
                                                               "[default: 0,1]."),
    eps: Optional[str] = typer.Option(None, "--eps", help="Epsilons [default: 0.2,0.4,0.5,0.7,0.8,1.0]."),
    scale: Optional[str] = typer.Option(None, "--scale", help="Units of eps: normalized (1 = one std, "
                                                              "the study's) or pixel [default: normalized]."),
    clamp: Optional[bool] = typer.Option(None, "--clamp/--no-clamp", help="Clip adversarial images to the "
                                                                          "valid pixel range [default: clamp]."),
    tsne_eps: Optional[str] = typer.Option(None, "--tsne-eps", help="Epsilons of the t-SNE maps "
                                                                    "[default: 0.2,0.6,1.0; '' for none]."),
    tsne_points: Optional[str] = typer.Option(None, "--tsne-points", help="Images per t-SNE map [default: 2000]."),
    test_images: Optional[str] = typer.Option(None, "--test-images", help="Attack the first N test images "
                                                                          "[default: 10000]."),
    attack_batch: Optional[str] = typer.Option(None, "--attack-batch", help="Attack and evaluation batch size "
                                                                            "[default: 2000]."),
    epochs: Optional[str] = typer.Option(None, "--epochs", help="Override the train jobs' epochs "
                                                                "(4 for 60,000 images, else 10)."),
    batch_size: Optional[str] = typer.Option(None, "--batch-size", help="Override the training batch size (64)."),
    dataset: Optional[str] = DatasetOpt,
    data: Optional[Path] = DataOpt,
    name: Optional[str] = NameOpt,
    wait: bool = WaitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Train N1, N11, N2, N22, N3, N33 and attack them all with FGSM: one transfer matrix per epsilon."""
    options = fgsm.validate({"samples": samples, "seeds": seeds, "eps": eps, "scale": scale, "clamp": clamp,
                             "tsne_eps": tsne_eps, "tsne_points": tsne_points, "test_images": test_images,
                             "batch_size": attack_batch, "dataset": dataset})
    overrides = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size), ("dataset", options["dataset"]))
                 if v is not None}
    submit_study(fgsm.TYPE, name, {**options, **{f"train_{k}": v for k, v in overrides.items()}},
                 fgsm.plan(options, overrides), wait, as_json, data)
