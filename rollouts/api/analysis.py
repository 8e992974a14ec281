"""AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun (argoproj.io/v1alpha1): the analysis contract.

Field names and defaults follow Argo Rollouts so existing templates apply unchanged. Counts and limits
are `int | str` because Argo accepts `{{args.x}}` templates there (intstr); they are resolved to
integers only after argument substitution (analysis.templating). The `judge` provider is ours: the
statistical canary judge of analysis/judges, described in `JudgeMetricProvider`.

Unknown fields are kept (extra="allow") rather than rejected so that templates written for a newer Argo
(providers we do not implement) still parse; the run then reports an Error measurement naming the
unsupported provider instead of the object being unreadable.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Final, Literal

from pydantic import ConfigDict, Field

from rollouts.api.common import AnalysisPhase as AnalysisPhase  # re-exported: shared with Rollout status
from rollouts.api.common import ApiModel, IntOrString, ObjectMeta, OpenDict, Time
from rollouts.api.crdgen import AGE_COLUMN, CrdSpec, PrinterColumn

GROUP = "argoproj.io"
VERSION = "v1alpha1"
API_VERSION: Final = "argoproj.io/v1alpha1"

DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
DEFAULT_MEASUREMENT_RETENTION = 10


class _Model(ApiModel):
    """Frozen, camelCase, unknown fields kept, unset defaults not written back (see ApiModel)."""


# --- args ----------------------------------------------------------------------------------------


class SecretKeyRef(_Model):
    name: str
    key: str


class FieldRef(_Model):
    field_path: str


class ValueFrom(_Model):
    secret_key_ref: SecretKeyRef | None = None
    field_ref: FieldRef | None = None


class Argument(_Model):
    name: str
    value: str | None = None
    value_from: ValueFrom | None = None


# --- providers -----------------------------------------------------------------------------------


class WebMetricHeader(_Model):
    key: str
    value: str


class Sigv4Config(_Model):
    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None


class OAuth2Config(_Model):
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scopes: list[str] = Field(default_factory=list)


class PrometheusAuth(_Model):
    sigv4: Sigv4Config | None = None
    oauth2: OAuth2Config | None = None


class PrometheusRangeQuery(_Model):
    """A range query instead of an instant one: `start` and `end` are expr expressions giving a time
    (`now() - duration("1h")`), `step` a duration."""

    start: str = ""
    end: str = ""
    step: str = ""


class PrometheusMetric(_Model):
    address: str = ""
    query: str = ""
    timeout: int | None = Field(default=None, description="Query timeout in seconds.")
    insecure: bool = False
    headers: list[WebMetricHeader] = Field(default_factory=list)
    authentication: PrometheusAuth | None = None
    range_query: PrometheusRangeQuery | None = None


class WebMetric(_Model):
    url: str
    method: str = "GET"
    headers: list[WebMetricHeader] = Field(default_factory=list)
    body: str | None = None
    json_body: OpenDict | None = None
    json_path: str | None = None
    timeout_seconds: int = 10
    insecure: bool = False


class JobMetadata(_Model):
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class JobMetric(_Model):
    metadata: JobMetadata = Field(default_factory=JobMetadata)
    spec: OpenDict = Field(description="A batch/v1 JobSpec.")


class JudgeDirection(StrEnum):
    """Which change of the canary is a regression (Kayenta's direction)."""

    INCREASE = "increase"
    DECREASE = "decrease"
    EITHER = "either"


class JudgeMode(StrEnum):
    FIXED = "fixed"
    SEQUENTIAL = "sequential"


class JudgeMetricQuery(_Model):
    """One compared metric. `query` (and `totalQuery` for rates) contain `{{variant.hash}}`, replaced by the
    control's and then the canary's pod-template hash, and are evaluated as range queries over the window."""

    name: str
    query: str
    total_query: str | None = Field(
        default=None, description="When set, `query` counts events (errors) and this counts requests."
    )
    direction: JudgeDirection = JudgeDirection.INCREASE
    tolerance: float = Field(default=0.0, ge=0, description="Tolerated relative effect, 0.05 = 5%.")
    group: str = "default"
    weight: float = Field(default=1.0, gt=0)
    critical: bool = False


class JudgeMetricProvider(_Model):
    address: str
    control_hash: str
    canary_hash: str
    metrics: list[JudgeMetricQuery] = Field(min_length=1)
    mode: JudgeMode = JudgeMode.SEQUENTIAL
    step: str = Field(default="1m", description="Resolution of the range query: one point per interval.")
    lookback: str | None = Field(default=None, description="Window length; default: since the run started.")
    confidence: float = Field(default=0.98, gt=0.5, lt=1, description="Fixed-horizon interval confidence.")
    alpha: float = Field(default=0.01, gt=0, lt=0.5, description="Sequential false-alarm bound.")
    pass_threshold: float = Field(default=90, ge=0, le=100)
    marginal_threshold: float = Field(default=75, ge=0, le=100)
    group_weights: dict[str, float] = Field(default_factory=dict)
    timeout: int = 30
    headers: list[WebMetricHeader] = Field(default_factory=list)


class SecretRef(_Model):
    """Datadog's `secretRef`: a Secret in the controller's namespace, or (`namespaced`) in the run's."""

    name: str = ""
    namespaced: bool = False


class DatadogMetric(_Model):
    """Argo's datadog provider: a v1 `query`, or v2 `query` / `queries` + `formula` (scalar query API)."""

    interval: str = Field(default="5m", description="Time window queried (to: now, from: now - interval).")
    query: str = ""
    queries: dict[str, str] = Field(default_factory=dict, description="v2: name -> query, used by `formula`.")
    formula: str = ""
    api_version: Literal["v1", "v2"] = "v1"
    aggregator: Literal["", "avg", "min", "max", "sum", "last", "percentile", "mean", "l2norm", "area"] = ""
    secret_ref: SecretRef = Field(default_factory=SecretRef)
    request_timeout: str = "10s"


class NewRelicMetric(_Model):
    """NRQL through NerdGraph; `profile` names the Secret (default `newrelic`) in the controller's namespace."""

    profile: str = ""
    query: str
    timeout: int | None = Field(default=None, description="NRQL timeout in seconds (default 5).")


class WavefrontMetric(_Model):
    """`address` also names the key of the `wavefront-api-tokens` Secret that holds its token."""

    address: str = ""
    query: str = ""


class GraphiteMetric(_Model):
    address: str = ""
    query: str = ""


class InfluxdbMetric(_Model):
    """A Flux query; `profile` names the Secret (default `influxdb`: authToken, org, address)."""

    profile: str = ""
    query: str = ""


class SkyWalkingMetric(_Model):
    address: str = ""
    query: str = ""
    interval: str = ""


class KayentaThreshold(_Model):
    pass_: int = Field(alias="pass")
    marginal: int


class KayentaScopeDetail(_Model):
    scope: str
    region: str
    step: int
    start: str = ""
    end: str = ""


class KayentaScope(_Model):
    name: str
    control_scope: KayentaScopeDetail
    experiment_scope: KayentaScopeDetail


class KayentaMetric(_Model):
    address: str
    application: str
    canary_config_name: str
    metrics_account_name: str
    configuration_account_name: str
    storage_account_name: str
    threshold: KayentaThreshold
    scopes: list[KayentaScope]
    lookback: bool = False


class CloudWatchDimension(_Model):
    name: str = ""
    value: str = ""


class CloudWatchMetricStatMetric(_Model):
    dimensions: list[CloudWatchDimension] = Field(default_factory=list)
    metric_name: str = ""
    namespace: str | None = None


class CloudWatchMetricStat(_Model):
    metric: CloudWatchMetricStatMetric = Field(default_factory=CloudWatchMetricStatMetric)
    period: IntOrString = 0
    stat: str = ""
    unit: str = ""


class CloudWatchMetricDataQuery(_Model):
    id: str = ""
    expression: str | None = None
    label: str | None = None
    metric_stat: CloudWatchMetricStat | None = None
    period: IntOrString | None = None
    return_data: bool | None = None


class CloudWatchMetric(_Model):
    """GetMetricData over the last `interval` (default 5m), signed with SigV4 (credentials from the
    environment chain, region from AWS_REGION / AWS_DEFAULT_REGION)."""

    interval: str = "5m"
    metric_data_queries: list[CloudWatchMetricDataQuery]


class MetricProvider(_Model):
    # Providers we do not implement (a newer Argo's) must survive the API server's
    # pruning so the run can say "provider 'appdynamics' is not supported" instead of "no provider".
    model_config = ConfigDict(json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})

    prometheus: PrometheusMetric | None = None
    web: WebMetric | None = None
    job: JobMetric | None = None
    judge: JudgeMetricProvider | None = None
    datadog: DatadogMetric | None = None
    graphite: GraphiteMetric | None = None
    new_relic: NewRelicMetric | None = None
    wavefront: WavefrontMetric | None = None
    influxdb: InfluxdbMetric | None = None
    skywalking: SkyWalkingMetric | None = None
    kayenta: KayentaMetric | None = None
    cloud_watch: CloudWatchMetric | None = None
    plugin: dict[str, OpenDict] | None = Field(
        default=None, description="A metric-provider plugin by name and its configuration (Python plugins: the "
                                  "rollouts.metric_providers entry point group).")

    def provider_keys(self) -> list[str]:
        """Names of the providers set on this metric (``provider.<key>``), including unknown ones kept as extra
        fields. Which of them can run is the provider registry's answer (``analysis.providers.PROVIDERS``)."""
        fields = type(self).model_fields
        known = [str(field.alias or name) for name, field in fields.items() if getattr(self, name) is not None]
        return known + sorted((self.model_extra or {}).keys())


