"""The one interface every notification service implements, and what they share (HTTP, durations).

    class NotificationService(Protocol):
        async def send(self, notification: Notification, dest: Destination) -> None

``SendError.retryable`` says whether delivering again could succeed (a 5xx, a timeout) or not (GitHub's
422 "too many statuses", a recipient with no configured URL): the delivery queue retries only the former.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp

from rollouts.notifications.subscriptions import Destination
from rollouts.notifications.templates import Notification

DEFAULT_TIMEOUT = 30.0


class SendError(Exception):
    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ConfigError(ValueError):
    """A service's options are unusable (reported at configuration time, never at send time)."""


class NotificationService(Protocol):
    async def send(self, notification: Notification, dest: Destination) -> None: ...


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(value: Any, default: float, what: str) -> float:
    """A time.Duration option: an integer of nanoseconds (what Go's JSON decoding takes) or "1s"-style."""
    if value is None or value == 0 or value == "":
        return default
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected a duration, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value) / 1e9
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ConfigError(f"{what}: invalid duration {value!r}")
    return sum(float(n) * _UNIT[u] for n, u in parts)


def option(options: Mapping[str, Any], key: str, kind: type, default: Any, service: str) -> Any:
    value = options.get(key, default)
    if value is None:
        return default
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"service {service}: {key} must be a {kind.__name__}, got {value!r}")
    return value


def client_session(*, insecure: bool = False, timeout: float = DEFAULT_TIMEOUT) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(ssl=False) if insecure else None
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), connector=connector)


def where(url: str) -> str:
    """The part of a URL an error message may show: scheme and host. Paths and queries of webhook URLs are
    often the secret itself (Teams, Slack incoming webhooks), and bodies may carry secrets."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc.rsplit('@', 1)[-1]}" if parsed.netloc else "(url)"


async def read_text(response: aiohttp.ClientResponse, limit: int = 64 * 1024) -> str:
    data = await response.content.read(limit)
    return data.decode(errors="replace")
