"""Where a canary's requests go: the stable/canary Service selectors and the router's weight.

Services are pinned to the stable and canary hashes, but a selector only moves to a ReplicaSet whose pods
are all available (a Service must never select nothing). The router's weight only rises once the canary has
the pods for it; ``SetCanaryWeight`` is emitted whenever the weight (or header routes) the router reads back
differs from the desired one, so a hand edit or a restart converges.
"""

from __future__ import annotations

from rollouts.planning.canary_scaling import desired_counts
from rollouts.planning.canary_state import CanaryState, desired_weight, previous_weight
from rollouts.planning.context import PlanContext
from rollouts.planning.observed import ObservedReplicaSet
from rollouts.planning.plan import SetCanaryWeight
from rollouts.planning.replicas import (
    all_desired_available,
)
from rollouts.planning.services import switch_service
from rollouts.planning.steps import header_routes_in_force, mirror_routes_in_force
from rollouts.planning.vocabulary import Event


def _fully_available(rs: ObservedReplicaSet | None) -> bool:
    return rs is not None and rs.spec_replicas > 0 and rs.available_replicas >= rs.spec_replicas


def _point_service(ctx: PlanContext, service_name: str | None, rs: ObservedReplicaSet | None) -> None:
    """Pin a Service to ``rs``'s hash, but only once its pods are all available (never to an empty set)."""
    if not service_name or rs is None or service_name not in ctx.observed.services:
        return
    if _fully_available(rs):
        switch_service(ctx, service_name, rs.pod_template_hash)


def reconcile_services(ctx: PlanContext, state: CanaryState) -> None:
    sets = state.sets
    stable = sets.stable if sets.stable is not None else sets.new
    _point_service(ctx, state.strategy.stable_service, stable)
    canary_target = sets.new
    if state.aborted or not state.has_canary:
        canary_target = stable
    _point_service(ctx, state.strategy.canary_service, canary_target)
    ping_pong = state.strategy.ping_pong_services(ctx.status["canary"].get("stablePingPong"))
    if ping_pong is not None and state.has_canary and sets.new is not None:
        # Argo's reconcilePingAndPongService: until the update is fully promoted the canary ping/pong Service
        # selects the new revision, without waiting for availability; the stable one is left as it is.
        switch_service(ctx, ping_pong[1], sets.new.pod_template_hash)


def reconcile_traffic(ctx: PlanContext, state: CanaryState) -> None:
    if not state.traffic_routed:
        return
    strategy, sets = state.strategy, state.sets
    weight = desired_weight(ctx, state)
    previous = previous_weight(ctx)
    if weight > previous and not _canary_pods_ready(ctx, state):
        # Traffic moves up only once the canary has the pods for it.
        weight = previous
    ended = state.aborted or not state.has_canary
    index = ctx.status.get("currentStepIndex")
    routes = () if ended else header_routes_in_force(state.steps, index)
    mirrors = () if ended else mirror_routes_in_force(state.steps, index)
    max_weight = strategy.effective_max_traffic_weight()
    stable_hash = sets.stable.pod_template_hash if sets.stable is not None else sets.current_hash
    ctx.status["canary"]["weights"] = {
        "canary": {
            "weight": weight,
            "podTemplateHash": sets.current_hash,
            **({"serviceName": strategy.canary_service} if strategy.canary_service else {}),
        },
        "stable": {
            "weight": max_weight - weight,
            "podTemplateHash": stable_hash,
            **({"serviceName": strategy.stable_service} if strategy.stable_service else {}),
        },
    }
    request = SetCanaryWeight(weight, routes, mirrors, canary_hash=sets.current_hash, stable_hash=stable_hash)
    if not _in_effect(ctx, request) and not _delay_subset_switch(ctx, state, request):
        ctx.act(request)
        traffic = ctx.observed.traffic
        if traffic is not None and traffic.settles_at is not None:
            ctx.wake(traffic.settles_at)  # a held-back change becomes due then: plan (and request it) again
    if weight != previous:
        ctx.event(Event.TRAFFIC_WEIGHT_UPDATED, f"Traffic weight updated from {previous} to {weight}")


def _in_effect(ctx: PlanContext, request: SetCanaryWeight) -> bool:
    """Do the routing objects already realise ``request``? Hashes count only for routers that select by hash."""
    traffic = ctx.observed.traffic
    if traffic is None or traffic.weight != request.weight:
        return False
    if tuple(sorted(traffic.header_routes)) != tuple(sorted(r.name for r in request.header_routes)):
        return False
    if tuple(sorted(traffic.mirror_routes)) != tuple(sorted(r.name for r in request.mirror_routes)):
        return False
    return traffic.pod_hashes is None or traffic.pod_hashes == (request.canary_hash, request.stable_hash)


def _delay_subset_switch(ctx: PlanContext, state: CanaryState, request: SetCanaryWeight) -> bool:
    """Argo's shouldDelayDestinationRuleUpdate (argo-rollouts#2507): with neither canary nor stable Service, the
    subsets are the only thing selecting pods, so they do not move to a hash while a scaled-up ReplicaSet of the
    canary or stable hash still has unavailable pods (the canary after an abort excepted). The RS becoming
    available re-plans the Rollout."""
    traffic = ctx.observed.traffic
    if state.strategy.canary_service or state.strategy.stable_service or traffic is None:
        return False
    wanted = (request.canary_hash, request.stable_hash)
    if traffic.pod_hashes is None or traffic.pod_hashes == wanted:
        return False
    observed = {rs.pod_template_hash for rs in ctx.observed.replica_sets}
    if request.canary_hash not in observed and not state.aborted:
        return True  # the plan creates that ReplicaSet now (Argo has it by then, scaled up, not yet available)
    for rs in ctx.observed.replica_sets:
        if rs.pod_template_hash not in wanted or (state.aborted and rs.pod_template_hash == request.canary_hash):
            continue
        # A canary at 0 replicas is being scaled up by this very plan (Argo scales it before UpdateHash).
        scaled_up = rs.spec_replicas > 0 or rs.pod_template_hash == request.canary_hash != request.stable_hash
        if scaled_up and rs.available_replicas < max(rs.spec_replicas, 1):
            return True
    return False


def _canary_pods_ready(ctx: PlanContext, state: CanaryState) -> bool:
    counts = desired_counts(ctx, state)
    return all_desired_available(state.sets.new, counts.canary)
