"""What a comparison of Git with the cluster found, as plain data the pure planners read.

Why this module exists: the comparison is produced by I/O (``compare.py``: Git, renders, discovery, dry runs)
but read by pure decisions (status, auto-sync, the sync planner). Keeping the data here, apart from the code
that fetches it, lets those decisions import it without importing the Kubernetes client. The resource kind
is a type parameter: the observer fills it with ``rollouts.kube.resources.ResourceKind`` (what the executor
needs for API paths); the pure layers never look inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rollouts.api.application import ApplicationConditionType, ApplicationSource, RevisionMetadata, SyncStatusCode
from rollouts.gitops.diff import ResourceDiff
from rollouts.gitops.health import Health
from rollouts.gitops.health.application import application_health
from rollouts.gitops.tracking import ResourceKey

Obj = dict[str, Any]
K = TypeVar("K")


class ComparisonError(Exception):
    """The desired state cannot be known (repository, render, spec); the message names the cause.

    Several messages (an application breaking two project rules) become one condition each."""

    condition = ApplicationConditionType.COMPARISON_ERROR

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages: tuple[str, ...] = messages


class SpecError(ComparisonError):
    """The Application asks for something this controller refuses (Argo CD's InvalidSpecError): an unsupported
    source shape, and nothing is compared or applied. Sync and health are Unknown, as Argo CD reports them."""

    condition = ApplicationConditionType.INVALID_SPEC_ERROR


class ClusterError(ComparisonError):
    """The destination cluster does not answer or cannot be connected to; the message names it. Sync and health
    are Unknown until it answers again (Argo CD: "Any Apps deploying to this cluster will go to health status
    Unknown")."""


class SourceError(ComparisonError):
    """A source type could not read its repository (unreachable, unknown revision); the message is safe to show."""


@dataclass
class ResourceState(Generic[K]):
    """One desired or owned object: its kind, desired form, live form, diff, sync status and health."""

    key: ResourceKey
    kind: K | None
    desired: Obj | None
    live: Obj | None
    diff: ResourceDiff
    health: Health | None
    wave: int = 0
    message: str = ""

    @property
    def sync_status(self) -> SyncStatusCode:
        return SyncStatusCode.OUT_OF_SYNC if self.diff.modified else SyncStatusCode.SYNCED

    @property
    def requires_pruning(self) -> bool:
        return self.desired is None


@dataclass
class Comparison(Generic[K]):
    revision: str
    source: ApplicationSource
    source_type: str
    resources: list[ResourceState[K]]
    hooks: list[tuple[K, Obj]]
    kinds: dict[ResourceKey, K] = field(default_factory=dict)
    pending_kinds: dict[ResourceKey, str] = field(default_factory=dict)
    """Objects whose kind a CRD of this application will define (resolved again after the CRD is applied)."""
    revision_metadata: RevisionMetadata | None = None
    """The commit's author, date, message and tags."""
    unverified_kinds: dict[ResourceKey, str] = field(default_factory=dict)
    """``SkipDryRunOnMissingResource=true`` objects of a kind the API server does not serve: compared as
    missing, and an apply that still finds no such kind fails with this message (no CRD here will come)."""
    revisions: tuple[str, ...] = ()
    """Multi-source only: the resolved revision of each source, in ``spec.sources`` order (``revision`` is
    then their ``joint_revision``, the key automated sync compares)."""
    sources: tuple[ApplicationSource, ...] = ()
    source_types: tuple[str, ...] = ()
    """Multi-source only: each source's tool ("" for a source that renders nothing), as ``status.sourceTypes``."""
    orphaned: tuple[ResourceKey, ...] = ()
    repeated: dict[ResourceKey, int] = field(default_factory=dict)
    """Resources the manifests hold more than once, with how often (the last one is used)."""
    """Objects of the destination namespace no application tracks (only looked for when the project warns)."""

    @property
    def multi_source(self) -> bool:
        return bool(self.revisions)

    @property
    def sync_status(self) -> SyncStatusCode:
        modified = any(r.sync_status is SyncStatusCode.OUT_OF_SYNC for r in self.resources)
        return SyncStatusCode.OUT_OF_SYNC if modified else SyncStatusCode.SYNCED

    @property
    def health(self) -> Health:
        """Argo CD's aggregation (``health/application.py``): resources waiting for pruning count too."""
        return application_health(self.resources)

    def desired(self) -> list[ResourceState[K]]:
        return [r for r in self.resources if r.desired is not None]

    def owned_extra(self) -> dict[ResourceKey, Obj]:
        return {r.key: r.live for r in self.resources if r.desired is None and r.live is not None}

    def owned_count(self) -> int:
        """Objects of this application that exist now (desired and live, or left over and owned)."""
        return len(self.owned_extra()) + sum(1 for r in self.desired() if r.live is not None)

    def hook_manifests(self) -> list[Obj]:
        return [obj for _, obj in self.hooks]


def joint_revision(revisions: Sequence[str]) -> str:
    """One comparable key for the revisions of a multi-source application: ["abc", "1.2.0"] -> "abc,1.2.0"."""
    return ",".join(revisions)


Outcome = Comparison[Any] | ComparisonError
"""What the observe step learnt: a comparison, or why there is none."""
