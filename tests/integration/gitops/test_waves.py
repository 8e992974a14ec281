"""Waves with a Rollout: later waves wait for the Rollout's health, reported by the real Rollout controller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP, DEPLOYMENT, ROLLOUT
from tests.integration.gitops.conftest import app_probe, application, cm, deployment, status_of, synced_at
from tests.support.controller import controller_in_process
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


def rollout(name: str, *, image: str = "nginx:1", steps: list[dict[str, Any]] | None = None,
            wave: int = 1) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}},
                     "strategy": {"canary": {"steps": steps or []}}}}


async def test_deployment_in_wave_two_waits_for_the_rollout_in_wave_one(
        kube: KubeClient, kubeconfig: Path, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/rollout.yaml", rollout("canary"))
    repo.write("app/deploy.yaml", deployment("after", annotations={"argocd.argoproj.io/sync-wave": "2"}))
    sha = repo.commit()
    await kube.create(APPLICATION, application("waves", repo, namespace, automated={}), namespace)
    probe = app_probe(kube, "waves", namespace)

    def waits_for_rollout(app: dict[str, Any]) -> bool:
        op = status_of(app).get("operationState") or {}
        # the message names the Rollout both while applying it and while waiting for it: wait for the latter
        message = op.get("message", "")
        return (op.get("phase") == "Running" and f"argoproj.io/Rollout/{namespace}/canary" in message
                and "waiting for healthy state of" in message)

    app = await eventually(probe, waits_for_rollout, timeout=60,
                           expected="the sync waiting for the Rollout of wave 1, by name")
    assert "waiting for healthy state of" in status_of(app)["operationState"]["message"]
    with pytest.raises(NotFound):
        await kube.get(DEPLOYMENT, "after", namespace)

    async with controller_in_process(kubeconfig, namespace=namespace, extra_components=[]):
        app = await eventually(probe, synced_at(sha), timeout=90,
                               expected="sync completes once the Rollout is Healthy")
    assert (await kube.get(ROLLOUT, "canary", namespace))["status"]["phase"] == "Healthy"
    assert (await kube.get(DEPLOYMENT, "after", namespace))["metadata"]["name"] == "after"


async def test_rollout_paused_on_a_step_does_not_block_later_waves_with_the_option(
        kube: KubeClient, kubeconfig: Path, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    steps: list[dict[str, Any]] = [{"setWeight": 50}, {"pause": {}}]
    repo.write("app/rollout.yaml", rollout("paused", steps=steps))
    repo.write("app/cm.yaml", cm("config", "one", **{"argocd.argoproj.io/sync-wave": "2"}))
    first = repo.commit()
    body = application("paused", repo, namespace, automated={}, sync_options=["WaveReadyWhenPaused=true"])
    await kube.create(APPLICATION, body, namespace)
    probe = app_probe(kube, "paused", namespace)
    async with controller_in_process(kubeconfig, namespace=namespace, extra_components=[]):
        await eventually(probe, synced_at(first), timeout=90, expected="first sync (initial Rollout is Healthy)")
        repo.write("app/rollout.yaml", rollout("paused", image="nginx:2", steps=steps))
        repo.write("app/cm.yaml", cm("config", "two", **{"argocd.argoproj.io/sync-wave": "2"}))
        second = repo.commit()
        app = await eventually(probe, synced_at(second), timeout=90,
                               expected="sync of wave 2 while the Rollout waits on its pause step")
        live = await kube.get(ROLLOUT, "paused", namespace)
        assert live["status"]["phase"] == "Paused"
        assert (await kube.get(CONFIGMAP, "config", namespace))["data"] == {"key": "two"}
        assert status_of(app)["health"]["status"] == "Suspended"
