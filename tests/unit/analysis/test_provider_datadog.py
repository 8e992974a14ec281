"""Datadog against a local server that checks the requests Datadog documents and answers in its shapes.

v1: GET /api/v1/query (https://docs.datadoghq.com/api/latest/metrics/#query-timeseries-points), `from`/`to`
in seconds, `DD-API-KEY`/`DD-APPLICATION-KEY` headers, answer `{"status": "ok", "series": [{"pointlist":
[[ms, value], ...]}]}`. v2: POST /api/v2/query/scalar (#query-scalar-data-across-multiple-products),
`from`/`to` in milliseconds, answer `{"data": {"type": "scalar_response", "attributes": {"columns": [...]}}}`.
Errors are `{"errors": [...]}` with 400/403/429 (429 with X-RateLimit-* headers). Expected messages are
Argo v1.10.2's (metricproviders/datadog/datadog.go).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from analysis.providers.datadog import DatadogProvider, spec_problem
from rollouts.api.analysis import AnalysisPhase, DatadogMetric, Metric
from tests.support.metric_vendors import Secrets, context, deps_with, free_port, serve

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
T = int(NOW.timestamp())
API_KEY, APP_KEY = "dd-api-0123456789abcdef", "dd-app-fedcba9876543210"


def _v1_series(*values: float) -> dict[str, Any]:
    points = [[float((T - 60 * (len(values) - i)) * 1000), v] for i, v in enumerate(values)]
    return {"status": "ok", "res_type": "time_series", "resp_version": 1, "query": "avg:x{*}",
            "from_date": (T - 300) * 1000, "to_date": T * 1000, "message": "", "group_by": [],
            "series": [{"metric": "x", "display_name": "x", "pointlist": points, "scope": "*", "aggr": "avg",
                        "expression": "avg:x{*}", "interval": 60, "length": len(points), "unit": None,
                        "tag_set": [], "attributes": {}}] if values else []}


def _v2_columns(*values: float | None) -> dict[str, Any]:
    return {"data": {"type": "scalar_response", "attributes": {"columns": [
        {"name": "a", "type": "number", "values": list(values), "meta": {"unit": None}}]}}}


def _authorized(request: web.Request) -> web.Response | None:
    if request.headers.get("DD-API-KEY") != API_KEY or request.headers.get("DD-APPLICATION-KEY") != APP_KEY:
        return web.json_response({"errors": ["Forbidden"]}, status=403)
    if request.headers.get("Content-Type") != "application/json":
        return web.json_response({"errors": ["Unsupported Media Type"]}, status=415)
    return None


def datadog_routes(v1: Any = None, v2: Any = None, status: int = 200, headers: dict[str, str] | None = None
                   ) -> dict[tuple[str, str], Any]:
    async def query_v1(request: web.Request) -> web.Response:
        if (denied := _authorized(request)) is not None:
            return denied
        if set(request.query) != {"from", "to", "query"}:
            return web.json_response({"errors": ["Missing required parameter"]}, status=400)
        return web.json_response(v1, status=status, headers=headers)

    async def query_v2(request: web.Request) -> web.Response:
        if (denied := _authorized(request)) is not None:
            return denied
        body = await request.json()
        if body["data"]["type"] != "scalar_request":
            return web.json_response({"errors": ["invalid type"]}, status=400)
        return web.json_response(v2, status=status, headers=headers)

    return {("GET", "/api/v1/query"): query_v1, ("POST", "/api/v2/query/scalar"): query_v2}


def _metric(dd: dict[str, Any], success: str | None = "result < 0.8", **extra: Any) -> Metric:
    fields: dict[str, Any] = {"name": "errors", "provider": {"datadog": dd}, **extra}
    if success:
        fields["successCondition"] = success
    return Metric.model_validate(fields)


def _secrets(address: str, name: str = "datadog", namespace: str = "argo-rollouts") -> Secrets:
    return Secrets({(namespace, name): {"api-key": API_KEY, "app-key": APP_KEY, "address": address}})


async def test_v1_sends_the_documented_query_and_judges_the_last_point() -> None:
    async with serve(datadog_routes(v1=_v1_series(0.9, 0.5))) as server:
        provider = DatadogProvider(deps_with(_secrets(server.base), now=NOW))
        m = await provider.measure(_metric({"query": "avg:x{*}", "interval": "5m"}), context())
    assert (m.phase, m.value, m.message) == (AnalysisPhase.SUCCESSFUL, "0.5", None)
    sent = server.requests[0]
    assert (sent.method, sent.path) == ("GET", "/api/v1/query")
    assert sent.query == {"query": "avg:x{*}", "from": str(T - 300), "to": str(T)}
    assert sent.headers["DD-API-KEY"] == API_KEY and sent.headers["DD-APPLICATION-KEY"] == APP_KEY


async def test_v2_posts_queries_and_formula_in_milliseconds() -> None:
    spec = {"apiVersion": "v2", "interval": "10m", "aggregator": "avg", "formula": "a / b",
            "queries": {"a": "sum:errors{*}.as_count()", "b": "sum:requests{*}.as_count()"}}
    async with serve(datadog_routes(v2=_v2_columns(0.03))) as server:
        provider = DatadogProvider(deps_with(_secrets(server.base), now=NOW))
        m = await provider.measure(_metric(spec, "result <= 0.05"), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "0.03")
    assert json.loads(server.requests[0].body) == {"data": {"type": "scalar_request", "attributes": {
        "from": (T - 600) * 1000, "to": T * 1000, "formulas": [{"formula": "a / b"}],
        "queries": [{"aggregator": "avg", "data_source": "metrics", "name": "a", "query": "sum:errors{*}.as_count()"},
                    {"aggregator": "avg", "data_source": "metrics", "name": "b", "query": "sum:requests{*}.as_count()"}],
    }}}


async def test_v2_single_query_is_named_query_and_aggregated_by_last() -> None:
    async with serve(datadog_routes(v2=_v2_columns(0.95))) as server:
        provider = DatadogProvider(deps_with(_secrets(server.base), now=NOW))
        m = await provider.measure(_metric({"apiVersion": "v2", "query": "avg:x{*}"}), context())
    assert (m.phase, m.value) == (AnalysisPhase.FAILED, "0.95")
    queries = json.loads(server.requests[0].body)["data"]["attributes"]["queries"]
    assert queries == [{"aggregator": "last", "data_source": "metrics", "name": "query", "query": "avg:x{*}"}]


@pytest.mark.parametrize(
    ("spec", "answer", "condition", "phase", "value", "message"),
    [
        pytest.param({"query": "q"}, _v1_series(), "default(result, 0) == 0", AnalysisPhase.SUCCESSFUL, "[]", None,
                     id="v1-empty-series-is-nil"),
        pytest.param({"query": "q"}, _v1_series(), "result < 1", AnalysisPhase.ERROR, "",
                     'could not evaluate successCondition "result < 1": metric result is nil or empty: no data '
                     "returned from the metric provider", id="v1-empty-nil-compared"),
        pytest.param({"apiVersion": "v2", "query": "q"}, _v2_columns(None), "isNil(result)",
                     AnalysisPhase.SUCCESSFUL, "[null]", None, id="v2-null-value-is-nil"),
        pytest.param({"apiVersion": "v2", "query": "q"},
                     {"data": {"attributes": {"columns": []}, "errors": "metric not found: x"}}, "result < 1",
                     AnalysisPhase.ERROR, "", "There were errors in your query: metric not found: x",
                     id="v2-data-errors"),
    ],
)
async def test_empty_and_partial_answers(spec: dict[str, Any], answer: Any, condition: str, phase: AnalysisPhase,
                                         value: str, message: str | None) -> None:
    async with serve(datadog_routes(v1=answer, v2=answer)) as server:
        provider = DatadogProvider(deps_with(_secrets(server.base), now=NOW))
        m = await provider.measure(_metric(spec, condition), context())
    assert (m.phase, m.value or "", m.message) == (phase, value, message)


@pytest.mark.parametrize(
    ("status", "body", "headers", "message"),
    [
        pytest.param(400, {"errors": ["Error parsing query: unable to parse avg:x{: Rule 'scope_expr' didn't match"]},
                     None, "received non 2xx response code: 400 {\"errors\": [\"Error parsing query: unable to parse "
                     "avg:x{: Rule 'scope_expr' didn't match\"]}", id="bad-query-400"),
        pytest.param(429, {"errors": ["Rate limit exceeded"]},
                     {"X-RateLimit-Limit": "100", "X-RateLimit-Period": "60", "X-RateLimit-Remaining": "0",
                      "X-RateLimit-Reset": "17"},
                     'received non 2xx response code: 429 {"errors": ["Rate limit exceeded"]}', id="rate-limited-429"),
    ],
)
async def test_error_answers_are_error_measurements(status: int, body: Any, headers: dict[str, str] | None,
                                                    message: str) -> None:
    async with serve(datadog_routes(v1=body, status=status, headers=headers)) as server:
        provider = DatadogProvider(deps_with(_secrets(server.base), now=NOW))
        m = await provider.measure(_metric({"query": "avg:x{"}), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, message)


async def test_wrong_keys_are_an_authentication_error_and_keys_never_show() -> None:
    async def echoing(request: web.Request) -> web.Response:
        return web.json_response({"errors": [f"Invalid API key {request.headers['DD-API-KEY']}"]}, status=403)

    async with serve({("GET", "/api/v1/query"): echoing}) as server:
        provider = DatadogProvider(deps_with(_secrets(server.base), now=NOW))
        m = await provider.measure(_metric({"query": "q"}), context())
    assert m.phase is AnalysisPhase.ERROR
    assert (m.message or "").startswith("received authentication error response code: 403 ")
    assert API_KEY not in (m.message or "") and API_KEY[:8] not in (m.message or "")


async def test_credentials_come_from_secret_ref_in_the_runs_namespace_when_namespaced() -> None:
    async with serve(datadog_routes(v1=_v1_series(0.1))) as server:
        secrets = _secrets(server.base, name="team-dd", namespace="apps")
        provider = DatadogProvider(deps_with(secrets, now=NOW))
        m = await provider.measure(_metric({"query": "q", "secretRef": {"name": "team-dd", "namespaced": True}}),
                                   context(namespace="apps"))
    assert m.phase is AnalysisPhase.SUCCESSFUL
    assert secrets.reads == [("apps", "team-dd")]


@pytest.mark.parametrize(
    ("secret_ref", "stored", "message"),
    [
        pytest.param({}, {}, "failed to find the credentials for datadog metrics provider", id="no-secret"),
        pytest.param({"namespaced": True}, {}, "secret name is required for namespaced credentials",
                     id="namespaced-without-name"),
        pytest.param({"name": "other"}, {("argo-rollouts", "other"): {"api-key": "k"}},
                     "failed to find the credentials for datadog metrics provider", id="app-key-missing"),
    ],
)
async def test_missing_credentials(secret_ref: dict[str, Any], stored: dict[tuple[str, str], dict[str, str]],
                                   message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    provider = DatadogProvider(deps_with(Secrets(stored), now=NOW))
    m = await provider.measure(_metric({"query": "q", "secretRef": secret_ref}), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, message)


async def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serve(datadog_routes(v1=_v1_series(0.2))) as server:
        monkeypatch.setenv("DD_API_KEY", API_KEY)
        monkeypatch.setenv("DD_APP_KEY", APP_KEY)
        monkeypatch.setenv("DD_ADDRESS", server.base)
        provider = DatadogProvider(deps_with(Secrets(), now=NOW))
        m = await provider.measure(_metric({"query": "q"}), context())
    assert m.phase is AnalysisPhase.SUCCESSFUL


async def test_unreachable_and_slow_backends_are_worded_as_go() -> None:
    port = free_port()
    provider = DatadogProvider(deps_with(_secrets(f"http://127.0.0.1:{port}"), now=NOW))
    m = await provider.measure(_metric({"query": "q"}), context())
    assert m.phase is AnalysisPhase.ERROR
    assert m.message == (f'Get "http://127.0.0.1:{port}/api/v1/query?from={T - 300}&query=q&to={T}": '
                         f"dial tcp 127.0.0.1:{port}: connect: connection refused")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response(_v1_series(0.1))

    async with serve({("GET", "/api/v1/query"): slow}) as server:
        provider = DatadogProvider(deps_with(_secrets(server.base), now=NOW))
        m = await provider.measure(_metric({"query": "q", "requestTimeout": "500ms"}), context())
    assert m.phase is AnalysisPhase.ERROR
    assert (m.message or "").endswith(": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        pytest.param({}, "Must have either a query or queries. Please review the Analysis Template.", id="none"),
        pytest.param({"query": "q", "queries": {"a": "q"}, "apiVersion": "v2"},
                     "Cannot have both a query and queries. Please review the Analysis Template.", id="both"),
        pytest.param({"queries": {"a": "q"}}, "Query is empty. API Version v1 only supports using the query "
                     "parameter in your Analysis Template.", id="v1-queries"),
        pytest.param({"query": "q", "formula": "a", "apiVersion": "v2"},
                     "Formula are only valid when queries are set. Please review the Analysis Template.",
                     id="formula-without-queries"),
        pytest.param({"queries": {"a": "q", "b": "r"}, "apiVersion": "v2"},
                     "When multiple queries are provided you must include a formula.", id="two-without-formula"),
        pytest.param({"query": "q", "aggregator": "avg"},
                     "Aggregator is not supported in v1. Please review the Analysis Template.", id="v1-aggregator"),
        pytest.param({"query": "q", "requestTimeout": "0s"}, "Request timeout must be a positive duration (e.g. "
                     "30s). Please review the Analysis Template.", id="zero-timeout"),
        pytest.param({"query": "q", "apiVersion": "v2", "queries": {}}, None, id="valid-v2"),
    ],
)
def test_spec_problems_in_argos_words(spec: dict[str, Any], problem: str | None) -> None:
    assert spec_problem(DatadogMetric.model_validate(spec)) == problem
