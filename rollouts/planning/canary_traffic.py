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
from rollouts.planning.steps import (
    header_routes_in_force,
)
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


def reconcile_traffic(ctx: PlanContext, state: CanaryState) -> None:
    if not state.traffic_routed:
        return
    strategy, sets = state.strategy, state.sets
    weight = desired_weight(ctx, state)
    previous = previous_weight(ctx)
    if weight > previous and not _canary_pods_ready(ctx, state):
        # Traffic moves up only once the canary has the pods for it.
        weight = previous
    routes = (
        ()
        if state.aborted or not state.has_canary
        else header_routes_in_force(state.steps, ctx.status.get("currentStepIndex"))
    )
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
    traffic = ctx.observed.traffic
    route_names = tuple(sorted(route.name for route in routes))
    in_effect = traffic is not None and traffic.weight == weight and tuple(sorted(traffic.header_routes)) == route_names
    if not in_effect:
        ctx.act(SetCanaryWeight(weight, routes))
    if weight != previous:
        ctx.event(Event.TRAFFIC_WEIGHT_UPDATED, f"Traffic weight updated from {previous} to {weight}")


def _canary_pods_ready(ctx: PlanContext, state: CanaryState) -> bool:
    counts = desired_counts(ctx, state)
    return all_desired_available(state.sets.new, counts.canary)
