"""Graphite metric provider: a render API query (`/render?target=...&from=...&format=json`), as Argo's.

- `query` is the render API's query string (`target=sumSeries(app.http.*.*.count)&from=-2min`); whitespace
  anywhere in it is removed first, so a multi-line YAML block works;
- the request is GET `<address>/render?<query's params, sorted, plus format=json>` (Go re-encodes the query);
- the first target's datapoints are the result, as a Go `[]float64` of the non-null values, shown as
  `[10.000000,5.500000]` (Go's %f); no target or no datapoints is an Error ("no values found");
- an HTTP status >= 400 is an Error `error response: <body>`; a datapoint that is not `[value, timestamp]`
  is an Error worded as Argo's (`error unmarshaling data point: [10]`).
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from analysis.conditions import Value, float64_vector
from analysis.measurement import error_measurement, measurement_from_result, with_shown_value
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.http import HttpError, error_body, request, with_query
from rollouts.api.analysis import Measurement, Metric

TIMEOUT = 10.0
_SPACE = re.compile(r"\s+")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2}).{0,2}", re.DOTALL)


class GraphiteError(Exception):
    pass


def render_url(address: str, query: str) -> str:
    """The render URL Argo requests: address + /render, the query's params sorted by key, format=json."""
    query = _SPACE.sub("", query)
    bad = _BAD_ESCAPE.search(query)
    if bad:
        raise GraphiteError(f'parse "./render?{query}": invalid URL escape "{bad.group(0)}"')
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True, separator="&") if k != "format"]
    params.append(("format", "json"))
    params.sort(key=lambda kv: kv[0])  # Go's url.Values.Encode: sorted keys, values in order
    parts = urlsplit(address)
    path = parts.path.rstrip("/") + "/render"
    return with_query(urlunsplit((parts.scheme, parts.netloc, path, "", "")), params)


def _go(value: Any) -> str:
    """A JSON value as Go's %v prints it (for Argo's error messages)."""
    if isinstance(value, list):
        return "[" + " ".join(_go(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "<nil>" if value is None else str(value)


def _number(raw: Any, what: str, point: Any) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise GraphiteError(f"error unmarshaling {what}: {_go(point[0])}")
    if isinstance(raw, str):
        try:
            return float(raw) if what == "value" else float(int(raw))
        except ValueError:
            syntax = "ParseFloat" if what == "value" else "ParseInt"
            raise GraphiteError(f'strconv.{syntax}: parsing "{raw}": invalid syntax') from None
    return float(raw)


def datapoint_values(body: Any) -> list[float]:
    """The non-null values of the first target's datapoints; GraphiteError when there is none or one is
    malformed (every point is checked, as Go's json.Unmarshal does)."""
    if not isinstance(body, list):
        raise GraphiteError("json: cannot unmarshal object into Go value of type graphite.graphiteResponse")
    if not body:
        raise GraphiteError("no values found")
    points = body[0].get("datapoints") if isinstance(body[0], dict) else None
    values: list[float] = []
    for point in points or []:
        if not isinstance(point, list) or len(point) != 2:
            raise GraphiteError(f"error unmarshaling data point: {_go(point)}")
        value = _number(point[0], "value", point)
        _number(point[1], "timestamp", point)  # Argo quotes the value here too
        if value is not None:
            values.append(value)
    if not points:
        raise GraphiteError("no values found")
    return values


def shown(values: list[float]) -> str:
    """Argo's value text: `[10.000000,5.500000]`."""
    def one(v: float) -> str:
        return "NaN" if math.isnan(v) else ("+Inf" if v > 0 else "-Inf") if math.isinf(v) else f"{v:f}"
    return "[" + ",".join(one(v) for v in values) + "]"


async def query(address: str, text: str) -> list[float]:
    url = render_url(address, text)
    response = await request("GET", url, timeout=TIMEOUT)
    if response.status >= 400:
        raise GraphiteError(f"error response: {error_body(response)}")
    return datapoint_values(response.json())


class GraphiteProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.graphite
        if spec is None or not spec.address or "://" not in spec.address:
            address = spec.address if spec is not None else ""
            return error_measurement(f"Graphite address {address} is not a valid URL", started_at=started,
                                     finished_at=started)
        try:
            values = await query(spec.address, spec.query)
        except (GraphiteError, HttpError) as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        result: Value = float64_vector(values)
        measurement = await measurement_from_result(metric, result, sandbox=self.sandbox, started_at=started,
                                                    finished_at=self.clock(), secrets=context.secrets)
        return with_shown_value(measurement, shown(values), secrets=context.secrets, on_error=True)
