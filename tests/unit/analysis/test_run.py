"""AnalysisRun rules: measurement verdicts, limits, scheduling with an injected clock, termination, dry-run,
retention, argument substitution and secret redaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.measurement import condition_phase, format_value
from analysis.redaction import redact
from analysis.run import (
    Action,
    due_measurements,
    error_status,
    names_metric,
    next_reconcile_at,
    record_measurements,
    validate_metrics,
)
from analysis.templating import TemplateError, argument_values, resolve_metric
from rollouts.api.analysis import AnalysisPhase, AnalysisRun, AnalysisRunStatus, Measurement, Metric, MetricResult

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = AnalysisPhase.SUCCESSFUL
F = AnalysisPhase.FAILED
I = AnalysisPhase.INCONCLUSIVE  # noqa: E741 - phase initials keep the tables readable
E = AnalysisPhase.ERROR


def metric(name: str = "m", **fields: Any) -> Metric:
    return Metric.model_validate({"name": name, "provider": {"web": {"url": "http://x"}}, **fields})


def run_of(*metrics: Metric, **spec: Any) -> AnalysisRun:
    return AnalysisRun.model_validate(
        {"metadata": {"name": "r"}, "spec": {"metrics": [m.model_dump(by_alias=True) for m in metrics], **spec}})


def step(run: AnalysisRun, phases: dict[str, AnalysisPhase], now: datetime, secrets: Sequence[str] = ()
         ) -> AnalysisRun:
    """Take a measurement with the given phase for every due metric, as the controller would."""
    metrics = run.spec.metrics
    due = due_measurements(run, metrics, now=now)
    taken = {d.metric.name: Measurement(phase=phases.get(d.metric.name, S), started_at=now, finished_at=now,
                                        message=f"value for {d.metric.name}")
             for d in due if d.action is Action.MEASURE}
    status = record_measurements(run, metrics, taken, now=now, secrets=secrets)
    return run.model_copy(update={"status": status})


def drive(run: AnalysisRun, script: dict[str, list[AnalysisPhase]], until: timedelta = timedelta(hours=1)
          ) -> tuple[AnalysisRun, list[tuple[float, str]]]:
    """Advance the clock from due time to due time, feeding scripted phases; returns the log of takes."""
    now, log = T0, []
    cursor = dict.fromkeys(script, 0)
    while now <= T0 + until:
        due = [d.metric.name for d in due_measurements(run, run.spec.metrics, now=now)]
        phases = {}
        for name in due:
            seq = script.get(name, [S])
            phases[name] = seq[min(cursor.get(name, 0), len(seq) - 1)]
            cursor[name] = cursor.get(name, 0) + 1
            log.append(((now - T0).total_seconds(), f"{name}:{phases[name]}"))
        run = step(run, phases, now)
        if run.status is not None and run.status.phase.is_completed():
            break
        nxt = next_reconcile_at(run, run.spec.metrics, now=now)
        if nxt is None:
            break
        now = max(nxt, now + timedelta(microseconds=1))
    return run, log


@pytest.mark.parametrize(
    ("success", "failure", "result", "expected"),
    [
        pytest.param(None, None, 1, S, id="no-conditions-success"),
        pytest.param("result > 1", None, 2, S, id="success-only-holds"),
        pytest.param("result > 1", None, 0, F, id="success-only-fails"),
        pytest.param(None, "result > 1", 2, F, id="failure-only-holds"),
        pytest.param(None, "result > 1", 0, S, id="failure-only-not"),
        pytest.param("result > 1", "result > 0", 2, F, id="both-hold-failure-wins"),
        pytest.param("result > 5", "result < 0", 2, I, id="neither-holds-inconclusive"),
        pytest.param("result > 5", "result < 0", 6, S, id="success-holds"),
        pytest.param("result >", None, 6, E, id="syntax-error-is-error"),
        pytest.param("result > 5", None, "x", E, id="type-error-is-error"),
    ],
)
def test_measurement_phase(success: str | None, failure: str | None, result: object,
                           expected: AnalysisPhase) -> None:
    assert condition_phase(success, failure, result)[0] is expected


@pytest.mark.parametrize(
    ("fields", "script", "phase", "takes", "message"),
    [
        pytest.param({"interval": "1m", "count": 3}, [S, S, S], S, 3, None, id="count-reached"),
        pytest.param({"interval": "1m", "count": 3}, [F], F, 1, "failed (1) > failureLimit (0)",
                     id="default-failure-limit-0"),
        pytest.param({"interval": "1m", "count": 5, "failureLimit": 2}, [F, S, F, F], F, 4,
                     "failed (3) > failureLimit (2)", id="failure-limit-2"),
        pytest.param({"interval": "1m", "count": 3, "failureLimit": 2}, [F, F, S], S, 3, None,
                     id="failures-at-limit-pass"),
        pytest.param({"interval": "1m", "count": 3}, [I], I, 1, "inconclusive (1) > inconclusiveLimit (0)",
                     id="inconclusive-limit"),
        pytest.param({"interval": "1m", "count": 3, "inconclusiveLimit": 1}, [I, S, I], I, 3, None,
                     id="inconclusive-limit-1"),
        pytest.param({"interval": "1m", "count": 10}, [E] * 5, E, 5,
                     "consecutiveErrors (5) > consecutiveErrorLimit (4)", id="default-error-limit-4"),
        pytest.param({"interval": "1m", "count": 10, "consecutiveErrorLimit": 0}, [E], E, 1, None,
                     id="error-limit-0"),
        pytest.param({"interval": "1m", "count": 3}, [E, E, S, E, E, S, S], S, 7, None,
                     id="errors-not-consecutive"),
        pytest.param({"interval": "1m", "count": 2, "failureLimit": -1}, [F, F], S, 2, None,
                     id="negative-limit-disables"),
        pytest.param({}, [S], S, 1, None, id="no-interval-measured-once"),
    ],
)
def test_metric_limits(fields: dict[str, Any], script: list[AnalysisPhase], phase: AnalysisPhase, takes: int,
                       message: str | None) -> None:
    run, log = drive(run_of(metric(**fields)), {"m": script})
    assert run.status is not None
    assert run.status.phase is phase, run.status
    assert len(log) == takes, log
    if message is not None:
        assert message in (run.status.message or "")


def test_schedule_initial_delay_interval_and_error_retry() -> None:
    run, log = drive(run_of(metric(interval="1m", initialDelay="30s", count=4)), {"m": [S, E, S, S, S]})
    assert [t for t, _ in log] == [30.0, 90.0, 100.0, 160.0, 220.0]
    assert run.status is not None and run.status.phase is S


def test_nothing_due_before_initial_delay() -> None:
    run = run_of(metric(interval="1m", initialDelay="30s", count=2))
    run = step(run, {}, T0)
    assert due_measurements(run, run.spec.metrics, now=T0 + timedelta(seconds=29)) == []
    assert next_reconcile_at(run, run.spec.metrics, now=T0) == T0 + timedelta(seconds=30)


def test_first_failing_metric_terminates_the_others() -> None:
    run, _ = drive(run_of(metric("bad", interval="1m", count=5), metric("forever", interval="1m")),
                   {"bad": [S, F]})
    assert run.status is not None
    results = {r.name: r for r in run.status.metric_results}
    assert run.status.phase is F
    assert results["forever"].phase is S and results["forever"].message == "Metric terminated"
    assert run.status.run_summary.failed == 1 and run.status.run_summary.successful == 1


def test_run_phase_is_worst_metric() -> None:
    run, _ = drive(run_of(metric("a", interval="1m", count=2), metric("b", interval="1m", count=2,
                                                                      consecutiveErrorLimit=0)),
                   {"a": [S, S], "b": [S, E]})
    assert run.status is not None and run.status.phase is E


def test_dry_run_metric_never_decides() -> None:
    run, _ = drive(run_of(metric("real", interval="1m", count=2), metric("dry", interval="1m", count=2),
                          dryRun=[{"metricName": "dry"}]),
                   {"dry": [F, F]})
    assert run.status is not None
    assert run.status.phase is S
    assert run.status.dry_run_summary is not None and run.status.dry_run_summary.failed == 1
    assert run.status.run_summary.count == 1


def test_terminate_ends_running_metrics_successfully() -> None:
    run = step(run_of(metric(interval="1m")), {}, T0)
    run = run.model_copy(update={"spec": run.spec.model_copy(update={"terminate": True})})
    run = step(run, {}, T0 + timedelta(seconds=5))
    assert run.status is not None and run.status.phase is S
    assert run.status.message == "Run Terminated"


def test_running_measurement_is_resumed_at_resume_at_then_terminated() -> None:
    run = run_of(metric("job", interval="1m"), metric("other", interval="1m", count=1))
    running = Measurement(phase=AnalysisPhase.RUNNING, started_at=T0, resume_at=T0 + timedelta(seconds=20))
    status = record_measurements(run, run.spec.metrics, {"job": running}, now=T0)
    run = run.model_copy(update={"status": status})
    assert [d.metric.name for d in due_measurements(run, run.spec.metrics, now=T0 + timedelta(seconds=10))
            if d.metric.name == "job"] == []
    later = due_measurements(run, run.spec.metrics, now=T0 + timedelta(seconds=20))
    assert [(d.metric.name, d.action) for d in later] == [("job", Action.RESUME), ("other", Action.MEASURE)]
    failed = record_measurements(run, run.spec.metrics,
                                 {"other": Measurement(phase=F, started_at=T0, finished_at=T0)}, now=T0)
    run = run.model_copy(update={"status": failed})
    assert [(d.metric.name, d.action) for d in due_measurements(run, run.spec.metrics, now=T0)] == [
        ("job", Action.TERMINATE)]


def test_measurement_retention_keeps_last_n_but_counts_all() -> None:
    run, _ = drive(run_of(metric("a", interval="1m", count=15), metric("b", interval="1m", count=15),
                          measurementRetention=[{"metricName": "b", "limit": 3}]), {})
    assert run.status is not None
    results = {r.name: r for r in run.status.metric_results}
    assert len(results["a"].measurements) == 10 and results["a"].count == 15
    assert len(results["b"].measurements) == 3 and results["b"].count == 15


def test_completed_run_is_left_alone() -> None:
    run, _ = drive(run_of(metric()), {})
    assert due_measurements(run, run.spec.metrics, now=T0 + timedelta(days=1)) == []
    assert next_reconcile_at(run, run.spec.metrics, now=T0) is None


def test_args_substitute_into_any_field_and_secrets_are_redacted() -> None:
    template = metric(count="{{args.count}}", interval="{{ args.every }}", successCondition="result < {{args.max}}",
                      provider={"web": {"url": "http://svc/{{args.svc}}?token={{args.token}}",
                                        "headers": [{"key": "Authorization", "value": "Bearer {{args.token}}"}]}})
    run = run_of(template, args=[{"name": "count", "value": "3"}, {"name": "every", "value": "30s"},
                                 {"name": "max", "value": "5"}, {"name": "svc", "value": "web"},
                                 {"name": "token", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}])
    values = argument_values(run.spec.args, {"token": "s3cr3t"})
    resolved = resolve_metric(run.spec.metrics[0], values)
    assert resolved.count == 3 and resolved.interval == "30s" and resolved.success_condition == "result < 5"
    assert resolved.provider.web is not None and resolved.provider.web.url == "http://svc/web?token=s3cr3t"
    leaky = Measurement(phase=E, started_at=T0, finished_at=T0, message=f"GET {resolved.provider.web.url} failed",
                        value="s3cr3t")
    status = record_measurements(run, [resolved], {"m": leaky}, now=T0, secrets=["s3cr3t"])
    dumped = str(status.model_dump(mode="json"))
    assert "s3cr3t" not in dumped and "*****" in dumped


@pytest.mark.parametrize(
    ("fields", "args", "error"),
    [
        pytest.param({"successCondition": "result > {{args.x}}"}, {}, "argument 'x'", id="missing-arg"),
        pytest.param({"count": "{{args.n}}"}, {"n": "three"}, "not an integer", id="count-not-int"),
    ],
)
def test_template_errors(fields: dict[str, Any], args: dict[str, str], error: str) -> None:
    with pytest.raises(TemplateError, match=error):
        resolve_metric(metric(**fields), args)


@pytest.mark.parametrize(
    ("metrics", "error"),
    [
        pytest.param([metric(successCondition="result >")], "unexpected token EOF (line 1, column 8)", id="bad-condition"),
        pytest.param([metric(interval="5 minutes")], "invalid duration", id="bad-interval"),
        pytest.param([metric(count=3)], "interval must be set", id="count-without-interval"),
        pytest.param([metric(), metric()], "used twice", id="duplicate-name"),
        pytest.param([], "no metrics", id="no-metrics"),
        pytest.param([Metric.model_validate({"name": "d", "provider": {"appdynamics": {}}})], "not supported",
                     id="unknown-provider"),
        pytest.param([Metric.model_validate({"name": "d", "provider": {}})], "exactly one provider",
                     id="no-provider"),
    ],
)
def test_validate_metrics(metrics: list[Metric], error: str) -> None:
    message = validate_metrics(metrics, ["web", "prometheus", "job"])
    assert message is not None and error in message


def test_error_status_redacts() -> None:
    status = error_status(run_of(metric()), "secret hunter2 not found", now=T0, secrets=["hunter2"])
    assert status.phase is E and status.message == "secret ***** not found"


def test_format_value() -> None:
    assert format_value([0.5, 1.0, float("nan")]) == "[0.5,1,NaN]"
    assert format_value({"ok": True}) == '{"ok":true}'
    assert redact("a-b-ab", ["a", "ab"]) == "*****-b-*****"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from([S, F, I, E]), min_size=1, max_size=6), min_size=1, max_size=3),
       st.integers(0, 2))
def test_run_phase_is_worst_of_decisive_metrics(scripts: list[list[AnalysisPhase]], limit: int) -> None:
    metrics = [metric(f"m{i}", interval="1m", count=len(s), failureLimit=limit, inconclusiveLimit=limit,
                      consecutiveErrorLimit=limit) for i, s in enumerate(scripts)]
    run, log = drive(run_of(*metrics), {f"m{i}": s for i, s in enumerate(scripts)}, until=timedelta(hours=2))
    assert run.status is not None and run.status.phase.is_completed()
    order = [S, I, E, F]
    worst = max((r.phase for r in run.status.metric_results), key=order.index)
    assert run.status.phase is worst
    for r in run.status.metric_results:
        assert r.count == r.successful + r.failed + r.inconclusive
    # once a metric ends badly, nothing else is measured afterwards
    if run.status.phase is not S:
        end = max(t for t, _ in log)
        assert all(t <= end for t, _ in log)


def _status(**phases: AnalysisPhase) -> AnalysisRunStatus:
    return AnalysisRunStatus(phase=AnalysisPhase.RUNNING,
                             metric_results=[MetricResult(name=n, phase=p) for n, p in phases.items()])


@pytest.mark.parametrize(
    ("before", "after", "events"),
    [
        pytest.param(None, _status(a=AnalysisPhase.RUNNING), [], id="first-measurement"),
        pytest.param(_status(a=AnalysisPhase.RUNNING), _status(a=AnalysisPhase.SUCCESSFUL),
                     [("Normal", "MetricSuccessful", "Metric 'a' Completed. Result: Successful")], id="successful"),
        pytest.param(_status(a=AnalysisPhase.RUNNING, b=AnalysisPhase.RUNNING),
                     _status(a=AnalysisPhase.FAILED, b=AnalysisPhase.ERROR),
                     [("Warning", "MetricFailed", "Metric 'a' Completed. Result: Failed"),
                      ("Warning", "MetricError", "Metric 'b' Completed. Result: Error")], id="failed-and-error"),
        pytest.param(_status(a=AnalysisPhase.RUNNING), _status(a=AnalysisPhase.INCONCLUSIVE),
                     [("Normal", "MetricInconclusive", "Metric 'a' Completed. Result: Inconclusive")],
                     id="inconclusive-is-normal"),
        pytest.param(_status(a=AnalysisPhase.FAILED), _status(a=AnalysisPhase.FAILED), [], id="no-repeat"),
    ],
)
def test_completed_metrics_are_argos_metric_events(before: AnalysisRunStatus | None, after: AnalysisRunStatus,
                                                    events: list[tuple[str, str, str]]) -> None:
    """Argo v1.10.2 analysis/analysis.go: Eventf(run, {Metric + phase}, "Metric '%s' Completed. Result: %s")."""
    from analysis.run import completed_metrics

    assert [(c.event_type, c.reason, c.message) for c in completed_metrics(before, after)] == events


@pytest.mark.parametrize(("pattern", "name", "selected"), [
    ("test-1", "test-1", True), ("*", "anything", True), ("test.*", "test-1", True),
    ("est", "test-1", True),  # unanchored, as Go's regexp.MatchString
    ("^other$", "test-1", False), ("(", "test-1", False),
], ids=["exact", "star", "regex", "unanchored", "no match", "bad regex"])
def test_dry_run_and_retention_names_are_argos_regular_expressions(pattern: str, name: str, selected: bool) -> None:
    """Argo's GetDryRunMetrics / GetMeasurementRetentionMetrics (utils/analysis/helpers.go) match metricName as a
    regular expression; Argo's e2e experiment-dry-run-analysis.yaml names its metric test-1 by `test.*`."""
    assert names_metric(pattern, name) is selected


def test_results_keep_the_resolved_query_as_argos_get_metadata() -> None:
    """Argo v1.10.2: metricResult.Metadata = provider.GetMetadata(metric) (prometheus, newrelic)."""
    from analysis.run import record_measurements

    prom = Metric.model_validate({"name": "p", "provider": {"prometheus": {"address": "http://p", "query": "up{t='s3cr3tvalue'}"}}})
    nr = Metric.model_validate({"name": "n", "provider": {"newRelic": {"query": "SELECT count(*) FROM T"}}})
    web = metric("w")
    run = AnalysisRun.model_validate({"metadata": {"name": "r", "namespace": "ns"},
                                      "spec": {"metrics": [m.model_dump(by_alias=True) for m in (prom, nr, web)]}})
    taken = {m.name: Measurement(phase=S, started_at=T0, finished_at=T0) for m in (prom, nr, web)}
    status = record_measurements(run, [prom, nr, web], taken, now=T0, secrets=["s3cr3tvalue"])
    assert [r.metadata for r in status.metric_results] == [
        {"ResolvedPrometheusQuery": "up{t='*****'}"}, {"ResolvedNewRelicQuery": "SELECT count(*) FROM T"}, None]
