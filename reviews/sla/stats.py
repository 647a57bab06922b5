"""Summary statistics of durations (pure): the one definition of the median and the
90th percentile the portal reports (metrics, help-centre figures, ETAs)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of
    the values at or below it (p90 of 1..10 is 9, of 1..100 is 90). None when
    empty; ``fraction`` in (0, 1]."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median_and_p90(values: Iterable[float]) -> tuple[float | None, float | None]:
    """``(median, p90)`` of the values, ``(None, None)`` when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None, None
    return statistics.median(ordered), percentile(ordered, 0.9)
