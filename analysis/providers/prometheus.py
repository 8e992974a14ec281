"""Prometheus metric provider: one instant query per measurement, results shaped as Argo shapes them.

- scalar -> a float (`result < 0.01`);
- vector -> a Go `[]float64`, one per sample (`result[0] >= 0.95`, `len(result) > 0`), exactly the type
  Argo passes, so `result > 0.5` on a vector is the same compile error it is in Argo; an empty vector is
  an empty slice so `len(result) == 0` works;
- NaN and +-Inf samples pass through to the condition (`isNaN(result[0])`);
- a range vector (matrix: a `rangeQuery`, or an instant query of a range selector) is every sample of every
  series, in order, as a `[]float64`; a string is an Error measurement, as in Argo.

prometheus-api-client is synchronous (requests), so the query runs in a worker thread
(`asyncio.to_thread`) under an asyncio deadline; `timeout` (seconds, default 30) is the HTTP timeout and is
also sent to Prometheus as the query's own timeout. `insecure`, `headers`, `authentication.oauth2` and
`authentication.sigv4` (Amazon Managed Prometheus) are carried by the requests session the client uses
(analysis.providers.prometheus_session). Without `address`, ARGO_ROLLOUTS_PROMETHEUS_ADDRESS is used, as in
Argo.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from analysis.conditions import DEFAULT_BUDGET, Value, float64_vector
from analysis.expr.argo import eval_time
from analysis.expr.errors import ExprError
from analysis.expr.gotime import TimeError, parse_duration
from analysis.measurement import error_measurement, measurement_from_result
from analysis.providers.aws import AwsCredentials, CredentialCache, region
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.providers.prometheus_session import OAuth2Error, TokenCache, build_session, uses_sigv4
from analysis.redaction import redact_then_cut
from rollouts.api.analysis import Measurement, Metric, PrometheusMetric, PrometheusRangeQuery

DEFAULT_TIMEOUT = 30
ADDRESS_ENV = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS"


class ProviderError(Exception):
    """A measurement could not be taken; the message goes to the Error measurement."""


def _number(text: Any) -> float:
    try:
        return float(text)  # Prometheus writes "NaN", "+Inf", "-Inf": float() reads all three
    except (TypeError, ValueError):
        raise ProviderError(f"Prometheus returned a non-numeric sample value {text!r}") from None


def shape_result(result: Any) -> Value:
    """Argo's result shape for a query's `data.result`: a vector is one float per sample, a matrix (a range
    query, or an instant query of a range selector) every sample of every series in order, a scalar a float;
    a string is an Error ("Prometheus metric type not supported")."""
    if isinstance(result, list) and all(isinstance(item, dict) for item in result):
        samples: list[float] = []
        for item in result:
            if "values" in item:
                samples.extend(_number(point[1]) for point in item["values"])
            else:
                samples.append(_number(item["value"][1]))
        return float64_vector(samples)
    if isinstance(result, list) and len(result) == 2 and isinstance(result[0], int | float):
        return _number(result[1])
    raise ProviderError("Prometheus metric type not supported")


def address_of(spec: PrometheusMetric, environ: Mapping[str, str]) -> str:
    """The metric's address, else ARGO_ROLLOUTS_PROMETHEUS_ADDRESS (Argo's fallback), checked as a URL."""
    address = spec.address or environ.get(ADDRESS_ENV, "")
    if not address:
        raise ProviderError("prometheus address is not configured")
    parts = urlsplit(address)
    if not parts.scheme or not parts.netloc:
        raise ProviderError("prometheus address is not is url format")  # sic, Argo's words
    return address


@dataclass(frozen=True, slots=True)
class Window:
    """A range query's [start, end] and step (seconds), from Argo's rangeQuery expressions."""

    start: datetime
    end: datetime
    step: float


def range_window(spec: PrometheusRangeQuery) -> Window:
    """Argo's executeQuery: start and end evaluated as expr times, step as a Go duration, in Argo's words."""
    moments: list[datetime] = []
    for field, expression in (("start", spec.start), ("end", spec.end)):
        try:
            moment = eval_time(expression, budget=DEFAULT_BUDGET)
        except ExprError as exc:
            raise ProviderError(f"failed to parse rangeQuery.{field} as time: {exc.message}") from None
        moments.append(datetime.fromtimestamp(moment.unix_nano / 1e9, tz=UTC))
    try:
        step = parse_duration(spec.step) / 1e9
    except TimeError as exc:
        raise ProviderError(f"failed to parse rangeQuery.step as duration: {exc}") from None
    return Window(moments[0], moments[1], step)


def query_sync(address: str, query: str, session: requests.Session, timeout: float, window: Window | None = None
               ) -> Value:
    """Run one instant (or, with `window`, range) query (blocking; called in a worker thread)."""
    from prometheus_api_client import PrometheusConnect  # heavy import, only where it is used
    from urllib3.util.retry import Retry

    # No client-side retries: a failed query is an Error measurement and the run retries it in 10 s.
    client = PrometheusConnect(url=address, session=session, timeout=timeout,
                               retry=Retry(total=0, raise_on_status=False))
    params = {"timeout": f"{timeout:g}s"}
    if window is None:
        return shape_result(client.custom_query(query, params=params))
    return shape_result(client.custom_query_range(query, start_time=window.start, end_time=window.end,
                                                  step=f"{window.step:g}", params=params))


class PrometheusProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox
        self.tokens = TokenCache()
        self.aws = CredentialCache()

    async def _aws(self, spec: PrometheusMetric) -> tuple[AwsCredentials, str] | None:
        """SigV4 credentials and region, resolved here on the event loop (their sources are async)."""
        if not uses_sigv4(spec) or spec.authentication is None or spec.authentication.sigv4 is None:
            return None
        sigv4 = spec.authentication.sigv4
        where = region(explicit=sigv4.region)
        credentials = await self.aws.get(self.clock(), profile=sigv4.profile, role_arn=sigv4.role_arn,
                                         region_name=where)
        return credentials, where

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.prometheus
        if spec is None or not spec.query:
            return error_measurement("prometheus provider needs a query", started_at=started, finished_at=started)
        timeout = float(DEFAULT_TIMEOUT if spec.timeout is None else spec.timeout)
        secrets = tuple(context.secrets)
        try:
            if timeout < 0:
                raise ProviderError("prometheus timeout should not be negative")
            address = address_of(spec, os.environ)
            oauth = spec.authentication.oauth2 if spec.authentication is not None else None
            if oauth is not None and oauth.token_url and (not oauth.client_id or not oauth.client_secret):
                raise ProviderError("missing mandatory parameter in metric for OAuth2 setup")
            secrets += tuple(s for s in (oauth.client_secret if oauth else None,) if s)
            aws = await self._aws(spec)
            if aws is not None:
                secrets += aws[0].secrets
            window = range_window(spec.range_query) if spec.range_query is not None else None
            session = build_session(spec, timeout=timeout or DEFAULT_TIMEOUT, tokens=self.tokens, aws=aws)
            result = await asyncio.wait_for(
                asyncio.to_thread(query_sync, address, spec.query, session, timeout or DEFAULT_TIMEOUT, window),
                timeout=(timeout or DEFAULT_TIMEOUT) + 1,
            )
        except TimeoutError:
            return error_measurement(f"Prometheus query timed out after {timeout:g}s", started_at=started,
                                     finished_at=self.clock())
        except Exception as exc:  # any backend failure is an Error measurement, never a crash
            return error_measurement(redact_then_cut(_describe(exc), secrets, 1000), started_at=started,
                                     finished_at=self.clock())
        return await measurement_from_result(metric, result, sandbox=self.sandbox, started_at=started,
                                             finished_at=self.clock(), secrets=context.secrets)


def _describe(exc: Exception) -> str:
    """An error of the query as Argo (Go's http.Client) words it where the cause is known."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ProviderError | OAuth2Error):
        return text
    if isinstance(exc, requests.RequestException) and exc.request is not None:
        method, url = str(exc.request.method or "GET").title(), str(exc.request.url or "")
        parts = urlsplit(url)
        if isinstance(exc, requests.Timeout) or "timed out" in text:
            return f'{method} "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        if "Connection refused" in text:
            return f'{method} "{url}": dial tcp {parts.hostname}:{parts.port}: connect: connection refused'
    return f"Prometheus query failed: {text[:400]}"


def query_range_sync(address: str, query: str, *, start: datetime, end: datetime, step_seconds: float,
                     headers: dict[str, str], timeout: int) -> list[float | None]:
    """A range query as one series on the grid start, start+step, ..., end (None where no sample).

    The query must return at most one series (aggregate with sum/avg); several are an error because
    silently adding latencies, or picking one pod, would judge the wrong thing.
    """
    from prometheus_api_client import PrometheusConnect
    from urllib3.util.retry import Retry

    client = PrometheusConnect(url=address, headers=headers, timeout=timeout,
                               retry=Retry(total=0, raise_on_status=False))
    step = f"{step_seconds:g}s"
    series = client.custom_query_range(query, start_time=start, end_time=end, step=step,
                                       params={"timeout": f"{timeout}s"})
    if len(series) > 1:
        raise ProviderError(f"query {query!r} returned {len(series)} series; aggregate it to one "
                            "(for example sum(...) or avg(...))")
    points = int((end - start).total_seconds() // step_seconds) + 1
    grid: list[float | None] = [None] * points
    for timestamp, text in series[0]["values"] if series else []:
        index = round((float(timestamp) - start.timestamp()) / step_seconds)
        if 0 <= index < points:
            grid[index] = _number(text)
    return grid
