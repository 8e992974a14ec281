"""A local HTTP server (127.0.0.1 only) for the metric providers' tests, and a SecretReader holding Secrets.

Each test module builds its vendor's handlers on top of `serve`: the handler checks the request the
vendor documents (path, query, headers, body, signature) and answers with the vendor's documented shapes,
errors and rate limits. Every request is recorded in `Server.requests`, so a test asserts on what was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from analysis.providers import MeasurementContext, ProviderDeps

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    base: str = ""
    requests: list[Recorded] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(routes: dict[tuple[str, str], Handler]) -> AsyncIterator[Server]:
    """Serve `routes` ((method, path) -> handler) on 127.0.0.1; every request is recorded first."""
    server = Server()

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        server.requests.append(Recorded(request.method, request.path, dict(request.query),
                                        dict(request.headers), await request.read()))
        return await handler(request)

    app = web.Application(middlewares=[record])
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    server.base = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@dataclass
class Secrets:
    """A SecretReader over {(namespace, name): {key: value}}; values are stored base64-encoded, as the API
    returns them. (The controller's KubeSecretReader is proven against the real API server elsewhere.)"""

    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    reads: list[tuple[str, str]] = field(default_factory=list)

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.reads.append((namespace, name))
        data = self.secrets.get((namespace, name))
        if data is None:
            return None
        return {"metadata": {"name": name, "namespace": namespace},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def deps_with(secrets: Secrets | None = None, *, now: datetime | None = None,
              namespace: str = "argo-rollouts") -> ProviderDeps:
    if now is None:
        return ProviderDeps(secret_reader=secrets, namespace=namespace)
    fixed = now
    return ProviderDeps(clock=lambda: fixed, secret_reader=secrets, namespace=namespace)


def context(namespace: str = "apps", secrets: tuple[str, ...] = ()) -> MeasurementContext:
    return MeasurementContext(namespace=namespace, run_name="run", run_uid="uid",
                              started_at=datetime(2026, 1, 1, tzinfo=UTC), secrets=secrets)


def verify_signature(method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, secret: str,
                     *, service: str) -> str | None:
    """A server's own SigV4 check, written from AWS's documentation independently of analysis.providers.aws:
    None when the request's signature is valid for `secret` and `service`, else the AWS error code."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "MissingAuthenticationToken"
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    _, day, region, signed_service, _ = fields["Credential"].split("/")
    names = fields["SignedHeaders"].split(";")
    if signed_service != service or "host" not in names or "x-amz-date" not in names:
        return "IncompleteSignature"
    lower = {k.lower(): v for k, v in headers.items()}
    encode = lambda text: quote(text, safe="-_.~")  # noqa: E731
    canonical_query = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(query.items()))
    canonical = "\n".join([method, quote(path, safe="/-_.~"), canonical_query,
                           "".join(f"{n}:{lower[n].strip()}\n" for n in names), ";".join(names),
                           hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{lower['x-amz-date']}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, fields["Signature"]) else "SignatureDoesNotMatch"
