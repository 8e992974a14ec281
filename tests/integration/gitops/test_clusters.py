"""One reconciler, two independent control planes: Applications sync into the cluster a cluster Secret names, a
Secret's namespace list is honoured, and a cluster that goes away degrades only its own Applications, which
recover by themselves when it is back (Argo CD's declarative clusters, util/db/cluster.go)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler, GitopsConfig
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, APPPROJECT, CONFIGMAP, NAMESPACE, SECRET
from tests.conftest import SecondPlane
from tests.integration.gitops.conftest import app_probe, application, cm, reconciler_running, status_of
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration
IN_CLUSTER = "https://kubernetes.default.svc"


def cluster_secret(name: str, plane: SecondPlane, *, namespaces: list[str] | None = None,
                   project: str | None = None, token: str | None = None) -> dict[str, Any]:
    data = {"name": name, "server": plane.server,
            "config": json.dumps({"bearerToken": token or plane.token, "tlsClientConfig": {"caData": plane.ca_data}})}
    if namespaces:
        data["namespaces"] = ",".join(namespaces)
    if project:
        data["project"] = project
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": f"cluster-{name}", "labels": {"argocd.argoproj.io/secret-type": "cluster"}}, "stringData": data}


@pytest.fixture
async def remote_ns(second_kube: KubeClient, namespace: str) -> AsyncIterator[str]:
    """A namespace of the same name as the test's, on the second plane (deleted afterwards)."""
    await second_kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        yield namespace
    finally:
        with contextlib.suppress(NotFound):
            await second_kube.delete(NAMESPACE, namespace)


@pytest.fixture
async def multi(kube: KubeClient, namespace: str, crds: None, tmp_path: Path,
                second_plane: SecondPlane) -> AsyncIterator[ApplicationReconciler]:
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=2.0, cache_dir=tmp_path / "cache")
    async with reconciler_running(kube, config) as rec:
        yield rec


def to(app: dict[str, Any], **destination: str) -> dict[str, Any]:
    app["spec"]["destination"] = destination
    return app


def sync_and_health(app: dict[str, Any]) -> tuple[str | None, str | None]:
    st = status_of(app)
    return (st.get("sync") or {}).get("status"), (st.get("health") or {}).get("status")


def conditions(app: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["type"], c["message"]) for c in status_of(app).get("conditions") or []]


async def value_of(client: KubeClient, name: str, namespace: str) -> str | None:
    try:
        return str((await client.get(CONFIGMAP, name, namespace))["data"]["key"])
    except NotFound:
        return None


async def test_one_reconciler_syncs_applications_into_two_clusters(
        kube: KubeClient, second_kube: KubeClient, namespace: str, remote_ns: str, multi: ApplicationReconciler,
        repo: GitRepo, second_plane: SecondPlane) -> None:
    repo.write("local/cm.yaml", cm("here", "local"))
    repo.write("remote/cm.yaml", cm("there", "remote"))
    repo.commit()
    await kube.create(SECRET, cluster_secret("second", second_plane), namespace)
    await kube.create(APPLICATION, application("local", repo, namespace, path="local", automated={}), namespace)
    by_name = to(application("by-name", repo, namespace, path="remote", automated={}),
                 name="second", namespace=remote_ns)
    await kube.create(APPLICATION, by_name, namespace)
    for name in ("local", "by-name"):
        await eventually(app_probe(kube, name, namespace), lambda a: sync_and_health(a) == ("Synced", "Healthy"),
                         timeout=60, expected=f"{name} Synced and Healthy")
    assert await value_of(kube, "here", namespace) == "local"
    assert await value_of(second_kube, "there", remote_ns) == "remote"
    assert await value_of(kube, "there", namespace) is None, "the remote app wrote into the local cluster"
    assert await value_of(second_kube, "here", remote_ns) is None, "the local app wrote into the second cluster"

    # By server URL too, and live drift on the second cluster is seen (its own watch) and self-healed.
    by_server = to(application("by-server", repo, namespace, path="remote", automated={"selfHeal": True}),
                   server=second_plane.server, namespace=f"{remote_ns}-s")
    by_server["spec"]["syncPolicy"]["syncOptions"] = ["CreateNamespace=true"]
    await kube.create(APPLICATION, by_server, namespace)
    try:
        await eventually(app_probe(kube, "by-server", namespace),
                         lambda a: sync_and_health(a) == ("Synced", "Healthy"), timeout=60,
                         expected="by-server Synced and Healthy (namespace created on the second cluster)")
        await second_kube.patch(CONFIGMAP, "there", {"data": {"key": "drifted"}}, f"{remote_ns}-s")
        await eventually(lambda: value_of(second_kube, "there", f"{remote_ns}-s"), lambda v: v == "remote",
                         timeout=60, expected="the drift on the second cluster corrected by self-heal")
    finally:
        with contextlib.suppress(NotFound):
            await second_kube.delete(NAMESPACE, f"{remote_ns}-s")


