"""Pure AnalysisRun assessment: which measurements are due, and the status after new measurements.

A reconcile of an AnalysisRun is: `due_measurements(run, metrics, now=...)` -> the controller takes (or
resumes, or terminates) those measurements through the providers -> `record_measurements(...)` returns
the complete new status -> one status write -> requeue at `next_reconcile_at(...)`. Everything needed to
continue lives in the status, so a restarted controller picks up where the last one stopped.

Argo's rules, reproduced:
- a metric is Failed when failed > failureLimit, Inconclusive when inconclusive > inconclusiveLimit,
  Error when consecutiveError > consecutiveErrorLimit (defaults 0, 0, 4; a negative limit disables the
  check); once `count` measurements are taken and no limit is exceeded it is Successful;
- without `count`, a metric with an `interval` runs until the run is terminated; without both it is
  measured once;
- measurements are taken at start + initialDelay, then at the last finishedAt + interval; after an Error
  the next one is taken 10 s later (Argo's DefaultErrorRetryInterval) and, as in Argo, an Error does not
  use up one of the metric's `count` measurements;
- the run's phase is the worst of its metrics (Successful < Inconclusive < Error < Failed); the first
  metric to end Failed, Error or Inconclusive terminates the others (they end Successful, "terminated");
  `spec.terminate` does the same; dry-run metrics are assessed and summarised but never decide the run;
- only the last `measurementRetention.limit` (default 10) measurements of a metric are kept (at least one,
  which the schedule needs); the counters keep the full history.

Example (interval 1m, count 3, failureLimit 1): measurements at 0s Failed, 60s Successful, 120s Failed ->
failed 2 > 1 -> metric Failed at 120s, run Failed, message 'metric "m" assessed Failed due to failed (2) >
failureLimit (1)'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from analysis.conditions import condition_problem
from analysis.redaction import redact
from rollouts.api.analysis import (
    DEFAULT_CONSECUTIVE_ERROR_LIMIT,
    DEFAULT_MEASUREMENT_RETENTION,
    AnalysisPhase,
    AnalysisRun,
    AnalysisRunStatus,
    Measurement,
    Metric,
    MetricResult,
    RunSummary,
)
from rollouts.api.common import parse_duration

ERROR_RETRY_INTERVAL = timedelta(seconds=10)
_WORSE = [AnalysisPhase.SUCCESSFUL, AnalysisPhase.INCONCLUSIVE, AnalysisPhase.ERROR, AnalysisPhase.FAILED]
_ENDING = frozenset({AnalysisPhase.FAILED, AnalysisPhase.ERROR, AnalysisPhase.INCONCLUSIVE})
TERMINATED_MESSAGE = "Metric terminated"


class Action(StrEnum):
    MEASURE = "measure"      # take a new measurement
    RESUME = "resume"        # poll a Running measurement (a Job) whose resumeAt has come
    TERMINATE = "terminate"  # the run is ending: stop a Running measurement


@dataclass(frozen=True, slots=True)
class DueMeasurement:
    metric: Metric
    action: Action
    running: Measurement | None = None  # the Running measurement for RESUME / TERMINATE


# --- reading a metric's settings -----------------------------------------------------------------


def _int(value: int | str | None, default: int, what: str) -> int:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an integer") from None


def effective_count(metric: Metric) -> int | None:
    """How many measurements the metric takes: count, or 1 without interval, or None (until terminated)."""
    count = _int(metric.count, 0, "count")
    if count > 0:
        return count
    return None if metric.interval else 1


def _seconds(value: str | None) -> timedelta:
    return timedelta(seconds=parse_duration(value)) if value else timedelta(0)


def validate_metrics(metrics: Sequence[Metric], providers: Iterable[str], *, secrets: Sequence[str] = ()) -> str | None:
    """Why the (argument-substituted) metrics cannot run, or None. Checked once when the run starts so a
    typo in a condition is reported on the run at once instead of after five Error measurements. A
    condition that contains a secret argument is reported by position only: its text (and the parser's
    quote of a token) would be a piece of the secret."""
    known = set(providers)
    if not metrics:
        return "the run has no metrics"
    seen: set[str] = set()
    for metric in metrics:
        if metric.name in seen:
            return f"metric name {metric.name!r} is used twice"
        seen.add(metric.name)
        for field, condition in (("successCondition", metric.success_condition),
                                 ("failureCondition", metric.failure_condition)):
            problem = condition_problem(condition) if condition else None
            if problem is not None and secrets and condition and redact(condition, secrets) != condition:
                return f"metric {metric.name!r}: {field}: {problem.at_position()} ({WITHHELD})"
            if problem is not None:
                where = f" (line {problem.line}, column {problem.column})" if problem.line else ""
                return f"metric {metric.name!r}: {field}: {problem.message}{where}"
        try:
            interval = _seconds(metric.interval)
            _seconds(metric.initial_delay)
            count = effective_count(metric)
            for limit in (metric.failure_limit, metric.inconclusive_limit, metric.consecutive_error_limit):
                _int(limit, 0, "limit")
        except ValueError as exc:
            return f"metric {metric.name!r}: {exc}"
        if count is not None and count > 1 and interval == timedelta(0):
            return f"metric {metric.name!r}: interval must be set when count ({count}) is more than 1"
        keys = metric.provider.provider_keys()
        if len(keys) != 1:
            return f"metric {metric.name!r}: exactly one provider must be set, found {keys or 'none'}"
        if keys[0] not in known:
            return f"metric {metric.name!r}: provider {keys[0]!r} is not supported (known: {sorted(known)})"
    return None


WITHHELD = "it contains a secret argument, so its text is not shown"


def names_metric(pattern: str, name: str) -> bool:
    """Whether a dryRun / measurementRetention ``metricName`` selects metric ``name``: Argo matches it as an
    unanchored regular expression (regexp.MatchString: ``test.*`` selects ``test-1``); ``*`` keeps meaning all."""
    if pattern in (name, "*"):
        return True
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False


def is_dry_run(run: AnalysisRun, name: str) -> bool:
    return any(names_metric(d.metric_name, name) for d in run.spec.dry_run)


def _retention(run: AnalysisRun, name: str) -> int:
    for rule in run.spec.measurement_retention:
        if names_metric(rule.metric_name, name):
            return max(rule.limit, 1)
    return DEFAULT_MEASUREMENT_RETENTION


# --- scheduling ----------------------------------------------------------------------------------


def next_measurement_at(metric: Metric, result: MetricResult | None, started_at: datetime) -> datetime | None:
    """When the metric's next measurement is due (None: no more). A Running one is due at its resumeAt."""
    if result is not None and result.phase.is_completed():
        return None
    if result is None or not result.measurements:
        return started_at + _seconds(metric.initial_delay)
    last = result.measurements[-1]
    if last.phase is AnalysisPhase.RUNNING:
        return last.resume_at or last.started_at or started_at
    count = effective_count(metric)
    if count is not None and result.count >= count:
        return None
    finished = last.finished_at or started_at
    if last.phase is AnalysisPhase.ERROR:
        return finished + ERROR_RETRY_INTERVAL
    return finished + _seconds(metric.interval)


