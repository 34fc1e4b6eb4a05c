"""The networks of SPEC.md as torch modules, keyed by the ids of `jobs.catalog`.

Every net takes a (B, 1, 28, 28) batch and returns (B, 10) logits. Conv
kernels are 5x5 with padding 2 unless SPEC says otherwise; dropout is 0.5.
`published=True` builds the net as the published study did, with a softmax
after the last layer: its outputs are probabilities, which the training loop's
cross-entropy then treats as logits (a double softmax; see `jobs.catalog.PUBLISHED_DEPARTURES`).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from jobs.catalog import NETS

Activation = Callable[[], nn.Module]


def _mlp(sizes: list[int], act: Activation, batch_norm: bool = False,
         dropout: str = "none") -> nn.Sequential:
    """Flatten, then FC layers of `sizes` (the last is the output).

    dropout: "none", "first" (after the first hidden layer) or "all" hidden layers.
    """
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i == len(sizes) - 2:
            break
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(act())
        if dropout == "all" or (dropout == "first" and i == 0):
            layers.append(nn.Dropout(0.5))
    return nn.Sequential(*layers)


def _conv(c_in: int, c_out: int, kernel: int = 5, padding: int = 2,
          batch_norm: bool = False, act: Activation = nn.ReLU) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, padding=padding)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(act())
    return layers


def _head(in_features: int, sizes: list[int], act: Activation = nn.ReLU,
          batch_norm: bool = False, dropout: str = "none") -> nn.Sequential:
    return _mlp([in_features, *sizes], act, batch_norm, dropout)


def net_fc(hidden: list[int], act: Activation = nn.ReLU, batch_norm: bool = False,
           dropout: str = "none") -> nn.Module:
    return _mlp([784, *hidden, 10], act, batch_norm, dropout)


def net8(dropout: bool = True) -> nn.Module:
    return nn.Sequential(
        *_conv(1, 32), nn.MaxPool2d(2),
        *_conv(32, 64), nn.MaxPool2d(2),
        _head(64 * 7 * 7, [1000, 10], dropout="all" if dropout else "none"),
    )


def net9() -> nn.Module:
    return nn.Sequential(
        *_conv(1, 64), nn.AvgPool2d(2),
        *_conv(64, 256), nn.AvgPool2d(2),
        _head(256 * 7 * 7, [5000, 1000, 10]),
    )


def net10() -> nn.Module:
    return nn.Sequential(
        *_conv(1, 8), nn.AvgPool2d(2),
        *_conv(8, 16), nn.AvgPool2d(2),
        _head(16 * 7 * 7, [500, 250, 10], batch_norm=True),
    )


def net11(extra_convs: int = 0) -> nn.Module:
    # 28 -(8x8, pad 2)-> 25 -pool-> 12 -(6x6, pad 2)-> 11 [-(5x5, pad 2)-> 11 ...] -pool-> 5
    body = [*_conv(1, 16, 8, batch_norm=True), nn.AvgPool2d(2), *_conv(16, 32, 6, batch_norm=True)]
    for _ in range(extra_convs):
        body += _conv(32, 32, batch_norm=True)
    return nn.Sequential(*body, nn.AvgPool2d(2), _head(32 * 5 * 5, [512, 512, 10], batch_norm=True))


def net12() -> nn.Module:
    return nn.Sequential(*_conv(1, 16, batch_norm=True),
                         _head(16 * 28 * 28, [1024, 512, 10], batch_norm=True))


def net13() -> nn.Module:
    return nn.Sequential(
        *_conv(1, 16, batch_norm=True, act=nn.Mish), nn.AvgPool2d(2),
        *_conv(16, 32, batch_norm=True, act=nn.Mish), nn.AvgPool2d(2),
        _head(32 * 7 * 7, [512, 10], act=nn.Mish, batch_norm=True),
    )


def net_n1() -> nn.Module:
    return nn.Sequential(
        *_conv(1, 16, 8), nn.AvgPool2d(2),
        *_conv(16, 32, 6), nn.AvgPool2d(2),
        nn.Dropout(0.5),
        _head(32 * 5 * 5, [512, 512, 10]),
    )


def net_n3() -> nn.Module:
    return nn.Sequential(*_conv(1, 16), nn.Dropout(0.5), _head(16 * 28 * 28, [1024, 512, 10]))


def net_a() -> nn.Module:
    return net_fc([512, 512, 512, 512], batch_norm=True, dropout="first")


def net_b() -> nn.Module:
    return nn.Sequential(
        *_conv(1, 8), nn.AvgPool2d(2),
        *_conv(8, 16), nn.AvgPool2d(2),
        nn.BatchNorm2d(16), nn.Dropout(0.5),
        _head(16 * 7 * 7, [500, 250, 10], batch_norm=True),
    )


BUILDERS: dict[str, Callable[[], nn.Module]] = {
    "1": lambda: net_fc([512, 512]),
    "2": lambda: net_fc([512, 512], batch_norm=True),
    "3": lambda: net_fc([512, 256, 128, 128], act=nn.Sigmoid, batch_norm=True),
    "4": lambda: net_fc([512, 512, 512, 512], batch_norm=True, dropout="all"),
    "5": lambda: net_fc([512, 512, 512, 512]),
    "6": lambda: net_fc([512, 256, 256, 256], batch_norm=True, dropout="all"),
    "7": lambda: net_fc([512, 256, 256, 256], act=nn.Mish, batch_norm=True, dropout="all"),
    "8.1": net8, "8.2": net8,
    "9.1": net9, "9.2": net9,
    "10.1": net10, "10.2": net10,
    "11.1": net11, "11.2": net11,
    "12.1": net12, "12.2": net12,
    "13.1": net13, "13.2": net13,
    "11.1-5conv": lambda: net11(extra_convs=3),
    "8.1-nodropout": lambda: net8(dropout=False),
    "N1": net_n1, "N2": net_n1, "N3": net_n3,
    "A": net_a, "B": net_b,
}
assert BUILDERS.keys() == NETS.keys(), "jobs.nets and jobs.catalog list different nets"


def build_net(net_id: str, published: bool = False) -> nn.Module:
    net = BUILDERS[net_id]()
    if published:  # appended, so the state dict's keys are those of the plain net
        net.append(nn.Softmax(dim=1))
    return net


def build_optimizer(net_id: str, params, lr: float, momentum: float = 0.9,
                    weight_decay: float = 0.0) -> torch.optim.Optimizer:
    kind = NETS[net_id].optimizer
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adadelta(params, lr=lr, weight_decay=weight_decay)


def load_trained(path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """A net saved by a train job (`weights.pt`), in eval mode on `device`, with its metadata."""
    saved = torch.load(path, map_location=device, weights_only=True)
    model = build_net(saved["net"], published=bool(saved.get("spec", {}).get("as_published")))
    model.load_state_dict(saved["state_dict"])
    return model.to(device).eval(), {k: v for k, v in saved.items() if k != "state_dict"}
