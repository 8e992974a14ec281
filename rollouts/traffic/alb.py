"""AWS Load Balancer Controller traffic router: weights in the ``actions.<service>`` annotation of the user's Ingress.

The AWS Load Balancer Controller reads a path whose backend is ``{service: {name: X, port: {name: use-annotation}}}``
as "do what annotation ``alb.ingress.kubernetes.io/actions.X`` says". Argo Rollouts writes a *forward* action
there that splits the path between the canary and stable target groups, and no AWS API is needed for that: the
routing is entirely in the Ingress, which the user (or GitOps) owns. So, like Argo, we only patch it:

* ``<prefix>/actions.<rootService or stableService>``: ``{"Type":"forward","ForwardConfig":{"TargetGroups":
  [{"ServiceName":<canary>,"ServicePort":"<servicePort>","Weight":w},{"ServiceName":<stable>,...,"Weight":100-w}]}}``
  plus ``"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":d}`` when ``stickinessConfig.enabled``.
  The value is Go's ``encoding/json`` text (compact, struct field order, ``<>&`` escaped) byte for byte, because
  Argo's e2e tests and users' tooling compare the string.
* header routes (setHeaderRoute, ``exact`` values only, as Argo): ``<prefix>/actions.<route>`` forwarding 100 to
  the canary, ``<prefix>/conditions.<route>`` ``[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":H,
  "values":[v, ...]}}]`` (two exact matches of one header merge into one condition's values), and in every rule
  a path ``/*`` (ImplementationSpecific) to the ``use-annotation`` backend named after the route, inserted first;
  paths are ordered by ``managedRoutes`` (the ALB evaluates paths in order). Removing a route removes all three.
* ``rollouts.argoproj.io/managed-alb-annotations``: ``{"<rollout>": [keys we manage]}``, as Argo keeps it, so
  several Rollouts can share one Ingress and each knows its own keys.

Everything goes in one JSON patch per Ingress that starts with a ``test`` of ``metadata.resourceVersion``: the
user's other annotations and paths are untouched, and a concurrent edit makes the patch fail (re-read, re-plan)
instead of being overwritten. ``in_effect`` reads the weight back from the annotation and reports it only when
the annotation is exactly what we would write for it, so a hand edit (a weight, the stickiness, a port) is
corrected at the next reconcile.

Target-group verification (Argo's ``--aws-verify-target-group``, off by default as in Argo) reads the weights back
from the AWS ELBv2 API before a setWeight step completes. This controller has no AWS client, so when the flag is
given it cannot keep that promise: rather than advance unverified, every ALB Rollout stops with InvalidSpec
naming the flag (``VERIFY_UNAVAILABLE``), and the controller keeps serving every other Rollout.

Worked example (Argo's ``TestSetInitialDesiredWeight``, rollout/trafficrouting/alb/alb_test.go): Ingress ``ingress``
with a ``stable-svc`` use-annotation path and no annotations, ``servicePort: 443``, weight 10 ->
``actions.stable-svc = {"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc",
"ServicePort":"443","Weight":10},{"ServiceName":"stable-svc","ServicePort":"443","Weight":90}]}}`` and
``managed-alb-annotations = {"rollout":["alb.ingress.kubernetes.io/actions.stable-svc"]}``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.rollout import AlbTrafficRouting, CanaryStep, RolloutTrafficRouting
from rollouts.traffic.header_routes import header_route_problems
from rollouts.traffic.router import (
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

DEFAULT_ANNOTATION_PREFIX = "alb.ingress.kubernetes.io"
MANAGED_ANNOTATIONS = "rollouts.argoproj.io/managed-alb-annotations"
USE_ANNOTATION = "use-annotation"
MAX_STICKINESS_SECONDS = 604800
STICKINESS_ERROR = "TargetGroupStickinessConfig's duration must be between 1 and 604800 seconds (7 days)!"
ALB_EXACT_ONLY = "SetHeaderRoute match value invalid. ALB supports 'exact' value only"
VERIFY_UNAVAILABLE = (
    "the controller runs with --aws-verify-target-group, but cannot verify ALB target-group weights: it has no "
    "AWS ELBv2 client; run it without --aws-verify-target-group (Argo's default) to route by the Ingress alone"
)


def go_json(value: Any) -> str:
    """``value`` as Go's ``json.Marshal`` writes it: compact, UTF-8, with ``<``, ``>``, ``&``, U+2028/9 escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _backend_service(path: Mapping[str, Any]) -> str | None:
    service = (path.get("backend") or {}).get("service") or {}
    name = service.get("name")
    return str(name) if name else None


