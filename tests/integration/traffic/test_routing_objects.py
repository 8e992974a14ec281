"""The routers' outputs applied to the real API server: it accepts them, stores them as built, and reading
them back gives the weight and header routes we wrote. No controller runs here, but the reads and writes are
the controller's own (``rollouts.controller.traffic.fetch_live`` and ``perform``), not a copy of them.
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Mapping
from typing import Any

import pytest

from rollouts.api.rollout import Rollout
from rollouts.controller import traffic as controller_traffic
from rollouts.controller.traffic import TrafficConflict, fetch_live
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import Invalid, NotFound
from rollouts.kube.resources import HTTPROUTE, INGRESS, ROLLOUT, SERVICE
from rollouts.traffic.gatewayapi import MANAGED_ROUTES_ANNOTATION, GatewayApiRouter
from rollouts.traffic.nginx import NginxRouter
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import (
    ApplyObject,
    DeleteObject,
    HeaderMatch,
    HeaderRoute,
    InEffect,
    JsonPatch,
    MatchKind,
    MergePatch,
    ObjectRef,
    RouteKind,
    TrafficChange,
    TrafficRouter,
)
from rollouts.traffic.service import pin_service_selector
from tests.support.rollouts import canary_rollout, service
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

P = "nginx.ingress.kubernetes.io"
HEADER = HeaderRoute("beta", (HeaderMatch("X-Beta", MatchKind.EXACT, "yes"),))


async def fetch(kube: KubeClient, router: TrafficRouter) -> dict[ObjectRef, Mapping[str, Any]]:
    return await fetch_live(kube, [router])


async def perform(kube: KubeClient, changes: list[TrafficChange]) -> None:
    for change in changes:
        await controller_traffic.perform(kube, change)


async def converge(kube: KubeClient, router: TrafficRouter, weight: int, routes: list[HeaderRoute]) -> dict[ObjectRef, Mapping[str, Any]]:
    """Apply the router's changes, then check that a fresh read shows the state and needs nothing more."""
    await perform(kube, router.desired_changes(weight, routes, await fetch(kube, router)))
    live = await fetch(kube, router)
    assert router.validate(live) == []
    assert router.in_effect(live) == InEffect(weight=weight, header_routes=tuple(sorted(r.name for r in routes)))
    assert router.desired_changes(weight, routes, live) == [], "a second pass must have nothing to do"
    return live


async def create_rollout(kube: KubeClient, ns: str, routing: dict[str, Any], **extra: Any) -> Rollout:
    manifest = canary_rollout("shop", stableService="shop-stable", canaryService="shop-canary", trafficRouting=routing, **extra)
    manifest["spec"]["replicas"] = 0
    return Rollout.model_validate(await kube.create(ROLLOUT, manifest, ns))


def stable_ingress(ns: str) -> dict[str, Any]:
    def p(svc: str, path: str) -> dict[str, Any]:
        return {"path": path, "pathType": "Prefix", "backend": {"service": {"name": svc, "port": {"number": 80}}}}

    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": ns, "annotations": {"kubernetes.io/ingress.class": "nginx", f"{P}/ssl-redirect": "false"}},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
            "rules": [
                {"host": "shop.example.com", "http": {"paths": [p("shop-stable", "/"), p("search", "/search")]}},
                {"host": "blog.example.com", "http": {"paths": [p("blog", "/")]}},
            ],
        },
    }


