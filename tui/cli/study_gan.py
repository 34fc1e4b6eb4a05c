"""`mnistlab study gan`: a GAN, net 11.1 to label its digits, and the latent-space analysis (study 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from runs.studies import gan
from tui.cli.common import JsonOpt, store
from tui.cli.study import DataOpt, NameOpt, WaitOpt, study_app, submit_study


@study_app.command("gan")
def gan_command(
    arch: Optional[str] = typer.Option(None, "--arch", help="GAN architecture: dcgan or mlp [default: dcgan]."),
    epochs: Optional[str] = typer.Option(None, "--epochs", help="GAN epochs [default: 10 for dcgan, 40 for mlp]."),
    samples: Optional[str] = typer.Option(None, "--samples", help="GAN training images, the first N [default: 60000]."),
    z_dim: Optional[str] = typer.Option(None, "--z-dim", help="Latent dimension [default: 100]."),
    seed: Optional[str] = typer.Option(None, "--seed", help="Seed of the GAN and of the analysis's z [default: 0]."),
    sizes: Optional[str] = typer.Option(None, "--sizes", help="Latent maps, N random z each [default: 1000,10000]."),
    classifier_samples: Optional[str] = typer.Option(
        None, "--classifier-samples", help="Images net 11.1 is trained on; a run with as many is reused if the "
                                           "store has one (done, running or queued) [default: 60000]."),
    classifier_epochs: Optional[str] = typer.Option(
        None, "--classifier-epochs", help="Epochs of a new net 11.1 run [default: 4 for 60,000 images]."),
    gan_run: Optional[str] = typer.Option(None, "--gan-run", help="Analyse this finished gan run; train no GAN."),
    classifier_run: Optional[str] = typer.Option(
        None, "--classifier-run", help="Label with this finished train run instead of net 11.1 on 60,000."),
    data: Optional[Path] = DataOpt,
    name: Optional[str] = NameOpt,
    wait: bool = WaitOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Queue study 3: whatever is missing of net 11.1 and the GAN, then the analysis, which waits for both."""
    given = {"arch": arch, "epochs": epochs, "samples": samples, "z_dim": z_dim, "seed": seed, "sizes": sizes,
             "classifier_samples": classifier_samples, "classifier_epochs": classifier_epochs,
             "gan_run": gan_run, "classifier_run": classifier_run}
    options = gan.validate(given)
    requests = gan.plan(options, store=store())
    submit_study(gan.TYPE, name, options, requests, wait, as_json, data)
