"""The Application page's network view: which Ingresses and HTTPRoutes send traffic to which Services, which
ReplicaSets (and their pods) each Service selects, and the share of traffic on each edge.

The weights are read where the controller reads them, never recomputed here:

- a Rollout with traffic routing: its routers (rollouts.traffic, the same ``routers_for`` and
  ``observe_traffic`` the controller observes with) read the weight in effect back from the live Ingresses,
  HTTPRoutes and Services in the dashboard's caches. When a router's objects are of a kind the dashboard does
  not watch (an Istio VirtualService, a TrafficSplit, ...), or the routers cannot tell, the weight is the one
  the controller last wrote in the Rollout's ``status.canary.weights``; the view says which source it used.
  The edges into the Rollout's canaryService carry the canary weight, those into its stableService the rest
  (maxTrafficWeight - weight): ``setWeight: 20`` -> "20%" into web-canary, "80%" into web-stable.
- without traffic routing a Service sends traffic by pods: the edge from a Service to a ReplicaSet carries
  that ReplicaSet's share of the ready pods the Service selects (1 canary pod and 3 stable pods -> 25% / 75%).

Pure: the objects come from the caches, nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rollouts.api.rollout import Rollout
from rollouts.api.validation import parse_rollout
from rollouts.cli.children import pod_info
from rollouts.cli.objects import as_list, dig
from rollouts.traffic.registry import observe_traffic, routers_for
from rollouts.traffic.router import RouteKind, TrafficConfigError

Obj = dict[str, Any]
Json = dict[str, Any]

WATCHED: dict[RouteKind, str] = {RouteKind.INGRESS: "ingresses", RouteKind.HTTPROUTE: "httproutes",
                                 RouteKind.SERVICE: "services"}
"""The router object kinds the dashboard holds in its caches (by plural); a router reading other kinds gets
its weight from the Rollout's status instead."""
PODS_SHOWN = 8
"""Pods drawn per ReplicaSet; the rest are counted on one node ("+5 more")."""


@dataclass(frozen=True, slots=True)
class TrafficWeight:
    """A Rollout's canary weight in effect, of `max_weight`, and where it was read (`routers` or `status`)."""

    canary: int
    max_weight: int
    source: str
    canary_service: str
    stable_service: str


def traffic_weight(raw: Obj, caches: Mapping[str, Sequence[Obj]]) -> TrafficWeight | None:
    """The weight a Rollout's traffic routing has in effect; None without traffic routing (or unparseable)."""
    rollout, _ = parse_rollout(raw)
    canary = rollout.spec.strategy.canary if rollout is not None else None
    if rollout is None or canary is None or canary.traffic_routing is None:
        return None
    services = (canary.canary_service or "", canary.stable_service or "")
    max_weight = canary.effective_max_traffic_weight()
    weight = router_weight(rollout, caches)
    if weight is not None:
        return TrafficWeight(weight, max_weight, "routers", *services)
    written = dig(raw, "status", "canary", "weights", "canary", "weight")
    if isinstance(written, int):
        return TrafficWeight(written, max_weight, "status", *services)
    return None


def router_weight(rollout: Rollout, caches: Mapping[str, Sequence[Obj]]) -> int | None:
    """The weight the Rollout's routers read back from their live objects in the caches, as the controller
    observes it; None when a router reads a kind the dashboard does not watch or the routers cannot tell."""
    try:
        routers = routers_for(rollout)
    except TrafficConfigError:
        return None
    refs = [ref for router in routers for ref in router.references()]
    if not routers or not all(ref.kind in WATCHED for ref in refs):
        return None
    index = {(str(dig(o, "metadata", "namespace")), str(dig(o, "metadata", "name"))): o
             for plural in {WATCHED[ref.kind] for ref in refs} for o in caches.get(plural, ())}
    live = {ref: index[(ref.namespace, ref.name)] for ref in refs if (ref.namespace, ref.name) in index}
    observed = observe_traffic(routers, live)
    return observed.weight if observed.error is None else None


