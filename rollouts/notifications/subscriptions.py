"""Who hears about which trigger: subscriptions by annotation on the object and the ConfigMap's defaults.

    notifications.argoproj.io/subscribe.on-rollout-aborted.slack: deploys;oncall
    notifications.argoproj.io/subscribe.slack: deploys              (no trigger: the default triggers)
    notifications.argoproj.io/subscriptions: |                       (the YAML form)
      - trigger: [on-sync-failed]
        destinations: [{service: slack, recipients: [deploys]}]

plus ``subscriptions`` in the ConfigMap (recipients ``service:recipient``, optional triggers and a label
selector). Destinations keep the engine's order and are de-duplicated the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

PREFIX = "notifications.argoproj.io"
SUBSCRIBE = f"{PREFIX}/subscribe."
SUBSCRIPTIONS = f"{PREFIX}/subscriptions"
NOTIFIED_ANNOTATION = f"notified.{PREFIX}"


@dataclass(frozen=True, order=True)
class Destination:
    service: str
    recipient: str

    def __str__(self) -> str:
        return f"{{{self.service} {self.recipient}}}"


Destinations = dict[str, list[Destination]]


# -- label selectors (the ConfigMap's default subscriptions) ---------------------------------------------

_REQ = re.compile(
    r"\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(==|=|!=|\s+in\s+|\s+notin\s+)\s*(\([^)]*\)|[A-Za-z0-9_.-]*))?\s*$"
)


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # exists, !exists, in, notin
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op == "in":
            return labels.get(self.key) in self.values
        return labels.get(self.key) not in self.values


def _split_requirements(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """A Kubernetes label selector string (``env=prod,tier in (a,b),!canary``); raises ValueError."""
    reqs = []
    for part in _split_requirements(text or ""):
        m = _REQ.match(part)
        if not m:
            raise ValueError(f"unable to parse requirement: {part.strip()!r}")
        neg, key, op, raw = m.group(1), m.group(2), (m.group(3) or "").strip(), m.group(4) or ""
        if neg:
            if op:
                raise ValueError(f"unable to parse requirement: {part.strip()!r}")
            reqs.append(Requirement(key, "!exists"))
        elif not op:
            reqs.append(Requirement(key, "exists"))
        else:
            values = frozenset(v.strip() for v in raw.strip("()").split(",") if v.strip()) if raw.startswith("(") \
                else frozenset({raw})
            reqs.append(Requirement(key, "notin" if op in ("!=", "notin") else "in", values))
    return tuple(reqs)


@dataclass(frozen=True)
class DefaultSubscription:
    recipients: tuple[str, ...]
    triggers: tuple[str, ...] = ()
    selector: tuple[Requirement, ...] = field(default=())

    def matches_trigger(self, trigger: str) -> bool:
        return not self.triggers or trigger in self.triggers

    def matches_labels(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.selector)


def parse_default_subscriptions(raw: Any) -> list[DefaultSubscription]:
    """The ConfigMap's ``subscriptions`` (already YAML-decoded); raises ValueError on a bad entry."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("subscriptions must be a list")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValueError(f"subscriptions[{i}] must be a map")
        try:
            selector = parse_selector(str(item.get("selector") or ""))
        except ValueError as exc:
            raise ValueError(f"subscriptions[{i}].selector: {exc}") from None
        out.append(DefaultSubscription(tuple(str(r) for r in item.get("recipients") or ()),
                                       tuple(str(t) for t in item.get("triggers") or ()), selector))
    return out


def global_destinations(subs: Sequence[DefaultSubscription], default_triggers: Sequence[str],
                        labels: Mapping[str, str]) -> Destinations:
    dests: Destinations = {}
    for sub in subs:
        for trigger in sub.triggers or tuple(default_triggers):
            if sub.matches_trigger(trigger) and sub.matches_labels(labels):
                for recipient in sub.recipients:
                    service, _, rest = recipient.partition(":")
                    rcpt = rest.split(":")[0] if rest else ""
                    dests.setdefault(trigger, []).append(Destination(service, rcpt))
    return dests


# -- annotations ---------------------------------------------------------------------------------------


def parse_recipients(value: str) -> list[str]:
    return [r.strip() for r in value.split(";") if r.strip()]


def _subscriptions_yaml(key: str, value: str) -> Iterator[tuple[str, str, list[str]]]:
    try:
        items = yaml.safe_load(value) if value else None
    except yaml.YAMLError:
        return
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        triggers = [str(t) for t in item.get("trigger") or ()]
        destinations = [d for d in item.get("destinations") or () if isinstance(d, dict)]
        for trigger in triggers or [""]:
            for d in destinations:
                yield trigger, str(d.get("service") or ""), [str(r) for r in d.get("recipients") or ()]


def iterate_annotations(annotations: Mapping[str, str]) -> Iterator[tuple[str, str, list[str]]]:
    """(trigger, service, recipients) for each subscription annotation; trigger "" means the defaults."""
    for key, value in annotations.items():
        if key.startswith(SUBSCRIBE):
            parts = key[len(SUBSCRIBE):].split(".")
            trigger, service = (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])
            yield trigger, service, [""] if value == "" else parse_recipients(value)
        elif key.startswith(SUBSCRIPTIONS):
            yield from _subscriptions_yaml(key, value)


def annotation_destinations(annotations: Mapping[str, str], default_triggers: Sequence[str],
                            service_default_triggers: Mapping[str, Sequence[str]]) -> Destinations:
    dests: Destinations = {}
    for trigger, service, recipients in iterate_annotations(annotations):
        for recipient in recipients:
            if trigger:
                triggers: Sequence[str] = [trigger]
            else:
                triggers = service_default_triggers.get(service, default_triggers)
            for t in triggers:
                dests.setdefault(t, []).append(Destination(service, recipient))
    return dests


def merge(*parts: Destinations) -> Destinations:
    """Merge then de-duplicate, keeping the first occurrence (the engine's Merge + Dedup)."""
    out: Destinations = {}
    for part in parts:
        for trigger, dests in part.items():
            bucket = out.setdefault(trigger, [])
            for d in dests:
                if d not in bucket:
                    bucket.append(d)
    return out
