"""Local stand-ins for the vendors' notification endpoints, on 127.0.0.1, checking requests as documented.

* Slack ``POST /api/chat.postMessage`` (https://api.slack.com/methods/chat.postMessage): form-encoded,
  ``token`` and ``channel`` required, ``attachments``/``blocks`` must be JSON arrays; answers
  ``{"ok": true, "channel": ..., "ts": ...}`` or ``{"ok": false, "error": "invalid_auth"}``.
* Teams incoming webhook ``POST /webhookb2/<id>``: a JSON MessageCard (``@type``), answers ``1``.
* GitHub ``POST /api/v3/app/installations/<id>/access_tokens`` (a GitHub App JWT, RS256, verified with
  the app's public key, ``iss`` the app id, at most 10 minutes of lifetime) and ``POST /api/v3/repos/<owner>/
  <repo>/statuses/<sha>`` (``Authorization: token <installation token>``, ``state`` one of error, failure,
  pending, success) (https://docs.github.com/en/rest/commits/statuses).
* Generic webhook: anything under ``/hooks/``, recorded as received.
* SMTP: aiosmtpd with optional AUTH, recording each message.

Every accepted request is appended to ``requests`` (method, path, headers, body, form/json); ``fail``
makes the next N requests to a path prefix answer with a status, to test retries.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SLACK_TOKEN = "xoxb-test-token"
STATES = {"error", "failure", "pending", "success"}


def rsa_key_pair() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None


@dataclass
class Vendors:
    base: str = ""
    requests: list[Received] = field(default_factory=list)
    failures: dict[str, list[int]] = field(default_factory=dict)
    github_app_id: int = 4242
    github_installation: int = 77
    github_public_key: Any = None
    github_private_key: str = ""
    tokens: set[str] = field(default_factory=set)
    delay: float = 0.0
    retry_after: str | None = "0"
    error_rate: float = 0.0

    def fail(self, prefix: str, *statuses: int) -> None:
        self.failures.setdefault(prefix, []).extend(statuses)

    def received(self, prefix: str) -> list[Received]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def _injected_failure(self, path: str) -> int | None:
        for prefix, statuses in self.failures.items():
            if path.startswith(prefix) and statuses:
                return statuses.pop(0)
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        rec = Received(request.method, request.path_qs, dict(request.headers), body)
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self._injected_failure(request.path)
        if status is not None:
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return web.Response(status=status, text="injected failure", headers=headers)
        if request.path == "/api/chat.postMessage":
            return self._slack(request, rec)
        if request.path.startswith("/webhookb2/"):
            return self._teams(request, rec)
        if request.path.startswith("/api/v3/"):
            return self._github(request, rec)
        if request.path == "/metric":
            return web.json_response({"errorRate": self.error_rate})
        self.requests.append(rec)
        return web.Response(status=200, text="ok")

    def _slack(self, request: web.Request, rec: Received) -> web.Response:
        if not request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return web.json_response({"ok": False, "error": "invalid_form_data"})
        rec.form = dict(urllib.parse.parse_qsl(rec.body.decode(), keep_blank_values=True))
        if rec.form.get("token") != SLACK_TOKEN:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if not rec.form.get("channel"):
            return web.json_response({"ok": False, "error": "channel_not_found"})
        for key in ("attachments", "blocks"):
            if key in rec.form and not isinstance(json.loads(rec.form[key]), list):
                return web.json_response({"ok": False, "error": f"invalid_{key}"})
        self.requests.append(rec)
        return web.json_response({"ok": True, "channel": "C0123", "ts": f"{time.time():.6f}"})

    def _teams(self, request: web.Request, rec: Received) -> web.Response:
        try:
            rec.json = json.loads(rec.body)
        except ValueError:
            return web.Response(status=400, text="Bad payload received by generic incoming webhook.")
        if not isinstance(rec.json, dict) or "@type" not in rec.json:
            return web.Response(status=400, text="Summary or Text is required.")
        self.requests.append(rec)
        return web.Response(status=200, text="1")

    def _github(self, request: web.Request, rec: Received) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if request.path == f"/api/v3/app/installations/{self.github_installation}/access_tokens":
            try:
                claims = jwt.decode(auth.removeprefix("Bearer "), self.github_public_key, algorithms=["RS256"],
                                    options={"require": ["iat", "exp", "iss"]})
            except jwt.PyJWTError as exc:
                return web.json_response({"message": f"A JSON web token could not be decoded: {exc}"}, status=401)
            if claims["iss"] != str(self.github_app_id) or claims["exp"] - claims["iat"] > 600:
                return web.json_response({"message": "'Issuer' claim ('iss') must be the app id"}, status=401)
            token = f"ghs_{len(self.tokens)}"
            self.tokens.add(token)
            self.requests.append(rec)
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
            return web.json_response({"token": token, "expires_at": expires}, status=201)
        if request.path.startswith("/api/v3/repos/") and "/statuses/" in request.path:
            if auth.removeprefix("token ") not in self.tokens:
                return web.json_response({"message": "Bad credentials"}, status=401)
            rec.json = json.loads(rec.body)
            if rec.json.get("state") not in STATES:
                return web.json_response({"message": "Validation Failed"}, status=422)
            self.requests.append(rec)
            return web.json_response({"id": 1, **rec.json}, status=201)
        return web.json_response({"message": "Not Found"}, status=404)


@asynccontextmanager
async def vendors() -> AsyncIterator[Vendors]:
    v = Vendors()
    v.github_private_key, v.github_public_key = rsa_key_pair()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", v.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    v.base = f"http://127.0.0.1:{port}"
    try:
        yield v
    finally:
        await runner.cleanup()


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@asynccontextmanager
async def smtp_server(*, login: tuple[str, str] | None = None) -> AsyncIterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port; with ``login``, AUTH is required."""
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    box = Mailbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        box.port = s.getsockname()[1]

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = login is not None and (data.login.decode(), data.password.decode()) == login
        return AuthResult(success=ok, handled=False)

    kwargs: dict[str, Any] = {}
    if login is not None:
        kwargs = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
    controller = Controller(box, hostname="127.0.0.1", port=box.port, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
