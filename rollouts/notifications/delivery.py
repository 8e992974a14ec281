"""Rendering and sending one notification, with the services built once per configuration.

The controller side decides *when* (see ``plan``) and records *that* it was sent; this module does the
middle: render the templates for the destination (``serviceType``/``recipient`` set), find the destination's
service, send, and count ``notification_send_*``. A service that cannot be built (bad options) fails each
send that needs it with the configuration error, never the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rollouts.notifications import services, templates
from rollouts.notifications.config import NotificationConfig
from rollouts.notifications.gotemplate import TemplateError
from rollouts.notifications.plan import Send
from rollouts.notifications.services.base import ConfigError, NotificationService, SendError
from rollouts.notifications.variables import for_destination


def render(config: NotificationConfig, names: tuple[str, ...], variables: Mapping[str, Any]
           ) -> templates.Notification:
    compiled = []
    for name in names:
        t = config.templates.get(name)
        if t is None:
            raise SendError(f"template '{name}' is not supported", retryable=False)
        compiled.append(t)
    try:
        return templates.render(compiled, variables)
    except TemplateError as exc:
        raise SendError(str(exc), retryable=False) from None


@dataclass
class Deliverer:
    """Services built from one NotificationConfig (rebuild when the ConfigMap or Secret changes)."""

    config: NotificationConfig
    clock: Callable[[], float] = time.monotonic
    _services: dict[str, NotificationService | ConfigError] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, svc in self.config.services.items():
            try:
                self._services[name] = services.build(svc)
            except ConfigError as exc:
                self._services[name] = exc

    @property
    def problems(self) -> list[str]:
        return [str(s) for s in self._services.values() if isinstance(s, ConfigError)]

    def service(self, name: str) -> NotificationService:
        svc = self._services.get(name)
        if svc is None:
            raise SendError(f"notification service '{name}' is not supported", retryable=False)
        if isinstance(svc, ConfigError):
            raise SendError(str(svc), retryable=False)
        return svc

    async def send(self, send: Send, variables: Mapping[str, Any]) -> None:
        """Render and send; raises SendError (``retryable`` says whether to try again later)."""
        service = self.service(send.dest.service)
        notification = render(self.config, send.templates, for_destination(variables, send.dest))
        await service.send(notification, send.dest)
