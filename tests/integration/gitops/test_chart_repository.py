"""Helm chart repositories end to end: a real HTTP chart repository on 127.0.0.1 (``index.yaml`` written by the
testbed's ``helm repo index``, charts packaged by ``helm package``) behind basic auth, an Application with
``chart`` + a semver constraint, the repository Secret of type helm, sync, drift, a new version, prune."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rollouts.cli import app as app_cli
from rollouts.cli import repo as repo_cli
from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP, SECRET
from tests.integration.gitops.chart_server import ChartRepository, serve_charts
from tests.integration.gitops.conftest import app_probe, status_of, synced_at
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

USER, PASSWORD = "charts", "s3cret-chart-pass"


@pytest.fixture
async def charts(tmp_path: Path) -> AsyncIterator[ChartRepository]:
    async with serve_charts(ChartRepository(tmp_path / "charts", user=USER, password=PASSWORD)) as repository:
        yield repository


def condition_with(text: str) -> Any:
    def check(app: dict[str, Any]) -> bool:
        return any(text in c.get("message", "") for c in status_of(app).get("conditions") or [])
    return check


async def get_or_none(kube: KubeClient, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        return await kube.get(CONFIGMAP, name, namespace)
    except NotFound:
        return None


async def test_chart_repository_with_basic_auth_sync_drift_upgrade_prune(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, charts: ChartRepository,
        capsys: pytest.CaptureFixture[str]) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0"):
        charts.publish(version, color="blue", extra=True)
    # As `argocd app create web --repo URL --helm-chart web --revision ^1.0 --helm-set color=teal ...`.
    assert await app_cli.main(["create", "web", "--repo", charts.url, "--helm-chart", "web", "--revision",
                               "^1.0", "--helm-set", "color=teal", "--dest-namespace", namespace, "--sync-policy",
                               "automated", "--auto-prune", "-n", namespace], client=kube) == 0
    probe = app_probe(kube, "web", namespace)
    assert (await probe())["spec"]["source"] == {
        "repoURL": charts.url, "chart": "web", "targetRevision": "^1.0",
        "helm": {"parameters": [{"name": "color", "value": "teal"}]}}

    # Without credentials the repository answers 401: a ComparisonError naming the repository, nothing applied.
    app = await eventually(probe, condition_with("401"), timeout=60, expected="a ComparisonError for the 401")
    (condition,) = status_of(app)["conditions"]
    assert condition["type"] == "ComparisonError"
    assert f"Helm repository {charts.url}" in condition["message"], condition
    assert await get_or_none(kube, "web-config", namespace) is None

    # `repo add --type helm` reads index.yaml with the credentials first; wrong ones store nothing.
    assert await repo_cli.main(["repo", "add", charts.url, "--type", "helm", "--name", "stable", "--username", USER,
                                "--password", "wrong", "-n", namespace], client=kube) == 1
    err = capsys.readouterr().err
    assert f"unable to connect to repository {charts.url}" in err and "401" in err and "wrong" not in err, err
    assert await repo_cli.main(["repo", "add", charts.url, "--type", "helm", "--name", "stable", "--username", USER,
                                "--password", PASSWORD, "-n", namespace], client=kube) == 0
    secret = await kube.get(SECRET, repo_cli.secret_name("repo", charts.url), namespace)
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "url": charts.url, "type": "helm", "name": "stable", "username": USER, "password": PASSWORD}
    # ^1.0 -> the highest 1.x release: 1.1.0 (neither the prerelease 1.2.0-rc.1 nor 2.0.0), as Argo CD resolves it.
    app = await eventually(probe, synced_at("1.1.0"), timeout=90, expected="Synced to chart version 1.1.0")
    st = status_of(app)
    assert st["sourceType"] == "Helm"
    assert st["sync"]["comparedTo"]["source"]["chart"] == "web"
    assert (await kube.get(CONFIGMAP, "web-config", namespace))["data"] == {"color": "teal", "chart": "1.1.0"}
    assert await get_or_none(kube, "web-extra", namespace) is not None
    assert "/stable/web-1.1.0.tgz" in charts.requests and "/stable/web-2.0.0.tgz" not in charts.requests
    assert not any(PASSWORD in str(c) for c in st.get("conditions") or [])
    capsys.readouterr()
    assert await app_cli.main(["get", "web", "-n", namespace], client=kube) == 0
    lines = {" ".join(line.split()) for line in capsys.readouterr().out.splitlines()}
    assert {f"Repo: {charts.url}", "Target: ^1.0", "Chart: web", "Sync Status: Synced to ^1.0"} <= lines, lines

    # Drift in the cluster is OutOfSync (no selfHeal, so it stays); the resource says which one.
    await kube.patch(CONFIGMAP, "web-config", {"data": {"color": "red"}}, namespace)

    def drifted(obj: dict[str, Any]) -> bool:
        return any(r["name"] == "web-config" and r.get("status") == "OutOfSync"
                   for r in status_of(obj).get("resources") or [])
    await eventually(probe, drifted, timeout=60, expected="web-config OutOfSync after a live edit")

    # A new release within the constraint is picked up at the next poll, synced, and what left it is pruned.
    charts.publish("1.3.0", color="green", extra=False)
    await eventually(probe, synced_at("1.3.0"), timeout=90, expected="Synced to chart version 1.3.0")
    assert (await kube.get(CONFIGMAP, "web-config", namespace))["data"] == {"color": "teal", "chart": "1.3.0"}
    await eventually(lambda: get_or_none(kube, "web-extra", namespace), lambda o: o is None, timeout=60,
                     expected="web-extra pruned: its template renders nothing in 1.3.0")
    history = status_of(await probe())["history"]
    assert [h["revision"] for h in history] == ["1.1.0", "1.3.0"]

    # A constraint no version satisfies: Argo CD's message, and nothing is pruned.
    await kube.patch(APPLICATION, "web", {"spec": {"source": {"targetRevision": "^7"}}}, namespace)
    await eventually(probe, condition_with("version matching constraint not found in 5 tags"), timeout=60,
                     expected="a ComparisonError for ^7")
    assert await get_or_none(kube, "web-config", namespace) is not None