def has_rule_with_service(ingress: Mapping[str, Any], service: str) -> bool:
    """Whether any rule of ``ingress`` has a path whose backend is ``service`` (Argo's ``HasRuleWithService``)."""
    for rule in (ingress.get("spec") or {}).get("rules") or []:
        for path in (rule.get("http") or {}).get("paths") or []:
            if _backend_service(path) == service:
                return True
    return False


def _annotations(ingress: Mapping[str, Any]) -> dict[str, str]:
    raw = (ingress.get("metadata") or {}).get("annotations") or {}
    return {str(k): str(v) for k, v in raw.items()}


def managed_annotations(ingress: Mapping[str, Any]) -> dict[str, list[str]]:
    """The ``managed-alb-annotations`` map; ValueError when it is not a JSON object of string lists."""
    raw = _annotations(ingress).get(MANAGED_ANNOTATIONS, "")
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"annotation {MANAGED_ANNOTATIONS} is not valid JSON: {err}") from err
    if not isinstance(parsed, dict) or not all(
        isinstance(v, list) and all(isinstance(k, str) for k in v) for v in parsed.values()
    ):
        raise ValueError(f"annotation {MANAGED_ANNOTATIONS} must map Rollout names to lists of annotation keys")
    return {str(k): list(v) for k, v in parsed.items()}


