"""Microsoft Teams incoming webhooks (the engine's ``teams`` service): a MessageCard per notification.

    service.teams: |
      recipientUrls:
        channelName: https://example.webhook.office.com/webhookb2/...

The recipient names the URL. The card is the template's ``teams.template`` verbatim when given, otherwise
``{"@type": "MessageCard", "context": "https://schema.org/extensions", title, summary, text, themeColor,
potentialAction, sections (+ a facts section)}``. Teams answers ``1`` on success; anything else is an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from rollouts.notifications.services.base import ConfigError, SendError, client_session, option, read_text, where
from rollouts.notifications.subscriptions import Destination
from rollouts.notifications.templates import Notification


def _json_list(text: str, what: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise SendError(f"teams {what} unmarshalling error {exc}", retryable=False) from None
    if not isinstance(value, list):
        raise SendError(f"teams {what} unmarshalling error: expected a JSON array", retryable=False)
    return value


def message_card(n: Notification) -> bytes:
    teams = n.teams or {}
    if teams.get("template"):
        return str(teams["template"]).encode()
    card: dict[str, Any] = {"@type": "MessageCard", "context": "https://schema.org/extensions",
                            "title": teams.get("title") or "", "summary": teams.get("summary") or "",
                            "text": teams.get("text") or n.message}
    if teams.get("themeColor"):
        card["themeColor"] = teams["themeColor"]
    sections: list[Any] = _json_list(teams["sections"], "sections") if teams.get("sections") else []
    if teams.get("facts"):
        sections.append({"facts": _json_list(teams["facts"], "facts")})
    if teams.get("potentialAction"):
        card["potentialAction"] = _json_list(teams["potentialAction"], "potential action")
    if sections:
        card["sections"] = sections
    return json.dumps(card, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class TeamsService:
    recipient_urls: Mapping[str, str]
    insecure: bool = False

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> TeamsService:
        urls = option(options, "recipientUrls", dict, {}, name)
        if not urls:
            raise ConfigError(f"service {name}: recipientUrls must map recipient names to webhook URLs")
        return cls({str(k): str(v) for k, v in urls.items()}, bool(options.get("insecureSkipVerify")))

    async def send(self, notification: Notification, dest: Destination) -> None:
        url = self.recipient_urls.get(dest.recipient)
        if url is None:
            raise SendError(f"no teams webhook configured for recipient {dest.recipient}", retryable=False)
        body = message_card(notification)
        try:
            async with client_session(insecure=self.insecure) as session, session.post(
                url, data=body, headers={"Content-Type": "application/json"},
            ) as resp:
                text = await read_text(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"teams webhook post error: {where(url)}: {type(exc).__name__}") from None
        if text != "1":
            raise SendError(f"teams webhook post error: {text}", retryable=resp.status >= 500 or resp.status == 429)
