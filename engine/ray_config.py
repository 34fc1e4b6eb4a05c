"""Which Ray cluster the engine drives, if any: `--ray auto|local|ADDRESS` or `MNISTLAB_RAY` (no Ray import here).

    auto      the cluster this machine belongs to (`ray start` ran here, or RAY_ADDRESS names it)
    local     a private Ray started by the engine on this machine, stopped with it (for trying it out)
    ADDRESS   the head node's GCS address, HOST:PORT (`ray start --head` prints it; port 6379 by default),
              or a Ray Client address ray://HOST:PORT

Without the option and without MNISTLAB_RAY the engine runs its own worker processes and nothing imports Ray.
"""

from __future__ import annotations

import importlib.util
import os
import re

from runs.records import InputError

ENV = "MNISTLAB_RAY"
NEEDS_RAY = "the Ray backend needs `pip install 'mnistlab[ray]'`"
_HOST_PORT = re.compile(r"^(ray://)?[A-Za-z0-9_.\-]+(:\d{1,5})?$|^(ray://)?\[[0-9A-Fa-f:]+\](:\d{1,5})?$")


def chosen(value: str | None) -> str | None:
    """The Ray target from an option's value, else from MNISTLAB_RAY; None: no Ray."""
    value = value if value is not None else os.environ.get(ENV)
    value = (value or "").strip()
    return value or None


def check(value: str) -> str:
    """`value` if it names a Ray cluster, else InputError saying what is allowed."""
    if value in ("auto", "local") or _HOST_PORT.match(value):
        return value
    raise InputError(f"--ray {value!r} is not allowed; allowed: auto (the cluster of this machine), local (a private "
                     "Ray for trying it out) or the head's address HOST:PORT (e.g. 10.0.0.5:6379)")


def require_ray() -> None:
    """InputError with the install hint when Ray is not installed (found without importing it)."""
    if importlib.util.find_spec("ray") is None:
        raise InputError(NEEDS_RAY)
