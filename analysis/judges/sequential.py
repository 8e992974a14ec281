"""Continuous monitoring without inflating false alarms: anytime-valid sequential tests.

A fixed-horizon test applied at every interval rejects a true null far more often than its nominal level
(with 60 looks at 2% one gets well over 10%). These tests are e-processes: under the null hypothesis the
test statistic is a nonnegative supermartingale with mean <= 1, so by Ville's inequality the chance that
it EVER reaches 1/alpha is at most alpha, however many times we look. Each `update` is O(1) (rates,
continuous up to the spike clipper's insertion), so one canary costs microseconds per interval.

Continuous metrics (latency, CPU...): paired per-interval log ratios y_t = ln(canary_t / control_t)
- ln(1 + tolerance). `ShiftTest` uses the scale-invariant Gaussian mixture Bayes factor (a "t-test
e-process": normal prior N(0, g) on the standardized effect, right-Haar prior on the unknown scale)

    BF_n = (1 + n g)^(-1/2) * (S2 / (S2 - n^2 m^2 g / (1 + n g)))^(n/2),  S2 = sum y^2, m = mean y,

which is a test martingale for "mean y = 0" with respect to the scale-invariant filtration (Lai 1976;
Perez-Ortiz, Lardy, de Heide, Grunwald 2024). The metric is flagged High once BF_n >= 1/alpha with m > 0
(a regression beyond the tolerance); improvements are never flagged for direction "increase".
BF_1 = 1 and BF_n <= (1 + n g)^((n-1)/2): with g = 4 and alpha = 1% the earliest possible flag is the
fourth interval. Intervals are not always independent (a slow pod stays slow for a while), so n is
replaced by the effective sample size n (1 - r) / (1 + r), r the lag-1 autocorrelation estimated so far
and shrunk towards 0.3 while there are few points; this is a correction, not a guarantee (see
benchmarks/README.md, "Where the judge is weak").

Rates (errors out of requests): conditional on the errors in an interval, k_t = e_control + e_canary, the
canary's share is Binomial(k_t, pi_t) with pi_t = n_canary rho / (n_canary rho + n_control) under Poisson
counts, rho = canary rate / control rate. `RateTest` mixes likelihood ratios rho_j vs rho_0 = 1 + tolerance
over a fixed grid of rho_j > rho_0 (equal weights); each ratio is a supermartingale for every rho <= rho_0
(monotone likelihood ratio), so the mixture is an e-process for the composite null. This judges the
counts themselves, so an interval with 3 requests weighs less than one with 3000, which a series of
fractions cannot do.
"""

from __future__ import annotations

import math

from analysis.judges.cleaning import SpikeClipper
from analysis.judges.verdicts import Direction, Label

DEFAULT_ALPHA = 0.01
DEFAULT_G = 4.0
AR_PRIOR = 0.3
AR_PRIOR_POINTS = 10
_RATE_GRID = (0.2, 0.4, 0.6, 0.8, 1.1)  # log rate ratios beyond the tolerance: x1.2 .. x3 (benchmarked)


