"""Provider logic that needs no server: Prometheus result shapes, JSONPath, Job manifests and outcomes,
and the measuring loop's isolation of failing providers. Real endpoints: tests/integration/analysis."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analysis.conditions import float64_vector
from analysis.expr.values import Slice
from analysis.measuring import take_measurements
from analysis.providers import PROVIDERS, MeasurementContext, ProviderDeps
from analysis.providers.job import JobProvider, job_manifest, job_name, job_outcome
from analysis.providers.prometheus import ProviderError, shape_result
from analysis.providers.web import WebError, extract, kubernetes_jsonpath
from analysis.run import Action, DueMeasurement
from rollouts.api.analysis import AnalysisPhase, AnalysisRun, Measurement, Metric

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _vector(*values: str) -> list[dict[str, Any]]:
    return [{"metric": {"pod": str(i)}, "value": [1.0, v]} for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param([1.0, "0.5"], 0.5, id="scalar"),
        pytest.param(_vector("0.97"), float64_vector([0.97]), id="vector-one"),
        pytest.param(_vector("1", "2"), float64_vector([1.0, 2.0]), id="vector-two"),
        pytest.param([], float64_vector([]), id="empty-vector"),
        pytest.param(_vector("+Inf"), float64_vector([math.inf]), id="inf"),
    ],
)
def test_prometheus_shapes(raw: Any, expected: Any) -> None:
    assert shape_result(raw) == expected


def test_prometheus_nan_passes_through() -> None:
    shaped = shape_result(_vector("NaN"))
    assert isinstance(shaped, Slice) and shaped.items is not None and math.isnan(shaped.items[0])


def test_prometheus_matrix_is_every_sample_of_every_series_and_a_string_is_refused() -> None:
    """Argo v1.10.2 processResponse: model.Matrix flattens series by series into one []float64."""
    matrix = [{"metric": {"pod": "a"}, "values": [[1, "1"], [2, "2"]]}, {"metric": {"pod": "b"}, "values": [[1, "3"]]}]
    assert shape_result(matrix) == float64_vector([1.0, 2.0, 3.0])
    with pytest.raises(ProviderError, match="Prometheus metric type not supported"):
        shape_result([1.0, "text", "extra"])


@pytest.mark.parametrize(
    ("range_query", "message"),
    [
        pytest.param({"start": 'now() - duration("??")', "end": "now()", "step": "1m"},
                     'failed to parse rangeQuery.start as time: time: invalid duration "??"', id="bad-start"),
        pytest.param({"start": "now()", "end": 'now() - duration("??")', "step": "1m"},
                     'failed to parse rangeQuery.end as time: time: invalid duration "??"', id="bad-end"),
        pytest.param({"start": "now()", "end": "now()", "step": "??"},
                     'failed to parse rangeQuery.step as duration: time: invalid duration "??"', id="bad-step"),
        pytest.param({"start": "1 + 1", "end": "now()", "step": "1m"},
                     "failed to parse rangeQuery.start as time: expected time.Time, but got int", id="not-a-time"),
    ],
)
def test_range_query_errors_in_argos_words(range_query: dict[str, str], message: str) -> None:
    """Expected messages from Argo v1.10.2 metricproviders/prometheus/prometheus_test.go."""
    from analysis.providers.prometheus import range_window
    from rollouts.api.analysis import PrometheusRangeQuery

    with pytest.raises(ProviderError) as raised:
        range_window(PrometheusRangeQuery.model_validate(range_query))
    assert str(raised.value) == message


def test_range_query_window() -> None:
    from analysis.providers.prometheus import range_window
    from rollouts.api.analysis import PrometheusRangeQuery

    window = range_window(PrometheusRangeQuery(start='now() - duration("1h")', end="now()", step="5m"))
    assert window.step == 300 and (window.end - window.start).total_seconds() == pytest.approx(3600, abs=1)


@pytest.mark.parametrize(
    ("template", "path"),
    [
        pytest.param("{$.data.ok}", "$.data.ok", id="braces-dollar"),
        pytest.param("{.data.ok}", "$.data.ok", id="braces-dot"),
        pytest.param("$.data.ok", "$.data.ok", id="plain"),
    ],
)
def test_kubernetes_jsonpath(template: str, path: str) -> None:
    assert kubernetes_jsonpath(template) == path


def test_jsonpath_extracts_one_or_many_and_reports_no_match() -> None:
    body = {"data": {"ok": True, "items": [{"v": 1}, {"v": 2}]}}
    assert extract(body, "{$.data.ok}") is True
    assert extract(body, "{$.data.items[*].v}") == [1, 2]
    with pytest.raises(WebError, match="matched nothing"):
        extract(body, "{$.data.missing}")


def _context(attempt: int = 1) -> MeasurementContext:
    return MeasurementContext(namespace="ns", run_name="run", run_uid="uid-1", started_at=T0, attempt=attempt)


def _job_metric() -> Metric:
    return Metric.model_validate({"name": "Smoke_Test", "provider": {"job": {
        "metadata": {"labels": {"team": "a"}},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "t", "image": "busybox", "command": ["true"]}]}}}}}})


UID = "00058338-0884-40b1-97ab-8215fc01d286"  # the run of TestCanaryInlineAnalysisLongRunningJobWithDeadline


@pytest.mark.parametrize(("metric", "attempt", "expected"), [
    pytest.param("smoke", 1, f"{UID}.smoke.1", id="short-as-is"),
    # 71 characters: Argo's newJobName cuts the metric name by the 8 too many (metricproviders/job/job.go)
    pytest.param("long-running-job-deadline-metric", 5, f"{UID}.long-running-job-deadlin.5", id="cut-to-63"),
    pytest.param("long-running-job-deadline-metric", 12, f"{UID}.long-running-job-deadli.12", id="two-digit-attempt"),
    pytest.param("a-very-long-metric-name-ending-on-a-dash-after-cut", 1, f"{UID}.a-very-long-metric-name.1",
                 id="no-trailing-dash"),
])
def test_job_names_fit_a_label_value_as_argo(metric: str, attempt: int, expected: str) -> None:
    context = MeasurementContext(namespace="ns", run_name="run", run_uid=UID, started_at=T0, attempt=attempt)
    name = job_name(context, metric)
    assert name == expected and len(name) <= 63


def test_job_manifest_is_named_labelled_and_owned_like_argo() -> None:
    job = job_manifest(_job_metric(), _context(attempt=3))
    assert job["metadata"]["name"] == "uid-1.smoke-test.3"
    assert job["metadata"]["labels"] == {"team": "a", "analysisrun.argoproj.io/uid": "uid-1",
                                         "analysisrun.argoproj.io/metric-name": "Smoke_Test"}
    assert job["metadata"]["ownerReferences"][0]["kind"] == "AnalysisRun"
    assert job["spec"]["backoffLimit"] == 0


@pytest.mark.parametrize(
    ("conditions", "phase"),
    [
        pytest.param([], AnalysisPhase.RUNNING, id="no-conditions"),
        pytest.param([{"type": "Complete", "status": "True"}], AnalysisPhase.SUCCESSFUL, id="complete"),
        pytest.param([{"type": "Failed", "status": "True"}], AnalysisPhase.FAILED, id="failed"),
        pytest.param([{"type": "Failed", "status": "False"}], AnalysisPhase.RUNNING, id="false-condition"),
    ],
)
def test_job_outcome(conditions: list[dict[str, str]], phase: AnalysisPhase) -> None:
    assert job_outcome({"status": {"conditions": conditions}}) is phase


class MemoryJobs:
    """An in-memory JobClient for the provider's unit test (real Jobs: tests/integration/analysis)."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: list[dict[str, Any]] = []

    async def create_job(self, namespace: str, job: dict[str, Any]) -> dict[str, Any]:
        self.jobs[(namespace, job["metadata"]["name"])] = job
        return job

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.jobs.get((namespace, name))

    async def delete_job(self, namespace: str, name: str) -> None:
        self.jobs.pop((namespace, name), None)

    async def job_pods(self, namespace: str, job: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.pods)


