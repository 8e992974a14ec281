"""The Experiment (argoproj.io/v1alpha1) contract: spec, status and the vocabulary of its phases.

Why this module exists: an Experiment runs one ReplicaSet per template (typically a *baseline* of the stable
pod template and a *canary* of the new one, started together at the same size) for a duration, with analyses
comparing them. Users write Argo's manifests, Argo's plugin and Argo CD read our status, and Argo's e2e
fixture lists Experiments after every failed test, so field names follow Argo's Go types
(pkg/apis/rollouts/v1alpha1/experiment_types.go, v1.10.2) exactly.

Shape is strict, meaning lenient, as for Rollouts: a missing selector parses and the planner reports it as
InvalidSpec with Argo's message; defaults (replicas 1, progressDeadlineSeconds 600) live on the fields or in
``effective_*`` helpers and are never written back.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from pydantic import Field

from rollouts.api.analysis import Argument, DryRun, MeasurementRetention
from rollouts.api.common import (
    AnalysisPhase,
    ApiModel,
    ConditionStatus,
    LabelSelector,
    ObjectMeta,
    OpenDict,
    Time,
)
from rollouts.api.crdgen import AGE_COLUMN, CrdSpec, PrinterColumn
from rollouts.api.rollout import AnalysisRunMetadata

API_VERSION: Final = "argoproj.io/v1alpha1"
KIND: Final = "Experiment"

DEFAULT_TEMPLATE_REPLICAS: Final = 1
DEFAULT_PROGRESS_DEADLINE_SECONDS: Final = 600
DEFAULT_SCALE_DOWN_DELAY_SECONDS: Final = 30
"""Argo's defaults.GetExperimentScaleDownDelaySecondsOrDefault: ReplicaSets of a finished Experiment are scaled
to zero this long after it completes (scaleDownDelaySeconds)."""

NAME_ANNOTATION: Final = "experiment.argoproj.io/name"
TEMPLATE_NAME_ANNOTATION: Final = "experiment.argoproj.io/template-name"
"""Annotations Argo puts on an Experiment's ReplicaSets, AnalysisRuns and Services (and the plugin reads)."""


class TemplateStatusCode(StrEnum):
    """Status of one template's ReplicaSet (Argo's TemplateStatusCode)."""

    PROGRESSING = "Progressing"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"

    def is_completed(self) -> bool:
        return self in (TemplateStatusCode.SUCCESSFUL, TemplateStatusCode.FAILED, TemplateStatusCode.ERROR)


class ExperimentConditionType(StrEnum):
    INVALID_SPEC = "InvalidSpec"
    COMPLETED = "Completed"
    PROGRESSING = "Progressing"
    RUNNING = "Running"
    REPLICA_FAILURE = "ReplicaFailure"


# --------------------------------------------------------------------------------------------------
# Spec
# --------------------------------------------------------------------------------------------------


class TemplateService(ApiModel):
    """``service: {}`` asks for a Service named after the ReplicaSet; ``service.name`` names it."""

    name: str | None = None


class TemplateSpec(ApiModel):
    name: str
    replicas: int | None = None
    min_ready_seconds: int = 0
    selector: LabelSelector | None = None
    template: OpenDict = Field(default_factory=dict)
    service: TemplateService | None = None

    @property
    def effective_replicas(self) -> int:
        return DEFAULT_TEMPLATE_REPLICAS if self.replicas is None else self.replicas


class ExperimentAnalysisTemplateRef(ApiModel):
    name: str
    template_name: str
    cluster_scope: bool | None = None
    args: list[Argument] | None = None
    required_for_completion: bool = False

    @property
    def is_cluster_scope(self) -> bool:
        return bool(self.cluster_scope)


class ExperimentSpec(ApiModel):
    templates: list[TemplateSpec] = Field(default_factory=list)
    duration: str | None = None
    progress_deadline_seconds: int | None = None
    terminate: bool = False
    analyses: list[ExperimentAnalysisTemplateRef] | None = None
    scale_down_delay_seconds: int | None = None
    dry_run: list[DryRun] | None = None
    measurement_retention: list[MeasurementRetention] | None = None
    analysis_run_metadata: AnalysisRunMetadata | None = None

    @property
    def effective_progress_deadline_seconds(self) -> int:
        if self.progress_deadline_seconds is None:
            return DEFAULT_PROGRESS_DEADLINE_SECONDS
        return self.progress_deadline_seconds

    @property
    def effective_scale_down_delay_seconds(self) -> int:
        if self.scale_down_delay_seconds is None:
            return DEFAULT_SCALE_DOWN_DELAY_SECONDS
        return self.scale_down_delay_seconds


# --------------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------------


class TemplateStatus(ApiModel):
    name: str
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    collision_count: int | None = None
    status: TemplateStatusCode | str | None = Field(default=None, union_mode="left_to_right")
    message: str | None = None
    last_transition_time: Time | None = None
    service_name: str | None = None
    pod_template_hash: str | None = None


class ExperimentCondition(ApiModel):
    type: ExperimentConditionType | str = Field(union_mode="left_to_right")
    status: ConditionStatus
    last_update_time: Time | None = None
    last_transition_time: Time | None = None
    reason: str | None = None
    message: str | None = None


class ExperimentAnalysisRunStatus(ApiModel):
    name: str
    analysis_run: str = ""
    phase: AnalysisPhase | str = Field(default=AnalysisPhase.PENDING, union_mode="left_to_right")
    message: str | None = None


class ExperimentStatus(ApiModel):
    phase: AnalysisPhase | str | None = Field(default=None, union_mode="left_to_right")
    message: str | None = None
    template_statuses: list[TemplateStatus] | None = None
    available_at: Time | None = None
    conditions: list[ExperimentCondition] | None = None
    analysis_runs: list[ExperimentAnalysisRunStatus] | None = None


class Experiment(ApiModel):
    api_version: str = API_VERSION
    kind: str = KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ExperimentSpec = Field(default_factory=ExperimentSpec)
    status: ExperimentStatus | None = None

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or ""

    @property
    def status_or_empty(self) -> ExperimentStatus:
        return self.status if self.status is not None else ExperimentStatus()

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-ready camelCase data, with only the fields the user or controller set."""
        data: dict[str, Any] = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        return data


CRD: Final = CrdSpec(
    kind=KIND,
    plural="experiments",
    singular="experiment",
    short_names=("exp",),
    model=Experiment,
    status_subresource=False,
    printer_columns=(PrinterColumn("Status", ".status.phase", "string", "Experiment status"), AGE_COLUMN),
)
"""Registration read by ``rollouts.api.crdgen``: short name ``exp`` and the Status column, as Argo's CRD, and like
it no status subresource: tools written for Argo write an Experiment's status on the object itself (Argo's
plugin's `retry experiment` merge-patches ``{"status": null}``), which a status subresource would silently
ignore. The controller writes status with a resourceVersion-guarded update of the object."""
