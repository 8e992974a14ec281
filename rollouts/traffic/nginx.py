"""NGINX Ingress traffic router: a canary Ingress per stable Ingress, weighted by annotations.

ingress-nginx splits traffic with a second Ingress for the same host/path carrying
``<prefix>/canary: "true"`` and ``<prefix>/canary-weight: "<w>"``. Like Argo Rollouts, we own one canary Ingress
per stable Ingress, named ``<rollout>-<stableIngress>-canary`` (the ``<rollout>-<stableIngress>`` part is cut to
246 characters so the whole name fits Kubernetes' 253-character limit), controlled by the Rollout so the
garbage collector removes it with the Rollout. It is rebuilt from the live stable Ingress on every call, so
edits to the stable Ingress are followed:

* only the paths whose backend is ``stableService`` are copied (rewired to ``canaryService``), grouped in
  their rules with host; rules with no such path are left out. (Argo copies the other paths of a matching
  rule unchanged; a canary path to the same other service routes identically, so we leave them out.)
* TLS, ``spec.ingressClassName`` and the ``kubernetes.io/ingress.class`` annotation are copied: ingress-nginx
  ignores a canary Ingress of another class. No other stable annotation is copied (nginx reads them from
  the stable Ingress).
* annotations: ``additionalIngressAnnotations`` (keys get ``<prefix>/`` unless they have it), then
  ``canaryIngressAnnotations`` verbatim, then ``canary``, ``canary-weight`` and, when ``maxTrafficWeight`` is
  set, ``canary-weight-total`` (these three always win).

After promotion or abort the weight goes back to 0 and the canary Ingress is kept (as Argo does), so the
next update starts from an existing object; the garbage collector deletes it with the Rollout.

Header routes (setHeaderRoute): Argo's NGINX router ignores them. ingress-nginx applies at most one canary
Ingress per host/path, so a second "header" Ingress would be ignored by the data plane; instead the route is
expressed on the same canary Ingress with ``canary-by-header`` plus ``canary-by-header-value`` (exact) or
``canary-by-header-pattern`` (prefix/regex), which nginx evaluates before the weight. That allows one header
route with one match at a time; anything more is a TrafficConfigError. The route's name is recorded in the
``rollouts.argoproj.io/managed-header-route`` annotation so it can be read back.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.owners import is_controlled_by
from rollouts.api.rollout import (
    DEFAULT_NGINX_ANNOTATION_PREFIX,
    CanaryStep,
    NginxTrafficRouting,
    RolloutTrafficRouting,
)
from rollouts.traffic.header_routes import header_route_problems
from rollouts.traffic.router import (
    ApplyObject,
    HeaderRoute,
    InEffect,
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

DEFAULT_ANNOTATION_PREFIX = DEFAULT_NGINX_ANNOTATION_PREFIX
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
HEADER_ROUTE_ANNOTATION = "rollouts.argoproj.io/managed-header-route"
CANARY_SUFFIX = "-canary"
MAX_NAME_LENGTH = 253


def canary_ingress_name(rollout: str, stable_ingress: str) -> str:
    """``<rollout>-<stableIngress>-canary``, with the prefix cut so the name is at most 253 characters."""
    prefix = f"{rollout}-{stable_ingress}"[: MAX_NAME_LENGTH - len(CANARY_SUFFIX)]
    return prefix + CANARY_SUFFIX


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


@dataclass(frozen=True, slots=True)
class NginxRouter:
    """``strategy.canary.trafficRouting.nginx`` for one Rollout."""

    ctx: RolloutContext
    stable_ingresses: tuple[str, ...]
    annotation_prefix: str = DEFAULT_ANNOTATION_PREFIX
    additional_annotations: Mapping[str, str] | None = None
    canary_annotations: Mapping[str, str] | None = None

    @classmethod
    def from_config(
        cls, ctx: RolloutContext, routing: RolloutTrafficRouting, steps: Sequence[CanaryStep] = ()
    ) -> NginxRouter:
        """Build from ``trafficRouting.nginx``; checks what can be checked without live objects."""
        config = routing.nginx or NginxTrafficRouting()
        single, several = config.stable_ingress, config.stable_ingresses
        if single and several:
            raise TrafficConfigError("trafficRouting.nginx: set stableIngress or stableIngresses, not both")
        names = [single] if single else list(several or [])
        if not names or not all(names):
            raise TrafficConfigError("trafficRouting.nginx needs stableIngress or a non-empty stableIngresses")
        if len(set(names)) != len(names):
            raise TrafficConfigError(f"trafficRouting.nginx.stableIngresses has duplicates: {names}")
        problems = header_route_problems(steps, ctx.managed_routes)
        for index, step in enumerate(steps):
            body = step.set_header_route
            if body is not None and len(body.match or ()) > 1:
                problems.append(
                    f"steps[{index}]: setHeaderRoute '{body.name}' has {len(body.match or ())} matches; "
                    "the NGINX router supports one header match per route"
                )
        if problems:
            raise TrafficConfigError("; ".join(problems))
        return cls(
            ctx=ctx,
            stable_ingresses=tuple(names),
            annotation_prefix=config.annotation_prefix or DEFAULT_ANNOTATION_PREFIX,
            additional_annotations=dict(config.additional_ingress_annotations or {}),
            canary_annotations=dict(config.canary_ingress_annotations or {}),
        )

    @property
    def name(self) -> str:
        return "nginx"

    def _stable_ref(self, stable: str) -> ObjectRef:
        return ObjectRef(RouteKind.INGRESS, self.ctx.namespace, stable)

    def _canary_ref(self, stable: str) -> ObjectRef:
        return ObjectRef(RouteKind.INGRESS, self.ctx.namespace, canary_ingress_name(self.ctx.name, stable))

    def references(self) -> list[ObjectRef]:
        refs: list[ObjectRef] = []
        for stable in self.stable_ingresses:
            refs += [self._stable_ref(stable), self._canary_ref(stable)]
        return refs

    def validate(self, live: LiveObjects) -> list[str]:
        problems: list[str] = []
        for stable in self.stable_ingresses:
            stable_obj = live.get(self._stable_ref(stable))
            if stable_obj is None:
                problems.append(f"stable Ingress '{stable}' not found in namespace '{self.ctx.namespace}'")
                continue
            if not _canary_rules(stable_obj, self.ctx.stable_service, self.ctx.canary_service):
                problems.append(
                    f"stable Ingress '{stable}' has no rules using service '{self.ctx.stable_service}' backend"
                )
            canary_ref = self._canary_ref(stable)
            canary_obj = live.get(canary_ref)
            if canary_obj is not None and not is_controlled_by(canary_obj, self.ctx.uid):
                problems.append(
                    f"canary Ingress '{canary_ref.name}' already exists and is not controlled by "
                    f"Rollout '{self.ctx.name}'"
                )
        return problems

    def in_effect(self, live: LiveObjects) -> InEffect:
        weights: set[int | None] = set()
        routes: set[str] = set()
        weight_key = f"{self.annotation_prefix}/canary-weight"
        for stable in self.stable_ingresses:
            if self._stable_ref(stable) not in live:
                return InEffect(weight=None)
            canary_obj = live.get(self._canary_ref(stable))
            if canary_obj is None:
                weights.add(0)
                continue
            annotations = _str_map(canary_obj.get("metadata", {}).get("annotations"))
            raw = annotations.get(weight_key, "0")
            weights.add(int(raw) if raw.isdigit() else None)
            if HEADER_ROUTE_ANNOTATION in annotations:
                routes.add(annotations[HEADER_ROUTE_ANNOTATION])
        weight = weights.pop() if len(weights) == 1 else None
        return InEffect(weight=weight, header_routes=tuple(sorted(routes)))

    def canary_ingress(
        self, stable_obj: Mapping[str, Any], weight: int, header_route: HeaderRoute | None = None
    ) -> dict[str, Any]:
        """The complete canary Ingress for one stable Ingress at ``weight`` (the server-side-apply body)."""
        self.ctx.check_weight(weight)
        stable_name = str(stable_obj["metadata"]["name"])
        rules = _canary_rules(stable_obj, self.ctx.stable_service, self.ctx.canary_service)
        if not rules:
            raise TrafficConfigError(
                f"stable Ingress '{stable_name}' has no rules using service '{self.ctx.stable_service}' backend"
            )
        prefix = self.annotation_prefix
        stable_annotations = _str_map(stable_obj.get("metadata", {}).get("annotations"))
        annotations: dict[str, str] = {}
        if INGRESS_CLASS_ANNOTATION in stable_annotations:
            annotations[INGRESS_CLASS_ANNOTATION] = stable_annotations[INGRESS_CLASS_ANNOTATION]
        for key, value in (self.additional_annotations or {}).items():
            annotations[key if key.startswith(prefix) else f"{prefix}/{key}"] = value
        annotations.update(self.canary_annotations or {})
        if header_route is not None:
            annotations = {k: v for k, v in annotations.items() if not k.startswith(f"{prefix}/canary-by-header")}
            annotations.update(self._header_annotations(header_route))
        annotations[f"{prefix}/canary"] = "true"
        annotations[f"{prefix}/canary-weight"] = str(weight)
        if self.ctx.max_traffic_weight_set:
            annotations[f"{prefix}/canary-weight-total"] = str(self.ctx.max_traffic_weight)
        spec: dict[str, Any] = {}
        stable_spec = stable_obj.get("spec", {})
        if stable_spec.get("ingressClassName"):
            spec["ingressClassName"] = stable_spec["ingressClassName"]
        spec["rules"] = rules
        if stable_spec.get("tls"):
            spec["tls"] = copy.deepcopy(stable_spec["tls"])
        return {
            "apiVersion": RouteKind.INGRESS.api_version,
            "kind": "Ingress",
            "metadata": {
                "name": canary_ingress_name(self.ctx.name, stable_name),
                "namespace": self.ctx.namespace,
                "annotations": annotations,
                "ownerReferences": [self.ctx.owner_reference],
            },
            "spec": spec,
        }

    def _header_annotations(self, route: HeaderRoute) -> dict[str, str]:
        if len(route.matches) != 1:
            raise TrafficConfigError(
                f"setHeaderRoute '{route.name}' has {len(route.matches)} matches; "
                "the NGINX router supports one header match per route"
            )
        match = route.matches[0]
        prefix = self.annotation_prefix
        result = {f"{prefix}/canary-by-header": match.name, HEADER_ROUTE_ANNOTATION: route.name}
        if match.kind is MatchKind.EXACT:
            result[f"{prefix}/canary-by-header-value"] = match.value
        else:
            result[f"{prefix}/canary-by-header-pattern"] = match.as_regex()
        return result

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]:
        del mirror_routes, pod_hashes  # NGINX routes to Services, and cannot mirror (refused by registry.routers_for)
        self.ctx.check_weight(weight)
        if len(header_routes) > 1:
            names = ", ".join(r.name for r in header_routes)
            raise TrafficConfigError(
                f"the NGINX router can express one header route at a time; {len(header_routes)} are in effect ({names})"
            )
        header_route = header_routes[0] if header_routes else None
        changes: list[TrafficChange] = []
        for stable in self.stable_ingresses:
            stable_ref = self._stable_ref(stable)
            stable_obj = live.get(stable_ref)
            if stable_obj is None:
                raise TrafficConfigError(f"stable Ingress '{stable}' not found in namespace '{self.ctx.namespace}'")
            desired = self.canary_ingress(stable_obj, weight, header_route)
            current = live.get(self._canary_ref(stable))
            if current is not None and _in_sync(desired, current, self.ctx.uid):
                continue
            summary = f"set canary Ingress '{desired['metadata']['name']}' weight {weight}"
            if header_route is not None:
                summary += f" with header route '{header_route.name}'"
            changes.append(ApplyObject(RouteKind.INGRESS, desired, summary=summary))
        return changes


def _canary_rules(stable_obj: Mapping[str, Any], stable_service: str, canary_service: str) -> list[dict[str, Any]]:
    """The stable Ingress's rules reduced to their stableService paths, rewired to canaryService."""
    rules: list[dict[str, Any]] = []
    for rule in stable_obj.get("spec", {}).get("rules") or []:
        paths = (rule.get("http") or {}).get("paths") or []
        kept: list[dict[str, Any]] = []
        for path in paths:
            service = (path.get("backend") or {}).get("service") or {}
            if service.get("name") != stable_service:
                continue
            rewired = copy.deepcopy(dict(path))
            rewired["backend"]["service"]["name"] = canary_service
            kept.append(rewired)
        if kept:
            canary_rule: dict[str, Any] = {k: copy.deepcopy(v) for k, v in rule.items() if k != "http"}
            canary_rule["http"] = {"paths": kept}
            rules.append(canary_rule)
    return rules


def _in_sync(desired: Mapping[str, Any], current: Mapping[str, Any], uid: str) -> bool:
    """Whether the live canary Ingress already has exactly the annotations and spec we would apply."""
    meta = current.get("metadata", {})
    if not is_controlled_by(current, uid):
        return False
    if _str_map(meta.get("annotations")) != desired["metadata"]["annotations"]:
        return False
    live_spec = current.get("spec", {})
    return all(live_spec.get(key) == desired["spec"].get(key) for key in ("ingressClassName", "rules", "tls"))
