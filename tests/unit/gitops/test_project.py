"""AppProject permissions as Argo CD decides them.

Expected values are Argo CD v3.4.0's, written here as data from its tests in
pkg/apis/application/v1alpha1/types_test.go (the test function is named on each table).
"""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.application import ApplicationDestination
from rollouts.api.appproject import AppProjectSpec
from rollouts.gitops.project import (
    Cluster,
    destination_violation,
    filepath_match,
    glob_match,
    is_destination_permitted,
    is_kind_permitted,
    is_source_permitted,
    resource_violation,
    source_violation,
)


def spec(**fields: Any) -> AppProjectSpec:
    return AppProjectSpec.model_validate(fields)


# TestAppProject_IsSourcePermitted and TestAppProject_IsNegatedSourcePermitted
SOURCES = [
    (["*"], "https://github.com/argoproj/test.git", True),
    (["https://github.com/argoproj/test.git"], "https://github.com/argoproj/test.git", True),
    (["ssh://git@GITHUB.com:argoproj/test"], "ssh://git@github.com:argoproj/test", True),
    (["https://github.com/argoproj/*"], "https://github.com/argoproj/argoproj.git", True),
    (["https://github.com/test1/test.git", "https://github.com/test2/test.git"], "https://github.com/test2/test.git",
     True),
    (["https://github.com/argoproj/test1.git"], "https://github.com/argoproj/test2.git", False),
    (["https://github.com/argoproj/*.git"], "https://github.com/argoproj1/test2.git", False),
    (["https://github.com/argoproj/foo"], "https://github.com/argoproj/foo1", False),
    (["https://gitlab.com/group/*"], "https://gitlab.com/group/repo/owner", False),
    (["https://gitlab.com/group/*/*"], "https://gitlab.com/group/repo/owner", True),
    (["https://gitlab.com/group/*/*/*"], "https://gitlab.com/group/sub-group/repo/owner", True),
    (["https://gitlab.com/group/**"], "https://gitlab.com/group/sub-group/repo/owner", True),
    (["!https://github.com/argoproj/test.git"], "https://github.com/argoproj/test.git", False),
    (["!ssh://git@GITHUB.com:argoproj/test"], "ssh://git@github.com:argoproj/test", False),
    (["!https://github.com/argoproj/*"], "https://github.com/argoproj/argoproj.git", False),
    (["https://github.com/test1/test.git", "!https://github.com/test2/test.git"], "https://github.com/test2/test.git",
     False),
    (["!https://github.com/argoproj/foo*"], "https://github.com/argoproj/foo1", False),
    (["!https://gitlab.com/group/*/*"], "https://gitlab.com/group/repo/owner", False),
    (["!https://gitlab.com/group/*/*/*"], "https://gitlab.com/group/sub-group/repo/owner", False),
    (["!https://gitlab.com/group/**"], "https://gitlab.com/group/sub-group/repo/owner", False),
    (["https://github.com/argoproj/test1.git", "*"], "https://github.com/argoproj/test2.git", True),
    (["!https://github.com/argoproj/*.git", "*"], "https://github.com/argoproj1/test2.git", True),
]


@pytest.mark.parametrize(("repos", "url", "permitted"), SOURCES, ids=[f"{i}-{u}" for i, (_, u, _) in
                                                                       enumerate(SOURCES)])
def test_source_repos(repos: list[str], url: str, permitted: bool) -> None:
    assert is_source_permitted(spec(sourceRepos=repos), url) is permitted


def dest(server: str = "", namespace: str = "", name: str = "") -> dict[str, str]:
    return {"server": server, "namespace": namespace, "name": name}


