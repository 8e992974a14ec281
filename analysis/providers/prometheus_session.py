"""The requests session prometheus-api-client queries through: Argo's `insecure`, `headers`, OAuth2 client
credentials and SigV4 (Amazon Managed Prometheus), stacked as Argo stacks its round trippers.

- `insecure` turns TLS verification off (Argo's InsecureSkipVerify);
- `headers` are set on every request, replacing a header of the same name;
- `authentication.sigv4` signs every request with service `aps` when the address is an Amazon Managed
  Prometheus workspace (`aps-workspaces` in it; elsewhere Argo ignores sigv4, and so do we), in
  `sigv4.region` (else the SDK's region) with the SDK's default credentials (`profile` picks a shared
  profile, `roleArn` is assumed with STS AssumeRole); the credentials are resolved on the event loop
  before the query and only the signing happens in the worker thread;
- `authentication.oauth2` (tokenUrl, clientId, clientSecret, scopes) fetches a client-credentials token as
  golang.org/x/oauth2 does (client id and secret as HTTP Basic auth, then in the form if the server refuses
  that), keeps it until it expires, and sends it as `Authorization: Bearer`.

All of this runs in the worker thread that prometheus-api-client's blocking calls run in (never on the event
loop); tokens are shared between threads under a lock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from requests.auth import AuthBase

from analysis.providers.aws import AwsCredentials, sign
from rollouts.api.analysis import OAuth2Config, PrometheusMetric

AMP_MARKER = "aps-workspaces"
TokenKey = tuple[str, str, str, tuple[str, ...]]


class OAuth2Error(requests.RequestException):
    """The token endpoint refused; worded as golang.org/x/oauth2's RetrieveError."""


def uses_sigv4(spec: PrometheusMetric) -> bool:
    auth = spec.authentication
    sigv4 = auth.sigv4 if auth is not None else None
    return (AMP_MARKER in spec.address and sigv4 is not None
            and any((sigv4.region, sigv4.profile, sigv4.role_arn)))


@dataclass
class TokenCache:
    """OAuth2 tokens by (tokenUrl, clientId, sha256 of the secret, scopes), until 10 s before they expire
    (x/oauth2's expiryDelta): a changed secret is a new client."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[TokenKey, tuple[str, float]] = field(default_factory=dict)

    def get(self, key: TokenKey) -> str | None:
        with self.lock:
            found = self.tokens.get(key)
        return found[0] if found is not None and found[1] > time.monotonic() + 10 else None

    def put(self, key: TokenKey, token: str, expires_in: float | None) -> None:
        with self.lock:
            self.tokens[key] = (token, time.monotonic() + (expires_in if expires_in else 3600.0))


def _retrieve_error(response: requests.Response) -> OAuth2Error:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        text = f'oauth2: "{body["error"]}"'
        if body.get("error_description"):
            text += f' "{body["error_description"]}"'
        return OAuth2Error(text)
    return OAuth2Error(f"oauth2: cannot fetch token: {response.status_code} {response.reason}\n"
                       f"Response: {response.text[:400]}")


class ClientCredentials(AuthBase):
    def __init__(self, config: OAuth2Config, session: requests.Session, cache: TokenCache, timeout: float) -> None:
        self.config, self.session, self.cache, self.timeout = config, session, cache, timeout
        secret_hash = hashlib.sha256((config.client_secret or "").encode()).hexdigest()
        self.key: TokenKey = (config.token_url or "", config.client_id or "", secret_hash, tuple(config.scopes))

    def _fetch(self) -> str:
        form = {"grant_type": "client_credentials"}
        if self.config.scopes:
            form["scope"] = " ".join(self.config.scopes)
        client = (self.config.client_id or "", self.config.client_secret or "")
        url = self.config.token_url or ""
        response = self.session.post(url, data=form, auth=client, timeout=self.timeout)
        if response.status_code >= 300:  # AuthStyleAutoDetect: try the credentials in the form next
            response = self.session.post(url, data={**form, "client_id": client[0], "client_secret": client[1]},
                                         auth=None, timeout=self.timeout)
        if response.status_code >= 300:
            raise _retrieve_error(response)
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise OAuth2Error("oauth2: server response missing access_token")
        expires = body.get("expires_in")
        self.cache.put(self.key, token, float(expires) if isinstance(expires, int | float) else None)
        return token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.cache.get(self.key) or self._fetch()
        r.headers["Authorization"] = f"Bearer {token}"
        return r


class SigV4(AuthBase):
    """Signs host, X-Amz-Date (and the session token, Content-Type) of each request, as Prometheus's sigv4
    round tripper does for Amazon Managed Prometheus."""

    def __init__(self, credentials: AwsCredentials, region: str) -> None:
        self.credentials, self.region = credentials, region

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body.encode() if isinstance(r.body, str) else r.body if isinstance(r.body, bytes) else b""
        wanted = {k: str(v) for k, v in r.headers.items() if k.lower() == "content-type"}
        signed = sign(r.method or "GET", r.url or "", wanted, body, credentials=self.credentials,
                      region_name=self.region, service="aps", now=datetime.now(UTC))
        r.headers.update(signed)
        return r


class _Chain(AuthBase):
    def __init__(self, *parts: AuthBase) -> None:
        self.parts = parts

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        for part in self.parts:
            r = part(r)
        return r


def build_session(spec: PrometheusMetric, *, timeout: float, tokens: TokenCache,
                  aws: tuple[AwsCredentials, str] | None) -> requests.Session:
    """A session carrying the metric's TLS choice, headers and authentication (`aws`: credentials and region
    already resolved, when the metric signs with SigV4)."""
    session = requests.Session()
    session.verify = not spec.insecure
    session.headers.update({h.key: h.value for h in spec.headers})
    parts: list[AuthBase] = []
    oauth = spec.authentication.oauth2 if spec.authentication is not None else None
    if oauth is not None and oauth.token_url:
        token_session = requests.Session()
        token_session.verify = session.verify
        token_session.headers.update(session.headers)
        parts.append(ClientCredentials(oauth, token_session, tokens, timeout))
    if aws is not None:
        parts.append(SigV4(*aws))
    if parts:
        session.auth = _Chain(*parts)
    return session
