"""CloudWatch metric provider: GetMetricData over the last `interval`, signed with SigV4, as Argo's.

Credentials and region come from the AWS SDK's default chain (analysis.providers.aws: environment, IRSA web
identity, shared files, container credentials, EC2 role), so an IRSA-annotated service account works as it
does for Argo. The request is CloudWatch's JSON protocol (POST / with `X-Amz-Target:
GraniteServiceVersion20100801.GetMetricData`, `Content-Type: application/x-amz-json-1.0`) to
https://monitoring.<region>.amazonaws.com (AWS_ENDPOINT_URL_CLOUDWATCH overrides it, as in the SDK), with
StartTime = now - interval (default 5m), EndTime = now and the metric's `metricDataQueries` (`id`,
`expression`, `label`, `metricStat` {metric {namespace, metricName, dimensions}, period, stat, unit},
`period`, `returnData`).

`result` is the list of MetricDataResults with the SDK's field names (`result[0].Values`, `Id`, `Label`,
`StatusCode`, `Timestamps`), so Argo's documented `all(result[0].Values, {# <= 0.01})` works; the shown value
is Go's `%+v` of the values (`[[0.004 0.006]]`), CloudWatch's messages go to `metadata.messages`. An error
answer is worded as the SDK words it (`operation error CloudWatch: GetMetricData, https response error
StatusCode: 400, RequestID: ..., InvalidParameterValue: ...`); throttling is an Error the run retries.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from analysis.conditions import Value, float64_vector
from analysis.expr.gofmt import format_float
from analysis.expr.gotime import TimeError, parse_duration
from analysis.expr.values import GoTime
from analysis.measurement import error_measurement, measurement_from_result, with_shown_value
from analysis.providers.aws import AwsError, CredentialCache, endpoint, json_error, region, sign
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.http import HttpError, json_body, request
from rollouts.api.analysis import CloudWatchMetricDataQuery, Measurement, Metric

TIMEOUT = 30.0
TARGET = "GraniteServiceVersion20100801.GetMetricData"


def _int(value: int | str) -> int:
    """intstr.IntValue(): an int, or a string's integer (0 when it is not one)."""
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        return 0


def query_body(query: CloudWatchMetricDataQuery) -> dict[str, Any]:
    """One MetricDataQuery in the API's shape (only the fields that are set)."""
    body: dict[str, Any] = {"Id": query.id}
    for key, value in (("Expression", query.expression), ("Label", query.label), ("ReturnData", query.return_data)):
        if value is not None:
            body[key] = value
    if query.period is not None:
        body["Period"] = _int(query.period)
    stat = query.metric_stat
    if stat is not None:
        metric: dict[str, Any] = {"MetricName": stat.metric.metric_name}
        if stat.metric.namespace is not None:
            metric["Namespace"] = stat.metric.namespace
        if stat.metric.dimensions:
            metric["Dimensions"] = [{"Name": d.name, "Value": d.value} for d in stat.metric.dimensions]
        body["MetricStat"] = {"Metric": metric, "Period": _int(stat.period), "Stat": stat.stat,
                              **({"Unit": stat.unit} if stat.unit else {})}
    return body


def results_of(body: Any) -> tuple[Value, str, dict[str, str]]:
    """(result, shown value, metadata) of a GetMetricData answer."""
    results = body.get("MetricDataResults") if isinstance(body, dict) else None
    shaped: list[Value] = []
    shown: list[str] = []
    for item in results if isinstance(results, list) else []:
        values = [float(v) for v in item.get("Values") or []]
        shaped.append({"Id": item.get("Id"), "Label": item.get("Label"), "StatusCode": item.get("StatusCode", ""),
                       "Timestamps": [GoTime(int(float(t) * 1_000_000_000)) for t in item.get("Timestamps") or []],
                       "Values": float64_vector(values), "Messages": item.get("Messages") or []})
        shown.append("[" + " ".join(format_float(v) for v in values) + "]")
    messages = body.get("Messages") if isinstance(body, dict) else None
    metadata = {}
    if messages:
        listed = " ".join(f"{{Code:{m.get('Code')} Value:{m.get('Value')}}}" for m in messages)
        metadata["messages"] = f"[{listed}]"
    return shaped, "[" + " ".join(shown) + "]", metadata


class CloudWatchProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox
        self.credentials = CredentialCache()

    async def _get_metric_data(self, payload: bytes, secrets: tuple[str, ...]) -> Any:
        now = self.clock()
        where = region()
        credentials = await self.credentials.get(now)
        url = endpoint("CLOUDWATCH", f"https://monitoring.{where}.amazonaws.com", os.environ) + "/"
        headers = sign("POST", url, {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": TARGET},
                       payload, credentials=credentials, region_name=where, service="monitoring", now=now)
        response = await request("POST", url, headers=headers, body=payload, timeout=TIMEOUT,
                                 secrets=(*credentials.secrets, *secrets))
        if not response.ok:
            raise AwsError(json_error(response.status, response.headers, response.text, service="CloudWatch",
                                      operation="GetMetricData"))
        return response.json()

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.cloud_watch
        if spec is None:
            return error_measurement("cloudWatch provider is not set", started_at=started, finished_at=started)
        try:
            interval = timedelta(microseconds=parse_duration(spec.interval or "5m") // 1000)
            payload = json_body({"StartTime": int((started - interval).timestamp()),
                                 "EndTime": int(started.timestamp()),
                                 "MetricDataQueries": [query_body(q) for q in spec.metric_data_queries]})
            result, shown, metadata = results_of(await self._get_metric_data(payload, context.secrets))
        except (AwsError, HttpError, TimeError) as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        measurement = await measurement_from_result(metric, result, sandbox=self.sandbox, started_at=started,
                                                    finished_at=self.clock(), secrets=context.secrets)
        measurement = with_shown_value(measurement, shown, secrets=context.secrets, on_error=True)
        return measurement.model_copy(update={"metadata": metadata or None}) if metadata else measurement
