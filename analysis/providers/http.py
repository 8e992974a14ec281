"""The one HTTP client of the vendor providers (Datadog, New Relic, Wavefront, Graphite, InfluxDB, Kayenta,
SkyWalking, CloudWatch): timeouts, a bounded body, and errors worded as Argo reports them.

Argo's providers use Go's net/http, so a backend that cannot be reached shows up in a measurement as Go's
`*url.Error`: `Get "http://graphite:8080/render?...": dial tcp 10.0.0.7:8080: connect: connection refused`,
`Post "https://api.datadoghq.com/api/v2/query/scalar": context deadline exceeded (Client.Timeout exceeded
while awaiting headers)`. Users grep their runs (and alert) on those words, so `transport_error` translates
aiohttp's exceptions into them rather than showing Python class names.

Credentials travel in headers, query strings and bodies (API keys, tokens, signatures); every error this
module raises is redacted of the `secrets` the caller names (analysis.redaction) before anyone sees it, and
the caller registers them process-wide (`remember`) so log lines redact them too.

A response is read to its end up to MAX_BODY_BYTES (aiohttp's `read(n)` stops at what has arrived so far);
a larger body is an error, never a silently cut value.
"""

from __future__ import annotations

import errno
import json
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from analysis.redaction import redact, redact_then_cut

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_ERROR_BODY = 400
"""Characters of an error response's body quoted in a measurement's message (vendors explain errors there)."""


class HttpError(Exception):
    """A request that did not give a usable response; the message is final (worded, redacted, cut)."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def status_line(self) -> str:
        """Go's Response.Status: "401 Unauthorized"."""
        return f"{self.status} {self.reason}".strip()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; HttpError worded as Go's encoding/json when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HttpError(go_json_error(self.body, exc)) from None


def go_json_error(body: bytes, exc: Exception) -> str:
    """Go's json.Unmarshal message for an unreadable body: `invalid character 'i' looking for beginning of
    value` or `unexpected end of JSON input` (Argo puts these in measurements verbatim)."""
    stripped = body.strip()
    if not stripped:
        return "unexpected end of JSON input"
    text = body.decode("utf-8", errors="replace")
    if isinstance(exc, json.JSONDecodeError) and exc.pos < len(text):
        where = "after top-level value" if exc.msg.startswith("Extra data") else "looking for beginning of value"
        return f"invalid character {text[exc.pos]!r} {where}"
    return "unexpected end of JSON input"


def go_operation(method: str) -> str:
    """Go's url.Error op: the method with only its first letter upper case ("GET" -> "Get")."""
    return method[:1].upper() + method[1:].lower()


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def transport_error(method: str, url: str, exc: BaseException) -> str:
    """A failed request as Go's http.Client reports it: `<Op> "<url>": <cause>`."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        cause = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    elif isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cause = "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    elif isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, ssl.SSLError):
        cause = f"remote error: tls: {exc.os_error.reason or 'handshake failure'}".lower()
    elif isinstance(exc, aiohttp.ClientConnectorError) and exc.os_error.errno == errno.ECONNREFUSED:
        cause = f"dial tcp {_host_port(url)}: connect: connection refused"
    elif isinstance(exc, aiohttp.ClientConnectorError) and _is_dns(exc):
        cause = f"dial tcp: lookup {urlsplit(url).hostname}: no such host"
    elif isinstance(exc, aiohttp.ClientConnectorError):
        cause = f"dial tcp {_host_port(url)}: {exc.os_error.strerror or exc.os_error}".lower()
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        cause = "EOF"
    elif isinstance(exc, aiohttp.InvalidURL):
        cause = "unsupported protocol scheme" if "://" not in url else f"invalid URL {url!r}"
    else:
        cause = str(exc) or type(exc).__name__
    return f"{go_operation(method)} {json.dumps(url)}: {cause}"


def _is_dns(exc: aiohttp.ClientConnectorError) -> bool:
    dns_error = getattr(aiohttp, "ClientConnectorDNSError", None)
    if dns_error is not None and isinstance(exc, dns_error):
        return True
    import socket

    return isinstance(exc.os_error, socket.gaierror)


def with_query(url: str, params: Mapping[str, str] | Sequence[tuple[str, str]] | None) -> str:
    """`url` with `params` appended as Go's url.Values.Encode writes them (keys sorted)."""
    if not params:
        return url
    pairs = sorted(params.items()) if isinstance(params, Mapping) else list(params)
    return url + ("&" if "?" in url else "?") + urlencode(pairs)


async def _read(response: aiohttp.ClientResponse) -> bytes:
    declared = response.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise HttpError(f"response body larger than {MAX_BODY_BYTES} bytes (Content-Length {declared})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HttpError(f"response body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def request(
    method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | str | None = None,
    timeout: float = 10.0, insecure: bool = False, secrets: Sequence[str] = (),
) -> HttpResponse:
    """One request, any status; HttpError (Go-worded, secrets redacted) when no response arrived in time.

    `timeout` bounds the whole exchange, body included, like Go's http.Client.Timeout."""
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    try:
        async with aiohttp.ClientSession(timeout=client_timeout) as session, session.request(
            method, url, headers=dict(headers or {}), data=body, ssl=not insecure,
            allow_redirects=True,
        ) as response:
            raw = await _read(response)
            return HttpResponse(status=response.status, body=raw, headers=dict(response.headers),
                                reason=response.reason or "")
    except HttpError as exc:
        raise HttpError(redact(str(exc), secrets)) from None
    except (aiohttp.ClientError, TimeoutError, ValueError, OSError) as exc:
        raise HttpError(redact_then_cut(transport_error(method, url, exc), secrets, 1000)) from None


def error_body(response: HttpResponse, secrets: Sequence[str] = ()) -> str:
    """The response body for an error message: redacted, then cut (a vendor may echo a key back)."""
    return redact_then_cut(response.text.strip(), secrets, MAX_ERROR_BODY)


def json_body(value: Any) -> bytes:
    """JSON as Go's json.Marshal writes it for a request body (no spaces)."""
    return json.dumps(value, separators=(",", ":")).encode()


__all__ = ["MAX_BODY_BYTES", "HttpError", "HttpResponse", "error_body", "go_json_error", "go_operation",
           "json_body", "request", "transport_error", "with_query"]