@dataclass(frozen=True, slots=True)
class AlbRouter:
    """``strategy.canary.trafficRouting.alb`` for one Rollout."""

    ctx: RolloutContext
    ingresses: tuple[str, ...]
    service_port: int
    action_service: str
    annotation_prefix: str = DEFAULT_ANNOTATION_PREFIX
    stickiness_seconds: int | None = None

    @classmethod
    def from_config(
        cls, ctx: RolloutContext, routing: RolloutTrafficRouting, steps: Sequence[CanaryStep] = ()
    ) -> AlbRouter:
        """Build from ``trafficRouting.alb``; checks what can be checked without the Ingresses."""
        config = routing.alb or AlbTrafficRouting()
        problems = list(alb_config_problems(config))
        names = config.names()
        if len(set(names)) != len(names):
            problems.append(f"trafficRouting.alb.ingresses has duplicates: {names}")
        problems += header_route_problems(steps, ctx.managed_routes)
        if problems:
            raise TrafficConfigError("; ".join(problems))
        sticky = config.stickiness_config
        return cls(
            ctx=ctx,
            ingresses=tuple(names),
            service_port=config.service_port,
            action_service=config.root_service or ctx.stable_service,
            annotation_prefix=config.annotation_prefix or DEFAULT_ANNOTATION_PREFIX,
            stickiness_seconds=sticky.duration_seconds if sticky is not None and sticky.enabled else None,
        )

    @property
    def name(self) -> str:
        return "alb"

    # -- keys and values ------------------------------------------------------------------------------

    def action_key(self, service: str) -> str:
        return f"{self.annotation_prefix}/actions.{service}"

    def condition_key(self, route: str) -> str:
        return f"{self.annotation_prefix}/conditions.{route}"

    def forward_action(self, targets: Sequence[tuple[str, int]]) -> str:
        """The forward action splitting traffic between ``(service, weight)`` targets, as Go marshals it."""
        port = str(self.service_port)
        groups = [{"ServiceName": service, "ServicePort": port, "Weight": weight} for service, weight in targets]
        forward: dict[str, Any] = {"TargetGroups": groups}
        if self.stickiness_seconds is not None:
            forward["TargetGroupStickinessConfig"] = {"Enabled": True, "DurationSeconds": self.stickiness_seconds}
        return go_json({"Type": "forward", "ForwardConfig": forward})

    @property
    def services(self) -> tuple[str, str]:
        """(stable, canary) target groups: the ping/pong Services when pingPong is set (Argo's ALB prefers them
        over stableService/canaryService), else stableService and canaryService."""
        return self.ctx.ping_pong or (self.ctx.stable_service, self.ctx.canary_service)

    def weight_action(self, weight: int) -> str:
        """``w`` to the canary, ``100 - w`` to the stable (ALB weights are 0..999; Argo uses percentages)."""
        stable, canary = self.services
        return self.forward_action([(canary, weight), (stable, 100 - weight)])

    @staticmethod
    def conditions(route: HeaderRoute) -> str:
        """The http-header conditions of a header route; exact values of one header share one condition."""
        merged: list[dict[str, Any]] = []
        for match in route.matches:
            if match.kind is not MatchKind.EXACT:
                raise TrafficConfigError(f"setHeaderRoute '{route.name}': {ALB_EXACT_ONLY}")
            existing = next((c for c in merged if c["httpHeaderConfig"]["httpHeaderName"] == match.name), None)
            if existing is not None:
                existing["httpHeaderConfig"]["values"].append(match.value)
            else:
                merged.append({"field": "http-header",
                               "httpHeaderConfig": {"httpHeaderName": match.name, "values": [match.value]}})
        return go_json(merged)

    # -- the protocol ---------------------------------------------------------------------------------

    def _ref(self, name: str) -> ObjectRef:
        return ObjectRef(RouteKind.INGRESS, self.ctx.namespace, name)

    def references(self) -> list[ObjectRef]:
        return [self._ref(name) for name in self.ingresses]

    def validate(self, live: LiveObjects) -> list[str]:
        problems: list[str] = [f"alb: {VERIFY_UNAVAILABLE}"] if self.ctx.options.verify_alb_target_groups else []
        field = "alb.ingresses" if len(self.ingresses) > 1 else "alb.ingress"
        for name in self.ingresses:
            ingress = live.get(self._ref(name))
            if ingress is None:
                problems.append(f'{field}: ingress.networking.k8s.io "{name}" not found')
                continue
            if not has_rule_with_service(ingress, self.action_service):
                problems.append(f"{field}: ingress `{name}` has no rules using service {self.action_service} backend")
            try:
                managed_annotations(ingress)
            except ValueError as err:
                problems.append(f"{field}: ingress `{name}`: {err}")
        return problems

    def in_effect(self, live: LiveObjects) -> InEffect:
        weights: set[int | None] = set()
        routes: set[str] = set()
        for name in self.ingresses:
            ingress = live.get(self._ref(name))
            if ingress is None:
                return InEffect(weight=None)
            weight, present, partial = self._read(ingress)
            weights.add(None if partial else weight)
            routes.update(present)
        weight = weights.pop() if len(weights) == 1 else None
        return InEffect(weight=weight, header_routes=tuple(sorted(routes)))

    def _read(self, ingress: Mapping[str, Any]) -> tuple[int | None, set[str], bool]:
        """(canary weight if the action is exactly ours, header routes present, some route only half present)."""
        annotations = _annotations(ingress)
        weight = _canary_weight(annotations.get(self.action_key(self.action_service)), self.services[1])
        if weight is not None and annotations[self.action_key(self.action_service)] != self.weight_action(weight):
            weight = None
        present: set[str] = set()
        partial = False
        for route in self.ctx.managed_routes:
            parts = (self.action_key(route) in annotations, self.condition_key(route) in annotations,
                     has_rule_with_service(ingress, route))
            if all(parts):
                present.add(route)
            elif any(parts):
                partial = True
        return weight, present, partial

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]:
        del mirror_routes, pod_hashes  # ALB actions name Services; mirror routes are refused by registry.routers_for
        self.ctx.check_weight(weight)
        changes: list[TrafficChange] = []
        for name in self.ingresses:
            ref = self._ref(name)
            ingress = live.get(ref)
            if ingress is None:
                raise TrafficConfigError(f'ingress.networking.k8s.io "{name}" not found')
            if not has_rule_with_service(ingress, self.action_service):
                raise TrafficConfigError(f"ingress `{name}` has no rules using service {self.action_service} backend")
            annotations, rules = self.desired_ingress(ingress, weight, header_routes)
            ops = _patch_ops(ingress, annotations, rules)
            if ops:
                summary = f"set ALB Ingress '{name}' canary weight {weight}"
                if header_routes:
                    summary += " with header routes " + ", ".join(f"'{r.name}'" for r in header_routes)
                version = str((ingress.get("metadata") or {}).get("resourceVersion") or "")
                test = {"op": "test", "path": "/metadata/resourceVersion", "value": version}
                changes.append(JsonPatch(ref, (test, *ops), summary=summary))
        return changes

    def desired_ingress(
        self, ingress: Mapping[str, Any], weight: int, header_routes: Sequence[HeaderRoute]
    ) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """The annotations and ``spec.rules`` the Ingress must have for ``weight`` and ``header_routes``."""
        annotations = _annotations(ingress)
        try:
            managed = managed_annotations(ingress)
        except ValueError as err:
            raise TrafficConfigError(f"ingress `{ingress['metadata']['name']}`: {err}") from err
        keys = list(managed.get(self.ctx.name, []))
        action = self.action_key(self.action_service)
        annotations[action] = self.weight_action(weight)
        added = [action]
        removed: list[str] = []
        wanted = {route.name: route for route in header_routes}
        rules = copy.deepcopy(list((ingress.get("spec") or {}).get("rules") or []))
        for route in header_routes:
            annotations[self.action_key(route.name)] = self.forward_action([(self.services[1], 100)])
            annotations[self.condition_key(route.name)] = self.conditions(route)
            added += [self.action_key(route.name), self.condition_key(route.name)]
            _insert_route_path(rules, route.name)
        for route_name in self.ctx.managed_routes:
            if route_name not in wanted:
                for key in (self.action_key(route_name), self.condition_key(route_name)):
                    annotations.pop(key, None)
                    removed.append(key)
                _remove_route_path(rules, route_name)
        keys = [key for key in keys if key not in removed]
        keys += [key for key in added if key not in keys]
        managed[self.ctx.name] = keys
        annotations[MANAGED_ANNOTATIONS] = go_json(dict(sorted(managed.items())))
        _sort_paths(rules, self.ctx.managed_routes)
        return annotations, rules


