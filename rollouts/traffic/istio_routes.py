"""The routes of one Istio VirtualService: which ones a Rollout weights, what they look like at a weight, and the
managed header and mirror routes it adds. Pure functions of the stored object, used by ``istio.py``.

Semantics are Argo Rollouts v1.10.2's (rollout/trafficrouting/istio/istio.go):

* **Which routes are weighted.** HTTP: the routes named in ``virtualService.routes``; with none named, the only
  HTTP route, or else the first unnamed one. TLS: those whose match has exactly one port equal to ``port`` and
  exactly the ``sniHosts``; with none configured, ``tls[0]``. TCP: the same by ``port``; with none configured,
  ``tcp[0]``. Managed mirror routes are weighted as well (they carry a copy of the weighted destinations).
* **A destination at weight w.** Its host up to the first dot (``shop-canary.prod.svc.cluster.local`` ->
  ``shop-canary``) is the canaryService, or its subset the canary subset: ``w``. The stableService or the stable
  subset: ``100 - w - (weights of additionalSubsetNames)``, never below 0. An additional subset keeps its weight.
  Any other destination is dropped (Argo keeps only experiment services, which this controller does not run).
* **Managed routes** (``trafficRouting.managedRoutes``) sit on top of the HTTP routes in managedRoutes order, the
  user's routes follow in their order. A header route is ``{name, match: [{headers: {H: {exact|prefix|regex}}}]
  (one match entry per header, as Argo writes it), route: [canary host (+ subset, + the weighted route's port),
  weight 100]}``; a mirror route is ``{name, match, route: <the weighted route's destinations>, mirror: canary,
  mirrorPercentage: {value}}``.

Worked example (stable ``shop-stable``, canary ``shop-canary``, one route ``primary`` with both at 100/0),
weight 20 with header route ``h`` (X-Canary exact ``yes``) -> ``http: [{name: h, match: [{headers: {X-Canary:
{exact: yes}}}], route: [{destination: {host: shop-canary}, weight: 100}]}, {name: primary, route: [shop-stable
weight 80, shop-canary weight 20]}]``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.traffic.router import HeaderRoute, MirrorMatch, MirrorRoute, ValueMatch

Route = dict[str, Any]

SPEC_HTTP_WITHOUT_ROUTES = (
    "spec.http[] should be set in VirtualService and it must have exactly one route when omitting "
    "spec.strategy.canary.trafficRouting.istio.virtualService.routes"
)
SPEC_TLS_WITHOUT_ROUTES = (
    "spec.tls[] should be set in VirtualService and it must have exactly one route when omitting "
    "spec.strategy.canary.trafficRouting.istio.virtualService.tlsRoutes"
)
SPEC_TCP_WITHOUT_ROUTES = (
    "spec.tcp[] should be set in VirtualService and it must have exactly one route when omitting "
    "spec.strategy.canary.trafficRouting.istio.virtualService.tcpRoutes"
)


class RouteError(ValueError):
    """A configured route is not in the VirtualService (Argo's message)."""


@dataclass(frozen=True, slots=True)
class TlsRouteRef:
    port: int
    sni_hosts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Targets:
    """Where canary and stable traffic goes: Services (host-level) and/or DestinationRule subsets."""

    canary_service: str
    stable_service: str
    canary_subset: str = ""
    stable_subset: str = ""
    additional_subsets: tuple[str, ...] = ()
    canary_host: str = ""
    """The host of header and mirror routes: the DestinationRule's ``spec.host`` with subsets, else canaryService."""


@dataclass(frozen=True, slots=True)
class RouteSelection:
    """The Rollout's routes in one VirtualService: ``routes`` (HTTP names), ``tls_routes``, ``tcp_routes``."""

    routes: tuple[str, ...] = ()
    tls_routes: tuple[TlsRouteRef, ...] = ()
    tcp_routes: tuple[int, ...] = ()


def short_host(destination: Mapping[str, Any]) -> str:
    """``shop.prod.svc.cluster.local`` -> ``shop``; ``.x`` -> "" (Argo's getHost)."""
    host = str((destination.get("destination") or {}).get("host") or "")
    index = host.find(".")
    return host if index < 0 else host[:index]


def _subset(destination: Mapping[str, Any]) -> str:
    return str((destination.get("destination") or {}).get("subset") or "")


def http_indexes(names: Sequence[str], http: Sequence[Mapping[str, Any]], managed: Sequence[str]) -> list[int]:
    """The HTTP routes to weight: by name; unnamed config -> the only route, the first unnamed one, or the only
    route that is not a managed route."""
    if not names:
        if len(http) == 1:
            return [0]
        for index, route in enumerate(http):
            if not route.get("name"):
                return [index]
        own = [i for i, route in enumerate(http) if route.get("name") not in managed]
        return own if len(own) == 1 else []
    indexes = []
    for name in names:
        found = [i for i, route in enumerate(http) if route.get("name") == name]
        if not found:
            raise RouteError(f"HTTP Route '{name}' is not found in the defined Virtual Service.")
        indexes.append(found[0])
    return indexes


def _match_ports(route: Mapping[str, Any]) -> set[int]:
    return {int(match.get("port") or 0) for match in route.get("match") or []}


def tls_indexes(refs: Sequence[TlsRouteRef], tls: Sequence[Mapping[str, Any]]) -> list[int]:
    if not refs:
        return [0] if tls else []
    indexes: list[int] = []
    for ref in refs:
        found = []
        for index, route in enumerate(tls):
            ports = _match_ports(route) or {0}
            sni = {host for match in route.get("match") or [] for host in match.get("sniHosts") or []}
            if len(ports) == 1 and ports == {ref.port} and sni == set(ref.sni_hosts):
                found.append(index)
        if not found:
            raise RouteError("No matching TLS routes found in the defined Virtual Service.")
        indexes += found
    return indexes


def tcp_indexes(ports: Sequence[int], tcp: Sequence[Mapping[str, Any]]) -> list[int]:
    if not ports:
        return [0] if tcp else []
    indexes: list[int] = []
    for port in ports:
        found = [i for i, route in enumerate(tcp) if (_match_ports(route) or {0}) == {port}]
        if not found:
            raise RouteError("No matching TCP routes found in the defined Virtual Service.")
        indexes += found
    return indexes


def destination_problem(destinations: Sequence[Mapping[str, Any]], targets: Targets) -> str | None:
    """Argo's validateVirtualServiceRouteDestinations: both canary and stable (subsets, else Services) present."""
    hosts = {short_host(d) for d in destinations}
    subsets = {_subset(d) for d in destinations}
    if targets.canary_subset or targets.stable_subset:
        if targets.canary_subset not in subsets:
            return f"Canary DestinationRule subset '{targets.canary_subset}' not found in route"
        if targets.stable_subset not in subsets:
            return f"Stable DestinationRule subset '{targets.stable_subset}' not found in route"
        return None
    if not targets.canary_service or targets.canary_service not in hosts:
        return f"Canary Service '{targets.canary_service}' not found in route"
    if not targets.stable_service or targets.stable_service not in hosts:
        return f"Stable Service '{targets.stable_service}' not found in route"
    return None


def weighted(destinations: Sequence[Mapping[str, Any]], weight: int, targets: Targets) -> list[Route]:
    """The destinations at canary ``weight`` (see the module docstring): 100/0 at 20 -> stable 80, canary 20."""
    additional = [d for d in destinations if _subset(d) and _subset(d) in targets.additional_subsets]
    stable_weight = max(0, 100 - weight - sum(int(d.get("weight") or 0) for d in additional))
    out: list[Route] = []
    for destination in destinations:
        host, subset = short_host(destination), _subset(destination)
        item = copy.deepcopy(dict(destination))
        if not host:
            out.append(item)
        elif host == targets.canary_service or (subset and subset == targets.canary_subset):
            out.append({**item, "weight": weight})
        elif host == targets.stable_service or (subset and subset == targets.stable_subset):
            out.append({**item, "weight": stable_weight})
        elif subset and subset in targets.additional_subsets:
            out.append(item)
    return out


def canary_weight(destinations: Sequence[Mapping[str, Any]], targets: Targets) -> int | None:
    for destination in destinations:
        host, subset = short_host(destination), _subset(destination)
        if host and (host == targets.canary_service or (subset and subset == targets.canary_subset)):
            return int(destination.get("weight") or 0)
    return None


def _string_match(value: ValueMatch) -> dict[str, str]:
    return {value.kind.value: value.value}


def _canary_destination(targets: Targets, port: int | None) -> Route:
    destination: Route = {"host": targets.canary_host or targets.canary_service}
    if port:
        destination["port"] = {"number": port}
    if targets.canary_subset:
        destination["subset"] = targets.canary_subset
    return destination


def header_route(route: HeaderRoute, targets: Targets, port: int | None) -> Route:
    """Argo's createHeaderRoute: one match entry per header, all traffic of the route to the canary."""
    return {
        "name": route.name,
        "match": [{"headers": {m.name: {m.kind.value: m.value}}} for m in route.matches],
        "route": [{"destination": _canary_destination(targets, port), "weight": 100}],
    }


def _mirror_match(match: MirrorMatch) -> Route:
    out: Route = {}
    if match.method is not None:
        out["method"] = _string_match(match.method)
    if match.path is not None:
        out["uri"] = _string_match(match.path)
    if match.headers:
        out["headers"] = {name: _string_match(value) for name, value in match.headers}
    return out


def mirror_route(route: MirrorRoute, targets: Targets, weighted_route: Sequence[Mapping[str, Any]]) -> Route:
    """Argo's createMirrorRoute: answer as the weighted route does, and copy ``percentage`` to the canary."""
    port = _first_port(weighted_route)
    return {
        "name": route.name,
        "match": [_mirror_match(m) for m in route.matches],
        "route": copy.deepcopy(list(weighted_route)),
        "mirror": _canary_destination(targets, port),
        "mirrorPercentage": {"value": route.percentage},
    }


def _first_port(destinations: Sequence[Mapping[str, Any]]) -> int | None:
    if not destinations:
        return None
    port = (destinations[0].get("destination") or {}).get("port") or {}
    number = port.get("number") if isinstance(port, Mapping) else None
    return int(number) if number else None


def canary_port(http: Sequence[Mapping[str, Any]], index: int | None) -> int | None:
    """The port of the weighted route's first destination (Argo's getVirtualServiceCanaryPort)."""
    if index is None:
        return None
    return _first_port(http[index].get("route") or [])
