"""AppProjects fence Applications as in Argo CD: sources, destinations, cluster-scoped kinds; nothing is applied
when a rule is broken, and a project edit re-evaluates its applications at once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler, GitopsConfig
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, APPPROJECT, CONFIGMAP, NAMESPACE
from tests.integration.gitops.conftest import app_probe, application, cm, reconciler_running, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration
IN_CLUSTER = "https://kubernetes.default.svc"


@pytest.fixture
async def slow_poll(kube: KubeClient, namespace: str, crds: None,
                    tmp_path: Path) -> AsyncIterator[ApplicationReconciler]:
    """Git polled hourly: only events (an edited project) can make an application be evaluated again soon."""
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=3600.0, cache_dir=tmp_path / "cache")
    async with reconciler_running(kube, config) as rec:
        yield rec


def project(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def conditions(app: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["type"], c["message"]) for c in status_of(app).get("conditions", [])]


async def absent(kube: KubeClient, kind: Any, name: str, namespace: str | None) -> bool:
    try:
        await kube.get(kind, name, namespace)
    except NotFound:
        return True
    return False


async def test_default_project_is_created_permissive(kube: KubeClient, namespace: str,
                                                     gitops: ApplicationReconciler) -> None:
    default = await eventually(lambda: kube.get(APPPROJECT, "default", namespace), lambda p: True, timeout=20,
                               expected="the default AppProject created by the reconciler")
    assert default["spec"] == {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}],
                               "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}


async def test_project_restricts_source_destination_and_cluster_kinds(
        kube: KubeClient, namespace: str, slow_poll: ApplicationReconciler, repo: GitRepo, tmp_path: Path) -> None:
    repo.write("app/cm.yaml", cm("allowed"))
    repo.write("cluster/cm.yaml", cm("beside-the-role"))
    repo.write("cluster/role.yaml", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                     "metadata": {"name": f"{namespace}-reader"}, "rules": []})
    sha = repo.commit()
    other = GitRepo(tmp_path / "other")
    other.write("app/cm.yaml", cm("from-elsewhere"))
    other.commit()
    await kube.create(APPPROJECT, project("kuard", namespace, sourceRepos=[repo.url],
                                          destinations=[{"server": IN_CLUSTER, "namespace": namespace}]), namespace)

    def in_kuard(body: dict[str, Any]) -> dict[str, Any]:
        body["spec"]["project"] = "kuard"
        return body

    await kube.create(APPLICATION, in_kuard(application("ok", repo, namespace, automated={})), namespace)
    wrong_ns = in_kuard(application("wrong-ns", repo, f"{namespace}-payments", automated={}))
    await kube.create(APPLICATION, wrong_ns, namespace)
    await kube.create(APPLICATION, in_kuard(application("wrong-repo", other, namespace, automated={})), namespace)
    await kube.create(APPLICATION, in_kuard(application("cluster-kind", repo, namespace, path="cluster",
                                                        automated={})), namespace)
    missing = application("no-project", repo, namespace, automated={})
    missing["spec"]["project"] = "nope"
    await kube.create(APPLICATION, missing, namespace)

    await eventually(app_probe(kube, "ok", namespace), synced_at(sha), timeout=60,
                     expected="an application the project permits syncs")
    dest_message = (f"application destination server '{IN_CLUSTER}' and namespace '{namespace}-payments' do not match "
                    "any of the allowed destinations in project 'kuard'")
    app = await eventually(app_probe(kube, "wrong-ns", namespace),
                           lambda a: ("InvalidSpecError", dest_message) in conditions(a), timeout=30,
                           expected=f"InvalidSpecError {dest_message!r}")
    assert status_of(app)["sync"]["status"] == "Unknown" and app.get("operation") is None
    repo_message = f"application repo {other.url} is not permitted in project 'kuard'"
    await eventually(app_probe(kube, "wrong-repo", namespace),
                     lambda a: ("InvalidSpecError", repo_message) in conditions(a), timeout=30,
                     expected=f"InvalidSpecError {repo_message!r}")
    assert await absent(kube, CONFIGMAP, "from-elsewhere", namespace)
    await eventually(app_probe(kube, "no-project", namespace),
                     lambda a: ("InvalidSpecError", "Application referencing project nope which does not exist")
                     in conditions(a), timeout=30, expected="InvalidSpecError for a missing project")

    app = await eventually(app_probe(kube, "cluster-kind", namespace),
                           lambda a: (status_of(a).get("operationState") or {}).get("phase") == "Failed", timeout=30,
                           expected="the sync with a forbidden ClusterRole Failed")
    op = status_of(app)["operationState"]
    assert op["message"] == ("one or more synchronization tasks are not valid: ClusterRole/"
                             f"{namespace}-reader: resource rbac.authorization.k8s.io:ClusterRole is not permitted in "
                             "project kuard"), op["message"]
    assert await absent(kube, CONFIGMAP, "beside-the-role", namespace), "nothing may be half-applied"

    # Editing the project re-evaluates its applications at once (Git is polled only hourly here).
    await kube.patch(APPPROJECT, "kuard", {"spec": {"destinations": [
        {"server": IN_CLUSTER, "namespace": namespace}, {"server": IN_CLUSTER, "namespace": f"{namespace}-*"}]}},
        namespace, patch_type="merge")
    await eventually(app_probe(kube, "wrong-ns", namespace),
                     lambda a: not any(t == "InvalidSpecError" for t, _ in conditions(a))
                     and status_of(a)["sync"]["status"] == "OutOfSync", timeout=20,
                     expected="compared (OutOfSync, no InvalidSpecError) right after the project allowed the namespace")
    with contextlib.suppress(NotFound):
        await kube.delete(APPPROJECT, "kuard", namespace)


async def test_orphaned_resources_warning(kube: KubeClient, namespace: str, gitops: ApplicationReconciler,
                                          repo: GitRepo) -> None:
    # Argo CD: with orphanedResources.warn, an application whose destination namespace holds top-level objects
    # no application tracks gets "Application has N orphaned resources"; ignore rules and a fixed namespace
    # clear it (docs/user-guide/orphaned-resources.md).
    dest = f"{namespace}-dest"
    await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": dest}})
    try:
        await kube.create(APPPROJECT, project("watched", namespace, sourceRepos=["*"],
                                              destinations=[{"server": IN_CLUSTER, "namespace": "*"}],
                                              orphanedResources={"warn": True}), namespace)
        repo.write("app/cm.yaml", cm("tracked"))
        sha = repo.commit()
        body = application("orph", repo, namespace, automated={}, project="watched")
        body["spec"]["destination"]["namespace"] = dest
        await kube.create(APPLICATION, body, namespace)
        probe = app_probe(kube, "orph", namespace)
        app = await eventually(probe, synced_at(sha), timeout=60, expected="Synced")
        assert not [c for c in conditions(app) if c[0] == "OrphanedResourceWarning"]

        await kube.create(CONFIGMAP, {**cm("hand-made"), "metadata": {"name": "hand-made"}}, dest)
        await eventually(probe, lambda a: ("OrphanedResourceWarning", "Application has 1 orphaned resources")
                         in conditions(a), timeout=60, expected="a warning for the hand-made ConfigMap")

        await kube.patch(APPPROJECT, "watched", {"spec": {"orphanedResources": {
            "warn": True, "ignore": [{"kind": "ConfigMap", "name": "hand-*"}]}}}, namespace)
        await eventually(probe, lambda a: not [c for c in conditions(a) if c[0] == "OrphanedResourceWarning"],
                         timeout=60, expected="the ignore rule clears the warning")
    finally:
        await kube.delete(NAMESPACE, dest)
