"""Providers against real endpoints: a real Prometheus (scraping a test exporter) and a local HTTP server."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from analysis.providers import MeasurementContext, ProviderDeps
from analysis.providers.judge import JudgeProvider
from analysis.providers.prometheus import PrometheusProvider
from analysis.providers.web import WebProvider
from rollouts.api.analysis import AnalysisPhase, Metric, PrometheusRangeQuery
from tests.integration.analysis.conftest import Prometheus, free_port, noise
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


def _context(started: datetime | None = None) -> MeasurementContext:
    return MeasurementContext(namespace="ns", run_name="run", run_uid="uid", started_at=started or datetime.now(UTC))


def _prom_metric(address: str, query: str, **fields: Any) -> Metric:
    return Metric.model_validate({"name": "m", "provider": {"prometheus": {"address": address, "query": query,
                                                                          "timeout": 5}}, **fields})


async def _visible(prometheus: Prometheus, query: str) -> None:
    await eventually(lambda: prometheus.query(query), lambda r: len(r) > 0, timeout=30,
                     expected=f"Prometheus to return a sample for {query}")


@pytest.mark.parametrize(
    ("value", "query", "condition", "phase", "shown"),
    [
        pytest.param(0.99, "success_rate{{test='{t}'}}", "result[0] >= 0.95", AnalysisPhase.SUCCESSFUL, "[0.99]",
                     id="vector-success"),
        pytest.param(0.80, "success_rate{{test='{t}'}}", "result[0] >= 0.95", AnalysisPhase.FAILED, "[0.8]",
                     id="vector-failure"),
        pytest.param(0.005, "scalar(success_rate{{test='{t}'}})", "result < 0.01 && result >= 0",
                     AnalysisPhase.SUCCESSFUL, "0.005", id="scalar"),
        pytest.param(0.5, "success_rate{{test='{t}', missing='x'}}", "len(result) == 0", AnalysisPhase.SUCCESSFUL,
                     "[]", id="empty-vector"),
        pytest.param(math.nan, "success_rate{{test='{t}'}}", "isNaN(result[0])", AnalysisPhase.SUCCESSFUL, "[NaN]",
                     id="nan-passes-through"),
    ],
)
async def test_prometheus_results_shaped_like_argo(prometheus: Prometheus, value: float, query: str, condition: str,
                                                   phase: AnalysisPhase, shown: str) -> None:
    tag = uuid.uuid4().hex[:8]
    prometheus.exporter.set("success_rate", {"test": tag}, value)
    await _visible(prometheus, f"success_rate{{test='{tag}'}}")
    provider = PrometheusProvider(ProviderDeps())
    measurement = await provider.measure(_prom_metric(prometheus.address, query.format(t=tag),
                                                      successCondition=condition), _context())
    assert measurement.phase is phase, measurement
    assert measurement.value == shown


async def test_prometheus_down_is_an_error_measurement() -> None:
    provider = PrometheusProvider(ProviderDeps())
    measurement = await provider.measure(_prom_metric(f"http://127.0.0.1:{free_port()}", "up"), _context())
    assert measurement.phase is AnalysisPhase.ERROR
    assert "Connection refused" in (measurement.message or "") or "connect" in (measurement.message or "").lower()


async def test_judge_provider_fails_a_slow_canary_and_passes_an_equal_one(prometheus: Prometheus) -> None:
    tag = uuid.uuid4().hex[:8]
    exporter = prometheus.exporter
    exporter.set("latency_ms", {"test": tag, "rollouts_pod_template_hash": "stable1"}, noise(100, seed=1))
    exporter.set("latency_ms", {"test": tag, "rollouts_pod_template_hash": "same2"}, noise(100, seed=2))
    exporter.set("latency_ms", {"test": tag, "rollouts_pod_template_hash": "slow3"}, noise(150, seed=3))
    started = datetime.now(UTC)
    query = f"latency_ms{{test='{tag}', rollouts_pod_template_hash='{{{{variant.hash}}}}'}}"

    def metric(canary: str) -> Metric:
        return Metric.model_validate({"name": "judge", "provider": {"judge": {
            "address": prometheus.address, "controlHash": "stable1", "canaryHash": canary, "step": "1s",
            "mode": "sequential", "metrics": [{"name": "latency", "query": query, "direction": "increase"}]}}})

    provider = JudgeProvider(ProviderDeps())

    async def slow() -> Any:
        return await provider.measure(metric("slow3"), _context(started))

    failed = await eventually(slow, lambda m: m.phase is AnalysisPhase.FAILED, timeout=60, interval=1,
                              expected="the judge to fail a canary 50% slower")
    assert '"latency":"High"' in (failed.value or "")
    same = await provider.measure(metric("same2"), _context(started))
    assert same.phase is AnalysisPhase.SUCCESSFUL, same
    assert '"latency":"Pass"' in (same.value or "")


@pytest.fixture
async def web_server() -> AsyncIterator[str]:
    async def ok(request: web.Request) -> web.Response:
        assert request.headers.get("Authorization") == "Bearer t0ken"
        return web.json_response({"data": {"ok": True, "ratio": 0.97}})

    async def broken(_: web.Request) -> web.Response:
        return web.json_response({"error": "down"}, status=500)

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"got": await request.json()})

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    app.router.add_get("/slow", slow)
    app.router.add_post("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("web_spec", "condition", "phase", "message"),
    [
        pytest.param({"url": "/ok", "jsonPath": "{$.data.ratio}"}, "result >= 0.95", AnalysisPhase.SUCCESSFUL, None,
                     id="jsonpath-number"),
        pytest.param({"url": "/ok", "jsonPath": "{$.data.ok}"}, "result == true", AnalysisPhase.SUCCESSFUL, None,
                     id="jsonpath-bool"),
        pytest.param({"url": "/ok"}, "result.data.ratio < 0.9", AnalysisPhase.FAILED, None, id="whole-body"),
        pytest.param({"url": "/broken"}, None, AnalysisPhase.ERROR, "non-2xx response code 500", id="http-500"),
        pytest.param({"url": "/slow", "timeoutSeconds": 1}, None, AnalysisPhase.ERROR, "timed out after 1s",
                     id="timeout"),
        pytest.param({"url": "/ok", "jsonPath": "{$.nope}"}, None, AnalysisPhase.ERROR, "matched nothing",
                     id="no-match"),
        pytest.param({"url": "/echo", "method": "POST", "jsonBody": {"q": 1}, "jsonPath": "{$.got.q}"},
                     "result == 1", AnalysisPhase.SUCCESSFUL, None, id="post-json-body"),
    ],
)
async def test_web_provider(web_server: str, web_spec: dict[str, Any], condition: str | None, phase: AnalysisPhase,
                            message: str | None) -> None:
    spec = {**web_spec, "url": web_server + web_spec["url"],
            "headers": [{"key": "Authorization", "value": "Bearer t0ken"}]}
    metric = Metric.model_validate({"name": "w", "successCondition": condition, "provider": {"web": spec}})
    measurement = await WebProvider(ProviderDeps()).measure(metric, _context())
    assert measurement.phase is phase, measurement
    if message:
        assert message in (measurement.message or "")
    assert measurement.finished_at is not None and measurement.finished_at - measurement.started_at < timedelta(
        seconds=4)


@pytest.fixture
async def guarded_prometheus_api() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A local server speaking Prometheus' query API that requires an oauth2 client-credentials token."""
    seen: list[dict[str, str]] = []

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials" or form.get("client_secret") != "s3cret":
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": "tok-123", "token_type": "bearer"})

    async def query(request: web.Request) -> web.Response:
        seen.append({"authorization": request.headers.get("Authorization", ""),
                     "tenant": request.headers.get("X-Scope-OrgID", ""), "query": request.query.get("query", "")})
        if request.headers.get("Authorization") != "Bearer tok-123":
            return web.json_response({"status": "error", "error": "unauthorized"}, status=401)
        return web.json_response({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "0.42"]}})

    app = web.Application()
    app.router.add_post("/token", token)
    app.router.add_get("/api/v1/query", query)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_prometheus_sends_headers_and_oauth2_token(
        guarded_prometheus_api: tuple[str, list[dict[str, str]]]) -> None:
    address, seen = guarded_prometheus_api

    def metric(client_secret: str) -> Metric:
        return Metric.model_validate({"name": "m", "successCondition": "result < 0.5", "provider": {"prometheus": {
            "address": address, "query": "sum(up)", "timeout": 5,
            "headers": [{"key": "X-Scope-OrgID", "value": "team-a"}],
            "authentication": {"oauth2": {"tokenUrl": f"{address}/token", "clientId": "rollouts",
                                          "clientSecret": client_secret, "scopes": ["read"]}}}}})

    provider = PrometheusProvider(ProviderDeps())
    measurement = await provider.measure(metric("s3cret"), _context())
    assert measurement.phase is AnalysisPhase.SUCCESSFUL, measurement
    assert measurement.value == "0.42"
    assert seen == [{"authorization": "Bearer tok-123", "tenant": "team-a", "query": "sum(up)"}]
    failed = await provider.measure(metric("wrong"), _context())
    assert failed.phase is AnalysisPhase.ERROR
    assert failed.message == 'oauth2: "invalid_client"'