async def test_job_provider_runs_resumes_and_terminates() -> None:
    jobs = MemoryJobs()
    now = [T0]
    provider = JobProvider(ProviderDeps(clock=lambda: now[0], job_client=jobs))
    metric, context = _job_metric(), _context()
    running = await provider.measure(metric, context)
    assert running.phase is AnalysisPhase.RUNNING and running.resume_at == T0 + timedelta(seconds=5)
    assert running.metadata == {"job-name": "uid-1.smoke-test.1", "job-namespace": "ns"}
    assert await provider.measure(metric, context) == running  # idempotent: found, not created twice
    jobs.jobs[("ns", "uid-1.smoke-test.1")]["status"] = {"conditions": [{"type": "Failed", "status": "True"}]}
    now[0] = T0 + timedelta(seconds=5)
    done = await provider.resume(metric, running, context)
    assert done.phase is AnalysisPhase.FAILED and done.finished_at == now[0]
    stopped = await provider.terminate(metric, running, context)
    # Argo's JobProvider.Terminate: the Job is deleted, the measurement Inconclusive
    assert stopped.phase is AnalysisPhase.INCONCLUSIVE and not jobs.jobs


@pytest.mark.parametrize(("reason", "phase"), [
    ("ImagePullBackOff", AnalysisPhase.INCONCLUSIVE),
    ("ErrImagePull", AnalysisPhase.INCONCLUSIVE),
    ("InvalidImageName", AnalysisPhase.INCONCLUSIVE),
    ("ContainerCreating", AnalysisPhase.RUNNING),
])
async def test_a_job_that_cannot_pull_its_image_is_inconclusive(reason: str, phase: AnalysisPhase) -> None:
    """Argo's processJobPods (metricproviders/job/job.go): TestCanaryBackgroundAnalysisInvalidImageJob."""
    jobs = MemoryJobs()
    jobs.pods = [{"metadata": {"name": "j-x"}, "status": {"containerStatuses": [
        {"name": "c", "state": {"waiting": {"reason": reason, "message": "Back-off pulling image"}}}]}}]
    provider = JobProvider(ProviderDeps(clock=lambda: T0, job_client=jobs))
    metric, context = _job_metric(), _context()
    running = await provider.measure(metric, context)
    resumed = await provider.resume(metric, running, context)
    assert resumed.phase is phase
    if phase is AnalysisPhase.INCONCLUSIVE:
        assert resumed.message == f"Pod j-x, container c has terminal error ({reason}): Back-off pulling image"


