"""The Application status as Argo CD writes it: sync, health, resources, conditions.

Why this module exists: users and tools read ``status.sync.status``, ``status.health.status`` and
``status.resources[]`` exactly as Argo CD lays them out, and a status that changes on every pass would be
rewritten forever. These pure functions build it from a comparison; conditions keep their
``lastTransitionTime`` while the same condition persists, so an unchanged application writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rollouts.api.application import Application, ApplicationSource
from rollouts.api.common import format_time
from rollouts.gitops.comparison import Comparison
from rollouts.gitops.tracking import owning_app

Obj = dict[str, Any]


def conditions_with_times(previous: list[Obj], current: list[tuple[str, str]], now: datetime) -> list[Obj]:
    """Conditions with their lastTransitionTime kept while the same type and message persist."""
    out = []
    for kind, message in current:
        same = next((c for c in previous if c.get("type") == kind and c.get("message") == message), None)
        out.append({"type": kind, "message": message,
                    "lastTransitionTime": (same or {}).get("lastTransitionTime") or format_time(now)})
    return out


def resource_statuses(comparison: Comparison[Any]) -> list[Obj]:
    out = []
    for res in sorted(comparison.resources, key=lambda r: r.key):
        entry: Obj = {"group": res.key.group, "kind": res.key.kind, "name": res.key.name,
                      "status": res.sync_status.value}
        api_version = str(((res.desired or res.live) or {}).get("apiVersion") or "")
        entry["version"] = api_version.rpartition("/")[2]
        if res.key.namespace:
            entry["namespace"] = res.key.namespace
        if res.health is not None:
            entry["health"] = {"status": res.health.status.value}
            if res.health.message:
                entry["health"]["message"] = res.health.message[:300]
        if res.requires_pruning:
            entry["requiresPruning"] = True
        if res.wave:
            entry["syncWave"] = res.wave
        out.append(entry)
    return out


def apply_comparison(status: Obj, app: Application, comparison: Comparison[Any]) -> None:
    """Fill sync, health, resources and sourceType of ``status`` from a comparison (in place)."""
    health = comparison.health
    destination = app.spec.destination.model_dump(by_alias=True, exclude_none=True, mode="json")
    if comparison.multi_source:  # Argo CD: revisions and comparedTo.sources, one per source; no revision
        status["sync"] = {"status": comparison.sync_status.value, "revisions": list(comparison.revisions),
                          "comparedTo": {"sources": [_dump(s) for s in app.spec.source_list()],
                                         "destination": destination}}
    else:
        status["sync"] = {"status": comparison.sync_status.value, "revision": comparison.revision,
                          "comparedTo": {"source": _dump(app.spec.source or comparison.source),
                                         "destination": destination}}
    if comparison.revision_metadata is not None:
        status["sync"]["revisionMetadata"] = comparison.revision_metadata.model_dump(
            by_alias=True, exclude_none=True, mode="json")
    status["health"] = {"status": health.status.value}
    if health.message:
        status["health"]["message"] = health.message[:500]
    status["resources"] = resource_statuses(comparison)
    if comparison.multi_source:
        status.pop("sourceType", None)
        status["sourceTypes"] = list(comparison.source_types)
    else:
        status.pop("sourceTypes", None)
        status["sourceType"] = comparison.source_type


def _dump(source: ApplicationSource) -> Obj:
    return source.model_dump(by_alias=True, exclude_none=True, mode="json")


def started_at(state: Obj) -> datetime | None:
    raw = state.get("startedAt")
    if not raw:
        return None
    return datetime.strptime(str(raw), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def shared_resources(app: Application, comparison: Comparison[Any]) -> list[str]:
    """Argo CD's SharedResourceWarning messages: desired objects whose live copy another application tracks.

    ConfigMap "settings" tracked by "billing" -> "ConfigMap/settings is part of applications argocd/shop and
    billing".
    """
    name = app.metadata.name or ""
    qualified = f"{app.metadata.namespace}/{name}" if app.metadata.namespace else name
    out = []
    for res in comparison.desired():
        other = owning_app(res.live) if res.live is not None else None
        if other is not None and other != name:
            out.append(f"{res.key.kind}/{res.key.name} is part of applications {qualified} and {other}")
    return out
