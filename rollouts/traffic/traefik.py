"""Traefik traffic router: the weights of a weighted ``TraefikService`` the user owns.

``trafficRouting.traefik.weightedTraefikServiceName: web`` names a ``TraefikService`` (traefik.io/v1alpha1)
whose ``spec.weighted.services`` lists the stable and canary Kubernetes Services; Traefik splits requests in
proportion to their weights. Like Argo, we set the canary's ``weight`` to ``w`` and the stable's to ``100 - w``
and touch nothing else. Argo replaces the whole object (an update); we send a JSON patch of the two weights
that starts with a ``test`` of ``metadata.resourceVersion``, so a concurrent edit is never overwritten.
Header routes and mirroring are not expressible in a TraefikService (Argo ignores them; the registry refuses
a setMirrorRoute and this router refuses setHeaderRoute at configuration time rather than drop it silently).

Worked example (Argo's traefik_test.go ``TestSetWeight``): services ``[{name: stable-rollout, weight: 100,
port: 80}, {name: canary-rollout, weight: 0, port: 80}]``, weight 30 -> stable 70, canary 30.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.rollout import CanaryStep, RolloutTrafficRouting
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

NO_SERVICES = "spec.weighted.services was not found in traefik service manifest"


def _services(obj: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    services = ((obj.get("spec") or {}).get("weighted") or {}).get("services")
    return list(services) if isinstance(services, list) else None


def _index(services: Sequence[Mapping[str, Any]], name: str) -> int | None:
    return next((i for i, s in enumerate(services) if isinstance(s, Mapping) and s.get("name") == name), None)


@dataclass(frozen=True, slots=True)
class TraefikRouter:
    """``strategy.canary.trafficRouting.traefik`` for one Rollout."""

    ctx: RolloutContext
    service_name: str

    @classmethod
    def from_config(
        cls, ctx: RolloutContext, routing: RolloutTrafficRouting, steps: Sequence[CanaryStep] = ()
    ) -> TraefikRouter:
        config = routing.traefik or {}
        name = config.get("weightedTraefikServiceName")
        problems: list[str] = []
        if not name or not isinstance(name, str):
            problems.append("trafficRouting.traefik.weightedTraefikServiceName is required")
        problems += [f"steps[{i}]: setHeaderRoute is not supported by the Traefik router (a weighted "
                     "TraefikService cannot match headers)" for i, step in enumerate(steps) if step.set_header_route]
        if problems:
            raise TrafficConfigError("; ".join(problems))
        return cls(ctx=ctx, service_name=str(name))

    @property
    def name(self) -> str:
        return "traefik"

    @property
    def _ref(self) -> ObjectRef:
        return ObjectRef(RouteKind.TRAEFIKSERVICE, self.ctx.namespace, self.service_name)

    def references(self) -> list[ObjectRef]:
        return [self._ref]

    def _problems(self, obj: Mapping[str, Any] | None) -> list[str]:
        if obj is None:
            return [f'traefikservices.traefik.io "{self.service_name}" not found']
        services = _services(obj)
        if services is None:
            return [NO_SERVICES]
        problems = []
        if _index(services, self.ctx.canary_service) is None:
            problems.append(f"traefik canary service was not found ('{self.ctx.canary_service}' in "
                            f"TraefikService '{self.service_name}')")
        if _index(services, self.ctx.stable_service) is None:
            problems.append(f"traefik stable service was not found ('{self.ctx.stable_service}' in "
                            f"TraefikService '{self.service_name}')")
        return problems

    def validate(self, live: LiveObjects) -> list[str]:
        return self._problems(live.get(self._ref))

    def in_effect(self, live: LiveObjects) -> InEffect:
        obj = live.get(self._ref)
        if obj is None or self._problems(obj):
            return InEffect(weight=None)
        services = _services(obj) or []
        canary = services[_index(services, self.ctx.canary_service) or 0].get("weight")
        stable = services[_index(services, self.ctx.stable_service) or 0].get("weight")
        if not isinstance(canary, int) or stable != 100 - canary:
            return InEffect(weight=None)  # a hand edit (or weights Argo never writes): re-apply
        return InEffect(weight=canary)

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]:
        del mirror_routes, pod_hashes  # weights only: refused at configuration time
        self.ctx.check_weight(weight)
        if header_routes:
            raise TrafficConfigError("the Traefik router cannot express header routes")
        obj = live.get(self._ref)
        problems = self._problems(obj)
        if obj is None or problems:
            raise TrafficConfigError("; ".join(problems))
        services = _services(obj) or []
        ops: list[dict[str, Any]] = []
        for service, value in ((self.ctx.canary_service, weight), (self.ctx.stable_service, 100 - weight)):
            index = _index(services, service)
            if services[index or 0].get("weight") != value:
                ops.append({"op": "add", "path": f"/spec/weighted/services/{index}/weight", "value": value})
        if not ops:
            return []
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        test = {"op": "test", "path": "/metadata/resourceVersion", "value": version}
        return [JsonPatch(self._ref, (test, *ops), summary=f"set TraefikService '{self.service_name}' canary "
                                                            f"weight {weight}")]
