"""Apache APISIX traffic router: backend weights of the user's ``ApisixRoute`` and header-route ApisixRoutes we own.

Configured as in Argo::

    trafficRouting:
      apisix:
        route:
          name: shop            # the ApisixRoute (apisix.apache.org/v2) in the Rollout's namespace
          rules: [shop-rule]    # names of its spec.http entries; default: the route's own name

* weights: in each named rule, the backend ``serviceName: <canaryService>`` gets ``weight: w`` and the stable
  one ``100 - w``. The ApisixRoute is the user's, so (unlike Argo's whole-object update) we send a JSON patch of
  just those weights behind a ``test`` of ``metadata.resourceVersion``.
* header routes (setHeaderRoute): as Argo, a second ApisixRoute named after the route (``set-header`` for
  ``setHeaderRoute: {name: set-header}``), a copy of the user's route whose named rules send everything to the
  canary (weight 100, stable backend removed), one ``priority`` above the original rule, and match only
  ``match.exprs`` built from the header matches: exact -> ``Equal``, regex -> ``RegexMatch``, prefix ->
  ``RegexMatch ^<prefix>.*`` (Argo does not escape the prefix; neither do we, so the same manifests behave the
  same). It is wholly ours: applied whole (server-side apply) with the Rollout's controller ownerReference, and
  deleted when the route is removed (a step without ``match``, the end of the update, an abort). A name taken
  by an ApisixRoute we do not control is a problem in Argo's words.

Worked example (Argo's e2e apisix/rollout-apisix-canary-set-header.yaml): rule ``rollouts-apisix-route`` with
backends stable/canary, ``setHeaderRoute {name: set-header, match: [{headerName: trace, headerValue: {exact:
debug}}]}`` -> ApisixRoute ``set-header`` whose rule has ``priority: 1``, backends ``[canary weight 100]`` and
``match.exprs [{subject: {scope: Header, name: trace}, op: Equal, value: debug}]``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.owners import is_controlled_by
from rollouts.api.rollout import CanaryStep, RolloutTrafficRouting
from rollouts.traffic.header_routes import header_route_problems
from rollouts.traffic.router import (
    ApplyObject,
    DeleteObject,
    HeaderRoute,
    InEffect,
    JsonPatch,
    LiveObjects,
    MatchKind,
    MirrorRoute,
    ObjectRef,
    PodHashes,
    RolloutContext,
    RouteKind,
    TrafficChange,
    TrafficConfigError,
)

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def exprs(route: HeaderRoute) -> list[dict[str, Any]]:
    """APISIX ``match.exprs`` for a header route's matches (Argo's ``apisixExprs``)."""
    result: list[dict[str, Any]] = []
    for match in route.matches:
        subject = {"scope": "Header", "name": match.name}
        if match.kind is MatchKind.EXACT:
            result.append({"subject": subject, "op": "Equal", "value": match.value})
        elif match.kind is MatchKind.REGEX:
            result.append({"subject": subject, "op": "RegexMatch", "value": match.value})
        else:
            result.append({"subject": subject, "op": "RegexMatch", "value": f"^{match.value}.*"})
    return result


def _http(obj: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    http = (obj.get("spec") or {}).get("http")
    return [dict(rule) for rule in http] if isinstance(http, list) else None


def _rule(http: Sequence[Mapping[str, Any]], name: str) -> int | None:
    return next((i for i, r in enumerate(http) if isinstance(r, Mapping) and r.get("name") == name), None)


def _backend(backends: Sequence[Mapping[str, Any]], service: str) -> int | None:
    return next((i for i, b in enumerate(backends) if isinstance(b, Mapping) and b.get("serviceName") == service),
                None)


@dataclass(frozen=True, slots=True)
class ApisixRouter:
    """``strategy.canary.trafficRouting.apisix`` for one Rollout."""

    ctx: RolloutContext
    route: str
    rules: tuple[str, ...]

    @classmethod
    def from_config(
        cls, ctx: RolloutContext, routing: RolloutTrafficRouting, steps: Sequence[CanaryStep] = ()
    ) -> ApisixRouter:
        config = routing.apisix or {}
        route = config.get("route") if isinstance(config.get("route"), Mapping) else None
        problems: list[str] = []
        if route is None or not route.get("name"):
            problems.append("trafficRouting.apisix.route.name is required")
        rules = (route or {}).get("rules")
        if rules is not None and (not isinstance(rules, list) or not all(isinstance(r, str) and r for r in rules)):
            problems.append("trafficRouting.apisix.route.rules must be a list of rule names")
        problems += header_route_problems(steps, ctx.managed_routes)
        if problems:
            raise TrafficConfigError("; ".join(problems))
        name = str((route or {})["name"])
        return cls(ctx=ctx, route=name, rules=tuple(rules) if rules else (name,))

    @property
    def name(self) -> str:
        return "apisix"

    def _ref(self, name: str) -> ObjectRef:
        return ObjectRef(RouteKind.APISIXROUTE, self.ctx.namespace, name)

    def references(self) -> list[ObjectRef]:
        return [self._ref(self.route), *(self._ref(n) for n in self.ctx.managed_routes if n != self.route)]

    def _route_problems(self, obj: Mapping[str, Any] | None) -> list[str]:
        if obj is None:
            return [f'apisixroutes.apisix.apache.org "{self.route}" not found']
        http = _http(obj)
        if http is None:
            return ["spec.http was not found in Apisix Route manifest"]
        problems: list[str] = []
        for rule in self.rules:
            index = _rule(http, rule)
            if index is None:
                problems.append(f"Apisix http route rule {rule} not found")
                continue
            backends = http[index].get("backends")
            if not isinstance(backends, list):
                problems.append("Apisix http route backends not found")
                continue
            problems += [f"apisix route {service} backend was not found"
                         for service in (self.ctx.canary_service, self.ctx.stable_service)
                         if _backend(backends, service) is None]
        return problems

    def validate(self, live: LiveObjects) -> list[str]:
        problems = self._route_problems(live.get(self._ref(self.route)))
        for name in self.ctx.managed_routes:
            obj = live.get(self._ref(name))
            if obj is not None and (name == self.route or not is_controlled_by(obj, self.ctx.uid)):
                problems.append(f"duplicate ApisixRoute [{name}] already exists")
        return problems

    def in_effect(self, live: LiveObjects) -> InEffect:
        obj = live.get(self._ref(self.route))
        if obj is None or self._route_problems(obj):
            return InEffect(weight=None)
        http = _http(obj) or []
        weights: set[int | None] = set()
        for rule in self.rules:
            backends = http[_rule(http, rule) or 0]["backends"]
            canary = backends[_backend(backends, self.ctx.canary_service) or 0].get("weight")
            stable = backends[_backend(backends, self.ctx.stable_service) or 0].get("weight")
            weights.add(canary if isinstance(canary, int) and stable == 100 - canary else None)
        routes = tuple(n for n in self.ctx.managed_routes
                       if (o := live.get(self._ref(n))) is not None and is_controlled_by(o, self.ctx.uid))
        return InEffect(weight=weights.pop() if len(weights) == 1 else None, header_routes=routes)

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]:
        del mirror_routes, pod_hashes  # APISIX mirroring is not Argo's; refused by registry.routers_for
        self.ctx.check_weight(weight)
        base = live.get(self._ref(self.route))
        problems = self.validate(live)
        if base is None or problems:
            raise TrafficConfigError("; ".join(problems))
        changes: list[TrafficChange] = [*self._weight_patch(base, weight)]
        wanted = {route.name: route for route in header_routes}
        for route in header_routes:
            desired = self.header_route(base, route)
            current = live.get(self._ref(route.name))
            if current is None or current.get("spec") != desired["spec"]:
                changes.append(ApplyObject(RouteKind.APISIXROUTE, desired,
                                           summary=f"apply header-route ApisixRoute '{route.name}'"))
        for name in self.ctx.managed_routes:
            current = live.get(self._ref(name))
            if name not in wanted and current is not None:
                uid = str(current["metadata"].get("uid") or "")
                changes.append(DeleteObject(self._ref(name), uid, summary=f"delete header-route ApisixRoute '{name}'"))
        return changes

    def _weight_patch(self, base: Mapping[str, Any], weight: int) -> list[JsonPatch]:
        http = _http(base) or []
        ops: list[dict[str, Any]] = []
        for rule in self.rules:
            index = _rule(http, rule) or 0
            backends = http[index]["backends"]
            for service, value in ((self.ctx.canary_service, weight), (self.ctx.stable_service, 100 - weight)):
                position = _backend(backends, service) or 0
                if backends[position].get("weight") != value:
                    ops.append({"op": "add", "path": f"/spec/http/{index}/backends/{position}/weight", "value": value})
        if not ops:
            return []
        version = str((base.get("metadata") or {}).get("resourceVersion") or "")
        test = {"op": "test", "path": "/metadata/resourceVersion", "value": version}
        return [JsonPatch(self._ref(self.route), (test, *ops),
                          summary=f"set ApisixRoute '{self.route}' canary weight {weight}")]

    def header_route(self, base: Mapping[str, Any], route: HeaderRoute) -> dict[str, Any]:
        """The complete header-route ApisixRoute: the user's route with its named rules sent to the canary."""
        meta = base.get("metadata") or {}
        metadata: dict[str, Any] = {"name": route.name, "namespace": self.ctx.namespace,
                                    "ownerReferences": [self.ctx.owner_reference]}
        if meta.get("labels"):
            metadata["labels"] = dict(meta["labels"])
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != _LAST_APPLIED}
        if annotations:
            metadata["annotations"] = annotations
        spec = copy.deepcopy(dict(base.get("spec") or {}))
        for rule in self.rules:
            entry = spec["http"][_rule(spec["http"], rule) or 0]
            entry["backends"] = [{**b, "weight": 100} for b in entry["backends"]
                                 if b.get("serviceName") == self.ctx.canary_service]
            entry["priority"] = int(entry.get("priority") or 0) + 1
            entry["match"] = {**(entry.get("match") or {}), "exprs": exprs(route)}
        return {"apiVersion": RouteKind.APISIXROUTE.api_version, "kind": "ApisixRoute", "metadata": metadata,
                "spec": spec}
