"""One measurement's verdict from a metric's success and failure conditions (Argo's EvaluateResult).

- no condition at all                          -> Successful (a metric that only records a value)
- successCondition only                        -> Successful when it holds, else Failed
- failureCondition only                        -> Failed when it holds, else Successful
- both                                         -> Failed when the failure condition holds (failure wins),
                                                  else Successful when the success condition holds,
                                                  else Inconclusive
- a condition that cannot be evaluated         -> Error, with Argo's message: `could not evaluate
                                                  successCondition "<condition>": <expr's message>`
                                                  (or "metric result is nil or empty" when it was)

As in Argo the success condition is evaluated first, so its error wins over one in the failure condition.
Providers that compute a value (prometheus, web) call `measurement_from_result`; providers that decide
the phase themselves (job, judge) build their Measurement directly.

Judging a result is CPU-bound work on user input (a condition is a small program over a value that may hold
thousands of samples), so `measurement_from_result` runs `verdict` in the provider's sandbox, never on the
event loop; `condition_phase` is the one place the condition evaluator is called.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from analysis.conditions import Value, evaluate_condition, failure_message
from analysis.expr.values import Slice
from analysis.redaction import redact, redact_then_cut
from analysis.sandbox import Sandbox, SandboxError
from rollouts.api.analysis import AnalysisPhase, Measurement, Metric

MAX_VALUE_LENGTH = 2048


def _verdict(field: str, condition: str, result: Value, secrets: Sequence[str]) -> tuple[bool, str | None]:
    outcome = evaluate_condition(condition, result)
    if outcome.failure is not None:
        if secrets and redact(condition, secrets) != condition:  # built from a secret: where, never what
            return False, (f"could not evaluate {field}: {outcome.failure.at_position()} (it contains a secret "
                           "argument, so its text is not shown)")
        return False, failure_message(field, condition, outcome.failure, result)
    return bool(outcome.value), None


def condition_phase(success: str | None, failure: str | None, result: Value, *, secrets: Sequence[str] = ()
                    ) -> tuple[AnalysisPhase, str | None]:
    """The phase of a measurement whose provider returned `result`; Error (with message) on a bad condition.
    A condition built from a secret argument is reported by position only, never by its text."""
    succeeded = failed = False
    if success:
        succeeded, problem = _verdict("successCondition", success, result, secrets)
        if problem is not None:
            return AnalysisPhase.ERROR, problem
    if failure:
        failed, problem = _verdict("failureCondition", failure, result, secrets)
        if problem is not None:
            return AnalysisPhase.ERROR, problem
    if not success and not failure:
        return AnalysisPhase.SUCCESSFUL, None
    if success and not failure:
        failed = not succeeded
    elif failure and not success:
        succeeded = not failed
    if failed:
        return AnalysisPhase.FAILED, None
    if not succeeded:
        return AnalysisPhase.INCONCLUSIVE, None
    return AnalysisPhase.SUCCESSFUL, None


def format_value(result: Value, *, secrets: Sequence[str] = ()) -> str:
    """How a result is shown in `measurement.value`, close to Argo's Go formatting: 0.5 -> "0.5",
    [0.5, 1] -> "[0.5,1]", NaN -> "NaN", {"ok": true} -> '{"ok":true}'. Secrets are redacted before the value
    is cut to MAX_VALUE_LENGTH, so the cut never leaves a prefix of one."""
    return redact_then_cut(_format(result), secrets, MAX_VALUE_LENGTH)


def _format(result: Any) -> str:
    if isinstance(result, Slice):
        result = result.items or []
    if result is None:
        return ""
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, float):
        if math.isnan(result):
            return "NaN"
        if math.isinf(result):
            return "+Inf" if result > 0 else "-Inf"
        return repr(int(result)) if result.is_integer() and abs(result) < 1e15 else repr(result)
    if isinstance(result, int | str):
        return str(result)
    if isinstance(result, list):
        return "[" + ",".join(_format(item) for item in result) + "]"
    return json.dumps(result, separators=(",", ":"), sort_keys=True, default=str)


def with_shown_value(measurement: Measurement, shown: str, *, secrets: Sequence[str] = (), on_error: bool = False
                     ) -> Measurement:
    """`measurement` showing `shown` (a provider's own formatting of its result, as Argo's writes it) as its
    value, redacted then cut as `format_value` does. An Error measurement (a condition that could not be
    evaluated) keeps its value only with `on_error`: most of Argo's providers set the value after the
    verdict, Graphite's before it."""
    if measurement.phase is AnalysisPhase.ERROR and not on_error:
        return measurement.model_copy(update={"value": None})
    return measurement.model_copy(update={"value": redact_then_cut(shown, secrets, MAX_VALUE_LENGTH)})


def verdict(success: str | None, failure: str | None, result: Value, secrets: Sequence[str] = ()
            ) -> tuple[AnalysisPhase, str | None, str]:
    """Phase, message and shown value of a result: the pure, CPU-bound half, run in a sandbox."""
    phase, message = condition_phase(success, failure, result, secrets=secrets)
    return phase, message, format_value(result, secrets=secrets)


async def measurement_from_result(
    metric: Metric, result: Value, *, sandbox: Sandbox, started_at: datetime, finished_at: datetime,
    metadata: dict[str, str] | None = None, secrets: Sequence[str] = (),
) -> Measurement:
    """A completed measurement for a provider's raw result, judged by the metric's conditions in `sandbox`."""
    try:
        phase, message, value = await sandbox.run(verdict, metric.success_condition, metric.failure_condition,
                                                  result, tuple(secrets))
    except SandboxError as exc:
        return error_measurement(f"condition of metric {metric.name!r}: {exc}", started_at=started_at,
                                 finished_at=finished_at)
    return Measurement(
        phase=phase, value=value, started_at=started_at, finished_at=finished_at, message=message,
        metadata=metadata,
    )


def error_measurement(message: str, *, started_at: datetime, finished_at: datetime) -> Measurement:
    """A measurement that could not be taken (provider down, timeout, bad configuration)."""
    return Measurement(phase=AnalysisPhase.ERROR, message=message, started_at=started_at,
                       finished_at=finished_at)
