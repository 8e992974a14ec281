"""Cluster Secrets, destination resolution and managed namespaces, as Argo CD decides them.

Expected values come from Argo CD v3.6.1: util/db/cluster_test.go (Test_URIToSecretName, TestSecretToCluster*),
util/argo/argo.go (GetDestinationServer / GetDestinationCluster messages), gitops-engine pkg/cache/cluster.go
(GetManagedLiveObjs messages, TestGetManagedLiveObjsNamespacedModeClusterLevelResource), and
pkg/apis/application/v1alpha1/app_project_types.go (IsDestinationPermitted with
permitOnlyProjectScopedClusters)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from rollouts.api.application import ApplicationDestination
from rollouts.api.appproject import AppProjectSpec
from rollouts.gitops.clusters import (
    LOCAL,
    Cluster,
    ClusterConfig,
    Clusters,
    ClusterSecretError,
    ExecProvider,
    cluster_from_secret,
    cluster_secret,
    kubeconfig,
    resolve_destination,
    scoped_destinations,
    secret_name,
    unmanaged,
)
from rollouts.gitops.project import is_destination_permitted, with_scoped_clusters

CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()


def secret(secret_name_: str, *, encoded: bool = True, **data: str) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": secret_name_, "labels": {"argocd.argoproj.io/secret-type": "cluster", "env": "prod"}}}
    if encoded:
        body["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    else:
        body["stringData"] = data
    return body


# util/db/cluster_test.go Test_URIToSecretName
@pytest.mark.parametrize(("server", "name"), [
    ("http://foo", "cluster-foo-752281925"),
    ("http://thelongestdomainnameintheworld.argocd-project.com:3000",
     "cluster-thelongestdomainnameintheworld.argocd-project.com-2721640553"),
    ("http://[fe80::1ff:fe23:4567:890a]", "cluster-fe80--1ff-fe23-4567-890a-3877258831"),
    ("http://[fe80::1ff:fe23:4567:890a]:8000", "cluster-fe80--1ff-fe23-4567-890a-664858999"),
    ("http://[FE80::1FF:FE23:4567:890A]:8000", "cluster-fe80--1ff-fe23-4567-890a-682802007"),
    ("http://:/abc", "cluster--1969338796"),
], ids=["host", "host-port", "ipv6", "ipv6-port", "ipv6-upper", "empty-host"])
def test_secret_names_are_argo_cds(server: str, name: str) -> None:
    assert secret_name(server) == name


def test_a_secret_reads_as_argo_cd_reads_it() -> None:
    config = {"bearerToken": "tok", "tlsClientConfig": {"insecure": False, "caData": CA, "serverName": "api"}}
    got = cluster_from_secret(secret("c1", server="https://10.0.0.1:6443/", name="prod",
                                     namespaces=" a, b ,,c ", clusterResources="true", project="team",
                                     config=json.dumps(config)))
    assert got == Cluster(server="https://10.0.0.1:6443", name="prod", namespaces=("a", "b", "c"),
                          cluster_resources=True, project="team",
                          config=ClusterConfig(bearer_token="tok", server_name="api", ca_data=CA), secret="c1",
                          labels=(("env", "prod"),))
    assert got.namespace_scoped and not got.is_local


def test_string_data_and_defaults() -> None:
    got = cluster_from_secret(secret("c2", encoded=False, server="https://x"))
    assert (got.name, got.namespaces, got.cluster_resources, got.config) == ("", (), False, ClusterConfig())
    # clusterResources only when exactly "true"
    assert not cluster_from_secret(secret("c3", server="https://x", clusterResources="yes")).cluster_resources


def test_exec_provider_config() -> None:
    config = {"execProviderConfig": {"command": "get-token", "args": ["--cluster", "x"], "env": {"B": "2", "A": "1"},
                                     "apiVersion": "client.authentication.k8s.io/v1"}, "tlsClientConfig": {}}
    got = cluster_from_secret(secret("c", server="https://x", config=json.dumps(config)))
    assert got.config.exec_provider == ExecProvider("get-token", ("--cluster", "x"), (("A", "1"), ("B", "2")),
                                                    "client.authentication.k8s.io/v1")
    user = kubeconfig(got)["users"][0]["user"]
    assert user["exec"]["command"] == "get-token" and user["exec"]["env"] == [{"name": "A", "value": "1"},
                                                                             {"name": "B", "value": "2"}]
    assert user["exec"]["interactiveMode"] == "Never"


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "x"}, "cluster secret bad has no server"),
    ({"server": "https://x", "config": "{nope"}, "could not unmarshal cluster secret bad: config is not JSON"),
    ({"server": "https://x", "config": json.dumps({"tlsClientConfig": {"caData": "%%%"}})},
     "cluster secret bad: tlsClientConfig.caData is not base64-encoded PEM"),
    ({"server": "https://x", "config": json.dumps({"awsAuthConfig": {"clusterName": "eks"}})},
     "config.awsAuthConfig (argocd-k8s-auth) is not supported"),
    ({"server": "https://x", "config": json.dumps({"execProviderConfig": {"args": []}})},
     "config.execProviderConfig needs a command"),
], ids=["no-server", "bad-json", "bad-ca", "aws", "exec-without-command"])
def test_unreadable_secrets_are_named(data: dict[str, str], message: str) -> None:
    with pytest.raises(ClusterSecretError, match=re.escape(message)):
        cluster_from_secret(secret("bad", **data))
    registry = Clusters.from_secrets([secret("bad", **data), secret("good", server="https://y", name="y")])
    assert [c.name for c in registry.declared] == ["y"] and message.split(":")[0] in registry.problems[0]


def test_cluster_secret_round_trips() -> None:
    cluster = Cluster(server="https://10.0.0.1:6443", name="prod", namespaces=("a", "b"), cluster_resources=True,
                      project="team", config=ClusterConfig(bearer_token="tok", ca_data=CA))
    body = cluster_secret(cluster, "argocd")
    assert body["metadata"]["name"] == secret_name("https://10.0.0.1:6443")
    assert body["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    back = cluster_from_secret(body)
    assert (back.server, back.name, back.namespaces, back.cluster_resources, back.project, back.config) == (
        cluster.server, cluster.name, cluster.namespaces, True, "team", cluster.config)
    # clusterToSecret: an unnamed cluster is named after its server
    assert cluster_secret(Cluster(server="https://z", name=""), "argocd")["stringData"]["name"] == "https://z"


REGISTRY = Clusters.from_secrets([
    secret("a", server="https://a.example.com", name="staging"),
    secret("b", server="https://b.example.com", name="twin"),
    secret("c", server="https://c.example.com", name="twin"),
])


@pytest.mark.parametrize(("destination", "expected"), [
    ({"name": "staging"}, "https://a.example.com"),
    ({"server": "https://a.example.com/"}, "https://a.example.com"),
    ({"server": "https://kubernetes.default.svc"}, "https://kubernetes.default.svc"),
    ({"name": "in-cluster"}, "https://kubernetes.default.svc"),
    ({"name": "nowhere"}, "there are no clusters with this name: nowhere"),
    ({"name": "twin"}, "there are 2 clusters with the same name: [https://b.example.com https://c.example.com]"),
    ({"server": "https://x.example.com"}, 'error getting cluster by server "https://x.example.com": rpc error: '
                                          'code = NotFound desc = cluster "https://x.example.com" not found'),
    ({"name": "staging", "server": "https://a.example.com"},
     "application destination can't have both name and server defined: staging https://a.example.com"),
    ({"namespace": "x"}, "Destination server missing from app spec"),
], ids=["by-name", "by-server-trailing-slash", "local-server", "local-name", "unknown-name", "ambiguous-name",
        "unknown-server", "both", "neither"])
def test_destinations_resolve_as_argo_cd_resolves_them(destination: dict[str, str], expected: str) -> None:
    got = resolve_destination(ApplicationDestination.model_validate(destination), REGISTRY)
    assert (got.server if isinstance(got, Cluster) else got) == expected


def test_the_local_cluster_can_be_renamed_restricted_or_disabled() -> None:
    renamed = Clusters.from_secrets([secret("l", server="https://kubernetes.default.svc", name="home",
                                            namespaces="apps")])
    assert [c.name for c in renamed.all()] == ["home"]
    assert resolve_destination(ApplicationDestination(name="in-cluster"), renamed) == (
        "there are no clusters with this name: in-cluster")
    home = resolve_destination(ApplicationDestination(name="home"), renamed)
    assert isinstance(home, Cluster) and home.is_local and home.namespaces == ("apps",)
    disabled = Clusters.from_secrets([], in_cluster_enabled=False)
    assert disabled.all() == []
    assert "not found" in str(resolve_destination(ApplicationDestination(server="https://kubernetes.default.svc"),
                                                  disabled))
    assert Clusters().all() == [LOCAL]


@pytest.mark.parametrize(("cluster", "kind", "namespace", "expected"), [
    (Cluster(server="https://x"), "ConfigMap", "any", None),
    (Cluster(server="https://x", namespaces=("a",)), "ConfigMap", "a", None),
    (Cluster(server="https://x", namespaces=("a",)), "ConfigMap", "b", 'namespace "b" for ConfigMap "obj" is not managed'),
    (Cluster(server="https://x", namespaces=("a",)), "ClusterRole", "",
     'cluster level ClusterRole "obj" can not be managed when in namespaced mode'),
    (Cluster(server="https://x", namespaces=("a",), cluster_resources=True), "ClusterRole", "", None),
], ids=["all", "listed", "not-listed", "cluster-level", "cluster-resources"])
def test_managed_namespaces(cluster: Cluster, kind: str, namespace: str, expected: str | None) -> None:
    assert unmanaged(cluster, kind=kind, name="obj", namespace=namespace) == expected


def test_kubeconfig_for_a_token_and_ca() -> None:
    doc = kubeconfig(Cluster(server="https://x:6443", config=ClusterConfig(bearer_token="t", ca_data=CA,
                                                                           server_name="api")))
    assert doc["clusters"][0]["cluster"] == {"server": "https://x:6443", "certificate-authority-data": CA,
                                             "tls-server-name": "api"}
    assert doc["users"][0]["user"] == {"token": "t"}
    insecure = kubeconfig(Cluster(server="https://x", config=ClusterConfig(insecure=True, username="u",
                                                                         password="p", cert_data=CA, key_data=CA)))
    assert insecure["clusters"][0]["cluster"] == {"server": "https://x", "insecure-skip-tls-verify": True}
    assert insecure["users"][0]["user"] == {"username": "u", "password": "p", "client-certificate-data": CA,
                                            "client-key-data": CA}


# IsDestinationPermitted with permitOnlyProjectScopedClusters; GetAppProjectByName's scoped destinations
def test_project_scoped_clusters() -> None:
    own = Cluster(server="https://own", name="own", project="team")
    fenced = Cluster(server="https://fenced", name="fenced", project="team", namespaces=("a", "b"))
    spec = AppProjectSpec(permit_only_project_scoped_clusters=True,
                          destinations=[ApplicationDestination(server="*", namespace="*")])
    assert is_destination_permitted(spec, own, "x", (own, fenced))
    assert not is_destination_permitted(spec, LOCAL, "x", (own, fenced))
    assert not is_destination_permitted(AppProjectSpec(permit_only_project_scoped_clusters=True), own, "x", (own,))
    widened = with_scoped_clusters(AppProjectSpec(), scoped_destinations([own, fenced]))
    assert [(d.server, d.namespace) for d in widened.destinations or ()] == [
        ("https://own", "*"), ("https://fenced", "a"), ("https://fenced", "b")]
    assert is_destination_permitted(widened, fenced, "a") and not is_destination_permitted(widened, fenced, "c")
    assert REGISTRY.project_clusters("team") == []
