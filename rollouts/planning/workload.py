"""``workloadRef.scaleDown``: retiring the Deployment a Rollout took its pod template from.

Migrating from a Deployment to a Rollout, both run the same pods for a while. Argo's choices:
``never`` (default) leaves the Deployment alone; ``onsuccess`` scales it to 0 once the Rollout is Healthy;
``progressively`` scales it down as the Rollout's pods become available, so the total stays about the same.

Example (progressively): Rollout replicas 5, 3 available -> Deployment scaled to 2; 5 available -> 0.
"""

from __future__ import annotations

from rollouts.api.rollout import RolloutPhase, WorkloadScaleDown
from rollouts.planning.context import PlanContext
from rollouts.planning.plan import ScaleWorkload


def plan_workload_scale_down(ctx: PlanContext) -> None:
    ref = ctx.spec.workload_ref
    current = ctx.observed.workload_replicas
    if ref is None or not ref.name or current is None or ref.scale_down in (None, WorkloadScaleDown.NEVER):
        return
    if ref.scale_down is WorkloadScaleDown.ON_SUCCESS:
        desired = 0 if ctx.status.get("phase") == str(RolloutPhase.HEALTHY) else current
    else:
        available = int(ctx.status.get("availableReplicas") or 0)
        desired = min(current, max(0, ctx.spec.replicas - available))
    if desired != current:
        ctx.act(ScaleWorkload(name=ref.name, replicas=desired))
