"""Web metric provider: an HTTP request whose JSON answer (or a JSONPath into it) is the result.

Argo's web provider takes Kubernetes-style JSONPath templates (`{$.data.ok}`, `{.data.ok}`); we strip the
braces and evaluate the path with jsonpath-ng. One match is the result itself, several are a list. A
non-2xx status, a timeout (`timeoutSeconds`), an unreadable body or a path that matches nothing is an
Error measurement with a message saying which. Header values may come from Secrets through `{{args.x}}`;
the run redacts them from anything it writes.

The body is read to its end, up to MAX_BODY_BYTES: aiohttp's `content.read(n)` returns whatever has arrived
so far (at most n bytes), so a body that arrives in several chunks would be cut and judged on its first
chunk; a body above the limit (by Content-Length, or counted while reading a chunked one) is an Error,
never a truncated value. Decoding the JSON, applying the JSONPath and judging the result (`interpret`) is
CPU-bound on up to 4 MiB of someone else's data, so it runs in the sandbox, off the event loop.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_jsonpath

from analysis.conditions import Value, from_json_value
from analysis.measurement import error_measurement, verdict
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, ProviderDeps
from analysis.sandbox import SandboxError
from rollouts.api.analysis import AnalysisPhase, Measurement, Metric, WebMetric

MAX_BODY_BYTES = 4 * 1024 * 1024


class WebError(Exception):
    pass


def kubernetes_jsonpath(template: str) -> str:
    """`{$.data.ok}` / `{.data.ok}` / `$.data.ok` -> `$.data.ok` (the jsonpath-ng form)."""
    path = template.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1].strip()
    if path.startswith("."):
        path = "$" + path
    if not path.startswith("$"):
        path = "$." + path
    return path


def extract(body: Any, template: str) -> Value:
    try:
        expression = parse_jsonpath(kubernetes_jsonpath(template))
    except (JsonPathParserError, Exception) as exc:  # jsonpath-ng raises several exception types
        raise WebError(f"invalid jsonPath {template!r}: {exc}") from None
    matches = [match.value for match in expression.find(body)]
    if not matches:
        raise WebError(f"jsonPath {template!r} matched nothing in the response")
    return matches[0] if len(matches) == 1 else matches


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, however it is chunked; WebError as soon as it is known to exceed `limit` bytes."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise WebError(f"response body larger than {limit} bytes (Content-Length {declared})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise WebError(f"response body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def interpret(raw: bytes, json_path: str | None, success: str | None, failure: str | None,
              secrets: tuple[str, ...] = ()) -> tuple[AnalysisPhase, str | None, str]:
    """Body bytes -> (phase, message, shown value): JSON, then the JSONPath, then the conditions (sandboxed)."""
    text = raw.decode("utf-8", errors="replace")
    try:
        body: Value = from_json_value(json.loads(text))  # numbers are float64, as Go's json.Unmarshal makes them
    except json.JSONDecodeError:
        if json_path:
            return AnalysisPhase.ERROR, f"response is not JSON, cannot apply jsonPath {json_path!r}", ""
        body = text
    else:
        if json_path:
            try:
                body = extract(body, json_path)
            except WebError as exc:
                return AnalysisPhase.ERROR, str(exc), ""
    return verdict(success, failure, body, secrets)


async def fetch(spec: WebMetric) -> bytes:
    headers = {h.key: h.value for h in spec.headers}
    data: str | bytes | None = spec.body
    if spec.json_body is not None:
        data = json.dumps(spec.json_body)
        headers.setdefault("Content-Type", "application/json")
    timeout = aiohttp.ClientTimeout(total=spec.timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.request(
        spec.method.upper(), spec.url, headers=headers, data=data, ssl=not spec.insecure,
    ) as response:
        if response.status < 200 or response.status >= 300:
            raise WebError(f"received non-2xx response code {response.status} from {spec.method} {spec.url}")
        return await read_body(response, MAX_BODY_BYTES)


class WebProvider(ImmediateProvider):
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        spec = metric.provider.web
        if spec is None:
            return error_measurement("web provider is not set", started_at=started, finished_at=started)
        try:
            raw = await fetch(spec)
        except TimeoutError:
            return error_measurement(f"{spec.method} {spec.url} timed out after {spec.timeout_seconds}s",
                                     started_at=started, finished_at=self.clock())
        except WebError as exc:
            return error_measurement(str(exc), started_at=started, finished_at=self.clock())
        except aiohttp.ClientError as exc:
            return error_measurement(f"{spec.method} {spec.url} failed: {exc}", started_at=started,
                                     finished_at=self.clock())
        try:
            phase, message, value = await self.sandbox.run(interpret, raw, spec.json_path, metric.success_condition,
                                                           metric.failure_condition, context.secrets)
        except SandboxError as exc:
            return error_measurement(f"metric {metric.name!r}: {exc}", started_at=started, finished_at=self.clock())
        if phase is AnalysisPhase.ERROR and not value:
            return error_measurement(message or "the response could not be judged", started_at=started,
                                     finished_at=self.clock())
        return Measurement(phase=phase, value=value, message=message, started_at=started, finished_at=self.clock())
