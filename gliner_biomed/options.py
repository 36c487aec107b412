"""Checks of option values shared by several commands and their config dataclasses."""

from __future__ import annotations

import math

from .errors import BadInputError


def check_threshold(value, name: str = "--threshold") -> float:
    """A score threshold: a number in [0, 1) (scores are probabilities and the comparison is
    strictly greater, so 1 would keep nothing); NaN, infinities and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0.0 <= value < 1.0:
        raise BadInputError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)
