"""Notification services: one module per service, one registry line each.

``build(config)`` turns a ``service.<type>[.<name>]`` entry into a service object, or raises ConfigError
with a message naming the entry. Types the engine has but this controller does not implement are named in
``KNOWN_UNSUPPORTED`` so the error says so instead of "unknown".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rollouts.notifications.config import ServiceConfig
from rollouts.notifications.services.base import ConfigError, NotificationService, SendError
from rollouts.notifications.services.email import EmailService
from rollouts.notifications.services.github import GitHubService
from rollouts.notifications.services.slack import SlackService
from rollouts.notifications.services.teams import TeamsService
from rollouts.notifications.services.webhook import WebhookService

Factory = Callable[[str, Mapping[str, Any]], NotificationService]

REGISTRY: dict[str, Factory] = {
    "webhook": WebhookService.from_options,
    "slack": SlackService.from_options,
    "teams": TeamsService.from_options,
    "email": EmailService.from_options,
    "github": GitHubService.from_options,
}

KNOWN_UNSUPPORTED = frozenset({
    "awssqs", "gcppubsub", "mattermost", "rocketchat", "teams-workflows", "opsgenie", "alertmanager", "googlechat",
    "pagerduty", "pagerdutyv2", "newrelic", "telegram", "pushover", "grafana", "webex", "nats",
})


def build(config: ServiceConfig) -> NotificationService:
    factory = REGISTRY.get(config.type)
    if factory is None:
        if config.type in KNOWN_UNSUPPORTED:
            raise ConfigError(f"service.{config.type}: the {config.type} service is not supported by this controller "
                              f"(supported: {', '.join(sorted(REGISTRY))})")
        raise ConfigError(f"service type '{config.type}' is not supported")
    return factory(config.name, config.options)


__all__ = ["REGISTRY", "ConfigError", "NotificationService", "SendError", "build"]
