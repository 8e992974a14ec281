"""Scaling the canary, the stable and the old ReplicaSets of a canary update, in Argo's order.

Stable first, then the canary, then old ReplicaSets, and a reconcile that scaled something stops there: the
next reconcile sees the effect and continues. Scale-downs of old revisions are bounded by maxUnavailable
(basic canary) or wait for their ``scale-down-deadline`` (traffic-routed); an aborted traffic-routed canary
is scaled down ``abortScaleDownDelaySeconds`` after the abort (never, when that is 0).
"""

from __future__ import annotations

from collections.abc import Sequence

from rollouts.planning.canary_state import CanaryState, previous_weight, step_weight
from rollouts.planning.context import PlanContext
from rollouts.planning.observed import ObservedReplicaSet
from rollouts.planning.replicas import (
    CanaryCounts,
    all_desired_available,
    all_desired_created,
    basic_canary_counts,
    traffic_routed_canary_counts,
    weight_to_replicas,
)
from rollouts.planning.replicasets import (
    clear_deadline,
    scale,
    scale_down_after_delay,
    scale_down_deadline,
    scale_down_old_after_delay,
    scale_with_revision,
)
from rollouts.planning.steps import (
    canary_scale_in_force,
)


def desired_counts(ctx: PlanContext, state: CanaryState) -> CanaryCounts:
    """Desired canary/stable sizes for this reconcile (basic or traffic-routed arithmetic)."""
    key = (ctx.status.get("currentStepIndex"), state.aborted, bool(ctx.status.get("promoteFull")))
    if state.counts is not None and state.counts_key == key:
        return state.counts
    state.counts, state.counts_key = _compute_counts(ctx, state), key
    return state.counts


def _compute_counts(ctx: PlanContext, state: CanaryState) -> CanaryCounts:
    replicas = ctx.spec.replicas
    sets = state.sets
    if not state.has_canary:
        return CanaryCounts(replicas, 0)
    weight = 0 if state.aborted else step_weight(ctx, state)
    if not state.traffic_routed:
        return basic_canary_counts(
            replicas=replicas,
            weight=weight,
            max_surge=state.max_surge,
            max_unavailable=state.max_unavailable,
            canary_rs=sets.new,
            stable_rs=sets.stable,
            other_rss=sets.others,
        )
    strategy = state.strategy
    scale_step = None
    if not ctx.status.get("promoteFull"):
        scale_step = canary_scale_in_force(state.steps, ctx.status.get("currentStepIndex"))
    if state.aborted and strategy.effective_abort_scale_down_delay_seconds() != 0:
        scale_step = None  # an abort scales the canary by traffic, unless told to keep it (delay 0)
    canary_pods: int | None = None
    if scale_step is not None and scale_step.replicas is not None:
        canary_pods = scale_step.replicas
    elif scale_step is not None and scale_step.weight is not None:
        canary_pods = weight_to_replicas(replicas, scale_step.weight)
    traffic = ctx.observed.traffic
    actual = traffic.weight if traffic is not None and traffic.weight is not None else previous_weight(ctx)
    max_weight = strategy.effective_max_traffic_weight()
    return traffic_routed_canary_counts(
        replicas=replicas,
        weight=weight,
        max_weight=max_weight,
        canary_scale_replicas=canary_pods,
        min_pods_per_replica_set=strategy.min_pods_per_replica_set,
        dynamic_stable_scale=strategy.dynamic_stable_scale,
        actual_stable_weight=max_weight - actual,
        actual_canary_weight=actual,
        aborted=state.aborted,
    )


