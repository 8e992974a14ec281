"""The application's health from its resources', as Argo CD's application controller aggregates it.

Why this module exists: ``status.health`` of an Application is what dashboards, CI gates and app-of-apps
parents read. Argo CD v3.6 (``controller/health.go`` setApplicationHealth) takes the worst resource health in
its order, but leaves out hooks, ``argocd.argoproj.io/ignore-healthcheck: "true"`` objects, resources that do
not exist yet (their OutOfSync status already says so) and a child Application that is Missing or Unknown;
an application none of whose resources exists is Missing. Resources that only wait for pruning still count.
The message names the resources that caused the status: "Caused by apps/Deployment:ns/web" (at most three,
then "and N more"). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from rollouts.api.application import HealthStatusCode
from rollouts.gitops.health.builtin import HELM_HOOK_ANNOTATION, HOOK_ANNOTATION, HOOK_TYPES, is_hook
from rollouts.gitops.health.model import Health, annotations_of, is_worse

IGNORE_HEALTHCHECK = "argocd.argoproj.io/ignore-healthcheck"
_MAX_CAUSES = 3


class _Key(Protocol):
    @property
    def group(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...


class AssessedResource(Protocol):
    """What aggregation reads of a compared resource (``comparison.ResourceState`` has these)."""

    @property
    def key(self) -> _Key: ...
    @property
    def desired(self) -> Mapping[str, Any] | None: ...
    @property
    def live(self) -> Mapping[str, Any] | None: ...
    @property
    def health(self) -> Health | None: ...


_HELM_HOOK_TYPES = frozenset({"pre-install", "pre-upgrade", "post-install", "post-upgrade"})


def _hook_types(obj: Mapping[str, Any]) -> list[str]:
    """gitops-engine ``hook.Types``: Argo CD's hook types, else (none valid) the Helm hook types it maps."""
    annotations = annotations_of(obj)
    types = [t.strip() for t in str(annotations.get(HOOK_ANNOTATION) or "").split(",") if t.strip() in HOOK_TYPES]
    if types:
        return types
    return [t.strip() for t in str(annotations.get(HELM_HOOK_ANNOTATION) or "").split(",")
            if t.strip() in _HELM_HOOK_TYPES]


def _skipped_hook(obj: Mapping[str, Any]) -> bool:
    """gitops-engine ``hook.Skip``: the hook annotation names only Skip."""
    return _hook_types(obj) == ["Skip"]


def _ignored(obj: Mapping[str, Any]) -> bool:
    """gitops-engine ``ignore.Ignore``: a hook annotation naming no hook type Argo CD knows."""
    return is_hook(obj) and not _hook_types(obj)


def _cause(res: AssessedResource) -> str:
    key = res.key
    group_kind = f"{key.group}/{key.kind}" if key.group else key.kind
    name = f"{key.namespace}/{key.name}" if key.namespace else key.name
    return f"{group_kind}:{name}"


def _not_part_of_health(res: AssessedResource) -> bool:
    """Skipped hooks, live hooks and ignored resources do not count at all (not even as missing)."""
    if res.desired is not None and _skipped_hook(res.desired):
        return True
    return res.live is not None and (is_hook(res.live) or _ignored(res.live))


def _contributing_health(res: AssessedResource) -> Health | None:
    """The health this resource adds to the aggregate, or None: health checks ignored by annotation, no
    health known, a resource not created yet, and child Applications that are Missing or Unknown."""
    if res.live is not None and annotations_of(res.live).get(IGNORE_HEALTHCHECK) == "true":
        return None
    health = res.health if res.live is not None else Health(HealthStatusCode.MISSING)
    if health is None or (res.live is None and health.status is HealthStatusCode.MISSING):
        return None
    if (res.key.group, res.key.kind) == ("argoproj.io", "Application") and health.status in (
            HealthStatusCode.MISSING, HealthStatusCode.UNKNOWN):
        return None
    return health


def application_health(resources: Iterable[AssessedResource]) -> Health:
    """3 resources Healthy, Degraded, Degraded -> Degraded "Caused by apps/Deployment:ns/a, apps/Deployment:ns/b";
    two resources, neither created yet -> Missing; no resources -> Healthy."""
    status = HealthStatusCode.HEALTHY
    causes: list[AssessedResource] = []
    contains_resources = contains_live = False
    for res in resources:
        if _not_part_of_health(res):
            continue
        contains_resources = True
        contains_live = contains_live or res.live is not None
        health = _contributing_health(res)
        if health is None:
            continue
        if is_worse(status, health.status):
            status, causes = health.status, [res]
        elif status == health.status and status is not HealthStatusCode.HEALTHY:
            causes.append(res)
    if contains_resources and not contains_live and is_worse(status, HealthStatusCode.MISSING):
        return Health(HealthStatusCode.MISSING)
    if not causes:
        return Health(status)
    shown = ", ".join(_cause(c) for c in causes[:_MAX_CAUSES])
    more = len(causes) - _MAX_CAUSES
    return Health(status, f"Caused by {shown}" + (f" and {more} more" if more > 0 else ""))
