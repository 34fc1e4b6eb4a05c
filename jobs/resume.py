"""Checkpoints of a training loop: the objects it trains and the random streams it draws from.

`save_state` and `restore_state` take the same mapping of checkpoint keys to
objects (modules and optimizers by their state dicts, `torch.Generator`s by
their states) and add the global torch (and CUDA) random states, so a loop
resumed after epoch k draws exactly what an uninterrupted loop would have.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from jobs.context import Context

Stateful = Any  # nn.Module, torch.optim.Optimizer or torch.Generator


def save_state(ctx: Context, objects: dict[str, Stateful], device: torch.device, **progress: Any) -> None:
    state = {key: obj.get_state() if isinstance(obj, torch.Generator) else obj.state_dict()
             for key, obj in objects.items()}
    state["torch_rng"] = torch.get_rng_state()
    state["cuda_rng"] = torch.cuda.get_rng_state() if device.type == "cuda" else None
    ctx.save_checkpoint({**state, **progress})


def restore_state(ctx: Context, objects: dict[str, Stateful], device: torch.device,
                  usable: Callable[[dict], str | None] = lambda state: None) -> dict | None:
    """Load the last checkpoint into `objects`; returns its state (epoch, ...) or None to start over.

    `usable(state)` returns why a checkpoint cannot be resumed (e.g. nets of another architecture),
    or None; such a checkpoint is logged and ignored, and the run's curves start over too.
    """
    state = ctx.load_checkpoint()
    if state is None:
        return None
    why_not = usable(state)
    if why_not:
        ctx.log(f"{why_not}: training from the start")
        ctx.discard_checkpoint_history()
        return None
    for key, obj in objects.items():
        if isinstance(obj, torch.Generator):
            obj.set_state(state[key])
        else:
            obj.load_state_dict(state[key])
    torch.set_rng_state(state["torch_rng"])
    if device.type == "cuda" and state.get("cuda_rng") is not None:
        torch.cuda.set_rng_state(state["cuda_rng"])
    ctx.log(f"resumed from the checkpoint after epoch {state['epoch']}")
    return state
