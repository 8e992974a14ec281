"""Everything the Rollout planner may know about the world, as frozen values.

The planner is pure: the controller observes the cluster (informer caches), packs what it saw about one
Rollout into an :class:`ObservedRollout`, and hands it to ``plan_rollout`` together with ``now``. Nothing in
here refers to a Kubernetes client; the ``from_object`` constructors only read plain ``dict`` manifests, so
the executor and the unit tests build observations the same way.

Why the odd-looking fields:

* ``ObservedReplicaSet.revision`` comes from the ``rollout.argoproj.io/revision`` annotation, which is how a
  restarted controller learns the order of revisions (creation timestamps have one-second resolution).
* ``ObservedRollout.services`` maps every *referenced* Service name to ``None`` when it does not exist, so the
  planner can report InvalidSpec naming the field instead of silently routing nowhere.
* ``ObservedTraffic`` is what the traffic router reads back (the weight in effect now), so a restart or a
  hand edit of a route converges instead of being trusted blindly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION

if TYPE_CHECKING:
    from rollouts.api.rollout import Rollout

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: object) -> datetime:
    """Parse a Kubernetes RFC 3339 timestamp (``2024-05-01T10:00:00Z``); missing or bad -> the epoch."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return EPOCH
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return EPOCH
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_ZERO = timedelta(0)
_formatted: dict[tuple[type, datetime], str] = {}


def format_timestamp(value: datetime) -> str:
    """``metav1.Time`` text ("2024-05-01T10:00:00Z"); a fast path of ``rollouts.api.common.format_time``
    (the planner formats a few dozen timestamps per plan, mostly the same ones again)."""
    # The key carries the tzinfo class: comparing a pydantic-parsed datetime with a datetime.UTC one is
    # ~20x slower than comparing two of a kind, and both kinds meet here.
    key = (value.tzinfo.__class__, value)
    text = _formatted.get(key)
    if text is not None:
        return text
    utc = value
    if value.utcoffset() != _ZERO:
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no time zone; use an aware datetime (UTC)")
        utc = value.astimezone(UTC)
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    if len(_formatted) >= 4096:
        _formatted.clear()
    _formatted[key] = text
    return text


def _str_map(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True, slots=True)
class ObservedReplicaSet:
    """A ReplicaSet owned by the Rollout, reduced to what the planner needs."""

    name: str
    pod_template_hash: str
    revision: int
    spec_replicas: int
    status_replicas: int
    ready_replicas: int
    available_replicas: int
    template: Mapping[str, Any]
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime = EPOCH
    failure: tuple[str, str] | None = None
    """(reason, message) of the ReplicaSet's ``ReplicaFailure`` condition when True (e.g. FailedCreate from a
    quota or an admission webhook); the Rollout reports it as its own ReplicaFailure condition."""
    min_ready_seconds: int = 0
    selector: Mapping[str, Any] = field(default_factory=dict)
    """``spec.selector`` (an experiment step's template copies it, as Argo's GetExperimentFromTemplate)."""

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ObservedReplicaSet:
        """Build from a ReplicaSet manifest as returned by the API server."""
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        labels = _str_map(meta.get("labels"))
        annotations = _str_map(meta.get("annotations"))
        revision_text = annotations.get(REVISION_ANNOTATION, "")
        return cls(
            name=str(meta.get("name", "")),
            pod_template_hash=labels.get(POD_TEMPLATE_HASH_LABEL, ""),
            revision=int(revision_text) if revision_text.isdigit() else 0,
            spec_replicas=_int(spec.get("replicas", 1)),
            status_replicas=_int(status.get("replicas")),
            ready_replicas=_int(status.get("readyReplicas")),
            available_replicas=_int(status.get("availableReplicas")),
            template=spec.get("template") or {},
            labels=labels,
            annotations=annotations,
            created_at=parse_timestamp(meta.get("creationTimestamp")),
            failure=_replica_failure(status),
            min_ready_seconds=_int(spec.get("minReadySeconds")),
            selector=spec.get("selector") or {},
        )


