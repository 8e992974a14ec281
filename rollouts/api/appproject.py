"""The AppProject CRD (argoproj.io/v1alpha1): Argo CD's schema, so its manifests apply as they are.

Why this module exists: platform teams fence Applications with projects: which repositories a team may
deploy from (``sourceRepos``), where to (``destinations``), which kinds (cluster/namespace resource white-
and blacklists), when (``syncWindows``) and as whom (``destinationServiceAccounts``). The decisions live in
``rollouts.gitops.project`` (pure); this is the contract. ``roles`` and ``signatureKeys`` are kept as they
are written (Argo CD's API-server concerns: JWT tokens, GPG verification) and not enforced here.

Quirk kept on purpose: Argo CD treats a *missing* ``namespaceResourceWhitelist`` as "every namespaced kind"
but a missing ``clusterResourceWhitelist`` as "no cluster-scoped kind", so the two defaults differ.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from rollouts.api.application import ApplicationDestination
from rollouts.api.common import ApiModel, ObjectMeta, OpenDict
from rollouts.api.crdgen import AGE_COLUMN, CrdSpec

KIND: Final = "AppProject"
PLURAL: Final = "appprojects"
SHORT_NAMES: Final = ("appproj", "appprojs")
DEFAULT_PROJECT: Final = "default"


class GroupKind(ApiModel):
    """A kind by group (``""`` is the core group); both are Go ``filepath.Match`` globs (``*``)."""

    group: str = ""
    kind: str


class ClusterResourceRestrictionItem(ApiModel):
    """A cluster-scoped kind, optionally narrowed to names (globs); no name means every object of the kind."""

    group: str = ""
    kind: str
    name: str | None = None


class OrphanedResourceKey(ApiModel):
    group: str | None = None
    kind: str | None = None
    name: str | None = None


class OrphanedResourcesMonitorSettings(ApiModel):
    """``warn: true`` reports objects in the destination namespace that no application tracks, as an
    OrphanedResourceWarning condition (unset is false, Argo CD's ``IsWarn``); ``ignore`` leaves some out."""

    warn: bool | None = None
    ignore: list[OrphanedResourceKey] | None = None


class SyncWindow(ApiModel):
    """``allow`` or ``deny`` syncs for ``duration`` from each ``schedule`` (cron) start, for the applications,
    namespaces and clusters it names (globs); ``manualSync`` lets manual syncs through a deny; ``syncOverrun``
    lets a running sync finish (one started before a deny began, or during an allow that has ended)."""

    kind: str = ""
    schedule: str = ""
    duration: str = ""
    applications: list[str] | None = None
    namespaces: list[str] | None = None
    clusters: list[str] | None = None
    manual_sync: bool = False
    sync_overrun: bool = False
    time_zone: str | None = None
    use_and_operator: bool = Field(default=False, alias="andOperator")
    description: str | None = None


class ApplicationDestinationServiceAccount(ApiModel):
    """Sync into ``server``/``namespace`` (globs) as ``defaultServiceAccount`` (``ns:name`` or a name in the
    destination namespace): the API server then enforces that account's RBAC on every write."""

    server: str
    namespace: str | None = None
    default_service_account: str


class AppProjectSpec(ApiModel):
    source_repos: list[str] | None = None
    destinations: list[ApplicationDestination] | None = None
    description: str | None = None
    roles: list[OpenDict] | None = None
    cluster_resource_whitelist: list[ClusterResourceRestrictionItem] | None = None
    cluster_resource_blacklist: list[ClusterResourceRestrictionItem] | None = None
    namespace_resource_whitelist: list[GroupKind] | None = None
    namespace_resource_blacklist: list[GroupKind] | None = None
    orphaned_resources: OrphanedResourcesMonitorSettings | None = None
    sync_windows: list[SyncWindow] | None = None
    signature_keys: list[OpenDict] | None = None
    source_namespaces: list[str] | None = None
    permit_only_project_scoped_clusters: bool = False
    destination_service_accounts: list[ApplicationDestinationServiceAccount] | None = None


class AppProject(ApiModel):
    api_version: str = "argoproj.io/v1alpha1"
    kind: str = KIND
    metadata: ObjectMeta
    spec: AppProjectSpec = AppProjectSpec()
    status: OpenDict | None = None


def default_project_body(namespace: str) -> dict[str, object]:
    """The permissive ``default`` project Argo CD creates: any repository, any destination, any kind."""
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": KIND,
            "metadata": {"name": DEFAULT_PROJECT, "namespace": namespace},
            "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}],
                     "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}}


CRD: Final = CrdSpec(
    kind=KIND,
    plural=PLURAL,
    singular="appproject",
    short_names=SHORT_NAMES,
    model=AppProject,
    status_subresource=False,
    printer_columns=(AGE_COLUMN,),
)

__all__ = [
    "DEFAULT_PROJECT", "AppProject", "AppProjectSpec", "ApplicationDestinationServiceAccount",
    "ClusterResourceRestrictionItem", "GroupKind", "OrphanedResourceKey", "OrphanedResourcesMonitorSettings",
    "SyncWindow", "default_project_body",
]
