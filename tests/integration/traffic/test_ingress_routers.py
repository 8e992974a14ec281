"""Traefik, APISIX and Ambassador canaries end to end: the real controller drives the routers' objects (with the
projects' genuine CRDs, tests/support/router_crds.py) on the real API server, step by step; no data plane."""

from __future__ import annotations

import time
from typing import Any

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APISIXROUTE, MAPPING, ROLLOUT, TRAEFIKSERVICE
from tests.support.rollouts import canary_rollout, create_services, patch_status, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

STEPS: list[dict[str, Any]] = [{"setWeight": 30}, {"pause": {}}]


async def start(kube: KubeClient, ns: str, routing: dict[str, Any], steps: list[dict[str, Any]] = STEPS) -> None:
    await create_services(kube, ns, "shop", "shop-stable", "shop-canary")
    manifest = canary_rollout("shop", replicas=2, steps=steps, stableService="shop-stable",
                              canaryService="shop-canary", trafficRouting=routing)
    await kube.create(ROLLOUT, manifest, ns)
    await wait_phase(kube, ns, "shop", "Healthy")


async def promote(kube: KubeClient, ns: str) -> None:
    await patch_status(kube, ns, "shop", {"pauseConditions": None})


async def test_traefik_weighted_service(kube: KubeClient, namespace: str, controller: Controller,
                                        traefik_crds: list[str]) -> None:
    await kube.create(TRAEFIKSERVICE, {
        "apiVersion": "traefik.io/v1alpha1", "kind": "TraefikService", "metadata": {"name": "shop"},
        "spec": {"weighted": {"services": [{"name": "shop-stable", "port": 80, "weight": 100},
                                           {"name": "shop-canary", "port": 80, "weight": 0}]}}}, namespace)

    async def weights() -> list[int]:
        obj = await kube.get(TRAEFIKSERVICE, "shop", namespace)
        return [int(s.get("weight", -1)) for s in obj["spec"]["weighted"]["services"]]

    async def wait_weights(want: list[int]) -> None:
        await eventually(weights, lambda got: got == want, expected=f"TraefikService weights stable/canary {want}")

    await start(kube, namespace, {"traefik": {"weightedTraefikServiceName": "shop"}})
    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=1)
    await wait_weights([70, 30])
    ops = [{"op": "replace", "path": "/spec/weighted/services/1/weight", "value": 90}]
    await kube.patch(TRAEFIKSERVICE, "shop", ops, namespace, patch_type="json")
    await wait_weights([70, 30])  # the hand edit is corrected (the TraefikService informer re-plans)
    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    await wait_weights([100, 0])


async def test_apisix_weights_and_header_route(kube: KubeClient, namespace: str, controller: Controller,
                                               apisix_crds: list[str]) -> None:
    backends = [{"serviceName": "shop-stable", "servicePort": 80, "weight": 100},
                {"serviceName": "shop-canary", "servicePort": 80, "weight": 0}]
    await kube.create(APISIXROUTE, {
        "apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute", "metadata": {"name": "shop"},
        "spec": {"http": [{"name": "main", "match": {"paths": ["/*"]}, "backends": backends}]}}, namespace)
    steps: list[dict[str, Any]] = [
        {"setHeaderRoute": {"name": "set-header",
                            "match": [{"headerName": "trace", "headerValue": {"exact": "debug"}}]}},
        {"pause": {}}, {"setWeight": 5}, {"pause": {}}, {"setHeaderRoute": {"name": "set-header"}}, {"pause": {}}]

    async def weights() -> list[int]:
        obj = await kube.get(APISIXROUTE, "shop", namespace)
        return [int(b.get("weight", -1)) for b in obj["spec"]["http"][0]["backends"]]

    async def header_route() -> dict[str, Any] | None:
        try:
            return await kube.get(APISIXROUTE, "set-header", namespace)
        except NotFound:
            return None

    await start(kube, namespace, {"managedRoutes": [{"name": "set-header"}],
                                  "apisix": {"route": {"name": "shop", "rules": ["main"]}}}, steps)
    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=1)
    route = await eventually(header_route, lambda got: got is not None, expected="ApisixRoute set-header created")
    assert route is not None
    rule = route["spec"]["http"][0]
    assert rule["backends"] == [{"serviceName": "shop-canary", "servicePort": 80, "weight": 100}]
    assert rule["match"]["exprs"] == [{"subject": {"scope": "Header", "name": "trace"}, "op": "Equal",
                                       "value": "debug"}]
    assert rule["priority"] == 1 and route["metadata"]["ownerReferences"][0]["name"] == "shop"
    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=90)
    await eventually(weights, lambda got: got == [95, 5], expected="ApisixRoute weights stable/canary 95/5")
    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=5, timeout=90)
    await eventually(header_route, lambda got: got is None, expected="ApisixRoute set-header deleted")
    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    await eventually(weights, lambda got: got == [100, 0], expected="ApisixRoute weights back to 100/0")


async def test_ambassador_canary_mapping(kube: KubeClient, namespace: str, controller: Controller,
                                         ambassador_crds: list[str]) -> None:
    await kube.create(MAPPING, {"apiVersion": "getambassador.io/v2", "kind": "Mapping", "metadata": {"name": "shop"},
                                "spec": {"prefix": "/shop/", "service": "shop-stable:80"}}, namespace)

    async def canary() -> dict[str, Any] | None:
        try:
            return (await kube.get(MAPPING, "shop-canary", namespace))["spec"]
        except NotFound:
            return None

    await start(kube, namespace, {"ambassador": {"mappings": ["shop"]}})
    assert await canary() is None
    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=1)
    await eventually(canary, lambda got: got == {"prefix": "/shop/", "service": "shop-canary:80", "weight": 30},
                     expected="canary Mapping at weight 30")
    await promote(kube, namespace)
    # As Argo: the canary Mapping goes to weight 0 first and is deleted about 5 s after that write (the API
    # server's managedFields time has whole seconds, so at least 4 s after we see the 0).
    zero = await eventually(canary, lambda got: got is None or got.get("weight") == 0, timeout=90,
                            expected="canary Mapping at weight 0")
    assert zero is not None and zero["weight"] == 0, "the canary Mapping was deleted without going to weight 0"
    seen_zero = time.monotonic()
    await eventually(canary, lambda got: got is None, timeout=30, expected="canary Mapping deleted after weight 0")
    waited = time.monotonic() - seen_zero
    assert 3.8 <= waited <= 12, f"deleted {waited:.1f} s after weight 0 (Argo waits 5 s)"
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
