"""Continuous monitoring without inflating false alarms: anytime-valid sequential tests.

A fixed-horizon test applied at every interval rejects a true null far more often than its nominal level
(with 60 looks at 2% one gets well over 10%). These tests are e-processes: under the null hypothesis the
test statistic is a nonnegative supermartingale with mean <= 1, so by Ville's inequality the chance that
it EVER reaches 1/alpha is at most alpha, however many times we look. A rate update is O(1) and a
continuous window is judged in one vectorised pass, so one canary costs microseconds per interval.

Continuous metrics (latency, CPU...): paired per-interval log ratios d_t = ln(canary_t / control_t); a load
factor shared by both arms cancels in the pair. For the tested direction (sign +1 for "increase") the test
sees y_t = sign * d_t - ln(1 + tolerance), winsorized against earlier points (cleaning.SpikeClipper).
`shift_detection` uses the scale-invariant Gaussian mixture Bayes factor (a "t-test e-process": normal prior
N(0, g) on the standardized effect, right-Haar prior on the unknown scale)

    BF_n(g) = (1 + n g)^(-1/2) * (S2 / (S2 - n^2 m^2 g / (1 + n g)))^(n/2),  S2 = sum y^2, m = mean y,

which is a test martingale for "mean y = 0" with respect to the scale-invariant filtration (Lai 1976;
Perez-Ortiz, Lardy, de Heide, Grunwald 2024). Two changes make it faster than the plain two-sided mixture
without giving up the bound:

- a mixture over prior widths, MIXTURE = 80% g = 0.5 (effects around half a noise standard deviation per
  interval, the +5% regressions that take tens of intervals) and 20% g = 4 (large effects, flagged from the
  4th interval on); an average of e-processes is an e-process;
- one-sidedness: the two-sided mixture is the mean of its halves, BF = (BF+ + BF-) / 2, where BF+ (prior
  on positive effects only) is itself an e-process. While S = sum y > 0 every negative-effect likelihood
  ratio is <= 1, so BF- <= 1 and BF+ >= 2 BF - 1. Flagging when S > 0 and 2 BF - 1 >= 1/alpha therefore
  flags only when BF+ >= 1/alpha, and Ville's inequality still bounds false alarms by alpha.

Intervals are not always independent (a slow pod stays slow for a while), so n is replaced by the
effective sample size n (1 - r) / (1 + r), r the lag-1 autocorrelation estimated so far and shrunk towards
AR_PRIOR with the weight of AR_PRIOR_POINTS points while there are few; this is a correction, not a
guarantee (see benchmarks/README.md, "Where the judge is weak"). The whole window is judged in one
numpy-vectorised pass (cumulative sums), since the provider replays the window at every measurement.

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
from collections.abc import Sequence

import numpy as np

from analysis.judges.cleaning import SpikeClipper
from analysis.judges.verdicts import Direction, Label

DEFAULT_ALPHA = 0.01
MIXTURE = ((0.8, 0.5), (0.2, 4.0))  # (weight, prior variance g of the standardized effect), benchmarked
AR_PRIOR = 0.3
AR_PRIOR_POINTS = 20
_RATE_GRID = (0.2, 0.4, 0.6, 0.8, 1.1)  # log rate ratios beyond the tolerance: x1.2 .. x3 (benchmarked)


def shift_detection(d: Sequence[float], *, alpha: float, sign: int, tolerance: float = 0.0,
                    clip_spikes: bool = True) -> int | None:
    """0-based position in `d` (per-interval log ratios ln(canary / control)) of the first interval at
    which the one-sided e-process crosses 1/alpha, or None. Worked example: a canary 50% slower than the
    control with 3% noise per arm is flagged at position 3, the earliest possible (the 4th interval)."""
    y = sign * np.asarray(d, dtype=float) - math.log1p(tolerance)
    if clip_spikes:
        clipper = SpikeClipper()
        y = np.fromiter((clipper.clip(v) for v in y.tolist()), dtype=float, count=len(y))
    if len(y) < 2:
        return None
    log_evidence = log_bayes_factor(y)
    crossed = (log_evidence >= math.log((1 / alpha + 1) / 2)) & (np.cumsum(y) > 0)
    return int(np.argmax(crossed)) if crossed.any() else None


def effective_sizes(y: np.ndarray) -> np.ndarray:
    """n (1 - r) / (1 + r) after each point, r the lag-1 autocorrelation of the points so far, clipped to
    [0, 0.9] and shrunk towards AR_PRIOR with the weight of AR_PRIOR_POINTS points, so that a handful of
    early, strongly correlated intervals cannot look like independent evidence."""
    n = np.arange(1, len(y) + 1, dtype=float)
    total = np.cumsum(y)
    mean = total / n
    variance = np.cumsum(y * y) / n - mean * mean
    lag_total = np.concatenate(([0.0], np.cumsum(y[1:] * y[:-1])))
    lagged = (lag_total - mean * (2 * total - y[0] - y) + (n - 1) * mean * mean) / n
    usable = (n >= 3) & (variance > 0)
    estimate = np.where(usable, lagged / np.where(usable, variance, 1.0), 0.0)
    shrunk = np.clip((n * estimate + AR_PRIOR_POINTS * AR_PRIOR) / (n + AR_PRIOR_POINTS), 0.0, 0.9)
    return np.asarray(n * (1 - shrunk) / (1 + shrunk), dtype=float)


def log_bayes_factor(y: np.ndarray) -> np.ndarray:
    """log of the two-sided mixture BF (over MIXTURE's prior widths) after each point, at the effective
    sample size; 0 where it is undefined (fewer than 2 points, all zero)."""
    n = np.arange(1, len(y) + 1, dtype=float)
    n_eff = effective_sizes(y)
    total_sq = np.cumsum(y * y)
    mean = np.cumsum(y) / n
    second = total_sq / n  # mean of y^2
    defined = (n >= 2) & (total_sq > 0)
    safe_second = np.where(defined, second, 1.0)
    parts = []
    for weight, g in MIXTURE:
        shrink = n_eff * mean * mean * g / (1 + n_eff * g)
        remaining = np.maximum(safe_second - shrink, safe_second * 1e-300)
        parts.append(math.log(weight) - 0.5 * np.log1p(n_eff * g)
                     + 0.5 * n_eff * (np.log(safe_second) - np.log(remaining)))
    return np.where(defined, np.logaddexp.reduce(parts, axis=0), 0.0)


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
