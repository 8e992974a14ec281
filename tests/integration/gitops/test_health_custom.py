"""User-defined Lua health checks from argocd-cm, end to end: the reconciler reads them, applies them, and a
broken script degrades only its own resources."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP
from tests.integration.gitops.conftest import app_probe, application, cm, deployment, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration

CHECK = """
hs = {status = "Healthy", message = "value is " .. obj.data.key}
if obj.data.key == "broken" then hs.status = "Degraded" end
return hs
"""


def settings(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "labels": {"app.kubernetes.io/part-of": "argocd"}}, "data": data}


def resource_health(app: dict[str, Any], name: str) -> dict[str, Any]:
    for res in status_of(app).get("resources") or []:
        if res.get("name") == name:
            return dict(res.get("health") or {})
    return {}


def app_health(status: str, message: str = "") -> Any:
    def check(app: dict[str, Any]) -> bool:
        health = status_of(app).get("health") or {}
        return bool(health.get("status") == status and message in resource_health(app, "flag").get("message", ""))
    return check


async def test_argocd_cm_health_checks_apply_and_a_broken_one_is_contained(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    await kube.create(CONFIGMAP, settings(**{"resource.customizations.health.ConfigMap": CHECK}), namespace)
    repo.write("app/cm.yaml", cm("flag", "broken"))
    repo.write("other/deploy.yaml", deployment("web"))
    sha = repo.commit()
    await kube.create(APPLICATION, application("flags", repo, namespace, automated={}), namespace)
    await kube.create(APPLICATION, application("web", repo, namespace, path="other", automated={}), namespace)
    probe = app_probe(kube, "flags", namespace)
    app = await eventually(probe, lambda a: synced_at(sha)(a) and app_health("Degraded", "value is broken")(a),
                           timeout=60, expected="the user check makes the app Degraded 'value is broken'")
    assert resource_health(app, "flag") == {"status": "Degraded", "message": "value is broken"}

    # A script that never ends: only this resource (and so this app) is Unknown, with a message saying why.
    await kube.patch(CONFIGMAP, "argocd-cm", {"data": {"resource.customizations.health.ConfigMap":
                                                       "while true do end"}}, namespace)
    app = await eventually(probe, app_health("Unknown", "did not finish"), timeout=60,
                           expected="the looping script reported on the ConfigMap")
    assert resource_health(app, "flag") == {
        "status": "Unknown", "message": "health check 'ConfigMap' from argocd-cm failed: did not finish within 1s"}
    web = await eventually(app_probe(kube, "web", namespace), lambda a: synced_at(sha)(a) and (
        status_of(a).get("health") or {}).get("status") == "Healthy", timeout=60,
        expected="the other application is still served and Healthy")
    assert status_of(web)["sync"]["status"] == "Synced"

    # Without argocd-cm a ConfigMap has no health again (as in Argo CD), and the app is Healthy.
    await kube.delete(CONFIGMAP, "argocd-cm", namespace)
    app = await eventually(probe, lambda a: (status_of(a).get("health") or {}).get("status") == "Healthy",
                           timeout=60, expected="Healthy once the user check is gone")
    assert resource_health(app, "flag") == {}
    with pytest.raises(NotFound):
        await kube.get(CONFIGMAP, "argocd-cm", namespace)
