"""A Rollout is planned again when an object it references appears or changes (TestFixInvalidSpec,
TestBackgroundAnalysisWithArgs in Argo's e2e suite: the Rollout is applied before its AnalysisTemplate)."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISTEMPLATE, CLUSTERANALYSISTEMPLATE, ROLLOUT
from tests.support.rollouts import canary_rollout, condition, wait_phase

pytestmark = pytest.mark.integration


def template(kind: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": {"name": name},
            "spec": {"metrics": [{"name": "ok", "provider": {"job": {"spec": {"backoffLimit": 0, "template": {
                "spec": {"restartPolicy": "Never", "containers": [
                    {"name": "c", "image": "alpine:3.8", "command": ["sh", "-c"], "args": ["exit 0"]}]}}}}}}]}}


@pytest.mark.parametrize("cluster", [False, True], ids=["AnalysisTemplate", "ClusterAnalysisTemplate"])
async def test_a_template_created_after_the_rollout_clears_invalid_spec_at_once(
    kube: KubeClient, namespace: str, controller: Controller, cluster: bool
) -> None:
    name = f"late-{namespace[-5:]}"
    manifest = canary_rollout("late", replicas=1, steps=[{"setWeight": 50}, {"pause": {"duration": 1}}])
    manifest["spec"]["strategy"]["canary"]["analysis"] = {
        "templates": [{"templateName": name, **({"clusterScope": True} if cluster else {})}]}
    await kube.create(ROLLOUT, manifest, namespace)
    ro = await wait_phase(kube, namespace, "late", "Degraded")
    assert name in (condition(ro, "InvalidSpec") or {}).get("message", "")
    if cluster:
        await kube.create(CLUSTERANALYSISTEMPLATE, template("ClusterAnalysisTemplate", name))
    else:
        await kube.create(ANALYSISTEMPLATE, template("AnalysisTemplate", name), namespace)
    try:
        # Sooner than the 20 s retry every invalid Rollout gets: the template's own event re-plans it.
        ro = await wait_phase(kube, namespace, "late", "Healthy", timeout=15)
        assert (condition(ro, "InvalidSpec") or {}).get("status") != "True"
    finally:
        if cluster:
            await kube.delete(CLUSTERANALYSISTEMPLATE, name)
