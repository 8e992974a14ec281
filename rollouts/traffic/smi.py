"""SMI traffic router: a TrafficSplit the Rollout creates and owns, splitting ``rootService`` between canary and stable.

Configured as in Argo Rollouts::

    trafficRouting:
      smi:
        rootService: shop            # the Service clients call; default: stableService
        trafficSplitName: shop       # default: the Rollout's name

The TrafficSplit is wholly ours (Argo creates it with the Rollout as controller owner), so it is built complete and
server-side applied; the garbage collector deletes it with the Rollout. One that exists but is not controlled by
the Rollout is never taken over (Argo: "Rollout does not own TrafficSplit"). The API version is the controller's
``--traffic-split-api-version`` (v1alpha1, the default as in Argo, v1alpha2 or v1alpha3); v1alpha1 spells a
weight as a Kubernetes quantity string, as Argo's client writes it (``"10"``), the later versions as a number.

Example (rollout ``shop``, canary ``shop-canary``, stable ``shop-stable``, weight 10, v1alpha2) ->
``ApplyObject(TrafficSplit shop: spec {service: shop-stable, backends: [shop-canary 10, shop-stable 90]})``.
SMI has no header or mirror routes (Argo's SMI router ignores them; its validation refuses setHeaderRoute without
a router that has them), so a step asking for one is refused here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.rollout import CanaryStep, RolloutTrafficRouting
from rollouts.traffic.router import (
    ApplyObject,
    HeaderRoute,
    InEffect,
    LiveObjects,
    MirrorRoute,
    ObjectRef,
    PodHashes,
    RolloutContext,
    RouteKind,
    TrafficChange,
    TrafficConfigError,
)

NAME = "smi"
VERSIONS: dict[str, RouteKind] = {
    "v1alpha1": RouteKind.TRAFFICSPLIT_V1ALPHA1,
    "v1alpha2": RouteKind.TRAFFICSPLIT_V1ALPHA2,
    "v1alpha3": RouteKind.TRAFFICSPLIT_V1ALPHA3,
}


@dataclass(frozen=True, slots=True)
class SmiRouter:
    """``trafficRouting.smi`` for one Rollout."""

    ctx: RolloutContext
    split_name: str
    root_service: str
    kind: RouteKind

    @classmethod
    def from_config(
        cls, ctx: RolloutContext, routing: RolloutTrafficRouting, steps: Sequence[CanaryStep] = ()
    ) -> SmiRouter:
        config = routing.smi
        version = ctx.options.traffic_split_api_version
        if version not in VERSIONS:
            raise TrafficConfigError(f"Unsupported TrafficSplit API version `{version}` "
                                     f"(--traffic-split-api-version: {', '.join(VERSIONS)})")
        refused = [f"steps[{i}]: setHeaderRoute '{s.set_header_route.name}' cannot be realised with "
                   "trafficRouting.smi (a TrafficSplit has no header routes)"
                   for i, s in enumerate(steps) if s.set_header_route is not None]
        if refused:
            raise TrafficConfigError("; ".join(refused))
        return cls(
            ctx=ctx,
            split_name=(config.traffic_split_name if config is not None else None) or ctx.name,
            root_service=(config.root_service if config is not None else None) or ctx.stable_service,
            kind=VERSIONS[version],
        )

    @property
    def name(self) -> str:
        return NAME

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.ctx.namespace, self.split_name)

    def references(self) -> list[ObjectRef]:
        return [self.ref]

    def validate(self, live: LiveObjects) -> list[str]:
        obj = live.get(self.ref)
        if obj is None or _controller_uid(obj) == self.ctx.uid:
            return []
        return [f"Rollout does not own TrafficSplit `{self.split_name}`"]

    def traffic_split(self, weight: int) -> dict[str, Any]:
        """The complete TrafficSplit at canary ``weight`` (of 100)."""
        if not 0 <= weight <= 100:
            raise ValueError(f"canary weight {weight} is outside 0..100 (SMI weights are percentages)")
        return {
            "apiVersion": self.kind.api_version,
            "kind": self.kind.kind_name,
            "metadata": {"name": self.split_name, "namespace": self.ctx.namespace,
                         "ownerReferences": [dict(self.ctx.owner_reference)]},
            "spec": {"service": self.root_service, "backends": [
                {"service": self.ctx.canary_service, "weight": self._weight(weight)},
                {"service": self.ctx.stable_service, "weight": self._weight(100 - weight)},
            ]},
        }

    def _weight(self, value: int) -> int | str:
        return str(value) if self.kind is RouteKind.TRAFFICSPLIT_V1ALPHA1 else value

    def in_effect(self, live: LiveObjects) -> InEffect:
        obj = live.get(self.ref)
        if obj is None:
            return InEffect(weight=None)  # not created yet: the plan creates it
        spec = obj.get("spec") or {}
        canary = next((b for b in spec.get("backends") or [] if b.get("service") == self.ctx.canary_service), None)
        try:
            weight = int(str(canary.get("weight"))) if canary is not None else None
        except ValueError:
            weight = None
        if weight is None or not 0 <= weight <= 100 or spec != self.traffic_split(weight)["spec"]:
            return InEffect(weight=None)  # a hand edit: re-applied whole
        return InEffect(weight=weight)

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]:
        del header_routes, mirror_routes, pod_hashes  # refused at configuration; a TrafficSplit names Services
        desired = self.traffic_split(weight)
        obj = live.get(self.ref)
        if obj is not None and _controller_uid(obj) != self.ctx.uid:
            raise TrafficConfigError(f"Rollout does not own TrafficSplit `{self.split_name}`")
        if obj is not None and obj.get("spec") == desired["spec"]:
            return []
        return [ApplyObject(self.kind, desired, summary=f"set TrafficSplit '{self.split_name}' canary weight {weight}")]


def _controller_uid(obj: Mapping[str, Any]) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None
