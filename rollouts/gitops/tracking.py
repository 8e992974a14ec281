"""Which live objects belong to which Application: Argo CD's tracking annotation (and label).

Why this module exists: pruning must never delete something the application did not create. Argo CD's
default tracking method (since v3.0) is the annotation ``argocd.argoproj.io/tracking-id`` with the value
``<app>:<group>/<kind>:<namespace>/<name>``; the value names the object itself, so an object copied by hand
from another one (which copies the annotation) is not mistaken for ours. We also set the label
``app.kubernetes.io/instance`` (Argo CD's "annotation+label" mode) because a label can be selected by a
watch, which is how drift is noticed within seconds without watching every object in the cluster; the
annotation stays the authority.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
_MAX_LABEL_VALUE = 63


@dataclass(frozen=True, slots=True, order=True)
class ResourceKey:
    """Identity of a resource in an application: group, kind, namespace ("" when cluster-scoped), name."""

    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        kind = f"{self.group}/{self.kind}" if self.group else self.kind
        return f"{kind}/{self.namespace}/{self.name}" if self.namespace else f"{kind}/{self.name}"


def key_of(obj: Mapping[str, Any]) -> ResourceKey:
    meta = obj.get("metadata") or {}
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    return ResourceKey(group, str(obj.get("kind") or ""), str(meta.get("namespace") or ""),
                       str(meta.get("name") or ""))


def tracking_id(app_name: str, key: ResourceKey) -> str:
    """``guestbook:apps/Deployment:default/web``; a core kind has an empty group (``guestbook:/Service:...``)."""
    return f"{app_name}:{key.group}/{key.kind}:{key.namespace}/{key.name}"


def parse_tracking_id(value: str) -> tuple[str, ResourceKey] | None:
    """Inverse of ``tracking_id``; ``None`` for a value that is not in that form."""
    try:
        app, group_kind, ns_name = value.split(":", 2)
        group, kind = group_kind.split("/", 1)
        namespace, name = ns_name.split("/", 1)
    except ValueError:
        return None
    if not app or not kind or not name:
        return None
    return app, ResourceKey(group, kind, namespace, name)


def owning_app(obj: Mapping[str, Any]) -> str | None:
    """The application an object belongs to, only when its tracking id names the object itself."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    parsed = parse_tracking_id(str(annotations.get(TRACKING_ANNOTATION) or ""))
    if parsed is None:
        return None
    app, key = parsed
    live = key_of(obj)
    # The namespace of a namespaced object may be defaulted from the destination; compare without it
    # when the annotation has none.
    if (key.group, key.kind, key.name) != (live.group, live.kind, live.name):
        return None
    if key.namespace and live.namespace and key.namespace != live.namespace:
        return None
    return app


def with_tracking(obj: Mapping[str, Any], app_name: str) -> dict[str, Any]:
    """A copy of a desired object carrying the tracking annotation and instance label."""
    out = copy.deepcopy(dict(obj))
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations[TRACKING_ANNOTATION] = tracking_id(app_name, key_of(out))
    meta["annotations"] = annotations
    if len(app_name) <= _MAX_LABEL_VALUE:
        labels = dict(meta.get("labels") or {})
        labels[INSTANCE_LABEL] = app_name
        meta["labels"] = labels
    return out
