"""Sync options on the real API server: Replace=true (with Force=true), SkipDryRunOnMissingResource=true,
FailOnSharedResource=true, and the SharedResourceWarning condition."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION, CONFIGMAP, JOB
from tests.integration.gitops.conftest import app_probe, application, cm, status_of, synced_at
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