class ShiftTest:
    """One direction of the continuous e-process; see the module docstring. Feed `update(d)` one
    interval's log ratio ln(canary / control); `flagged` says whether the bound was crossed so far."""

    def __init__(self, *, alpha: float, sign: int, tolerance: float = 0.0, g: float = DEFAULT_G,
                 clip_spikes: bool = True) -> None:
        self.log_threshold = math.log(1 / alpha)
        self.sign = sign  # +1: flag increases, -1: flag decreases
        self.shift = sign * math.log1p(tolerance)
        self.g = g
        self.n = 0
        self.total = 0.0
        self.total_sq = 0.0
        self.lag_total = 0.0  # sum of y_t * y_(t-1), for the autocorrelation correction
        self.first = self.last = 0.0
        self.clipper = SpikeClipper() if clip_spikes else None
        self.flagged = False

    def autocorrelation(self) -> float:
        """Lag-1 autocorrelation used for the effective sample size, clipped to [0, 0.9]: the estimate from
        the points so far, shrunk towards AR_PRIOR with the weight of AR_PRIOR_POINTS points so that a
        handful of early, strongly correlated intervals cannot look like independent evidence."""
        n = self.n
        estimate = 0.0
        mean = self.total / n if n else 0.0
        variance = self.total_sq / n - mean * mean if n else 0.0
        if n >= 3 and variance > 0:
            lagged = (self.lag_total - mean * (2 * self.total - self.first - self.last) + (n - 1) * mean * mean) / n
            estimate = lagged / variance
        shrunk = (n * estimate + AR_PRIOR_POINTS * AR_PRIOR) / (n + AR_PRIOR_POINTS)
        return min(max(shrunk, 0.0), 0.9)

    def log_bayes_factor(self) -> float:
        """log BF at the effective sample size n (1 - r) / (1 + r): positively autocorrelated intervals
        (a slow pod stays slow for a while) carry less information than independent ones."""
        n, g = self.n, self.g
        if n < 2 or self.total_sq <= 0:
            return 0.0
        mean = self.total / n
        second = self.total_sq / n  # mean of y^2
        r = self.autocorrelation()
        n_eff = n * (1 - r) / (1 + r)
        shrink = n_eff * mean * mean * g / (1 + n_eff * g)
        remaining = max(second - shrink, second * 1e-300)
        return -0.5 * math.log1p(n_eff * g) + 0.5 * n_eff * (math.log(second) - math.log(remaining))

    def update(self, d: float) -> bool:
        y = d - self.shift
        if self.clipper is not None:
            y = self.clipper.clip(y)
        if self.n == 0:
            self.first = y
        else:
            self.lag_total += y * self.last
        self.last = y
        self.n += 1
        self.total += y
        self.total_sq += y * y
        if not self.flagged and self.sign * self.total > 0 and self.log_bayes_factor() >= self.log_threshold:
            self.flagged = True
        return self.flagged


class RateTest:
    """One direction of the count-based e-process; `update(e_control, n_control, e_canary, n_canary)`."""

    def __init__(self, *, alpha: float, sign: int, tolerance: float = 0.0) -> None:
        self.log_threshold = math.log(1 / alpha)
        self.log_rho0 = sign * math.log1p(tolerance)
        self.log_rhos = [self.log_rho0 + sign * step for step in _RATE_GRID]
        self.log_lr = [0.0] * len(_RATE_GRID)
        self.log_weight = -math.log(len(_RATE_GRID))
        self.flagged = False
        self.events = [0, 0]
        self.requests = [0, 0]

    def update(self, e_control: int, n_control: int, e_canary: int, n_canary: int) -> bool:
        self.events[0] += e_control
        self.events[1] += e_canary
        self.requests[0] += n_control
        self.requests[1] += n_canary
        k = e_control + e_canary
        if k == 0 or self.flagged:
            return self.flagged
        odds = n_canary / n_control
        p0 = _share(self.log_rho0, odds)
        for j, log_rho in enumerate(self.log_rhos):
            p = _share(log_rho, odds)
            self.log_lr[j] += e_canary * math.log(p / p0) + e_control * math.log((1 - p) / (1 - p0))
        top = max(self.log_lr)
        mixture = top + math.log(sum(math.exp(v - top) for v in self.log_lr)) + self.log_weight
        self.flagged = mixture >= self.log_threshold
        return self.flagged

    def rate_ratio(self) -> float | None:
        (ec, ex), (nc, nx) = self.events, self.requests
        if nc == 0 or nx == 0 or ec == 0:
            return None
        return (ex / nx) / (ec / nc)


def _share(log_rho: float, odds: float) -> float:
    """Canary's expected share of the errors: n_x rho / (n_x rho + n_c) = 1 / (1 + 1/(odds rho))."""
    return 1.0 / (1.0 + math.exp(-log_rho) / odds)


def directions(direction: Direction) -> list[tuple[int, Label]]:
    """(sign, label) pairs to test: increase -> [(+1, High)], either -> both, each at alpha / 2."""
    if direction is Direction.INCREASE:
        return [(1, Label.HIGH)]
    if direction is Direction.DECREASE:
        return [(-1, Label.LOW)]
    return [(1, Label.HIGH), (-1, Label.LOW)]