async def test_unknown_clusters_are_refused_with_argo_cds_messages(
        kube: KubeClient, namespace: str, multi: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("x"))
    repo.commit()
    await kube.create(APPLICATION, to(application("no-name", repo, namespace, automated={}), name="nowhere",
                                      namespace=namespace), namespace)
    await kube.create(APPLICATION, to(application("no-server", repo, namespace, automated={}),
                                      server="https://10.255.255.1:6443", namespace=namespace), namespace)
    app = await eventually(app_probe(kube, "no-name", namespace), lambda a: bool(conditions(a)), timeout=30,
                           expected="a condition on no-name")
    assert conditions(app) == [("InvalidSpecError", "there are no clusters with this name: nowhere")]
    assert sync_and_health(app) == ("Unknown", "Unknown")
    app = await eventually(app_probe(kube, "no-server", namespace), lambda a: bool(conditions(a)), timeout=30,
                           expected="a condition on no-server")
    assert conditions(app) == [("InvalidSpecError", 'error getting cluster by server "https://10.255.255.1:6443": '
                                'rpc error: code = NotFound desc = cluster "https://10.255.255.1:6443" not found')]


async def test_a_cluster_secret_with_namespaces_manages_only_those(
        kube: KubeClient, second_kube: KubeClient, namespace: str, remote_ns: str, multi: ApplicationReconciler,
        repo: GitRepo, second_plane: SecondPlane) -> None:
    other = f"{remote_ns}-other"
    await second_kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    try:
        repo.write("app/cm.yaml", cm("fenced"))
        repo.write("cluster/role.yaml", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                         "metadata": {"name": f"{namespace}-role"}, "rules": []})
        repo.commit()
        await kube.create(SECRET, cluster_secret("fenced", second_plane, namespaces=[remote_ns]), namespace)
        await kube.create(APPLICATION, to(application("inside", repo, namespace, automated={}), name="fenced",
                                          namespace=remote_ns), namespace)
        await kube.create(APPLICATION, to(application("outside", repo, namespace, automated={}), name="fenced",
                                          namespace=other), namespace)
        await kube.create(APPLICATION, to(application("cluster-level", repo, namespace, path="cluster",
                                                      automated={}), name="fenced", namespace=remote_ns), namespace)
        await eventually(app_probe(kube, "inside", namespace), lambda a: sync_and_health(a) == ("Synced", "Healthy"),
                         timeout=60, expected="inside Synced and Healthy")
        outside = await eventually(app_probe(kube, "outside", namespace), lambda a: bool(conditions(a)), timeout=30,
                                   expected="a ComparisonError on outside")
        assert conditions(outside) == [("ComparisonError", 'Failed to load live state: namespace "' + other
                                        + '" for ConfigMap "fenced" is not managed')]
        level = await eventually(app_probe(kube, "cluster-level", namespace), lambda a: bool(conditions(a)),
                                 timeout=30, expected="a ComparisonError on cluster-level")
        assert conditions(level) == [("ComparisonError", f'Failed to load live state: cluster level ClusterRole '
                                      f'"{namespace}-role" can not be managed when in namespaced mode')]
        assert await value_of(second_kube, "fenced", other) is None
    finally:
        with contextlib.suppress(NotFound):
            await second_kube.delete(NAMESPACE, other)


