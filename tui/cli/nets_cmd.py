"""`mnistlab nets [ID]`: the nets a job can name (`--net`), with their layers, sizes and optimisers."""

from __future__ import annotations

from typing import Optional

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from jobs.catalog import DEFAULT_LR, GROUP_NAMES, NETS, OPTIMIZER_NAMES, NetInfo, layer_parameters, layer_text
from runs.records import InputError
from tui.cli.common import JsonOpt, console, print_json


def optimiser_text(info: NetInfo) -> str:
    """The optimiser and the learning rate a train job gives it unless `--lr` says otherwise."""
    return f"{OPTIMIZER_NAMES[info.optimizer]}, lr {DEFAULT_LR[info.optimizer]:g}"


def net_json(info: NetInfo) -> dict:
    return {"id": info.id, "group": info.group, "optimizer": info.optimizer, "default_lr": DEFAULT_LR[info.optimizer],
            "summary": info.body, "parameters": info.parameters, "layers": [layer_text(l) for l in info.layers]}


def nets(net: Optional[str] = typer.Argument(None, help="A net id: show its layers one by one."),
         as_json: bool = JsonOpt) -> None:
    """The nets of the four studies: id (what --net takes), optimiser, size and layers."""
    if net is not None and net not in NETS:
        raise InputError(f"no net {net!r}; allowed: {', '.join(NETS)}")
    chosen = [NETS[net]] if net else list(NETS.values())
    if as_json:
        print_json([net_json(info) for info in chosen])
    elif net:
        info = NETS[net]
        console.print(Text(f"net {info.id} ({GROUP_NAMES[info.group]}): {optimiser_text(info)}, "
                           f"{info.parameters:,} parameters", style="bold"))
        console.print(_layers_table(info))
    else:
        for group in GROUP_NAMES:
            console.print(Text(GROUP_NAMES[group], style="bold"))
            console.print(_nets_table([info for info in chosen if info.group == group]))
        console.print("`mnistlab nets ID` lists a net's layers. SGD uses momentum 0.9; a train job's --lr and "
                      "--momentum change these defaults.", style="dim")


def _nets_table(chosen: list[NetInfo]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("optimiser", no_wrap=True)
    table.add_column("parameters", justify="right", no_wrap=True)
    table.add_column("layers", overflow="fold")
    for info in chosen:
        table.add_row(info.id, optimiser_text(info), f"{info.parameters:,}", info.body)
    return table


def _layers_table(info: NetInfo) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("layer", no_wrap=True)
    table.add_column("parameters", justify="right")
    for i, layer in enumerate(info.layers, 1):
        count = layer_parameters(layer)
        table.add_row(str(i), layer_text(layer), f"{count:,}" if count else "")
    return table
