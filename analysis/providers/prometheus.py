"""Prometheus metric provider: one instant query per measurement, results shaped as Argo shapes them.

- scalar -> a float (`result < 0.01`);
- vector -> a Go `[]float64`, one per sample (`result[0] >= 0.95`, `len(result) > 0`), exactly the type
  Argo passes, so `result > 0.5` on a vector is the same compile error it is in Argo; an empty vector is
  an empty slice so `len(result) == 0` works;
- NaN and +-Inf samples pass through to the condition (`isNaN(result[0])`);
- a range vector (matrix) or a string is an Error measurement, as in Argo.

prometheus-api-client is synchronous (requests), so the query runs in a worker thread
(`asyncio.to_thread`) under an asyncio deadline; `timeout` (seconds) is also sent to Prometheus as the
query's own timeout. Headers are sent as given; oauth2 client-credentials tokens are fetched with
aiohttp; sigv4 is not supported and says so.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import aiohttp

from analysis.conditions import Value, float64_vector
from analysis.measurement import error_measurement, measurement_from_result
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, ProviderDeps
from rollouts.api.analysis import Measurement, Metric, PrometheusMetric

DEFAULT_TIMEOUT = 30


class ProviderError(Exception):
    """A measurement could not be taken; the message goes to the Error measurement."""


def _number(text: Any) -> float:
    try:
        return float(text)  # Prometheus writes "NaN", "+Inf", "-Inf": float() reads all three
    except (TypeError, ValueError):
        raise ProviderError(f"Prometheus returned a non-numeric sample value {text!r}") from None


def shape_result(result: Any) -> Value:
    """Argo's result shape for the `data.result` of an instant query (vector, scalar, matrix or string)."""
    if isinstance(result, list) and all(isinstance(item, dict) for item in result):
        if any("values" in item for item in result):
            raise ProviderError("Prometheus returned a range vector (matrix); use an instant vector or scalar "
                                "query")
        return float64_vector([_number(sample["value"][1]) for sample in result])
    if isinstance(result, list) and len(result) == 2 and isinstance(result[0], int | float):
        return _number(result[1])
    raise ProviderError(f"Prometheus returned a result this provider cannot read: {str(result)[:200]}")


async def oauth2_token(metric: PrometheusMetric, timeout: float) -> str | None:
    auth = metric.authentication
    if auth is None:
        return None
    if auth.sigv4 is not None:
        raise ProviderError("sigv4 authentication is not supported by this controller")
    oauth = auth.oauth2
    if oauth is None or not oauth.token_url:
        return None
    form = {"grant_type": "client_credentials", "client_id": oauth.client_id or "",
            "client_secret": oauth.client_secret or ""}
    if oauth.scopes:
        form["scope"] = " ".join(oauth.scopes)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
            session.post(oauth.token_url, data=form) as response:
        if response.status >= 300:
            raise ProviderError(f"oauth2 token request failed with HTTP {response.status}")
        body = await response.json(content_type=None)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise ProviderError("oauth2 token response has no access_token")
    return token


def query_sync(address: str, query: str, headers: dict[str, str], timeout: int, insecure: bool) -> Value:
    """Run one instant query (blocking; called in a worker thread)."""
    from prometheus_api_client import PrometheusConnect  # heavy import, only where it is used
    from urllib3.util.retry import Retry

    # No client-side retries: a failed query is an Error measurement and the run retries it in 10 s.
    client = PrometheusConnect(url=address, headers=headers, disable_ssl=insecure, timeout=timeout,
                               retry=Retry(total=0, raise_on_status=False))
    return shape_result(client.custom_query(query, params={"timeout": f"{timeout}s"}))


class PrometheusProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.prometheus
        if spec is None or not spec.address or not spec.query:
            return error_measurement("prometheus provider needs an address and a query", started_at=started,
                                     finished_at=self.clock())
        timeout = spec.timeout or DEFAULT_TIMEOUT
        headers = {h.key: h.value for h in spec.headers}
        try:
            token = await oauth2_token(spec, timeout)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            result = await asyncio.wait_for(
                asyncio.to_thread(query_sync, spec.address, spec.query, headers, timeout, spec.insecure),
                timeout=timeout + 1,
            )
        except TimeoutError:
            return error_measurement(f"Prometheus query timed out after {timeout}s", started_at=started,
                                     finished_at=self.clock())
        except Exception as exc:  # any backend failure is an Error measurement, never a crash
            return error_measurement(_describe(exc), started_at=started, finished_at=self.clock())
        return await measurement_from_result(metric, result, sandbox=self.sandbox, started_at=started,
                                             finished_at=self.clock(), secrets=context.secrets)


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ProviderError):
        return text
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
