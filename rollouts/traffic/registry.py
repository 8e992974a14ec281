"""Choosing traffic routers from a Rollout's ``strategy.canary.trafficRouting``, and summarising what they see.

The registry is a plain ``dict[str, factory]`` keyed by the provider's name as ``RolloutTrafficRouting.providers()``
spells it: ``nginx`` for ``trafficRouting.nginx`` and ``plugins/argoproj-labs/gatewayAPI`` for
``trafficRouting.plugins["argoproj-labs/gatewayAPI"]``. Several routers may be active at once (e.g. NGINX for
north-south and Gateway API for east-west); the controller drives each with the same weight. Providers we do
not implement (appMesh, unknown plugins) are rejected with a message naming them rather than silently routing
nothing. How to add a router: see ``rollouts/traffic/README.md``.

Works on the typed ``Rollout`` the controller parsed once at observe time.

Example: ``{"nginx": {"stableIngress": "web"}, "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "r"}}}``
-> ``[NginxRouter(...), GatewayApiRouter(...)]``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rollouts.api.rollout import CanaryStep, CanaryStrategy, Rollout, RolloutTrafficRouting
from rollouts.planning.observed import ObservedTraffic
from rollouts.traffic.alb import AlbRouter
from rollouts.traffic.ambassador import AmbassadorRouter
from rollouts.traffic.apisix import ApisixRouter
from rollouts.traffic.istio import IstioRouter
from rollouts.traffic.nginx import NginxRouter
from rollouts.traffic.plugins import RouterFactory, discovered
from rollouts.traffic.router import LiveObjects, RolloutContext, RouterOptions, TrafficConfigError, TrafficRouter
from rollouts.traffic.smi import SmiRouter
from rollouts.traffic.traefik import TraefikRouter

PLUGINS = "plugins/"

ROUTERS: dict[str, RouterFactory] = {
    "nginx": NginxRouter.from_config,
    "alb": AlbRouter.from_config,
    "istio": IstioRouter.from_config,
    "smi": SmiRouter.from_config,
    "traefik": TraefikRouter.from_config,
    "apisix": ApisixRouter.from_config,
    "ambassador": AmbassadorRouter.from_config,
}
"""The built-in routers. Plugins (``plugins/<name>``, the Gateway API router among them) come from entry points:
``rollouts.traffic.plugins``; ``available_routers()`` is the union the controller uses."""


def available_routers() -> dict[str, RouterFactory]:
    """Built-in routers and every loadable plugin (as ``plugins/<name>``)."""
    return {**ROUTERS, **{PLUGINS + name: factory for name, factory in discovered().factories.items()}}


def rollout_context(rollout: Rollout, options: RouterOptions | None = None) -> RolloutContext:
    """The fields every router needs; TrafficConfigError when the services are missing."""
    canary = _canary(rollout)
    routing = canary.traffic_routing or RolloutTrafficRouting()
    stable, canary_service = canary.stable_service or "", canary.canary_service or ""
    ping_pong = canary.ping_pong_services(rollout.status_or_empty.canary.stable_ping_pong
                                          if rollout.status_or_empty.canary is not None else None)
    if ping_pong is not None and not stable and not canary_service:
        stable, canary_service = ping_pong  # a ping-pong-only canary: the routers use ping and pong
    if (not stable or not canary_service) and not _subset_level_only(routing):
        raise TrafficConfigError("trafficRouting requires both canary.stableService and canary.canaryService")
    if stable and stable == canary_service:
        raise TrafficConfigError(f"canaryService and stableService must differ (both are '{stable}')")
    max_set = "max_traffic_weight" in routing.model_fields_set
    if max_set and routing.max_traffic_weight < 1:
        raise TrafficConfigError(
            f"trafficRouting.maxTrafficWeight must be a positive integer, got {routing.max_traffic_weight!r}"
        )
    return RolloutContext(
        name=rollout.name,
        namespace=rollout.namespace,
        uid=rollout.metadata.uid or "",
        stable_service=stable,
        canary_service=canary_service,
        max_traffic_weight=routing.max_traffic_weight,
        max_traffic_weight_set=max_set,
        managed_routes=tuple(route.name for route in routing.managed_routes or ()),
        ping_pong=ping_pong,
        options=options or RouterOptions(),
    )


def routers_for(rollout: Rollout, options: RouterOptions | None = None) -> list[TrafficRouter]:
    """The routers a Rollout configures (``[]`` without trafficRouting); all config problems in one error."""
    canary = rollout.spec.strategy.canary
    routing = canary.traffic_routing if canary is not None else None
    if canary is None or routing is None or not (routing.model_fields_set or routing.model_extra):
        return []  # no trafficRouting, or an empty one (which validation reports as InvalidSpec)
    ctx = rollout_context(rollout, options)
    configured = routing.providers() + sorted(str(key) for key in routing.model_extra or {})
    factories = available_routers()
    problems = [_unsupported(name, factories) for name in configured if name not in factories]
    problems += _mirror_problems(routing, canary.steps or ())
    routers: list[TrafficRouter] = []
    for name in configured:
        if name in factories:
            try:
                routers.append(factories[name](ctx, routing, canary.steps or ()))
            except TrafficConfigError as err:
                problems.append(str(err))
    if problems:
        raise TrafficConfigError("; ".join(problems))
    if not routers:
        raise TrafficConfigError("trafficRouting names no traffic provider")
    return routers


def _subset_level_only(routing: RolloutTrafficRouting) -> bool:
    """Istio subset-level splitting alone: the VirtualService names DestinationRule subsets, not Services, so
    (as in Argo) neither canaryService nor stableService is required."""
    return routing.providers() == ["istio"] and routing.istio is not None and routing.istio.destination_rule is not None


def _mirror_problems(routing: RolloutTrafficRouting, steps: Sequence[CanaryStep]) -> list[str]:
    """A setMirrorRoute needs a router that mirrors; of ours only Istio does (a plugin passes Argo's validation
    but the Gateway API router cannot realise it, so it is refused here rather than silently ignored)."""
    if routing.istio is not None:
        return []
    return [
        f"steps[{index}]: setMirrorRoute '{step.set_mirror_route.name}' needs trafficRouting.istio "
        "(no other configured router mirrors traffic)"
        for index, step in enumerate(steps)
        if step.set_mirror_route is not None
    ]


def _unsupported(name: str, factories: dict[str, RouterFactory]) -> str:
    plugins = [key.removeprefix(PLUGINS) for key in factories if key.startswith(PLUGINS)]
    if name.startswith(PLUGINS):
        plugin = name.removeprefix(PLUGINS)
        broken = discovered().broken.get(plugin)
        if broken is not None:
            return f"trafficRouting.plugins.{plugin}: {broken}"
        return (f"trafficRouting.plugins.{plugin} is not supported (supported: {', '.join(plugins)}; a plugin is "
                f"installed as a Python distribution with a 'rollouts.traffic_router_plugins' entry point)")
    supported = [key if not key.startswith(PLUGINS) else f"plugins.{key.removeprefix(PLUGINS)}" for key in factories]
    return f"trafficRouting.{name} is not supported (supported: {', '.join(supported)})"


def _canary(rollout: Rollout) -> CanaryStrategy:
    canary = rollout.spec.strategy.canary
    if canary is None:
        raise TrafficConfigError("trafficRouting is a canary setting; this Rollout has no canary strategy")
    return canary


def observe_traffic(routers: Sequence[TrafficRouter], live: LiveObjects) -> ObservedTraffic:
    """What all routers see, for the planner: the weight they agree on (else None), header routes, problems."""
    problems = [problem for router in routers for problem in router.validate(live)]
    if problems:
        return ObservedTraffic(weight=None, header_routes=(), error="; ".join(problems))
    seen = [router.in_effect(live) for router in routers]
    weights = {state.weight for state in seen}
    weight = weights.pop() if len(weights) == 1 else None
    routes = sorted({name for state in seen for name in state.header_routes})
    mirrors = sorted({name for state in seen for name in state.mirror_routes})
    hashes = {(state.pod_hashes.canary, state.pod_hashes.stable) for state in seen if state.pod_hashes is not None}
    # Two routers pinning different hashes: report a pair no plan asks for, so the plan re-applies both.
    pod_hashes = (hashes.pop() if len(hashes) == 1 else ("", "")) if hashes else None
    settles = [state.settles_at for state in seen if state.settles_at is not None]
    return ObservedTraffic(weight=weight, header_routes=tuple(routes), mirror_routes=tuple(mirrors),
                           pod_hashes=pod_hashes, settles_at=min(settles) if settles else None)