def _results(run: AnalysisRun) -> dict[str, MetricResult]:
    return {r.name: r for r in (run.status.metric_results if run.status else [])}


def is_terminating(run: AnalysisRun) -> bool:
    """spec.terminate, or a decisive (non-dry-run) metric already ended Failed/Error/Inconclusive."""
    if run.spec.terminate:
        return True
    return any(r.phase in _ENDING and not r.dry_run for r in _results(run).values())


def due_measurements(run: AnalysisRun, metrics: Sequence[Metric], *, now: datetime) -> list[DueMeasurement]:
    """The measurements to take, resume or terminate now (empty when the run is complete)."""
    status = run.status
    if status is not None and status.phase.is_completed():
        return []
    started = status.started_at if status and status.started_at else now
    results = _results(run)
    terminating = is_terminating(run)
    due: list[DueMeasurement] = []
    for metric in metrics:
        result = results.get(metric.name)
        if result is not None and result.phase.is_completed():
            continue
        last = result.measurements[-1] if result and result.measurements else None
        running = last if last is not None and last.phase is AnalysisPhase.RUNNING else None
        if terminating:
            if running is not None:
                due.append(DueMeasurement(metric, Action.TERMINATE, running))
            continue
        when = next_measurement_at(metric, result, started)
        if when is not None and when <= now:
            due.append(DueMeasurement(metric, Action.RESUME if running else Action.MEASURE, running))
    return due


def next_reconcile_at(run: AnalysisRun, metrics: Sequence[Metric], *, now: datetime) -> datetime | None:
    """The earliest time something is due again (None when the run is complete)."""
    status = run.status
    if status is None or status.phase.is_completed():
        return None if status is not None else now
    started = status.started_at or now
    results = _results(run)
    times = [t for m in metrics if (t := next_measurement_at(m, results.get(m.name), started)) is not None]
    return max(min(times), now) if times else None


# --- recording -----------------------------------------------------------------------------------


