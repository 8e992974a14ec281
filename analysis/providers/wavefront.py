"""Wavefront metric provider: the chart API at the measurement's start time, as Argo's (go-wavefront).

The token is the value of the key named like `address` in the Secret `wavefront-api-tokens` (controller's
namespace): `example.wavefront.com: <token>`. The request is GET https://<address>/api/v2/chart/api with
`q` (the query), `s` = `e` = the start time in epoch milliseconds, `g=s`, `p=1`, `i=true` and
`Authorization: Bearer <token>`. Beyond Argo, an `address` written as a URL (`http://wavefront-proxy:8080`)
is used as it is, for a proxy inside the cluster.

Per series, the data point closest to the start time is taken: one series gives a float, several a
`[]float64`; the shown value is Go's `%.2f` (`[0.95,0.97]` as `[0.95,0.97]`), and the measurement's
metadata records the points' `timestamps`, their `drift` from the start time and Wavefront's `warnings`.
No series is an Error ("No TimeSeries found in response from Wavefront"); a non-200 status is
`server returned 401 Unauthorized` followed by Wavefront's body, as go-wavefront reports it.
"""

from __future__ import annotations

import math
from typing import Any

from analysis.conditions import Value, float64_vector
from analysis.measurement import error_measurement, measurement_from_result, with_shown_value
from analysis.providers.base import Clock, CredentialsError, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.http import HttpError, request, with_query
from rollouts.api.analysis import Measurement, Metric

SECRET_NAME = "wavefront-api-tokens"
TIMEOUT = 30.0


class WavefrontError(Exception):
    pass


def chart_url(address: str, query: str, start_ms: int) -> str:
    base = address.rstrip("/") if "://" in address else f"https://{address}"
    params = {"q": query, "s": str(start_ms), "e": str(start_ms), "g": "s", "p": "1", "i": "true"}
    return with_query(base + "/api/v2/chart/api", params)


def closest_point(points: list[Any], start: float) -> tuple[float, int, int]:
    """(value, epoch, drift) of the point nearest `start` (epoch seconds); (0, 0, 0) without points."""
    value, epoch, delta = 0.0, 0.0, math.inf
    for point in points:
        if not isinstance(point, list) or len(point) != 2:
            raise WavefrontError(f"json: cannot unmarshal data point {point!r} into Go value of type [2]float64")
        new_delta = float(point[0]) - start
        if abs(new_delta) < abs(delta):
            value, epoch, delta = float(point[1]), float(point[0]), new_delta
    return value, int(epoch), 0 if math.isinf(delta) else int(delta)


def series_values(body: Any, start: float) -> tuple[Value, str, dict[str, str]]:
    """(result, shown value, metadata) of a chart API answer."""
    series = body.get("timeseries") if isinstance(body, dict) else None
    if not series:
        raise WavefrontError("No TimeSeries found in response from Wavefront")
    picked = [closest_point(s.get("data") or [], start) for s in series]
    metadata = {"warnings": body["warnings"]} if body.get("warnings") else {}
    if len(picked) == 1:
        value, epoch, drift = picked[0]
        return value, f"{value:.2f}", {**metadata, "timestamps": str(epoch), "drift": str(drift)}
    joined = {
        "timestamps": "[" + ",".join(str(p[1]) for p in picked) + "]",
        "drift": "[" + ",".join(str(p[2]) for p in picked) + "]",
    }
    shown = "[" + ",".join(f"{p[0]:.2f}" for p in picked) + "]"
    return float64_vector([p[0] for p in picked]), shown, {**metadata, **joined}


class WavefrontProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.deps = deps
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def _token(self, address: str) -> str:
        data = await self.deps.secret_data(SECRET_NAME, credentials=(address,))
        token = data.get(address)
        if not token:
            raise CredentialsError("API token not found")
        return token

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.wavefront
        if spec is None:
            return error_measurement("wavefront provider is not set", started_at=started, finished_at=started)
        start = int(started.timestamp())
        try:
            token = await self._token(spec.address)
            response = await request("GET", chart_url(spec.address, spec.query, start * 1000), timeout=TIMEOUT,
                                     headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                                     secrets=(token, *context.secrets))
            if response.status != 200:
                raise WavefrontError(f"server returned {response.status_line}\n{response.text}\n")
            result, shown, metadata = series_values(response.json(), float(start))
        except (CredentialsError, WavefrontError, HttpError) as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        measurement = await measurement_from_result(metric, result, sandbox=self.sandbox, started_at=started,
                                                    finished_at=self.clock(), secrets=context.secrets)
        measurement = measurement.model_copy(update={"metadata": metadata})
        return with_shown_value(measurement, shown, secrets=context.secrets)
