"""InfluxDB against a local v2 query API (https://docs.influxdata.com/influxdb/v2/api/#operation/PostQuery):
POST /api/v2/query?org=..., `Authorization: Token ...`, a JSON body with the Flux query and the dialect;
answer annotated CSV (https://docs.influxdata.com/influxdb/v2/reference/syntax/annotated-csv/), errors as
`{"code": ..., "message": ...}`. Behaviour is Argo v1.10.2's (metricproviders/influxdb)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from analysis.expr import gotypes
from analysis.expr.values import GoInt
from analysis.providers.influxdb import InfluxdbProvider, record_values
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import Secrets, context, deps_with, serve

TOKEN = "influx-token-a1b2c3d4e5f6"
CSV = """#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string
#group,false,false,true,true,false,false,true,true
#default,_result,,,,,,,
,result,table,_start,_stop,_time,_value,_field,_measurement
,,0,2026-03-01T11:55:00Z,2026-03-01T12:00:00Z,2026-03-01T11:56:00Z,0.5,errors,http
,,0,2026-03-01T11:55:00Z,2026-03-01T12:00:00Z,2026-03-01T11:57:00Z,1.25,errors,http

#datatype,string,long,dateTime:RFC3339,long
#group,false,false,true,false
#default,_result,,,
,result,table,_start,_value
,,1,2026-03-01T11:55:00Z,7
"""
ERROR_CSV = """#datatype,string,string
#group,true,true
#default,,
,error,reference
,"error calling function ""filter"": name ""x"" does not exist in scope",
"""


def influx(answer: str | dict[str, Any], status: int = 200) -> dict[tuple[str, str], Any]:
    async def query(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Token {TOKEN}":
            return web.json_response({"code": "unauthorized", "message": "unauthorized access"}, status=401)
        if request.query.get("org") != "acme":
            return web.json_response({"code": "not found", "message": "organization name \"x\" not found"}, status=404)
        if isinstance(answer, dict):
            return web.json_response(answer, status=status)
        return web.Response(text=answer, status=status, content_type="text/csv")

    return {("POST", "/api/v2/query"): query}


def _secrets(base: str, token: str = TOKEN) -> Secrets:
    return Secrets({("argo-rollouts", "influxdb"): {"authToken": token, "org": "acme", "address": base}})


def _metric(success: str = "all(result, {# < 10})") -> Metric:
    return Metric.model_validate({"name": "errors", "successCondition": success, "provider": {"influxdb": {
        "query": 'from(bucket: "app") |> range(start: -5m) |> filter(fn: (r) => r._field == "errors")'}}})


async def test_posts_flux_and_reads_every_records_value() -> None:
    async with serve(influx(CSV)) as server:
        m = await InfluxdbProvider(deps_with(_secrets(server.base))).measure(_metric(), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "[0.5 1.25 7]")
    sent = json.loads(server.requests[0].body)
    assert sent == {"dialect": {"annotations": ["datatype", "group", "default"], "delimiter": ",", "header": True},
                    "query": _metric().provider.influxdb.query, "type": "flux"}  # type: ignore[union-attr]


def test_values_are_typed_by_the_datatype_annotation() -> None:
    assert record_values(CSV) == [0.5, 1.25, GoInt(7, gotypes.INT64)]
    assert record_values(ERROR_CSV) == []


@pytest.mark.parametrize(
    ("answer", "status", "token", "message"),
    [
        pytest.param(ERROR_CSV, 200, TOKEN, "no results returned from flux query", id="error-table"),
        pytest.param("", 200, TOKEN, "no results returned from flux query", id="empty"),
        pytest.param(CSV, 200, "wrong", "unauthorized: unauthorized access", id="bad-token"),
        pytest.param({"code": "invalid", "message": "compilation failed: error at @1:1-1:5: undefined identifier fro"},
                     400, TOKEN, "invalid: compilation failed: error at @1:1-1:5: undefined identifier fro",
                     id="bad-flux"),
        pytest.param("", 429, TOKEN, "Unexpected status code 429", id="rate-limited-no-body"),
        pytest.param({}, 429, TOKEN, "too many requests: exceeded rate limit", id="rate-limited-json"),
        pytest.param("overloaded", 503, TOKEN, "503 Service Unavailable: overloaded", id="unavailable-text"),
    ],
)
async def test_errors(answer: Any, status: int, token: str, message: str) -> None:
    async with serve(influx(answer, status)) as server:
        m = await InfluxdbProvider(deps_with(_secrets(server.base, token))).measure(_metric(), context())
    assert m.phase is AnalysisPhase.ERROR
    assert m.message == message
    assert TOKEN not in (m.message or "")


async def test_missing_credentials() -> None:
    m = await InfluxdbProvider(deps_with(Secrets({("argo-rollouts", "influxdb"): {"authToken": TOKEN}}))).measure(
        _metric(), context())
    assert m.message == "authToken, org, or address not found"
