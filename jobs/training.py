"""The training loop every classifier job shares: batches from in-memory
tensors, per-iteration loss, per-epoch validation on the whole test set,
checkpoints each epoch, resume, and cancellation.

Hooks let a job change what it trains on without a copy of the loop:
`epoch_inputs` transforms the whole epoch's images in one call (study 2's
augmentations), `step_loss` replaces the batch loss (MixUp).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from jobs.catalog import DEFAULT_LR, NETS
from jobs.context import Context, JobFailed
from jobs.data import Split
from jobs.resume import restore_state, save_state

LOSS_FLUSH_EVERY = 50  # iterations between loss reports (one .tolist() sync per flush)

StepLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]
EpochInputs = Callable[[int, torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class Evaluation:
    loss: float
    accuracy: float
    predictions: torch.Tensor


@dataclass
class FitResult:
    epochs_run: int
    iterations: int
    train_time_s: float
    samples_seen: int
    last: Evaluation
    resumed_from_epoch: int = 0
    epoch_train_loss: list[float] = field(default_factory=list)

    @property
    def samples_per_s(self) -> float:
        return self.samples_seen / self.train_time_s if self.train_time_s > 0 else 0.0


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, batch_size: int = 1000) -> Evaluation:
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=split.x.device)
    predictions = []
    for i in range(0, len(split), batch_size):
        logits = model(split.x[i:i + batch_size])
        total_loss += F.cross_entropy(logits, split.y[i:i + batch_size], reduction="sum")
        predictions.append(logits.argmax(1))
    model.train(was_training)
    preds = torch.cat(predictions)
    accuracy = (preds == split.y).float().mean().item()
    return Evaluation(total_loss.item() / len(split), accuracy, preds)


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, classes: int = 10) -> list[list[int]]:
    """Rows are true digits, columns predicted digits."""
    counts = torch.bincount(labels * classes + predictions, minlength=classes * classes)
    return counts.view(classes, classes).tolist()


def cross_entropy_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, _g: torch.Generator) -> torch.Tensor:
    return F.cross_entropy(model(x), y)


def batch_starts(n: int, batch_size: int) -> list[int]:
    """Start of each batch; a trailing batch of one is dropped (batch norm needs two)."""
    return [i for i in range(0, n, batch_size) if min(batch_size, n - i) >= 2]


class Divergence:
    """Stops a run whose loss became NaN or infinite, saying where and what to try (unless told to go on)."""

    def __init__(self, keep_going: bool, hint: str = ""):
        self.keep_going, self.hint = keep_going, hint

    def check(self, values: list[float], first_step: int, steps_per_epoch: int) -> None:
        if self.keep_going:
            return
        for offset, value in enumerate(values):
            if not math.isfinite(value):
                step = first_step + offset  # 1-based iteration of the whole run
                epoch, within = (step - 1) // steps_per_epoch + 1, (step - 1) % steps_per_epoch + 1
                what = "NaN" if math.isnan(value) else "infinite"
                hint = f"{self.hint}; " if self.hint else ""
                raise JobFailed(f"loss became {what} at epoch {epoch}, step {within} (iteration {step}); {hint}"
                                "set keep_nonfinite to train on anyway")


def divergence_hint(lr: float, optimizer: str, default_lr: float) -> str:
    """Why a loss may have diverged, in the words of the spec a person wrote."""
    if lr >= 10 * default_lr:
        return f"lr {lr:g} is high for {optimizer} (default {default_lr:g})"
    return f"check lr ({lr:g}) and the inputs"


def divergence_of(spec: dict) -> Divergence:
    """The divergence check of a classifier spec (a zoo net, with its optimizer's default lr as the yardstick)."""
    optimizer = NETS[spec["net"]].optimizer
    return Divergence(spec.get("keep_nonfinite", False),
                      divergence_hint(spec["lr"], optimizer, DEFAULT_LR[optimizer]))


def _report_losses(ctx: Context, pending: list[torch.Tensor], last_step: int, divergence: Divergence | None,
                   steps_per_epoch: int) -> list[float]:
    values = torch.stack(pending).tolist()
    first = last_step - len(values) + 1
    ctx.metrics("train/loss", range(first, last_step + 1), values)  # reported first: the curve shows the NaN
    if divergence is not None:
        divergence.check(values, first, steps_per_epoch)
    return values


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, train: Split, test: Split, ctx: Context,
        *, epochs: int, batch_size: int, seed: int,
        epoch_inputs: EpochInputs | None = None, step_loss: StepLoss = cross_entropy_step,
        divergence: Divergence | None = None) -> FitResult:
    device = train.x.device
    n = len(train)
    starts = batch_starts(n, batch_size)
    # Shuffling and augmentation draw from their own generator (on CPU, so the
    # order does not depend on the device); dropout uses the seeded global RNG.
    gen = torch.Generator().manual_seed(seed)
    start_epoch, iteration, train_time, epoch_losses = 0, 0, 0.0, []
    last: Evaluation | None = None

    trained = {"model": model, "optimizer": optimizer, "generator": gen}
    state = restore_state(ctx, trained, device)
    if state is not None:
        start_epoch, iteration = state["epoch"], state["iteration"]
        train_time, epoch_losses = state["train_time_s"], list(state["epoch_losses"])

    total_iterations = epochs * len(starts)
    check_each_step = divergence is not None and not divergence.keep_going and device.type == "cpu"
    for epoch in range(start_epoch, epochs):
        model.train()
        started = time.perf_counter()
        order = torch.randperm(n, generator=gen).to(device)
        inputs = train.x if epoch_inputs is None else epoch_inputs(epoch, train.x, gen)
        # Losses stay tensors until a flush: one device sync per LOSS_FLUSH_EVERY steps, no extra op per step.
        pending: list[torch.Tensor] = []
        losses: list[float] = []
        for start in starts:
            ctx.check_cancelled()
            idx = order[start:start + batch_size]
            loss = step_loss(model, inputs[idx], train.y[idx], gen)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            iteration += 1
            pending.append(loss.detach())
            # On the CPU a scalar read is free: a diverged loss stops the run at the step it happened.
            if len(pending) >= LOSS_FLUSH_EVERY or (check_each_step and not math.isfinite(loss.item())):
                losses += _report_losses(ctx, pending, iteration, divergence, len(starts))
                pending = []
            ctx.progress(iteration, total_iterations, f"epoch {epoch + 1}/{epochs}")
        if pending:
            losses += _report_losses(ctx, pending, iteration, divergence, len(starts))
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_time += time.perf_counter() - started

        last = evaluate(model, test)
        sizes = [min(batch_size, n - s) for s in starts]
        epoch_losses.append(sum(v * k for v, k in zip(losses, sizes)) / sum(sizes))
        ctx.metric("train/loss_epoch", epoch + 1, epoch_losses[-1])
        ctx.metric("val/loss", epoch + 1, last.loss)
        ctx.metric("val/accuracy", epoch + 1, last.accuracy)
        ctx.log(f"epoch {epoch + 1}/{epochs}: train loss {epoch_losses[-1]:.4f}, "
                f"val loss {last.loss:.4f}, val accuracy {last.accuracy:.2%}")
        ctx.progress(iteration, total_iterations, f"epoch {epoch + 1}/{epochs} done", force=True)
        if epoch + 1 < epochs:
            ctx.thin_epoch("train/loss", iteration - len(starts) + 1, iteration)
        save_state(ctx, trained, device, epoch=epoch + 1, iteration=iteration, train_time_s=train_time,
                   epoch_losses=epoch_losses)

    if last is None:  # resumed after the last epoch had already finished
        last = evaluate(model, test)
    samples_seen = epochs * sum(min(batch_size, n - s) for s in starts)  # train_time covers all epochs too
    return FitResult(epochs - start_epoch, iteration, train_time, samples_seen, last, start_epoch, epoch_losses)
