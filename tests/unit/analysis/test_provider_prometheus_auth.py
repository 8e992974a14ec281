"""Prometheus's connection options, against local servers speaking Prometheus's HTTP API (GET /api/v1/query,
answer `{"status": "success", "data": {"resultType": ..., "result": ...}}`): custom headers, `insecure` TLS
(a self-signed HTTPS server), `timeout`, OAuth2 client credentials (RFC 6749 section 4.4: Basic auth, token
reused until it expires) and SigV4 for Amazon Managed Prometheus (service `aps`, AssumeRole for `roleArn`),
each request's signature checked by the server. Messages are Argo v1.10.2's (metricproviders/prometheus)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from analysis.providers.prometheus import PrometheusProvider
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import Handler, context, deps_with, free_port, serve, verify_signature

SCALAR = {"status": "success", "data": {"resultType": "scalar", "result": [1735689600.0, "0.42"]}}
AKID, SECRET = "AKIAPROMEXAMPLE", "prom-secret-key-EXAMPLE"


def _metric(address: str = "", **prometheus: Any) -> Metric:
    return Metric.model_validate({"name": "m", "successCondition": "result < 0.5", "provider": {"prometheus": {
        "address": address, "query": "sum(rate(errors[5m]))", **prometheus}}})


async def _query(_: web.Request) -> web.Response:
    return web.json_response(SCALAR)


async def test_custom_headers_replace_and_timeout_is_sent() -> None:
    async with serve({("GET", "/api/v1/query"): _query}) as server:
        m = await PrometheusProvider(deps_with()).measure(_metric(server.base, timeout=7, headers=[
            {"key": "X-Scope-OrgID", "value": "team-a"}, {"key": "User-Agent", "value": "rollouts-test"}]), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "0.42")
    sent = server.requests[0]
    assert (sent.headers["X-Scope-OrgID"], sent.headers["User-Agent"]) == ("team-a", "rollouts-test")
    assert sent.query == {"query": "sum(rate(errors[5m]))", "timeout": "7s"}


async def test_a_slow_prometheus_is_an_error_after_timeout() -> None:
    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(4)
        return web.json_response(SCALAR)

    async with serve({("GET", "/api/v1/query"): slow}) as server:
        m = await PrometheusProvider(deps_with()).measure(_metric(server.base, timeout=1), context())
    assert m.phase is AnalysisPhase.ERROR
    assert (m.message or "").endswith(": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"timeout": -1}, "prometheus timeout should not be negative", id="negative-timeout"),
        pytest.param({"address": "prometheus:9090"}, "prometheus address is not is url format", id="not-a-url"),
        pytest.param({"address": ""}, "prometheus address is not configured", id="no-address"),
        pytest.param({"authentication": {"oauth2": {"tokenUrl": "http://127.0.0.1:1/token", "clientId": "a"}}},
                     "missing mandatory parameter in metric for OAuth2 setup", id="oauth2-without-secret"),
    ],
)
async def test_spec_errors_in_argos_words(fields: dict[str, Any], message: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARGO_ROLLOUTS_PROMETHEUS_ADDRESS", raising=False)
    fields = {"address": "http://127.0.0.1:1", **fields}
    m = await PrometheusProvider(deps_with()).measure(_metric(**fields), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, message)


async def test_address_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serve({("GET", "/api/v1/query"): _query}) as server:
        monkeypatch.setenv("ARGO_ROLLOUTS_PROMETHEUS_ADDRESS", server.base)
        m = await PrometheusProvider(deps_with()).measure(_metric(""), context())
    assert m.phase is AnalysisPhase.SUCCESSFUL


def _self_signed(tmp: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    context_ = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context_.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return context_


@pytest.fixture
async def https_prometheus(tmp_path: Path) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/api/v1/query", _query)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=_self_signed(tmp_path)).start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_insecure_skips_tls_verification(https_prometheus: str) -> None:
    provider = PrometheusProvider(deps_with())
    verified = await provider.measure(_metric(https_prometheus), context())
    assert verified.phase is AnalysisPhase.ERROR and "CERTIFICATE_VERIFY_FAILED" in (verified.message or "")
    skipped = await provider.measure(_metric(https_prometheus, insecure=True), context())
    assert (skipped.phase, skipped.value) == (AnalysisPhase.SUCCESSFUL, "0.42")


def _oauth_routes(issued: list[str]) -> dict[tuple[str, str], Handler]:
    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        basic = base64.b64encode(b"rollouts:s3cret-client").decode()
        if form.get("grant_type") != "client_credentials" or request.headers.get("Authorization") != f"Basic {basic}":
            return web.json_response({"error": "invalid_client", "error_description": "bad client"}, status=401)
        issued.append(str(form.get("scope")))
        return web.json_response({"access_token": f"tok-{len(issued)}", "token_type": "bearer", "expires_in": 3600})

    async def query(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer tok-1":
            return web.json_response({"status": "error", "errorType": "unauthorized"}, status=401)
        return web.json_response(SCALAR)

    return {("POST", "/token"): token, ("GET", "/api/v1/query"): query}


async def test_oauth2_client_credentials_token_is_fetched_once_and_reused() -> None:
    issued: list[str] = []
    async with serve(_oauth_routes(issued)) as server:
        def metric(secret: str) -> Metric:
            return _metric(server.base, authentication={"oauth2": {
                "tokenUrl": f"{server.base}/token", "clientId": "rollouts", "clientSecret": secret,
                "scopes": ["metrics.read", "metrics.list"]}})

        provider = PrometheusProvider(deps_with())
        first = await provider.measure(metric("s3cret-client"), context())
        second = await provider.measure(metric("s3cret-client"), context())
        refused = await PrometheusProvider(deps_with()).measure(metric("wrong-secret"), context())
    assert (first.phase, second.phase) == (AnalysisPhase.SUCCESSFUL, AnalysisPhase.SUCCESSFUL)
    assert issued == ["metrics.read metrics.list"]
    assert (refused.phase, refused.message) == (AnalysisPhase.ERROR, 'oauth2: "invalid_client" "bad client"')


STS_ROLE = """<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>
<SessionToken>assumed-session</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
</AssumeRoleResult></AssumeRoleResponse>"""


def _amp_routes(expected_secret: str) -> dict[tuple[str, str], Handler]:
    async def query(request: web.Request) -> web.Response:
        problem = verify_signature("GET", request.path, dict(request.query), dict(request.headers), b"",
                                   expected_secret, service="aps")
        if problem is not None:
            return web.json_response({"message": problem}, status=403)
        return web.json_response(SCALAR)

    async def sts(request: web.Request) -> web.Response:
        problem = verify_signature("GET", request.path, dict(request.query), dict(request.headers), b"", SECRET,
                                   service="sts")
        if problem is not None or request.query.get("Action") != "AssumeRole":
            return web.Response(status=403, text=f"<ErrorResponse><Error><Code>{problem}</Code><Message>denied"
                                                 "</Message></Error></ErrorResponse>")
        return web.Response(text=STS_ROLE, content_type="text/xml")

    return {("GET", "/workspaces/aps-workspaces/ws-1/api/v1/query"): query, ("GET", "/"): sts}


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    return monkeypatch


async def test_sigv4_signs_amazon_managed_prometheus_queries(aws_keys: pytest.MonkeyPatch) -> None:
    async with serve(_amp_routes(SECRET)) as server:
        address = f"{server.base}/workspaces/aps-workspaces/ws-1"
        m = await PrometheusProvider(deps_with()).measure(
            _metric(address, authentication={"sigv4": {"region": "eu-central-1"}}), context())
        unsigned = await PrometheusProvider(deps_with()).measure(_metric(address), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "0.42")
    assert "/eu-central-1/aps/aws4_request" in server.requests[0].headers["Authorization"]
    assert unsigned.phase is AnalysisPhase.ERROR and "403" in (unsigned.message or "")


async def test_sigv4_role_arn_is_assumed_with_sts(aws_keys: pytest.MonkeyPatch) -> None:
    async with serve(_amp_routes("assumed-secret")) as server:
        aws_keys.setenv("AWS_ENDPOINT_URL_STS", server.base)
        m = await PrometheusProvider(deps_with()).measure(_metric(
            f"{server.base}/workspaces/aps-workspaces/ws-1",
            authentication={"sigv4": {"roleArn": "arn:aws:iam::111122223333:role/amp-query"}}), context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "0.42")
    sts_call, query_call = server.requests
    assert sts_call.query["RoleArn"] == "arn:aws:iam::111122223333:role/amp-query"
    assert query_call.headers["X-Amz-Security-Token"] == "assumed-session"

