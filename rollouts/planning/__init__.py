"""rollouts.planning: the pure brain of the Rollout controller.

``plan_rollout(observed, now=...)`` turns an :class:`ObservedRollout` into a :class:`Plan` (ordered actions,
the complete desired status, a requeue delay). No I/O, no clock, no randomness; see ``plan.py`` for the
contract the executor honours.

Where things are: ``planner`` (entry, InvalidSpec), ``canary`` (+ ``canary_state``, ``canary_scaling``,
``canary_traffic``), ``bluegreen``, ``analysis`` (+ ``analysis_manifest``), ``replicas`` (the replica
arithmetic), ``replicasets`` (revisions, manifests, scale-down deadlines, history), ``steps``, ``status`` and
``conditions`` (the status document, Argo's phase), ``restart``, ``services``, ``references`` and
``spec_facts`` (per-generation validation and hashes), ``hashing``, ``observed``, ``plan``.
"""

from rollouts.planning.observed import (
    ObservedAnalysisRun,
    ObservedPod,
    ObservedReplicaSet,
    ObservedRollout,
    ObservedService,
    ObservedTraffic,
)
from rollouts.planning.plan import (
    Action,
    CreateAnalysisRun,
    CreateReplicaSet,
    DeleteAnalysisRun,
    DeleteReplicaSet,
    EmitEvent,
    EvictPod,
    Plan,
    ReleaseService,
    ScaleReplicaSet,
    ScaleWorkload,
    SetCanaryWeight,
    SetEphemeralMetadata,
    SetServiceSelector,
    TerminateAnalysisRun,
)
from rollouts.planning.planner import plan_rollout, plan_unparseable

__all__ = [
    "Action",
    "CreateAnalysisRun",
    "CreateReplicaSet",
    "DeleteAnalysisRun",
    "DeleteReplicaSet",
    "EmitEvent",
    "EvictPod",
    "ObservedAnalysisRun",
    "ObservedPod",
    "ObservedReplicaSet",
    "ObservedRollout",
    "ObservedService",
    "ObservedTraffic",
    "Plan",
    "ReleaseService",
    "ScaleReplicaSet",
    "ScaleWorkload",
    "SetCanaryWeight",
    "SetEphemeralMetadata",
    "SetServiceSelector",
    "TerminateAnalysisRun",
    "plan_rollout",
    "plan_unparseable",
]