@dataclass
class Graph:
    nodes: dict[str, Json] = field(default_factory=dict)
    edges: list[Json] = field(default_factory=list)

    def node(self, column: int, obj: Mapping[str, Any], kind: str, **info: Any) -> str:
        ident = f"{kind}/{dig(obj, 'metadata', 'namespace') or ''}/{dig(obj, 'metadata', 'name') or ''}"
        self.nodes.setdefault(ident, {"id": ident, "column": column, "kind": kind,
                                      "name": str(dig(obj, "metadata", "name") or ""), **info})
        return ident

    def edge(self, source: str, target: str, label: str = "", weight: int | None = None) -> None:
        self.edges.append({"source": source, "target": target, "label": label, "weight": weight})


def route_backends(route: Mapping[str, Any], kind: str) -> list[str]:
    """The Service names a router object sends to, in order, without repeats: an Ingress's default backend and
    every path's backend; an HTTPRoute's backendRefs of kind Service."""
    names: list[str] = []
    spec = route.get("spec") or {}
    if kind == "Ingress":
        names.append(str(dig(spec, "defaultBackend", "service", "name") or ""))
        for rule in as_list(spec.get("rules")):
            for path in as_list(dig(rule, "http", "paths")):
                names.append(str(dig(path, "backend", "service", "name") or ""))
    else:
        for rule in as_list(spec.get("rules")):
            for ref in as_list(dig(rule, "backendRefs")):
                if isinstance(ref, Mapping) and ref.get("kind", "Service") == "Service" and not ref.get("group"):
                    names.append(str(ref.get("name") or ""))
    return list(dict.fromkeys(n for n in names if n))


def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _by_name(objects: Iterable[Obj]) -> dict[tuple[str, str], Obj]:
    return {(str(dig(o, "metadata", "namespace") or ""), str(dig(o, "metadata", "name") or "")): o for o in objects}


def _owned(objects: Iterable[Obj], uid: str) -> list[Obj]:
    return [o for o in objects if any(isinstance(r, Mapping) and r.get("uid") == uid
                                      for r in as_list(dig(o, "metadata", "ownerReferences")))]


def _rollout_services(rollout: Mapping[str, Any]) -> list[str]:
    strategy = dig(rollout, "spec", "strategy") or {}
    names = [dig(strategy, "canary", "canaryService"), dig(strategy, "canary", "stableService"),
             dig(strategy, "blueGreen", "activeService"), dig(strategy, "blueGreen", "previewService")]
    return [str(n) for n in names if n]


def _weight_label(weights: Sequence[TrafficWeight], service: str) -> tuple[str, int | None]:
    for w in weights:
        if service == w.canary_service:
            return f"{w.canary}% canary", w.canary
        if service == w.stable_service:
            return f"{w.max_weight - w.canary}% stable", w.max_weight - w.canary
    return "", None


def _ready(pod: Mapping[str, Any]) -> bool:
    """Whether a Service sends the pod traffic: its Ready condition, what the EndpointSlice controller reads."""
    return any(isinstance(c, Mapping) and c.get("type") == "Ready" and c.get("status") == "True"
               for c in as_list(dig(pod, "status", "conditions")))


@dataclass(frozen=True, slots=True)
class Scope:
    """What belongs to one Application's network: its objects by (kind, namespace, name), its Rollouts, the
    Services it or its Rollouts name, and the weights those Rollouts have in effect."""

    wanted: frozenset[tuple[str, str, str]]
    rollouts: tuple[Obj, ...]
    services: Mapping[tuple[str, str], Obj]
    service_keys: frozenset[tuple[str, str]]
    weights: tuple[TrafficWeight, ...]

    @property
    def namespaces(self) -> set[str]:
        return {ns for _, ns, _ in self.wanted}


def _scope(app_resources: Sequence[Mapping[str, Any]], caches: Mapping[str, Sequence[Obj]]) -> Scope:
    wanted = frozenset((str(r.get("kind")), str(r.get("namespace") or ""), str(r.get("name") or ""))
                       for r in app_resources)
    rollouts = tuple(ro for (ns, name), ro in _by_name(caches.get("rollouts", ())).items()
                     if ("Rollout", ns, name) in wanted)
    keys = {(ns, name) for kind, ns, name in wanted if kind == "Service"}
    keys |= {(str(dig(ro, "metadata", "namespace")), name) for ro in rollouts for name in _rollout_services(ro)}
    weights = tuple(w for w in (traffic_weight(ro, caches) for ro in rollouts) if w is not None)
    return Scope(wanted, rollouts, _by_name(caches.get("services", ())), frozenset(keys), weights)


