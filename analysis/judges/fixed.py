"""Fixed-horizon judging: one look at the whole window, Kayenta-style.

Continuous metrics: the two arms' per-interval values are compared as independent samples with a
Mann-Whitney based Hodges-Lehmann interval on the shift (on the log scale, so the shift is a ratio): the
estimate is the median of all canary - control differences and the interval's ends are the order
statistics at Mann-Whitney's critical value (normal approximation). As in Kayenta's classifier, a metric
is High when the interval lies above zero AND the estimated change exceeds the tolerance (Low
symmetrically). Example: control 100 ms every interval, canary 120 ms -> effect 1.20, interval
[1.20, 1.20] -> High for direction increase with tolerance 0.1.

Rates: the pooled counts are compared exactly. Conditional on K total errors the canary's share is
Binomial(K, pi) with pi = N_canary rho / (N_canary rho + N_control); a Clopper-Pearson interval for pi
turns into an interval for the rate ratio rho.

This is valid for ONE look. Applied at every interval it inflates false alarms; use sequential mode for
continuous monitoring (see sequential.py and benchmarks/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from analysis.judges.cleaning import Number, usable
from analysis.judges.verdicts import Direction, Label, MetricVerdict

MIN_POINTS = 3


def _classify(direction: Direction, significant_up: bool, significant_down: bool, effect_up: bool,
              effect_down: bool) -> Label:
    if direction is not Direction.DECREASE and significant_up and effect_up:
        return Label.HIGH
    if direction is not Direction.INCREASE and significant_down and effect_down:
        return Label.LOW
    return Label.PASS


def hodges_lehmann(control: Sequence[float], canary: Sequence[float], confidence: float
                   ) -> tuple[float, float, float]:
    """(estimate, lower, upper) of the shift canary - control, distribution-free."""
    x = np.asarray(canary, dtype=float)
    c = np.asarray(control, dtype=float)
    diffs = np.sort(np.subtract.outer(x, c).ravel())
    n, m = len(x), len(c)
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    k = math.floor(n * m / 2 - z * math.sqrt(n * m * (n + m + 1) / 12))
    k = min(max(k, 0), len(diffs) - 1)
    return float(np.median(diffs)), float(diffs[k]), float(diffs[len(diffs) - 1 - k])


def judge_continuous(control: Sequence[Number], canary: Sequence[Number], *, direction: Direction,
                     tolerance: float, confidence: float, scale: str = "log") -> MetricVerdict:
    """Kayenta-style verdict on two series of per-interval values (log scale unless scale="linear")."""
    if scale == "log":
        c = [math.log(float(v)) for v in control if usable(v)]  # type: ignore[arg-type]
        x = [math.log(float(v)) for v in canary if usable(v)]  # type: ignore[arg-type]
    else:
        c = [float(v) for v in control if v is not None and math.isfinite(v)]
        x = [float(v) for v in canary if v is not None and math.isfinite(v)]
    dropped = len(control) + len(canary) - len(c) - len(x)
    if len(c) < MIN_POINTS or len(x) < MIN_POINTS:
        return MetricVerdict(Label.NODATA, used=len(c) + len(x), dropped=dropped,
                             reason=f"needs {MIN_POINTS} usable points per arm, got {len(c)} and {len(x)}")
    estimate, lower, upper = hodges_lehmann(c, x, confidence)
    if scale == "log":
        bound = math.log1p(tolerance)
        effect, lo, hi = math.exp(estimate), math.exp(lower), math.exp(upper)
    else:
        base = abs(float(np.median(c))) or 1.0
        bound = tolerance * base
        effect, lo, hi = 1 + estimate / base, 1 + lower / base, 1 + upper / base
    label = _classify(direction, lower > 0, upper < 0, estimate > bound, estimate < -bound)
    return MetricVerdict(label, effect=effect, lower=lo, upper=hi, used=len(c) + len(x), dropped=dropped)


def rate_ratio_interval(e_control: int, n_control: int, e_canary: int, n_canary: int, confidence: float
                        ) -> tuple[float, float, float]:
    """(estimate, lower, upper) of canary rate / control rate from pooled counts (exact, conditional)."""
    k = e_control + e_canary
    a = (1 - confidence) / 2
    lo_pi = float(stats.beta.ppf(a, e_canary, k - e_canary + 1)) if e_canary > 0 else 0.0
    hi_pi = float(stats.beta.ppf(1 - a, e_canary + 1, k - e_canary)) if e_canary < k else 1.0

    def ratio(pi: float) -> float:
        if pi >= 1:
            return math.inf
        return pi * n_control / (n_canary * (1 - pi))

    estimate = (e_canary / n_canary) / (e_control / n_control) if e_control else math.inf
    return estimate, ratio(lo_pi), ratio(hi_pi)


def judge_rate(e_control: int, n_control: int, e_canary: int, n_canary: int, *, direction: Direction,
               tolerance: float, confidence: float) -> MetricVerdict:
    """Verdict on pooled error counts: High when the rate ratio's interval is above 1 and the estimate above
    1 + tolerance. With no errors at all in either arm there is nothing to compare: Pass."""
    if n_control == 0 or n_canary == 0:
        return MetricVerdict(Label.NODATA, reason="no requests in one of the arms")
    if e_control + e_canary == 0:
        return MetricVerdict(Label.PASS, effect=1.0, reason="no errors in either arm")
    estimate, lower, upper = rate_ratio_interval(e_control, n_control, e_canary, n_canary, confidence)
    label = _classify(direction, lower > 1, upper < 1, estimate > 1 + tolerance,
                      estimate < 1 / (1 + tolerance))
    return MetricVerdict(label, effect=estimate, lower=lower, upper=upper)
