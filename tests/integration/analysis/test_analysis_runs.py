"""The AnalysisRun reconciler against the real control plane: real CRDs, status subresource, Secrets, Jobs
(completed by kwok's pod stages) and a real Prometheus."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web

from rollouts.controller.analysis_runs import run_analysis_runs
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISRUN, JOB, SECRET
from tests.integration.analysis.conftest import Prometheus, free_port
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def reconciler(kube: KubeClient, namespace: str, crds: None) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_analysis_runs(kube, SimpleNamespace(namespace=namespace), stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def _create_run(kube: KubeClient, namespace: str, metrics: list[dict[str, Any]], **spec: Any) -> str:
    name = f"run-{uuid.uuid4().hex[:6]}"
    await kube.create(ANALYSISRUN, {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
                                    "metadata": {"name": name, "namespace": namespace},
                                    "spec": {"metrics": metrics, **spec}}, namespace)
    return name


async def _finished(kube: KubeClient, namespace: str, name: str, timeout: float = 60) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        return await kube.get(ANALYSISRUN, name, namespace)

    return await eventually(
        probe, lambda r: (r.get("status") or {}).get("phase") in ("Successful", "Failed", "Error", "Inconclusive"),
        timeout=timeout, interval=0.5, expected=f"AnalysisRun {name} to complete")


def _prom(prometheus: Prometheus, query: str, **fields: Any) -> dict[str, Any]:
    return {"name": "rate", "provider": {"prometheus": {"address": prometheus.address, "query": query}}, **fields}


async def _series(prometheus: Prometheus, value: float) -> str:
    tag = uuid.uuid4().hex[:8]
    prometheus.exporter.set("success_rate", {"test": tag}, value)
    await eventually(lambda: prometheus.query(f"success_rate{{test='{tag}'}}"), lambda r: len(r) > 0, timeout=30,
                     expected="the exporter's sample in Prometheus")
    return f"success_rate{{test='{tag}'}}"


async def test_healthy_metric_succeeds_after_count_measurements(kube: KubeClient, namespace: str, reconciler: None,
                                                                 prometheus: Prometheus) -> None:
    query = await _series(prometheus, 0.99)
    name = await _create_run(kube, namespace, [_prom(prometheus, query, interval="1s", count=2,
                                                     successCondition="result[0] >= 0.95")])
    run = await _finished(kube, namespace, name)
    status = run["status"]
    assert status["phase"] == "Successful", status
    result = status["metricResults"][0]
    assert result["count"] == 2 and result["successful"] == 2
    assert [m["value"] for m in result["measurements"]] == ["[0.99]", "[0.99]"]
    assert status["runSummary"] == {"count": 1, "successful": 1, "failed": 0, "inconclusive": 0, "error": 0}


async def test_failing_metric_fails_the_run_with_argo_message(kube: KubeClient, namespace: str, reconciler: None,
                                                              prometheus: Prometheus) -> None:
    query = await _series(prometheus, 0.5)
    name = await _create_run(kube, namespace, [_prom(prometheus, query, interval="1s", count=3,
                                                     successCondition="result[0] >= 0.95"),
                                               {"name": "forever", "interval": "1s",
                                                "provider": {"prometheus": {"address": prometheus.address,
                                                                            "query": query}}}])
    status = (await _finished(kube, namespace, name))["status"]
    assert status["phase"] == "Failed"
    assert "failed (1) > failureLimit (0)" in status["message"]
    forever = next(r for r in status["metricResults"] if r["name"] == "forever")
    assert forever["phase"] == "Successful" and forever["message"] == "Metric terminated"


async def test_prometheus_down_errors_past_the_limit(kube: KubeClient, namespace: str, reconciler: None) -> None:
    metric = {"name": "down", "interval": "1s", "count": 3, "consecutiveErrorLimit": 1,
              "provider": {"prometheus": {"address": f"http://127.0.0.1:{free_port()}", "query": "up"}}}
    name = await _create_run(kube, namespace, [metric])
    status = (await _finished(kube, namespace, name, timeout=60))["status"]
    assert status["phase"] == "Error"
    assert "consecutiveErrors (2) > consecutiveErrorLimit (1)" in status["message"]
    assert "refused" in status["message"].lower()
    first, second = status["metricResults"][0]["measurements"]
    gap = _seconds(second["startedAt"]) - _seconds(first["finishedAt"])
    assert 9 <= gap <= 13, f"error retry after {gap}s, expected 10s"


def _seconds(stamp: str) -> float:
    from rollouts.api.common import parse_time

    return parse_time(stamp).timestamp()


async def test_syntax_error_in_a_condition_is_reported_on_the_run(kube: KubeClient, namespace: str,
                                                                    reconciler: None) -> None:
    name = await _create_run(kube, namespace, [{"name": "bad", "successCondition": "result[0] >= ",
                                                "provider": {"web": {"url": "http://127.0.0.1:1"}}}])
    status = (await _finished(kube, namespace, name))["status"]
    assert status["phase"] == "Error"
    # expr's message and where, not the condition's text (which may have been built from secret arguments)
    assert "successCondition: unexpected token EOF (line 1, column 13)" in status["message"], status["message"]


@pytest.fixture
async def secret_checking_server() -> AsyncIterator[str]:
    async def check(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer hunter2-secret":
            return web.json_response({"error": "forbidden"}, status=403)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/check", check)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_secret_arguments_are_used_but_never_written(kube: KubeClient, namespace: str, reconciler: None,
                                                           secret_checking_server: str) -> None:
    token = "hunter2-secret"
    await kube.create(SECRET, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api", "namespace": namespace},
                               "data": {"token": base64.b64encode(token.encode()).decode()}}, namespace)
    args = [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}]
    good = await _create_run(kube, namespace, [{"name": "web", "successCondition": "result.ok == true", "provider": {
        "web": {"url": f"{secret_checking_server}/check",
                "headers": [{"key": "Authorization", "value": "Bearer {{args.token}}"}]}}}], args=args)
    leaky = await _create_run(kube, namespace, [{"name": "web", "consecutiveErrorLimit": 0, "provider": {
        "web": {"url": f"{secret_checking_server}/missing?token={{{{args.token}}}}"}}}], args=args)
    assert (await _finished(kube, namespace, good))["status"]["phase"] == "Successful"
    status = (await _finished(kube, namespace, leaky))["status"]
    assert status["phase"] == "Error"
    text = json.dumps(status)
    assert token not in text and "*****" in text


async def test_missing_secret_is_a_run_error(kube: KubeClient, namespace: str, reconciler: None) -> None:
    name = await _create_run(kube, namespace, [{"name": "web", "provider": {"web": {"url": "http://x/{{args.t}}"}}}],
                             args=[{"name": "t", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}])
    status = (await _finished(kube, namespace, name))["status"]
    assert status["phase"] == "Error" and "secret 'nope' not found" in status["message"]


def _job_metric(name: str, **pod_spec: Any) -> dict[str, Any]:
    return {"name": name, "provider": {"job": {"spec": {"backoffLimit": 0, **pod_spec.pop("job", {}), "template": {
        "spec": {"restartPolicy": "Never", "containers": [{"name": "check", "image": "busybox", "command": ["true"]}],
                 **pod_spec}}}}}}


async def test_job_metrics_follow_real_jobs(kube: KubeClient, namespace: str, reconciler: None) -> None:
    ok = await _create_run(kube, namespace, [_job_metric("smoke")])
    failing = await _create_run(kube, namespace, [_job_metric(
        "never-scheduled", nodeSelector={"no-such-node": "true"}, job={"activeDeadlineSeconds": 2})])
    ok_status = (await _finished(kube, namespace, ok, timeout=90))["status"]
    assert ok_status["phase"] == "Successful", ok_status
    job_name = ok_status["metricResults"][0]["measurements"][0]["metadata"]["job-name"]
    job = await kube.get(JOB, job_name, namespace)
    assert job["metadata"]["ownerReferences"][0]["kind"] == "AnalysisRun"
    assert job["metadata"]["labels"]["analysisrun.argoproj.io/metric-name"] == "smoke"
    failed_status = (await _finished(kube, namespace, failing, timeout=90))["status"]
    assert failed_status["phase"] == "Failed", failed_status


async def test_terminate_ends_an_open_ended_run(kube: KubeClient, namespace: str, reconciler: None,
                                                prometheus: Prometheus) -> None:
    query = await _series(prometheus, 1.0)
    name = await _create_run(kube, namespace, [_prom(prometheus, query, interval="1s")])

    async def measured() -> dict[str, Any]:
        return await kube.get(ANALYSISRUN, name, namespace)

    await eventually(measured, lambda r: ((r.get("status") or {}).get("metricResults") or [{}])[0].get("count", 0) >= 2,
                     timeout=30, expected="two measurements of the open-ended metric")
    await kube.patch(ANALYSISRUN, name, {"spec": {"terminate": True}}, namespace)
    status = (await _finished(kube, namespace, name))["status"]
    assert status["phase"] == "Successful" and status["message"] == "Run Terminated"


async def test_judge_metric_fails_a_slow_canary_through_the_crd(kube: KubeClient, namespace: str, reconciler: None,
                                                                 prometheus: Prometheus) -> None:
    from tests.integration.analysis.conftest import noise

    tag = uuid.uuid4().hex[:8]
    prometheus.exporter.set("latency_ms", {"test": tag, "rollouts_pod_template_hash": "aaa"}, noise(100, seed=4))
    prometheus.exporter.set("latency_ms", {"test": tag, "rollouts_pod_template_hash": "bbb"}, noise(160, seed=5))
    judge = {"address": prometheus.address, "controlHash": "{{args.stable-hash}}",
             "canaryHash": "{{args.canary-hash}}", "step": "1s", "lookback": "30s", "mode": "sequential",
             "metrics": [{"name": "latency", "direction": "increase", "critical": True,
                          "query": f"latency_ms{{test='{tag}', rollouts_pod_template_hash='{{{{variant.hash}}}}'}}"}]}
    name = await _create_run(kube, namespace, [{"name": "judge", "interval": "2s", "count": 10, "initialDelay": "6s",
                                                "provider": {"judge": judge}}],
                             args=[{"name": "stable-hash", "value": "aaa"}, {"name": "canary-hash", "value": "bbb"}])
    status = (await _finished(kube, namespace, name, timeout=90))["status"]
    assert status["phase"] == "Failed", status
    last = status["metricResults"][0]["measurements"][-1]
    assert json.loads(last["value"])["metrics"] == {"latency": "High"}
    assert "critical metric(s) failed: latency" in last["message"]
    assert last["metadata"]["latency"].startswith("High; effect x1.")
