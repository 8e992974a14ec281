"""The statistical canary judge: compares the canary with the control (baseline) per metric, in a
fixed-horizon (Kayenta-style) or an anytime-valid sequential mode, and scores the canary."""

from analysis.judges.compare import MetricInput, judge_canary, judge_metric
from analysis.judges.score import CanaryVerdict, ScoredMetric, canary_verdict
from analysis.judges.verdicts import Direction, Label, MetricVerdict, Mode

__all__ = [
    "CanaryVerdict", "Direction", "Label", "MetricInput", "MetricVerdict", "Mode", "ScoredMetric",
    "canary_verdict", "judge_canary", "judge_metric",
]
