"""setHeaderRoute and setMirrorRoute steps as router data: from the typed steps to the :class:`HeaderRoute` and
:class:`MirrorRoute` a router expresses (both are "managed routes", named in ``trafficRouting.managedRoutes``).

Argo's semantics: a ``setHeaderRoute`` step with ``match`` creates (or replaces) the managed route of that
``name``; one without ``match`` removes it; every managed route is removed at the end of the update (full
promotion or abort). Each name must be listed in ``trafficRouting.managedRoutes``, whose order is the
precedence order. Which routes are in effect at a step is the planner's decision
(``planning.steps.header_routes_in_force``); the plan's ``SetCanaryWeight`` carries those steps, and this module
turns them into matches, checking what the schema cannot (exactly one of exact/prefix/regex per header).

A ``setMirrorRoute`` step works the same way (with ``match`` it creates or replaces the mirror route, without it
removes it); its ``percentage`` defaults to 100 as in Argo.

Example: ``SetHeaderRoute(name="a", match=[headerName X-Canary, headerValue {exact: yes}])``
-> ``HeaderRoute("a", (HeaderMatch("X-Canary", EXACT, "yes"),))``; ``SetHeaderRoute(name="a")`` -> None;
``SetMirrorRoute(name="m", percentage=40, match=[{method: {exact: GET}}])``
-> ``MirrorRoute("m", (MirrorMatch(method=ValueMatch(EXACT, "GET")),), 40)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rollouts.api.rollout import CanaryStep, HeaderRoutingMatch, RouteMatch, SetHeaderRoute, SetMirrorRoute, StringMatch
from rollouts.traffic.router import (
    HeaderMatch,
    HeaderRoute,
    MatchKind,
    MirrorMatch,
    MirrorRoute,
    TrafficConfigError,
    ValueMatch,
)


def header_match(match: HeaderRoutingMatch, *, route: str) -> HeaderMatch:
    """``headerName X, headerValue {exact: v}`` -> ``HeaderMatch("X", EXACT, "v")``."""
    name = match.header_name
    if not name:
        raise TrafficConfigError(f"setHeaderRoute '{route}': every match needs a non-empty headerName")
    value = match.header_value
    given = [kind for kind in MatchKind if value is not None and getattr(value, kind.value)]
    if value is None or len(given) != 1:
        raise TrafficConfigError(
            f"setHeaderRoute '{route}': headerValue of header '{name}' must set exactly one of exact, prefix, regex"
        )
    kind = given[0]
    return HeaderMatch(name=name, kind=kind, value=str(getattr(value, kind.value)))


def value_match(value: StringMatch | None, *, where: str) -> ValueMatch | None:
    """``{prefix: /api}`` -> ``ValueMatch(PREFIX, "/api")``; None stays None; two kinds at once is an error."""
    if value is None:
        return None
    given = [kind for kind in MatchKind if getattr(value, kind.value)]
    if len(given) != 1:
        raise TrafficConfigError(f"{where} must set exactly one of exact, prefix, regex")
    return ValueMatch(kind=given[0], value=str(getattr(value, given[0].value)))


def mirror_match(match: RouteMatch, *, route: str) -> MirrorMatch:
    where = f"setMirrorRoute '{route}'"
    headers = []
    for name, value in sorted((match.headers or {}).items()):
        header = value_match(value, where=f"{where}: header '{name}'")
        if header is not None:
            headers.append((name, header))
    return MirrorMatch(
        method=value_match(match.method, where=f"{where}: method"),
        path=value_match(match.path, where=f"{where}: path"),
        headers=tuple(headers),
    )


def mirror_route(step: SetMirrorRoute) -> MirrorRoute | None:
    """A setMirrorRoute step as a MirrorRoute; None when it has no ``match`` (it removes the route)."""
    if not step.name:
        raise TrafficConfigError("setMirrorRoute needs a non-empty name")
    if not step.match:
        return None
    percentage = 100 if step.percentage is None else step.percentage
    if not 0 <= percentage <= 100:
        raise TrafficConfigError(f"setMirrorRoute '{step.name}': percentage must be between 0 and 100")
    return MirrorRoute(
        name=step.name, matches=tuple(mirror_match(m, route=step.name) for m in step.match), percentage=percentage
    )


def mirror_routes(steps: Sequence[SetMirrorRoute]) -> list[MirrorRoute]:
    """The mirror routes that should exist, from the steps in effect (those without ``match`` are dropped)."""
    return [route for step in steps if (route := mirror_route(step)) is not None]


def header_route(step: SetHeaderRoute) -> HeaderRoute | None:
    """A setHeaderRoute step as a HeaderRoute; None when it has no ``match`` (it removes the route)."""
    if not step.name:
        raise TrafficConfigError("setHeaderRoute needs a non-empty name")
    if not step.match:
        return None
    return HeaderRoute(name=step.name, matches=tuple(header_match(m, route=step.name) for m in step.match))


def header_routes(steps: Sequence[SetHeaderRoute]) -> list[HeaderRoute]:
    """The routes that should exist, from the steps in effect (those without ``match`` are dropped)."""
    return [route for step in steps if (route := header_route(step)) is not None]


def header_route_problems(steps: Sequence[CanaryStep], managed_routes: Sequence[str]) -> list[str]:
    """Every malformed setHeaderRoute step, as messages (empty when all are usable)."""
    problems: list[str] = []
    for index, step in enumerate(steps):
        body = step.set_header_route
        if body is None:
            continue
        try:
            header_route(body)
        except TrafficConfigError as err:
            problems.append(f"steps[{index}]: {err}")
            continue
        if body.name not in managed_routes:
            problems.append(
                f"steps[{index}]: setHeaderRoute '{body.name}' is not listed in "
                "spec.strategy.canary.trafficRouting.managedRoutes"
            )
    return problems


def mirror_route_problems(steps: Sequence[CanaryStep], managed_routes: Sequence[str]) -> list[str]:
    """Every malformed setMirrorRoute step, as messages (empty when all are usable)."""
    problems: list[str] = []
    for index, step in enumerate(steps):
        body = step.set_mirror_route
        if body is None:
            continue
        try:
            mirror_route(body)
        except TrafficConfigError as err:
            problems.append(f"steps[{index}]: {err}")
            continue
        if body.name not in managed_routes:
            problems.append(
                f"steps[{index}]: setMirrorRoute '{body.name}' is not listed in "
                "spec.strategy.canary.trafficRouting.managedRoutes"
            )
    return problems
