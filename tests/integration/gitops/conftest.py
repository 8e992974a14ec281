"""Fixtures for the Application reconciler on the real control plane, with real local Git repositories."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler, GitopsConfig
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "git")


@contextlib.asynccontextmanager
async def reconciler_running(kube: KubeClient, config: GitopsConfig) -> AsyncIterator[ApplicationReconciler]:
    rec = ApplicationReconciler(kube, config)
    stop = asyncio.Event()
    task = asyncio.create_task(rec.run(stop))
    try:
        yield rec
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def gitops(kube: KubeClient, namespace: str, crds: None, tmp_path: Path) -> AsyncIterator[ApplicationReconciler]:
    """The reconciler watching Applications in the test namespace; Git polled every 2 s."""
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=2.0, cache_dir=tmp_path / "cache")
    async with reconciler_running(kube, config) as rec:
        yield rec


def cm(name: str, value: str = "v", **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"key": value}}


def deployment(name: str, *, replicas: int = 1, image: str = "nginx:1",
               annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "app", "image": image}]}}}}


def application(name: str, repo: GitRepo, namespace: str, *, path: str = "app", automated: dict[str, Any] | None
                = None, sync_options: list[str] | None = None, revision: str = "HEAD",
                **spec: Any) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    if automated is not None:
        policy["automated"] = automated
    if sync_options:
        policy["syncOptions"] = sync_options
    body: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name},
        "spec": {"project": "default",
                 "source": {"repoURL": repo.url, "path": path, "targetRevision": revision},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                 **spec},
    }
    if policy:
        body["spec"]["syncPolicy"] = policy
    return body


AppProbe = Callable[[], Any]


def app_probe(kube: KubeClient, name: str, namespace: str) -> Callable[[], Any]:
    async def probe() -> dict[str, Any]:
        return await kube.get(APPLICATION, name, namespace)
    return probe


def status_of(app: dict[str, Any]) -> dict[str, Any]:
    return app.get("status") or {}


def synced_at(revision: str) -> Callable[[dict[str, Any]], bool]:
    def check(app: dict[str, Any]) -> bool:
        st = status_of(app)
        return ((st.get("sync") or {}).get("status") == "Synced" and (st.get("sync") or {}).get("revision") == revision
                and ((st.get("operationState") or {}).get("phase") in (None, "Succeeded"))
                and app.get("operation") is None)
    return check