async def test_judge_provider_judges_error_counts_when_the_stable_never_failed(prometheus: Prometheus) -> None:
    import time

    tag = uuid.uuid4().hex[:8]
    exporter = prometheus.exporter
    origin = time.time()
    for pod_hash in ("stable9", "canary9"):
        exporter.set("requests_total", {"test": tag, "rollouts_pod_template_hash": pod_hash},
                     lambda: float(int(100 * (time.time() - origin))))
    # Only the canary ever fails (5% of its requests): the stable has no error series at all.
    exporter.set("errors_total", {"test": tag, "rollouts_pod_template_hash": "canary9"},
                 lambda: float(int(5 * (time.time() - origin))))
    started = datetime.now(UTC)
    selector = f"test='{tag}', rollouts_pod_template_hash='{{{{variant.hash}}}}'"
    metric = Metric.model_validate({"name": "judge", "provider": {"judge": {
        "address": prometheus.address, "controlHash": "stable9", "canaryHash": "canary9", "step": "1s",
        "mode": "sequential", "metrics": [{
            "name": "errors", "critical": True, "query": f"sum(increase(errors_total{{{selector}}}[2s]))",
            "totalQuery": f"sum(increase(requests_total{{{selector}}}[2s]))"}]}}})
    provider = JudgeProvider(ProviderDeps())

    async def judged() -> Any:
        return await provider.measure(metric, _context(started))

    failed = await eventually(judged, lambda m: m.phase is AnalysisPhase.FAILED, timeout=60, interval=1,
                              expected="the judge to fail a canary whose requests fail while the stable's do not")
    assert '"errors":"High"' in (failed.value or "")


