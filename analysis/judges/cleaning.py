"""Explicit handling of missing points, NaN and spikes before any statistics are computed.

- Missing and NaN points: a continuous metric is compared per interval (paired: both arms saw the same
  load at the same time), so an interval where either arm is missing, NaN, infinite or non-positive (the
  comparison is on the log scale) is dropped and counted; the verdict reports how many were dropped.
- Spikes: one pathological interval (a GC pause, a scrape glitch) must not decide a canary. Paired log
  ratios are winsorized at the median +/- `SPIKE_MADS` robust standard deviations (1.4826 * MAD) of the
  points seen so far; with fewer than `MIN_POINTS_FOR_CLIPPING` points nothing is clipped.
- Rates: an interval with a zero request count in either arm carries no information and is skipped;
  counts that are negative, non-integral or larger than their totals are rejected (ValueError), since
  they mean the queries are wrong rather than the canary.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

SPIKE_MADS = 6.0
MIN_POINTS_FOR_CLIPPING = 8
_MAD_TO_SD = 1.4826

Number = float | int | None


def usable(value: Number) -> bool:
    """A positive finite number (the log scale needs > 0)."""
    return value is not None and not isinstance(value, bool) and math.isfinite(value) and value > 0


def log_ratio(control: Number, canary: Number) -> float | None:
    """ln(canary / control) for one interval, or None if the interval must be dropped."""
    if usable(control) and usable(canary):
        return math.log(float(canary)) - math.log(float(control))  # type: ignore[arg-type]
    return None


class SpikeClipper:
    """Winsorizes a stream against the robust spread of what came before it (O(log n) per point)."""

    def __init__(self, mads: float = SPIKE_MADS) -> None:
        self.mads = mads
        self._sorted: list[float] = []

    def clip(self, value: float) -> float:
        seen = self._sorted
        clipped = value
        if len(seen) >= MIN_POINTS_FOR_CLIPPING:
            median = _median_sorted(seen)
            mad = _median_sorted(sorted(abs(v - median) for v in seen)) if len(seen) < 64 else self._mad(median)
            spread = self.mads * _MAD_TO_SD * mad
            if spread > 0:
                clipped = min(max(value, median - spread), median + spread)
        bisect.insort(seen, value)
        return clipped

    def _mad(self, median: float) -> float:
        # For long streams an approximate MAD from the interquartile range is enough and O(1).
        seen = self._sorted
        n = len(seen)
        return (seen[(3 * n) // 4] - seen[n // 4]) / 2


def _median_sorted(values: Sequence[float]) -> float:
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def check_counts(events: Number, total: Number, where: str) -> tuple[int, int] | None:
    """(events, total) as ints, None when the interval is missing or has no requests; ValueError if absurd."""
    if events is None or total is None:
        return None
    if (isinstance(events, float) and math.isnan(events)) or (isinstance(total, float) and math.isnan(total)):
        return None
    if total < 0 or events < 0 or events > total:
        raise ValueError(f"{where}: event count {events} must be between 0 and the request count {total}")
    if float(events) != int(events) or float(total) != int(total):
        raise ValueError(f"{where}: counts must be whole numbers, got {events} of {total}")
    if total == 0:
        return None
    return int(events), int(total)
