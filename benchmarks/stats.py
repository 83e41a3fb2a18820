"""Small statistics helpers (no dependencies)."""

import math


def percentile(values: list[float], pct: float) -> float:
    """The ``pct``-th percentile of ``values``, linearly interpolated."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> float:
    """``value / baseline``; NaN when either is missing or the baseline is zero."""
    if not baseline or math.isnan(baseline) or math.isnan(value):
        return float("nan")
    return value / baseline
