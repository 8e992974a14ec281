"""Istio traffic router: weights in the user's VirtualServices, and DestinationRule subsets that follow the pods.

Configured as in Argo Rollouts::

    trafficRouting:
      istio:
        virtualService: {name: shop, routes: [primary]}     # or virtualServices: [{name: a.other-ns, ...}, ...]
          # tlsRoutes: [{port: 443, sniHosts: [shop.example.com]}], tcpRoutes: [{port: 8080}]
        destinationRule: {name: shop, canarySubsetName: canary, stableSubsetName: stable}   # subset-level
      managedRoutes: [{name: header}, {name: mirror}]          # setHeaderRoute / setMirrorRoute names

Host-level splitting weights destinations whose host is canaryService / stableService. Subset-level splitting
weights destinations by subset, and keeps the DestinationRule's canary and stable subsets'
``rollouts-pod-template-hash`` labels on the canary and stable ReplicaSets' hashes (then no Service is needed).
What a route looks like at a weight, and the managed header and mirror routes: ``istio_routes.py``.

Both objects belong to the user (or to GitOps), so they are only patched, with a JSON patch guarded by a
``test`` of ``metadata.resourceVersion`` (Argo does a full Update, which the API server guards the same way):
the route lists that differ (``/spec/http``, ``/spec/tls``, ``/spec/tcp``) and the DestinationRule's
``/spec/subsets`` plus its ``argo-rollouts.argoproj.io/managed-by-rollouts`` annotation. Nothing else in them is
touched. Subsets other than canary and stable are kept (Argo drops subsets it does not know; that would take
away a user's own subset, so this router does not).

Everything is read back from the objects: the weight in effect is the canary destination's weight when every
weighted route agrees with it, the header and mirror routes in effect are the managed routes present (in
managedRoutes order on top), the hashes are the subsets' labels. A hand edit of any of them is corrected.

Example: ``virtualService {name: shop, routes: [primary]}``, route ``primary`` at stable 100 / canary 0, weight 30
-> ``[JsonPatch(shop, [test resourceVersion, replace /spec/http [{name: primary, route: [stable 70, canary 30]}]])]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.api.rollout import CanaryStep, IstioVirtualService, Rollout, RolloutTrafficRouting
from rollouts.traffic.header_routes import header_route_problems, mirror_route_problems
from rollouts.traffic.istio_routes import (
    SPEC_HTTP_WITHOUT_ROUTES,
    SPEC_TCP_WITHOUT_ROUTES,
    SPEC_TLS_WITHOUT_ROUTES,
    Route,
    RouteError,
    RouteSelection,
    Targets,
    TlsRouteRef,
    canary_port,
    canary_weight,
    destination_problem,
    header_route,
    http_indexes,
    mirror_route,
    tcp_indexes,
    tls_indexes,
    weighted,
)
from rollouts.traffic.router import (
    HeaderRoute,
    InEffect,
    JsonPatch,
    LiveObjects,
    MirrorRoute,
    ObjectRef,
    PodHashes,
    RolloutContext,
    RouteKind,
    TrafficChange,
    TrafficConfigError,
)

NAME = "istio"
GROUP = "networking.istio.io"
# The versions --istio-api-version may name: those Istio serves its kinds at (and RouteKind has members for).
API_VERSIONS = tuple(k.api_version.removeprefix(GROUP + "/") for k in RouteKind if k.kind_name == "VirtualService")
MANAGED_BY_ANNOTATION = "argo-rollouts.argoproj.io/managed-by-rollouts"
_KINDS = (("http", "HTTP"), ("tls", "TLS"), ("tcp", "TCP"))


def istio_kind(kind_name: str, api_version: str) -> RouteKind:
    """The RouteKind of ``VirtualService`` or ``DestinationRule`` at ``api_version`` (``v1beta1`` or
    ``networking.istio.io/v1beta1``); TrafficConfigError naming the versions for any other."""
    version = api_version.removeprefix(GROUP + "/")
    for kind in RouteKind:
        if kind.kind_name == kind_name and kind.api_version == f"{GROUP}/{version}":
            return kind
    raise TrafficConfigError(f"Unsupported Istio API version `{version}` (--istio-api-version: "
                             f"{', '.join(API_VERSIONS)})")


def virtual_service_ref(name: str, default_namespace: str, api_version: str = "v1alpha3") -> ObjectRef:
    """``shop`` -> (rollout's namespace, shop); ``shop.web`` -> (web, shop); ``a.b.web.cluster.local`` -> (web, a.b)
    (Argo's GetVirtualServiceNamespaceName: the last dot-separated part is the namespace)."""
    kind = istio_kind("VirtualService", api_version)
    trimmed = name.removesuffix(".cluster.local")
    base, dot, namespace = trimmed.rpartition(".")
    if not dot:
        return ObjectRef(kind, default_namespace, trimmed)
    return ObjectRef(kind, namespace, base)


@dataclass(frozen=True, slots=True)
class VirtualServiceConfig:
    ref: ObjectRef
    selection: RouteSelection


@dataclass(frozen=True, slots=True)
class DestinationRuleConfig:
    ref: ObjectRef
    canary_subset: str
    stable_subset: str
    additional_subsets: tuple[str, ...]


def _virtual_service(config: IstioVirtualService, namespace: str, api_version: str) -> VirtualServiceConfig:
    tls = tuple(TlsRouteRef(port=r.port, sni_hosts=tuple(r.sni_hosts or ())) for r in config.tls_routes or ())
    tcp = tuple(r.port for r in config.tcp_routes or ())
    selection = RouteSelection(routes=tuple(config.routes or ()), tls_routes=tls, tcp_routes=tcp)
    return VirtualServiceConfig(ref=virtual_service_ref(config.name, namespace, api_version), selection=selection)


@dataclass(frozen=True, slots=True)
class IstioRouter:
    """``trafficRouting.istio`` for one Rollout."""

    ctx: RolloutContext
    virtual_services: tuple[VirtualServiceConfig, ...]
    destination_rule: DestinationRuleConfig | None = None

    @classmethod
    def from_config(
        cls, ctx: RolloutContext, routing: RolloutTrafficRouting, steps: Sequence[CanaryStep] = ()
    ) -> IstioRouter:
        istio = routing.istio
        if istio is None or (istio.virtual_service is None) == (istio.virtual_services is None):
            raise TrafficConfigError(
                "trafficRouting.istio: either VirtualService or VirtualServices must be configured")
        configs = [istio.virtual_service] if istio.virtual_service is not None else list(istio.virtual_services or ())
        if not configs or not all(c.name for c in configs):
            raise TrafficConfigError("trafficRouting.istio: every VirtualService needs a name")
        version = ctx.options.istio_api_version
        services = tuple(_virtual_service(c, ctx.namespace, version) for c in configs)
        if len({s.ref for s in services}) != len(services):
            raise TrafficConfigError("trafficRouting.istio.virtualServices names the same VirtualService twice")
        rule = None
        if istio.destination_rule is not None:
            dr = istio.destination_rule
            if not (dr.name and dr.canary_subset_name and dr.stable_subset_name):
                raise TrafficConfigError(
                    "trafficRouting.istio.destinationRule needs name, canarySubsetName and stableSubsetName")
            rule = DestinationRuleConfig(ObjectRef(istio_kind("DestinationRule", version), ctx.namespace, dr.name),
                                         dr.canary_subset_name, dr.stable_subset_name,
                                         tuple(dr.additional_subset_names or ()))
        problems = header_route_problems(steps, ctx.managed_routes) + mirror_route_problems(steps, ctx.managed_routes)
        if problems:
            raise TrafficConfigError("; ".join(problems))
        return cls(ctx=ctx, virtual_services=services, destination_rule=rule)

    @property
    def name(self) -> str:
        return NAME

    def references(self) -> list[ObjectRef]:
        refs = [vs.ref for vs in self.virtual_services]
        return refs + ([self.destination_rule.ref] if self.destination_rule is not None else [])

    def targets(self, live: LiveObjects) -> Targets:
        rule = self.destination_rule
        if rule is None:
            return Targets(self.ctx.canary_service, self.ctx.stable_service)
        host = str(((live.get(rule.ref) or {}).get("spec") or {}).get("host") or "")
        return Targets(self.ctx.canary_service, self.ctx.stable_service, rule.canary_subset, rule.stable_subset,
                       rule.additional_subsets, canary_host=host)

    # -- validation -----------------------------------------------------------------------------------------

    def validate(self, live: LiveObjects) -> list[str]:
        problems: list[str] = []
        targets = self.targets(live)
        for vs in self.virtual_services:
            obj = live.get(vs.ref)
            if obj is None:
                problems.append(f'virtualservices.networking.istio.io "{vs.ref.name}" not found')
                continue
            problems += [f"VirtualService '{vs.ref.namespace}/{vs.ref.name}': {p}"
                         for p in self._route_problems(vs, obj, targets)]
        rule = self.destination_rule
        if rule is not None:
            obj = live.get(rule.ref)
            if obj is None:
                problems.append(f'destinationrules.networking.istio.io "{rule.ref.name}" not found')
            else:
                names = {s.get("name") for s in (obj.get("spec") or {}).get("subsets") or []}
                problems += [f"DestinationRule '{rule.ref.name}' has no subset '{subset}'"
                             for subset in (rule.canary_subset, rule.stable_subset) if subset not in names]
        return problems

    def _route_problems(self, vs: VirtualServiceConfig, obj: Mapping[str, Any], targets: Targets) -> list[str]:
        """Argo's ValidateVirtualService for one VirtualService, with its messages."""
        spec = obj.get("spec") or {}
        if all(spec.get(key) is None for key, _ in _KINDS):
            return ["Unable to get any of the HTTP, TCP or TLS routes for the Istio VirtualService"]
        problems = []
        for key, label in _KINDS:
            routes = spec.get(key)
            if routes is None:
                continue
            try:
                indexes = self._indexes(key, vs.selection, routes)
                problem = next((p for i in indexes if (p := destination_problem(routes[i].get("route") or [],
                                                                               targets))), None)
                problem = problem or self._cardinality_problem(key, vs.selection, routes)
            except RouteError as err:
                problem = str(err)
            if problem:
                problems.append(f"Istio VirtualService has invalid {label} routes. Error: {problem}")
        return problems

    def _cardinality_problem(self, key: str, selection: RouteSelection, routes: Sequence[Mapping[str, Any]]
                             ) -> str | None:
        managed = self.ctx.managed_routes
        if key == "http" and not selection.routes and len([r for r in routes if r.get("name") not in managed]) > 1:
            return SPEC_HTTP_WITHOUT_ROUTES
        if key == "tls" and not selection.tls_routes and len(routes) > 1:
            return SPEC_TLS_WITHOUT_ROUTES
        if key == "tcp" and not selection.tcp_routes and len(routes) > 1:
            return SPEC_TCP_WITHOUT_ROUTES
        return None

    def _indexes(self, key: str, selection: RouteSelection, routes: Sequence[Mapping[str, Any]]) -> list[int]:
        if key == "http":
            return http_indexes(selection.routes, routes, self.ctx.managed_routes)
        if key == "tls":
            return tls_indexes(selection.tls_routes, routes)
        return tcp_indexes(selection.tcp_routes, routes)

    # -- reading ----------------------------------------------------------------------------------------------

    def in_effect(self, live: LiveObjects) -> InEffect:
        weights: set[int | None] = set()
        headers: list[set[str]] = []
        mirrors: list[set[str]] = []
        targets = self.targets(live)
        for vs in self.virtual_services:
            obj = live.get(vs.ref)
            if obj is None:
                return InEffect(weight=None)
            weights.add(self._weight_of(vs, obj, targets))
            managed = [r for r in (obj.get("spec") or {}).get("http") or [] if r.get("name") in self.ctx.managed_routes]
            headers.append({str(r["name"]) for r in managed if "mirror" not in r})
            mirrors.append({str(r["name"]) for r in managed if "mirror" in r})
        weight = weights.pop() if len(weights) == 1 else None
        return InEffect(
            weight=weight,
            header_routes=tuple(sorted(set.intersection(*headers))) if headers else (),
            mirror_routes=tuple(sorted(set.intersection(*mirrors))) if mirrors else (),
            pod_hashes=self._hashes_of(live),
        )

    def _weight_of(self, vs: VirtualServiceConfig, obj: Mapping[str, Any], targets: Targets) -> int | None:
        """The canary weight every weighted route (and managed mirror route) is at; None when they disagree or
        the managed routes are not on top in managedRoutes order."""
        spec = obj.get("spec") or {}
        selected = self._weighted_destinations(vs, spec)
        if selected is None:
            return None
        found = {canary_weight(destinations, targets) for destinations in selected}
        if len(found) != 1 or None in found:
            return None
        weight = found.pop()
        assert weight is not None
        if any(weighted(d, weight, targets) != list(d) for d in selected):
            return None
        http = list(spec.get("http") or [])
        if _ordered(http, self.ctx.managed_routes) != http:
            return None
        return weight

    def _weighted_destinations(self, vs: VirtualServiceConfig, spec: Mapping[str, Any]
                               ) -> list[list[Mapping[str, Any]]] | None:
        """The destination lists a weight applies to: the selected routes' and the managed mirror routes'."""
        try:
            groups = [(key, self._indexes(key, vs.selection, spec.get(key) or [])) for key, _ in _KINDS]
        except RouteError:
            return None
        selected = [list((spec.get(key) or [])[i].get("route") or []) for key, indexes in groups for i in indexes]
        selected += [list(r.get("route") or []) for r in spec.get("http") or []
                     if "mirror" in r and r.get("name") in self.ctx.managed_routes]
        return selected

    def _hashes_of(self, live: LiveObjects) -> PodHashes | None:
        rule = self.destination_rule
        if rule is None:
            return None
        labels = {str(s.get("name")): (s.get("labels") or {}).get(POD_TEMPLATE_HASH_LABEL, "")
                  for s in ((live.get(rule.ref) or {}).get("spec") or {}).get("subsets") or []}
        return PodHashes(canary=str(labels.get(rule.canary_subset, "")), stable=str(labels.get(rule.stable_subset, "")))

    # -- writing ----------------------------------------------------------------------------------------------

    def desired_routes(self, vs: VirtualServiceConfig, obj: Mapping[str, Any], weight: int, targets: Targets,
                       header_routes: Sequence[HeaderRoute], mirror_routes: Sequence[MirrorRoute]) -> dict[str, Any]:
        """``{"http": [...], "tls": [...], "tcp": [...]}`` (the kinds present) as they must be at ``weight``."""
        spec = obj.get("spec") or {}
        managed = self.ctx.managed_routes
        out: dict[str, Any] = {}
        for key, _ in _KINDS:
            routes = spec.get(key)
            if routes is None:
                continue
            keep = [dict(r) for r in routes if key != "http" or r.get("name") not in managed]
            try:
                indexes = set(self._indexes(key, vs.selection, keep))
            except RouteError as err:
                raise TrafficConfigError(f"VirtualService '{vs.ref.name}': {err}") from err
            out[key] = [{**r, "route": weighted(r.get("route") or [], weight, targets)} if i in indexes else r
                        for i, r in enumerate(keep)]
        if header_routes or mirror_routes:
            out["http"] = self._with_managed(vs, out.get("http"), targets, header_routes, mirror_routes)
        return out

    def _with_managed(self, vs: VirtualServiceConfig, http: list[Route] | None, targets: Targets,
                      header_routes: Sequence[HeaderRoute], mirror_routes: Sequence[MirrorRoute]) -> list[Route]:
        if http is None:
            raise TrafficConfigError(
                f"VirtualService '{vs.ref.name}' has no spec.http, which header and mirror routes need")
        indexes = http_indexes(vs.selection.routes, http, self.ctx.managed_routes) if http else []
        first = indexes[0] if indexes else None
        weighted_route = http[first].get("route") or [] if first is not None else []
        port = canary_port(http, first)
        added = [header_route(r, targets, port) for r in header_routes]
        added += [mirror_route(r, targets, weighted_route) for r in mirror_routes]
        return _ordered(added + http, self.ctx.managed_routes)

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]:
        if not 0 <= weight <= 100:
            raise ValueError(f"canary weight {weight} is outside 0..100 (Istio weights are percentages)")
        changes: list[TrafficChange] = []
        if self.destination_rule is not None and pod_hashes is not None:
            changes += self._subset_changes(live, pod_hashes)
        targets = self.targets(live)
        for vs in self.virtual_services:
            obj = live.get(vs.ref)
            if obj is None:
                raise TrafficConfigError(f'virtualservices.networking.istio.io "{vs.ref.name}" not found')
            desired = self.desired_routes(vs, obj, weight, targets, header_routes, mirror_routes)
            spec = obj.get("spec") or {}
            ops = [{"op": "replace" if key in spec else "add", "path": f"/spec/{key}", "value": value}
                   for key, value in desired.items() if spec.get(key) != value]
            if ops:
                summary = f"set VirtualService '{vs.ref.name}' canary weight {weight}"
                names = [r.name for r in header_routes] + [r.name for r in mirror_routes]
                if names:
                    summary += " with managed routes " + ", ".join(names)
                changes.append(JsonPatch(vs.ref, tuple(_guard(obj) + ops), summary=summary))
        return changes

    def _subset_changes(self, live: LiveObjects, hashes: PodHashes) -> list[TrafficChange]:
        """Argo's UpdateHash: the canary and stable subsets select their ReplicaSet's hash (an empty hash removes
        the label); other subsets are kept as they are."""
        rule = self.destination_rule
        assert rule is not None
        obj = live.get(rule.ref)
        if obj is None:
            raise TrafficConfigError(f'destinationrules.networking.istio.io "{rule.ref.name}" not found')
        subsets = list((obj.get("spec") or {}).get("subsets") or [])
        wanted = {rule.canary_subset: hashes.canary, rule.stable_subset: hashes.stable}
        desired = [_relabel(s, wanted[str(s.get("name"))]) if s.get("name") in wanted else s for s in subsets]
        annotations = (obj.get("metadata") or {}).get("annotations")
        ops: list[dict[str, Any]] = []
        if desired != subsets:
            ops.append({"op": "replace", "path": "/spec/subsets", "value": desired})
        if (annotations or {}).get(MANAGED_BY_ANNOTATION) != self.ctx.name:
            key = MANAGED_BY_ANNOTATION.replace("/", "~1")
            ops.append({"op": "add", "path": f"/metadata/annotations/{key}", "value": self.ctx.name}
                       if annotations is not None else
                       {"op": "add", "path": "/metadata/annotations", "value": {MANAGED_BY_ANNOTATION: self.ctx.name}})
        if not ops:
            return []
        summary = (f"set DestinationRule '{rule.ref.name}' subsets {rule.canary_subset}={hashes.canary}, "
                   f"{rule.stable_subset}={hashes.stable}")
        return [JsonPatch(rule.ref, tuple(_guard(obj) + ops), summary=summary)]


def _relabel(subset: Mapping[str, Any], pod_hash: str) -> dict[str, Any]:
    labels = {k: v for k, v in (subset.get("labels") or {}).items() if k != POD_TEMPLATE_HASH_LABEL}
    if pod_hash:
        labels[POD_TEMPLATE_HASH_LABEL] = pod_hash
    return {**subset, "labels": labels}


def _ordered(http: Sequence[Route], managed: Sequence[str]) -> list[Route]:
    """Argo's orderRoutes: managed routes first in managedRoutes order, then the others in their order."""
    mine = [r for name in managed for r in http if r.get("name") == name]
    return mine + [r for r in http if r.get("name") not in managed]


def _guard(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    version = (obj.get("metadata") or {}).get("resourceVersion")
    return [{"op": "test", "path": "/metadata/resourceVersion", "value": version}] if version else []


def managing_rollout(obj: Mapping[str, Any]) -> str | None:
    """The Rollout a DestinationRule says manages it (our annotation), or None."""
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(MANAGED_BY_ANNOTATION)


def released_destination_rule(obj: Mapping[str, Any]) -> JsonPatch | None:
    """Argo's IstioController.syncDestinationRule clean-up, for a DestinationRule whose managing Rollout is gone or no
    longer references it: the managed-by annotation and every subset's pod-template-hash label are removed (the
    rest of the object is the user's). None when there is nothing of ours left on it."""
    meta = obj.get("metadata") or {}
    subsets = list((obj.get("spec") or {}).get("subsets") or [])
    ops: list[dict[str, Any]] = []
    if managing_rollout(obj) is not None:
        ops.append({"op": "remove", "path": "/metadata/annotations/" + MANAGED_BY_ANNOTATION.replace("/", "~1")})
    for index, subset in enumerate(subsets):
        if POD_TEMPLATE_HASH_LABEL in (subset.get("labels") or {}):
            ops.append({"op": "remove", "path": f"/spec/subsets/{index}/labels/{POD_TEMPLATE_HASH_LABEL}"})
    if not ops:
        return None
    kind = istio_kind("DestinationRule", str(obj.get("apiVersion") or "v1alpha3"))  # patched at the version read
    ref = ObjectRef(kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))
    return JsonPatch(ref, tuple(_guard(obj) + ops), summary=f"release DestinationRule '{ref.name}'")


def referenced_destination_rule(rollout: Rollout) -> str | None:
    """The DestinationRule name the spec names (read from the spec itself, as Argo's GetRolloutDesinationRuleKeys,
    so a Rollout whose routing is momentarily invalid does not let go of its rule)."""
    canary = rollout.spec.strategy.canary
    routing = canary.traffic_routing if canary is not None else None
    rule = routing.istio.destination_rule if routing is not None and routing.istio is not None else None
    return rule.name if rule is not None else None
