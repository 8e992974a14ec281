"""Slack through chat.postMessage (the engine's ``slack`` service, as slack-go sends it).

    service.slack: |
      token: $slack-token
      apiURL: https://slack.com/api/      # configurable, e.g. a Slack-compatible gateway
      username: Argo Rollouts             # and icon: ":rocket:" or an image URL; disableUnfurl: true

The recipient is the channel. The request is a form POST to ``<apiURL>chat.postMessage`` with ``token``,
``channel``, ``text`` and, from the template's ``slack`` section, ``attachments`` (JSON, ``[]`` when the
template has a slack section without attachments), ``blocks``, ``username``, ``icon_emoji``/``icon_url``;
``groupingKey`` threads later messages under the first one (``thread_ts``; remembered in memory, as the
engine does), ``notifyBroadcast`` sets ``reply_broadcast``. Slack answers 200 with ``{"ok": false,
"error": ...}`` on failure; 429 is retried after Retry-After.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import aiohttp

from rollouts.notifications.services.base import SendError, client_session, option, read_text, where
from rollouts.notifications.subscriptions import Destination
from rollouts.notifications.templates import Notification

DEFAULT_API_URL = "https://slack.com/api/"
_EMOJI = re.compile(r"^:.+:$")


def _json_field(text: str, what: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise SendError(f"failed to unmarshal {what} '{text}' : {exc}", retryable=False) from None
    if not isinstance(value, list):
        raise SendError(f"failed to unmarshal {what} '{text}' : expected a JSON array", retryable=False)
    return value


def _icon(icon: str) -> tuple[str, str] | None:
    if _EMOJI.match(icon):
        return "icon_emoji", icon
    parsed = urlparse(icon)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return "icon_url", icon
    return None


@dataclass
class SlackService:
    token: str
    api_url: str = DEFAULT_API_URL
    username: str = ""
    icon: str = ""
    disable_unfurl: bool = False
    insecure: bool = False
    threads: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> SlackService:
        return cls(token=option(options, "token", str, "", name),
                   api_url=option(options, "apiURL", str, "", name) or DEFAULT_API_URL,
                   username=option(options, "username", str, "", name), icon=option(options, "icon", str, "", name),
                   disable_unfurl=bool(options.get("disableUnfurl")),
                   insecure=bool(options.get("insecureSkipVerify")))

    def form(self, n: Notification, channel: str) -> list[tuple[str, str]]:
        values = [("token", self.token), ("channel", channel), ("text", n.message)]
        slack = n.slack or {}
        username = slack.get("username") or self.username
        if username:
            values.append(("username", username))
        icon = _icon(slack.get("icon") or self.icon) if (slack.get("icon") or self.icon) else None
        if icon:
            values.append(icon)
        if n.slack is not None:
            attachments = _json_field(slack["attachments"], "attachments") if slack.get("attachments") else []
            values.append(("attachments", json.dumps(attachments, separators=(",", ":"), ensure_ascii=False)))
            if slack.get("blocks"):
                blocks = _json_field(slack["blocks"], "blocks")
                values.append(("blocks", json.dumps(blocks, separators=(",", ":"), ensure_ascii=False)))
        if self.disable_unfurl:
            values += [("unfurl_links", "false"), ("unfurl_media", "false")]
        return values

    async def send(self, notification: Notification, dest: Destination) -> None:
        values = self.form(notification, dest.recipient)
        slack = notification.slack or {}
        grouping = str(slack.get("groupingKey") or "")
        thread = self.threads.get((dest.recipient, grouping)) if grouping else None
        if thread:
            values.append(("thread_ts", thread))
            if slack.get("notifyBroadcast"):
                values.append(("reply_broadcast", "true"))
        reply = await self._post(values)
        if grouping and not thread and reply.get("ts"):
            self.threads[(dest.recipient, grouping)] = str(reply["ts"])

    async def _post(self, values: list[tuple[str, str]]) -> dict[str, Any]:
        url = self.api_url + "chat.postMessage"
        try:
            async with client_session(insecure=self.insecure) as session, session.post(
                url, data=values, headers={"Content-Type": "application/x-www-form-urlencoded"},
            ) as resp:
                text = await read_text(resp)
                status, retry_after = resp.status, resp.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"slack: {where(url)}: {exc or type(exc).__name__}") from None
        if status == 429:
            raise SendError(f"slack rate limit exceeded, retry after {retry_after or '?'}s")
        if status != 200:
            raise SendError(f"slack server error: {status}", retryable=status >= 500)
        try:
            reply = json.loads(text)
        except ValueError:
            raise SendError(f"slack: unexpected response {text[:200]!r}") from None
        if not reply.get("ok") and str(reply.get("error") or "").strip():
            raise SendError(f"slack: {reply['error']}", retryable=False)
        return dict(reply)