IN = "https://kubernetes.default.svc"
EKS = "https://eks-cluster-endpoint.ap-southeast-1.eks.amazonaws.com"
# TestAppProject_IsDestinationPermitted and TestAppProject_IsNegatedDestinationPermitted
DESTINATIONS = [
    ("server-and-namespace", [dest(IN, "default")], dest(IN, "default"), True),
    ("namespace-differs", [dest(IN, "default")], dest(IN, "kube-system"), False),
    ("server-differs", [dest("https://my-cluster", "default")], dest(IN, "default"), False),
    ("wildcard-namespace", [dest(IN, "*")], dest(IN, "kube-system"), True),
    ("wildcard-server", [dest("https://*.default.svc", "default")], dest(IN, "default"), True),
    ("wildcard-server-no-match", [dest("https://team1-*", "default")], dest("https://test2-dev-cluster", "default"),
     False),
    ("namespace-prefix", [dest(IN, "test-*")], dest(IN, "test-foo"), True),
    ("namespace-prefix-only", [dest(IN, "test-*")], dest(IN, "test"), False),
    ("everything", [dest("*", "*")], dest(IN, "test"), True),
    ("by-name", [dest("", "*", "test")], dest("", "test", "test"), True),
    ("by-other-name", [dest("", "*", "test2")], dest("", "test", "test"), False),
    ("negated-namespace-set-on-another-cluster", [dest(IN, "!{kube-system,argocd}", "host-cluster"),
                                                  dest(EKS, "*", "destination-cluster-01")],
     dest(EKS, "kube-system"), True),
    ("negated-server", [dest("!" + IN, "default")], dest(IN, "default"), False),
    ("negated-namespace", [dest(IN, "!default")], dest(IN, "kube-system"), True),
    ("negated-other-server", [dest("!https://my-cluster", "default")], dest(IN, "default"), True),
    ("negated-server-any-namespace", [dest("!" + IN, "*")], dest(IN, "kube-system"), False),
    ("negated-server-glob", [dest("!https://*.default.svc", "default")], dest(IN, "default"), False),
    ("negated-other-server-glob", [dest("!https://team1-*", "default")], dest("https://test2-dev-cluster", "default"),
     True),
    ("negated-namespace-glob", [dest(IN, "!test-*")], dest(IN, "test-foo"), False),
    ("negated-namespace-glob-other", [dest(IN, "!test-*")], dest(IN, "test"), True),
    ("negated-name", [dest("", "*", "!test")], dest("", "test", "test"), False),
    ("negated-other-name", [dest("", "*", "!test2")], dest("", "test", "test"), True),
    ("allow-then-deny-namespace", [dest("*", "kube-system"), dest("*", "!kube-system")], dest(IN, "kube-system"),
     False),
    ("all-then-deny-namespace", [dest("*", "*"), dest("*", "!kube-system")], dest(IN, "kube-system"), False),
    ("allow-then-deny-server", [dest(IN, "*"), dest("!" + IN, "*")], dest(IN, "kube-system"), False),
    ("all-then-deny-server-namespace", [dest("*", "*"), dest("!" + IN, "kube-system")], dest(IN, "kube-system"),
     False),
    ("three-rules-denied", [dest("*", "*"), dest("!" + IN, "kube-system"), dest("*", "!kube-system")],
     dest(IN, "kube-system"), False),
    ("three-rules-other-namespace", [dest("*", "*"), dest("!" + IN, "kube-system"), dest("*", "!kube-system")],
     dest(IN, "default"), True),
    ("three-rules-other-server", [dest("*", "*"), dest("!" + IN, "kube-system"), dest("*", "!kube-system")],
     dest("https://test-dev-cluster", "kube-system"), False),
    ("name-then-negated-name", [dest("", "*", "test"), dest("", "*", "!test")], dest("", "test", "test"), False),
]


@pytest.mark.parametrize(("destinations", "app", "permitted"), [d[1:] for d in DESTINATIONS],
                         ids=[d[0] for d in DESTINATIONS])
def test_destinations(destinations: list[dict[str, str]], app: dict[str, str], permitted: bool) -> None:
    cluster = Cluster(server=app["server"], name=app["name"])
    assert is_destination_permitted(spec(destinations=destinations), cluster, app["namespace"]) is permitted


