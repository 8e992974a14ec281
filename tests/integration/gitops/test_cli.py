"""`kubectl rollouts app ...` against the real control plane and the running reconciler."""

from __future__ import annotations

import pytest

from rollouts.cli.app import main as app_cli
from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP
from tests.integration.gitops.conftest import app_probe, cm, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


async def test_create_get_diff_sync_history_delete(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("app/cm.yaml", cm("cli-config", "one"))
    sha = repo.commit()
    ns = ["-n", namespace]
    assert await app_cli(["create", "cli", "--repo", repo.url, "--path", "app", "--dest-namespace", namespace,
                          "--dest-server", "https://kubernetes.default.svc", *ns], client=kube) == 0
    probe = app_probe(kube, "cli", namespace)
    await eventually(probe, lambda a: status_of(a).get("sync", {}).get("status") == "OutOfSync", timeout=60,
                     expected="a manual app is OutOfSync before its first sync")
    capsys.readouterr()
    assert await app_cli(["diff", "cli", *ns], client=kube) == 1
    assert "cli-config" in capsys.readouterr().out

    assert await app_cli(["sync", "cli", *ns], client=kube) == 0
    assert "Succeeded" in capsys.readouterr().out
    await eventually(probe, synced_at(sha), timeout=30, expected="Synced after app sync")
    assert await app_cli(["diff", "cli", *ns], client=kube) == 0

    assert await app_cli(["get", "cli", *ns], client=kube) == 0
    out = capsys.readouterr().out
    assert "Sync Status:   Synced" in out and "Health Status: Healthy" in out
    assert "cli-config" in out and "ConfigMap" in out

    assert await app_cli(["history", "cli", *ns], client=kube) == 0
    assert sha[:7] in capsys.readouterr().out

    await kube.patch(CONFIGMAP, "cli-config", {"data": {"key": "drifted"}}, namespace)
    assert await app_cli(["diff", "cli", *ns], client=kube) == 1
    diff = capsys.readouterr().out
    assert "-  key: drifted" in diff and "+  key: one" in diff

    assert await app_cli(["diff", "missing-app", *ns], client=kube) == 2
    assert await app_cli(["create", "bad", "--repo", repo.url, "--dest-namespace", namespace,
                          "--self-heal", *ns], client=kube) == 2

    assert await app_cli(["delete", "cli", *ns], client=kube) == 0

    async def gone() -> bool:
        try:
            await kube.get(APPLICATION, "cli", namespace)
        except NotFound:
            try:
                await kube.get(CONFIGMAP, "cli-config", namespace)
            except NotFound:
                return True
        return False

    await eventually(gone, bool, timeout=60, expected="the app and its ConfigMap deleted (cascade)")
