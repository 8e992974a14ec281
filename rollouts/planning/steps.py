"""Reading a canary's steps: which step we are on, which weight and canary scale are in force, which header
routes should exist, and how Argo spells a step in events ("setWeight: 20", "pause: 1h0m0s").

The step index lives in ``status.currentStepIndex``; ``len(steps)`` means "all steps done". The weight in
force is that of the nearest ``setWeight`` at or before the current step (0 before the first one, the whole
``maxTrafficWeight`` after the last step), which is why a ``pause`` step keeps the previous weight. This is the
only place that reads a weight out of the steps: the planner and the CLI's "set weight" both ask here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from rollouts.api.common import format_duration
from rollouts.api.rollout import CanaryStep, CanaryStrategy, SetCanaryScale, SetHeaderRoute, SetMirrorRoute

_Route = TypeVar("_Route", SetHeaderRoute, SetMirrorRoute)


def current_step(steps: Sequence[CanaryStep], index: int | None) -> CanaryStep | None:
    """The step at ``index`` (None when there are no steps or all are done)."""
    i = index or 0
    return steps[i] if 0 <= i < len(steps) else None


def set_weight_in_force(steps: Sequence[CanaryStep], index: int | None, *, max_weight: int) -> int:
    """The canary weight the steps ask for at ``index``, out of ``max_weight`` (maxTrafficWeight): 20 for
    ``[setWeight 20, pause]`` at index 1, 0 before any setWeight, ``max_weight`` once all steps are done (or with
    no steps): with maxTrafficWeight 1000, ``[setWeight 200]`` at index 1 -> 1000."""
    i = index or 0
    if i >= len(steps):
        return max_weight
    for step in reversed(steps[: i + 1]):
        if step.set_weight is not None:
            return step.set_weight
    return 0


def current_set_weight(strategy: CanaryStrategy, *, current_step_index: int | None, aborted: bool) -> int:
    """The weight the current step asks for, as the CLI shows it ("SetWeight"; Argo's GetCurrentSetWeight):
    0 once aborted, else ``set_weight_in_force`` out of the strategy's maxTrafficWeight.

    Steps ``[setWeight 20, pause, setWeight 50, pause]`` at index 1 -> 20; at index 4 -> 100 (1000 with
    ``trafficRouting.maxTrafficWeight: 1000``); aborted -> 0.
    """
    if aborted:
        return 0
    return set_weight_in_force(
        strategy.steps or (), current_step_index, max_weight=strategy.effective_max_traffic_weight()
    )


def canary_scale_in_force(steps: Sequence[CanaryStep], index: int | None) -> SetCanaryScale | None:
    """The latest ``setCanaryScale`` at or before ``index``, unless it says ``matchTrafficWeight``."""
    i = index or 0
    if i >= len(steps):
        return None
    for step in reversed(steps[: i + 1]):
        scale = step.set_canary_scale
        if scale is None:
            continue
        return None if scale.match_traffic_weight else scale
    return None


def header_routes_in_force(steps: Sequence[CanaryStep], index: int | None) -> tuple[SetHeaderRoute, ...]:
    """The ``setHeaderRoute`` steps reached so far, by name (the last per name; one without ``match`` removes
    it): ``[route a, route b, route a without match]`` at index 2 -> ``(b,)``; none once all steps are done."""
    return _managed_routes_in_force([step.set_header_route for step in steps], index)


def mirror_routes_in_force(steps: Sequence[CanaryStep], index: int | None) -> tuple[SetMirrorRoute, ...]:
    """The ``setMirrorRoute`` steps reached so far, by name, as :func:`header_routes_in_force` (Argo sets a route
    at its step and removes every managed route at the end of the update): ``[mirror m, setWeight 20]`` at
    index 1 -> ``(m,)``; none once all steps are done."""
    return _managed_routes_in_force([step.set_mirror_route for step in steps], index)


def _managed_routes_in_force(routes_by_step: Sequence[_Route | None], index: int | None) -> tuple[_Route, ...]:
    """Argo's managed-route rule, one for header and mirror routes: each named route reached so far, the last
    per name, one without ``match`` removing it; none once all steps are done."""
    i = index or 0
    if i >= len(routes_by_step):
        return ()
    routes: dict[str, _Route] = {}
    for route in routes_by_step[: i + 1]:
        if route is None:
            continue
        if route.match:
            routes[route.name] = route
        else:
            routes.pop(route.name, None)
    return tuple(routes[name] for name in sorted(routes))


def step_text(step: CanaryStep) -> str:
    """How Argo names a step in RolloutStepCompleted events."""
    if step.set_weight is not None:
        return f"setWeight: {step.set_weight}"
    if step.pause is not None:
        seconds = step.pause.duration_seconds()
        return "pause" if seconds is None else f"pause: {format_duration(seconds)}"
    if step.experiment is not None:
        return "experiment"
    if step.analysis is not None:
        return "analysis"
    if step.set_canary_scale is not None:
        scale = step.set_canary_scale
        if scale.weight is not None:
            return f"setCanaryScale{{weight: {scale.weight}}}"
        if scale.match_traffic_weight:
            return "setCanaryScale{matchTrafficWeight: true}"
        if scale.replicas is not None:
            return f"setCanaryScale{{replicas: {scale.replicas}}}"
    if step.set_header_route is not None:
        return f"setHeaderRoute: {step.set_header_route.name}"
    if step.set_mirror_route is not None:
        return f"setMirrorRoute: {step.set_mirror_route.name}"
    return "invalid"
