"""From per-metric labels to a canary verdict: grouped, weighted score and thresholds (Kayenta's scheme).

Each group scores the (metric-weighted) share of its metrics that Pass (NoData metrics are left out); the
canary score is the weighted mean of the group scores, 0-100. A score >= pass_threshold is Successful,
>= marginal_threshold Inconclusive, below Failed. A failing metric marked critical fails the canary
whatever the score. With no data at all the verdict is Inconclusive: a canary is never promoted blind.

Example: groups latency (weight 2: p99 Pass, mean High) and errors (weight 1: rate Pass) -> latency 50,
errors 100 -> score (2*50 + 1*100) / 3 = 66.7 -> Failed with thresholds 90/75.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analysis.judges.verdicts import Label
from rollouts.api.analysis import AnalysisPhase


@dataclass(frozen=True, slots=True)
class ScoredMetric:
    name: str
    label: Label
    group: str = "default"
    critical: bool = False
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class CanaryVerdict:
    phase: AnalysisPhase
    score: float | None
    reason: str


def canary_score(metrics: Sequence[ScoredMetric], group_weights: Mapping[str, float]) -> float | None:
    """Weighted mean of per-group pass shares, 0-100; None when no metric has data."""
    groups: dict[str, list[ScoredMetric]] = {}
    for metric in metrics:
        if metric.label is not Label.NODATA:
            groups.setdefault(metric.group, []).append(metric)
    if not groups:
        return None
    weighted = total = 0.0
    for group, members in groups.items():
        weight = group_weights.get(group, 1.0)
        passed = sum(m.weight for m in members if m.label is Label.PASS)
        weighted += weight * 100.0 * passed / sum(m.weight for m in members)
        total += weight
    return weighted / total if total > 0 else None


def canary_verdict(metrics: Sequence[ScoredMetric], *, pass_threshold: float, marginal_threshold: float,
                   group_weights: Mapping[str, float] | None = None) -> CanaryVerdict:
    if marginal_threshold > pass_threshold:
        raise ValueError(f"marginal threshold {marginal_threshold} is above the pass threshold {pass_threshold}")
    critical = [m.name for m in metrics if m.critical and m.label.failing]
    score = canary_score(metrics, group_weights or {})
    failing = ", ".join(f"{m.name}={m.label}" for m in metrics if m.label.failing) or "none"
    if critical:
        return CanaryVerdict(AnalysisPhase.FAILED, score, f"critical metric(s) failed: {', '.join(critical)}")
    if score is None:
        return CanaryVerdict(AnalysisPhase.INCONCLUSIVE, None, "no metric had data")
    text = f"score {score:.1f} (pass {pass_threshold:g}, marginal {marginal_threshold:g}); failing: {failing}"
    if score >= pass_threshold:
        return CanaryVerdict(AnalysisPhase.SUCCESSFUL, score, text)
    if score >= marginal_threshold:
        return CanaryVerdict(AnalysisPhase.INCONCLUSIVE, score, text)
    return CanaryVerdict(AnalysisPhase.FAILED, score, text)