async def test_projects_name_clusters_and_may_permit_only_their_own(
        kube: KubeClient, second_kube: KubeClient, namespace: str, remote_ns: str, multi: ApplicationReconciler,
        repo: GitRepo, second_plane: SecondPlane) -> None:
    repo.write("app/cm.yaml", cm("scoped"))
    repo.write("named/cm.yaml", cm("named"))
    repo.commit()
    await kube.create(SECRET, cluster_secret("team-b", second_plane, project="team"), namespace)
    await kube.create(APPPROJECT, {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
                                   "metadata": {"name": "team", "namespace": namespace},
                                   "spec": {"sourceRepos": ["*"], "permitOnlyProjectScopedClusters": True,
                                            "destinations": [{"name": "*", "namespace": "*"}]}}, namespace)
    await kube.create(APPPROJECT, {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
                                   "metadata": {"name": "by-name", "namespace": namespace},
                                   "spec": {"sourceRepos": ["*"],
                                            "destinations": [{"name": "team-b", "namespace": remote_ns}]}},
                      namespace)

    def in_project(body: dict[str, Any], project: str) -> dict[str, Any]:
        body["spec"]["project"] = project
        return body

    await kube.create(APPLICATION, in_project(to(application("own", repo, namespace, automated={}), name="team-b",
                                                 namespace=remote_ns), "team"), namespace)
    await kube.create(APPLICATION, in_project(to(application("local", repo, namespace, automated={}),
                                                 name="in-cluster", namespace=namespace), "team"), namespace)
    await kube.create(APPLICATION, in_project(to(application("named", repo, namespace, path="named", automated={}),
                                                 name="team-b", namespace=remote_ns), "by-name"), namespace)
    await kube.create(APPLICATION, in_project(to(application("unnamed", repo, namespace, automated={}),
                                                 server=IN_CLUSTER, namespace=namespace), "by-name"), namespace)
    for name in ("own", "named"):
        await eventually(app_probe(kube, name, namespace), lambda a: sync_and_health(a) == ("Synced", "Healthy"),
                         timeout=60, expected=f"{name} Synced and Healthy on the project's cluster")
    local = await eventually(app_probe(kube, "local", namespace), lambda a: bool(conditions(a)), timeout=30,
                             expected="the in-cluster destination refused in a project of scoped clusters only")
    assert conditions(local) == [("InvalidSpecError", "application destination server 'in-cluster' and namespace '"
                                  f"{namespace}' do not match any of the allowed destinations in project 'team'")]
    unnamed = await eventually(app_probe(kube, "unnamed", namespace), lambda a: bool(conditions(a)), timeout=30,
                               expected="a destination the project does not name refused")
    assert conditions(unnamed) == [("InvalidSpecError", f"application destination server '{IN_CLUSTER}' and "
                                    f"namespace '{namespace}' do not match any of the allowed destinations in "
                                    "project 'by-name'")]
    assert await value_of(kube, "scoped", namespace) is None


async def test_an_unreachable_cluster_degrades_only_its_applications_and_recovers(
        kube: KubeClient, second_kube: KubeClient, namespace: str, remote_ns: str, multi: ApplicationReconciler,
        repo: GitRepo, second_plane: SecondPlane) -> None:
    repo.write("local/cm.yaml", cm("steady", "v1"))
    repo.write("remote/cm.yaml", cm("away", "v1"))
    repo.commit()
    await kube.create(SECRET, cluster_secret("flaky", second_plane), namespace)
    await kube.create(APPLICATION, application("local", repo, namespace, path="local", automated={}), namespace)
    await kube.create(APPLICATION, to(application("remote", repo, namespace, path="remote", automated={}),
                                      name="flaky", namespace=remote_ns), namespace)
    for name in ("local", "remote"):
        await eventually(app_probe(kube, name, namespace), lambda a: sync_and_health(a) == ("Synced", "Healthy"),
                         timeout=60, expected=f"{name} Synced and Healthy")
    second_plane.stop_apiserver()
    try:
        remote = await eventually(
            app_probe(kube, "remote", namespace), lambda a: sync_and_health(a) == ("Unknown", "Unknown"), timeout=60,
            expected="the application of the stopped cluster Unknown")
        [(kind, message)] = conditions(remote)
        assert kind == "ComparisonError"
        assert second_plane.server in message and "(flaky)" in message, message
        # Meanwhile the local cluster's application follows Git as quickly as ever.
        started = time.monotonic()
        repo.write("local/cm.yaml", cm("steady", "v2"))
        repo.write("remote/cm.yaml", cm("away", "v2"))
        repo.commit()
        await eventually(lambda: value_of(kube, "steady", namespace), lambda v: v == "v2", timeout=30,
                         expected="the local application synced the new commit while the other cluster is down")
        assert time.monotonic() - started < 30
        still = await kube.get(APPLICATION, "remote", namespace)
        assert sync_and_health(still) == ("Unknown", "Unknown"), status_of(still)
    finally:
        second_plane.start_apiserver()
    await eventually(app_probe(kube, "remote", namespace), lambda a: sync_and_health(a) == ("Synced", "Healthy")
                     and not conditions(a), timeout=90,
                     expected="the application of the cluster that came back Synced, Healthy, without a condition")
    assert await value_of(second_kube, "away", remote_ns) == "v2"


