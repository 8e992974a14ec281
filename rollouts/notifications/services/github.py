"""GitHub commit statuses, authenticated as a GitHub App (the engine's ``github`` service).

    service.github: |
      appID: 12345
      installationID: 67890
      privateKey: $github-privateKey
      enterpriseBaseURL: https://ghe.example.com/api/v3     # optional; the API URL is configurable

A send signs a JWT (RS256, iss = appID, iat 30 s back, 2 min lifetime) to exchange for an installation
token at ``POST <api>/app/installations/<id>/access_tokens`` (cached until a minute before it expires),
then ``POST <api>/repos/<owner>/<repo>/statuses/<revision>`` with ``state``, ``target_url``,
``description`` (the message, cut to 140 characters) and ``context`` (the template's ``github.status``).
The repository and revision come from ``repoURLPath``/``revisionPath`` (Argo CD's Application fields by
default). 422 (GitHub's limit of statuses per commit and context) is reported and not retried.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import aiohttp
import jwt

from rollouts.notifications.services.base import ConfigError, SendError, client_session, read_text, where
from rollouts.notifications.subscriptions import Destination
from rollouts.notifications.templates import Notification

PUBLIC_API = "https://api.github.com"
ACCEPT = "application/vnd.github.v3+json"


def full_name_by_repo_url(url: str) -> str:
    """owner/repo from an https, ssh or scp-style Git URL (``.git`` dropped)."""
    if "://" in url:
        path = urlparse(url).path
    elif re.match(r"^[\w.-]+@[\w.-]+:", url):
        path = url.split(":", 1)[1]
    else:
        path = url
    path = re.sub(r"\.git$", "", path)
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[:2]) if len(parts) >= 2 else path


def api_base(enterprise: str) -> str:
    """go-github's WithEnterpriseURLs: the base URL ends in /api/v3/ unless it is an api.* host."""
    if not enterprise:
        return PUBLIC_API + "/"
    base = enterprise if enterprise.endswith("/") else enterprise + "/"
    host = urlparse(base).hostname or ""
    if not base.endswith("/api/v3/") and not host.startswith("api.") and ".api." not in host:
        base += "api/v3/"
    return base


def _trunc(message: str, n: int) -> str:
    return message[: n - 3] + "..." if len(message) > n else message


@dataclass
class GitHubService:
    app_id: int
    installation_id: int
    private_key: str
    enterprise_base_url: str = ""
    insecure: bool = False
    _token: tuple[str, float] | None = field(default=None, repr=False)

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> GitHubService:
        try:
            app_id, installation = int(str(options.get("appID"))), int(str(options.get("installationID")))
        except ValueError:
            raise ConfigError(f"service {name}: appID and installationID must be integers") from None
        key = str(options.get("privateKey") or "")
        try:
            jwt.encode({"iss": "0"}, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise ConfigError(f"service {name}: privateKey is not a valid RSA private key ({type(exc).__name__})") \
                from None
        return cls(app_id, installation, key, str(options.get("enterpriseBaseURL") or ""),
                   bool(options.get("insecureSkipVerify")))

    @property
    def token_url(self) -> str:
        base = (self.enterprise_base_url or PUBLIC_API).rstrip("/")
        return f"{base}/app/installations/{self.installation_id}/access_tokens"

    def app_jwt(self, now: float) -> str:
        issued = int(now) - 30
        return jwt.encode({"iat": issued, "exp": issued + 120, "iss": str(self.app_id)}, self.private_key,
                          algorithm="RS256")

    async def _installation_token(self, session: aiohttp.ClientSession) -> str:
        now = time.time()
        if self._token is not None and self._token[1] > now:
            return self._token[0]
        headers = {"Authorization": f"Bearer {self.app_jwt(now)}", "Accept": ACCEPT}
        async with session.post(self.token_url, headers=headers) as resp:
            text = await read_text(resp)
            if resp.status != 201:
                raise SendError(f"could not get access_tokens from GitHub API for installation ID "
                                f"{self.installation_id}: {resp.status} {text[:200]}", retryable=resp.status >= 500)
        reply = json.loads(text)
        expires = reply.get("expires_at")
        expiry = time.mktime(time.strptime(expires, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone if expires else now + 600
        self._token = (str(reply["token"]), expiry - 60)
        return self._token[0]

    async def send(self, notification: Notification, dest: Destination) -> None:
        gh = notification.github
        if gh is None:
            raise SendError("config is empty", retryable=False)
        parts = full_name_by_repo_url(gh.repo_url).split("/")
        if len(parts) < 2:
            raise SendError(f"GitHub.repoURL ({gh.repo_url}) does not have a `/`", retryable=False)
        if gh.status is None:
            return
        body = {"state": gh.status.get("state", ""), "target_url": gh.status.get("targetURL", ""),
                "description": _trunc(notification.message, 140), "context": gh.status.get("label", "")}
        url = f"{api_base(self.enterprise_base_url)}repos/{parts[0]}/{parts[1]}/statuses/{gh.revision}"
        try:
            async with client_session(insecure=self.insecure) as session:
                token = await self._installation_token(session)
                headers = {"Authorization": f"token {token}", "Accept": ACCEPT, "Content-Type": "application/json",
                           "User-Agent": "go-github/v69.2.0"}
                async with session.post(url, data=json.dumps(body, separators=(",", ":")), headers=headers) as resp:
                    text = await read_text(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"github: {where(url)}: {exc or type(exc).__name__}") from None
        if resp.status == 422:
            raise SendError(f"too many commit statuses for sha {gh.revision} and context {body['context']}",
                            retryable=False)
        if not 200 <= resp.status <= 299:
            raise SendError(f"POST {url}: {resp.status} {text[:200]}", retryable=resp.status >= 500)
