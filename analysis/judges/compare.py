"""The judge's Python API: compare a canary's metric series with the control's, one metric or a canary.

    from analysis.judges import Direction, Mode, judge_metric
    judge_metric([100, 101, 99, ...], [120, 119, 122, ...], direction=Direction.INCREASE,
                 mode=Mode.SEQUENTIAL).label            # -> Label.HIGH, detected_at=3

Continuous metrics give per-interval values for both arms. Rates give per-interval event counts in
`control`/`canary` and request counts in `control_total`/`canary_total`; they are judged from the
counts (sequential.RateTest, fixed.judge_rate), never as a series of fractions.

Sequential mode replays the anytime-valid test interval by interval, so `detected_at` is the first
interval at which it would have flagged under continuous monitoring; the label is that flag (or Pass).
With "either" both directions are tested at alpha / 2 each.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analysis.judges import fixed
from analysis.judges.cleaning import Number, check_counts, log_ratio
from analysis.judges.score import CanaryVerdict, ScoredMetric, canary_verdict
from analysis.judges.sequential import DEFAULT_ALPHA, RateTest, directions, shift_detection
from analysis.judges.verdicts import Direction, Label, MetricVerdict, Mode

MIN_PAIRS = 3


@dataclass(frozen=True, slots=True)
class MetricInput:
    """One compared metric of a canary analysis (see `judge_canary`)."""

    name: str
    control: Sequence[Number]
    canary: Sequence[Number]
    control_total: Sequence[Number] | None = None
    canary_total: Sequence[Number] | None = None
    direction: Direction = Direction.INCREASE
    tolerance: float = 0.0
    group: str = "default"
    weight: float = 1.0
    critical: bool = False


def judge_metric(
    control: Sequence[Number], canary: Sequence[Number], *, direction: Direction = Direction.INCREASE,
    mode: Mode = Mode.FIXED, tolerance: float = 0.0, control_total: Sequence[Number] | None = None,
    canary_total: Sequence[Number] | None = None, alpha: float = DEFAULT_ALPHA, confidence: float = 0.98,
) -> MetricVerdict:
    """Label one metric: Pass, High, Low or NoData. ValueError for inconsistent input."""
    if tolerance < 0 or not math.isfinite(tolerance):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance}")
    if (control_total is None) != (canary_total is None):
        raise ValueError("control_total and canary_total must be given together")
    if control_total is not None and canary_total is not None:
        rows = _count_rows(control, control_total, canary, canary_total)
        if mode is Mode.FIXED:
            sums = [sum(row[i] for _, row in rows) for i in range(4)]
            if not rows:
                return MetricVerdict(Label.NODATA, reason="no interval had requests in both arms")
            verdict = fixed.judge_rate(*sums, direction=direction, tolerance=tolerance, confidence=confidence)
            return _with_counts(verdict, len(rows), len(control) - len(rows))
        return _sequential_rate(rows, direction=direction, tolerance=tolerance, alpha=alpha,
                                dropped=len(control) - len(rows))
    if len(control) != len(canary) and mode is Mode.SEQUENTIAL:
        raise ValueError(f"control has {len(control)} intervals but canary has {len(canary)}")
    if mode is Mode.FIXED:
        return fixed.judge_continuous(control, canary, direction=direction, tolerance=tolerance,
                                      confidence=confidence)
    return _sequential_shift(control, canary, direction=direction, tolerance=tolerance, alpha=alpha)


def _with_counts(verdict: MetricVerdict, used: int, dropped: int) -> MetricVerdict:
    return MetricVerdict(verdict.label, verdict.effect, verdict.lower, verdict.upper, verdict.detected_at,
                         used, dropped, verdict.reason)


def _count_rows(control: Sequence[Number], control_total: Sequence[Number], canary: Sequence[Number],
                canary_total: Sequence[Number]) -> list[tuple[int, tuple[int, int, int, int]]]:
    """(interval index, (control errors, control requests, canary errors, canary requests)) of the usable
    intervals; the index lets `detected_at` point into the caller's series."""
    lengths = {len(control), len(control_total), len(canary), len(canary_total)}
    if len(lengths) != 1:
        raise ValueError(f"rate series must have equal lengths, got {sorted(lengths)}")
    rows = []
    for i in range(len(control)):
        c = check_counts(control[i], control_total[i], f"control interval {i}")
        x = check_counts(canary[i], canary_total[i], f"canary interval {i}")
        if c is not None and x is not None:
            rows.append((i, (c[0], c[1], x[0], x[1])))
    return rows


def _sequential_shift(control: Sequence[Number], canary: Sequence[Number], *, direction: Direction,
                      tolerance: float, alpha: float) -> MetricVerdict:
    ratios = [(i, log_ratio(c, x)) for i, (c, x) in enumerate(zip(control, canary, strict=True))]
    kept = [(i, d) for i, d in ratios if d is not None]
    values = [d for _, d in kept]
    sides = directions(direction)
    found = [(position, label) for sign, label in sides
             if (position := shift_detection(values, alpha=alpha / len(sides), sign=sign,
                                             tolerance=tolerance)) is not None]
    if found:
        position, label = min(found, key=lambda hit: hit[0])  # the first to flag; High before Low on a tie
        index = kept[position][0]
        return MetricVerdict(label, effect=math.exp(sum(values[:position + 1]) / (position + 1)),
                             detected_at=index, used=position + 1, dropped=index - position)
    used, dropped = len(values), len(control) - len(values)
    if used < MIN_PAIRS:
        return MetricVerdict(Label.NODATA, used=used, dropped=dropped,
                             reason=f"needs {MIN_PAIRS} intervals with data in both arms, got {used}")
    return MetricVerdict(Label.PASS, effect=math.exp(sum(values) / used), used=used, dropped=dropped)


def _sequential_rate(rows: Sequence[tuple[int, tuple[int, int, int, int]]], *, direction: Direction, tolerance: float,
                     alpha: float, dropped: int) -> MetricVerdict:
    if not rows:
        return MetricVerdict(Label.NODATA, dropped=dropped, reason="no interval had requests in both arms")
    sides = directions(direction)
    tests = [(RateTest(alpha=alpha / len(sides), sign=sign, tolerance=tolerance), label) for sign, label in sides]
    for used, (index, (ec, nc, ex, nx)) in enumerate(rows, start=1):
        for test, label in tests:
            if test.update(ec, nc, ex, nx):
                return MetricVerdict(label, effect=test.rate_ratio(), detected_at=index, used=used,
                                     dropped=dropped)
    return MetricVerdict(Label.PASS, effect=tests[0][0].rate_ratio(), used=len(rows), dropped=dropped)


def judge_canary(
    metrics: Sequence[MetricInput], *, mode: Mode = Mode.SEQUENTIAL, alpha: float = DEFAULT_ALPHA,
    confidence: float = 0.98, pass_threshold: float = 90, marginal_threshold: float = 75,
    group_weights: Mapping[str, float] | None = None,
) -> tuple[CanaryVerdict, dict[str, MetricVerdict]]:
    """Judge every metric, then score the canary (see score.py)."""
    verdicts = {
        m.name: judge_metric(m.control, m.canary, direction=m.direction, mode=mode, tolerance=m.tolerance,
                             control_total=m.control_total, canary_total=m.canary_total, alpha=alpha,
                             confidence=confidence)
        for m in metrics
    }
    scored = [ScoredMetric(m.name, verdicts[m.name].label, m.group, m.critical, m.weight) for m in metrics]
    verdict = canary_verdict(scored, pass_threshold=pass_threshold, marginal_threshold=marginal_threshold,
                             group_weights=group_weights)
    return verdict, verdicts