def client_certificate(plane: SecondPlane, tmp_path: Path) -> tuple[str, str]:
    """A client certificate for O=system:masters signed by the second plane's CA: (certData, keyData), base64."""
    import base64
    import subprocess

    pki = plane.state / "pki"
    key, csr, crt = tmp_path / "client.key", tmp_path / "client.csr", tmp_path / "client.crt"
    for argv in (["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=system:masters/CN=cert-admin",
                  "-keyout", str(key), "-out", str(csr)],
                 ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
                  "-CAcreateserial", "-CAserial", str(tmp_path / "ca.srl"), "-days", "1", "-out", str(crt)]):
        subprocess.run(argv, check=True, capture_output=True)
    return base64.b64encode(crt.read_bytes()).decode(), base64.b64encode(key.read_bytes()).decode()


async def test_exec_provider_and_client_certificate_credentials(
        kube: KubeClient, second_kube: KubeClient, namespace: str, remote_ns: str, multi: ApplicationReconciler,
        repo: GitRepo, second_plane: SecondPlane, tmp_path: Path) -> None:
    import sys

    repo.write("exec/cm.yaml", cm("by-exec"))
    repo.write("cert/cm.yaml", cm("by-cert"))
    repo.commit()
    script = tmp_path / "token.py"
    script.write_text("import json, os\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1', "
                      "'kind': 'ExecCredential', 'status': {'token': open(os.environ['TOKEN_FILE']).read().strip()}}))\n")
    exec_config = {"execProviderConfig": {"command": sys.executable, "args": [str(script)],
                                          "env": {"TOKEN_FILE": str(second_plane.state / "admin-token")},
                                          "apiVersion": "client.authentication.k8s.io/v1beta1"},
                   "tlsClientConfig": {"caData": second_plane.ca_data}}
    by_exec = cluster_secret("by-exec", second_plane)
    by_exec["stringData"]["config"] = json.dumps(exec_config)
    cert, key = client_certificate(second_plane, tmp_path)
    by_cert = cluster_secret("by-cert", second_plane)
    by_cert["stringData"]["server"] = second_plane.server.replace("127.0.0.1", "localhost")  # another server URL
    by_cert["stringData"]["config"] = json.dumps({"tlsClientConfig": {"caData": second_plane.ca_data,
                                                                      "certData": cert, "keyData": key}})
    for body in (by_exec, by_cert):
        await kube.create(SECRET, body, namespace)
    await kube.create(APPLICATION, to(application("exec", repo, namespace, path="exec", automated={}),
                                      name="by-exec", namespace=remote_ns), namespace)
    await kube.create(APPLICATION, to(application("cert", repo, namespace, path="cert", automated={}),
                                      name="by-cert", namespace=remote_ns), namespace)
    for name in ("exec", "cert"):
        await eventually(app_probe(kube, name, namespace), lambda a: sync_and_health(a) == ("Synced", "Healthy"),
                         timeout=60, expected=f"{name} Synced and Healthy")
    managers = {name: {m["manager"] for m in (await second_kube.get(CONFIGMAP, name, remote_ns))["metadata"]
                       ["managedFields"]} for name in ("by-exec", "by-cert")}
    assert managers == {"by-exec": {"rollouts-gitops"}, "by-cert": {"rollouts-gitops"}}