async def test_nginx_canary_ingress_lifecycle(kube: KubeClient, namespace: str, crds: None) -> None:
    routing = {"nginx": {"stableIngress": "web", "additionalIngressAnnotations": {"canary-by-header": "X-Canary"}},
               "managedRoutes": [{"name": "beta"}]}
    ro = await create_rollout(kube, namespace, routing)
    await kube.create(INGRESS, stable_ingress(namespace), namespace)
    (router,) = routers_for(ro)
    assert isinstance(router, NginxRouter)
    assert router.in_effect(await fetch(kube, router)) == InEffect(weight=0)

    for weight in (10, 50, 100):
        live = await converge(kube, router, weight, [])
        canary = live[ObjectRef(RouteKind.INGRESS, namespace, "shop-web-canary")]
        assert canary["metadata"]["annotations"] == {
            "kubernetes.io/ingress.class": "nginx",
            f"{P}/canary-by-header": "X-Canary",
            f"{P}/canary": "true",
            f"{P}/canary-weight": str(weight),
        }
        assert canary["spec"]["ingressClassName"] == "nginx"
        assert canary["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]
        paths = canary["spec"]["rules"][0]["http"]["paths"]
        assert [r["host"] for r in canary["spec"]["rules"]] == ["shop.example.com"]
        assert [x["backend"]["service"]["name"] for x in paths] == ["shop-canary"]
        assert canary["metadata"]["ownerReferences"][0]["uid"] == ro.metadata.uid

    live = await converge(kube, router, 20, [HEADER])
    annotations = live[ObjectRef(RouteKind.INGRESS, namespace, "shop-web-canary")]["metadata"]["annotations"]
    assert annotations[f"{P}/canary-by-header"] == "X-Beta"
    assert annotations[f"{P}/canary-by-header-value"] == "yes"

    # a hand edit of the weight is seen and corrected; SSA removes the header annotations we no longer set
    await kube.patch(INGRESS, "shop-web-canary", {"metadata": {"annotations": {f"{P}/canary-weight": "77"}}}, namespace)
    assert router.in_effect(await fetch(kube, router)).weight == 77
    live = await converge(kube, router, 0, [])
    annotations = live[ObjectRef(RouteKind.INGRESS, namespace, "shop-web-canary")]["metadata"]["annotations"]
    assert annotations[f"{P}/canary-by-header"] == "X-Canary"
    assert f"{P}/canary-by-header-value" not in annotations


async def test_canary_ingress_is_garbage_collected_with_the_rollout(kube: KubeClient, namespace: str, crds: None) -> None:
    ro = await create_rollout(kube, namespace, {"nginx": {"stableIngress": "web"}})
    await kube.create(INGRESS, stable_ingress(namespace), namespace)
    (router,) = routers_for(ro)
    await converge(kube, router, 30, [])
    await kube.delete(ROLLOUT, "shop", namespace)

    async def canary_exists() -> bool:
        try:
            await kube.get(INGRESS, "shop-web-canary", namespace)
            return True
        except NotFound:
            return False

    await eventually(canary_exists, lambda exists: not exists, timeout=60, expected="canary Ingress removed by the garbage collector")


def route(ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "shop", "namespace": ns, "labels": {"team": "payments"}},
        "spec": {
            "parentRefs": [{"name": "gw"}],
            "hostnames": ["shop.example.com"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                    "backendRefs": [{"name": "shop-stable", "port": 80}, {"name": "shop-canary", "port": 80, "weight": 0}],
                },
                {"matches": [{"path": {"type": "PathPrefix", "value": "/blog"}}], "backendRefs": [{"name": "blog", "port": 80}]},
            ],
        },
    }


async def test_httproute_weights_and_header_routes(kube: KubeClient, namespace: str, crds: None, gateway_api: list[str]) -> None:
    routing = {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}, "managedRoutes": [{"name": "beta"}]}
    ro = await create_rollout(kube, namespace, routing)
    created = await kube.create(HTTPROUTE, route(namespace), namespace)
    original_rules = copy.deepcopy(created["spec"]["rules"])  # as defaulted by the API server
    (router,) = routers_for(ro)
    assert isinstance(router, GatewayApiRouter)
    assert router.in_effect(await fetch(kube, router)) == InEffect(weight=None)  # stable weight 1 (default), canary 0

    for weight in (10, 50, 100):
        live = await converge(kube, router, weight, [])
        rules = live[ObjectRef(RouteKind.HTTPROUTE, namespace, "shop")]["spec"]["rules"]
        assert [b["weight"] for b in rules[0]["backendRefs"]] == [100 - weight, weight]
        assert rules[1] == original_rules[1]

    live = await converge(kube, router, 20, [HEADER])
    stored = live[ObjectRef(RouteKind.HTTPROUTE, namespace, "shop")]
    header_rule = stored["spec"]["rules"][2]
    assert header_rule["matches"][0]["headers"] == [{"name": "X-Beta", "type": "Exact", "value": "yes"}]
    assert [b["name"] for b in header_rule["backendRefs"]] == ["shop-canary"]
    assert "beta" in json.loads(stored["metadata"]["annotations"][MANAGED_ROUTES_ANNOTATION])["shop"]

    # someone edits the canary weight by hand: read back, corrected, other fields untouched
    rules = copy.deepcopy(stored["spec"]["rules"])
    rules[0]["backendRefs"][1]["weight"] = 90
    await kube.patch(HTTPROUTE, "shop", {"spec": {"rules": rules}}, namespace, patch_type="merge", field_manager="someone")
    assert router.in_effect(await fetch(kube, router)).weight is None
    await converge(kube, router, 20, [HEADER])

    live = await converge(kube, router, 0, [])
    final = live[ObjectRef(RouteKind.HTTPROUTE, namespace, "shop")]
    assert len(final["spec"]["rules"]) == 2
    assert MANAGED_ROUTES_ANNOTATION not in (final["metadata"].get("annotations") or {})
    assert final["metadata"]["labels"] == {"team": "payments"}
    assert final["spec"]["hostnames"] == ["shop.example.com"]


