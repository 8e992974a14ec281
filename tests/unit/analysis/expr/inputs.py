"""Provider results for the differential tests, in one form both sides read: a typed JSON value.

`{"t": TYPE, "v": VALUE}` is what tests/oracles/expr decodes into the Go value Argo's provider would hand
to EvalCondition (float64 from Prometheus' scalar, []float64 from its vectors, JSON decoded into
interface {} from the web provider, []types.MetricDataResult from CloudWatch, a nil *float64 from
Datadog); `go_value` builds our representation of the same Go value.
"""

from __future__ import annotations

import math
from typing import Any

from analysis.expr import gotypes as t
from analysis.expr.gojson import from_json_value
from analysis.expr.gotime import parse_time
from analysis.expr.values import GoInt, Pointer, Slice, Struct, Value

Typed = dict[str, Any]

_STRING_PTR = t.pointer_to(t.STRING)
_CLOUDWATCH_PKG = "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
_MESSAGE_DATA = t.struct_type("types.MessageData", _CLOUDWATCH_PKG, (("Code", _STRING_PTR), ("Value", _STRING_PTR)))
_STATUS_CODE = t.GoType(t.Kind.STRING, name="types.StatusCode", pkg=_CLOUDWATCH_PKG)
METRIC_DATA_RESULT = t.struct_type("types.MetricDataResult", _CLOUDWATCH_PKG, (
    ("Id", _STRING_PTR), ("Label", _STRING_PTR), ("Messages", t.slice_of(_MESSAGE_DATA)), ("StatusCode", _STATUS_CODE),
    ("Timestamps", t.slice_of(t.TIME)), ("Values", t.FLOAT64_SLICE)))


def _float(raw: Any) -> float:
    if isinstance(raw, str):
        return {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}[raw]
    return float(raw)


def _string_ptr(raw: str | None) -> Pointer:
    return Pointer(_STRING_PTR, nil=True) if raw is None else Pointer(_STRING_PTR, raw)


def _cloudwatch(item: dict[str, Any]) -> Struct:
    stamps = [parse_time("2006-01-02T15:04:05.999999999Z07:00", s) for s in item.get("Timestamps") or []]
    return Struct(METRIC_DATA_RESULT, {
        "Id": _string_ptr(item.get("Id")), "Label": _string_ptr(item.get("Label")),
        "Messages": Slice(t.slice_of(_MESSAGE_DATA), None), "StatusCode": item.get("StatusCode", ""),
        "Timestamps": Slice(t.slice_of(t.TIME), stamps if item.get("Timestamps") is not None else None),
        "Values": Slice(t.FLOAT64_SLICE, [float(v) for v in item["Values"]] if item.get("Values") is not None
                        else None),
    })


def go_value(typed: Typed) -> Value:
    kind, raw = typed["t"], typed.get("v")
    if kind == "nil":
        return None
    if kind in ("bool", "string"):
        return raw
    if kind == "int":
        return int(raw)
    if kind == "int64":
        return GoInt(int(raw), t.INT64)
    if kind == "float64":
        return _float(raw)
    if kind == "json":
        return from_json_value(raw)
    if kind == "[]float64":
        return Slice(t.FLOAT64_SLICE, [_float(v) for v in raw])
    if kind == "[]string":
        return Slice(t.STRING_SLICE, list(raw))
    if kind == "[]int":
        return Slice(t.INT_SLICE, [int(v) for v in raw])
    if kind == "*float64":
        return Pointer(t.pointer_to(t.FLOAT64), nil=True) if raw is None else Pointer(t.pointer_to(t.FLOAT64),
                                                                                       _float(raw))
    if kind == "[]any":
        return [go_value(v) for v in raw]
    if kind == "map":
        return {k: go_value(v) for k, v in raw.items()}
    if kind == "[]cloudwatch":
        return Slice(t.slice_of(METRIC_DATA_RESULT), [_cloudwatch(item) for item in raw])
    raise ValueError(f"unknown typed value {kind!r}")


def typed(kind: str, value: Any = None) -> Typed:
    return {"t": kind, "v": value}


NAN, INF = "NaN", "+Inf"