# --- metrics and templates -----------------------------------------------------------------------


class Metric(_Model):
    name: str
    interval: str | None = None
    initial_delay: str | None = None
    count: IntOrString | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    failure_limit: IntOrString | None = None
    inconclusive_limit: IntOrString | None = None
    consecutive_error_limit: IntOrString | None = None
    provider: MetricProvider


class DryRun(_Model):
    metric_name: str


class MeasurementRetention(_Model):
    metric_name: str
    limit: int = Field(ge=0)


class AnalysisTemplateSpec(_Model):
    metrics: list[Metric] = Field(default_factory=list)
    args: list[Argument] = Field(default_factory=list)
    dry_run: list[DryRun] = Field(default_factory=list)
    measurement_retention: list[MeasurementRetention] = Field(default_factory=list)


class AnalysisTemplate(_Model):
    KIND: ClassVar[str] = "AnalysisTemplate"
    api_version: Literal["argoproj.io/v1alpha1"] = API_VERSION
    kind: Literal["AnalysisTemplate"] = "AnalysisTemplate"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AnalysisTemplateSpec


class ClusterAnalysisTemplate(_Model):
    KIND: ClassVar[str] = "ClusterAnalysisTemplate"
    api_version: Literal["argoproj.io/v1alpha1"] = API_VERSION
    kind: Literal["ClusterAnalysisTemplate"] = "ClusterAnalysisTemplate"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AnalysisTemplateSpec