def _replica_failure(status: Mapping[str, Any]) -> tuple[str, str] | None:
    for cond in status.get("conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
            return str(cond.get("reason") or "ReplicaFailure"), str(cond.get("message") or "")
    return None


@dataclass(frozen=True, slots=True)
class ObservedService:
    """A Service referenced by the strategy (stable/canary/active/preview)."""

    name: str
    selector: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ObservedService:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        return cls(
            name=str(meta.get("name", "")),
            selector=_str_map(spec.get("selector")),
            annotations=_str_map(meta.get("annotations")),
        )


@dataclass(frozen=True, slots=True)
class ObservedAnalysisRun:
    """An AnalysisRun owned by the Rollout; ``status`` is the raw run status (metricResults etc.)."""

    name: str
    phase: str
    message: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime = EPOCH
    status: Mapping[str, Any] = field(default_factory=dict)
    terminate: bool = False

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ObservedAnalysisRun:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        return cls(
            name=str(meta.get("name", "")),
            phase=str(status.get("phase") or ""),
            message=str(status.get("message") or ""),
            labels=_str_map(meta.get("labels")),
            annotations=_str_map(meta.get("annotations")),
            created_at=parse_timestamp(meta.get("creationTimestamp")),
            status=status,
            terminate=bool(spec.get("terminate", False)),
        )


@dataclass(frozen=True, slots=True)
class ObservedPod:
    """A pod of one of the Rollout's ReplicaSets (only needed for ``spec.restartAt``)."""

    name: str
    replica_set_hash: str
    created_at: datetime
    ready: bool
    deleting: bool = False
    ready_since: datetime | None = None
    """When the Ready condition last became True (available = ready for minReadySeconds)."""

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ObservedPod:
        meta = obj.get("metadata") or {}
        status = obj.get("status") or {}
        ready_condition = next(
            (c for c in status.get("conditions") or []
             if isinstance(c, Mapping) and c.get("type") == "Ready" and c.get("status") == "True"),
            None,
        )
        return cls(
            name=str(meta.get("name", "")),
            replica_set_hash=_str_map(meta.get("labels")).get(POD_TEMPLATE_HASH_LABEL, ""),
            created_at=parse_timestamp(meta.get("creationTimestamp")),
            ready=ready_condition is not None,
            deleting=meta.get("deletionTimestamp") is not None,
            ready_since=parse_timestamp(ready_condition.get("lastTransitionTime")) if ready_condition else None,
        )


@dataclass(frozen=True, slots=True)
class ObservedTraffic:
    """What the traffic router reports as in effect now.

    ``weight`` is the canary weight the router reads back (None when it could not tell), ``header_routes`` and
    ``mirror_routes`` the names of managed header and mirror routes present, ``error`` a router validation error
    (e.g. the stable Ingress has no rule for stableService), which the planner turns into InvalidSpec.
    """

    weight: int | None = None
    header_routes: tuple[str, ...] = ()
    error: str | None = None
    mirror_routes: tuple[str, ...] = ()
    pod_hashes: tuple[str, str] | None = None
    """(canary, stable) hashes the routing objects select (Istio DestinationRule subsets); None when no router
    selects pods by hash."""
    settles_at: datetime | None = None
    """When a routing change a router holds back becomes due (Ambassador deletes its canary Mapping 5 s after
    setting its weight to 0); the planner wakes then. None: nothing held back."""


@dataclass(frozen=True, slots=True)
class OwnedExperiment:
    """An Experiment the Rollout controls (its ``experiment`` steps create them), as the Rollout sees it:
    the phase decides the step; labels name the revision (``rollouts-pod-template-hash``); template
    statuses give each template's Service, which a weighted experiment routes traffic to."""

    name: str
    phase: str = ""
    message: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime = EPOCH
    terminate: bool = False
    template_services: Mapping[str, str] = field(default_factory=dict)
    """template name -> the Service the Experiment created for it (``status.templateStatuses[].serviceName``)."""
    template_hashes: Mapping[str, str] = field(default_factory=dict)
    """template name -> its ReplicaSet's pod-template hash (``status.templateStatuses[].podTemplateHash``)."""

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> OwnedExperiment:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        services: dict[str, str] = {}
        hashes: dict[str, str] = {}
        for entry in status.get("templateStatuses") or ():
            if not isinstance(entry, Mapping) or not entry.get("name"):
                continue
            if entry.get("serviceName"):
                services[str(entry["name"])] = str(entry["serviceName"])
            if entry.get("podTemplateHash"):
                hashes[str(entry["name"])] = str(entry["podTemplateHash"])
        return cls(
            name=str(meta.get("name", "")),
            phase=str(status.get("phase") or ""),
            message=str(status.get("message") or ""),
            labels=_str_map(meta.get("labels")),
            created_at=parse_timestamp(meta.get("creationTimestamp")),
            terminate=bool(spec.get("terminate", False)),
            template_services=services,
            template_hashes=hashes,
        )


TemplateKey = tuple[str, bool]
"""(name, cluster_scope): an AnalysisTemplate is (name, False), a ClusterAnalysisTemplate is (name, True)."""


@dataclass(frozen=True, slots=True)
class ObservedRollout:
    """One Rollout and everything it owns or references, as seen by the controller at one moment."""

    rollout: Rollout
    replica_sets: tuple[ObservedReplicaSet, ...] = ()
    services: Mapping[str, ObservedService | None] = field(default_factory=dict)
    released_services: tuple[str, ...] = ()
    """Services of the namespace that this Rollout's managed-by annotation still claims but its spec no longer
    names (the strategy changed): their pod-template-hash selector is to be removed."""
    analysis_runs: tuple[ObservedAnalysisRun, ...] = ()
    experiments: tuple[OwnedExperiment, ...] = ()
    """The Experiments the Rollout controls, without ones being deleted."""
    analysis_templates: Mapping[TemplateKey, Mapping[str, Any] | None] = field(default_factory=dict)
    workload_template: Mapping[str, Any] | None = None
    workload_replicas: int | None = None
    """spec.replicas of the workloadRef Deployment (for ``workloadRef.scaleDown``); None when unknown."""
    traffic: ObservedTraffic | None = None
    pods: tuple[ObservedPod, ...] = ()
    replica_set_create_error: str | None = None
    """The API server's reason for refusing to create the current revision's ReplicaSet (a 400/422: an invalid
    pod template), seen by the executor in this reconcile. The executor's failure reaches the planner as
    observed state, so the plan that follows reports it in status instead of retrying in a hot loop."""
    defaulted_template: Mapping[str, Any] | None = None
    """The Rollout's pod template as the API server defaults it (a dry-run create), observed only when no
    ReplicaSet carries its hash: the current ReplicaSet is then found by comparing templates, as Argo does."""
