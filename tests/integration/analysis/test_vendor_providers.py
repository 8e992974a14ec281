"""The vendor providers inside the real AnalysisRun reconciler: credentials read from a real Secret through
the controller's SecretReader, the run written through the status subresource, and an unreachable backend
ending the run by consecutiveErrorLimit. Request shapes and messages per vendor are unit-tested against local
servers (tests/unit/analysis/test_provider_*.py)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aiohttp import web

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import EVENT, SECRET
from tests.integration.analysis.test_analysis_runs import _create_run, _finished, reconciler  # noqa: F401
from tests.support.metric_vendors import free_port, serve
from tests.support.wait import eventually

pytestmark = pytest.mark.integration
API_KEY, APP_KEY = "it-dd-api-6f1c2b9e", "it-dd-app-93ad47c0"


async def _datadog_secret(kube: KubeClient, namespace: str, address: str) -> None:
    data = {"api-key": API_KEY, "app-key": APP_KEY, "address": address}
    await kube.create(SECRET, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dd", "namespace": namespace},
                               "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}, namespace)


def _datadog(**fields: Any) -> dict[str, Any]:
    return {"name": "dd", "provider": {"datadog": {"apiVersion": "v2", "query": "avg:errors{*}",
                                                   "secretRef": {"name": "dd", "namespaced": True}}}, **fields}


async def test_datadog_run_reads_its_keys_from_a_secret_and_succeeds(kube: KubeClient, namespace: str,
                                                                     reconciler: None) -> None:  # noqa: F811
    async def scalar(request: web.Request) -> web.Response:
        if request.headers.get("DD-API-KEY") != API_KEY or request.headers.get("DD-APPLICATION-KEY") != APP_KEY:
            return web.json_response({"errors": ["Forbidden"]}, status=403)
        return web.json_response({"data": {"type": "scalar_response", "attributes": {"columns": [
            {"name": "query", "type": "number", "values": [0.004]}]}}})

    async with serve({("POST", "/api/v2/query/scalar"): scalar}) as server:
        await _datadog_secret(kube, namespace, server.base)
        name = await _create_run(kube, namespace, [_datadog(successCondition="result < 0.01")])
        run = await _finished(kube, namespace, name)
    status = run["status"]
    assert status["phase"] == "Successful", status
    assert status["metricResults"][0]["measurements"][0]["value"] == "0.004"
    await _event(kube, namespace, name, ("Normal", "MetricSuccessful", "Metric 'dd' Completed. Result: Successful"))
    await _event(kube, namespace, name, ("Normal", "AnalysisRunSuccessful", "Analysis Completed. Result: Successful"))


async def test_unreachable_backend_errors_until_the_consecutive_error_limit(kube: KubeClient, namespace: str,
                                                                           reconciler: None) -> None:  # noqa: F811
    port = free_port()
    await _datadog_secret(kube, namespace, f"http://127.0.0.1:{port}")
    name = await _create_run(kube, namespace, [_datadog(consecutiveErrorLimit=1, successCondition="result < 0.01")])
    run = await _finished(kube, namespace, name, timeout=60)
    status = run["status"]
    assert status["phase"] == "Error", status
    result = status["metricResults"][0]
    assert result["consecutiveError"] == 2 and result["error"] == 2
    message = result["measurements"][-1]["message"]
    assert message == (f'Post "http://127.0.0.1:{port}/api/v2/query/scalar": dial tcp 127.0.0.1:{port}: connect: '
                       "connection refused")
    assert API_KEY not in str(run) and APP_KEY not in str(run)
    await _event(kube, namespace, name, ("Warning", "MetricError", "Metric 'dd' Completed. Result: Error"))
    await _event(kube, namespace, name, ("Warning", "AnalysisRunError", "Analysis Completed. Result: Error"))


async def _event(kube: KubeClient, namespace: str, run: str, expected: tuple[str, str, str]) -> None:
    """Argo's Metric<Phase> and AnalysisRun<Phase> events on the run (analysis/analysis.go), recorded once."""
    async def seen() -> list[tuple[str, str, str]]:
        events, _ = await kube.list(EVENT, namespace)
        return [(e.get("type", ""), e.get("reason", ""), e.get("message", "")) for e in events
                if (e.get("involvedObject") or {}).get("name") == run]

    found = await eventually(seen, lambda got: expected in got, timeout=20, expected=f"event {expected}")
    assert found.count(expected) == 1, found
