"""Sync options on the real API server: Replace=true (with Force=true), Force=true alone,
RespectIgnoreDifferences=true, SkipDryRunOnMissingResource=true, FailOnSharedResource=true, and the
SharedResourceWarning condition."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION, CONFIGMAP, DEPLOYMENT, JOB
from tests.integration.gitops.conftest import app_probe, application, cm, deployment, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


def job(name: str, image: str, **annotations: str) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "annotations": annotations},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "j", "image": image}]}}}}


async def test_replace_puts_the_object_and_force_recreates_an_immutable_one(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("replaced", "one", **{"argocd.argoproj.io/sync-options": "Replace=true"}))
    repo.write("app/job.yaml", job("migrate", "busybox:1", **{"argocd.argoproj.io/sync-options":
                                                              "Replace=true,Force=true"}))
    first = repo.commit()
    await kube.create(APPLICATION, application("replace", repo, namespace, automated={}), namespace)
    probe = app_probe(kube, "replace", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync with Replace=true")
    live = await kube.get(CONFIGMAP, "replaced", namespace)
    assert [m["operation"] for m in live["metadata"]["managedFields"]] == ["Update"], (
        "Replace=true writes with create/PUT, not server-side apply")
    uid = (await kube.get(JOB, "migrate", namespace))["metadata"]["uid"]

    repo.write("app/cm.yaml", cm("replaced", "two", **{"argocd.argoproj.io/sync-options": "Replace=true"}))
    repo.write("app/job.yaml", job("migrate", "busybox:2", **{"argocd.argoproj.io/sync-options":
                                                              "Replace=true,Force=true"}))
    second = repo.commit()
    await eventually(probe, synced_at(second), timeout=90,
                     expected="second sync: a Job's template is immutable, so Force=true recreates it")
    assert (await kube.get(CONFIGMAP, "replaced", namespace))["data"] == {"key": "two"}
    recreated = await kube.get(JOB, "migrate", namespace)
    assert recreated["metadata"]["uid"] != uid
    assert recreated["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"


async def test_skip_dry_run_on_missing_resource(kube: KubeClient, namespace: str, gitops: ApplicationReconciler,
                                                repo: GitRepo) -> None:
    repo.write("app/widget.yaml", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    repo.write("app/cm.yaml", cm("beside"))
    repo.commit()
    body = application("skipdry", repo, namespace, automated={}, sync_options=["SkipDryRunOnMissingResource=true"])
    await kube.create(APPLICATION, body, namespace)

    def failed(app: dict[str, Any]) -> bool:
        return (status_of(app).get("operationState") or {}).get("phase") == "Failed"

    app = await eventually(app_probe(kube, "skipdry", namespace), failed, timeout=60,
                           expected="compared without a ComparisonError, then a sync that fails on the kind")
    assert not any(c["type"] == "ComparisonError" for c in status_of(app).get("conditions", []))
    assert "SkipDryRunOnMissingResource=true skipped the dry run" in status_of(app)["operationState"]["message"]
    assert (await kube.get(CONFIGMAP, "beside", namespace))["data"] == {"key": "v"}


async def test_a_resource_of_two_applications(kube: KubeClient, namespace: str, gitops: ApplicationReconciler,
                                              repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("shared"))
    sha = repo.commit()
    await kube.create(APPLICATION, application("first", repo, namespace, automated={}), namespace)
    await eventually(app_probe(kube, "first", namespace), synced_at(sha), timeout=60, expected="first owns it")
    second = application("second", repo, namespace, automated={}, sync_options=["FailOnSharedResource=true"])
    await kube.create(APPLICATION, second, namespace)
    app = await eventually(app_probe(kube, "second", namespace),
                           lambda a: (status_of(a).get("operationState") or {}).get("phase") == "Failed",
                           timeout=60, expected="the second application's sync refused")
    message = f"ConfigMap/shared is part of applications {namespace}/second and first"
    assert status_of(app)["operationState"]["message"] == f"Shared resource found: {message}"
    assert ("SharedResourceWarning", message) in [(c["type"], c["message"]) for c in status_of(app)["conditions"]]
    live = await kube.get(CONFIGMAP, "shared", namespace)
    assert live["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"].startswith("first:")


def managers(obj: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m["manager"], m["operation"]) for m in obj["metadata"].get("managedFields") or []}


async def test_force_without_replace_recreates_and_writes_name_the_gitops_field_manager(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    # Argo CD: Force=true alone acts as `kubectl apply --force` (an apply refused for an immutable field deletes
    # and creates the object); with ServerSideApply=true it is ignored. Replace and Force writes, like the
    # server-side applies, name the field manager rollouts-gitops.
    repo.write("app/job.yaml", job("forced", "busybox:1", **{"argocd.argoproj.io/sync-options": "Force=true"}))
    repo.write("app/cm.yaml", cm("replaced", "one", **{"argocd.argoproj.io/sync-options": "Replace=true"}))
    first = repo.commit()
    await kube.create(APPLICATION, application("force", repo, namespace, automated={}), namespace)
    probe = app_probe(kube, "force", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync")
    uid = (await kube.get(JOB, "forced", namespace))["metadata"]["uid"]
    assert managers(await kube.get(CONFIGMAP, "replaced", namespace)) == {("rollouts-gitops", "Update")}

    repo.write("app/job.yaml", job("forced", "busybox:2", **{"argocd.argoproj.io/sync-options": "Force=true"}))
    second = repo.commit()
    await eventually(probe, synced_at(second), timeout=90, expected="Force=true recreates the Job")
    recreated = await kube.get(JOB, "forced", namespace)
    assert recreated["metadata"]["uid"] != uid
    assert recreated["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
    assert ("rollouts-gitops", "Update") in managers(recreated), managers(recreated)

    repo.write("app/job.yaml", job("forced", "busybox:3", **{"argocd.argoproj.io/sync-options":
                                                             "Force=true,ServerSideApply=true"}))
    repo.commit()

    def failed(app: dict[str, Any]) -> bool:
        state = status_of(app).get("operationState") or {}
        return state.get("phase") == "Failed" and "forced" in state.get("message", "")
    await eventually(probe, failed, timeout=90, expected="with ServerSideApply=true, Force=true is ignored")
    assert (await kube.get(JOB, "forced", namespace))["metadata"]["uid"] == recreated["metadata"]["uid"]


async def test_respect_ignore_differences_keeps_ignored_live_fields_on_sync(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/deploy.yaml", deployment("web", replicas=1, image="nginx:1"))
    first = repo.commit()
    body = application("respect", repo, namespace, automated={}, sync_options=["RespectIgnoreDifferences=true"],
                       ignoreDifferences=[{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}])
    await kube.create(APPLICATION, body, namespace)
    probe = app_probe(kube, "respect", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync")
    await kube.patch(DEPLOYMENT, "web", {"spec": {"replicas": 3}}, namespace)  # as an autoscaler would
    repo.write("app/deploy.yaml", deployment("web", replicas=1, image="nginx:2"))
    second = repo.commit()
    await eventually(probe, synced_at(second), timeout=90, expected="the image change synced")
    live = await kube.get(DEPLOYMENT, "web", namespace)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    assert live["spec"]["replicas"] == 3, "the ignored field kept its live value through the sync"
