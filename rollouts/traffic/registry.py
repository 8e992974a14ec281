"""Choosing traffic routers from a Rollout's ``strategy.canary.trafficRouting``, and summarising what they see.

The registry is a plain ``dict[str, factory]`` keyed by the name users write in the spec: ``nginx`` for
``trafficRouting.nginx`` and ``argoproj-labs/gatewayAPI`` for ``trafficRouting.plugins["argoproj-labs/gatewayAPI"]``.
Several routers may be active at once (e.g. NGINX for north-south and Gateway API for east-west); the
controller drives each with the same weight. Providers we do not implement (istio, alb, smi, ...) are
rejected with a message naming them rather than silently routing nothing.

Works on the raw Rollout dict so it does not depend on how the API models evolve.

Example: ``{"nginx": {"stableIngress": "web"}, "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "r"}}}``
-> ``[NginxRouter(...), GatewayApiRouter(...)]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rollouts.api.rollout import DEFAULT_MAX_TRAFFIC_WEIGHT
from rollouts.planning.observed import ObservedTraffic
from rollouts.traffic.gatewayapi import PLUGIN_NAME, GatewayApiRouter
from rollouts.traffic.nginx import NginxRouter
from rollouts.traffic.router import (
    LiveObjects,
    RolloutContext,
    TrafficConfigError,
    TrafficRouter,
)

RouterFactory = Callable[[RolloutContext, Mapping[str, Any], Sequence[Mapping[str, Any]]], TrafficRouter]
"""(rollout context, the provider's config block, the canary steps) -> router; raises TrafficConfigError."""

ROUTERS: dict[str, RouterFactory] = {
    "nginx": NginxRouter.from_config,
    PLUGIN_NAME: GatewayApiRouter.from_config,
}

_NOT_PROVIDERS = {"maxTrafficWeight", "managedRoutes", "plugins"}


def rollout_context(rollout: Mapping[str, Any]) -> RolloutContext:
    """The fields every router needs, from a raw Rollout; TrafficConfigError when the services are missing."""
    meta = rollout.get("metadata", {})
    canary = (rollout.get("spec", {}).get("strategy") or {}).get("canary") or {}
    routing = canary.get("trafficRouting") or {}
    stable, canary_service = canary.get("stableService"), canary.get("canaryService")
    if not stable or not canary_service:
        raise TrafficConfigError("trafficRouting requires both canary.stableService and canary.canaryService")
    if stable == canary_service:
        raise TrafficConfigError(f"canaryService and stableService must differ (both are '{stable}')")
    raw_max = routing.get("maxTrafficWeight")
    if raw_max is not None and (not isinstance(raw_max, int) or raw_max < 1):
        raise TrafficConfigError(f"trafficRouting.maxTrafficWeight must be a positive integer, got {raw_max!r}")
    managed = tuple(str(r.get("name")) for r in routing.get("managedRoutes") or [] if isinstance(r, Mapping))
    return RolloutContext(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        uid=str(meta.get("uid", "")),
        stable_service=str(stable),
        canary_service=str(canary_service),
        max_traffic_weight=raw_max if raw_max is not None else DEFAULT_MAX_TRAFFIC_WEIGHT,
        max_traffic_weight_set=raw_max is not None,
        managed_routes=managed,
    )


def routers_for(rollout: Mapping[str, Any]) -> list[TrafficRouter]:
    """The routers a Rollout configures (``[]`` without trafficRouting); all config problems in one error."""
    canary = (rollout.get("spec", {}).get("strategy") or {}).get("canary") or {}
    routing = canary.get("trafficRouting")
    if not routing:
        return []
    ctx = rollout_context(rollout)
    steps: Sequence[Mapping[str, Any]] = canary.get("steps") or []
    configured: list[tuple[str, Mapping[str, Any]]] = []
    problems: list[str] = []
    for key, value in routing.items():
        if key in _NOT_PROVIDERS:
            continue
        if key in ROUTERS and "/" not in key:
            configured.append((key, value or {}))
        else:
            problems.append(f"trafficRouting.{key} is not supported (supported: nginx, plugins.{PLUGIN_NAME})")
    for key, value in (routing.get("plugins") or {}).items():
        if key in ROUTERS and "/" in key:
            configured.append((key, value or {}))
        else:
            problems.append(f"trafficRouting.plugins.{key} is not supported (supported: {PLUGIN_NAME})")
    routers: list[TrafficRouter] = []
    for key, config in configured:
        try:
            routers.append(ROUTERS[key](ctx, config, steps))
        except TrafficConfigError as err:
            problems.append(str(err))
    if problems:
        raise TrafficConfigError("; ".join(problems))
    if not routers:
        raise TrafficConfigError("trafficRouting names no traffic provider")
    return routers


def observe_traffic(routers: Sequence[TrafficRouter], live: LiveObjects) -> ObservedTraffic:
    """What all routers see, for the planner: the weight they agree on (else None), header routes, problems."""
    problems = [problem for router in routers for problem in router.validate(live)]
    if problems:
        return ObservedTraffic(weight=None, header_routes=(), error="; ".join(problems))
    seen = [router.in_effect(live) for router in routers]
    weights = {state.weight for state in seen}
    weight = weights.pop() if len(weights) == 1 else None
    routes = sorted({name for state in seen for name in state.header_routes})
    return ObservedTraffic(weight=weight, header_routes=tuple(routes))
