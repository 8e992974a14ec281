"""Orphaned resources, as Argo CD's project setting ``orphanedResources`` finds them (controller/appcontroller.go).

Why this module exists: a team that moves a namespace to Git wants to know what is still in it that Git
does not hold (created by hand, left by a deleted application). With ``orphanedResources: {warn: true}`` on
the project, every application of it gets an ``OrphanedResourceWarning`` condition "Application has N orphaned
resources" while its destination namespace holds top-level objects (no ownerReferences) that no existing
application tracks. Never orphaned, as in Argo CD: the kinds Argo CD never watches (Events, Leases,
``events.k8s.io``, ``metrics.k8s.io``) and those its default install excludes (Endpoints, EndpointSlices), the
``default`` ServiceAccount, the ``kubernetes`` Service of ``default``, every ``kube-root-ca.crt`` ConfigMap,
kinds the project does not permit, and what the project's ``ignore`` rules name (group, kind and name globs).

Worked example: namespace "shop" holds Deployment web (tracked by this app), ReplicaSet web-5d8 (owned by the
Deployment), ConfigMap kube-root-ca.crt, ConfigMap hand-made, and a Secret tracked by the deleted app "gone"
-> the hand-made ConfigMap and the Secret: "Application has 2 orphaned resources".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from rollouts.api.appproject import AppProjectSpec
from rollouts.gitops.project import is_kind_permitted
from rollouts.gitops.tracking import ResourceKey, key_of, owning_app

# (group, kind) pairs Argo CD never reports; a group with kind "*" is left out entirely.
NEVER_ORPHANED: frozenset[tuple[str, str]] = frozenset({
    ("events.k8s.io", "*"), ("metrics.k8s.io", "*"), ("", "Event"), ("coordination.k8s.io", "Lease"),
    ("", "Endpoints"), ("discovery.k8s.io", "EndpointSlice"),
})


def is_watched_kind(group: str, kind: str) -> bool:
    """Whether Argo CD's cluster cache holds this kind at all (else it can never be an orphan)."""
    return (group, "*") not in NEVER_ORPHANED and (group, kind) not in NEVER_ORPHANED


def _known_exclusion(key: ResourceKey, project: AppProjectSpec) -> bool:
    if key.group == "" and (
            (key.kind == "Service" and key.name == "kubernetes" and key.namespace == "default")
            or (key.kind == "ServiceAccount" and key.name == "default")
            or (key.kind == "ConfigMap" and key.name == "kube-root-ca.crt")):
        return True
    settings = project.orphaned_resources
    for item in (settings.ignore or ()) if settings is not None else ():
        if item.kind and not fnmatchcase(key.kind, item.kind):
            continue
        if not fnmatchcase(key.group, item.group or ""):
            continue
        if not item.name or fnmatchcase(key.name, item.name):
            return True
    return False


def warns_of_orphans(project: AppProjectSpec | None) -> bool:
    """``orphanedResources.warn: true`` (Argo CD's ``IsWarn``: unset means no warning)."""
    return project is not None and project.orphaned_resources is not None and bool(project.orphaned_resources.warn)


def orphaned_resources(live: Iterable[Mapping[str, Any]], *, managed: Iterable[ResourceKey], project: AppProjectSpec,
                       applications: Iterable[str]) -> list[ResourceKey]:
    """The orphans among ``live`` (the objects of the destination namespace): top-level, not ``managed`` by this
    application, not tracked by an existing application, permitted by the project and not excluded; sorted."""
    mine = set(managed)
    existing = set(applications)
    out = []
    for obj in live:
        meta = obj.get("metadata") or {}
        if meta.get("ownerReferences"):
            continue
        key = key_of(obj)
        if key in mine or not key.namespace or not is_watched_kind(key.group, key.kind):
            continue
        owner = owning_app(obj)
        if owner is not None and owner in existing:
            continue
        if not is_kind_permitted(project, group=key.group, kind=key.kind, name=key.name, namespaced=True):
            continue
        if not _known_exclusion(key, project):
            out.append(key)
    return sorted(out, key=lambda k: (k.group, k.kind, k.namespace, k.name))


def orphans_message(count: int) -> str:
    return f"Application has {count} orphaned resources"
