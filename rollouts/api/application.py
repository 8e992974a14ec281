"""The Application CRD (argoproj.io/v1alpha1): the core of Argo CD's schema, so its manifests apply as is.

Why this module exists: users who know Argo CD write ``Application`` objects by hand and with tools; the same
YAML must be accepted here and the status must read the same way (``status.sync.status``,
``status.health.status``, ``status.operationState.phase``). Only the core subset is modelled; every other key
(multi-source, plugins, ...) is kept as an extra by ``ApiModel`` and ignored by the reconciler.

Quirk kept on purpose: Argo CD's Application CRD has *no* status subresource. Status lives in the main
resource and a sync is requested by writing the top-level ``operation`` field, which the controller clears
when the operation is over. ``CRD`` registers it for crdgen with ``status_subresource=False``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from pydantic import Field, model_validator

from rollouts.api.common import ApiModel, ObjectMeta, OpenDict, Time
from rollouts.api.crdgen import AGE_COLUMN, CrdSpec, PrinterColumn

GROUP: Final = "argoproj.io"
VERSION: Final = "v1alpha1"
KIND: Final = "Application"
PLURAL: Final = "applications"
SHORT_NAMES: Final = ("app", "apps")
IN_CLUSTER_SERVER: Final = "https://kubernetes.default.svc"
IN_CLUSTER_NAME: Final = "in-cluster"
REFRESH_ANNOTATION: Final = "argocd.argoproj.io/refresh"


# -- spec ------------------------------------------------------------------------------


class DirectorySource(ApiModel):
    """Plain YAML/JSON files: ``recurse`` into sub-directories, ``include``/``exclude`` glob patterns
    (Argo CD accepts a single glob or ``{a,b}`` alternatives)."""

    recurse: bool = False
    include: str | None = None
    exclude: str | None = None


class KustomizePatchTarget(ApiModel):
    group: str | None = None
    version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    label_selector: str | None = None
    annotation_selector: str | None = None


class KustomizePatch(ApiModel):
    """A strategic-merge or JSON 6902 patch: inline (``patch``) or a file of the app directory (``path``)."""

    path: str | None = None
    patch: str | None = None
    target: KustomizePatchTarget | None = None
    options: dict[str, bool] | None = None


class KustomizeReplica(ApiModel):
    name: str
    count: int | str


class KustomizeSource(ApiModel):
    name_prefix: str | None = None
    name_suffix: str | None = None
    images: list[str] | None = None
    common_labels: dict[str, str] | None = None
    common_annotations: dict[str, str] | None = None
    namespace: str | None = None
    components: list[str] | None = None
    """Kustomize components (directories relative to the app's path) added to the build."""
    ignore_missing_components: bool = False
    patches: list[KustomizePatch] | None = None
    replicas: list[KustomizeReplica] | None = None


class HelmParameter(ApiModel):
    name: str
    value: str = ""
    force_string: bool = False


class HelmSource(ApiModel):
    value_files: list[str] | None = None
    values: str | None = None
    values_object: OpenDict | None = None
    parameters: list[HelmParameter] | None = None
    release_name: str | None = None
    skip_crds: bool = False
    ignore_missing_value_files: bool = False
    kube_version: str | None = None
    """Overrides the destination cluster's version given to ``helm template --kube-version``."""
    api_versions: list[str] | None = None
    """Overrides the destination cluster's API versions given to ``helm template --api-versions``."""


class ApplicationSource(ApiModel):
    repo_url: str = Field(alias="repoURL")
    path: str = "."
    target_revision: str = "HEAD"
    directory: DirectorySource | None = None
    kustomize: KustomizeSource | None = None
    helm: HelmSource | None = None
    chart: str | None = None
    ref: str | None = None
    """Multi-source: the name other sources use as ``$<ref>/path`` in Helm value files."""

    def renders_nothing(self) -> bool:
        """In a multi-source application, a source with neither ``path`` nor ``chart`` renders no manifests
        (typically a ``ref`` source that only lends value files to others), as in Argo CD. Argo CD tells them
        apart by an empty ``path``; here ``path`` defaults to ".", so "not given" is what counts."""
        return self.chart is None and "path" not in self.model_fields_set


class ApplicationDestination(ApiModel):
    server: str | None = None
    name: str | None = None
    namespace: str | None = None


class Backoff(ApiModel):
    duration: str = "5s"
    factor: int = 2
    max_duration: str = "3m"


class RetryStrategy(ApiModel):
    limit: int = 0
    backoff: Backoff | None = None


class SyncPolicyAutomated(ApiModel):
    prune: bool = False
    self_heal: bool = False
    allow_empty: bool = False


class SyncPolicy(ApiModel):
    automated: SyncPolicyAutomated | None = None
    sync_options: list[str] | None = None
    retry: RetryStrategy | None = None


class ResourceIgnoreDifferences(ApiModel):
    group: str = ""
    kind: str
    name: str | None = None
    namespace: str | None = None
    json_pointers: list[str] | None = None
    jq_path_expressions: list[str] | None = None
    managed_fields_managers: list[str] | None = None


class ApplicationSpec(ApiModel):
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] | None = None
    """Multi-source (Argo CD 2.6+): when set, ``source`` is ignored."""
    destination: ApplicationDestination
    project: str = "default"
    sync_policy: SyncPolicy | None = None
    ignore_differences: list[ResourceIgnoreDifferences] | None = None
    revision_history_limit: int = 10

    @model_validator(mode="after")
    def _one_source(self) -> ApplicationSpec:
        if not self.sources and self.source is None:
            raise ValueError("spec.source or spec.sources is required")
        return self

    @property
    def has_multiple_sources(self) -> bool:
        return bool(self.sources)

    def source_list(self) -> list[ApplicationSource]:
        """Every source, in order: ``spec.sources``, or the single ``spec.source``."""
        if self.sources:
            return list(self.sources)
        assert self.source is not None
        return [self.source]


