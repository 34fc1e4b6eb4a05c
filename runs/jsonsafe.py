"""JSON for people and programs outside mnistlab: non-finite numbers as strings.

A diverged run has NaN and infinite values; strict JSON has no token for
them. Everything mnistlab prints or exports as JSON writes them as the
strings "nan", "inf" and "-inf" (documented in the README), so any JSON
parser reads the output and no number is silently turned into null.
"""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