def alb_config_problems(config: AlbTrafficRouting) -> list[str]:
    """What is wrong with ``trafficRouting.alb`` on its own, in Argo's words."""
    problems: list[str] = []
    if config.ingress and config.ingresses is not None:
        problems.append("trafficRouting.alb: Either Ingress or Ingresses must be configured. Both are configured.")
    elif not config.names():
        problems.append("trafficRouting.alb: Either Ingress or Ingresses must be configured. Neither are configured.")
    sticky = config.stickiness_config
    if sticky is not None and sticky.enabled and not 1 <= sticky.duration_seconds <= MAX_STICKINESS_SECONDS:
        problems.append(f"trafficRouting.alb.stickinessConfig: {STICKINESS_ERROR}")
    return problems


def _canary_weight(action: str | None, canary_service: str) -> int | None:
    if not action:
        return None
    try:
        parsed = json.loads(action)
        groups = parsed["ForwardConfig"]["TargetGroups"]
        weights = [g.get("Weight") for g in groups if g.get("ServiceName") == canary_service]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None
    return weights[0] if len(weights) == 1 and isinstance(weights[0], int) else None


def _route_path(route: str) -> dict[str, Any]:
    return {"path": "/*", "pathType": "ImplementationSpecific",
            "backend": {"service": {"name": route, "port": {"name": USE_ANNOTATION}}}}


def _insert_route_path(rules: list[dict[str, Any]], route: str) -> None:
    """Put the route's use-annotation path first in every rule, unless the Ingress already routes to it."""
    if any(_backend_service(p) == route for rule in rules for p in (rule.get("http") or {}).get("paths") or []):
        return
    for rule in rules:
        http = rule.get("http")
        if isinstance(http, dict):
            http["paths"] = [_route_path(route), *(http.get("paths") or [])]


def _remove_route_path(rules: list[dict[str, Any]], route: str) -> None:
    for rule in rules:
        paths = (rule.get("http") or {}).get("paths") or []
        index = next((i for i, p in enumerate(paths) if _backend_service(p) == route), None)
        if index is not None:
            rule["http"]["paths"] = paths[:index] + paths[index + 1:]


def _sort_paths(rules: list[dict[str, Any]], managed_routes: Sequence[str]) -> None:
    """Managed route paths first, in ``managedRoutes`` order; the user's paths keep their order after them."""
    rank = {name: index for index, name in enumerate(managed_routes)}
    for rule in rules:
        http = rule.get("http")
        if isinstance(http, dict) and http.get("paths"):
            http["paths"] = sorted(http["paths"], key=lambda p: rank.get(_backend_service(p) or "", len(rank)))


def _patch_ops(ingress: Mapping[str, Any], annotations: Mapping[str, str],
               rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON-patch ops turning the live annotations and rule paths into the desired ones ([] when equal)."""
    live_annotations = _annotations(ingress)
    ops: list[dict[str, Any]] = []
    if not (ingress.get("metadata") or {}).get("annotations"):
        if annotations:
            ops.append({"op": "add", "path": "/metadata/annotations", "value": dict(annotations)})
    else:
        for key in sorted(set(live_annotations) | set(annotations)):
            if key not in annotations:
                ops.append({"op": "remove", "path": f"/metadata/annotations/{_pointer(key)}"})
            elif live_annotations.get(key) != annotations[key]:
                ops.append({"op": "add", "path": f"/metadata/annotations/{_pointer(key)}", "value": annotations[key]})
    live_rules = (ingress.get("spec") or {}).get("rules") or []
    for index, (before, after) in enumerate(zip(live_rules, rules, strict=True)):
        paths = (after.get("http") or {}).get("paths")
        if paths is not None and (before.get("http") or {}).get("paths") != paths:
            ops.append({"op": "replace", "path": f"/spec/rules/{index}/http/paths", "value": paths})
    return ops