# --- runs ----------------------------------------------------------------------------------------


class AnalysisRunSpec(_Model):
    metrics: list[Metric] = Field(default_factory=list)
    args: list[Argument] = Field(default_factory=list)
    terminate: bool = False
    dry_run: list[DryRun] = Field(default_factory=list)
    measurement_retention: list[MeasurementRetention] = Field(default_factory=list)


class Measurement(_Model):
    phase: AnalysisPhase
    value: str | None = None
    started_at: Time | None = None
    finished_at: Time | None = None
    message: str | None = None
    metadata: dict[str, str] | None = None
    resume_at: Time | None = None


class MetricResult(_Model):
    name: str
    phase: AnalysisPhase = AnalysisPhase.PENDING
    measurements: list[Measurement] = Field(default_factory=list)
    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    message: str | None = None
    dry_run: bool = False
    metadata: dict[str, str] | None = None


class RunSummary(_Model):
    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0


class AnalysisRunStatus(_Model):
    phase: AnalysisPhase = AnalysisPhase.PENDING
    message: str | None = None
    metric_results: list[MetricResult] = Field(default_factory=list)
    started_at: Time | None = None
    run_summary: RunSummary = Field(default_factory=RunSummary)
    dry_run_summary: RunSummary | None = None


class AnalysisRun(_Model):
    KIND: ClassVar[str] = "AnalysisRun"
    api_version: Literal["argoproj.io/v1alpha1"] = API_VERSION
    kind: Literal["AnalysisRun"] = "AnalysisRun"
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AnalysisRunSpec
    status: AnalysisRunStatus | None = None


# --- CRD registration (read by rollouts.api.crdgen) ----------------------------------------------

_RUN_STATUS = PrinterColumn("Status", ".status.phase", "string", "AnalysisRun status")

CRD: Final = (
    CrdSpec(kind="AnalysisTemplate", plural="analysistemplates", singular="analysistemplate",
            short_names=("at",), model=AnalysisTemplate, status_subresource=False),
    CrdSpec(kind="ClusterAnalysisTemplate", plural="clusteranalysistemplates",
            singular="clusteranalysistemplate", short_names=("cat",), model=ClusterAnalysisTemplate,
            scope="Cluster", status_subresource=False),
    CrdSpec(kind="AnalysisRun", plural="analysisruns", singular="analysisrun", short_names=("ar",),
            model=AnalysisRun, printer_columns=(_RUN_STATUS, AGE_COLUMN)),
)
"""AnalysisRun has a status subresource (the controller writes status through it); templates have none."""
