"""Graphite against a local server speaking the render API (https://graphite.readthedocs.io/en/latest/
render_api.html): GET /render with `target`, `from`, `format=json`; answer `[{"target": ..., "tags": {...},
"datapoints": [[value, timestamp], ...]}]`, null values where a bucket has no data. Expected messages and
values are Argo v1.10.2's (metricproviders/graphite/api_test.go, graphite_test.go)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from analysis.providers.graphite import GraphiteError, GraphiteProvider, render_url
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import context, deps_with, free_port, serve

QUERY = "target=sumSeries(app.http.*.*.count)&from=-2min"


def _answer(*points: list[Any]) -> list[dict[str, Any]]:
    return [{"target": "sumSeries(app.http.*.*.count)", "tags": {"aggregatedBy": "sum",
             "name": "sumSeries(app.http.*.*.count)"}, "datapoints": list(points)}]


def graphite_routes(body: Any, status: int = 200) -> dict[tuple[str, str], Any]:
    async def render(request: web.Request) -> web.Response:
        if request.query.get("format") != "json" or "target" not in request.query:
            return web.Response(status=400, text="Missing required parameter 'target'")
        if isinstance(body, str):
            return web.Response(status=status, text=body)
        return web.json_response(body, status=status)

    return {("GET", "/render"): render, ("GET", "/graphite/render"): render}


def _metric(address: str, query: str = QUERY, success: str = "result[0] > 50") -> Metric:
    return Metric.model_validate({"name": "requests", "successCondition": success,
                                  "provider": {"graphite": {"address": address, "query": query}}})


async def test_sends_the_render_query_and_judges_the_non_null_values() -> None:
    async with serve(graphite_routes(_answer([100, 1621348420], [None, 1621348430], ["75.5", "1621348440"]))
                     ) as server:
        m = await GraphiteProvider(deps_with()).measure(_metric(server.base, f"\n  {QUERY} \t \n"), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "[100.000000,75.500000]")
    sent = server.requests[0]
    assert (sent.method, sent.path) == ("GET", "/render")
    assert sent.query == {"target": "sumSeries(app.http.*.*.count)", "from": "-2min", "format": "json"}


def test_url_keeps_the_address_path_and_sorts_parameters_as_go() -> None:
    assert render_url("http://graphite:8080/graphite", QUERY) == (
        "http://graphite:8080/graphite/render?format=json&from=-2min&target=sumSeries%28app.http.%2A.%2A.count%29")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param([], 200, "no values found", id="no-target"),
        pytest.param(_answer(), 200, "no values found", id="no-datapoints"),
        pytest.param("invalid JSON", 200, "invalid character 'i' looking for beginning of value", id="not-json"),
        pytest.param("foo", 400, "error response: foo", id="400"),
        pytest.param("bar", 500, "error response: bar", id="500"),
        pytest.param(_answer([10]), 200, "error unmarshaling data point: [10]", id="one-item-point"),
        pytest.param(_answer([100, "f"]), 200, 'strconv.ParseInt: parsing "f": invalid syntax', id="bad-timestamp"),
        pytest.param(_answer([[], 1621348420]), 200, "error unmarshaling value: []", id="bad-value"),
        pytest.param(_answer([100, []]), 200, "error unmarshaling timestamp: 100", id="bad-timestamp-type"),
    ],
)
async def test_errors_as_argo_words_them(body: Any, status: int, message: str) -> None:
    async with serve(graphite_routes(body, status)) as server:
        m = await GraphiteProvider(deps_with()).measure(_metric(server.base), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, message)


async def test_all_null_values_are_an_empty_vector() -> None:
    async with serve(graphite_routes(_answer([None, 1621348420]))) as server:
        m = await GraphiteProvider(deps_with()).measure(_metric(server.base, success="len(result) == 0"), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "[]")


async def test_a_bad_condition_keeps_the_value_as_argo() -> None:
    async with serve(graphite_routes(_answer([10, 1621348420]))) as server:
        m = await GraphiteProvider(deps_with()).measure(_metric(server.base, success="result[0] 10.000000"),
                                                        context())
    assert (m.phase, m.value) == (AnalysisPhase.ERROR, "[10.000000]")
    assert m.message == 'could not evaluate successCondition "result[0] 10.000000": unexpected token Number("10.000000")'


async def test_invalid_address_escape_and_unreachable_server() -> None:
    m = await GraphiteProvider(deps_with()).measure(_metric(":::"), context())
    assert m.message == "Graphite address ::: is not a valid URL"
    with pytest.raises(GraphiteError, match='invalid URL escape "%\\^&"'):
        render_url("http://g", "target=#$%^&*(proper$#$%%^(password&from=-2min")
    port = free_port()
    m = await GraphiteProvider(deps_with()).measure(_metric(f"http://127.0.0.1:{port}"), context())
    assert m.phase is AnalysisPhase.ERROR
    assert (m.message or "").endswith(f"dial tcp 127.0.0.1:{port}: connect: connection refused")
