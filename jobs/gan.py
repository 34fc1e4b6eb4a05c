"""Job kind `gan` (study 3): train a GAN on the first N MNIST images.

Reports the generator and discriminator losses every iteration (`gan/g_loss`,
`gan/d_loss`), the mean D(x) and D(G(z)) of each epoch (`gan/d_real`,
`gan/d_fake`), and a grid of G(z) for one fixed z batch after every epoch
(`samples-epoch-001`, ...), so the digits can be watched improving. A
checkpoint after every epoch lets a requeued job resume; the generator is
saved as `generator.pt` for the analysis (`ganmap`).
"""

from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F
from torch import nn

from jobs import data
from jobs.context import Context
from jobs.datasets import DEFAULT
from jobs.gan_nets import ARCH_VERSION, build_discriminator, build_generator, to_pixels
from jobs.imaging import digit_grid
from jobs.spec_gan import KIND as GAN_KIND
from jobs.resume import restore_state, save_state
from jobs.training import LOSS_FLUSH_EVERY, Divergence, batch_starts, divergence_hint

GENERATOR = "generator"   # the saved generator: generator.pt in the run's folder
FIXED_Z_SEED_OFFSET = 1   # the fixed z batch of the sample grids: its own stream, seed + 1
CALIBRATION_BATCHES, CALIBRATION_SIZE = 20, 256
EMA_WARMUP = 10  # the average's decay ramps up as (1 + t) / (10 + t), so early weights fade fast


def ema_decay(iteration: int, target: float) -> float:
    return min(target, (1 + iteration) / (EMA_WARMUP + iteration))


def decay_factor(iteration: int, total: int) -> float:
    """1 over the first half of training, then linearly down to 0 at the end: a GAN that has
    found its modes settles into them (sharper G(z)) instead of circling at a constant step."""
    return min(1.0, 2.0 * (1.0 - iteration / total))


def set_lr(optimizers, lr: float) -> None:
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = lr


def sample_name(epoch: int) -> str:
    return f"samples-epoch-{epoch:03d}"