GK = dict[str, str]
# TestAppProject_IsGroupKindPermitted: (spec, group, kind, name, namespaced, permitted)
KINDS: list[tuple[str, dict[str, Any], str, str, str, bool, bool]] = [
    ("empty-namespace-whitelist", {"namespaceResourceWhitelist": [],
                                   "namespaceResourceBlacklist": [{"group": "apps", "kind": "Deployment"}]},
     "apps", "ReplicaSet", "", True, False),
    ("namespace-blacklist", {"namespaceResourceWhitelist": [],
                             "namespaceResourceBlacklist": [{"group": "apps", "kind": "Deployment"}]},
     "apps", "Deployment", "", True, False),
    ("namespace-whitelisted", {"namespaceResourceWhitelist": [{"group": "apps", "kind": "ReplicaSet"}],
                               "namespaceResourceBlacklist": [{"group": "apps", "kind": "Deployment"}]},
     "apps", "ReplicaSet", "", True, True),
    ("namespace-not-whitelisted", {"namespaceResourceWhitelist": [{"group": "apps", "kind": "ReplicaSet"}]},
     "apps", "Action", "", True, False),
    ("cluster-blacklist-only", {"clusterResourceBlacklist": [{"group": "", "kind": "Namespace"}]},
     "", "Namespace", "", False, False),
    ("cluster-white-and-blacklisted", {"clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
                                       "clusterResourceBlacklist": [{"group": "*", "kind": "*"}]},
     "", "Namespace", "", False, False),
    ("namespaced-unaffected-by-cluster-lists", {"clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
                                                "clusterResourceBlacklist": [{"group": "*", "kind": "*"}]},
     "apps", "Action", "", True, True),
    ("empty-cluster-whitelist", {"clusterResourceWhitelist": [], "namespaceResourceWhitelist": [
        {"group": "*", "kind": "*"}]}, "", "Namespace", "", False, False),
    ("no-lists-cluster", {}, "", "Namespace", "", False, False),
    ("no-lists-namespaced", {}, "apps", "Action", "", True, True),
    ("cluster-name-glob-other", {"clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": "team1-*"}]},
     "", "Namespace", "other-namespace", False, False),
    ("cluster-name-glob", {"clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": "team1-*"}]},
     "", "Namespace", "team1-namespace", False, True),
]


@pytest.mark.parametrize(("fields", "group", "kind", "name", "namespaced", "permitted"), [k[1:] for k in KINDS],
                         ids=[k[0] for k in KINDS])
def test_resource_kinds(fields: dict[str, Any], group: str, kind: str, name: str, namespaced: bool,
                        permitted: bool) -> None:
    assert is_kind_permitted(spec(**fields), group=group, kind=kind, name=name, namespaced=namespaced) is permitted


@pytest.mark.parametrize(
    ("pattern", "value", "separators", "matched"),
    [
        ("foo*", "foobar", "", True), ("foo*", "foo/bar", "", True), ("foo*", "foo/bar", "/", False),
        ("**", "a/b/c", "/", True), ("{prod,staging}-*", "staging-web", "", True), ("a?c", "abc", "", True),
        ("[a-c]x", "bx", "", True), ("[!a-c]x", "bx", "", False), ("[!a-c]x", "dx", "", True),
        ("\\*", "*", "", True), ("[", "[", "", False), ("{a,b", "a", "", False),
    ],
)
def test_gobwas_glob(pattern: str, value: str, separators: str, matched: bool) -> None:
    assert glob_match(pattern, value, separators) is matched


@pytest.mark.parametrize(
    ("pattern", "name", "matched"),
    [("*", "Deployment", True), ("*", "a/b", False), ("Deploy*", "Deployment", True), ("[^D]*", "Deployment", False),
     ("[^D]*", "Service", True), ("apps", "apps", True), ("", "", True), ("", "apps", False), ("[", "[", False)],
)
def test_go_filepath_match(pattern: str, name: str, matched: bool) -> None:
    assert filepath_match(pattern, name) is matched


def test_messages_are_argo_cd_s() -> None:
    project = spec(sourceRepos=["https://git.example.com/*"], destinations=[dest(IN, "kuard")])
    assert source_violation(project, "kuard", "https://evil.example.com/x.git") == (
        "application repo https://evil.example.com/x.git is not permitted in project 'kuard'")
    assert destination_violation(project, "kuard", ApplicationDestination(server=IN, namespace="payments"),
                                 Cluster()) == (
        "application destination server 'https://kubernetes.default.svc' and namespace 'payments' do not match any "
        "of the allowed destinations in project 'kuard'")
    assert destination_violation(project, "kuard", ApplicationDestination(name="in-cluster", namespace="x"),
                                 Cluster()) == (
        "application destination server 'in-cluster' and namespace 'x' do not match any of the allowed "
        "destinations in project 'kuard'")
    assert resource_violation(project, "kuard", Cluster(), group="rbac.authorization.k8s.io", kind="ClusterRole",
                              name="admin", namespace="", namespaced=False) == (
        "resource rbac.authorization.k8s.io:ClusterRole is not permitted in project kuard")
    assert resource_violation(project, "kuard", Cluster(), group="", kind="ConfigMap", name="c", namespace="other",
                              namespaced=True) == "namespace other is not permitted in project 'kuard'"
    assert resource_violation(project, "kuard", Cluster(), group="", kind="ConfigMap", name="c", namespace="kuard",
                              namespaced=True) is None
