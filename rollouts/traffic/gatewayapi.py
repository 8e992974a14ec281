"""Gateway API traffic router: weights of the stable and canary backendRefs of user-owned HTTPRoutes.

Configured the way Argo users already write it for the argoproj-labs Gateway API plugin::

    trafficRouting:
      plugins:
        argoproj-labs/gatewayAPI:
          httpRoute: shop            # or httpRoutes: [{name: shop, useHeaderRoutes: true}, {name: shop-internal}]
          namespace: prod            # optional, defaults to the Rollout's namespace

The HTTPRoute belongs to the user (or to GitOps), so we change as little as possible of it, with a JSON patch:

* weights: in every rule that has a backendRef to both ``canaryService`` and ``stableService``, the canary ref
  gets ``w`` and the stable ref ``maxTrafficWeight - w`` (Gateway API weights are proportions, so 10/90 is
  10%). Rules with only one of the two are left alone: a lone stable ref at weight 0 would black-hole traffic.
  Nothing else in the route is touched; a hand edit of a weight is seen by ``desired_changes`` and corrected.
* header routes (setHeaderRoute, only on routes with ``useHeaderRoutes``, or on the single ``httpRoute``): a
  rule is appended whose matches are the base rule's (path, method, query params, headers) plus the route's
  header matches (prefix -> ``RegularExpression`` ``^<escaped>.*``), pointing only at canaryService. Gateway
  API ranks a match with more header matches first, so it wins over the base rule.

Which appended rules are ours is recorded in the route itself (no ConfigMap, unlike the plugin), in the
annotation ``rollouts.argoproj.io/managed-header-routes``: canonical JSON ``{"<rollout>": {"<route name>":
"<signature>"}}``, the signature being a stable sha256 of the rule's matches and canary backend, normalised
so that API-server defaults do not change it. Rule and annotation change in the same patch, so they never
disagree. Standard-channel HTTPRoute rules (v1.3) have no ``name`` field to mark them with.

Example: rules ``[{backendRefs: [stable w=100, canary w=0]}]``, weight 30 ->
``[test /metadata/resourceVersion, add /spec/rules/0/backendRefs/0/weight 70, add .../1/weight 30]``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.rollout import GATEWAY_API_PLUGIN, CanaryStep, RolloutTrafficRouting
from rollouts.planning.hashing import canonical_json, stable_hash
from rollouts.traffic.header_routes import header_route_problems
from rollouts.traffic.router import (
    HeaderMatch,
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

PLUGIN_NAME = GATEWAY_API_PLUGIN
MANAGED_ROUTES_ANNOTATION = "rollouts.argoproj.io/managed-header-routes"
MAX_RULES = 16
_DEFAULT_PATH = {"type": "PathPrefix", "value": "/"}


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """One HTTPRoute named in the plugin configuration."""

    name: str
    use_header_routes: bool


@dataclass(frozen=True, slots=True)
class GatewayApiRouter:
    """``trafficRouting.plugins["argoproj-labs/gatewayAPI"]`` for one Rollout."""

    ctx: RolloutContext
    routes: tuple[RouteConfig, ...]
    route_namespace: str

    @classmethod
    def from_config(
        cls, ctx: RolloutContext, routing: RolloutTrafficRouting, steps: Sequence[CanaryStep] = ()
    ) -> GatewayApiRouter:
        """Build from ``trafficRouting.plugins["argoproj-labs/gatewayAPI"]``, the plugin's own (open) schema."""
        config: Mapping[str, Any] = (routing.plugins or {}).get(PLUGIN_NAME) or {}
        where = f"trafficRouting.plugins[{PLUGIN_NAME}]"
        for unsupported in ("grpcRoute", "grpcRoutes", "tcpRoute", "tcpRoutes"):
            if config.get(unsupported):
                raise TrafficConfigError(f"{where}.{unsupported} is not supported; use httpRoute or httpRoutes")
        single = config.get("httpRoute")
        several = config.get("httpRoutes")
        if single and several:
            raise TrafficConfigError(f"{where}: set httpRoute or httpRoutes, not both")
        routes: list[RouteConfig] = []
        if single:
            routes.append(RouteConfig(name=str(single), use_header_routes=True))
        for index, item in enumerate(several or []):
            if not isinstance(item, Mapping) or not item.get("name"):
                raise TrafficConfigError(f"{where}.httpRoutes[{index}] needs a name")
            routes.append(RouteConfig(name=str(item["name"]), use_header_routes=bool(item.get("useHeaderRoutes"))))
        if not routes:
            raise TrafficConfigError(f"{where} needs httpRoute or a non-empty httpRoutes")
        if len({r.name for r in routes}) != len(routes):
            raise TrafficConfigError(f"{where}.httpRoutes names the same HTTPRoute twice")
        problems = header_route_problems(steps, ctx.managed_routes)
        if problems:
            raise TrafficConfigError("; ".join(problems))
        return cls(ctx=ctx, routes=tuple(routes), route_namespace=str(config.get("namespace") or ctx.namespace))

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    def _ref(self, route: RouteConfig) -> ObjectRef:
        return ObjectRef(RouteKind.HTTPROUTE, self.route_namespace, route.name)

    def references(self) -> list[ObjectRef]:
        return [self._ref(route) for route in self.routes]

    def validate(self, live: LiveObjects) -> list[str]:
        problems: list[str] = []
        for route in self.routes:
            ref = self._ref(route)
            obj = live.get(ref)
            if obj is None:
                problems.append(f"HTTPRoute '{ref.namespace}/{ref.name}' not found")
            elif self._base_rule(obj) is None:
                problems.append(
                    f"HTTPRoute '{ref.namespace}/{ref.name}' has no rule with backendRefs to both stableService "
                    f"'{self.ctx.stable_service}' and canaryService '{self.ctx.canary_service}'"
                )
        return problems

    # -- reading ------------------------------------------------------------------------------------------

    def _is_ours(self, backend_ref: Mapping[str, Any], service: str) -> bool:
        return (
            backend_ref.get("name") == service
            and backend_ref.get("kind", "Service") == "Service"
            and backend_ref.get("group", "") == ""
            and (backend_ref.get("namespace") or self.route_namespace) == self.ctx.namespace
        )

    def _splits(self, rule: Mapping[str, Any]) -> bool:
        refs = rule.get("backendRefs") or []
        return any(self._is_ours(r, self.ctx.stable_service) for r in refs) and any(
            self._is_ours(r, self.ctx.canary_service) for r in refs
        )

    def _recorded(self, obj: Mapping[str, Any]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """(all rollouts' recorded header rules, this rollout's ``{route name: signature}``)."""
        raw = (obj.get("metadata", {}).get("annotations") or {}).get(MANAGED_ROUTES_ANNOTATION)
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        everything: dict[str, dict[str, str]] = {}
        if isinstance(parsed, dict):
            for owner, entries in parsed.items():
                if isinstance(entries, dict):
                    everything[str(owner)] = {str(k): str(v) for k, v in entries.items()}
        return everything, everything.get(self.ctx.name, {})

    def _managed_indices(self, obj: Mapping[str, Any]) -> dict[int, str]:
        """``{rule index: signature}`` for the rules this rollout added (by recorded signature)."""
        _, mine = self._recorded(obj)
        signatures = set(mine.values())
        rules = obj.get("spec", {}).get("rules") or []
        return {i: sig for i, rule in enumerate(rules) if (sig := rule_signature(rule)) in signatures}

    def _base_rule(self, obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
        managed = self._managed_indices(obj)
        for index, rule in enumerate(obj.get("spec", {}).get("rules") or []):
            if index not in managed and self._splits(rule):
                return rule  # type: ignore[no-any-return]
        return None

    def in_effect(self, live: LiveObjects) -> InEffect:
        weights: set[int | None] = set()
        routes: set[str] = set()
        total = self.ctx.max_traffic_weight
        for route in self.routes:
            obj = live.get(self._ref(route))
            if obj is None:
                return InEffect(weight=None)
            managed = self._managed_indices(obj)
            for index, rule in enumerate(obj.get("spec", {}).get("rules") or []):
                if index in managed or not self._splits(rule):
                    continue
                for ref in rule.get("backendRefs") or []:
                    if self._is_ours(ref, self.ctx.canary_service):
                        weights.add(int(ref.get("weight", 1)))
                    elif self._is_ours(ref, self.ctx.stable_service):
                        weights.add(total - int(ref.get("weight", 1)))
            _, mine = self._recorded(obj)
            present = set(managed.values())
            routes.update(name for name, sig in mine.items() if sig in present)
        weight = weights.pop() if len(weights) == 1 else None
        return InEffect(weight=weight, header_routes=tuple(sorted(routes)))

    # -- writing ------------------------------------------------------------------------------------------

    def header_rule(self, base_rule: Mapping[str, Any], route: HeaderRoute) -> dict[str, Any]:
        """The rule realising ``route``: the base rule's matches plus the header matches, to the canary only."""
        headers = [_header_match(m) for m in route.matches]
        names = {h["name"].lower() for h in headers}
        matches: list[dict[str, Any]] = []
        for base_match in base_rule.get("matches") or [{"path": dict(_DEFAULT_PATH)}]:
            match: dict[str, Any] = {"path": copy.deepcopy(base_match.get("path") or _DEFAULT_PATH)}
            if base_match.get("method"):
                match["method"] = base_match["method"]
            kept = [h for h in base_match.get("headers") or [] if str(h.get("name", "")).lower() not in names]
            match["headers"] = copy.deepcopy(kept) + headers
            if base_match.get("queryParams"):
                match["queryParams"] = copy.deepcopy(base_match["queryParams"])
            matches.append(match)
        canary_ref = next(r for r in base_rule.get("backendRefs") or [] if self._is_ours(r, self.ctx.canary_service))
        backend: dict[str, Any] = {"group": "", "kind": "Service", "name": self.ctx.canary_service}
        if canary_ref.get("port") is not None:
            backend["port"] = canary_ref["port"]
        return {"matches": matches, "backendRefs": [backend]}

    def route_patch(
        self, obj: Mapping[str, Any], weight: int, header_routes: Sequence[HeaderRoute]
    ) -> list[dict[str, Any]]:
        """The JSON-patch operations (without the resourceVersion test) that bring one HTTPRoute in line:
        the weights, then our header rules (removed before added), then the annotation recording them."""
        self.ctx.check_weight(weight)
        managed = self._managed_indices(obj)
        ops = self._weight_ops(obj, weight, managed)
        desired = self._desired_header_rules(obj, header_routes)
        ops += self._header_rule_ops(obj, managed, desired)
        everything, mine = self._recorded(obj)
        new_mine = {name: sig for name, (sig, _) in desired.items()}
        if new_mine != mine:
            ops += _annotation_ops(obj, everything, self.ctx.name, new_mine)
        return ops

    def _weight_ops(self, obj: Mapping[str, Any], weight: int, managed: Mapping[int, str]) -> list[dict[str, Any]]:
        """Canary ref ``weight``, stable ref ``maxTrafficWeight - weight``, in every rule that splits (not ours)."""
        ops: list[dict[str, Any]] = []
        for i, rule in enumerate(obj.get("spec", {}).get("rules") or []):
            if i in managed or not self._splits(rule):
                continue
            for j, backend_ref in enumerate(rule.get("backendRefs") or []):
                if self._is_ours(backend_ref, self.ctx.canary_service):
                    want = weight
                elif self._is_ours(backend_ref, self.ctx.stable_service):
                    want = self.ctx.max_traffic_weight - weight
                else:
                    continue
                if backend_ref.get("weight", 1) != want:
                    ops.append({"op": "add", "path": f"/spec/rules/{i}/backendRefs/{j}/weight", "value": want})
        return ops

    def _desired_header_rules(
        self, obj: Mapping[str, Any], header_routes: Sequence[HeaderRoute]
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """Route name -> (signature, rule) for each header route this HTTPRoute should carry."""
        if not header_routes:
            return {}
        base = self._base_rule(obj)
        if base is None:
            raise TrafficConfigError(
                f"HTTPRoute '{self._name(obj)}' has no rule with backendRefs to both stableService "
                f"'{self.ctx.stable_service}' and canaryService '{self.ctx.canary_service}'"
            )
        desired: dict[str, tuple[str, dict[str, Any]]] = {}
        for route in header_routes:
            rule = self.header_rule(base, route)
            desired[route.name] = (rule_signature(rule), rule)
        return desired

    def _header_rule_ops(
        self, obj: Mapping[str, Any], managed: Mapping[int, str], desired: Mapping[str, tuple[str, dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Remove our rules no longer wanted (highest index first), append the missing ones (within 16 rules)."""
        rules = list(obj.get("spec", {}).get("rules") or [])
        wanted_signatures = {sig for sig, _ in desired.values()}
        present = set(managed.values())
        ops: list[dict[str, Any]] = []
        for i in sorted(managed, reverse=True):
            if managed[i] not in wanted_signatures:
                ops.append({"op": "remove", "path": f"/spec/rules/{i}"})
        remaining = len(rules) - sum(1 for i in managed if managed[i] not in wanted_signatures)
        for name, (sig, rule) in desired.items():
            if sig in present:
                continue
            present.add(sig)  # two routes with identical matches share one rule
            if remaining >= MAX_RULES:
                raise TrafficConfigError(
                    f"HTTPRoute '{self._name(obj)}' cannot take header route '{name}': it would exceed the Gateway "
                    f"API limit of {MAX_RULES} rules"
                )
            ops.append({"op": "add", "path": "/spec/rules/-", "value": rule})
            remaining += 1
        return ops

    def _name(self, obj: Mapping[str, Any]) -> str:
        return f"{self.route_namespace}/{obj.get('metadata', {}).get('name')}"

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]:
        del mirror_routes, pod_hashes  # HTTPRoutes name Services, and mirror routes are refused by registry.routers_for
        changes: list[TrafficChange] = []
        for route in self.routes:
            ref = self._ref(route)
            obj = live.get(ref)
            if obj is None:
                raise TrafficConfigError(f"HTTPRoute '{ref.namespace}/{ref.name}' not found")
            routes_here = header_routes if route.use_header_routes else ()
            ops = self.route_patch(obj, weight, routes_here)
            if not ops:
                continue
            version = obj.get("metadata", {}).get("resourceVersion")
            guard = [{"op": "test", "path": "/metadata/resourceVersion", "value": version}] if version else []
            summary = f"set HTTPRoute '{ref.name}' canary weight {weight}"
            if routes_here:
                summary += " with header routes " + ", ".join(r.name for r in routes_here)
            changes.append(JsonPatch(ref, tuple(guard + ops), summary=summary))
        return changes


def _header_match(match: HeaderMatch) -> dict[str, str]:
    if match.kind is MatchKind.EXACT:
        return {"name": match.name, "type": "Exact", "value": match.value}
    return {"name": match.name, "type": "RegularExpression", "value": match.as_regex()}


def rule_signature(rule: Mapping[str, Any]) -> str:
    """A stable hash of a rule's matches and backends, blind to the defaults the API server fills in."""

    def pairs(items: Any) -> list[dict[str, Any]]:
        normalised = [
            {"name": str(i.get("name", "")).lower(), "type": i.get("type", "Exact"), "value": i.get("value")}
            for i in items or []
        ]
        return sorted(normalised, key=canonical_json)

    matches = [
        {
            "path": m.get("path") or _DEFAULT_PATH,
            "method": m.get("method"),
            "headers": pairs(m.get("headers")),
            "queryParams": pairs(m.get("queryParams")),
        }
        for m in rule.get("matches") or [{"path": _DEFAULT_PATH}]
    ]
    backends = [
        {"name": b.get("name"), "port": b.get("port"), "kind": b.get("kind", "Service"), "group": b.get("group", "")}
        for b in rule.get("backendRefs") or []
    ]
    return stable_hash({"matches": matches, "backendRefs": backends, "filters": rule.get("filters") or []}, 16)


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _annotation_ops(
    obj: Mapping[str, Any], everything: Mapping[str, Mapping[str, str]], owner: str, mine: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Ops that record ``mine`` as ``owner``'s managed header rules, keeping other rollouts' entries."""
    updated = {k: dict(v) for k, v in everything.items() if k != owner}
    if mine:
        updated[owner] = dict(mine)
    annotations = obj.get("metadata", {}).get("annotations")
    path = f"/metadata/annotations/{_pointer(MANAGED_ROUTES_ANNOTATION)}"
    if not updated:
        if annotations and MANAGED_ROUTES_ANNOTATION in annotations:
            return [{"op": "remove", "path": path}]
        return []
    value = canonical_json(updated)
    if annotations is None:
        return [{"op": "add", "path": "/metadata/annotations", "value": {MANAGED_ROUTES_ANNOTATION: value}}]
    return [{"op": "add", "path": path, "value": value}]
