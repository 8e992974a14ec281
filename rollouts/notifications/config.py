"""The notifications ConfigMap and Secret, parsed as the engine parses them (api.ParseConfig).

Keys: ``service.<type>[.<name>]`` (YAML options; ``$key`` in any string is replaced by the Secret's key),
``template.<name>``, ``trigger.<name>`` (a list of conditions: ``when``, ``oncePer``, ``send``,
``description``), ``defaultTriggers`` and ``defaultTriggers.<service>``, ``subscriptions``, and Argo CD's
``context``. Where the engine rejects the whole ConfigMap on the first bad key, we keep every good key and
report each bad one in ``problems`` (logged and shown by the plugin), so one typo does not silence all
notifications.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from rollouts.notifications.subscriptions import DefaultSubscription, parse_default_subscriptions
from rollouts.notifications.templates import CompiledTemplate, TemplateSpecError, compile_template

ROLLOUTS_CONFIGMAP = "argo-rollouts-notification-configmap"
ROLLOUTS_SECRET = "argo-rollouts-notification-secret"
ARGOCD_CONFIGMAP = "argocd-notifications-cm"
ARGOCD_SECRET = "argocd-notifications-secret"
_SECRET_REF = re.compile(r"[$][\w-]+")


@dataclass(frozen=True)
class Condition:
    when: str = ""
    once_per: str = ""
    send: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    type: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class NotificationConfig:
    namespace: str = ""
    services: Mapping[str, ServiceConfig] = field(default_factory=dict)
    triggers: Mapping[str, tuple[Condition, ...]] = field(default_factory=dict)
    templates: Mapping[str, CompiledTemplate] = field(default_factory=dict)
    subscriptions: tuple[DefaultSubscription, ...] = ()
    default_triggers: tuple[str, ...] = ()
    service_default_triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    context: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def substitute_secrets(value: Any, secret: Mapping[str, bytes], missing: list[str]) -> Any:
    """Replace ``$key`` references in every string of a decoded YAML value (the engine's replaceStringSecret)."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            key = m.group(0)[1:]
            if key not in secret:
                missing.append(key)
                return m.group(0)
            return secret[key].decode(errors="replace")

        return _SECRET_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: substitute_secrets(v, secret, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_secrets(v, secret, missing) for v in value]
    return value


def _yaml(key: str, raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ValueError(f"{key}: invalid YAML: {exc}".replace("\n", " ")) from None


def _conditions(key: str, raw: Any) -> tuple[Condition, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"{key}: must be a list of conditions")
    out = []
    for i, c in enumerate(raw):
        if not isinstance(c, dict):
            raise ValueError(f"{key}[{i}]: must be a map with when/send/oncePer")
        send = c.get("send") or []
        if not isinstance(send, list):
            raise ValueError(f"{key}[{i}].send: must be a list of template names")
        out.append(Condition(when=str(c.get("when") or ""), once_per=str(c.get("oncePer") or ""),
                             send=tuple(str(s) for s in send), description=str(c.get("description") or "")))
    return tuple(out)


def _string_list(key: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError(f"{key}: must be a list")
    return tuple(str(x) for x in raw)


def _service(key: str, raw: str, secret: Mapping[str, bytes], problems: list[str]) -> ServiceConfig:
    parts = key.split(".")
    if len(parts) not in (2, 3):
        raise ValueError(f"invalid service key; expected 'service.<type>(.<name>)' but got '{key}'")
    stype, name = parts[1], parts[-1]
    options = _yaml(key, raw) or {}
    if not isinstance(options, dict):
        raise ValueError(f"{key}: service options must be a map")
    missing: list[str] = []
    options = substitute_secrets(options, secret, missing)
    problems += [f"{key} references ${m}, but the notification Secret has no key {m!r}" for m in missing]
    return ServiceConfig(name, stype, options)


def parse_config(data: Mapping[str, str], secret: Mapping[str, bytes] | None = None, *,
                 namespace: str = "") -> NotificationConfig:
    secret = secret or {}
    problems: list[str] = []
    services: dict[str, ServiceConfig] = {}
    triggers: dict[str, tuple[Condition, ...]] = {}
    templates: dict[str, CompiledTemplate] = {}
    service_defaults: dict[str, tuple[str, ...]] = {}
    subs: list[DefaultSubscription] = []
    defaults: tuple[str, ...] = ()
    context: dict[str, str] = {}
    for key in sorted(data):
        raw = data[key] or ""
        try:
            if key.startswith("service."):
                svc = _service(key, raw, secret, problems)
                services[svc.name] = svc
            elif key.startswith("template."):
                templates[key[len("template."):]] = compile_template(key[len("template."):], _yaml(key, raw))
            elif key.startswith("trigger."):
                triggers[key[len("trigger."):]] = _conditions(key, _yaml(key, raw))
            elif key == "defaultTriggers":
                defaults = _string_list(key, _yaml(key, raw))
            elif key.startswith("defaultTriggers."):
                service_defaults[key[len("defaultTriggers."):]] = _string_list(key, _yaml(key, raw))
            elif key == "subscriptions":
                subs = parse_default_subscriptions(_yaml(key, raw))
            elif key == "context":
                ctx = _yaml(key, raw) or {}
                if not isinstance(ctx, dict):
                    raise ValueError("context: must be a map of strings")
                context = {str(k): "" if v is None else str(v) for k, v in ctx.items()}
        except (ValueError, TemplateSpecError) as exc:
            problems.append(str(exc))
    for tname, conds in triggers.items():
        for i, c in enumerate(conds):
            problems += [f"trigger.{tname}[{i}] sends template {s!r}, which is not defined" for s in c.send
                         if s not in templates]
    return NotificationConfig(namespace, services, triggers, templates, tuple(subs), defaults, service_defaults,
                              context, tuple(problems))