# -- operation ------------------------------------------------------------------------------


class SyncOperationResource(ApiModel):
    group: str = ""
    kind: str
    name: str
    namespace: str | None = None


class SyncOperation(ApiModel):
    revision: str | None = None
    revisions: list[str] | None = None
    """Multi-source: one revision per source, in the order of ``spec.sources``."""
    sources: list[ApplicationSource] | None = None
    prune: bool = False
    dry_run: bool = False
    sync_options: list[str] | None = None
    resources: list[SyncOperationResource] | None = None
    source: ApplicationSource | None = None
    self_heal_attempts_count: int = 0


class OperationInitiator(ApiModel):
    username: str | None = None
    automated: bool = False


class Operation(ApiModel):
    sync: SyncOperation | None = None
    initiated_by: OperationInitiator | None = None
    retry: RetryStrategy | None = None


# -- status ------------------------------------------------------------------------------


class SyncStatusCode(StrEnum):
    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"


class HealthStatusCode(StrEnum):
    HEALTHY = "Healthy"
    SUSPENDED = "Suspended"
    PROGRESSING = "Progressing"
    MISSING = "Missing"
    DEGRADED = "Degraded"
    UNKNOWN = "Unknown"


class OperationPhase(StrEnum):
    RUNNING = "Running"
    TERMINATING = "Terminating"
    FAILED = "Failed"
    ERROR = "Error"
    SUCCEEDED = "Succeeded"

    def is_completed(self) -> bool:
        return self in (OperationPhase.FAILED, OperationPhase.ERROR, OperationPhase.SUCCEEDED)


class ResultCode(StrEnum):
    SYNCED = "Synced"
    SYNC_FAILED = "SyncFailed"
    PRUNED = "Pruned"
    PRUNE_SKIPPED = "PruneSkipped"


class HookType(StrEnum):
    PRE_SYNC = "PreSync"
    SYNC = "Sync"
    POST_SYNC = "PostSync"
    SYNC_FAIL = "SyncFail"
    SKIP = "Skip"


class ComparedTo(ApiModel):
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] | None = None
    destination: ApplicationDestination


class RevisionMetadata(ApiModel):
    """The commit behind a revision, as Argo CD's API reports it (``RevisionMetadata``): author, date, tags,
    message. Written by this controller into ``status.sync`` and each history entry (an extension: Argo CD
    serves it from its API server) so that ``kubectl rollouts app get|list|history`` can show it."""

    author: str | None = None
    date: str | None = None
    tags: list[str] | None = None
    message: str | None = None


class SyncStatus(ApiModel):
    status: SyncStatusCode = SyncStatusCode.UNKNOWN
    revision: str | None = None
    revisions: list[str] | None = None
    compared_to: ComparedTo | None = None
    revision_metadata: RevisionMetadata | None = None


