"""`cluster add|list|get|rm` as `argocd cluster`, against two real control planes: the manager ServiceAccount,
its role and long-lived token on the target, Argo CD's cluster Secret on the control plane, and Applications
that sync through it (cluster-wide, then restricted to one namespace with namespace-scoped credentials)."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.cli import cluster
from rollouts.gitops.clusters import secret_name
from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP, NAMESPACE, SECRET
from tests.conftest import SecondPlane
from tests.integration.gitops.conftest import app_probe, application, cm, gitops, repo, status_of  # noqa: F401
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


@pytest.fixture
def both_contexts(kubeconfig: Path, second_plane: SecondPlane, tmp_path: Path) -> Path:
    """One kubeconfig with both planes' contexts (`testbed`, current, and `testbed-b`)."""
    first, second = yaml.safe_load(kubeconfig.read_text()), yaml.safe_load(second_plane.kubeconfig.read_text())
    merged = {**first, **{k: first[k] + second[k] for k in ("clusters", "users", "contexts")}}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(merged))
    return path


@pytest.fixture
async def remote_namespaces(second_kube: KubeClient, namespace: str) -> AsyncIterator[tuple[str, str]]:
    names = (f"{namespace}-a", f"{namespace}-b")
    for name in names:
        await second_kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield names
    finally:
        for name in names:
            with contextlib.suppress(NotFound):
                await second_kube.delete(NAMESPACE, name)


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[")


def read(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """What the command printed, without the log lines of the reconciler running in this process."""
    out, err = capsys.readouterr()
    return "".join(line for line in out.splitlines(keepends=True) if not LOG_LINE.match(line)), err


async def remove_manager(client: KubeClient) -> None:
    """The plane without argocd-manager (left by an earlier run, or by this one)."""
    rbac = "rbac.authorization.k8s.io/v1"
    for api_version, kind, name, ns in ((rbac, "ClusterRoleBinding", "argocd-manager-role-binding", None),
                                        (rbac, "ClusterRole", "argocd-manager-role", None),
                                        ("v1", "Secret", "argocd-manager-long-lived-token", "kube-system"),
                                        ("v1", "ServiceAccount", "argocd-manager", "kube-system")):
        with contextlib.suppress(NotFound):
            await client.delete(await client.resolve(api_version, kind), name, ns)


@pytest.fixture
async def clean_planes(kube: KubeClient, second_kube: KubeClient) -> AsyncIterator[None]:
    for client in (kube, second_kube):
        await remove_manager(client)
    yield
    for client in (kube, second_kube):
        await remove_manager(client)


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def synced(app: dict[str, Any]) -> bool:
    st = status_of(app)
    return (st.get("sync") or {}).get("status") == "Synced" and (st.get("health") or {}).get("status") == "Healthy"


async def test_cluster_add_list_get_rm_as_argocd(
        kube: KubeClient, second_kube: KubeClient, namespace: str, both_contexts: Path, second_plane: SecondPlane,
        remote_namespaces: tuple[str, str], gitops: ApplicationReconciler, repo: GitRepo,  # noqa: F811 (fixtures)
        capsys: pytest.CaptureFixture[str], clean_planes: None) -> None:
    ns_a, ns_b = remote_namespaces
    flags = ["--kubeconfig", str(both_contexts), "-n", namespace]
    server = second_plane.server
    assert await cluster.main(["add", "testbed-b", "-y", *flags], client=kube) == 0
    out, err = read(capsys)
    assert out.strip() == f"Cluster '{server}' added"
    assert 'ServiceAccount "argocd-manager" in namespace "kube-system" created' in err
    assert 'Created bearer token secret "argocd-manager-long-lived-token" for ServiceAccount "argocd-manager"' in err

    # On the target: the manager, its cluster-wide role and binding, its long-lived token.
    sa_kind = await second_kube.resolve("v1", "ServiceAccount")
    role = await second_kube.get(await second_kube.resolve("rbac.authorization.k8s.io/v1", "ClusterRole"),
                                 "argocd-manager-role")
    assert role["rules"] == [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                             {"nonResourceURLs": ["*"], "verbs": ["*"]}]
    binding = await second_kube.get(await second_kube.resolve("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                                    "argocd-manager-role-binding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "argocd-manager", "namespace": "kube-system"}]
    await second_kube.get(sa_kind, "argocd-manager", "kube-system")
    token = base64.b64decode((await second_kube.get(SECRET, "argocd-manager-long-lived-token", "kube-system"))
                             ["data"]["token"]).decode()

    # On the control plane: Argo CD's cluster Secret, with the manager's token (never the admin's).
    stored = await kube.get(SECRET, secret_name(server), namespace)
    assert stored["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    data = decoded(stored)
    config = json.loads(data["config"])
    assert (data["name"], data["server"]) == ("testbed-b", server)
    assert config["bearerToken"] == token != second_plane.token
    assert config["tlsClientConfig"] == {"insecure": False, "caData": second_plane.ca_data}

    repo.write("app/cm.yaml", cm("added"))
    repo.commit()
    body = application("through-add", repo, ns_a, automated={})
    body["spec"]["destination"] = {"name": "testbed-b", "namespace": ns_a}
    await kube.create(APPLICATION, body, namespace)
    await eventually(app_probe(kube, "through-add", namespace), synced, timeout=60,
                     expected="an application synced through the added cluster")

    assert await cluster.main(["list", *flags[2:]], client=kube) == 0
    listed = read(capsys)[0].splitlines()
    assert listed[0].split() == ["SERVER", "NAME", "VERSION", "STATUS", "MESSAGE", "PROJECT"]
    rows = {line.split()[1]: line.split() for line in listed[1:]}
    assert rows["testbed-b"][0] == server and rows["testbed-b"][3] == "Successful", listed
    assert rows["in-cluster"][0] == "https://kubernetes.default.svc"
    assert await cluster.main(["get", "testbed-b", "-o", "wide", *flags[2:]], client=kube) == 0
    wide = read(capsys)[0]
    assert f"  Server URL:            {server}" in wide and "  oAuth authentication:  true" in wide
    assert await cluster.main(["get", server, *flags[2:]], client=kube) == 0
    shown = yaml.safe_load(read(capsys)[0])
    assert shown["server"] == server and shown["connectionState"] == {"status": "Successful"}
    assert shown["config"] == {"tlsClientConfig": {"insecure": False}}

    # The same server again with another spec needs --upsert, as in argocd.
    assert await cluster.main(["add", "testbed-b", "-y", "--namespace", ns_a, *flags], client=kube) == 1
    assert "existing cluster spec is different; use upsert flag to force update" in read(capsys)[1]

    assert await cluster.main(["rm", "testbed-b", "-y", *flags], client=kube) == 0
    out, err = read(capsys)
    assert out.strip() == "Cluster 'testbed-b' removed"
    assert 'ClusterRoleBinding "argocd-manager-role-binding" deleted' in err
    with pytest.raises(NotFound):
        await kube.get(SECRET, secret_name(server), namespace)
    with pytest.raises(NotFound):
        await second_kube.get(sa_kind, "argocd-manager", "kube-system")
    app = await eventually(app_probe(kube, "through-add", namespace),
                           lambda a: any(c["type"] == "InvalidSpecError" for c in status_of(a).get("conditions") or []),
                           timeout=30, expected="the application of a removed cluster refused")
    assert [c["message"] for c in status_of(app)["conditions"]] == ["there are no clusters with this name: testbed-b"]
    await kube.delete(APPLICATION, "through-add", namespace)

    # Namespace-scoped: a Role and RoleBinding in that namespace only; nothing cluster-wide is readable with the
    # token, and the reconciler watches that namespace alone.
    assert await cluster.main(["add", "testbed-b", "-y", "--namespace", ns_a, "--name", "fenced", *flags],
                              client=kube) == 0
    read(capsys)
    await second_kube.get(await second_kube.resolve("rbac.authorization.k8s.io/v1", "Role"), "argocd-manager-role",
                          ns_a)
    with pytest.raises(NotFound):
        await second_kube.get(await second_kube.resolve("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                              "argocd-manager-role-binding")
    assert decoded(await kube.get(SECRET, secret_name(server), namespace))["namespaces"] == ns_a
    inside = application("inside", repo, ns_a, automated={"prune": True})
    inside["spec"]["destination"] = {"name": "fenced", "namespace": ns_a}
    outside = application("outside", repo, ns_b, automated={})
    outside["spec"]["destination"] = {"name": "fenced", "namespace": ns_b}
    await kube.create(APPLICATION, inside, namespace)
    await kube.create(APPLICATION, outside, namespace)
    await eventually(app_probe(kube, "inside", namespace), synced, timeout=60,
                     expected="an application synced with namespace-scoped credentials")
    assert (await second_kube.get(CONFIGMAP, "added", ns_a))["data"] == {"key": "v"}
    blocked = await eventually(app_probe(kube, "outside", namespace),
                               lambda a: bool(status_of(a).get("conditions")), timeout=30,
                               expected="a namespace the cluster Secret does not list refused")
    assert [c["message"] for c in status_of(blocked)["conditions"]] == [
        f'Failed to load live state: namespace "{ns_b}" for ConfigMap "added" is not managed']
    assert second_plane.token not in out + err and token not in out + err


async def test_cluster_add_in_cluster_and_exec_command(
        kube: KubeClient, namespace: str, both_contexts: Path, second_plane: SecondPlane,
        capsys: pytest.CaptureFixture[str], clean_planes: None) -> None:
    flags = ["--kubeconfig", str(both_contexts), "-n", namespace]
    assert await cluster.main(["add", "testbed-b", "-y", "--exec-command", "get-token",
                               "--exec-command-args=--cluster=b", "--exec-command-env", "A=1", "--project", "team", *flags],
                              client=kube) == 1
    assert "error getting server version" in read(capsys)[1]  # no such command: never registered
    with pytest.raises(NotFound):
        await kube.get(SECRET, secret_name(second_plane.server), namespace)
    try:
        assert await cluster.main(["add", "testbed", "-y", "--in-cluster", "--name", "testbed", *flags],
                                  client=kube) == 0
        assert read(capsys)[0].strip() == "Cluster 'https://kubernetes.default.svc' added"
        stored = decoded(await kube.get(SECRET, secret_name("https://kubernetes.default.svc"), namespace))
        assert (stored["server"], stored["name"]) == ("https://kubernetes.default.svc", "testbed")
        assert await cluster.main(["list", "-o", "server", *flags[2:]], client=kube) == 0
        assert read(capsys)[0].split() == ["https://kubernetes.default.svc"]
    finally:
        assert await cluster.main(["rm", "testbed", "-y", *flags], client=kube) == 0
