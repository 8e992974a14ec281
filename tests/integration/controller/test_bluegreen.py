"""Blue-green on the real control plane: preview, pause, promotion, active switch, scale-down delay."""

from __future__ import annotations

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ROLLOUT, SERVICE
from tests.support.rollouts import (
    HASH,
    bluegreen_rollout,
    create_services,
    patch_status,
    replica_sets,
    set_image,
    wait_phase,
    wait_pods,
)
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


async def selector(kube: KubeClient, ns: str, svc: str) -> str:
    got = await kube.get(SERVICE, svc, ns)
    return str(got["spec"]["selector"].get(HASH, ""))


async def test_manual_promotion_switches_active_and_scales_old_down_after_delay(
    kube: KubeClient, namespace: str, controller: Controller
) -> None:
    await create_services(kube, namespace, "bg", "bg-active", "bg-preview")
    await kube.create(ROLLOUT, bluegreen_rollout("bg", previewService="bg-preview", autoPromotionEnabled=False,
                                                 scaleDownDelaySeconds=2, previewReplicaCount=1), namespace)
    ro = await wait_phase(kube, namespace, "bg", "Healthy")
    blue = ro["status"]["stableRS"]
    assert await selector(kube, namespace, "bg-active") == blue
    assert ro["status"]["blueGreen"]["activeSelector"] == blue

    await set_image(kube, namespace, "bg", "example/app:green")
    ro = await wait_phase(kube, namespace, "bg", "Paused")
    green = ro["status"]["currentPodHash"]
    assert [c["reason"] for c in ro["status"]["pauseConditions"]] == ["BlueGreenPause"]
    assert await selector(kube, namespace, "bg-preview") == green
    assert await selector(kube, namespace, "bg-active") == blue
    assert ro["status"]["blueGreen"]["previewSelector"] == green
    await wait_pods(kube, namespace, "bg", {blue: 3, green: 1})

    await patch_status(kube, namespace, "bg", {"pauseConditions": None})
    ro = await wait_phase(kube, namespace, "bg", "Healthy", timeout=90)
    assert ro["status"]["stableRS"] == green
    assert await selector(kube, namespace, "bg-active") == green
    assert ro["status"]["blueGreen"]["activeSelector"] == green
    # the old ReplicaSet is kept up for scaleDownDelaySeconds, then scaled to zero
    await wait_pods(kube, namespace, "bg", {green: 3}, timeout=60)
    rss = await replica_sets(kube, namespace, "bg")
    assert rss[blue]["spec"]["replicas"] == 0


async def test_auto_promotion_after_seconds(kube: KubeClient, namespace: str, controller: Controller) -> None:
    await create_services(kube, namespace, "auto", "auto-active", "auto-preview")
    await kube.create(ROLLOUT, bluegreen_rollout("auto", previewService="auto-preview", autoPromotionSeconds=2,
                                                 scaleDownDelaySeconds=1), namespace)
    await wait_phase(kube, namespace, "auto", "Healthy")
    await set_image(kube, namespace, "auto", "example/app:green")
    ro = await eventually(lambda: kube.get(ROLLOUT, "auto", namespace),
                          lambda r: r["status"].get("currentPodHash") != r["status"].get("stableRS"),
                          expected="a new revision being rolled out")
    green = ro["status"]["currentPodHash"]
    ro = await eventually(lambda: kube.get(ROLLOUT, "auto", namespace),
                          lambda r: r["status"].get("stableRS") == green and r["status"].get("phase") == "Healthy",
                          timeout=90, expected=f"auto-promotion to {green}")
    assert await selector(kube, namespace, "auto-active") == green


async def test_auto_promotion_enabled_without_delay_promotes_when_ready(
    kube: KubeClient, namespace: str, controller: Controller
) -> None:
    await create_services(kube, namespace, "fast", "fast-active")
    await kube.create(ROLLOUT, bluegreen_rollout("fast", scaleDownDelaySeconds=1), namespace)
    await wait_phase(kube, namespace, "fast", "Healthy")
    await set_image(kube, namespace, "fast", "example/app:green")
    ro = await eventually(
        lambda: kube.get(ROLLOUT, "fast", namespace),
        lambda r: r["status"].get("phase") == "Healthy" and r["status"].get("stableRS") == r["status"].get("currentPodHash")
        and r["status"].get("observedGeneration") == str(r["metadata"]["generation"])
        and (r["status"].get("blueGreen") or {}).get("activeSelector") == r["status"].get("currentPodHash"),
        timeout=90, expected="the green revision promoted and active",
    )
    await wait_pods(kube, namespace, "fast", {ro["status"]["currentPodHash"]: 3}, timeout=60)


async def test_switching_to_canary_releases_the_old_active_service(
    kube: KubeClient, namespace: str, controller: Controller
) -> None:
    """TestBlueGreenToCanary (functional_test.go:774): once the spec no longer names the activeService, its
    pod-template-hash selector and managed-by annotation are removed (Argo's service controller)."""
    await create_services(kube, namespace, "b2c", "b2c-active")
    await kube.create(ROLLOUT, bluegreen_rollout("b2c", replicas=2), namespace)
    ro = await wait_phase(kube, namespace, "b2c", "Healthy")
    assert await selector(kube, namespace, "b2c-active") == ro["status"]["stableRS"]
    await kube.patch(ROLLOUT, "b2c", {"spec": {"strategy": {"blueGreen": None, "canary": {
        "steps": [{"setWeight": 50}, {"pause": {}}]}}}}, namespace)
    svc = await eventually(lambda: kube.get(SERVICE, "b2c-active", namespace),
                           lambda s: HASH not in s["spec"]["selector"], timeout=30,
                           expected="the old active Service without a pod-template-hash selector")
    assert svc["spec"]["selector"] == {"app": "b2c"}
    assert "argo-rollouts.argoproj.io/managed-by-rollouts" not in (svc["metadata"].get("annotations") or {})
