"""`mnistlab nets`: the nets a job can name, with their layers, sizes and optimisers, read from a torch-free
catalog that is held to what `jobs.nets` builds."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from jobs.catalog import NETS, layer_text
from jobs.nets import build_net, build_optimizer


def layers_of(module: nn.Module) -> list[tuple]:
    """The leaf modules of a built net in forward order, in the catalog's terms."""
    out = []
    for m in module.modules():
        if list(m.children()):
            continue
        if isinstance(m, nn.Linear):
            out.append(("fc", m.in_features, m.out_features))
        elif isinstance(m, nn.Conv2d):
            out.append(("conv", m.in_channels, m.out_channels, m.kernel_size[0], m.padding[0]))
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            out.append((f"bn{'1' if isinstance(m, nn.BatchNorm1d) else '2'}d", m.num_features))
        elif isinstance(m, (nn.ReLU, nn.Sigmoid, nn.Mish)):
            out.append(("act", type(m).__name__))
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            out.append(("maxpool" if isinstance(m, nn.MaxPool2d) else "avgpool", m.kernel_size))
        elif isinstance(m, nn.Dropout):
            out.append(("dropout", m.p))
        elif isinstance(m, nn.Flatten):
            out.append(("flatten",))
        else:
            raise AssertionError(f"the catalog has no word for {m!r}")
    return out


@pytest.mark.parametrize("net_id", list(NETS))
def test_the_catalog_describes_what_is_built(net_id):
    with torch.device("meta"):  # shapes only: no memory for net 9's 62 million weights
        model = build_net(net_id)
    info = NETS[net_id]
    assert layers_of(model) == list(info.layers)
    assert info.parameters == sum(p.numel() for p in model.parameters())
    optimizer = build_optimizer(net_id, model.parameters(), lr=0.1)
    assert type(optimizer).__name__.lower() == info.optimizer


def test_nets_lists_every_net_with_its_optimiser_and_size(cli):
    result = cli("nets")
    assert result.code == 0
    lines = result.out.splitlines()
    for net_id, info in NETS.items():
        row = next(line for line in lines if line.split()[:1] == [net_id])
        assert f"{info.parameters:,}" in row and {"sgd": "SGD", "adam": "Adam", "adadelta": "Adadelta"}[
            info.optimizer] in row
    assert max(map(len, lines)) <= 80

    detail = cli("nets", "11.1")
    assert detail.code == 0 and detail.out.startswith("net 11.1 (study 1: the zoo): Adam, lr 0.001, 699,546 parameters")
    rows = [re.split(r"\s{2,}", line.strip()) for line in detail.out.splitlines() if line.strip()[:1].isdigit()]
    assert [row[1] for row in rows] == [layer_text(layer) for layer in NETS["11.1"].layers]
    assert rows[0] == ["1", "conv 1→16 8×8 pad 2", "1,040"]  # 1*16*8*8 weights + 16 biases
    data = cli("nets", "--json").json()
    assert [n["id"] for n in data] == list(NETS) and data[0]["layers"][0] == "flatten"
    bad = cli("nets", "99")
    assert bad.code == 2 and "no net '99'; allowed: 1, 2, 3" in bad.err


def test_the_net_field_says_where_its_ids_come_from(cli):
    assert "mnistlab nets" in cli("submit", "train", "--help").out
