"""setHeaderRoute steps as data: parsing the spec's shape and deciding which header routes are in effect.

Argo's semantics: a ``setHeaderRoute`` step with ``match`` creates (or replaces) the managed route of that
``name``; one without ``match`` removes it; every managed route is removed at the end of the update (full
promotion or abort). Each name must be listed in ``trafficRouting.managedRoutes``, whose order is the
precedence order. Because routes in effect are a pure function of (steps, current step index), nothing
about them has to be remembered: after a restart the controller recomputes them.

Example: steps ``[setWeight 10, setHeaderRoute{a, X-Canary=yes}, pause, setHeaderRoute{a}, setWeight 50]``
at step index 2 -> ``[HeaderRoute("a", (X-Canary exact "yes",))]``; at index 3 or later -> ``[]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rollouts.traffic.router import HeaderMatch, HeaderRoute, MatchKind, TrafficConfigError


def parse_header_match(raw: Mapping[str, Any], *, route: str) -> HeaderMatch:
    """``{"headerName": "X", "headerValue": {"exact": "v"}}`` -> ``HeaderMatch("X", EXACT, "v")``."""
    name = raw.get("headerName")
    if not isinstance(name, str) or not name:
        raise TrafficConfigError(f"setHeaderRoute '{route}': every match needs a non-empty headerName")
    value = raw.get("headerValue") or {}
    given = [k for k in MatchKind if isinstance(value.get(k.value), str) and value[k.value] != ""]
    if len(given) != 1:
        raise TrafficConfigError(
            f"setHeaderRoute '{route}': headerValue of header '{name}' must set exactly one of exact, prefix, regex"
        )
    kind = given[0]
    return HeaderMatch(name=name, kind=kind, value=str(value[kind.value]))


def parse_header_route(raw: Mapping[str, Any]) -> HeaderRoute | None:
    """A setHeaderRoute step body as a HeaderRoute; None when it has no ``match`` (it removes the route)."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise TrafficConfigError("setHeaderRoute needs a non-empty name")
    matches = raw.get("match")
    if not matches:
        return None
    return HeaderRoute(name=name, matches=tuple(parse_header_match(m, route=name) for m in matches))


def parse_header_routes(raw: Sequence[Mapping[str, Any]]) -> list[HeaderRoute]:
    """The routes that should exist, from step bodies in effect (those without ``match`` are dropped)."""
    return [route for body in raw if (route := parse_header_route(body)) is not None]


def active_header_routes(
    steps: Sequence[Mapping[str, Any]],
    current_step_index: int | None,
    managed_routes: Sequence[str],
) -> list[HeaderRoute]:
    """Header routes in effect while the Rollout is at ``current_step_index`` (None or past the end -> none).

    Steps up to and including the current one count; later steps with the same name replace earlier ones.
    The result is ordered by ``managed_routes`` (Argo's precedence order).
    """
    if current_step_index is None or current_step_index >= len(steps):
        return []
    in_effect: dict[str, HeaderRoute] = {}
    for step in steps[: current_step_index + 1]:
        body = step.get("setHeaderRoute")
        if body is None:
            continue
        name = str(body.get("name", ""))
        if name not in managed_routes:
            raise TrafficConfigError(
                f"setHeaderRoute '{name}' is not listed in spec.strategy.canary.trafficRouting.managedRoutes"
            )
        route = parse_header_route(body)
        if route is None:
            in_effect.pop(name, None)
        else:
            in_effect[name] = route
    return [in_effect[name] for name in managed_routes if name in in_effect]


def header_route_problems(steps: Sequence[Mapping[str, Any]], managed_routes: Sequence[str]) -> list[str]:
    """Every malformed setHeaderRoute step, as messages (empty when all are usable)."""
    problems: list[str] = []
    for index, step in enumerate(steps):
        body = step.get("setHeaderRoute")
        if body is None:
            continue
        try:
            parse_header_route(body)
        except TrafficConfigError as err:
            problems.append(f"steps[{index}]: {err}")
            continue
        if body.get("name") not in managed_routes:
            problems.append(
                f"steps[{index}]: setHeaderRoute '{body.get('name')}' is not listed in "
                "spec.strategy.canary.trafficRouting.managedRoutes"
            )
    return problems
