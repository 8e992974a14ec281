"""Sync impersonation (Argo CD 2.13+, argocd-cm application.sync.impersonation.enabled): a project's
destinationServiceAccounts decide whom its syncs write as, so a sync can never write beyond what that account
may. The API server's own refusal is the message, and nothing of a refused sync is applied."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rollouts.cli import proj
from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, APPPROJECT, CONFIGMAP, NAMESPACE, SECRET
from tests.integration.gitops.conftest import app_probe, application, cm, status_of
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration
IN_CLUSTER = "https://kubernetes.default.svc"


async def rbac(kube: KubeClient, namespace: str) -> None:
    """ServiceAccount `deployer` in `namespace`, which may manage ConfigMaps there and nothing else."""
    service_account = await kube.resolve("v1", "ServiceAccount")
    role = await kube.resolve("rbac.authorization.k8s.io/v1", "Role")
    binding = await kube.resolve("rbac.authorization.k8s.io/v1", "RoleBinding")
    await kube.create(service_account, {"apiVersion": "v1", "kind": "ServiceAccount",
                                        "metadata": {"name": "deployer"}}, namespace)
    await kube.create(role, {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                             "metadata": {"name": "configmaps-only"},
                             "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                                        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}]},
                      namespace)
    await kube.create(binding, {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                "metadata": {"name": "deployer"},
                                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                            "name": "configmaps-only"},
                                "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}]},
                      namespace)


@pytest.fixture
async def other_ns(kube: KubeClient, namespace: str) -> AsyncIterator[str]:
    name = f"{namespace}-o"
    await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        with contextlib.suppress(NotFound):
            await kube.delete(NAMESPACE, name)


def in_team(body: dict[str, Any]) -> dict[str, Any]:
    body["spec"]["project"] = "team"
    return body


def operation_of(app: dict[str, Any]) -> dict[str, Any]:
    return status_of(app).get("operationState") or {}


async def test_a_sync_writes_as_the_projects_service_account(
        kube: KubeClient, namespace: str, other_ns: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    await rbac(kube, namespace)
    await kube.create(CONFIGMAP, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "argocd-cm"},
                                  "data": {"application.sync.impersonation.enabled": "true"}}, namespace)
    await kube.create(APPPROJECT, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": "team", "namespace": namespace},
        "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]}}, namespace)
    # argocd proj add-destination-service-account, as a platform team sets it up
    for argv in (["add-destination-service-account", "team", IN_CLUSTER, namespace, "deployer"],
                 ["add-destination-service-account", "team", IN_CLUSTER, "spare", "x", "--service-account-namespace",
                  "ops"],
                 ["remove-destination-service-account", "team", IN_CLUSTER, "spare", "ops:x"]):
        assert await proj.main([*argv, "-n", namespace], client=kube) == 0, argv
    assert await proj.main(["add-destination-service-account", "team", IN_CLUSTER, namespace, "deployer", "-n",
                            namespace], client=kube) == 1
    assert (await kube.get(APPPROJECT, "team", namespace))["spec"]["destinationServiceAccounts"] == [
        {"server": IN_CLUSTER, "namespace": namespace, "defaultServiceAccount": "deployer"}]
    repo.write("allowed/cm.yaml", cm("allowed"))
    repo.write("forbidden/cm.yaml", cm("would-be-half-applied"))
    repo.write("forbidden/secret.yaml", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "not-mine"},
                                         "stringData": {"k": "v"}})
    repo.write("elsewhere/cm.yaml", cm("elsewhere"))
    repo.commit()
    await kube.create(APPLICATION, in_team(application("allowed", repo, namespace, path="allowed", automated={})),
                      namespace)
    await kube.create(APPLICATION, in_team(application("forbidden", repo, namespace, path="forbidden",
                                                       automated={})), namespace)
    await kube.create(APPLICATION, in_team(application("elsewhere", repo, other_ns, path="elsewhere",
                                                       automated={})), namespace)

    await eventually(app_probe(kube, "allowed", namespace),
                     lambda a: (status_of(a).get("sync") or {}).get("status") == "Synced", timeout=60,
                     expected="the ConfigMap-only app synced as deployer")
    forbidden = await eventually(app_probe(kube, "forbidden", namespace),
                                 lambda a: operation_of(a).get("phase") == "Failed", timeout=60,
                                 expected="the sync that needs a Secret failed")
    message = operation_of(forbidden)["message"]
    assert message.startswith("one or more objects failed to apply (dry run): Secret/not-mine: "), message
    assert (f'secrets "not-mine" is forbidden: User "system:serviceaccount:{namespace}:deployer" cannot patch '
            f'resource "secrets" in API group "" in the namespace "{namespace}"') in message, message
    records = {(r["kind"], r["status"]) for r in operation_of(forbidden)["syncResult"]["resources"]}
    assert records == {("Secret", "SyncFailed")}, records
    for kind, name in ((CONFIGMAP, "would-be-half-applied"), (SECRET, "not-mine")):
        with pytest.raises(NotFound):
            await kube.get(kind, name, namespace)

    elsewhere = await eventually(app_probe(kube, "elsewhere", namespace),
                                 lambda a: operation_of(a).get("phase") == "Error", timeout=60,
                                 expected="a sync into a namespace no destinationServiceAccount covers in Error")
    assert operation_of(elsewhere)["message"] == (
        f"no matching service account found for destination server {IN_CLUSTER} and namespace {other_ns}")
    with pytest.raises(NotFound):
        await kube.get(CONFIGMAP, "elsewhere", other_ns)

    # Impersonation off again: the reconciler writes as itself, and the same Git syncs.
    await kube.patch(CONFIGMAP, "argocd-cm", {"data": {"application.sync.impersonation.enabled": "false"}}, namespace)
    await kube.patch(APPLICATION, "elsewhere", {"operation": {"sync": {"revision": "HEAD"},
                                                              "initiatedBy": {"username": "test"}}}, namespace)
    await eventually(lambda: kube.get(CONFIGMAP, "elsewhere", other_ns), lambda c: True, timeout=60,
                     expected="the ConfigMap synced by the reconciler itself once impersonation is off")
