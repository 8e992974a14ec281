"""SkyWalking against a local OAP GraphQL endpoint (https://skywalking.apache.org/docs/main/latest/en/api/
query-protocol/): POST /graphql, `{"query", "variables": {"duration": {"start", "end", "step": "MINUTE"}}}`,
answer `{"data": ...}` or `{"errors": [{"message": ...}]}`. Behaviour is Argo v1.10.2's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from analysis.providers.skywalking import SkyWalkingProvider
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import context, deps_with, serve

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
QUERY = ('query queryData($duration: Duration!) { service_apdex: readMetricsValues(condition: {name: "service_apdex", '
         'entity: {scope: Service, serviceName: "agent::songs", normal: true}}, duration: $duration) '
         '{ label values { values { value } } } }')


def oap(answer: Any, status: int = 200) -> dict[tuple[str, str], Any]:
    async def graphql(request: web.Request) -> web.Response:
        body = await request.json()
        if set(body) != {"query", "variables"} or body["variables"]["duration"]["step"] != "MINUTE":
            return web.json_response({"errors": [{"message": "Variable 'duration' is required"}]})
        if isinstance(answer, str):
            return web.Response(text=answer, status=status)
        return web.json_response(answer, status=status)

    return {("POST", "/graphql"): graphql}


def _metric(address: str, success: str = "result.service_apdex.values.values[0].value > 9000") -> Metric:
    return Metric.model_validate({"name": "apdex", "successCondition": success, "provider": {"skywalking": {
        "address": address, "query": QUERY, "interval": "5m"}}})


async def test_sends_the_query_with_the_duration_and_judges_the_data() -> None:
    data = {"data": {"service_apdex": {"label": None, "values": {"values": [{"value": 9500}]}}}}
    async with serve(oap(data)) as server:
        m = await SkyWalkingProvider(deps_with(now=NOW)).measure(_metric(server.base), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL,
                                  '{"service_apdex":{"label":null,"values":{"values":[{"value":9500}]}}}')
    sent = json.loads(server.requests[0].body)
    assert sent == {"query": QUERY, "variables": {"duration": {"start": "2026-03-01 1155", "end": "2026-03-01 1200",
                                                               "step": "MINUTE"}}}
    assert server.requests[0].headers["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        pytest.param({"errors": [{"message": "Validation error of type FieldUndefined: Field 'x' is undefined"}]}, 200,
                     "graphql: Validation error of type FieldUndefined: Field 'x' is undefined", id="graphql-error"),
        pytest.param("<html>Bad Gateway</html>", 502, "decoding response: invalid character '<' looking for beginning "
                     "of value", id="not-json"),
        pytest.param({"data": None}, 200, "no results returned from SkyWalking query", id="no-data"),
    ],
)
async def test_errors(answer: Any, status: int, message: str) -> None:
    async with serve(oap(answer, status)) as server:
        m = await SkyWalkingProvider(deps_with(now=NOW)).measure(_metric(server.base), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, message)