def _redacted(measurement: Measurement, secrets: Sequence[str]) -> Measurement:
    if not secrets:
        return measurement
    update: dict[str, object] = {}
    if measurement.message:
        update["message"] = redact(measurement.message, secrets)
    if measurement.value:
        update["value"] = redact(measurement.value, secrets)
    if measurement.metadata:
        update["metadata"] = {k: redact(v, secrets) for k, v in measurement.metadata.items()}
    return measurement.model_copy(update=update)


def result_metadata(metric: Metric, secrets: Sequence[str] = ()) -> dict[str, str] | None:
    """Argo's provider.GetMetadata, kept on the metric's result with each measurement: the query as resolved
    from the run's arguments (`ResolvedPrometheusQuery`, `ResolvedNewRelicQuery`), secrets redacted."""
    provider = metric.provider
    if provider.prometheus is not None and provider.prometheus.query:
        return {"ResolvedPrometheusQuery": redact(provider.prometheus.query, secrets)}
    if provider.new_relic is not None and provider.new_relic.query:
        return {"ResolvedNewRelicQuery": redact(provider.new_relic.query, secrets)}
    return None


def _add(result: MetricResult, measurement: Measurement, retention: int) -> MetricResult:
    measurements = list(result.measurements)
    if measurements and measurements[-1].phase is AnalysisPhase.RUNNING:
        measurements[-1] = measurement  # a resumed or terminated measurement replaces its Running self
    else:
        measurements.append(measurement)
    counts = {"count": result.count, "successful": result.successful, "failed": result.failed,
              "inconclusive": result.inconclusive, "error": result.error,
              "consecutive_error": result.consecutive_error}
    phase = measurement.phase
    if phase.is_completed():
        counts["count"] += phase is not AnalysisPhase.ERROR  # errors are retried, they use up no count
        field = {AnalysisPhase.SUCCESSFUL: "successful", AnalysisPhase.FAILED: "failed",
                 AnalysisPhase.INCONCLUSIVE: "inconclusive", AnalysisPhase.ERROR: "error"}[phase]
        counts[field] += 1
        counts["consecutive_error"] = counts["consecutive_error"] + 1 if phase is AnalysisPhase.ERROR else 0
    return result.model_copy(update={"measurements": measurements[-retention:], **counts})


def metric_phase(metric: Metric, result: MetricResult, *, terminating: bool) -> tuple[AnalysisPhase, str | None]:
    """A metric's phase from its counters and limits, with Argo's message when a limit is exceeded."""
    if not result.measurements:
        return (AnalysisPhase.SUCCESSFUL, TERMINATED_MESSAGE) if terminating else (AnalysisPhase.PENDING, None)
    if result.measurements[-1].phase is AnalysisPhase.RUNNING:
        return AnalysisPhase.RUNNING, None
    checks = [
        ("failed", result.failed, "failureLimit", _int(metric.failure_limit, 0, "failureLimit"),
         AnalysisPhase.FAILED),
        ("inconclusive", result.inconclusive, "inconclusiveLimit",
         _int(metric.inconclusive_limit, 0, "inconclusiveLimit"), AnalysisPhase.INCONCLUSIVE),
        ("consecutiveErrors", result.consecutive_error, "consecutiveErrorLimit",
         _int(metric.consecutive_error_limit, DEFAULT_CONSECUTIVE_ERROR_LIMIT, "consecutiveErrorLimit"),
         AnalysisPhase.ERROR),
    ]
    for what, seen, limit_name, limit, phase in checks:
        if 0 <= limit < seen:
            message = f"metric {metric.name!r} assessed {phase} due to {what} ({seen}) > {limit_name} ({limit})"
            last_message = result.measurements[-1].message
            if phase is AnalysisPhase.ERROR and last_message:
                message += f": {last_message}"
            return phase, message
    count = effective_count(metric)
    if count is not None and result.count >= count:
        return AnalysisPhase.SUCCESSFUL, None
    if terminating:
        return AnalysisPhase.SUCCESSFUL, TERMINATED_MESSAGE
    return AnalysisPhase.RUNNING, None


def _assess(run: AnalysisRun, metrics: Sequence[Metric], results: dict[str, MetricResult],
            terminating: bool) -> dict[str, MetricResult]:
    assessed: dict[str, MetricResult] = {}
    for metric in metrics:
        result = results[metric.name]
        if result.phase.is_completed():
            assessed[metric.name] = result
            continue
        phase, message = metric_phase(metric, result, terminating=terminating)
        assessed[metric.name] = result.model_copy(update={"phase": phase, "message": message})
    return assessed


def _summary(results: Iterable[MetricResult]) -> RunSummary:
    items = list(results)
    return RunSummary(
        count=len(items),
        successful=sum(r.phase is AnalysisPhase.SUCCESSFUL for r in items),
        failed=sum(r.phase is AnalysisPhase.FAILED for r in items),
        inconclusive=sum(r.phase is AnalysisPhase.INCONCLUSIVE for r in items),
        error=sum(r.phase is AnalysisPhase.ERROR for r in items),
    )


