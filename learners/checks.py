"""Validators that name the bad field, its value and what is allowed (shared by learners, envs and agents).

They live here, free of Gymnasium, because ``learners/`` must not import it; ``tradeoff_gym.envs.common`` re-exports
them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_choice(value: str, allowed: Sequence[str], field: str) -> str:
    """Raise a ValueError naming ``field`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{field} must be one of {list(allowed)}, got {value!r}")
    return value


def check_int(value: int, field: str, low: int) -> int:
    """Raise a ValueError naming ``field`` unless ``value`` is an integer >= ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{field} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_index(value: int, n: int, what: str) -> int:
    """Raise a ValueError naming ``what`` unless ``value`` is an integer (not bool) in [0, n − 1]; returns it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 0 <= value < n:
        raise ValueError(f"{what} must be an integer in [0, {n - 1}], got {value!r}")
    return int(value)


def check_positive_int(value: int, field: str) -> int:
    """Raise a ValueError naming ``field`` unless ``value`` is an integer >= 1."""
    return check_int(value, field, 1)


def check_number(
    value: float, field: str, low: float, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> float:
    """Raise a ValueError naming ``field`` unless ``value`` is a finite number in [low, high] (bools refused).

    ``high=None`` means no upper bound; ``low_open`` / ``high_open`` exclude ``low`` / ``high`` themselves.
    Returns the value as a float.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    bad_low = number <= low if low_open else number < low
    bad_high = high is not None and (number >= high if high_open else number > high)
    if isinstance(value, (bool, np.bool_)) or not np.isfinite(number) or bad_low or bad_high:
        upper = "inf)" if high is None else f"{high}{')' if high_open else ']'}"
        raise ValueError(f"{field} must lie in {'(' if low_open else '['}{low}, {upper}, got {value!r}")
    return number


def check_bool(value: bool, field: str) -> bool:
    """Raise a ValueError naming ``field`` unless ``value`` is True or False (numpy bools included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{field} must be True or False, got {value!r}")
    return bool(value)
