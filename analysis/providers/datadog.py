"""Datadog metric provider: the v1 timeseries query API or the v2 scalar formulas-and-queries API, as Argo's.

Credentials (Argo's order): `secretRef.name` names a Secret in the controller's namespace (in the run's with
`secretRef.namespaced`); without it, the environment (DD_API_KEY, DD_APP_KEY and DD_ADDRESS, all three) and
then the Secret `datadog`. The Secret's keys are `api-key`, `app-key` and, optional, `address` (the site,
default https://api.datadoghq.com; https://api.datadoghq.eu, https://us5.datadoghq.com, ...).

- v1: GET `/api/v1/query?from=<now-interval>&query=...&to=<now>` (seconds); the result is the last point of
  the first series (a float); no series or no point is a nil result (`default(result, 0)` works).
- v2: POST `/api/v2/query/scalar` with `{"data": {"attributes": {from, to (ms), queries, formulas},
  "type": "scalar_request"}}`; `query` alone is the query named `query`; the aggregator defaults to `last`;
  the result is the first value of the first column; `data.errors` is an Error.
- 401/403 are "received authentication error response code", other non-200 (429 rate limits included)
  "received non 2xx response code", each with Datadog's body (its `errors` explain the reason).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from analysis.conditions import Value
from analysis.expr.gofmt import format_float
from analysis.expr.gotime import TimeError, parse_duration
from analysis.measurement import error_measurement, measurement_from_result, with_shown_value
from analysis.providers.base import Clock, CredentialsError, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.http import HttpError, HttpResponse, error_body, json_body, request, with_query
from rollouts.api.analysis import DatadogMetric, Measurement, Metric

DEFAULT_ADDRESS = "https://api.datadoghq.com"
SECRET_NAME = "datadog"
KEYS = ("api-key", "app-key", "address")


class DatadogError(Exception):
    pass


def spec_problem(spec: DatadogMetric) -> str | None:
    """Argo's validation of a datadog metric (the CRD cannot say one-of), in Argo's words."""
    if not spec.query and not spec.queries:
        return "Must have either a query or queries. Please review the Analysis Template."
    if spec.query and spec.queries:
        return "Cannot have both a query and queries. Please review the Analysis Template."
    if spec.api_version == "v1" and not spec.query:
        return "Query is empty. API Version v1 only supports using the query parameter in your Analysis Template."
    if spec.formula and not spec.queries:
        return "Formula are only valid when queries are set. Please review the Analysis Template."
    if not spec.formula and len(spec.queries) > 1:
        return "When multiple queries are provided you must include a formula."
    if spec.api_version == "v1" and spec.aggregator:
        return "Aggregator is not supported in v1. Please review the Analysis Template."
    if spec.request_timeout:
        try:
            timeout = parse_duration(spec.request_timeout)
        except TimeError as exc:
            return f"Could not parse the request timeout: {exc}. Please review the Analysis Template."
        if timeout <= 0:
            return "Request timeout must be a positive duration (e.g. 30s). Please review the Analysis Template."
    return None


def _from_env(environ: Mapping[str, str]) -> tuple[str, str, str] | None:
    names = [f"DD_{key.upper().replace('-', '_')}" for key in KEYS]
    if all(name in environ for name in names):
        api_key, app_key, address = (environ[name] for name in names)
        if api_key and app_key:
            return address, api_key, app_key
    return None


async def credentials(deps: ProviderDeps, spec: DatadogMetric, run_namespace: str,
                      environ: Mapping[str, str] | None = None) -> tuple[str, str, str]:
    """(address, api key, app key), found as Argo finds them."""
    name, namespaced = spec.secret_ref.name, spec.secret_ref.namespaced
    if namespaced and not name:
        raise CredentialsError("secret name is required for namespaced credentials")
    candidates: list[tuple[str, str]] = []
    if name:
        candidates.append((name, run_namespace if namespaced else deps.namespace))
    else:
        found = _from_env(os.environ if environ is None else environ)
        if found is not None:
            return found
        candidates.append((SECRET_NAME, deps.namespace))
    for secret_name, namespace in candidates:
        try:
            data = await deps.secret_data(secret_name, namespace=namespace, credentials=("api-key", "app-key"))
        except CredentialsError:
            continue  # Argo logs the miss at debug level and reports the summary below
        if data.get("api-key") and data.get("app-key"):
            return data.get("address", ""), data["api-key"], data["app-key"]
    raise CredentialsError("failed to find the credentials for datadog metrics provider")


def build_request(spec: DatadogMetric, address: str, now: int) -> tuple[str, str, bytes | None]:
    """(method, url, body) of the query over [now - interval, now] (`now` in Unix seconds)."""
    interval = parse_duration(spec.interval) // 1_000_000_000
    base = address or DEFAULT_ADDRESS
    if spec.api_version == "v1":
        params = {"query": spec.query, "from": str(now - interval), "to": str(now)}
        return "GET", with_query(base + "/api/v1/query", params), None
    queries = {"query": spec.query} if spec.query else spec.queries
    aggregator = spec.aggregator or "last"
    payload = {"data": {"attributes": {
        "from": (now - interval) * 1000, "to": now * 1000,
        "queries": [{"aggregator": aggregator, "data_source": "metrics", "name": name, "query": text}
                    for name, text in sorted(queries.items())],
        "formulas": [{"formula": spec.formula}] if spec.formula else [],
    }, "type": "scalar_request"}}
    return "POST", base + "/api/v2/query/scalar", json_body(payload)


def _checked(response: HttpResponse, secrets: tuple[str, ...]) -> Any:
    if response.status in (401, 403):
        raise DatadogError(f"received authentication error response code: {response.status} "
                           f"{error_body(response, secrets)}")
    if response.status != 200:
        raise DatadogError(f"received non 2xx response code: {response.status} {error_body(response, secrets)}")
    try:
        return response.json()
    except HttpError as exc:
        raise DatadogError(f"Could not parse JSON body: {exc}") from None


def result_v1(body: Any) -> tuple[float | None, str]:
    """(result, shown value) of a v1 answer: the last point of the first series, or nil."""
    series = body.get("series") if isinstance(body, dict) else None
    if not series or not (series[0].get("pointlist") or []):
        return None, json.dumps(series if series is not None else None, separators=(",", ":"))
    point = series[0]["pointlist"][-1]
    if not isinstance(point, list) or len(point) != 2:
        raise DatadogError("Datapoint does not have 2 values")
    value = float(point[1])
    return value, format_float(value, "f")


def result_v2(body: Any) -> tuple[float | None, str]:
    """(result, shown value) of a v2 scalar answer: the first value of the first column, or nil."""
    data = body.get("data") if isinstance(body, dict) else None
    data = data if isinstance(data, dict) else {}
    if data.get("errors"):
        raise DatadogError(f"There were errors in your query: {data['errors']}")
    columns = (data.get("attributes") or {}).get("columns")
    values = columns[0].get("values") if columns else None
    if not values or values[0] is None:
        if columns and len(columns) == 1:
            return None, json.dumps(values, separators=(",", ":"))
        shaped = None if columns is None else [{"Values": c.get("values")} for c in columns]
        return None, json.dumps({"Columns": shaped}, separators=(",", ":"))
    value = float(values[0])
    return value, format_float(value, "f")


class DatadogProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.deps = deps
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.datadog
        if spec is None:
            return error_measurement("datadog provider is not set", started_at=started, finished_at=started)
        try:
            address, api_key, app_key = await credentials(self.deps, spec, context.namespace)
            problem = spec_problem(spec)
            if problem:
                raise DatadogError(problem)
            method, url, body = build_request(spec, address, int(started.timestamp()))
            headers = {"Content-Type": "application/json", "DD-API-KEY": api_key, "DD-APPLICATION-KEY": app_key}
            secrets = (api_key, app_key, *context.secrets)
            timeout = parse_duration(spec.request_timeout or "10s") / 1e9
            response = await request(method, url, headers=headers, body=body, timeout=timeout, secrets=secrets)
            answer = _checked(response, secrets)
            result, shown = result_v1(answer) if spec.api_version == "v1" else result_v2(answer)
        except (CredentialsError, DatadogError, HttpError, TimeError) as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        value: Value = result
        measurement = await measurement_from_result(metric, value, sandbox=self.sandbox, started_at=started,
                                                    finished_at=self.clock(), secrets=context.secrets)
        return with_shown_value(measurement, shown, secrets=context.secrets)
