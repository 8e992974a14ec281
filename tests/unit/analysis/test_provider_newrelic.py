"""New Relic against a local NerdGraph (https://docs.newrelic.com/docs/apis/nerdgraph/examples/nerdgraph-nrql-
tutorial/): POST /graphql with `Api-Key`, the NRQL query as a GraphQL variable, answer `{"data": {"actor":
{"account": {"nrql": {"results": [...]}}}}}`, GraphQL `errors` with HTTP 200, 401 for a bad key, 429 when
rate limited. Messages are Argo v1.10.2's (metricproviders/newrelic) and newrelic-client-go's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from analysis.providers.newrelic import NRQL_QUERY, NewRelicProvider
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import Secrets, context, deps_with, serve

KEY = "NRAK-TESTKEY0123456789ABCDEF"


def _rows(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"actor": {"account": {"nrql": {"results": list(rows)}}}}}


def nerdgraph(answer: Any, status: int = 200) -> dict[tuple[str, str], Any]:
    async def graphql(request: web.Request) -> web.Response:
        if request.headers.get("Api-Key") != KEY:
            return web.json_response({"errors": [{"message": "Invalid API key",
                                                  "extensions": {"errorCode": "BAD_API_KEY"}}]}, status=401)
        body = await request.json()
        if "nrql(query: $query" not in body["query"] or not isinstance(body["variables"]["accountId"], int):
            return web.json_response({"errors": [{"message": "bad request"}]}, status=400)
        return web.json_response(answer, status=status)

    return {("POST", "/graphql"): graphql}


def _secrets(base: str, **extra: str) -> Secrets:
    return Secrets({("argo-rollouts", "newrelic"): {"personal-api-key": KEY, "account-id": "1234567",
                                                    "base-url-nerdgraph": f"{base}/graphql", **extra}})


def _metric(success: str = "result.count < 100", **nr: Any) -> Metric:
    return Metric.model_validate({"name": "errors", "successCondition": success,
                                  "provider": {"newRelic": {"query": "SELECT count(*) FROM Transaction", **nr}}})


async def test_sends_the_nrql_through_nerdgraph_and_judges_the_row() -> None:
    async with serve(nerdgraph(_rows({"count": 42}))) as server:
        m = await NewRelicProvider(deps_with(_secrets(server.base))).measure(_metric(timeout=30), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, '{"count":42}')
    sent = json.loads(server.requests[0].body)
    assert sent == {"query": NRQL_QUERY, "variables": {"accountId": 1234567, "query": "SELECT count(*) FROM Transaction",
                                                       "timeout": 30}}
    assert server.requests[0].headers["Api-Key"] == KEY


async def test_facet_rows_are_a_list_and_the_default_timeout_is_five() -> None:
    rows = _rows({"facet": "a", "count": 1}, {"facet": "b", "count": 300})
    async with serve(nerdgraph(rows)) as server:
        m = await NewRelicProvider(deps_with(_secrets(server.base))).measure(
            _metric("all(result, {.count < 100})"), context())
    assert (m.phase, m.value) == (AnalysisPhase.FAILED, '[{"count":1,"facet":"a"},{"count":300,"facet":"b"}]')
    assert json.loads(server.requests[0].body)["variables"]["timeout"] == 5


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        pytest.param(_rows(), 200, "no results returned from NRQL query", id="no-rows"),
        pytest.param(_rows({}), 200, "no results returned from NRQL query", id="empty-row"),
        pytest.param({"errors": [{"message": "NRQL Syntax Error: Error at line 1 position 8, unexpected 'FROMM'",
                                  "path": ["actor", "account", "nrql"], "extensions": {"errorClass": "INVALID_INPUT"}}],
                      "data": {"actor": {"account": {"nrql": None}}}}, 200,
                     "NRQL Syntax Error: Error at line 1 position 8, unexpected 'FROMM'", id="nrql-syntax-error"),
        pytest.param({"errors": [{"message": "Too many requests"}]}, 429, "429 response returned: Too many requests",
                     id="rate-limited"),
    ],
)
async def test_errors(answer: Any, status: int, message: str) -> None:
    async with serve(nerdgraph(answer, status)) as server:
        m = await NewRelicProvider(deps_with(_secrets(server.base))).measure(_metric(), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, message)


async def test_bad_key_and_missing_profile() -> None:
    async with serve(nerdgraph(_rows({"count": 1}))) as server:
        secrets = _secrets(server.base)
        secrets.secrets[("argo-rollouts", "newrelic")]["personal-api-key"] = "NRAK-WRONG000000"
        m = await NewRelicProvider(deps_with(secrets)).measure(_metric(), context())
    assert m.message == ("401 response returned: Invalid credentials provided. Missing API key or an invalid API key "
                         "was provided.")
    m = await NewRelicProvider(deps_with(Secrets())).measure(_metric(profile="team-a"), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, 'secrets "team-a" not found')
    m = await NewRelicProvider(deps_with(Secrets({("argo-rollouts", "newrelic"): {"account-id": "1"}}))).measure(
        _metric(), context())
    assert m.message == "account ID or personal API key not found"


async def test_region_picks_the_nerdgraph_host() -> None:
    from analysis.providers.newrelic import endpoint
    from rollouts.api.analysis import NewRelicMetric

    secrets = Secrets({("argo-rollouts", "newrelic"): {"personal-api-key": KEY, "account-id": "7", "region": "eu"}})
    assert await endpoint(deps_with(secrets), NewRelicMetric(query="q")) == (
        "https://api.eu.newrelic.com/graphql", KEY, 7)
    secrets.secrets[("argo-rollouts", "newrelic")]["region"] = "mars"
    m = await NewRelicProvider(deps_with(secrets)).measure(_metric(), context())
    assert m.message == "unknown region: mars"
