"""Drives the pure traffic routers (rollouts.traffic) against the API server.

The routers decide what the routing objects must look like; this module fetches the objects they name,
turns their validation problems into an error string for the planner (InvalidSpec, nothing half-applied),
reads back the weight in effect, and performs their changes with server-side apply or guarded JSON patches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import Invalid, NotFound
from rollouts.kube.resources import HTTPROUTE, INGRESS, SERVICE, ResourceKind
from rollouts.planning.observed import ObservedTraffic
from rollouts.traffic.header_routes import parse_header_routes
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import (
    FIELD_MANAGER,
    ApplyObject,
    DeleteObject,
    JsonPatch,
    LiveObjects,
    ObjectRef,
    RouteKind,
    TrafficChange,
    TrafficConfigError,
    TrafficRouter,
)

KINDS: dict[RouteKind, ResourceKind] = {
    RouteKind.INGRESS: INGRESS,
    RouteKind.HTTPROUTE: HTTPROUTE,
    RouteKind.SERVICE: SERVICE,
}


class TrafficConflict(Exception):
    """A guarded patch found the object changed since it was read: re-read and re-plan."""


def uses_traffic_routing(rollout: Mapping[str, Any]) -> bool:
    canary = ((rollout.get("spec") or {}).get("strategy") or {}).get("canary") or {}
    return bool(canary.get("trafficRouting"))


async def fetch_live(client: KubeClient, routers: Sequence[TrafficRouter]) -> dict[ObjectRef, Mapping[str, Any]]:
    live: dict[ObjectRef, Mapping[str, Any]] = {}
    for ref in sorted({ref for r in routers for ref in r.references()}):
        try:
            live[ref] = await client.get(KINDS[ref.kind], ref.name, ref.namespace)
        except NotFound:
            continue
    return live


async def observe_traffic(client: KubeClient, rollout: Mapping[str, Any]) -> ObservedTraffic | None:
    """What the routers report for this Rollout, or None when it has no traffic routing."""
    if not uses_traffic_routing(rollout):
        return None
    try:
        routers = routers_for(rollout)
    except TrafficConfigError as exc:
        return ObservedTraffic(error=str(exc))
    live = await fetch_live(client, routers)
    problems = [p for r in routers for p in r.validate(live)]
    if problems:
        return ObservedTraffic(error="; ".join(problems))
    weights: set[int | None] = set()
    headers: set[str] = set()
    for router in routers:
        effect = router.in_effect(live)
        weights.add(effect.weight)
        headers.update(effect.header_routes)
    weight = weights.pop() if len(weights) == 1 else None
    return ObservedTraffic(weight=weight, header_routes=tuple(sorted(headers)))


async def set_weight(
    client: KubeClient, rollout: Mapping[str, Any], weight: int, header_routes: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Make every router realise `weight` and the header routes; returns summaries of what changed."""
    routers = routers_for(rollout)
    live = await fetch_live(client, routers)
    routes = parse_header_routes(list(header_routes))
    done: list[str] = []
    for router in routers:
        for change in router.desired_changes(weight, routes, live):
            await perform(client, change)
            done.append(change.summary or type(change).__name__)
    return done


async def cleanup(client: KubeClient, rollout: Mapping[str, Any]) -> None:
    """Remove what the routers manage (used when traffic routing is removed from a Rollout)."""
    routers = routers_for(rollout)
    live: LiveObjects = await fetch_live(client, routers)
    for router in routers:
        for change in router.cleanup(live):
            await perform(client, change)


async def perform(client: KubeClient, change: TrafficChange) -> None:
    if isinstance(change, ApplyObject):
        await client.apply(KINDS[change.kind], change.obj, field_manager=FIELD_MANAGER, force=True)
    elif isinstance(change, JsonPatch):
        try:
            await client.patch(KINDS[change.ref.kind], change.ref.name, list(change.ops), change.ref.namespace,
                               patch_type="json", field_manager=FIELD_MANAGER)
        except Invalid as exc:
            raise TrafficConflict(f"{change.ref} changed while being updated: {exc.message}") from exc
    elif isinstance(change, DeleteObject):
        try:
            await client.delete(KINDS[change.ref.kind], change.ref.name, change.ref.namespace)
        except NotFound:
            pass
