"""workloadRef: the Rollout takes its pod template from a Deployment, and follows changes to it."""

from __future__ import annotations

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import DEPLOYMENT, ROLLOUT
from tests.support.rollouts import condition, create_services, replica_sets, wait_phase, wait_pods
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


def deployment(image: str) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "app", "image": image}]}}},
    }


def rollout() -> dict[str, object]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"},
        "spec": {
            "replicas": 4, "selector": {"matchLabels": {"app": "web"}},
            "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "strategy": {"canary": {"stableService": "web-stable", "canaryService": "web-canary",
                                    "steps": [{"setWeight": 25}, {"pause": {}}]}},
        },
    }


async def test_rollout_follows_the_referenced_deployment_template(kube: KubeClient, namespace: str,
                                                                  controller: Controller) -> None:
    await create_services(kube, namespace, "web", "web-stable", "web-canary")
    await kube.create(ROLLOUT, rollout(), namespace)
    ro = await wait_phase(kube, namespace, "web", "Degraded")
    assert "web" in (condition(ro, "InvalidSpec") or {}).get("message", ""), "a missing Deployment is named"

    await kube.create(DEPLOYMENT, deployment("example/app:blue"), namespace)
    ro = await wait_phase(kube, namespace, "web", "Healthy")
    stable = ro["status"]["stableRS"]
    rs = (await replica_sets(kube, namespace, "web"))[stable]
    assert rs["spec"]["template"]["spec"]["containers"][0]["image"] == "example/app:blue"

    await kube.patch(DEPLOYMENT, "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "example/app:green"}]}}}}, namespace, patch_type="strategic")
    ro = await wait_phase(kube, namespace, "web", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]
    await wait_pods(kube, namespace, "web", {stable: 3, canary: 1})


async def test_scale_down_onsuccess_retires_the_deployment_once_healthy(kube: KubeClient, namespace: str,
                                                                         controller: Controller) -> None:
    await create_services(kube, namespace, "web", "web-stable", "web-canary")
    dep = deployment("example/app:blue")
    dep["spec"]["replicas"] = 3  # type: ignore[index]
    await kube.create(DEPLOYMENT, dep, namespace)
    ro = rollout()
    ro["spec"]["workloadRef"]["scaleDown"] = "onsuccess"  # type: ignore[index]
    await kube.create(ROLLOUT, ro, namespace)
    await wait_phase(kube, namespace, "web", "Healthy")
    await eventually(lambda: kube.get(DEPLOYMENT, "web", namespace), lambda d: d["spec"]["replicas"] == 0,
                     expected="the workloadRef Deployment scaled to 0 once the Rollout is Healthy")
