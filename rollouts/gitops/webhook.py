"""Git push webhooks (GitHub, GitLab) that refresh the matching Applications at once.

Why this module exists: polling every 3 minutes is the floor of "commit to cluster" latency; a push webhook
makes it seconds. Like Argo CD's ``/api/webhook``, the payload names the repository (several URL forms) and
the pushed ref; every Application whose ``repoURL`` matches and whose ``targetRevision`` is that branch or
tag (or HEAD, which follows the default branch) is refreshed. An optional shared secret is checked the way
each provider signs: GitHub's HMAC-SHA256 ``X-Hub-Signature-256``, GitLab's ``X-Gitlab-Token``.

Payload size: GitHub caps push payloads at 25 MB (a push of many commits with long messages gets there),
while aiohttp refuses request bodies above 1 MiB by default, which would silently drop exactly the big
pushes. The limit is therefore explicit (``max_payload_bytes``, the ``--webhook-max-payload-size-mb`` flag,
25 MiB by default, as Argo CD's ``webhook.maxPayloadSizeMB``); above it the answer is 413 and the body is not
read into memory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from rollouts.gitops.source import normalize_repo_url

WEBHOOK_PATH = "/api/webhook"
DEFAULT_MAX_PAYLOAD_MB = 25
"""The largest push payload GitHub sends is 25 MB; 25 MiB accepts it with room to spare."""


@dataclass(frozen=True, slots=True)
class PushEvent:
    repo_urls: frozenset[str]
    """Normalised repository URLs named by the payload."""
    revision: str
    """Branch or tag name ("main", "v1.2"), without refs/heads/ or refs/tags/."""
    default_branch: str | None = None


def parse_push(headers: dict[str, str], body: bytes) -> PushEvent | None:
    """A push event from a GitHub or GitLab payload; None for other events (ping, issues, ...)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    repo: dict[str, Any] = {}
    if lowered.get("x-github-event") == "push":
        repo = payload.get("repository") or {}
        urls = [repo.get(k) for k in ("html_url", "clone_url", "ssh_url", "git_url", "url")]
    elif lowered.get("x-gitlab-event") in ("Push Hook", "Tag Push Hook"):
        repo = payload.get("project") or payload.get("repository") or {}
        urls = [repo.get(k) for k in ("web_url", "git_http_url", "git_ssh_url", "http_url", "ssh_url", "url",
                                      "homepage")]
    else:
        return None
    ref = str(payload.get("ref") or "")
    revision = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    found = frozenset(normalize_repo_url(u) for u in urls if isinstance(u, str) and u)
    return PushEvent(found, revision, repo.get("default_branch"))


def signature_valid(headers: dict[str, str], body: bytes, secret: str | None) -> bool:
    """True when no secret is configured, or the request carries the provider's proof of it."""
    if not secret:
        return True
    lowered = {k.lower(): v for k, v in headers.items()}
    github = lowered.get("x-hub-signature-256")
    if github:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(github, expected)
    gitlab = lowered.get("x-gitlab-token")
    if gitlab is not None:
        return hmac.compare_digest(gitlab, secret)
    return False


def matches(event: PushEvent, repo_url: str, target_revision: str) -> bool:
    """Whether a push affects an application: same repository and the revision it follows."""
    if normalize_repo_url(repo_url) not in event.repo_urls:
        return False
    target = target_revision.strip() or "HEAD"
    if target == "HEAD":
        return event.default_branch is None or event.revision == event.default_branch
    return target.removeprefix("refs/heads/").removeprefix("refs/tags/") == event.revision


def webhook_app(
    apps: Callable[[], Iterable[tuple[str, str, str]]],
    refresh: Callable[[str], None],
    *,
    secret: str | None = None,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_MB * 1024 * 1024,
) -> web.Application:
    """``apps()`` yields (name, repoURL, targetRevision); ``refresh(name)`` schedules a forced refresh.
    A body larger than ``max_payload_bytes`` is answered 413 (aiohttp's client_max_size)."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        if not signature_valid(headers, body, secret):
            return web.json_response({"error": "webhook signature or token does not match"}, status=401)
        event = parse_push(headers, body)
        if event is None:
            return web.json_response({"refreshed": [], "ignored": "not a push event"})
        refreshed = sorted(name for name, url, rev in apps() if matches(event, url, rev))
        for name in refreshed:
            refresh(name)
        return web.json_response({"refreshed": refreshed})

    app = web.Application(client_max_size=max_payload_bytes)
    app.router.add_post(WEBHOOK_PATH, handle)
    return app
