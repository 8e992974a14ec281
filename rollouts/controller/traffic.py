"""Drives the pure traffic routers (rollouts.traffic) against the API server.

The routers decide what the routing objects must look like; this module reads the objects they name once per
reconcile (at observe time, fresh from the API server: a guarded patch must start from the current
resourceVersion), hands the routers' own summary to the planner, and performs their changes with the same
routers and objects when the plan asks for a weight. ``perform`` is the one place every
:data:`~rollouts.traffic.router.TrafficChange` type is carried out, router changes and the Service selector
alike; mypy checks that no type is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, assert_never

from rollouts.api.rollout import Rollout
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import Conflict, Invalid, NotFound
from rollouts.kube.resources import ResourceKind
from rollouts.planning.observed import ObservedTraffic
from rollouts.planning.plan import SetCanaryWeight
from rollouts.traffic.header_routes import header_routes, mirror_routes
from rollouts.traffic.istio import managing_rollout, referenced_destination_rule, released_destination_rule
from rollouts.traffic.registry import observe_traffic, routers_for
from rollouts.traffic.router import (
    FIELD_MANAGER,
    ApplyObject,
    DeleteObject,
    JsonPatch,
    LiveObjects,
    MergePatch,
    ObjectRef,
    PodHashes,
    RouteKind,
    RouterOptions,
    TrafficChange,
    TrafficConfigError,
    TrafficRouter,
)


def resource_kind(kind: RouteKind) -> ResourceKind:
    """The API resource a router's kind names: Ingress -> networking.k8s.io/v1 ingresses."""
    group, _, version = kind.api_version.rpartition("/")
    return ResourceKind(group, version, kind.kind_name, kind.plural)


class TrafficConflict(Exception):
    """A guarded patch found the object changed since it was read: re-read and re-plan."""


@dataclass(frozen=True, slots=True)
class TrafficView:
    """One reconcile's traffic observation: the routers, the objects they read, and what they report.

    The executor realises a ``SetCanaryWeight`` with these same routers and objects, so a reconcile reads the
    routing objects once and the changes are computed from exactly what the plan was made from.
    """

    observed: ObservedTraffic
    routers: tuple[TrafficRouter, ...] = ()
    live: LiveObjects = field(default_factory=dict)


async def fetch_live(client: KubeClient, routers: Sequence[TrafficRouter]) -> dict[ObjectRef, Mapping[str, Any]]:
    live: dict[ObjectRef, Mapping[str, Any]] = {}
    for ref in sorted({ref for r in routers for ref in r.references()}):
        try:
            live[ref] = await client.get(resource_kind(ref.kind), ref.name, ref.namespace)
        except NotFound:
            continue
    return live


async def observe_rollout_traffic(client: KubeClient, rollout: Rollout,
                                  options: RouterOptions | None = None) -> TrafficView | None:
    """What the routers report for this Rollout, or None when it has no traffic routing."""
    canary = rollout.spec.strategy.canary
    if canary is None or canary.traffic_routing is None:
        return None
    try:
        routers = routers_for(rollout, options)
    except TrafficConfigError as exc:
        return TrafficView(ObservedTraffic(error=str(exc)))
    if not routers:
        return None
    live = await fetch_live(client, routers)
    return TrafficView(observe_traffic(routers, live), tuple(routers), live)


async def set_weight(client: KubeClient, view: TrafficView, request: SetCanaryWeight, *, now: datetime) -> list[str]:
    """Make every router realise the request's weight, managed routes and pod hashes; returns summaries of what
    changed. A delete whose ``not_before`` is after ``now`` is left for a later reconcile."""
    wanted = header_routes(request.header_routes)
    mirrors = mirror_routes(request.mirror_routes)
    hashes = PodHashes(canary=request.canary_hash, stable=request.stable_hash)
    done: list[str] = []
    for router in view.routers:
        for change in router.desired_changes(request.weight, wanted, view.live, mirror_routes=mirrors,
                                             pod_hashes=hashes):
            if isinstance(change, DeleteObject) and change.not_before is not None and now < change.not_before:
                continue  # not due yet: the plan wakes at the router's settles_at and asks again
            await perform(client, change)
            done.append(change.summary or type(change).__name__)
    return done


async def perform(client: KubeClient, change: TrafficChange) -> dict[str, Any]:
    """Carry out one change; returns the object as the API server stored it."""
    match change:
        case ApplyObject(kind=kind, obj=obj):
            return await client.apply(resource_kind(kind), dict(obj), field_manager=FIELD_MANAGER, force=True)
        case JsonPatch(ref=ref, ops=ops):
            try:
                return await client.patch(resource_kind(ref.kind), ref.name, list(ops), ref.namespace,
                                          patch_type="json", field_manager=FIELD_MANAGER)
            except Invalid as exc:
                raise TrafficConflict(f"{ref} changed while being updated: {exc.message}") from exc
        case DeleteObject(ref=ref, uid=uid):
            try:
                await client.delete(resource_kind(ref.kind), ref.name, ref.namespace, preconditions={"uid": uid})
            except NotFound:
                pass
            except Conflict as exc:
                raise TrafficConflict(f"{ref} was replaced while being deleted: {exc.message}") from exc
            return {}
        case MergePatch(ref=ref, body=body):
            return await client.patch(resource_kind(ref.kind), ref.name, dict(body), ref.namespace, patch_type="merge",
                                      field_manager=FIELD_MANAGER)
        case _:
            assert_never(change)


async def release_destination_rules(client: KubeClient, rules: Iterable[Mapping[str, Any]], rollout: Rollout | None,
                                    *, namespace: str, name: str) -> list[str]:
    """Give back the DestinationRules of ``namespace`` that say Rollout ``name`` manages them when it no longer
    references them (or is gone): Argo's Istio controller removes its annotation and hash labels then."""
    referenced = referenced_destination_rule(rollout) if rollout is not None else None
    done: list[str] = []
    for obj in rules:
        meta = obj.get("metadata") or {}
        if meta.get("namespace") != namespace or managing_rollout(obj) != name or meta.get("name") == referenced:
            continue
        change = released_destination_rule(obj)
        if change is not None:
            try:
                await perform(client, change)
            except TrafficConflict:
                continue  # changed meanwhile: its watch event brings us back
            done.append(change.summary)
    return done
