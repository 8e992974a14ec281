"""The labels and annotations by which a Rollout marks what it owns, spelled as Argo Rollouts spells them.

They are part of the drop-in contract, not an implementation detail: Argo's controller, its kubectl plugin and
Argo CD read them, and a Rollout adopted from Argo is recognised by them. Each is defined here once, for the
planner that writes them, the controller that selects by them, gitops that must preserve them and the CLI
that reads them back (Argo's names: ``DefaultRolloutUniqueLabelKey``, ``RevisionAnnotation``,
``ManagedByRolloutsKey``, ``DefaultReplicaSetScaleDownDeadlineAnnotationKey``, ...).
"""

from __future__ import annotations

from typing import Final

POD_TEMPLATE_HASH_LABEL: Final = "rollouts-pod-template-hash"
"""On ReplicaSets, their pods and the Services a Rollout pins: which revision (pod-template hash) they are."""

REVISION_ANNOTATION: Final = "rollout.argoproj.io/revision"
"""On ReplicaSets and AnalysisRuns: the revision number (creation timestamps have one-second resolution)."""

MANAGED_BY_ANNOTATION: Final = "argo-rollouts.argoproj.io/managed-by-rollouts"
"""On Services: the Rollout that pins the Service's selector (one Rollout per Service)."""

SCALE_DOWN_DEADLINE_ANNOTATION: Final = "scale-down-deadline"
"""On an old ReplicaSet: when it is scaled to zero (scaleDownDelaySeconds); survives a controller restart."""

EPHEMERAL_METADATA_ANNOTATION: Final = "rollout.argoproj.io/ephemeral-metadata"
"""On a ReplicaSet: the canary/stable (preview/active) pod metadata currently applied, to remove it later."""
