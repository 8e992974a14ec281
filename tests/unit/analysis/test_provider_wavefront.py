"""Wavefront against a local chart API (https://docs.wavefront.com/wavefront_api.html, GET /api/v2/chart/api
with q, s, e, g, p, i and a Bearer token; answer `{"query": ..., "timeseries": [{"label": ..., "host": ...,
"tags": {...}, "data": [[epoch_seconds, value], ...]}], "warnings": ...}`). Values, metadata and messages
are Argo v1.10.2's (metricproviders/wavefront)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from analysis.providers.wavefront import WavefrontProvider
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import Secrets, context, deps_with, serve

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
T = int(NOW.timestamp())
TOKEN = "wf-token-5e3b1a27-9c44"


def chart(answer: Any, status: int = 200) -> dict[tuple[str, str], Any]:
    async def api(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401, text='{"message":"Unauthorized","code":401}',
                                content_type="application/json")
        return web.json_response(answer, status=status)

    return {("GET", "/api/v2/chart/api"): api}


def _series(*points: list[float], label: str = "requests.ok") -> dict[str, Any]:
    return {"label": label, "host": "web-1", "tags": {"env": "prod"}, "data": list(points)}


def _metric(address: str, success: str = "result >= 0.9") -> Metric:
    return Metric.model_validate({"name": "ok", "successCondition": success, "provider": {"wavefront": {
        "address": address, "query": "sum(ts(requests.ok))"}}})


def _secrets(address: str) -> Secrets:
    return Secrets({("argo-rollouts", "wavefront-api-tokens"): {address: TOKEN}})


async def test_queries_at_the_start_time_and_picks_the_closest_point() -> None:
    answer = {"query": "sum(ts(requests.ok))", "granularity": 1, "warnings": "series capped",
              "timeseries": [_series([T - 30, 0.5], [T + 2, 0.93], [T - 5, 0.7])]}
    async with serve(chart(answer)) as server:
        m = await WavefrontProvider(deps_with(_secrets(server.base), now=NOW)).measure(_metric(server.base), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "0.93")
    assert m.metadata == {"timestamps": str(T + 2), "drift": "2", "warnings": "series capped"}
    assert server.requests[0].query == {"q": "sum(ts(requests.ok))", "s": str(T * 1000), "e": str(T * 1000), "g": "s",
                                        "p": "1", "i": "true"}


async def test_several_series_are_a_vector() -> None:
    answer = {"timeseries": [_series([T, 0.95]), _series([T - 1, 0.5], label="b")]}
    async with serve(chart(answer)) as server:
        m = await WavefrontProvider(deps_with(_secrets(server.base), now=NOW)).measure(
            _metric(server.base, "all(result, # >= 0.9)"), context())
    assert (m.phase, m.value) == (AnalysisPhase.FAILED, "[0.95,0.50]")
    assert m.metadata == {"timestamps": f"[{T},{T - 1}]", "drift": "[0,-1]"}


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        pytest.param({"timeseries": []}, 200, "No TimeSeries found in response from Wavefront", id="no-series"),
        pytest.param({"errorType": "QuerySyntaxError", "errorMessage": "Syntax error"}, 400,
                     'server returned 400 Bad Request\n{"errorType": "QuerySyntaxError", "errorMessage": "Syntax error"}\n',
                     id="bad-query"),
        pytest.param({"message": "Too Many Requests"}, 429,
                     'server returned 429 Too Many Requests\n{"message": "Too Many Requests"}\n', id="rate-limited"),
    ],
)
async def test_errors(answer: Any, status: int, message: str) -> None:
    async with serve(chart(answer, status)) as server:
        m = await WavefrontProvider(deps_with(_secrets(server.base), now=NOW)).measure(_metric(server.base), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, message)


async def test_token_is_looked_up_by_address() -> None:
    m = await WavefrontProvider(deps_with(_secrets("other.wavefront.com"), now=NOW)).measure(
        _metric("example.wavefront.com"), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, "API token not found")
    m = await WavefrontProvider(deps_with(Secrets(), now=NOW)).measure(_metric("example.wavefront.com"), context())
    assert m.message == 'secrets "wavefront-api-tokens" not found'
