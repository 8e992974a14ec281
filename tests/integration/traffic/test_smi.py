"""SMI end to end: the controller creates and owns the TrafficSplit (Argo's test/e2e CRD), moves its weights step by
step at the configured --traffic-split-api-version, corrects a hand edit, and returns it to the stable on abort."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import ROLLOUT, TRAFFICSPLITS
from tests.support.controller import controller_in_process
from tests.support.rollouts import canary_rollout, create_services, patch_status, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

V1ALPHA2 = next(k for k in TRAFFICSPLITS if k.version == "v1alpha2")


async def test_traffic_split_created_weighted_corrected_and_reset(
    kube: KubeClient, kubeconfig: Path, namespace: str, crds: None, smi_crds: list[str]
) -> None:
    await create_services(kube, namespace, "shop", "shop", "shop-stable", "shop-canary")
    routing = {"smi": {"rootService": "shop", "trafficSplitName": "shop-split"}}
    manifest = canary_rollout("shop", replicas=2, steps=[{"setWeight": 30}, {"pause": {}}],
                              stableService="shop-stable", canaryService="shop-canary", trafficRouting=routing)

    async def backends() -> list[dict[str, Any]] | None:
        try:
            return list((await kube.get(V1ALPHA2, "shop-split", namespace))["spec"]["backends"])
        except NotFound:  # not created yet
            return None

    def at(weight: int) -> list[dict[str, Any]]:
        return [{"service": "shop-canary", "weight": weight}, {"service": "shop-stable", "weight": 100 - weight}]

    async with controller_in_process(kubeconfig, namespace=namespace, disable_applications=True,
                                     traffic_split_api_version="v1alpha2"):
        await kube.create(ROLLOUT, manifest, namespace)
        await wait_phase(kube, namespace, "shop", "Healthy")
        await eventually(backends, lambda got: got == at(0), expected="TrafficSplit at canary 0")
        split = await kube.get(V1ALPHA2, "shop-split", namespace)
        assert split["spec"]["service"] == "shop"
        assert split["metadata"]["ownerReferences"][0]["name"] == "shop"

        await set_image(kube, namespace, "shop", "example/app:green")
        await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
        await eventually(backends, lambda got: got == at(30), expected="TrafficSplit at canary 30")

        await kube.patch(V1ALPHA2, "shop-split", {"spec": {"backends": at(90)}}, namespace, patch_type="merge")
        await eventually(backends, lambda got: got == at(30), expected="the hand edit corrected back to 30")

        await patch_status(kube, namespace, "shop", {"abort": True})
        await wait_phase(kube, namespace, "shop", "Degraded")
        await eventually(backends, lambda got: got == at(0), expected="TrafficSplit back at canary 0")
