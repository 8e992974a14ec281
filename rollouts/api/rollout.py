"""The Rollout (argoproj.io/v1alpha1) contract: spec, status and the vocabulary of phases and conditions.

Why this module exists: users keep their Argo Rollouts manifests unchanged, and tools that read Argo's status
(kubectl-argo-rollouts, Argo CD health checks) read ours. Field names, aliases and defaults therefore follow
Argo's Go types exactly, including the odd ones (``status.HPAReplicas``, ``status.stableRS``, a *string*
``status.observedGeneration``). Models are lenient about meaning (a weight of 150 parses; ``validation.py``
reports it) and strict about shape, and they never write defaults back (see ``ApiModel``).

Defaults the controller applies live on the fields (``spec.replicas`` -> 1, ``canary.max_surge`` -> "25%")
or, when they depend on other fields (canary ``scaleDownDelaySeconds`` is 30 only with traffic routing), on a
method named ``effective_*``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from pydantic import Field

from rollouts.api.common import (
    AnalysisPhase,
    ApiModel,
    ConditionStatus,
    IntOrString,
    LabelSelector,
    ObjectMeta,
    OpenDict,
    Time,
    parse_duration,
)
from rollouts.api.crdgen import AGE_COLUMN, CrdSpec, PrinterColumn, ScaleSubresource

API_GROUP: Final = "argoproj.io"
API_VERSION: Final = "argoproj.io/v1alpha1"
KIND: Final = "Rollout"

DEFAULT_REPLICAS: Final = 1
DEFAULT_REVISION_HISTORY_LIMIT: Final = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS: Final = 600
DEFAULT_MAX_SURGE: Final = "25%"
DEFAULT_MAX_UNAVAILABLE: Final = "25%"
DEFAULT_SCALE_DOWN_DELAY_SECONDS: Final = 30
DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS: Final = 30
DEFAULT_MAX_TRAFFIC_WEIGHT: Final = 100
DEFAULT_NGINX_ANNOTATION_PREFIX: Final = "nginx.ingress.kubernetes.io"
DEFAULT_ANALYSIS_RUN_HISTORY_LIMIT: Final = 5
GATEWAY_API_PLUGIN: Final = "argoproj-labs/gatewayAPI"

# --------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------


class RolloutPhase(StrEnum):
    HEALTHY = "Healthy"
    DEGRADED = "Degraded"
    PAUSED = "Paused"
    PROGRESSING = "Progressing"


class ConditionType(StrEnum):
    AVAILABLE = "Available"
    PROGRESSING = "Progressing"
    REPLICA_FAILURE = "ReplicaFailure"
    INVALID_SPEC = "InvalidSpec"
    PAUSED = "Paused"
    HEALTHY = "Healthy"
    COMPLETED = "Completed"


class ConditionReason(StrEnum):
    """Reasons Argo writes on Rollout conditions (and, for most, on Events of the same name)."""

    INVALID_SPEC = "InvalidSpec"
    REPLICA_SET_CREATE_ERROR = "ReplicaSetCreateError"
    NEW_REPLICA_SET_CREATED = "NewReplicaSetCreated"
    FOUND_NEW_REPLICA_SET = "FoundNewReplicaSet"
    NEW_REPLICA_SET_AVAILABLE = "NewReplicaSetAvailable"
    REPLICA_SET_UPDATED = "ReplicaSetUpdated"
    PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
    ROLLOUT_PAUSED = "RolloutPaused"
    ROLLOUT_RESUMED = "RolloutResumed"
    ROLLOUT_ABORTED = "RolloutAborted"
    ROLLOUT_RETRY = "RolloutRetry"
    ROLLOUT_COMPLETED = "RolloutCompleted"
    ROLLOUT_HEALTHY = "RolloutHealthy"
    ROLLOUT_NOT_HEALTHY = "RolloutNotHealthy"
    AVAILABLE = "AvailableReason"
    ROLLOUT_ANALYSIS_RUN_FAILED = "AnalysisRunFailed"
    ROLLOUT_EXPERIMENT_FAILED = "ExperimentFailed"
    ROLLOUT_NOT_COMPLETED = "RolloutNotCompleted"
    REPLICA_SET_NOT_AVAILABLE = "ReplicaSetNotAvailable"
    SERVICE_REFERENCE_ERROR = "ServiceReferenceError"


class EventReason(StrEnum):
    """Event reasons Argo emits for a Rollout, in the order they usually appear during an update."""

    ROLLOUT_ADDED = "RolloutAddedToInformer"
    ROLLOUT_UPDATED = "RolloutUpdated"
    NEW_REPLICA_SET_CREATED = "NewReplicaSetCreated"
    SCALING_REPLICA_SET = "ScalingReplicaSet"
    ROLLOUT_STEP_COMPLETED = "RolloutStepCompleted"
    ROLLOUT_PAUSED = "RolloutPaused"
    ROLLOUT_RESUMED = "RolloutResumed"
    ROLLOUT_ABORTED = "RolloutAborted"
    ROLLOUT_RETRY = "RolloutRetry"
    ROLLOUT_COMPLETED = "RolloutCompleted"
    ROLLOUT_NOT_COMPLETED = "RolloutNotCompleted"
    ROLLOUT_DELETED = "RolloutDeleted"
    ROLLOUT_RESTARTED = "RolloutRestarted"
    SERVICE_REFERENCE_ERROR = "ServiceReferenceError"
    SWITCH_SERVICE = "SwitchService"
    TRAFFIC_WEIGHT_UPDATED = "TrafficWeightUpdated"
    ANALYSIS_RUN_RUNNING = "AnalysisRunRunning"
    ANALYSIS_RUN_SUCCESSFUL = "AnalysisRunSuccessful"
    ANALYSIS_RUN_FAILED = "AnalysisRunFailed"
    INVALID_SPEC = "InvalidSpec"
    PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
    REPLICA_SET_CREATE_ERROR = "ReplicaSetCreateError"


class PauseReason(StrEnum):
    INCONCLUSIVE_ANALYSIS = "InconclusiveAnalysisRun"
    INCONCLUSIVE_EXPERIMENT = "InconclusiveExperiment"
    CANARY_PAUSE_STEP = "CanaryPauseStep"
    BLUE_GREEN_PAUSE = "BlueGreenPause"


class StepKind(StrEnum):
    """The keys a canary step may carry; exactly one is set per step."""

    SET_WEIGHT = "setWeight"
    PAUSE = "pause"
    EXPERIMENT = "experiment"
    ANALYSIS = "analysis"
    SET_CANARY_SCALE = "setCanaryScale"
    SET_HEADER_ROUTE = "setHeaderRoute"
    SET_MIRROR_ROUTE = "setMirrorRoute"
    PLUGIN = "plugin"


class PodTemplateHashValue(StrEnum):
    STABLE = "Stable"
    LATEST = "Latest"


class WorkloadScaleDown(StrEnum):
    NEVER = "never"
    ON_SUCCESS = "onsuccess"
    PROGRESSIVELY = "progressively"


# --------------------------------------------------------------------------------------------------
# Analysis references (used by steps, background analysis and blue-green promotion analysis)
# --------------------------------------------------------------------------------------------------


class AnalysisTemplateRef(ApiModel):
    template_name: str
    cluster_scope: bool = False


class FieldRef(ApiModel):
    field_path: str


class ArgumentValueFrom(ApiModel):
    pod_template_hash_value: PodTemplateHashValue | None = None
    field_ref: FieldRef | None = None


class AnalysisRunArgument(ApiModel):
    name: str
    value: str | None = None
    value_from: ArgumentValueFrom | None = None


class MetricNameRef(ApiModel):
    metric_name: str


class MeasurementRetention(ApiModel):
    metric_name: str
    limit: int


class AnalysisRunMetadata(ApiModel):
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class RolloutAnalysis(ApiModel):
    """An analysis step, or blue-green pre/post promotion analysis."""

    templates: list[AnalysisTemplateRef] | None = None
    args: list[AnalysisRunArgument] | None = None
    dry_run: list[MetricNameRef] | None = None
    measurement_retention: list[MeasurementRetention] | None = None
    analysis_run_metadata: AnalysisRunMetadata | None = None


class RolloutAnalysisBackground(RolloutAnalysis):
    """Background analysis of a canary: runs from ``startingStep`` (index) until the rollout completes."""

    starting_step: int | None = None


# --------------------------------------------------------------------------------------------------
# Canary steps
# --------------------------------------------------------------------------------------------------


class RolloutPause(ApiModel):
    """``pause: {}`` waits for a promotion; ``pause: {duration: 30s}`` (or ``30``) waits that long."""

    duration: IntOrString | None = None

    def duration_seconds(self) -> float | None:
        """Seconds to wait, or None for an indefinite pause. Raises ValueError for a malformed duration."""
        if self.duration is None:
            return None
        return parse_duration(self.duration)


class SetCanaryScale(ApiModel):
    replicas: int | None = None
    weight: int | None = None
    match_traffic_weight: bool = False


class StringMatch(ApiModel):
    exact: str | None = None
    regex: str | None = None
    prefix: str | None = None


class HeaderRoutingMatch(ApiModel):
    header_name: str
    header_value: StringMatch | None = None


class SetHeaderRoute(ApiModel):
    name: str
    match: list[HeaderRoutingMatch] | None = None


class RouteMatch(ApiModel):
    """One ``setMirrorRoute.match`` entry: all given parts must match (Istio's HTTPMatchRequest subset)."""

    method: StringMatch | None = None
    path: StringMatch | None = None
    headers: dict[str, StringMatch] | None = None


class SetMirrorRoute(ApiModel):
    """``setMirrorRoute``: mirror ``percentage`` (default 100) of the requests matching ``match`` to the canary;
    without ``match`` the step removes the mirror route of that ``name``."""

    name: str
    match: list[RouteMatch] | None = None
    percentage: int | None = None


class PodTemplateMetadata(ApiModel):
    """Labels and annotations added to the pods of the canary/stable (or active/preview) ReplicaSet."""

    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class ReplicaSetSpecRef(StrEnum):
    """Which of the Rollout's ReplicaSets an experiment template copies its pod template from."""

    STABLE = "stable"
    CANARY = "canary"


class ExperimentTemplateService(ApiModel):
    """``service: {}`` gives the template a Service named after its ReplicaSet; ``name`` names it."""

    name: str | None = None


class RolloutExperimentTemplate(ApiModel):
    """One template of an ``experiment`` step: a ReplicaSet of the stable or canary pod template
    (``specRef``), with ``replicas`` (default 1), extra pod ``metadata``, an optional ``selector`` and, with
    traffic routing, a ``weight`` of traffic for its Service."""

    name: str
    spec_ref: ReplicaSetSpecRef | str = Field(union_mode="left_to_right")
    replicas: int | None = None
    metadata: PodTemplateMetadata | None = None
    selector: LabelSelector | None = None
    weight: int | None = None
    service: ExperimentTemplateService | None = None


class RolloutExperimentStepAnalysis(ApiModel):
    """An analysis of an experiment step; ``requiredForCompletion`` ends the Experiment when it succeeds."""

    name: str
    template_name: str
    cluster_scope: bool | None = None
    args: list[AnalysisRunArgument] | None = None
    required_for_completion: bool = False


class RolloutExperimentStep(ApiModel):
    """``experiment`` canary step: run these templates (and analyses) as an Experiment for ``duration``."""

    templates: list[RolloutExperimentTemplate] = Field(default_factory=list)
    duration: str | None = None
    analyses: list[RolloutExperimentStepAnalysis] | None = None
    dry_run: list[MetricNameRef] | None = None
    analysis_run_metadata: AnalysisRunMetadata | None = None
    scale_down_delay_seconds: int | None = None


class CanaryStep(ApiModel):
    """One canary step. At most one of setWeight, pause, experiment and analysis is set (Argo's rule); the other
    kinds may join one of them or each other. An unknown key stays visible in ``model_extra``."""

    set_weight: int | None = None
    pause: RolloutPause | None = None
    experiment: RolloutExperimentStep | None = None
    analysis: RolloutAnalysis | None = None
    set_canary_scale: SetCanaryScale | None = None
    set_header_route: SetHeaderRoute | None = None
    set_mirror_route: SetMirrorRoute | None = None
    plugin: OpenDict | None = None

    def kinds(self) -> list[StepKind]:
        """The step kinds set on this step, in declaration order."""
        return [
            StepKind(str(type(self).model_fields[name].alias))
            for name in type(self).model_fields
            if getattr(self, name) is not None
        ]

    def unknown_keys(self) -> list[str]:
        """Keys in the manifest that are not a step kind we know (e.g. a typo like ``setWieght``)."""
        return sorted((self.model_extra or {}).keys())

    @property
    def kind(self) -> StepKind | None:
        """The kind of a step that sets exactly one, None when zero or several kinds are set."""
        kinds = self.kinds()
        return kinds[0] if len(kinds) == 1 else None


# --------------------------------------------------------------------------------------------------
# Traffic routing
# --------------------------------------------------------------------------------------------------


class NginxTrafficRouting(ApiModel):
    annotation_prefix: str = DEFAULT_NGINX_ANNOTATION_PREFIX
    stable_ingress: str | None = None
    stable_ingresses: list[str] | None = None
    additional_ingress_annotations: dict[str, str] | None = None
    canary_ingress_annotations: dict[str, str] | None = None

    def ingresses(self) -> list[str]:
        """Every stable Ingress the rollout manages: ``stableIngress`` first, then ``stableIngresses``."""
        names = [self.stable_ingress] if self.stable_ingress else []
        return names + [name for name in self.stable_ingresses or [] if name not in names]


class StickinessConfig(ApiModel):
    """``alb.stickinessConfig``: duration-based stickiness of the ALB target groups (AWS allows 1..604800 s)."""

    enabled: bool = False
    duration_seconds: int = 0


class AlbTrafficRouting(ApiModel):
    """``canary.trafficRouting.alb``: weights written into the AWS Load Balancer Controller's action annotation
    on the user's Ingress(es) (``rollouts.traffic.alb``)."""

    ingress: str | None = None
    ingresses: list[str] | None = None
    service_port: int = 0
    root_service: str | None = None
    annotation_prefix: str | None = None
    stickiness_config: StickinessConfig | None = None

    def names(self) -> list[str]:
        """Every Ingress the rollout manages: ``ingresses`` when set (as Argo), else ``ingress``."""
        if self.ingresses is not None:
            return list(self.ingresses)
        return [self.ingress] if self.ingress else []


class ManagedRoute(ApiModel):
    name: str


class IstioTlsRoute(ApiModel):
    """A TLS route of the VirtualService to weight, found by its match's single ``port`` and ``sniHosts``."""

    port: int = 0
    sni_hosts: list[str] | None = None


class IstioTcpRoute(ApiModel):
    """A TCP route of the VirtualService to weight, found by its match's single ``port``."""

    port: int = 0


class IstioVirtualService(ApiModel):
    """A VirtualService (``name`` or ``name.namespace``) and the routes of it to weight (omitted: the single one)."""

    name: str
    routes: list[str] | None = None
    tls_routes: list[IstioTlsRoute] | None = None
    tcp_routes: list[IstioTcpRoute] | None = None


class IstioDestinationRule(ApiModel):
    """Subset-level splitting: the subsets whose ``rollouts-pod-template-hash`` label follows canary and stable."""

    name: str = ""
    canary_subset_name: str = ""  # required as in Argo's CRD; validation reports it missing
    stable_subset_name: str = ""
    additional_subset_names: list[str] | None = None


class IstioTrafficRouting(ApiModel):
    virtual_service: IstioVirtualService | None = None
    virtual_services: list[IstioVirtualService] | None = None
    destination_rule: IstioDestinationRule | None = None


class SmiTrafficRouting(ApiModel):
    root_service: str | None = None
    traffic_split_name: str | None = None


class RolloutTrafficRouting(ApiModel):
    """``canary.trafficRouting``. nginx is typed; plugin configurations (``plugins["argoproj-labs/gatewayAPI"]``)
    are open, as in Argo's CRD, and belong to the router that reads them (``rollouts.traffic.gatewayapi``); other
    providers are kept open so their manifests validate and round-trip."""

    nginx: NginxTrafficRouting | None = None
    plugins: dict[str, OpenDict] | None = None
    istio: IstioTrafficRouting | None = None
    smi: SmiTrafficRouting | None = None
    alb: AlbTrafficRouting | None = None
    ambassador: OpenDict | None = None
    app_mesh: OpenDict | None = None
    traefik: OpenDict | None = None
    apisix: OpenDict | None = None
    managed_routes: list[ManagedRoute] | None = None
    max_traffic_weight: int = DEFAULT_MAX_TRAFFIC_WEIGHT

    def providers(self) -> list[str]:
        """Names of the configured providers: "nginx", "istio", ..., and "plugins/<name>" per plugin."""
        names = [
            str(type(self).model_fields[name].alias)
            for name in ("nginx", "istio", "smi", "alb", "ambassador", "app_mesh", "traefik", "apisix")
            if getattr(self, name) is not None
        ]
        return names + [f"plugins/{name}" for name in sorted(self.plugins or {})]


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------


PING: Final = "ping"
PONG: Final = "pong"


class PingPongSpec(ApiModel):
    ping_service: str
    pong_service: str


class CanaryStrategy(ApiModel):
    canary_service: str | None = None
    stable_service: str | None = None
    steps: list[CanaryStep] | None = None
    traffic_routing: RolloutTrafficRouting | None = None
    max_surge: IntOrString = DEFAULT_MAX_SURGE
    max_unavailable: IntOrString = DEFAULT_MAX_UNAVAILABLE
    analysis: RolloutAnalysisBackground | None = None
    anti_affinity: OpenDict | None = None
    canary_metadata: PodTemplateMetadata | None = None
    stable_metadata: PodTemplateMetadata | None = None
    scale_down_delay_seconds: int | None = None
    scale_down_delay_revision_limit: int | None = None
    abort_scale_down_delay_seconds: int | None = None
    dynamic_stable_scale: bool = False
    ping_pong: PingPongSpec | None = None
    min_pods_per_replica_set: int | None = None
    replica_progress_threshold: OpenDict | None = None

    def effective_scale_down_delay_seconds(self) -> int:
        """Delay before scaling down the old stable after promotion: the field, else 30 s with traffic routing
        (the old pods may still receive traffic while routers converge), else 0 (basic canary)."""
        if self.scale_down_delay_seconds is not None:
            return self.scale_down_delay_seconds
        return DEFAULT_SCALE_DOWN_DELAY_SECONDS if self.traffic_routing is not None else 0

    def effective_abort_scale_down_delay_seconds(self) -> int:
        """Delay before scaling down the canary after an abort: the field, else 30 s with traffic routing,
        else 0 (a basic canary is scaled down right away). An explicit 0 means "never scale it down"."""
        if self.abort_scale_down_delay_seconds is not None:
            return self.abort_scale_down_delay_seconds
        return DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS if self.traffic_routing is not None else 0

    def effective_max_traffic_weight(self) -> int:
        return self.traffic_routing.max_traffic_weight if self.traffic_routing else DEFAULT_MAX_TRAFFIC_WEIGHT

    def ping_pong_services(self, stable_ping_pong: str | None) -> tuple[str, str] | None:
        """(stable, canary) of a ping-pong canary, from ``status.canary.stablePingPong`` (Argo's
        ``GetStableAndCanaryServices``): "ping" -> (ping, pong); "pong" or unset -> (pong, ping). The first
        promotion (the initial deploy) flips an unset value to "ping", so ping starts as the stable."""
        if self.ping_pong is None:
            return None
        ping, pong = self.ping_pong.ping_service, self.ping_pong.pong_service
        return (ping, pong) if stable_ping_pong == PING else (pong, ping)


class BlueGreenStrategy(ApiModel):
    active_service: str | None = None
    preview_service: str | None = None
    preview_replica_count: int | None = None
    auto_promotion_enabled: bool = True
    auto_promotion_seconds: int | None = None
    max_unavailable: IntOrString | None = None
    scale_down_delay_seconds: int = DEFAULT_SCALE_DOWN_DELAY_SECONDS
    scale_down_delay_revision_limit: int | None = None
    abort_scale_down_delay_seconds: int = DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS
    pre_promotion_analysis: RolloutAnalysis | None = None
    post_promotion_analysis: RolloutAnalysis | None = None
    anti_affinity: OpenDict | None = None
    active_metadata: PodTemplateMetadata | None = None
    preview_metadata: PodTemplateMetadata | None = None


class RolloutStrategy(ApiModel):
    canary: CanaryStrategy | None = None
    blue_green: BlueGreenStrategy | None = None


class WorkloadRef(ApiModel):
    """A Deployment (or other workload) whose pod template the Rollout uses instead of ``spec.template``."""

    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    scale_down: WorkloadScaleDown | None = None


class AnalysisRunStrategy(ApiModel):
    successful_run_history_limit: int = DEFAULT_ANALYSIS_RUN_HISTORY_LIMIT
    unsuccessful_run_history_limit: int = DEFAULT_ANALYSIS_RUN_HISTORY_LIMIT


class RollbackWindow(ApiModel):
    revisions: int | None = None


class RolloutSpec(ApiModel):
    replicas: int = DEFAULT_REPLICAS
    selector: LabelSelector | None = None
    template: OpenDict | None = None
    workload_ref: WorkloadRef | None = None
    min_ready_seconds: int = 0
    revision_history_limit: int = DEFAULT_REVISION_HISTORY_LIMIT
    paused: bool = False
    progress_deadline_seconds: int = DEFAULT_PROGRESS_DEADLINE_SECONDS
    progress_deadline_abort: bool = False
    restart_at: Time | None = None
    rollback_window: RollbackWindow | None = None
    analysis: AnalysisRunStrategy | None = None
    strategy: RolloutStrategy = Field(default_factory=RolloutStrategy)

    def template_labels(self) -> dict[str, str]:
        """Labels of the inline pod template ({} when absent or malformed)."""
        metadata = (self.template or {}).get("metadata") or {}
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


# --------------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------------


class PauseCondition(ApiModel):
    reason: PauseReason | str = Field(union_mode="left_to_right")
    start_time: Time


class RolloutCondition(ApiModel):
    type: ConditionType | str = Field(union_mode="left_to_right")
    status: ConditionStatus
    reason: str | None = None
    message: str | None = None
    last_update_time: Time | None = None
    last_transition_time: Time | None = None


class WeightDestination(ApiModel):
    weight: int = 0
    service_name: str | None = None
    pod_template_hash: str | None = None


class TrafficWeights(ApiModel):
    canary: WeightDestination = Field(default_factory=WeightDestination)
    stable: WeightDestination = Field(default_factory=WeightDestination)
    additional: list[WeightDestination] | None = None
    verified: bool | None = None


class RolloutAnalysisRunStatus(ApiModel):
    name: str
    status: AnalysisPhase | str = Field(union_mode="left_to_right")
    message: str | None = None


class CanaryStatus(ApiModel):
    current_step_analysis_run_status: RolloutAnalysisRunStatus | None = None
    current_background_analysis_run_status: RolloutAnalysisRunStatus | None = None
    current_experiment: str | None = None
    weights: TrafficWeights | None = None
    stable_ping_pong: str | None = None


class BlueGreenStatus(ApiModel):
    preview_selector: str | None = None
    active_selector: str | None = None
    scale_up_preview_check_point: bool | None = None
    pre_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None
    post_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None


class RolloutStatus(ApiModel):
    """Status exactly as Argo writes it. Every field is optional: an empty status is a new Rollout."""

    phase: RolloutPhase | None = None
    message: str | None = None
    abort: bool | None = None
    aborted_at: Time | None = None
    pause_conditions: list[PauseCondition] | None = None
    controller_pause: bool | None = None
    promote_full: bool | None = None
    current_pod_hash: str | None = None
    current_step_hash: str | None = None
    current_step_index: int | None = None
    stable_rs: str | None = Field(default=None, alias="stableRS")
    collision_count: int | None = None
    observed_generation: str | None = None
    conditions: list[RolloutCondition] | None = None
    replicas: int | None = None
    updated_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    hpa_replicas: int | None = Field(default=None, alias="HPAReplicas")
    selector: str | None = None
    canary: CanaryStatus | None = None
    blue_green: BlueGreenStatus | None = None
    restarted_at: Time | None = None
    workload_observed_generation: str | None = None
    alb: OpenDict | None = None
    albs: list[OpenDict] | None = None

    def condition(self, condition_type: ConditionType) -> RolloutCondition | None:
        for cond in self.conditions or []:
            if cond.type == condition_type:
                return cond
        return None


# --------------------------------------------------------------------------------------------------
# The object
# --------------------------------------------------------------------------------------------------


class Rollout(ApiModel):
    api_version: str = API_VERSION
    kind: str = KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: RolloutSpec = Field(default_factory=RolloutSpec)
    status: RolloutStatus | None = None

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or ""

    @property
    def status_or_empty(self) -> RolloutStatus:
        return self.status if self.status is not None else RolloutStatus()

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-ready camelCase data, with only the fields the user or controller set."""
        data: dict[str, Any] = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        return data


CRD: Final = CrdSpec(
    kind=KIND,
    plural="rollouts",
    singular="rollout",
    short_names=("ro",),
    model=Rollout,
    scale=ScaleSubresource(
        spec_replicas_path=".spec.replicas",
        status_replicas_path=".status.HPAReplicas",
        label_selector_path=".status.selector",
    ),
    printer_columns=(
        PrinterColumn("Desired", ".spec.replicas", "integer", "Pods the rollout asks for"),
        PrinterColumn("Current", ".status.replicas", "integer", "Pods of all revisions that are not terminating"),
        PrinterColumn("Up-to-date", ".status.updatedReplicas", "integer", "Pods running the current template"),
        PrinterColumn("Available", ".status.availableReplicas", "integer", "Pods ready for minReadySeconds"),
        PrinterColumn("Phase", ".status.phase", "string", "Healthy, Progressing, Paused or Degraded"),
        AGE_COLUMN,
    ),
)
"""Registration read by ``rollouts.api.crdgen``: status and scale subresources (an HPA reads
``.status.HPAReplicas`` and ``.status.selector``, as with Argo), short name ``ro``."""
