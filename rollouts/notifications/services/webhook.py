"""Generic webhook: any HTTP endpoint (the engine's ``webhook`` service).

    service.webhook.deploys: |
      url: https://hooks.example.com/deploys
      headers: [{name: Content-Type, value: application/json}]
      basicAuth: {username: ci, password: $webhook-password}
      retryMax: 3            # plus retryWaitMin / retryWaitMax (durations)

The request is GET ``url`` with the message as body unless the template has a ``webhook.<service name>``
entry (method, path appended to the URL, body). Like go-retryablehttp: connection errors, 429 and 5xx
(except 501) are retried with exponential backoff between retryWaitMin and retryWaitMax, honouring
Retry-After; any other non-2xx fails at once.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from rollouts.notifications.services.base import (
    ConfigError,
    SendError,
    client_session,
    option,
    read_text,
    seconds,
    where,
)
from rollouts.notifications.subscriptions import Destination
from rollouts.notifications.templates import Notification

Sleep = Callable[[float], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class WebhookService:
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    basic_auth: tuple[str, str] | None = None
    retry_max: int = 3
    retry_wait_min: float = 1.0
    retry_wait_max: float = 5.0
    insecure: bool = False
    sleep: Sleep = asyncio.sleep

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> WebhookService:
        url = option(options, "url", str, "", name)
        if not url:
            raise ConfigError(f"service {name}: url is required")
        headers = []
        for h in option(options, "headers", list, [], name):
            if not isinstance(h, dict) or "name" not in h:
                raise ConfigError(f"service {name}: headers must be a list of {{name, value}}")
            headers.append((str(h["name"]), str(h.get("value") or "")))
        auth = option(options, "basicAuth", dict, None, name)
        return cls(
            url=url, headers=tuple(headers),
            basic_auth=(str(auth.get("username") or ""), str(auth.get("password") or "")) if auth else None,
            retry_max=option(options, "retryMax", int, 0, name) or 3,
            retry_wait_min=seconds(options.get("retryWaitMin"), 1.0, f"service {name}: retryWaitMin"),
            retry_wait_max=seconds(options.get("retryWaitMax"), 5.0, f"service {name}: retryWaitMax"),
            insecure=bool(options.get("insecureSkipVerify")),
        )

    def request(self, notification: Notification, dest: Destination) -> tuple[str, str, str]:
        method, url, body = "GET", self.url, notification.message
        hook = notification.webhook.get(dest.service)
        if hook is not None:
            body = hook.body
            method = hook.method or method
            if hook.path:
                url = url.rstrip("/") + "/" + hook.path.lstrip("/")
        return method, url, body

    async def send(self, notification: Notification, dest: Destination) -> None:
        method, url, body = self.request(notification, dest)
        headers = dict(self.headers)
        if self.basic_auth:
            token = base64.b64encode(":".join(self.basic_auth).encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        last = ""
        async with client_session(insecure=self.insecure) as session:
            for attempt in range(self.retry_max + 1):
                wait = self._backoff(attempt)
                try:
                    async with session.request(method, url, data=body.encode(), headers=headers) as resp:
                        if 200 <= resp.status <= 299:
                            await resp.read()
                            return
                        text = await read_text(resp)
                        last = f"request to {method} {where(url)} ({dest.service}) has failed with error code " \
                               f"{resp.status} : {text[:200]}"
                        if not (resp.status == 429 or (resp.status >= 500 and resp.status != 501)):
                            raise SendError(last, retryable=resp.status >= 500)
                        wait = _retry_after(resp.headers.get("Retry-After"), wait)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    last = f"{method} {where(url)}: {exc or type(exc).__name__}"
                if attempt < self.retry_max:
                    await self.sleep(wait)
        raise SendError(f"{method} {where(url)} giving up after {self.retry_max + 1} attempt(s): {last}")

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry_wait_max, self.retry_wait_min * (2.0**attempt)))


def _retry_after(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default
