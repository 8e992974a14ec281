"""A Namespace declared in Git is applied first: its contents need no CreateNamespace option.

The walkthrough of issue 14 keeps ``manifests/namespace.yaml`` beside the Rollout; before, the first sync
failed with "namespace 'kuard' does not exist: create it or add the sync option CreateNamespace=true".
gitops-engine's kind order applies Namespaces before everything else in a wave.
"""

from __future__ import annotations

import contextlib

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP, NAMESPACE
from tests.integration.gitops.conftest import app_probe, application, cm, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


async def test_namespace_from_git_is_created_before_what_lives_in_it(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    target = f"{namespace}-git"
    repo.write("manifests/namespace.yaml", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}})
    repo.write("manifests/cm.yaml", cm("inside"))
    sha = repo.commit()
    body = application("nsgit", repo, target, path="manifests", automated={"prune": True, "selfHeal": True})
    await kube.create(APPLICATION, body, namespace)
    try:
        app = await eventually(app_probe(kube, "nsgit", namespace), synced_at(sha), timeout=60,
                               expected="Synced with the Namespace from Git, without CreateNamespace=true")
        assert status_of(app)["operationState"]["phase"] == "Succeeded"
        names = [r["name"] for r in status_of(app)["operationState"]["syncResult"]["resources"]]
        assert names.index(target) < names.index("inside"), names
        live_ns = await kube.get(NAMESPACE, target)
        assert live_ns["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] == f"nsgit:/Namespace:/{target}"
        assert (await kube.get(CONFIGMAP, "inside", target))["data"] == {"key": "v"}
    finally:
        with contextlib.suppress(NotFound):
            await kube.delete(NAMESPACE, target)