async def test_prometheus_range_query_judges_every_sample(prometheus: Prometheus) -> None:
    """Argo's rangeQuery (start/end as expr times, step): the matrix is flattened into one []float64."""
    tag = uuid.uuid4().hex[:8]
    prometheus.exporter.set("range_ratio", {"test": tag}, 0.97)
    query = f"range_ratio{{test='{tag}'}}"
    await _visible(prometheus, query)
    metric = _prom_metric(prometheus.address, query, successCondition="len(result) >= 1 && all(result, {# >= 0.95})")
    spec = metric.provider.prometheus
    assert spec is not None
    ranged = metric.model_copy(update={"provider": metric.provider.model_copy(update={"prometheus": spec.model_copy(
        update={"range_query": PrometheusRangeQuery(start='now() - duration("20s")', end="now()", step="1s")})})})
    provider = PrometheusProvider(ProviderDeps())
    # the client rounds start and end to whole seconds: a series first scraped within the last second can
    # still be outside the window, so poll until the window holds a sample
    measurement = await eventually(lambda: provider.measure(ranged, _context()),
                                   lambda m: m.value not in (None, "", "[]"), timeout=30,
                                   expected="a range query with at least one sample")
    assert measurement.phase is AnalysisPhase.SUCCESSFUL, measurement
    assert (measurement.value or "").startswith("[0.97"), measurement.value
