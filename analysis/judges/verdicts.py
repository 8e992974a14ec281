"""The judge's vocabulary: per-metric labels and verdicts, shared by both modes, the score and the CLI.

Labels follow Kayenta: Pass, High, Low, NoData. High/Low are only ever given in a metric's regression
direction (`direction: increase` can give High, never Low: a faster canary is a Pass), so any High or
Low means "this metric failed".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rollouts.api.analysis import JudgeDirection as Direction
from rollouts.api.analysis import JudgeMode as Mode

__all__ = ["Direction", "Label", "MetricVerdict", "Mode"]


class Label(StrEnum):
    PASS = "Pass"
    HIGH = "High"
    LOW = "Low"
    NODATA = "NoData"

    @property
    def failing(self) -> bool:
        return self in (Label.HIGH, Label.LOW)


@dataclass(frozen=True, slots=True)
class MetricVerdict:
    """One metric's outcome.

    `effect` is the estimated change of the canary (a ratio: 1.10 means +10%) and `lower`/`upper` its
    interval (fixed mode: the confidence interval; sequential mode: the anytime-valid confidence sequence
    at the last look). `detected_at` is the 0-based index of the interval at which a sequential test first
    flagged. `used`/`dropped` count intervals judged and intervals skipped as missing, NaN or non-positive.
    """

    label: Label
    effect: float | None = None
    lower: float | None = None
    upper: float | None = None
    detected_at: int | None = None
    used: int = 0
    dropped: int = 0
    reason: str = ""
