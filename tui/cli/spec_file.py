"""`submit --spec FILE`: a JSON or TOML file of spec fields, read strictly.

The file is read as bytes and decoded by what it starts with: a byte-order
mark (UTF-8, UTF-16, UTF-32), or the zero bytes that UTF-16 and UTF-32 put
beside ASCII; otherwise it must be UTF-8. A key given twice, NaN or
Infinity, and numbers too long for Python are refused with one line, not
silently resolved (JSON keeps the last of two equal keys; TOML reads `nan`).
Two spellings of one field (`batch-size`, `batch_size`) are refused by the
spec itself (`JobKind.normalize`), for every way a spec arrives.
"""

from __future__ import annotations

import json
import stat
import sys
import tomllib
from pathlib import Path

from runs.records import InputError

MAX_BYTES = 1 << 20  # a spec is a few lines; this keeps --spec /dev/zero or a stray video out of memory
ALLOWED = "a JSON object (or a TOML table, for .toml files) of spec fields, in UTF-8"


class _Refused(ValueError):
    """A value the parsers would accept but a spec may not hold; the message names it."""


def read_spec_file(path: Path, kind: str) -> dict:
    """The file's fields (a dict), or InputError with one line naming the file and the problem."""
    text = _decode(path, _read(path))
    toml = path.suffix.lower() == ".toml"
    fmt = "TOML" if toml else "JSON"
    try:
        spec = tomllib.loads(text, parse_float=_toml_float) if toml else json.loads(
            text, object_pairs_hook=_json_object, parse_constant=_json_constant)
    except _Refused as exc:
        raise InputError(f"spec file {path} {exc}; allowed: {ALLOWED}") from None
    except RecursionError:
        raise InputError(f"spec file {path} is nested too deeply to read; allowed: {ALLOWED}") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"spec file {path} is not valid {fmt} ({exc}); allowed: {ALLOWED}") from None
    except ValueError:  # int() of a number with more digits than Python converts
        raise InputError(f"spec file {path} holds a number of more than {sys.get_int_max_str_digits():,} digits; "
                         f"allowed: {ALLOWED}") from None
    if not isinstance(spec, dict):
        raise InputError(f"spec file {path} holds a {type(spec).__name__}; allowed: an object of spec fields")
    if spec.get("kind", kind) != kind:
        raise InputError(f"spec file {path} is for kind {spec['kind']!r}, not {kind!r}")
    return spec


def _read(path: Path) -> bytes:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise InputError(f"spec file {path} is not a regular file; allowed: {ALLOWED}")
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read spec file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"spec file {path} is larger than {MAX_BYTES // 1024} KiB; allowed: {ALLOWED}")
    return data


def _decode(path: Path, data: bytes) -> str:
    encoding = json.detect_encoding(data)  # BOMs, and UTF-16/32 without one; else "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = encoding.upper().replace("-SIG", " with a byte-order mark")
        raise InputError(f"spec file {path} is not valid {name} text (byte {exc.start}: {exc.reason}); "
                         f"allowed: {ALLOWED} (UTF-16 with a byte-order mark also works)") from None


def _json_object(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"gives the key {key!r} twice")
        out[key] = value
    return out


def _json_constant(name: str) -> float:
    raise _Refused(f"holds {name}, which is not a number a spec can use")


def _toml_float(text: str) -> float:
    if text.lstrip("+-") in ("nan", "inf"):
        raise _Refused(f"holds {text}, which is not a number a spec can use")
    return float(text)
