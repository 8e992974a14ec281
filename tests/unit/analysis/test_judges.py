"""The statistical judge: labels in both modes, counts for rates, missing data, spikes, scoring."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.judges import (
    Direction,
    Label,
    MetricInput,
    Mode,
    ScoredMetric,
    canary_verdict,
    judge_canary,
    judge_metric,
)
from rollouts.api.analysis import AnalysisPhase

RNG_SEED = 20260101


def noisy(level: float, n: int, seed: int, sd: float = 0.03) -> list[float]:
    rng = np.random.default_rng(seed)
    return (level * np.exp(rng.normal(0, sd, n))).tolist()


@pytest.mark.parametrize("mode", [Mode.FIXED, Mode.SEQUENTIAL], ids=["fixed", "sequential"])
@pytest.mark.parametrize(
    ("canary_level", "direction", "tolerance", "expected"),
    [
        pytest.param(100, Direction.INCREASE, 0.0, Label.PASS, id="same-pass"),
        pytest.param(130, Direction.INCREASE, 0.0, Label.HIGH, id="slower-high"),
        pytest.param(70, Direction.INCREASE, 0.0, Label.PASS, id="faster-is-not-a-regression"),
        pytest.param(70, Direction.DECREASE, 0.0, Label.LOW, id="throughput-drop-low"),
        pytest.param(130, Direction.DECREASE, 0.0, Label.PASS, id="throughput-rise-pass"),
        pytest.param(130, Direction.EITHER, 0.0, Label.HIGH, id="either-high"),
        pytest.param(70, Direction.EITHER, 0.0, Label.LOW, id="either-low"),
        pytest.param(105, Direction.INCREASE, 0.5, Label.PASS, id="within-tolerance"),
    ],
)
def test_continuous_labels(mode: Mode, canary_level: float, direction: Direction, tolerance: float,
                           expected: Label) -> None:
    control = noisy(100, 30, 1)
    canary = noisy(canary_level, 30, 2)
    verdict = judge_metric(control, canary, direction=direction, mode=mode, tolerance=tolerance)
    assert verdict.label is expected, verdict


def test_sequential_reports_first_flagging_interval_and_fixed_does_not() -> None:
    control, canary = noisy(100, 40, 3), noisy(150, 40, 4)
    sequential = judge_metric(control, canary, mode=Mode.SEQUENTIAL)
    assert sequential.label is Label.HIGH and sequential.detected_at is not None
    assert 3 <= sequential.detected_at <= 6  # the e-process cannot flag before the 4th interval
    assert judge_metric(control, canary, mode=Mode.FIXED).detected_at is None


@pytest.mark.parametrize("mode", [Mode.FIXED, Mode.SEQUENTIAL], ids=["fixed", "sequential"])
def test_missing_nan_and_nonpositive_points_are_dropped_and_counted(mode: Mode) -> None:
    control: list[float | None] = [*noisy(100, 20, 5)]
    canary: list[float | None] = [*noisy(100, 20, 6)]
    control[3], canary[7], canary[9] = None, math.nan, 0.0
    verdict = judge_metric(control, canary, mode=mode)
    assert verdict.label is Label.PASS
    assert verdict.dropped == 3


@pytest.mark.parametrize("mode", [Mode.FIXED, Mode.SEQUENTIAL], ids=["fixed", "sequential"])
def test_too_little_data_is_nodata(mode: Mode) -> None:
    verdict = judge_metric([1.0, None, math.nan], [1.0, 2.0, 3.0], mode=mode)
    assert verdict.label is Label.NODATA and verdict.reason


def test_a_single_spike_does_not_flag_an_equal_canary() -> None:
    control, canary = noisy(100, 40, 7), noisy(100, 40, 8)
    canary[20] = 100_000.0  # a GC pause or scrape glitch
    assert judge_metric(control, canary, mode=Mode.SEQUENTIAL).label is Label.PASS


@pytest.mark.parametrize(
    ("ratio", "mode", "expected"),
    [
        pytest.param(1.0, Mode.SEQUENTIAL, Label.PASS, id="equal-sequential"),
        pytest.param(3.0, Mode.SEQUENTIAL, Label.HIGH, id="triple-sequential"),
        pytest.param(1.0, Mode.FIXED, Label.PASS, id="equal-fixed"),
        pytest.param(3.0, Mode.FIXED, Label.HIGH, id="triple-fixed"),
    ],
)
def test_error_rates_are_judged_from_counts(ratio: float, mode: Mode, expected: Label) -> None:
    rng = np.random.default_rng(RNG_SEED)
    totals = [1000] * 30
    control = rng.binomial(1000, 0.01, 30).tolist()
    canary = rng.binomial(1000, 0.01 * ratio, 30).tolist()
    verdict = judge_metric(control, canary, control_total=totals, canary_total=totals, mode=mode)
    assert verdict.label is expected, verdict


def test_rate_weighs_intervals_by_requests() -> None:
    # Fractions would say the canary is 10x worse (1/10 vs 1/100 per interval); the counts are 3 vs 30 over
    # 30x more control traffic: same rate.
    control, control_total = [10] * 3, [1000] * 3
    canary, canary_total = [1] * 3, [100] * 3
    verdict = judge_metric(control, canary, control_total=control_total, canary_total=canary_total,
                           mode=Mode.SEQUENTIAL)
    assert verdict.label is Label.PASS and verdict.effect == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("control", "control_total", "error"),
    [
        pytest.param([5], [3], "between 0 and the request count", id="more-errors-than-requests"),
        pytest.param([-1], [3], "between 0", id="negative"),
        pytest.param([1.5], [3], "whole numbers", id="fractional"),
        pytest.param([1, 2], [3], "equal lengths", id="lengths"),
    ],
)
def test_bad_counts_are_refused(control: list[float], control_total: list[float], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        judge_metric(control, [0], control_total=control_total, canary_total=[3], mode=Mode.SEQUENTIAL)


def test_intervals_without_requests_are_skipped_and_detected_at_indexes_the_input() -> None:
    control, canary = [0, 0] + [2] * 40, [0, 0] + [30] * 40
    totals = [0, 0] + [1000] * 40
    verdict = judge_metric(control, canary, control_total=totals, canary_total=totals, mode=Mode.SEQUENTIAL)
    assert verdict.label is Label.HIGH and verdict.detected_at is not None and verdict.detected_at >= 2
    assert verdict.dropped == 2


@pytest.mark.parametrize(
    ("labels", "critical", "phase"),
    [
        pytest.param(["Pass", "Pass", "Pass"], [], AnalysisPhase.SUCCESSFUL, id="all-pass"),
        pytest.param(["Pass", "High", "Pass"], [], AnalysisPhase.INCONCLUSIVE, id="one-of-three-marginal"),
        pytest.param(["High", "High", "Pass"], [], AnalysisPhase.FAILED, id="two-of-three-fail"),
        pytest.param(["Pass", "High", "Pass"], ["b"], AnalysisPhase.FAILED, id="critical"),
        pytest.param(["NoData", "NoData", "NoData"], [], AnalysisPhase.INCONCLUSIVE, id="no-data"),
        pytest.param(["Pass", "NoData", "Pass"], [], AnalysisPhase.SUCCESSFUL, id="nodata-ignored"),
    ],
)
def test_canary_verdict(labels: list[str], critical: list[str], phase: AnalysisPhase) -> None:
    metrics = [ScoredMetric(name, Label(label), critical=name in critical) for name, label in zip("abc", labels, strict=True)]
    assert canary_verdict(metrics, pass_threshold=90, marginal_threshold=60).phase is phase


def test_grouped_weighted_score_matches_worked_example() -> None:
    metrics = [ScoredMetric("p99", Label.PASS, "latency"), ScoredMetric("mean", Label.HIGH, "latency"),
               ScoredMetric("rate", Label.PASS, "errors")]
    verdict = canary_verdict(metrics, pass_threshold=90, marginal_threshold=60,
                             group_weights={"latency": 2, "errors": 1})
    assert verdict.score == pytest.approx(200 / 3)
    assert verdict.phase is AnalysisPhase.INCONCLUSIVE


def test_judge_canary_end_to_end() -> None:
    metrics = [MetricInput("latency", noisy(100, 20, 9), noisy(140, 20, 10), critical=True),
               MetricInput("cpu", noisy(1, 20, 11), noisy(1, 20, 12))]
    verdict, per_metric = judge_canary(metrics)
    assert per_metric["latency"].label is Label.HIGH and per_metric["cpu"].label is Label.PASS
    assert verdict.phase is AnalysisPhase.FAILED and "latency" in verdict.reason


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 1000), st.floats(-0.3, 0.3))
def test_sequential_is_scale_invariant_and_never_flags_improvements(seed: int, scale: float, effect: float) -> None:
    control = noisy(100, 25, seed)
    canary = noisy(100 * math.exp(effect), 25, seed + 1)
    base = judge_metric(control, canary, mode=Mode.SEQUENTIAL)
    scaled = judge_metric([v * scale for v in control], [v * scale for v in canary], mode=Mode.SEQUENTIAL)
    assert base.label is scaled.label and base.detected_at == scaled.detected_at
    assert base.label is not Label.LOW
    if effect < 0:
        assert base.label is Label.PASS


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_swapping_arms_swaps_high_and_low(seed: int) -> None:
    control, canary = noisy(100, 25, seed), noisy(110, 25, seed + 1)
    forward = judge_metric(control, canary, mode=Mode.SEQUENTIAL, direction=Direction.EITHER)
    backward = judge_metric(canary, control, mode=Mode.SEQUENTIAL, direction=Direction.EITHER)
    swap = {Label.HIGH: Label.LOW, Label.LOW: Label.HIGH, Label.PASS: Label.PASS, Label.NODATA: Label.NODATA}
    assert backward.label is swap[forward.label]


def test_continuous_monitoring_keeps_false_alarms_under_alpha() -> None:
    """500 seeded A/A canaries of each kind, judged at every one of 60 intervals: at most 1% flagged."""
    rng = np.random.default_rng(RNG_SEED)
    flagged = 0
    for _ in range(500):
        load = np.exp(rng.normal(0, 0.1, 60))
        control = (100 * load * np.exp(rng.normal(0, 0.03, 60))).tolist()
        canary = (100 * load * np.exp(rng.normal(0, 0.03, 60))).tolist()
        flagged += judge_metric(control, canary, mode=Mode.SEQUENTIAL).label is Label.HIGH
        errors = rng.binomial(100, 0.01, (2, 60)).tolist()
        flagged += judge_metric(errors[0], errors[1], control_total=[100] * 60, canary_total=[100] * 60,
                                mode=Mode.SEQUENTIAL).label is Label.HIGH
    assert flagged <= 10, f"{flagged} of 1000 A/A canaries flagged"


def test_error_rate_doubling_is_detected_within_60_intervals_of_100_requests() -> None:
    rng = np.random.default_rng(RNG_SEED + 1)
    detected = 0
    for _ in range(200):
        control = rng.binomial(100, 0.01, 60).tolist()
        canary = rng.binomial(100, 0.02, 60).tolist()
        detected += judge_metric(control, canary, control_total=[100] * 60, canary_total=[100] * 60,
                                 mode=Mode.SEQUENTIAL).label is Label.HIGH
    assert detected >= 170, f"only {detected} of 200 doublings detected"


def reference_log_evidence(y: list[float]) -> float:
    """The mixture e-value of sequential.py computed from scratch for one prefix, straight from the formulas
    (autocorrelation from its definition), to check the vectorised cumulative-sum pass."""
    from analysis.judges.sequential import AR_PRIOR, AR_PRIOR_POINTS, MIXTURE

    n = len(y)
    mean = sum(y) / n
    variance = sum((v - mean) ** 2 for v in y) / n
    estimate = 0.0
    if n >= 3 and variance > 0:
        estimate = sum((y[t] - mean) * (y[t - 1] - mean) for t in range(1, n)) / n / variance
    r = min(max((n * estimate + AR_PRIOR_POINTS * AR_PRIOR) / (n + AR_PRIOR_POINTS), 0.0), 0.9)
    n_eff = n * (1 - r) / (1 + r)
    second = sum(v * v for v in y) / n
    total = 0.0
    for weight, g in MIXTURE:
        remaining = second - n_eff * mean * mean * g / (1 + n_eff * g)
        total += weight * (1 + n_eff * g) ** -0.5 * (second / remaining) ** (n_eff / 2)
    return math.log(total)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.floats(-0.2, 0.4), st.floats(0.01, 0.2), st.integers(2, 40))
def test_vectorised_pass_matches_a_from_scratch_replay(seed: int, shift: float, sd: float, n: int) -> None:
    from analysis.judges.sequential import log_bayes_factor, shift_detection

    y = np.random.default_rng(seed).normal(shift, sd, n)
    vectorised = log_bayes_factor(y)
    for k in range(2, n + 1):
        assert vectorised[k - 1] == pytest.approx(reference_log_evidence(y[:k].tolist()), rel=1e-9, abs=1e-9)
    threshold = math.log((1 / 0.01 + 1) / 2)
    expected = next((k for k in range(1, n) if vectorised[k] >= threshold and y[:k + 1].sum() > 0), None)
    assert shift_detection(y.tolist(), alpha=0.01, sign=1, clip_spikes=False) == expected


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.2))
def test_a_larger_regression_is_never_found_later(seed: int, extra: float) -> None:
    """Adding the same positive amount to every log ratio can only make the one-sided test flag sooner."""
    from analysis.judges.sequential import shift_detection

    y = np.random.default_rng(seed).normal(0.04, 0.08, 60)
    base = shift_detection(y.tolist(), alpha=0.01, sign=1, clip_spikes=False)
    worse = shift_detection((y + extra).tolist(), alpha=0.01, sign=1, clip_spikes=False)
    if base is not None:
        assert worse is not None and worse <= base


def shared_load_case(rng: np.random.Generator, effect: float) -> tuple[list[float], list[float]]:
    """Issue 19's setting: per-interval means of 100 log-normal requests, a load factor shared by both arms
    (sd 10%), an arm factor (sd 2%)."""
    load = np.exp(rng.normal(0, 0.10, 60))

    def arm(scale: float) -> list[float]:
        means = (100 * np.exp(0.5 * rng.standard_normal((60, 100)))).mean(axis=1)
        return (means * load * np.exp(rng.normal(0, 0.02, 60)) * scale).tolist()

    return arm(1.0), arm(1 + effect)


def test_shared_load_regression_power_and_false_alarms() -> None:
    """200 seeded canaries each: +5% mean latency flagged in most within 60 intervals, A/A in at most 1%."""
    rng = np.random.default_rng(RNG_SEED + 2)
    found = [judge_metric(*shared_load_case(rng, 0.05), mode=Mode.SEQUENTIAL) for _ in range(200)]
    alarms = sum(judge_metric(*shared_load_case(rng, 0.0), mode=Mode.SEQUENTIAL).label is Label.HIGH
                 for _ in range(200))
    detected = sorted(v.detected_at + 1 for v in found if v.label is Label.HIGH and v.detected_at is not None)
    assert len(detected) >= 160, f"only {len(detected)} of 200 +5% regressions detected"
    assert detected[len(detected) // 2] <= 40, f"median {detected[len(detected) // 2]} intervals"
    assert alarms <= 2, f"{alarms} of 200 A/A canaries flagged"
