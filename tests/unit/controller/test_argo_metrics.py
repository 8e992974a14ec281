"""Argo's metric names, labels and phase calculation, and the JSON log format, without a cluster."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import generate_latest

from rollouts.controller.metrics import AnalysisRunMetrics, ControllerMetrics
from rollouts.controller.state_metrics import argo_phase, metric_type, strategy_and_router
from rollouts.kube.client import request_labels
from rollouts.kube.workqueue import WorkQueue


def _rollout(reason: str | None = None, invalid: bool = False, **strategy: Any) -> dict[str, Any]:
    conditions = [{"type": "Progressing", "status": "True", "reason": reason}] if reason else []
    if invalid:
        conditions.append({"type": "InvalidSpec", "status": "True", "reason": "InvalidSpec"})
    return {"kind": "Rollout", "metadata": {"namespace": "shop", "name": "web"},
            "spec": {"replicas": 4, "strategy": strategy or {"canary": {}}},
            "status": {"conditions": conditions, "replicas": 5, "availableReplicas": 3, "updatedReplicas": 2,
                       "phase": "Progressing"}}


@pytest.mark.parametrize("reason,invalid,phase", [
    (None, False, "Progressing"), ("ReplicaSetUpdated", False, "Progressing"),
    ("NewReplicaSetAvailable", False, "Completed"), ("RolloutPaused", False, "Paused"),
    ("ReplicaSetCreateError", False, "Error"), ("ProgressDeadlineExceeded", False, "Timeout"),
    ("RolloutAborted", False, "Abort"), ("NewReplicaSetAvailable", True, "InvalidSpec"),
])
def test_argo_phase_is_calculated_from_conditions_as_argo_does(reason: str | None, invalid: bool,
                                                               phase: str) -> None:
    assert argo_phase(_rollout(reason, invalid)) == phase


def test_strategy_and_traffic_router_labels() -> None:
    assert strategy_and_router(_rollout(blueGreen={})) == ("blueGreen", "")
    assert strategy_and_router(_rollout(canary={"trafficRouting": {"nginx": {}}})) == ("canary", "Nginx")
    assert strategy_and_router(_rollout(canary={"trafficRouting": {"plugins": {}}})) == ("canary", "")
    assert strategy_and_router({"spec": {"strategy": {}}}) == ("none", "")
    assert metric_type({"provider": {"prometheus": {}}}) == "Prometheus"
    assert metric_type({"provider": {"plugin": {"argoproj-labs/sample": {}}}}) == "argoproj-labs/sample"


def _exposition(caches: Any = None, client: Any = None) -> str:
    metrics = ControllerMetrics(caches, client)
    metrics.reconcile_errors.inc("shop", "web")
    metrics.count_event(_rollout(), "Warning", "RolloutAborted")
    metrics.count_event({"kind": "AnalysisRun", "metadata": {"name": "x"}}, "Warning", "AnalysisRunFailed")
    return generate_latest(metrics.registry).decode()


def test_exposition_uses_argos_names_and_labels() -> None:
    store = SimpleNamespace(items=lambda: [_rollout("RolloutAborted")])
    runs = SimpleNamespace(items=lambda: [{"metadata": {"namespace": "shop", "name": "web-1"},
                                           "spec": {"metrics": [{"name": "rate", "provider": {"web": {}}}],
                                                    "dryRun": [{"metricName": "rate"}]},
                                           "status": {"phase": "Failed",
                                                      "metricResults": [{"name": "rate", "phase": "Failed"}]}}])
    empty = SimpleNamespace(items=lambda: [])
    experiments = SimpleNamespace(items=lambda: [{"metadata": {"namespace": "shop", "name": "exp"},
                                                  "status": {"phase": "Running"}}])
    caches = SimpleNamespace(rollouts=store, analysis_runs=runs, analysis_templates=empty,
                             cluster_analysis_templates=empty, experiments=experiments)
    client = SimpleNamespace(calls={("rollouts", "shop", "web", "Get", "200"): 3})
    text = _exposition(caches, client)
    lines = set(text.splitlines())
    assert 'rollout_info{name="web",namespace="shop",phase="Abort",strategy="canary",traffic_router=""} 1.0' in lines
    assert 'rollout_info_replicas_unavailable{name="web",namespace="shop"} 2.0' in lines
    assert 'rollout_info_replicas_desired{name="web",namespace="shop"} 4.0' in lines
    assert 'rollout_phase{name="web",namespace="shop",phase="Abort",strategy="canary"} 1.0' in lines
    assert 'rollout_phase{name="web",namespace="shop",phase="Completed",strategy="canary"} 0.0' in lines
    assert 'rollout_reconcile_error{name="web",namespace="shop"} 1.0' in lines
    assert "rollout_reconcile_error_total" not in text
    assert ('rollout_events_total{name="web",namespace="shop",reason="RolloutAborted",type="Warning"} 1.0'
            in lines)
    assert "AnalysisRunFailed" not in text, "Argo counts only events on Rollouts"
    assert 'analysis_run_info{name="web-1",namespace="shop",phase="Failed"} 1.0' in lines
    assert 'experiment_info{name="exp",namespace="shop",phase="Running"} 1.0' in lines
    assert ('analysis_run_metric_phase{dry_run="true",metric="rate",name="web-1",namespace="shop",phase="Failed",'
            'type="Web"} 1.0') in lines
    assert ('controller_clientset_k8s_request_total{kind="rollouts",name="web",namespace="shop",status_code="200",'
            'verb="Get"} 3.0') in lines
    assert any(line.startswith("argo_rollouts_controller_info{version=") for line in lines)
    assert any(line.startswith("process_start_time_seconds") for line in lines)
    assert any(line.startswith("rollout_reconcile_bucket{") for line in text.splitlines()) is False  # no samples yet


def test_workqueue_metrics_as_client_go_names_them() -> None:
    queue: WorkQueue[str] = WorkQueue(name="UnitTestQueue")
    queue.add("a")
    queue.retry("b")
    text = generate_latest(ControllerMetrics().registry).decode()
    assert 'workqueue_adds_total{name="UnitTestQueue"} 1.0' in text
    assert 'workqueue_retries_total{name="UnitTestQueue"} 1.0' in text
    assert 'workqueue_depth{name="UnitTestQueue"} 1.0' in text
    assert 'workqueue_longest_running_processor_seconds{name="UnitTestQueue"}' in text


def test_analysis_run_reconcile_metrics() -> None:
    m = AnalysisRunMetrics()
    m.reconcile_seconds.labels("shop", "run").observe(0.2)
    m.reconcile_errors.inc("shop", "run")
    names = {s.name for family in m.collect() for s in family.samples}
    assert {"analysis_run_reconcile_bucket", "analysis_run_reconcile_count", "analysis_run_error"} - names == {
        "analysis_run_error"}
    assert "analysis_run_reconcile_error" in names


@pytest.mark.parametrize("method,path,labels", [
    ("GET", "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web", ("rollouts", "shop", "web", "Get", "200")),
    ("GET", "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts", ("rollouts", "shop", "N/A", "List", "200")),
    ("PUT", "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web/status",
     ("rollouts", "shop", "web", "Update", "200")),
    ("POST", "/api/v1/namespaces/shop/events", ("events", "shop", "N/A", "Create", "200")),
    ("PATCH", "/apis/apps/v1/namespaces/shop/replicasets/web-1", ("replicasets", "shop", "N/A", "Patch", "200")),
    ("GET", "/apis/argoproj.io/v1alpha1", ("Unknown", "Unknown", "Unknown", "Unknown", "200")),
])
def test_request_labels(method: str, path: str, labels: tuple[str, ...]) -> None:
    assert request_labels(method, path, 200) == labels


def test_json_logs_have_msg_level_time_and_context() -> None:
    import logging

    import structlog

    from rollouts.controller.logs import configure_logging

    out = io.StringIO()
    with redirect_stderr(out):
        configure_logging(fmt="json", level="info")
        structlog.get_logger("t").warning("reconcile failed", namespace="shop", rollout="web", error="boom")
        logging.getLogger("aiohttp.client").error("connection reset")
    structlog.reset_defaults()
    first, second = (json.loads(line) for line in out.getvalue().splitlines()[:2])
    assert first["msg"] == "reconcile failed" and first["level"] == "warning" and first["time"].endswith("Z")
    assert (first["namespace"], first["rollout"]) == ("shop", "web") and "event" not in first
    assert second["msg"] == "connection reset" and second["level"] == "error"


def test_judge_verdicts_are_exported() -> None:
    from rollouts.controller.state_metrics import judge_families

    run = {"metadata": {"namespace": "shop", "name": "web-1"},
           "spec": {"metrics": [{"name": "judge", "provider": {"judge": {}}}]},
           "status": {"metricResults": [{"name": "judge", "measurements": [{
               "value": '{"score":42.5,"metrics":{"error-rate":"High","latency":"Pass"}}',
               "metadata": {"error-rate": "High; effect x2.000; detected at interval 7; 9 intervals used, 0 dropped",
                            "latency": "Pass; 9 intervals used, 0 dropped"}}]}]}}
    score, verdict, detected = judge_families([run])
    assert [s.value for s in score.samples] == [42.5]
    assert {s.labels["judged_metric"]: s.labels["label"] for s in verdict.samples} == {"error-rate": "High",
                                                                                      "latency": "Pass"}
    assert [(s.labels["judged_metric"], s.value) for s in detected.samples] == [("error-rate", 7.0)]


def test_queues_sharing_a_name_are_one_series() -> None:
    first: WorkQueue[str] = WorkQueue(name="SharedNameQueue")
    second: WorkQueue[str] = WorkQueue(name="SharedNameQueue")
    first.add("a")
    second.add("b")
    second.add("c")
    lines = [line for line in generate_latest(ControllerMetrics().registry).decode().splitlines()
             if line.startswith('workqueue_adds_total{name="SharedNameQueue"}')]
    assert lines == ['workqueue_adds_total{name="SharedNameQueue"} 3.0'], "duplicate series make Prometheus drop a scrape"


@pytest.mark.parametrize(
    ("measurements", "metric_type", "expected"),
    [
        pytest.param([{"value": "not json", "metadata": {"m": "High; detected at interval 3"}}], "judge",
                     ([], [], []), id="value-not-json-skips-the-measurement"),
        pytest.param([{"value": "[1]", "metadata": {"m": "High; detected at interval 3"}}], "judge",
                     ([], [], [3.0]), id="json-not-an-object-keeps-detected-intervals"),
        pytest.param([{"value": '{"score": 10}'}, {"value": '{"score": "x", "metrics": {"m": "Pass"}}'}], "judge",
                     ([], ["Pass"], []), id="only-the-latest-measurement-and-numeric-scores"),
        pytest.param([], "judge", ([], [], []), id="no-measurement-yet"),
        pytest.param([{"value": '{"score": 10}'}], "prometheus", ([], [], []), id="not-a-judge-metric"),
    ],
)
def test_judge_families_edge_cases(measurements: list[dict[str, object]], metric_type: str,
                                   expected: tuple[list[float], list[str], list[float]]) -> None:
    from rollouts.controller.state_metrics import judge_families

    run = {"metadata": {"namespace": "shop", "name": "web-1"},
           "spec": {"metrics": [{"name": "judge", "provider": {metric_type: {}}}]},
           "status": {"metricResults": [{"name": "judge", "measurements": measurements}]}}
    score, verdict, detected = judge_families([run])
    assert ([s.value for s in score.samples], [s.labels["label"] for s in verdict.samples],
            [s.value for s in detected.samples]) == expected
