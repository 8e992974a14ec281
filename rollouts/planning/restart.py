"""``spec.restartAt``: replace every pod created before that time, one at a time.

Argo's restart is level-based: the goal is "no pod of this Rollout is older than restartAt"; progress is
simply the pods that remain. A pod is deleted only when every ReplicaSet has all its pods available, so at
most one pod is ever unavailable because of the restart (within any maxUnavailable >= 1). Pods are evicted, not
deleted, so a PodDisruptionBudget can refuse; an eviction asks to be planned again EVICTION_RETRY later, so a
refused one is retried (as Argo's restarter does on its next requeue). When none remain,
``status.restartedAt`` records that the request was served (the same ``restartAt`` does not restart again).
A ``restartAt`` in the future is a timed requeue.
"""

from __future__ import annotations

from datetime import timedelta

from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.observed import format_timestamp
from rollouts.planning.plan import EvictPod
from rollouts.planning.vocabulary import Event

EVICTION_RETRY = timedelta(seconds=10)


def plan_restart(ctx: PlanContext, sets: RevisionSets) -> None:
    restart_at = ctx.spec.restart_at
    if restart_at is None:
        return
    requested = format_timestamp(restart_at)
    if ctx.status.get("restartedAt") == requested:
        return
    if restart_at > ctx.now:
        ctx.wake(restart_at)
        return
    hashes = {rs.pod_template_hash for rs in sets.all}
    stale = sorted(
        (p for p in ctx.observed.pods if p.replica_set_hash in hashes and p.created_at < restart_at),
        key=lambda p: (p.created_at, p.name),
    )
    if not stale:
        ctx.status["restartedAt"] = requested
        ctx.event(Event.ROLLOUT_RESTARTED, f"Rollout restarted pods created before {requested}")
        return
    if any(p.deleting for p in ctx.observed.pods if p.replica_set_hash in hashes):
        return  # a pod is still going away: one at a time
    unavailable = sum(max(0, rs.spec_replicas - rs.available_replicas) for rs in sets.all)
    if unavailable > 0:
        return  # wait until the replacement of the previous pod is available
    ctx.act(EvictPod(stale[0].name))
    ctx.wake(ctx.now + EVICTION_RETRY)  # a PodDisruptionBudget may refuse it: try again