INPUTS: dict[str, Typed] = {
    # Prometheus: a scalar query is a float64, an instant vector a []float64 (possibly empty, possibly NaN)
    "prom-scalar-high": typed("float64", 0.97), "prom-scalar-low": typed("float64", 0.005),
    "prom-scalar-zero": typed("float64", 0), "prom-scalar-nan": typed("float64", NAN),
    "prom-scalar-inf": typed("float64", INF), "prom-scalar-big": typed("float64", 1500),
    "prom-vector-empty": typed("[]float64", []), "prom-vector-one": typed("[]float64", [0.97]),
    "prom-vector-low": typed("[]float64", [0.2]), "prom-vector-two": typed("[]float64", [0.99, 0.42]),
    "prom-vector-nan": typed("[]float64", [NAN]), "prom-vector-many": typed("[]float64", [5, 6, 7, 999, 12.5]),
    "prom-vector-ints": typed("[]float64", [1, 2, 3]),
    # Datadog, Wavefront, New Relic...: a float64, or a nil *float64 when there is no data
    "datadog-nil": typed("*float64", None), "datadog-value": typed("*float64", 3),
    # scalars a plugin or a job-less metric may pass
    "nil": typed("nil"), "bool-true": typed("bool", True), "bool-false": typed("bool", False),
    "int-one": typed("int", 1), "int-big": typed("int", 1 << 40), "int64": typed("int64", 7),
    "string-worked": typed("string", "It worked!"), "string-true": typed("string", "true"),
    "string-number": typed("string", "1"), "string-decimal": typed("string", "1.1"),
    "string-empty": typed("string", ""), "string-unicode": typed("string", "héllo wörld"),
    "strings": typed("[]string", ["a", "b"]), "ints": typed("[]int", [3, 1, 2]),
    # the web provider: a JSON body (numbers are float64) or the part a jsonPath selected
    "web-true": typed("json", True), "web-number": typed("json", 3),
    "web-ok": typed("json", {"ok": True, "successPercent": 0.95}),
    "web-not-ok": typed("json", {"ok": False, "successPercent": 0.5}),
    "web-ok-string": typed("json", {"ok": "yes", "successPercent": "0.95"}),
    "web-version": typed("json", {"major": "1", "minor": "27"}),
    "web-status": typed("json", {"Status": 999}), "web-status-bad": typed("json", {"Status": -1}),
    "web-rate": typed("json", {"successRate": 0.96, "errors": None}),
    "web-apdex": typed("json", {"service_apdex": {"label": None, "values": {"values": [
        {"id": "a", "value": "9950"}, {"id": "b", "value": "9999"}]}}}),
    "web-apdex-low": typed("json", {"service_apdex": {"label": None, "values": {"values": [
        {"id": "a", "value": "100"}]}}}),
    "web-items": typed("json", {"items": [1, 2, 3], "name": "checkout", "tags": ["a", "b"]}),
    "web-nested": typed("json", {"data": {"result": [{"metric": {"pod": "p-1"}, "value": [1, "0.5"]}]}}),
    "web-list": typed("json", [1, "a", None, True, 2.5]), "web-empty-list": typed("json", []),
    "web-empty-object": typed("json", {}), "web-string": typed("json", "ok"),
    "web-mixed-items": typed("json", {"items": [{"latency": 12, "ok": True}, {"latency": 250, "ok": False}]}),
    # CloudWatch: []types.MetricDataResult
    "cloudwatch": typed("[]cloudwatch", [{"Id": "rate", "Label": "5xx", "StatusCode": "Complete",
                                          "Values": [0.001, 0.002, 0.0, 0.003, 0.004],
                                          "Timestamps": ["2024-01-01T00:00:00Z"] * 5}]),
    "cloudwatch-short": typed("[]cloudwatch", [{"Id": "rate", "StatusCode": "Complete", "Values": [0.5]}]),
    "cloudwatch-empty": typed("[]cloudwatch", []),
    # typed values a condition cannot distinguish from JSON but Go can
    "any-numbers": typed("[]any", [typed("int", 1), typed("float64", 2.5), typed("string", "x")]),
    "map-mixed": typed("map", {"n": typed("int", 2), "f": typed("float64", 0.5), "s": typed("string", "x"),
                               "l": typed("[]float64", [1, 2])}),
}
