"""Job kind `train` (study 1): one net of the zoo on the first N images."""

from __future__ import annotations

import time

from jobs import data
from jobs.datasets import DEFAULT
from jobs.context import Context
from jobs.nets import build_net, build_optimizer
from jobs.training import confusion_matrix, divergence_of, fit


def run(spec: dict, ctx: Context) -> dict:
    started = time.perf_counter()
    ctx.seed_everything()
    device = ctx.torch_device()
    mnist = data.load(ctx.data_dir, spec["samples"], device, dataset=spec.get("dataset", DEFAULT))
    ctx.record(data=mnist.check.record())

    model = build_net(spec["net"], published=spec.get("as_published", False)).to(device)
    optimizer = build_optimizer(spec["net"], model.parameters(), spec["lr"],
                                spec["momentum"], spec["weight_decay"])
    ctx.log(f"net {spec['net']}: {sum(p.numel() for p in model.parameters()):,} parameters on {device}")
    fitted = fit(model, optimizer, mnist.train, mnist.test, ctx,
                 epochs=spec["epochs"], batch_size=spec["batch_size"], seed=spec["seed"],
                 divergence=divergence_of(spec))

    ctx.table("confusion", {"rows": "true digit", "columns": "predicted digit",
                            "matrix": confusion_matrix(mnist.test.y, fitted.last.predictions)})
    ctx.save_weights(model.state_dict(), {"net": spec["net"], "spec": spec, "data": mnist.check.identity,
                                          "norm": [mnist.norm.mean, mnist.norm.std]})
    return {
        "test_accuracy": fitted.last.accuracy,
        "test_loss": fitted.last.loss,
        "train_loss": fitted.epoch_train_loss[-1] if fitted.epoch_train_loss else None,
        "epochs": spec["epochs"],
        "iterations": fitted.iterations,
        "train_time_s": fitted.train_time_s,
        "samples_per_s": fitted.samples_per_s,
        "wall_time_s": time.perf_counter() - started,
        "resumed_from_epoch": fitted.resumed_from_epoch,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
