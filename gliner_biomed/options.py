"""Checks of option values shared by several commands and their config dataclasses."""

from __future__ import annotations

import math
import os
from typing import Any, Dict, Iterable, List

from .errors import BadInputError


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to something other than empty, 0, false or no."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def check_threshold(value, name: str = "--threshold") -> float:
    """A score threshold: a number in [0, 1) (scores are probabilities and the comparison is
    strictly greater, so 1 would keep nothing); NaN, infinities and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0.0 <= value < 1.0:
        raise BadInputError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def setting_differences(recorded: Dict[str, Any], wanted: Dict[str, Any], ignore: Iterable[str] = ()) -> List[str]:
    """``key: X there, Y here`` for every setting that differs between what an earlier run
    recorded and what this run would use: a resume with other settings is refused, not mixed."""
    skipped = set(ignore)
    return [f"{key}: {recorded.get(key)!r} there, {wanted.get(key)!r} here" for key in sorted(set(recorded) | set(wanted))
            if key not in skipped and recorded.get(key) != wanted.get(key)]
