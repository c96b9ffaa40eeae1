"""Engine output made plain JSON: numpy scalars and arrays unwrapped, NaN and infinities → None.

Verdicts, score series, timelines and audit details all pass through here
before they are stored or hashed, so what is read back equals what was written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


class NotJSONData(ValueError):
    """A value that has no JSON form (an object, a set, bytes...)."""


def json_safe(value, where: str = "value"):
    """Plain JSON types from engine output: numpy scalars unwrapped, NaN/inf → None."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist(), where)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise NotJSONData(f"{where}: {type(value).__name__} is not JSON data")
