"""Apache SkyWalking metric provider: a GraphQL query to the OAP server, as Argo's (machinebox/graphql).

The request is POST <address>/graphql with `{"query": <query>, "variables": {"duration": {"start", "end",
"step": "MINUTE"}}}`, the duration covering the last `interval` in SkyWalking's minute format
(`2026-03-01 1155`, UTC), so a query declares `$duration: Duration!` and passes it on (`readMetricsValues(
condition: {...}, duration: $duration)`). The result is GraphQL's `data` as a JSON value
(`result.service_apdex.values[0].value`); GraphQL errors are Errors (`graphql: <message>`), a body that is
not JSON is `decoding response: ...`. There are no credentials.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from analysis.conditions import Value, from_json_value
from analysis.expr.gojson import marshal
from analysis.expr.gotime import TimeError, parse_duration
from analysis.measurement import error_measurement, measurement_from_result, with_shown_value
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.http import HttpError, json_body, request
from rollouts.api.analysis import Measurement, Metric

TIMEOUT = 30.0
HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json; charset=utf-8"}
MINUTE_FORMAT = "%Y-%m-%d %H%M"


class SkyWalkingError(Exception):
    pass


def data_of(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        raise SkyWalkingError(f"graphql: {first.get('message') if isinstance(first, dict) else first}")
    return body.get("data") if isinstance(body, dict) else None


class SkyWalkingProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.skywalking
        if spec is None:
            return error_measurement("skywalking provider is not set", started_at=started, finished_at=started)
        try:
            interval = timedelta(microseconds=parse_duration(spec.interval or "0s") // 1000)
            duration = {"start": (started - interval).strftime(MINUTE_FORMAT),
                        "end": started.strftime(MINUTE_FORMAT), "step": "MINUTE"}
            response = await request(
                "POST", spec.address.rstrip("/") + "/graphql", timeout=TIMEOUT, secrets=context.secrets,
                headers=HEADERS,
                body=json_body({"query": spec.query, "variables": {"duration": duration}}))
            try:
                body = response.json()
            except HttpError as exc:
                raise SkyWalkingError(f"decoding response: {exc}") from None
            data = data_of(body)
            if data is None:
                raise SkyWalkingError("no results returned from SkyWalking query")
        except (SkyWalkingError, HttpError, TimeError) as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        result: Value = from_json_value(data)
        measurement = await measurement_from_result(metric, result, sandbox=self.sandbox, started_at=started,
                                                    finished_at=self.clock(), secrets=context.secrets)
        return with_shown_value(measurement, marshal(result), secrets=context.secrets)
