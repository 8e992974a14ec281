"""Traffic-routed canaries end to end: the real controller drives NGINX canary Ingresses and Gateway API
HTTPRoutes on the real API server (objects are stored and validated without a data plane), step by step.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import HTTPROUTE, INGRESS, REPLICASET, ROLLOUT, SERVICE
from rollouts.traffic.gatewayapi import MANAGED_ROUTES_ANNOTATION
from tests.support.rollouts import (
    HASH,
    canary_rollout,
    condition,
    create_services,
    get_rollout,
    patch_status,
    ready_pods_by_hash,
    set_image,
    wait_phase,
    wait_pods,
)
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

P = "nginx.ingress.kubernetes.io"
STEPS: list[dict[str, Any]] = [{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}, {"setWeight": 100}, {"pause": {}}]


def stable_ingress() -> dict[str, Any]:
    backend = {"service": {"name": "shop-stable", "port": {"number": 80}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "shop.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}],
        },
    }


def http_route() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "shop"},
        "spec": {
            "parentRefs": [{"name": "gw"}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": "shop-stable", "port": 80, "weight": 100}, {"name": "shop-canary", "port": 80, "weight": 0}],
                }
            ],
        },
    }


async def start(kube: KubeClient, ns: str, routing: dict[str, Any], steps: list[dict[str, Any]] = STEPS, **kw: Any) -> dict[str, Any]:
    await create_services(kube, ns, "shop", "shop-stable", "shop-canary")
    manifest = canary_rollout("shop", replicas=4, steps=steps, stableService="shop-stable", canaryService="shop-canary",
                              trafficRouting=routing, **kw)
    await kube.create(ROLLOUT, manifest, ns)
    return await wait_phase(kube, ns, "shop", "Healthy")


async def canary_weight(kube: KubeClient, ns: str) -> str | None:
    try:
        ing = await kube.get(INGRESS, "shop-web-canary", ns)
    except NotFound:
        return None
    return str((ing["metadata"].get("annotations") or {}).get(f"{P}/canary-weight"))


async def wait_canary_weight(kube: KubeClient, ns: str, want: str) -> None:
    await eventually(lambda: canary_weight(kube, ns), lambda got: got == want, expected=f"canary Ingress weight {want}")


async def route_weights(kube: KubeClient, ns: str) -> list[int]:
    route = await kube.get(HTTPROUTE, "shop", ns)
    return [int(b.get("weight", 1)) for b in route["spec"]["rules"][0]["backendRefs"]]


async def wait_route_weights(kube: KubeClient, ns: str, want: list[int]) -> None:
    await eventually(lambda: route_weights(kube, ns), lambda got: got == want, expected=f"HTTPRoute weights stable/canary {want}")


async def promote(kube: KubeClient, ns: str) -> None:
    await patch_status(kube, ns, "shop", {"pauseConditions": None})


async def test_nginx_canary_10_50_100_then_weight_0(kube: KubeClient, namespace: str, controller: Controller) -> None:
    await kube.create(INGRESS, stable_ingress(), namespace)
    first = await start(kube, namespace, {"nginx": {"stableIngress": "web"}})
    stable = first["status"]["stableRS"]
    await set_image(kube, namespace, "shop", "example/app:green")

    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]
    await wait_canary_weight(kube, namespace, "10")
    await wait_pods(kube, namespace, "shop", {stable: 4, canary: 1})  # ceil(4 x 10%) = 1, stable stays at full size
    ing = await kube.get(INGRESS, "shop-web-canary", namespace)
    assert ing["metadata"]["annotations"][f"{P}/canary"] == "true"
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "shop-canary"
    assert ing["metadata"]["ownerReferences"][0]["name"] == "shop"
    assert (await kube.get(SERVICE, "shop-canary", namespace))["spec"]["selector"][HASH] == canary

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=90)
    await wait_canary_weight(kube, namespace, "50")
    await wait_pods(kube, namespace, "shop", {stable: 4, canary: 2})

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=5, timeout=90)
    await wait_canary_weight(kube, namespace, "100")
    await wait_pods(kube, namespace, "shop", {stable: 4, canary: 4})

    await promote(kube, namespace)
    ro = await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    assert ro["status"]["stableRS"] == canary
    await wait_canary_weight(kube, namespace, "0")  # kept at weight 0 after promotion, as Argo does
    assert (await kube.get(SERVICE, "shop-stable", namespace))["spec"]["selector"][HASH] == canary


async def test_nginx_abort_returns_weight_to_0(kube: KubeClient, namespace: str, controller: Controller) -> None:
    await kube.create(INGRESS, stable_ingress(), namespace)
    first = await start(kube, namespace, {"nginx": {"stableIngress": "web"}})
    stable = first["status"]["stableRS"]
    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=1)
    await wait_canary_weight(kube, namespace, "10")

    await patch_status(kube, namespace, "shop", {"abort": True})
    await wait_phase(kube, namespace, "shop", "Degraded")
    await wait_canary_weight(kube, namespace, "0")
    await wait_pods(kube, namespace, "shop", {stable: 4})


async def test_gateway_api_canary_moves_backend_weights(kube: KubeClient, namespace: str, controller: Controller,
                                                        gateway_api: list[str]) -> None:
    await kube.create(HTTPROUTE, http_route(), namespace)
    first = await start(kube, namespace, {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}})
    stable = first["status"]["stableRS"]
    await wait_route_weights(kube, namespace, [100, 0])
    await set_image(kube, namespace, "shop", "example/app:green")

    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]
    await wait_route_weights(kube, namespace, [90, 10])
    await wait_pods(kube, namespace, "shop", {stable: 4, canary: 1})

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=90)
    await wait_route_weights(kube, namespace, [50, 50])

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=5, timeout=90)
    await wait_route_weights(kube, namespace, [0, 100])

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    await wait_route_weights(kube, namespace, [100, 0])
    route = await kube.get(HTTPROUTE, "shop", namespace)
    assert route["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}]


async def test_gateway_api_header_route_on_and_off(kube: KubeClient, namespace: str, controller: Controller,
                                                   gateway_api: list[str]) -> None:
    steps: list[dict[str, Any]] = [
        {"setWeight": 10},
        {"setHeaderRoute": {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"exact": "yes"}}]}},
        {"pause": {}},
        {"setHeaderRoute": {"name": "beta"}},
        {"pause": {}},
    ]
    await kube.create(HTTPROUTE, http_route(), namespace)
    routing = {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}, "managedRoutes": [{"name": "beta"}]}
    await start(kube, namespace, routing, steps=steps)
    await set_image(kube, namespace, "shop", "example/app:green")

    async def header_rules() -> list[dict[str, Any]]:
        route = await kube.get(HTTPROUTE, "shop", namespace)
        return [r for r in route["spec"]["rules"] if any(m.get("headers") for m in r.get("matches") or [])]

    await wait_phase(kube, namespace, "shop", "Paused", step=2)
    rules = await eventually(header_rules, lambda rules: len(rules) == 1, expected="one header rule")
    assert rules[0]["matches"][0]["headers"] == [{"name": "X-Beta", "type": "Exact", "value": "yes"}]
    assert [b["name"] for b in rules[0]["backendRefs"]] == ["shop-canary"]
    await wait_route_weights(kube, namespace, [90, 10])

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=4, timeout=90)
    await eventually(header_rules, lambda rules: rules == [], expected="header rule removed by setHeaderRoute without match")

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    route = await kube.get(HTTPROUTE, "shop", namespace)
    assert len(route["spec"]["rules"]) == 1
    assert MANAGED_ROUTES_ANNOTATION not in (route["metadata"].get("annotations") or {})


async def test_hand_edited_canary_ingress_weight_is_corrected(kube: KubeClient, namespace: str,
                                                              controller: Controller) -> None:
    await kube.create(INGRESS, stable_ingress(), namespace)
    await start(kube, namespace, {"nginx": {"stableIngress": "web"}})
    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=1)
    await wait_canary_weight(kube, namespace, "10")
    await kube.patch(INGRESS, "shop-web-canary", {"metadata": {"annotations": {f"{P}/canary-weight": "60"}}}, namespace)
    assert await canary_weight(kube, namespace) == "60"
    await wait_canary_weight(kube, namespace, "10")


async def test_hand_edited_route_weight_is_corrected(kube: KubeClient, namespace: str, controller: Controller,
                                                     gateway_api: list[str]) -> None:
    await kube.create(HTTPROUTE, http_route(), namespace)
    await start(kube, namespace, {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}})
    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=1)
    await wait_route_weights(kube, namespace, [90, 10])

    route = await kube.get(HTTPROUTE, "shop", namespace)
    ops = [{"op": "replace", "path": "/spec/rules/0/backendRefs/1/weight", "value": 60}]
    await kube.patch(HTTPROUTE, "shop", ops, namespace, patch_type="json")
    assert json.dumps(route["spec"]) != json.dumps((await kube.get(HTTPROUTE, "shop", namespace))["spec"])
    await wait_route_weights(kube, namespace, [90, 10])


async def test_missing_stable_ingress_is_invalid_spec_and_nothing_is_applied(kube: KubeClient, namespace: str,
                                                                              controller: Controller) -> None:
    await create_services(kube, namespace, "shop", "shop-stable", "shop-canary")
    manifest = canary_rollout("shop", replicas=2, steps=STEPS, stableService="shop-stable", canaryService="shop-canary",
                              trafficRouting={"nginx": {"stableIngress": "web"}})
    await kube.create(ROLLOUT, manifest, namespace)

    def invalid(ro: dict[str, Any]) -> bool:
        cond = condition(ro, "InvalidSpec")
        return cond is not None and cond["status"] == "True"

    ro = await eventually(lambda: get_rollout(kube, namespace, "shop"), invalid, expected="InvalidSpec condition")
    cond = condition(ro, "InvalidSpec")
    assert cond is not None and "stable Ingress 'web' not found" in cond["message"]
    assert await canary_weight(kube, namespace) is None


async def test_abort_returns_weight_to_0_before_the_canary_scales_down(kube: KubeClient, namespace: str,
                                                                      controller: Controller) -> None:
    await kube.create(INGRESS, stable_ingress(), namespace)
    first = await start(kube, namespace, {"nginx": {"stableIngress": "web"}}, abortScaleDownDelaySeconds=2)
    stable = first["status"]["stableRS"]
    await set_image(kube, namespace, "shop", "example/app:green")
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]
    await wait_canary_weight(kube, namespace, "10")
    await wait_pods(kube, namespace, "shop", {stable: 4, canary: 1})

    await patch_status(kube, namespace, "shop", {"abort": True})

    async def probe() -> tuple[int, str | None]:
        # replicas read before the weight: after an abort the weight only falls, so a canary already scaled
        # down while a later read still shows weight > 0 means it was scaled down under live traffic
        replicas = int((await kube.get(REPLICASET, f"shop-{canary}", namespace))["spec"]["replicas"])
        weight = await canary_weight(kube, namespace)
        if replicas < 1 and weight != "0":
            raise AssertionError(f"canary scaled to {replicas} while its weight was still {weight}")
        return replicas, weight

    await eventually(probe, lambda seen: seen == (0, "0"), timeout=60, expected="weight 0, then canary scaled to 0")
    await wait_pods(kube, namespace, "shop", {stable: 4})


async def test_dynamic_stable_scale_during_progress_and_abort(kube: KubeClient, namespace: str,
                                                              controller: Controller) -> None:
    steps: list[dict[str, Any]] = [{"setWeight": 25}, {"pause": {}}, {"setWeight": 75}, {"pause": {}}]
    await kube.create(INGRESS, stable_ingress(), namespace)
    first = await start(kube, namespace, {"nginx": {"stableIngress": "web"}}, steps=steps, dynamicStableScale=True,
                        abortScaleDownDelaySeconds=2)
    stable = first["status"]["stableRS"]
    await set_image(kube, namespace, "shop", "example/app:green")

    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]
    await wait_canary_weight(kube, namespace, "25")
    await wait_pods(kube, namespace, "shop", {stable: 3, canary: 1})  # 4 x 75% stays stable, 4 x 25% canary

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=90)
    await wait_canary_weight(kube, namespace, "75")
    await wait_pods(kube, namespace, "shop", {stable: 1, canary: 3})

    await patch_status(kube, namespace, "shop", {"abort": True})

    async def probe() -> tuple[str | None, int]:
        # weight, stable pods, weight again: when both weight reads agree, the weight held while the pods were
        # counted, so stable must have had enough ready pods for its share (4 x (100 - w)%, rounded up)
        before = await canary_weight(kube, namespace)
        ready = (await ready_pods_by_hash(kube, namespace, "shop")).get(stable, 0)
        after = await canary_weight(kube, namespace)
        if before == after and before is not None:
            needed = -(-4 * (100 - int(before)) // 100)
            if ready < needed:
                raise AssertionError(f"stable had {ready} ready pods while receiving {100 - int(before)}% of traffic")
        return after, ready

    await eventually(probe, lambda seen: seen == ("0", 4), timeout=90, expected="weight 0 with 4 stable pods")
    await wait_pods(kube, namespace, "shop", {stable: 4})


async def test_nginx_header_route_on_and_off(kube: KubeClient, namespace: str, controller: Controller) -> None:
    steps: list[dict[str, Any]] = [
        {"setWeight": 10},
        {"setHeaderRoute": {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"prefix": "v2"}}]}},
        {"pause": {}},
        {"setHeaderRoute": {"name": "beta"}},
        {"pause": {}},
    ]
    await kube.create(INGRESS, stable_ingress(), namespace)
    await start(kube, namespace, {"nginx": {"stableIngress": "web"}, "managedRoutes": [{"name": "beta"}]}, steps=steps)
    await set_image(kube, namespace, "shop", "example/app:green")

    async def header_annotations() -> dict[str, str]:
        ing = await kube.get(INGRESS, "shop-web-canary", namespace)
        return {k: v for k, v in (ing["metadata"].get("annotations") or {}).items() if "canary-by-header" in k}

    await wait_phase(kube, namespace, "shop", "Paused", step=2)
    want = {f"{P}/canary-by-header": "X-Beta", f"{P}/canary-by-header-pattern": "^v2.*"}
    await eventually(header_annotations, lambda got: got == want, expected=f"header annotations {want}")
    await wait_canary_weight(kube, namespace, "10")

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=4, timeout=90)
    await eventually(header_annotations, lambda got: got == {}, expected="no header annotations")
    await wait_canary_weight(kube, namespace, "10")


async def test_one_missing_stable_ingress_of_several_applies_nothing(kube: KubeClient, namespace: str,
                                                                     controller: Controller) -> None:
    await kube.create(INGRESS, stable_ingress(), namespace)
    await create_services(kube, namespace, "shop", "shop-stable", "shop-canary")
    manifest = canary_rollout("shop", replicas=2, steps=STEPS, stableService="shop-stable", canaryService="shop-canary",
                              trafficRouting={"nginx": {"stableIngresses": ["web", "api"]}})
    await kube.create(ROLLOUT, manifest, namespace)

    def invalid(ro: dict[str, Any]) -> bool:
        cond = condition(ro, "InvalidSpec")
        return cond is not None and cond["status"] == "True" and "stable Ingress 'api' not found" in cond["message"]

    await eventually(lambda: get_rollout(kube, namespace, "shop"), invalid, expected="InvalidSpec naming Ingress 'api'")
    assert await canary_weight(kube, namespace) is None, "the canary Ingress for 'web' must not be half-applied"
