"""Repository credentials from a labelled Secret reach git, over a password-protected local HTTP remote."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION, CONFIGMAP, SECRET
from tests.integration.gitops.conftest import app_probe, cm, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo
from tests.unit.gitops.gitrepo import http_remote as serve_http_remote

pytestmark = pytest.mark.integration
PASSWORD = "s3cr3t-token"


@pytest.fixture
async def http_remote(repo: GitRepo) -> AsyncIterator[str]:
    """git's dumb HTTP protocol over aiohttp, with basic auth bob:s3cr3t-token."""
    async with serve_http_remote(repo, user="bob", password=PASSWORD) as url:
        yield url


def repo_secret(url: str, password: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "repo-creds", "labels": {"argocd.argoproj.io/secret-type": "repository"}},
            "stringData": {"url": url, "username": "bob", "password": password}}


def http_app(name: str, url: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name},
            "spec": {"source": {"repoURL": url, "path": "app"},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                     "syncPolicy": {"automated": {}}}}


async def test_private_http_repository_with_a_repository_secret(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo, http_remote: str) -> None:
    repo.write("app/cm.yaml", cm("private", "from-http"))
    sha = repo.commit()
    repo._git("update-server-info", cwd=repo.bare)
    await kube.create(SECRET, repo_secret(http_remote, "wrong-password"), namespace)
    await kube.create(APPLICATION, http_app("private", http_remote, namespace), namespace)
    probe = app_probe(kube, "private", namespace)
    app = await eventually(probe, lambda a: any(c["type"] == "ComparisonError" for c in status_of(a).get(
        "conditions", [])), timeout=60, expected="ComparisonError with a wrong password")
    assert "wrong-password" not in str(app["status"])

    await kube.patch(SECRET, "repo-creds", {"stringData": {"password": PASSWORD}}, namespace)
    await kube.patch(APPLICATION, "private", {"metadata": {"annotations": {
        "argocd.argoproj.io/refresh": "normal"}}}, namespace)
    await eventually(probe, synced_at(sha), timeout=90, expected="Synced once the Secret holds the password")
    assert (await kube.get(CONFIGMAP, "private", namespace))["data"] == {"key": "from-http"}
