"""The planner's output: an ordered list of typed actions plus the complete desired Rollout status.

Decide, then do: ``plan_rollout`` returns a :class:`Plan`; the controller's executor performs the actions in
order and then writes ``Plan.status`` with one patch of the status subresource. Every action is idempotent
when re-applied (create of an existing object is treated as success by the executor), and everything the
controller needs to continue after a crash is in the status, labels and annotations the actions write, so
the controller may die between any two actions and re-plan from what it observes.

Executor contract (see each action's docstring):

* ``CreateReplicaSet`` / ``CreateAnalysisRun`` carry a complete manifest; ``AlreadyExists`` is success.
* ``ScaleReplicaSet`` sets ``spec.replicas`` and merges ``annotations`` (a ``None`` value removes the key).
* ``SetServiceSelector`` sets ``spec.selector[rollouts-pod-template-hash]`` and the annotation
  ``argo-rollouts.argoproj.io/managed-by-rollouts: <rollout name>``.
* ``ReleaseService`` removes that selector key and annotation again (NotFound is success).
* ``SetCanaryWeight`` goes to the configured traffic router; with no traffic routing it is never emitted.
  It is emitted whenever ``ObservedTraffic`` (the router's read-back) differs from the desired weight and
  header routes, so the router should report weight 0 (not None) when nothing routes to the canary.
* ``DeleteReplicaSet``/``DeleteAnalysisRun``/``EvictPod``: NotFound is success (and an eviction refused by a
  PodDisruptionBudget is not an error: the restart is planned again later).
* ``CreateExperiment`` / ``TerminateExperiment`` / ``DeleteExperiment`` (``experiment`` steps): as for
  AnalysisRuns, AlreadyExists / NotFound is success.
* ``CreateService`` / ``DeleteService`` (Experiment templates' Services): AlreadyExists / NotFound is success.
* ``EmitEvent`` creates a core/v1 Event on the Rollout (or the Experiment being planned).
* ``Plan.status`` replaces the whole status (it carries forward what it does not change); a Conflict on that
  write means "re-observe and re-plan". ``requeue_after`` 0 means "plan again now" (a step just completed).

Observation contract (``ObservedRollout``): ``services`` has a key for every Service the strategy names
(None when it does not exist: that is InvalidSpec), ``analysis_templates`` one for every referenced
(Cluster)AnalysisTemplate, ``traffic`` is None exactly when there is no trafficRouting, ``pods`` are only
needed while a ``spec.restartAt`` is pending, and ``replica_sets``/``analysis_runs`` are those the Rollout
controls (ownerReference), without ones being deleted. Spec facts (validation, hashes) are memoised per
(namespace, name, uid, metadata.generation), which the API server bumps on every spec change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rollouts.api.rollout import SetHeaderRoute, SetMirrorRoute


@dataclass(frozen=True, slots=True)
class CreateReplicaSet:
    """Create this ReplicaSet manifest (name ``<rollout>-<hash>``, owned by the Rollout)."""

    manifest: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ScaleReplicaSet:
    """Set ``spec.replicas`` of a ReplicaSet and merge annotations (value ``None`` = remove the key)."""

    name: str
    replicas: int
    annotations: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeleteReplicaSet:
    """Delete an old ReplicaSet beyond ``revisionHistoryLimit`` (NotFound is success)."""

    name: str


@dataclass(frozen=True, slots=True)
class SetServiceSelector:
    """Point ``service`` at the pods of one revision by its ``rollouts-pod-template-hash`` selector."""

    service: str
    pod_template_hash: str


@dataclass(frozen=True, slots=True)
class ReleaseService:
    """Remove ``rollouts-pod-template-hash`` from the selector of a Service this Rollout managed but its spec
    no longer names, and the managed-by annotation (Argo's service controller; blueGreen -> canary)."""

    service: str


@dataclass(frozen=True, slots=True)
class SetCanaryWeight:
    """Ask the traffic router to send ``weight`` percent (of maxTrafficWeight) to the canary.

    ``header_routes`` and ``mirror_routes`` are the ``setHeaderRoute`` / ``setMirrorRoute`` steps in effect (each
    with a ``match``); an empty tuple means no managed routes of that kind should exist. ``canary_hash`` and
    ``stable_hash`` are the pod-template hashes a router that selects pods by hash (Istio DestinationRule
    subsets) must point at.
    """

    weight: int
    header_routes: tuple[SetHeaderRoute, ...] = ()
    mirror_routes: tuple[SetMirrorRoute, ...] = ()
    canary_hash: str = ""
    stable_hash: str = ""


@dataclass(frozen=True, slots=True)
class CreateAnalysisRun:
    """Create this AnalysisRun manifest (owned by the Rollout); AlreadyExists is success."""

    manifest: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TerminateAnalysisRun:
    """Set ``spec.terminate: true`` on a running AnalysisRun (it is no longer needed)."""

    name: str


@dataclass(frozen=True, slots=True)
class DeleteAnalysisRun:
    """Delete an old AnalysisRun beyond the history limits (NotFound is success)."""

    name: str


@dataclass(frozen=True, slots=True)
class CreateExperiment:
    """Create this Experiment manifest (an ``experiment`` step's, owned by the Rollout); AlreadyExists is
    success (the planner picks a free name, so an existing one is this very Experiment, created before a crash)."""

    manifest: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TerminateExperiment:
    """Set ``spec.terminate: true`` on an Experiment the Rollout no longer needs (NotFound is success)."""

    name: str


@dataclass(frozen=True, slots=True)
class DeleteExperiment:
    """Delete an old Experiment beyond the history limits or without its revision (NotFound is success)."""

    name: str


@dataclass(frozen=True, slots=True)
class EvictPod:
    """Evict one pod (``spec.restartAt``) through the Eviction API, so PodDisruptionBudgets are honoured as
    in Argo; the ReplicaSet replaces it. An eviction a budget refuses (429) is retried at the next plan."""

    name: str


@dataclass(frozen=True, slots=True)
class ScaleWorkload:
    """Set ``spec.replicas`` of the Deployment named by ``workloadRef`` (``workloadRef.scaleDown``)."""

    name: str
    replicas: int


@dataclass(frozen=True, slots=True)
class SetEphemeralMetadata:
    """Re-label one revision's pods when its role changes (canaryMetadata -> stableMetadata at promotion).

    The executor merge-patches the ReplicaSet's pod template metadata and every existing pod of
    ``pod_template_hash`` with ``labels`` / ``annotations`` (value ``None`` = remove the key), and records
    ``record`` in the ReplicaSet's ``rollout.argoproj.io/ephemeral-metadata`` annotation (None = remove it).
    """

    name: str
    pod_template_hash: str
    labels: Mapping[str, str | None]
    annotations: Mapping[str, str | None]
    record: str | None


@dataclass(frozen=True, slots=True)
class CreateService:
    """Create this Service manifest (an Experiment template's ``service``); AlreadyExists is success."""

    manifest: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DeleteService:
    """Delete a Service the Experiment created for a template that no longer wants it (NotFound is success)."""

    name: str


@dataclass(frozen=True, slots=True)
class EmitEvent:
    """Record a core/v1 Event on the Rollout, with Argo's reason strings."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


Action = (
    CreateReplicaSet
    | ScaleReplicaSet
    | DeleteReplicaSet
    | SetServiceSelector
    | ReleaseService
    | SetCanaryWeight
    | CreateAnalysisRun
    | TerminateAnalysisRun
    | DeleteAnalysisRun
    | CreateExperiment
    | TerminateExperiment
    | DeleteExperiment
    | EvictPod
    | SetEphemeralMetadata
    | ScaleWorkload
    | CreateService
    | DeleteService
    | EmitEvent
)

MUTATING_ACTIONS: tuple[type, ...] = (
    CreateReplicaSet,
    ScaleReplicaSet,
    DeleteReplicaSet,
    SetServiceSelector,
    ReleaseService,
    SetCanaryWeight,
    CreateAnalysisRun,
    TerminateAnalysisRun,
    DeleteAnalysisRun,
    CreateExperiment,
    TerminateExperiment,
    DeleteExperiment,
    EvictPod,
    SetEphemeralMetadata,
    ScaleWorkload,
    CreateService,
    DeleteService,
)


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do now, the complete desired ``.status`` (Argo's camelCase JSON), and when to look again.

    ``requeue_after`` is in seconds (None = only on the next watch event); it is set for timed pauses,
    scale-down deadlines, autoPromotionSeconds and the progress deadline.
    """

    actions: tuple[Action, ...]
    status: Mapping[str, Any]
    requeue_after: float | None = None

    @property
    def events(self) -> tuple[EmitEvent, ...]:
        return tuple(a for a in self.actions if isinstance(a, EmitEvent))

    @property
    def mutations(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if isinstance(a, MUTATING_ACTIONS))