@torch.no_grad()
def recalibrate_batchnorm(net: nn.Module, z_dim: int, device: torch.device, seed: int) -> None:
    """Replace the generator's batch-norm running statistics by exact averages over fresh z.

    Training uses batch statistics; eval mode (sample grids, the analysis) uses
    the running ones, which an exponential average over the last few noisy
    batches of a still-moving generator only approximates. Recomputing them
    for the final weights costs a few forward passes and changes nothing of
    the training itself (the z come from their own generator).
    """
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    was_training = net.training
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(CALIBRATION_BATCHES):
        net(torch.randn(CALIBRATION_SIZE, z_dim, generator=gen).to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    net.train(was_training)


def train_step(generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer,
               opt_d: torch.optim.Optimizer, real: torch.Tensor, z_dim: int) -> torch.Tensor:
    """One discriminator and one generator update on a batch of real images (tanh scale).

    Returns, detached and on the device: the generator loss, the discriminator loss,
    and the sums of D(x) and of D(G(z)) over the batch.
    """
    b, device = len(real), real.device
    ones, zeros = torch.ones(b, device=device), torch.zeros(b, device=device)
    fake = generator(torch.randn(b, z_dim, device=device))

    logit_real, logit_fake = discriminator(real), discriminator(fake.detach())
    loss_d = (F.binary_cross_entropy_with_logits(logit_real, ones)
              + F.binary_cross_entropy_with_logits(logit_fake, zeros))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    # Non-saturating generator loss, -log D(G(z)), against the discriminator just updated.
    loss_g = F.binary_cross_entropy_with_logits(discriminator(fake), ones)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    with torch.no_grad():
        return torch.stack([loss_g, loss_d, torch.sigmoid(logit_real).sum(), torch.sigmoid(logit_fake).sum()])


def _report(ctx: Context, pending: list[torch.Tensor], last_step: int, divergence: Divergence,
            steps_per_epoch: int) -> None:
    values = torch.stack(pending).tolist()  # one device sync per flush
    first = last_step - len(values) + 1
    steps = range(first, last_step + 1)
    ctx.metrics("gan/g_loss", steps, [v[0] for v in values])
    ctx.metrics("gan/d_loss", steps, [v[1] for v in values])
    divergence.check([v[0] + v[1] for v in values], first, steps_per_epoch)


def run(spec: dict, ctx: Context) -> dict:
    started = time.perf_counter()
    ctx.seed_everything()
    device = ctx.torch_device()
    seed, z_dim, batch_size, epochs = spec["seed"], spec["z_dim"], spec["batch_size"], spec["epochs"]
    mnist = data.load(ctx.data_dir, spec["samples"], device, normalize=False, dataset=spec.get("dataset", DEFAULT))
    ctx.record(data=mnist.check.record())
    real_images = mnist.train.x * 2 - 1  # the tanh scale of the generator's output
    n = len(real_images)

    generator = build_generator(spec["arch"], z_dim).to(device)
    discriminator = build_discriminator(spec["arch"]).to(device)
    betas = (spec["beta1"], 0.999)
    opt_g = torch.optim.Adam(generator.parameters(), lr=spec["lr"], betas=betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=spec["lr"], betas=betas)
    params_g = sum(p.numel() for p in generator.parameters())
    params_d = sum(p.numel() for p in discriminator.parameters())
    ctx.log(f"{spec['arch']} GAN: generator {params_g:,} and discriminator {params_d:,} parameters on {device}")
    # What is sampled and saved: an exponential moving average of the generator's weights (Yazici et
    # al., ICLR 2019), steadier and sharper than the last iterate of a short training; ema=0 keeps
    # the last weights.
    averaged = copy.deepcopy(generator).requires_grad_(False)
    pairs = list(zip(averaged.parameters(), generator.parameters()))

    fixed_z = torch.randn(spec["grid"], z_dim,
                          generator=torch.Generator().manual_seed(seed + FIXED_Z_SEED_OFFSET)).to(device)
    ctx.record(gan={"fixed_z": f"torch.randn({spec['grid']}, {z_dim}) from torch.Generator seed {seed + 1}",
                    "loss": "non-saturating BCE with logits", "adam_betas": list(betas),
                    "sampled_generator": f"EMA of the weights, decay {spec['ema']}" if spec["ema"] else "last weights",
                    "batchnorm_statistics": "recomputed over 5,120 fresh z before every grid and the save"})
    shuffle = torch.Generator().manual_seed(seed)  # on CPU, so the order does not depend on the device
    starts = batch_starts(n, batch_size)
    start_epoch, iteration, train_time, history = 0, 0, 0.0, []

    trained = {"generator": generator, "averaged": averaged, "discriminator": discriminator,
               "opt_g": opt_g, "opt_d": opt_d, "shuffle": shuffle}

    def usable(state: dict) -> str | None:
        version = state.get("arch_version", 1)
        if spec["arch"] == "dcgan" and version != ARCH_VERSION:
            return (f"the checkpoint holds nets of an earlier mnistlab (architecture version {version}, "
                    f"this one builds version {ARCH_VERSION})")
        return None

    state = restore_state(ctx, trained, device, usable)
    if state is not None:
        start_epoch, iteration = state["epoch"], state["iteration"]
        train_time, history = state["train_time_s"], list(state["history"])

    total_iterations = epochs * len(starts)
    divergence = Divergence(spec.get("keep_nonfinite", False), divergence_hint(spec["lr"], "the GAN's Adam", GAN_KIND.field("lr").default))
    for epoch in range(start_epoch, epochs):
        generator.train()
        discriminator.train()
        epoch_started = time.perf_counter()
        order = torch.randperm(n, generator=shuffle).to(device)
        pending: list[torch.Tensor] = []
        # Sums over the epoch, kept on the device (no sync per step): g loss, d loss, D(x), D(G(z)).
        sums = torch.zeros(4, device=device)
        count = 0
        for start in starts:
            ctx.check_cancelled()
            if spec["lr_decay"]:
                set_lr((opt_g, opt_d), spec["lr"] * decay_factor(iteration, total_iterations))
            real = real_images[order[start:start + batch_size]]
            step = train_step(generator, discriminator, opt_g, opt_d, real, z_dim)
            with torch.no_grad():
                weight = 1.0 - ema_decay(iteration, spec["ema"])
                for avg, param in pairs:
                    avg.lerp_(param, weight)
                pending.append(step[:2])
                sums[:2] += step[:2] * len(real)  # losses are batch means; D(x), D(G(z)) come as sums
                sums[2:] += step[2:]
            iteration += 1
            count += len(real)
            if len(pending) >= LOSS_FLUSH_EVERY:
                _report(ctx, pending, iteration, divergence, len(starts))
                pending = []
            ctx.progress(iteration, total_iterations, f"epoch {epoch + 1}/{epochs}")
        if pending:
            _report(ctx, pending, iteration, divergence, len(starts))
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_time += time.perf_counter() - epoch_started

        g_loss, d_loss, d_real, d_fake = (v / count for v in sums.tolist())
        means = {"g_loss": g_loss, "d_loss": d_loss, "d_real": d_real, "d_fake": d_fake}
        history.append(means)
        for name, value in (("gan/d_real", d_real), ("gan/d_fake", d_fake),
                            ("gan/g_loss_epoch", g_loss), ("gan/d_loss_epoch", d_loss)):
            ctx.metric(name, epoch + 1, value)
        recalibrate_batchnorm(averaged, z_dim, device, seed * 1000 + epoch)
        averaged.eval()
        with torch.no_grad():
            grid = digit_grid(to_pixels(averaged(fixed_z)), nrow=_grid_columns(spec["grid"]), normalized=False)
        ctx.image(sample_name(epoch + 1), grid,
                  f"G(z) after epoch {epoch + 1}/{epochs}, the same {spec['grid']} z every epoch",
                  {"epoch": epoch + 1})
        ctx.log(f"epoch {epoch + 1}/{epochs}: D(x) {means['d_real']:.3f}, D(G(z)) {means['d_fake']:.3f}, "
                f"g loss {means['g_loss']:.3f}, d loss {means['d_loss']:.3f}")
        ctx.progress(iteration, total_iterations, f"epoch {epoch + 1}/{epochs} done", force=True)
        if epoch + 1 < epochs:
            for name in ("gan/g_loss", "gan/d_loss"):
                ctx.thin_epoch(name, iteration - len(starts) + 1, iteration)
        save_state(ctx, trained, device, epoch=epoch + 1, iteration=iteration, train_time_s=train_time,
                   history=history, arch_version=ARCH_VERSION)

    ctx.save_weights(averaged.state_dict(), {"arch": spec["arch"], "arch_version": ARCH_VERSION, "z_dim": z_dim,
                                             "spec": spec,
                                             "weights": "ema" if spec["ema"] else "last"}, name=GENERATOR)
    last = history[-1]
    samples_seen = epochs * sum(min(batch_size, n - s) for s in starts)  # train_time covers all epochs too
    return {
        "d_real": last["d_real"], "d_fake": last["d_fake"], "g_loss": last["g_loss"], "d_loss": last["d_loss"],
        "epochs": epochs, "iterations": iteration, "train_time_s": train_time,
        "samples_per_s": samples_seen / train_time if train_time > 0 else 0.0,
        "wall_time_s": time.perf_counter() - started, "resumed_from_epoch": start_epoch,
        "generator_parameters": params_g, "discriminator_parameters": params_d,
    }


def _grid_columns(count: int) -> int:
    """As square as the count allows: 100 -> 10 columns, 64 -> 8, 12 -> 4."""
    return max(1, round(count ** 0.5))