class HealthStatus(ApiModel):
    status: HealthStatusCode = HealthStatusCode.UNKNOWN
    message: str | None = None


class ResourceStatus(ApiModel):
    group: str = ""
    version: str = ""
    kind: str
    namespace: str | None = None
    name: str
    status: SyncStatusCode | None = None
    health: HealthStatus | None = None
    hook: bool = False
    requires_pruning: bool = False
    sync_wave: int = 0


class ResourceResult(ApiModel):
    group: str = ""
    version: str = ""
    kind: str
    namespace: str | None = None
    name: str
    status: ResultCode | None = None
    message: str | None = None
    hook_type: HookType | None = None
    hook_phase: OperationPhase | None = None
    sync_phase: str | None = None


class SyncOperationResult(ApiModel):
    revision: str = ""
    source: ApplicationSource | None = None
    revisions: list[str] | None = None
    sources: list[ApplicationSource] | None = None
    resources: list[ResourceResult] | None = None


class OperationState(ApiModel):
    operation: Operation
    phase: OperationPhase
    message: str | None = None
    sync_result: SyncOperationResult | None = None
    started_at: Time
    finished_at: Time | None = None
    retry_count: int = 0


class RevisionHistory(ApiModel):
    id: int
    revision: str = ""
    deployed_at: Time
    deploy_started_at: Time | None = None
    source: ApplicationSource | None = None
    revisions: list[str] | None = None
    sources: list[ApplicationSource] | None = None
    initiated_by: OperationInitiator | None = None
    revision_metadata: RevisionMetadata | None = None


class ApplicationConditionType(StrEnum):
    COMPARISON_ERROR = "ComparisonError"
    SYNC_ERROR = "SyncError"
    INVALID_SPEC_ERROR = "InvalidSpecError"
    UNKNOWN_ERROR = "UnknownError"
    ORPHANED_RESOURCE_WARNING = "OrphanedResourceWarning"
    REPEATED_RESOURCE_WARNING = "RepeatedResourceWarning"
    SHARED_RESOURCE_WARNING = "SharedResourceWarning"


class ApplicationCondition(ApiModel):
    type: ApplicationConditionType
    message: str
    last_transition_time: Time | None = None


class ApplicationStatus(ApiModel):
    sync: SyncStatus | None = None
    health: HealthStatus | None = None
    resources: list[ResourceStatus] | None = None
    operation_state: OperationState | None = None
    history: list[RevisionHistory] | None = None
    reconciled_at: Time | None = None
    conditions: list[ApplicationCondition] | None = None
    source_type: str | None = None
    source_types: list[str] | None = None
    summary: OpenDict | None = None


class Application(ApiModel):
    api_version: str = f"{GROUP}/{VERSION}"
    kind: str = KIND
    metadata: ObjectMeta
    spec: ApplicationSpec
    operation: Operation | None = None
    status: ApplicationStatus | None = None


CRD: Final = CrdSpec(
    kind=KIND,
    plural=PLURAL,
    singular="application",
    short_names=SHORT_NAMES,
    model=Application,
    status_subresource=False,
    printer_columns=(
        PrinterColumn("Sync Status", ".status.sync.status"),
        PrinterColumn("Health Status", ".status.health.status"),
        PrinterColumn("Revision", ".status.sync.revision", priority=10),
        PrinterColumn("Project", ".spec.project", priority=10),
        AGE_COLUMN,
    ),
)

__all__ = [
    "Application", "ApplicationCondition", "ApplicationConditionType", "ApplicationDestination",
    "ApplicationSource", "ApplicationSpec", "ApplicationStatus", "Backoff", "ComparedTo", "DirectorySource",
    "HealthStatus", "HealthStatusCode", "HelmParameter", "HelmSource", "HookType", "KustomizeSource",
    "Operation", "OperationInitiator", "OperationPhase", "OperationState", "ResourceIgnoreDifferences",
    "ResourceResult", "ResourceStatus", "ResultCode", "RetryStrategy", "RevisionHistory", "RevisionMetadata",
    "SyncOperation",
    "SyncOperationResource", "SyncOperationResult", "SyncPolicy", "SyncPolicyAutomated", "SyncStatus",
    "SyncStatusCode",
]
