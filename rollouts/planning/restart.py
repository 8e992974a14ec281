"""``spec.restartAt``: replace every pod created before that time, as many at once as maxUnavailable allows.

Argo's restart (rollout/restart.go) is level-based: the goal is "no pod of this Rollout is older than
restartAt"; progress is simply the pods that remain. Each reconcile evicts up to
``available - (max(spec.replicas, pods wanted) - max(maxUnavailable, 1))`` of them (at least one at a time even
with maxUnavailable 0), never one already going away. Pods are evicted, not deleted, so a PodDisruptionBudget
can refuse; while pods remain, the Rollout is planned again RESTART_CHECK later, so a refused eviction is
retried. When none remain, ``status.restartedAt`` records that the request was served (the same
``restartAt`` does not restart again). A ``restartAt`` in the future is a timed requeue.

Example: 4 replicas, maxUnavailable 75% (3), 4 available -> 3 pods evicted now, the 4th once 3 are back.
"""

from __future__ import annotations

from datetime import timedelta

from rollouts.api.common import resolve_int_or_percent
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.observed import format_timestamp
from rollouts.planning.plan import EvictPod
from rollouts.planning.spec_facts import spec_facts
from rollouts.planning.vocabulary import Event

RESTART_CHECK = timedelta(seconds=30)
"""Argo's restartPodCheckTime: how soon a restart still in progress is looked at again."""


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
    pods = sorted((p for p in ctx.observed.pods if p.replica_set_hash in hashes), key=lambda p: p.name)
    min_ready = timedelta(seconds=ctx.spec.min_ready_seconds or 0)
    available = sum(1 for p in pods if p.ready and not p.deleting
                    and (p.ready_since is None or p.ready_since + min_ready <= ctx.now))
    total = sum(rs.spec_replicas for rs in sets.all)
    concurrent = max(max_unavailable(ctx), 1)
    can_restart = available - (max(ctx.spec.replicas, total) - concurrent)
    stale = [p for p in pods if p.created_at < restart_at]
    if not stale:
        ctx.status["restartedAt"] = requested
        ctx.event(Event.ROLLOUT_RESTARTED, f"Rollout restarted pods created before {requested}")
        return
    for pod in stale:
        if can_restart <= 0:
            break
        if pod.deleting:
            continue
        ctx.act(EvictPod(pod.name))
        can_restart -= 1
    ctx.wake(ctx.now + RESTART_CHECK)  # remaining pods (or an eviction a PodDisruptionBudget refused)


def max_unavailable(ctx: PlanContext) -> int:
    """Argo's replicasetutil.MaxUnavailable: the canary's resolved maxUnavailable, or blue-green's
    maxUnavailable (default 25%, rounded down), never more than spec.replicas."""
    replicas = ctx.spec.replicas
    if replicas == 0:
        return 0
    strategy = ctx.spec.strategy
    if strategy.canary is not None:
        value = spec_facts(ctx.rollout).max_unavailable
    else:
        configured = strategy.blue_green.max_unavailable if strategy.blue_green is not None else None
        value = resolve_int_or_percent(configured if configured is not None else "25%", replicas, round_up=False)
    return min(value, replicas)
