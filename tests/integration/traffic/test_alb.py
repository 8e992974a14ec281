"""ALB canaries end to end: the real controller writes the AWS Load Balancer Controller's action and condition
annotations (and header-route paths) on the user's Ingresses on the real API server; no AWS is needed for that,
exactly as for Argo's own e2e tests (test/e2e/aws_test.go, header-routing/alb-header-route-multi-ingress.yaml).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import INGRESS, ROLLOUT
from rollouts.traffic.alb import MANAGED_ANNOTATIONS
from tests.support.rollouts import canary_rollout, create_services, patch_status, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

A = "alb.ingress.kubernetes.io"
STEPS: list[dict[str, Any]] = [
    {"setWeight": 20}, {"pause": {}},
    {"setHeaderRoute": {"name": "header-route",
                        "match": [{"headerName": "Custom-Header", "headerValue": {"exact": "Mozilla*"}}]}},
    {"pause": {}},
    {"setHeaderRoute": {"name": "header-route"}}, {"pause": {}},
]


def alb_ingress(name: str) -> dict[str, Any]:
    backend = {"service": {"name": "action1", "port": {"name": "use-annotation"}}}
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "annotations": {"kubernetes.io/ingress.class": "alb"}},
        "spec": {"rules": [{"http": {"paths": [{"path": "/*", "pathType": "ImplementationSpecific",
                                                 "backend": backend}]}}]},
    }


async def weights(kube: KubeClient, ns: str, name: str, action: str = "action1") -> dict[str, int] | None:
    annotations = (await kube.get(INGRESS, name, ns))["metadata"].get("annotations") or {}
    raw = annotations.get(f"{A}/actions.{action}")
    if raw is None:
        return None
    return {g["ServiceName"]: g["Weight"] for g in json.loads(raw)["ForwardConfig"]["TargetGroups"]}


async def wait_weights(kube: KubeClient, ns: str, want: dict[str, int], action: str = "action1") -> None:
    for name in ("alb-a", "alb-b"):
        await eventually(lambda n=name: weights(kube, ns, n, action), lambda got: got == want,  # type: ignore[misc]
                         expected=f"Ingress {name} action {action} weights {want}")


async def start(kube: KubeClient, ns: str, routing: dict[str, Any]) -> None:
    await create_services(kube, ns, "shop", "shop-stable", "shop-canary", "action1")
    manifest = canary_rollout("shop", replicas=2, steps=STEPS, stableService="shop-stable",
                              canaryService="shop-canary", trafficRouting=routing)
    await kube.create(ROLLOUT, manifest, ns)
    await wait_phase(kube, ns, "shop", "Healthy")


async def promote(kube: KubeClient, ns: str) -> None:
    await patch_status(kube, ns, "shop", {"pauseConditions": None})


async def test_alb_weights_header_route_and_hand_edit(kube: KubeClient, namespace: str,
                                                     controller: Controller) -> None:
    for name in ("alb-a", "alb-b"):
        await kube.create(INGRESS, alb_ingress(name), namespace)
    routing = {"managedRoutes": [{"name": "header-route"}],
               "alb": {"ingresses": ["alb-a", "alb-b"], "rootService": "action1", "servicePort": 8080}}
    await start(kube, namespace, routing)
    await wait_weights(kube, namespace, {"shop-canary": 0, "shop-stable": 100})

    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=1)
    await wait_weights(kube, namespace, {"shop-canary": 20, "shop-stable": 80})

    # A hand edit of the action is corrected (the Ingress informer re-plans the Rollout).
    edited = json.dumps({"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"ServiceName": "shop-canary", "ServicePort": "8080", "Weight": 70},
        {"ServiceName": "shop-stable", "ServicePort": "8080", "Weight": 30}]}})
    await kube.patch(INGRESS, "alb-a", {"metadata": {"annotations": {f"{A}/actions.action1": edited}}}, namespace,
                     patch_type="merge")
    await wait_weights(kube, namespace, {"shop-canary": 20, "shop-stable": 80})

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=90)
    await wait_weights(kube, namespace, {"shop-canary": 100}, action="header-route")
    ingress = await kube.get(INGRESS, "alb-b", namespace)
    assert json.loads(ingress["metadata"]["annotations"][f"{A}/conditions.header-route"]) == [
        {"field": "http-header", "httpHeaderConfig": {"httpHeaderName": "Custom-Header", "values": ["Mozilla*"]}}]
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert [p["backend"]["service"]["name"] for p in paths] == ["header-route", "action1"]

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=5, timeout=90)
    ingress = await kube.get(INGRESS, "alb-a", namespace)
    assert f"{A}/actions.header-route" not in ingress["metadata"]["annotations"]
    assert [p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]] == ["action1"]

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    await wait_weights(kube, namespace, {"shop-canary": 0, "shop-stable": 100})
    managed = json.loads((await kube.get(INGRESS, "alb-b", namespace))["metadata"]["annotations"][MANAGED_ANNOTATIONS])
    assert managed == {"shop": [f"{A}/actions.action1"]}


async def test_alb_ping_pong_alternates_services(kube: KubeClient, namespace: str, controller: Controller) -> None:
    # Argo's e2e TestALBPingPongUpdate (test/e2e/aws_test.go) with its weights.
    ingress = alb_ingress("alb-a")
    ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "root"
    await kube.create(INGRESS, ingress, namespace)
    await create_services(kube, namespace, "shop", "ping", "pong", "root")
    manifest = canary_rollout("shop", replicas=2, steps=[{"setWeight": 25}, {"pause": {}}],
                              pingPong={"pingService": "ping", "pongService": "pong"},
                              trafficRouting={"alb": {"ingress": "alb-a", "rootService": "root", "servicePort": 80}})
    await kube.create(ROLLOUT, manifest, namespace)
    await wait_phase(kube, namespace, "shop", "Healthy")

    async def wait_ping_pong(ping: int, pong: int) -> None:
        await eventually(lambda: weights(kube, namespace, "alb-a", "root"),
                         lambda got: got == {"ping": ping, "pong": pong}, expected=f"ping {ping} pong {pong}")

    await wait_ping_pong(100, 0)
    for image, during, after in (("example/app:green", (75, 25), (0, 100)), ("example/app:blue", (25, 75), (100, 0))):
        await set_image(kube, namespace, "shop", image)
        await wait_phase(kube, namespace, "shop", "Paused", step=1)
        await wait_ping_pong(*during)
        await promote(kube, namespace)
        await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
        await wait_ping_pong(*after)