async def test_stale_httproute_patch_is_rejected(kube: KubeClient, namespace: str, crds: None, gateway_api: list[str]) -> None:
    ro = await create_rollout(kube, namespace, {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}})
    await kube.create(HTTPROUTE, route(namespace), namespace)
    (router,) = routers_for(ro)
    stale = await fetch(kube, router)
    await kube.patch(HTTPROUTE, "shop", {"metadata": {"labels": {"touched": "yes"}}}, namespace)
    with pytest.raises(TrafficConflict) as rejected:
        await perform(kube, router.desired_changes(40, [], stale))
    assert isinstance(rejected.value.__cause__, Invalid), "the API server refused the stale resourceVersion"
    await converge(kube, router, 40, [])


async def test_service_selector_patch_keeps_the_users_selector(kube: KubeClient, namespace: str) -> None:
    await kube.create(SERVICE, service("shop-stable", "shop"), namespace)
    live = await kube.get(SERVICE, "shop-stable", namespace)
    patch = pin_service_selector(live, rollout="shop", pod_template_hash="6d8f9b7c4d")
    assert patch is not None
    await perform(kube, [patch])
    live = await kube.get(SERVICE, "shop-stable", namespace)
    assert live["spec"]["selector"] == {"app": "shop", "rollouts-pod-template-hash": "6d8f9b7c4d"}
    assert live["metadata"]["annotations"]["argo-rollouts.argoproj.io/managed-by-rollouts"] == "shop"
    assert pin_service_selector(live, rollout="shop", pod_template_hash="6d8f9b7c4d") is None


async def test_every_traffic_change_type_is_performed(kube: KubeClient, namespace: str) -> None:
    """No change type a router may emit is dropped: controller.traffic.perform carries out each member of
    TrafficChange against the API server (it once documented MergePatch and silently ignored it)."""
    await kube.create(SERVICE, service("shop-stable", "shop"), namespace)
    ref = ObjectRef(RouteKind.SERVICE, namespace, "shop-stable")
    obj = service("shop-stable", "shop")
    obj["metadata"] = {"name": "shop-stable", "namespace": namespace, "labels": {"applied": "yes"}}
    examples: dict[type, TrafficChange] = {
        ApplyObject: ApplyObject(RouteKind.SERVICE, obj),
        JsonPatch: JsonPatch(ref, ({"op": "add", "path": "/metadata/annotations", "value": {"json": "yes"}},)),
        MergePatch: MergePatch(ref, {"metadata": {"labels": {"merged": "yes"}}}),
        DeleteObject: DeleteObject(ObjectRef(RouteKind.SERVICE, namespace, "doomed"), ""),
    }
    doomed = await kube.create(SERVICE, service("doomed", "shop"), namespace)
    examples[DeleteObject] = DeleteObject(ObjectRef(RouteKind.SERVICE, namespace, "doomed"),
                                          doomed["metadata"]["uid"])
    assert set(examples) == set(typing.get_args(TrafficChange)), "a new change type needs an example here"
    for change in examples.values():
        await controller_traffic.perform(kube, change)
    live = await kube.get(SERVICE, "shop-stable", namespace)
    assert live["metadata"]["labels"].get("applied") == "yes"
    assert live["metadata"]["labels"].get("merged") == "yes"
    assert live["metadata"]["annotations"] == {"json": "yes"}
    with pytest.raises(NotFound):
        await kube.get(SERVICE, "doomed", namespace)
    await controller_traffic.perform(kube, examples[DeleteObject])  # already gone: nothing to do