@dataclass(frozen=True, slots=True)
class MetricCompletion:
    """A metric that reached a completed phase in this reconcile: Argo records `Metric<Phase>` for it."""

    name: str
    phase: AnalysisPhase

    @property
    def event_type(self) -> str:
        return "Warning" if self.phase in (AnalysisPhase.ERROR, AnalysisPhase.FAILED) else "Normal"

    @property
    def reason(self) -> str:
        return f"Metric{self.phase}"

    @property
    def message(self) -> str:
        return f"Metric '{self.name}' Completed. Result: {self.phase}"


def completed_metrics(before: AnalysisRunStatus | None, after: AnalysisRunStatus) -> list[MetricCompletion]:
    """Metrics whose phase changed to a completed one between two statuses, in the run's order (Argo's
    event on each such transition: a metric Failed at its failureLimit, Successful after its count, ...).

    before {m: Running}, after {m: Failed} -> [MetricCompletion("m", Failed)]; Failed -> Failed -> [].
    """
    previous = {r.name: r.phase for r in (before.metric_results if before is not None else [])}
    return [MetricCompletion(r.name, r.phase) for r in after.metric_results
            if r.phase.is_completed() and previous.get(r.name) != r.phase]


def record_measurements(
    run: AnalysisRun, metrics: Sequence[Metric], taken: Mapping[str, Measurement], *, now: datetime,
    secrets: Sequence[str] = (),
) -> AnalysisRunStatus:
    """The run's complete new status after the measurements in `taken` (by metric name)."""
    status = run.status or AnalysisRunStatus()
    if status.phase.is_completed():
        return status
    assessed = _assessed_results(run, metrics, taken, secrets)
    decisive = [r for r in assessed.values() if not r.dry_run]
    dry = [r for r in assessed.values() if r.dry_run]
    phase, message = _run_phase(run, assessed, decisive)
    return AnalysisRunStatus(
        phase=phase,
        message=redact(message, secrets) if message else None,
        metric_results=[assessed[m.name] for m in metrics],
        started_at=status.started_at or now,
        run_summary=_summary(decisive),
        dry_run_summary=_summary(dry) if dry else None,
    )


def _assessed_results(
    run: AnalysisRun, metrics: Sequence[Metric], taken: Mapping[str, Measurement], secrets: Sequence[str]
) -> dict[str, MetricResult]:
    """Each metric's result with its new measurement added, then assessed; a metric that ended the run (or a
    terminate) makes every other metric's result final too."""
    previous = _results(run)
    results: dict[str, MetricResult] = {}
    for metric in metrics:
        result = previous.get(metric.name) or MetricResult(
            name=metric.name, phase=AnalysisPhase.PENDING, dry_run=is_dry_run(run, metric.name))
        if metric.name in taken and not result.phase.is_completed():
            result = _add(result, _redacted(taken[metric.name], secrets), _retention(run, metric.name))
            metadata = result_metadata(metric, secrets)
            if metadata:
                result = result.model_copy(update={"metadata": metadata})
        results[metric.name] = result
    assessed = _assess(run, metrics, results, terminating=run.spec.terminate)
    if run.spec.terminate or any(r.phase in _ENDING and not r.dry_run for r in assessed.values()):
        assessed = _assess(run, metrics, assessed, terminating=True)
    return assessed


def _run_phase(
    run: AnalysisRun, assessed: Mapping[str, MetricResult], decisive: Sequence[MetricResult]
) -> tuple[AnalysisPhase, str | None]:
    """Running until every metric completed; then the worst decisive phase and its message."""
    if not all(r.phase.is_completed() for r in assessed.values()):
        return AnalysisPhase.RUNNING, None
    worst = max(decisive, key=lambda r: _WORSE.index(r.phase), default=None)
    phase = worst.phase if worst is not None else AnalysisPhase.SUCCESSFUL
    message = worst.message if worst is not None and worst.phase is not AnalysisPhase.SUCCESSFUL else None
    if run.spec.terminate and message is None:
        message = "Run Terminated"
    return phase, message


def error_status(run: AnalysisRun, message: str, *, now: datetime, secrets: Sequence[str] = ()) -> AnalysisRunStatus:
    """A run that cannot start (bad argument, invalid metric): phase Error with a message saying why."""
    status = run.status or AnalysisRunStatus()
    return AnalysisRunStatus(
        phase=AnalysisPhase.ERROR, message=redact(message, secrets),
        metric_results=list(status.metric_results), started_at=status.started_at or now,
        run_summary=status.run_summary,
    )