def _route_edges(graph: Graph, scope: Scope, caches: Mapping[str, Sequence[Obj]]) -> None:
    """Ingress/HTTPRoute -> Service, for the Application's routes and any route to its Services (a router's
    canary Ingress is not in the Application but routes to its canaryService)."""
    for plural, kind in (("ingresses", "Ingress"), ("httproutes", "HTTPRoute")):
        for route in caches.get(plural, ()):
            ns = str(dig(route, "metadata", "namespace") or "")
            backends = [b for b in route_backends(route, kind) if (ns, b) in scope.service_keys]
            ours = (kind, ns, str(dig(route, "metadata", "name"))) in scope.wanted
            if not ours and not (ns in scope.namespaces and backends):
                continue
            source = graph.node(0, route, kind)
            for name in backends:
                label, weight = _weight_label(scope.weights, name)
                known = scope.services.get((ns, name))
                target = graph.node(1, known or {"metadata": {"name": name, "namespace": ns}}, "Service",
                                    missing=known is None)
                graph.edge(source, target, label, weight)


def _service_edges(graph: Graph, scope: Scope, replicasets: Sequence[Obj], pods: Sequence[Obj]) -> None:
    """Service -> ReplicaSet for each ReplicaSet whose pods the Service selects, with its share of ready pods."""
    for key in sorted(scope.service_keys):
        svc = scope.services.get(key)
        if svc is None:
            continue
        source = graph.node(1, svc, "Service")
        selector = dig(svc, "spec", "selector") or {}
        chosen = [(rs, [p for p in _owned(pods, str(dig(rs, "metadata", "uid"))) if _ready(p)]) for rs in replicasets
                  if dig(rs, "metadata", "namespace") == key[0]
                  and _selects(selector, dig(rs, "spec", "template", "metadata", "labels") or {})]
        total = sum(len(ready) for _, ready in chosen)
        for rs, ready in chosen:
            share = round(100 * len(ready) / total) if total else 0
            graph.edge(source, graph.node(2, rs, "ReplicaSet"), f"{share}% · {len(ready)} ready", share)


def _pod_edges(graph: Graph, replicasets: Sequence[Obj], pods: Sequence[Obj]) -> None:
    """ReplicaSet -> its pods (the first PODS_SHOWN, then one node counting the rest), for ReplicaSets drawn."""
    for rs in replicasets:
        if f"ReplicaSet/{dig(rs, 'metadata', 'namespace')}/{dig(rs, 'metadata', 'name')}" not in graph.nodes:
            continue
        source = graph.node(2, rs, "ReplicaSet")
        own = sorted(_owned(pods, str(dig(rs, "metadata", "uid"))), key=lambda p: str(dig(p, "metadata", "name")))
        for pod in own[:PODS_SHOWN]:
            graph.edge(source, graph.node(3, pod, "Pod", ready=_ready(pod), status=pod_info(pod).status))
        if len(own) > PODS_SHOWN:
            more = {"metadata": {"name": f"+{len(own) - PODS_SHOWN} more", "namespace": dig(rs, "metadata", "name")}}
            graph.edge(source, graph.node(3, more, "Pod"))


def network_view(app_resources: Sequence[Mapping[str, Any]], caches: Mapping[str, Sequence[Obj]]) -> Json:
    """The Application's network as columns of nodes (0 Ingress/HTTPRoute, 1 Service, 2 ReplicaSet, 3 Pod) and
    labelled edges, with the weight of each Rollout and its source; `caches` holds the namespaces' objects by
    plural (rollouts, services, ingresses, httproutes, replicasets, pods)."""
    scope = _scope(app_resources, caches)
    replicasets = [rs for ro in scope.rollouts
                   for rs in _owned(caches.get("replicasets", ()), str(dig(ro, "metadata", "uid")))
                   if int(dig(rs, "status", "replicas") or 0) or int(dig(rs, "spec", "replicas") or 0)]
    pods = caches.get("pods", ())
    graph = Graph()
    _route_edges(graph, scope, caches)
    _service_edges(graph, scope, replicasets, pods)
    _pod_edges(graph, replicasets, pods)
    return {"nodes": list(graph.nodes.values()), "edges": graph.edges,
            "weights": [{"canaryService": w.canary_service, "stableService": w.stable_service, "canary": w.canary,
                         "maxWeight": w.max_weight, "source": w.source} for w in scope.weights]}
