"""What crosses from a slot to the engine: plain data only.

Reports are numbers, strings, lists, dicts, booleans, None and bytes. A
slot turns anything else into one of those before sending (`plain`: a
torch version object becomes its string, a numpy scalar its number), and
the engine decodes with an unpickler that refuses every class, so reading
a report can never import torch (a 5 s stall in which the engine used to
lose reports) or run code. A report that is not plain data fails its job,
never the engine.
"""

from __future__ import annotations

import io
import pickle
from pathlib import PurePath
from typing import Any

PROTOCOL = 5


class ReportError(ValueError):
    """A report that is not plain data; the message says what was in it."""


def plain(value: Any) -> Any:
    """`value` as plain data (dict keys become strings)."""
    if value is None or type(value) in (bool, int, float, str, bytes):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):  # str subclasses, e.g. torch's TorchVersion
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, range)):
        return [plain(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays, tensors
    if callable(tolist):
        return plain(tolist())
    return str(value)


def encode(message: Any) -> bytes:
    return pickle.dumps(plain(message), protocol=PROTOCOL)


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise ReportError(f"a report held a {module}.{name} object, not plain data")


def decode(data: bytes) -> Any:
    try:
        return _PlainUnpickler(io.BytesIO(data)).load()
    except ReportError:
        raise
    except Exception as exc:  # truncated or garbled bytes
        raise ReportError(f"a report could not be read ({type(exc).__name__}: {exc})") from None