def reconcile_replica_sets(ctx: PlanContext, state: CanaryState) -> bool:
    """Scale stable, then canary, then old ReplicaSets; stop at the first that changes (Argo's order)."""
    if ctx.spec.paused:
        return False
    sets = state.sets
    new = sets.new
    assert new is not None
    cleared = clear_deadline(ctx, sets.stable)
    if not sets.stable_is_new and not state.aborted:
        # The canary carries a deadline only while aborted; a retry or a newer update takes it back.
        cleared = clear_deadline(ctx, new) or cleared
    if cleared:
        return True
    counts = desired_counts(ctx, state)
    if state.has_canary and sets.stable is not None and scale(ctx, sets.stable, counts.stable):
        return True
    if state.aborted and state.traffic_routed and state.has_canary:
        delay = state.strategy.effective_abort_scale_down_delay_seconds()
        # abortScaleDownDelaySeconds: 0 keeps the canary up. Either way the older revisions still follow
        # their own scale-down deadlines: a previous stable kept up for scaleDownDelaySeconds when this
        # update started must not stay up forever because the update was aborted.
        if delay and scale_down_after_delay(ctx, new, delay):
            return True
        return _scale_down_old(ctx, state)
    if scale_with_revision(ctx, new, counts.canary, sets):
        return True
    return _scale_down_old(ctx, state)


def _cleanup_unhealthy(ctx: PlanContext, others: Sequence[ObservedReplicaSet]) -> dict[str, int]:
    """Argo's cleanupUnhealthyReplicas: an old ReplicaSet with pods that are not available is scaled down to
    its available pods first (oldest first); they serve nothing, and they would block the update (a bad
    revision replaced by another bad one: TestRolloutGoodToBadUpdate). Returns the sizes after it."""
    sizes = {rs.name: rs.spec_replicas for rs in others}
    for rs in sorted(others, key=lambda rs: (rs.created_at, rs.name)):
        if rs.spec_replicas and rs.available_replicas < rs.spec_replicas:
            scale(ctx, rs, rs.available_replicas)
            sizes[rs.name] = rs.available_replicas
    return sizes


def _scale_down_old(ctx: PlanContext, state: CanaryState) -> bool:
    """Old ReplicaSets: unavailable pods first; then a basic canary drains them within maxUnavailable; a
    traffic-routed canary keeps the previous stable up until its scale-down deadline and drops intermediate
    revisions at once."""
    sets = state.sets
    sizes = _cleanup_unhealthy(ctx, sets.others)
    cleaned = any(sizes[rs.name] != rs.spec_replicas for rs in sets.others)
    available = sum(rs.available_replicas for rs in sets.all)
    room = available - (ctx.spec.replicas - state.max_unavailable)
    if room <= 0:
        return cleaned
    strategy = state.strategy
    if state.traffic_routed:
        fully_promoted = not state.has_canary
        delayed = [rs for rs in sets.others if fully_promoted or scale_down_deadline(rs) is not None]
        changed = False
        if strategy.dynamic_stable_scale:
            for rs in delayed:
                changed = scale(ctx, rs, 0) or changed
        else:
            changed = scale_down_old_after_delay(
                ctx, delayed, strategy.effective_scale_down_delay_seconds(), strategy.scale_down_delay_revision_limit
            )
        for rs in sets.others:
            if rs.spec_replicas and rs not in delayed:
                changed = scale(ctx, rs, 0) or changed  # an intermediate revision (v1 -> v2 -> v3): no traffic
        return changed
    changed = cleaned
    for rs in sets.others:
        size = sizes[rs.name]
        if size == 0:
            continue
        if room <= 0:
            break
        target = max(0, size - room)
        room -= size - target
        if target != size:
            changed = scale(ctx, rs, target) or changed
    return changed


def at_desired_counts(ctx: PlanContext, state: CanaryState) -> bool:
    """Argo's ``AtDesiredReplicaCountsForCanary``: the step's pods exist and are available."""
    counts = desired_counts(ctx, state)
    sets = state.sets
    if not all_desired_available(sets.new, counts.canary):
        return False
    checks_stable = not state.traffic_routed or not state.strategy.dynamic_stable_scale
    if checks_stable and state.has_canary and not all_desired_created(sets.stable, counts.stable):
        return False
    if not state.traffic_routed:
        return sum(rs.available_replicas for rs in sets.others) == 0
    return True
