"""Traefik, APISIX and Ambassador canaries end to end: the real controller drives the routers' objects (with the
projects' genuine CRDs, tests/support/router_crds.py) on the real API server, step by step; no data plane."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ROLLOUT, TRAEFIKSERVICE
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
