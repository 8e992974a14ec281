"""How many passes a change costs: the reconciler's own writes do not wake the application again (issue 22)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler, GitopsConfig
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION
from tests.integration.gitops.conftest import app_probe, application, cm, reconciler_running, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


async def idle_passes(rec: ApplicationReconciler, at_least: int) -> int:
    """The pass count once it reached ``at_least`` and nothing is queued or being worked on."""
    async def count() -> int:
        return rec.reconciles

    return await eventually(count, lambda n: n >= at_least and not len(rec.queue) and not rec.queue.in_flight,
                            timeout=30, expected=f"at least {at_least} passes, then an idle queue")


async def test_own_writes_are_not_passes(kube: KubeClient, namespace: str, crds: None, repo: GitRepo,
                                         tmp_path: Path) -> None:
    """A refresh request is one pass, although it writes the status and removes the annotation (two watch
    events of our own); a label someone else sets is one more pass, and it writes nothing."""
    repo.write("app/cm.yaml", cm("settings"))
    head = repo.commit("first")
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=600.0, cache_dir=tmp_path / "cache")
    async with reconciler_running(kube, config) as rec:
        await kube.create(APPLICATION, application("passes", repo, namespace, automated={}), namespace)
        probe = app_probe(kube, "passes", namespace)
        await eventually(probe, synced_at(head), timeout=60, expected=f"Synced at {head}")
        before = await idle_passes(rec, 1)
        await kube.patch(APPLICATION, "passes", {"metadata": {"annotations": {
            "argocd.argoproj.io/refresh": "normal"}}}, namespace)
        await eventually(probe, lambda a: "argocd.argoproj.io/refresh" not in (a["metadata"].get("annotations") or {}),
                         timeout=30, expected="the refresh annotation removed by the pass that served it")
        await kube.patch(APPLICATION, "passes", {"metadata": {"labels": {"team": "a"}}}, namespace)
        after = await idle_passes(rec, before + 2)
        assert after - before == 2, f"{after - before} passes for a refresh and a label, expected 2"
