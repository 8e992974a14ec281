"""The `judge` metric provider: the statistical canary judge fed from Prometheus range queries.

Each compared metric's `query` (and `totalQuery` for rates) contains `{{variant.hash}}`; it is run twice,
with the control's and with the canary's pod-template hash, as a range query over the analysis window
(from the run's start, or `lookback` before now, to now, one point per `step`). The series go to
analysis.judges.judge_canary; the measurement's phase IS the judge's verdict (Successful / Inconclusive
/ Failed), like Argo's Kayenta provider, so success/failure conditions are not used. The value is a JSON
summary (score and per-metric labels), the message the judge's reason, and per-metric details go to the
measurement's metadata so `kubectl get ar -o yaml` shows why.

In sequential mode the test replays the whole window at each measurement; since it is anytime-valid,
measuring every interval does not inflate false alarms.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from analysis.measurement import error_measurement
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.prometheus import ProviderError, query_range_sync
from analysis.sandbox import SandboxError
from rollouts.api.analysis import AnalysisPhase, JudgeMetricProvider, JudgeMetricQuery, Measurement, Metric
from rollouts.api.common import parse_duration

if TYPE_CHECKING:
    from analysis.judges import MetricInput
    from analysis.judges.cleaning import Number
    from analysis.judges.verdicts import MetricVerdict

HASH_PLACEHOLDER = "{{variant.hash}}"


def variant_query(query: str, pod_template_hash: str) -> str:
    return query.replace(HASH_PLACEHOLDER, pod_template_hash)


def analysis_window(spec: JudgeMetricProvider, context: MeasurementContext, now: datetime
                    ) -> tuple[datetime, datetime, float]:
    step = parse_duration(spec.step)
    if step <= 0:
        raise ProviderError(f"judge step {spec.step!r} must be positive")
    start = now - timedelta(seconds=parse_duration(spec.lookback)) if spec.lookback else context.started_at
    return start, now, step


class JudgeProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.judge
        if spec is None:
            return error_measurement("judge provider is not set", started_at=started, finished_at=started)
        try:
            start, end, step = analysis_window(spec, context, started)
            if (end - start).total_seconds() < step:
                return Measurement(phase=AnalysisPhase.INCONCLUSIVE, started_at=started,
                                   finished_at=self.clock(),
                                   message=f"analysis window shorter than one step ({spec.step})")
            inputs = await asyncio.gather(*(self._series(spec, q, start, end, step) for q in spec.metrics))
            # the statistics over long series are CPU-bound: they run in the sandbox, off the event loop.
            # Imported here: scipy costs a second, and the provider registry is also read by `lint`.
            from analysis.judges import judge_canary

            verdict, per_metric = await self.sandbox.run(
                judge_canary, inputs, mode=spec.mode, alpha=spec.alpha, confidence=spec.confidence,
                pass_threshold=spec.pass_threshold, marginal_threshold=spec.marginal_threshold,
                group_weights=spec.group_weights)
        except (ProviderError, ValueError, SandboxError) as exc:
            return error_measurement(f"judge: {exc}", started_at=started, finished_at=self.clock())
        except Exception as exc:  # Prometheus unreachable and the like
            return error_measurement(f"judge: Prometheus query failed: {str(exc)[:400]}", started_at=started,
                                     finished_at=self.clock())
        value = {"score": None if verdict.score is None else round(verdict.score, 2),
                 "metrics": {name: str(v.label) for name, v in per_metric.items()},
                 "series": judged_series(inputs, start=start, step=step)}
        return Measurement(phase=verdict.phase, value=json.dumps(value, separators=(",", ":")),
                           message=verdict.reason, started_at=started, finished_at=self.clock(),
                           metadata={name: describe(v) for name, v in per_metric.items()})

    async def _series(self, spec: JudgeMetricProvider, query: JudgeMetricQuery, start: datetime, end: datetime,
                      step: float) -> MetricInput:
        headers = {h.key: h.value for h in spec.headers}

        async def fetch(text: str | None, pod_hash: str) -> list[float | None] | None:
            if text is None:
                return None
            return await asyncio.wait_for(asyncio.to_thread(
                query_range_sync, spec.address, variant_query(text, pod_hash), start=start, end=end,
                step_seconds=step, headers=headers, timeout=spec.timeout), timeout=spec.timeout + 1)

        control, canary, control_total, canary_total = await asyncio.gather(
            fetch(query.query, spec.control_hash), fetch(query.query, spec.canary_hash),
            fetch(query.total_query, spec.control_hash), fetch(query.total_query, spec.canary_hash))
        assert control is not None and canary is not None  # query is required
        from analysis.judges import MetricInput
        if control_total is not None and canary_total is not None:
            control_total, canary_total = _round_counts(control_total), _round_counts(canary_total)
            control = missing_events_as_zero(_round_counts(control), control_total)
            canary = missing_events_as_zero(_round_counts(canary), canary_total)
        return MetricInput(query.name, control, canary, control_total, canary_total, direction=query.direction,
                           tolerance=query.tolerance, group=query.group, weight=query.weight,
                           critical=query.critical)


SERIES_POINTS = 120
"""Intervals of each series kept in a measurement's value: the most recent ones. A measurement replays the
whole window, and up to measurementRetention (10) measurements are kept per metric, so this bounds what the
AnalysisRun holds (about 3 kB per compared metric per measurement)."""


def judged_series(inputs: Sequence[MetricInput], *, start: datetime, step: float,
                  limit: int = SERIES_POINTS) -> dict[str, dict[str, object]]:
    """What the judge compared, per metric and interval, for a person to see why (the dashboard plots it):
    the control's and canary's values and, for a rate metric, their totals (events / total is the rate), the
    last `limit` intervals, each value to 6 significant digits; `start` is the first kept interval's time.

    3 intervals of 30 s from 12:00, limit 2: {"latency": {"start": "12:00:30", "step": 30.0,
    "control": [101.0, 99.5], "canary": [150.2, 149.0]}}.
    """
    def kept(values: Sequence[Number] | None) -> list[float | None] | None:
        if values is None:
            return None
        return [None if v is None or v != v else float(f"{v:.6g}") for v in list(values)[-limit:]]

    out: dict[str, dict[str, object]] = {}
    for metric in inputs:
        dropped = max(0, len(metric.control) - limit)
        entry: dict[str, object] = {"start": (start + timedelta(seconds=dropped * step)).isoformat(), "step": step,
                                    "control": kept(metric.control), "canary": kept(metric.canary)}
        if metric.control_total is not None and metric.canary_total is not None:
            entry["controlTotal"], entry["canaryTotal"] = kept(metric.control_total), kept(metric.canary_total)
        out[metric.name] = entry
    return out


def missing_events_as_zero(events: list[float | None], totals: list[float | None]) -> list[float | None]:
    """An error series that does not exist (no 5xx ever: `sum(...)` of nothing is an empty result) while
    requests were served means zero errors, not a missing interval; otherwise a stable arm that never
    failed could not be compared with a canary that does. [None, 3], totals [100, 100] -> [0.0, 3]."""
    return [0.0 if e is None and t is not None and t > 0 else e for e, t in zip(events, totals, strict=True)]


def _round_counts(values: list[float | None]) -> list[float | None]:
    """increase() over a window extrapolates to fractional counts; the rate test wants whole events."""
    return [None if v is None or v != v else float(round(max(v, 0.0))) for v in values]


def describe(verdict: MetricVerdict) -> str:
    parts = [str(verdict.label)]
    if verdict.effect is not None:
        parts.append(f"effect x{verdict.effect:.3f}")
    if verdict.detected_at is not None:
        parts.append(f"detected at interval {verdict.detected_at}")
    parts.append(f"{verdict.used} intervals used, {verdict.dropped} dropped")
    if verdict.reason:
        parts.append(verdict.reason)
    return "; ".join(parts)