class Exploding:
    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        raise RuntimeError("boom")

    async def resume(self, metric: Metric, measurement: Measurement, context: MeasurementContext) -> Measurement:
        raise RuntimeError("boom")

    async def terminate(self, metric: Metric, measurement: Measurement, context: MeasurementContext
                        ) -> Measurement:
        raise RuntimeError("boom")


async def test_a_failing_provider_gives_an_error_measurement_and_others_still_run() -> None:
    good = Metric.model_validate({"name": "good", "provider": {"job": {"spec": {}}}})
    bad = Metric.model_validate({"name": "bad", "provider": {"web": {"url": "http://x"}}})
    run = AnalysisRun.model_validate({"metadata": {"name": "r", "namespace": "ns", "uid": "u"}, "spec": {}})
    providers = {"web": Exploding(), "job": JobProvider(ProviderDeps(clock=lambda: T0, job_client=MemoryJobs()))}
    taken = await take_measurements(run, [DueMeasurement(good, Action.MEASURE), DueMeasurement(bad, Action.MEASURE)],
                                    providers, clock=lambda: T0)
    assert taken["good"].phase is AnalysisPhase.RUNNING
    assert taken["bad"].phase is AnalysisPhase.ERROR and "RuntimeError: boom" in (taken["bad"].message or "")


def test_registry_has_every_documented_provider() -> None:
    assert set(PROVIDERS) == {"prometheus", "web", "job", "judge", "datadog", "graphite", "newRelic",
                              "wavefront", "influxdb", "skywalking", "kayenta", "cloudWatch", "plugin"}


def test_missing_error_series_with_requests_means_zero_errors() -> None:
    from analysis.providers.judge import missing_events_as_zero

    assert missing_events_as_zero([None, 3.0, None], [100.0, 100.0, None]) == [0.0, 3.0, None]


def test_demo_template_is_valid() -> None:
    import yaml

    from analysis.run import validate_metrics
    from analysis.templating import resolve_metric
    from rollouts.api.analysis import AnalysisTemplate

    path = Path(__file__).resolve().parents[3] / "examples" / "demo" / "app" / "analysis-template.yaml"
    template = AnalysisTemplate.model_validate(yaml.safe_load(path.read_text()))
    metrics = [resolve_metric(m, {"stable-hash": "a", "canary-hash": "b"}) for m in template.spec.metrics]
    assert validate_metrics(metrics, PROVIDERS) is None


def test_the_registry_and_the_api_schema_name_the_same_providers() -> None:
    """One list of runnable providers (PROVIDERS); the CRD schema has a typed field for each of them, and a
    metric's provider key is read from that schema, so a provider added to one and not the other fails here."""
    from rollouts.api.analysis import MetricProvider

    schema = {str(field.alias or name) for name, field in MetricProvider.model_fields.items()}
    assert set(PROVIDERS) == schema


def test_lint_and_the_reconciler_reject_an_unknown_provider_from_the_registry() -> None:
    from analysis.run import validate_metrics
    from rollouts.api.analysis import Metric
    from rollouts.cli.lint import template_problems

    metric = {"name": "m", "provider": {"appdynamics": {"query": "q"}}}
    expected = f"metric 'm': provider 'appdynamics' is not supported (known: {sorted(PROVIDERS)})"
    assert validate_metrics([Metric.model_validate(metric)], PROVIDERS) == expected
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "t"},
           "spec": {"metrics": [metric]}}
    assert template_problems(doc) == [("spec.metrics[0]", expected)]


def test_judged_series_keeps_the_last_intervals_of_each_arm() -> None:
    from datetime import UTC, datetime

    from analysis.judges import MetricInput
    from analysis.providers.judge import judged_series

    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    latency = MetricInput("latency", [100.0, 101.0, 99.5], [float("nan"), 150.23456789, None])
    errors = MetricInput("errors", [0.0, 1.0, 0.0], [3.0, 4.0, 5.0], [100.0, 100.0, 100.0], [98.0, 99.0, 97.0])
    assert judged_series([latency, errors], start=start, step=30.0, limit=2) == {
        "latency": {"start": "2026-01-01T12:00:30+00:00", "step": 30.0, "control": [101.0, 99.5],
                    "canary": [150.235, None]},
        "errors": {"start": "2026-01-01T12:00:30+00:00", "step": 30.0, "control": [1.0, 0.0], "canary": [4.0, 5.0],
                   "controlTotal": [100.0, 100.0], "canaryTotal": [99.0, 97.0]},
    }
    assert judged_series([latency], start=start, step=30.0)["latency"]["start"] == "2026-01-01T12:00:00+00:00"
