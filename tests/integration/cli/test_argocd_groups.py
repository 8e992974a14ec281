"""`proj`, `repo` and `repocreds` with argocd's verbs and flags, against the real API server.

Credentials never appear in the output of any command (captured stdout and stderr are searched).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from rollouts.cli import proj, repo
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPPROJECT, SECRET
from tests.unit.gitops.gitrepo import GitRepo, http_remote

pytestmark = pytest.mark.integration
PASSWORD = "p4ss-w0rd-never-printed"
IN_CLUSTER = "https://kubernetes.default.svc"


async def test_proj_create_and_edit_as_argocd(kube: KubeClient, namespace: str, crds: None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://git.example.com/org/kuard.git"
    assert await proj.main(["create", "kuard", "--dest", f"{IN_CLUSTER},kuard", "--src", url,
                            "--allow-cluster-resource", "*/*", "-n", namespace], client=kube) == 0
    created = await kube.get(APPPROJECT, "kuard", namespace)
    assert created["spec"] == {"sourceRepos": [url], "destinations": [{"server": IN_CLUSTER, "namespace": "kuard"}],
                               "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}
    assert await proj.main(["create", "kuard", "--src", "https://other", "-n", namespace], client=kube) == 1
    assert "use upsert flag" in capsys.readouterr().err

    steps: list[tuple[list[str], str]] = [
        (["add-source", "kuard", "https://git.example.com/org/extra.git"], ""),
        (["add-destination", "kuard", IN_CLUSTER, "kuard-*"], ""),
        (["deny-cluster-resource", "kuard", "*", "*"],
         "Group '*', kind '*', and name '' is removed from allowed cluster resources"),
        (["allow-cluster-resource", "kuard", "", "Namespace", "kuard"],
         "Group '', kind 'Namespace', and name 'kuard' is added to allowed cluster resources"),
        (["deny-namespace-resource", "kuard", "apps", "DaemonSet"],
         "Group 'apps' and kind 'DaemonSet' is added to denied namespaced resources"),
        (["allow-namespace-resource", "kuard", "apps", "DaemonSet"],
         "Group 'apps' and kind 'DaemonSet' is removed from denied namespaced resources"),
        (["allow-namespace-resource", "kuard", "apps", "Deployment", "--list", "allow"],
         "Group 'apps' and kind 'Deployment' is added to allowed namespaced resources"),
        (["remove-source", "kuard", url], ""),
    ]
    for argv, message in steps:
        assert await proj.main([*argv, "-n", namespace], client=kube) == 0, argv
        assert capsys.readouterr().out.strip() == message, argv
    spec = (await kube.get(APPPROJECT, "kuard", namespace))["spec"]
    assert spec["sourceRepos"] == ["https://git.example.com/org/extra.git"]
    assert spec["destinations"] == [{"server": IN_CLUSTER, "namespace": "kuard"},
                                    {"server": IN_CLUSTER, "namespace": "kuard-*"}]
    assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace", "name": "kuard"}]
    assert spec["namespaceResourceBlacklist"] == []
    assert spec["namespaceResourceWhitelist"] == [{"group": "apps", "kind": "Deployment"}]

    assert await proj.main(["add-destination", "kuard", IN_CLUSTER, "kuard", "-n", namespace], client=kube) == 1
    assert "already defined" in capsys.readouterr().err
    assert await proj.main(["get", "kuard", "-n", namespace], client=kube) == 0
    shown = capsys.readouterr().out
    assert "Destinations:                https://kubernetes.default.svc,kuard" in shown
    assert "Allowed Cluster Resources:   /Namespace/kuard" in shown
    assert await proj.main(["list", "-n", namespace], client=kube) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("kuard ")
    assert await proj.main(["delete", "kuard", "-n", namespace], client=kube) == 0
    with pytest.raises(NotFound):
        await kube.get(APPPROJECT, "kuard", namespace)


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


async def test_repo_add_checks_the_credentials_and_never_prints_them(
        kube: KubeClient, namespace: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    source = GitRepo(tmp_path / "git")
    source.write("manifests/cm.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    source.commit()
    source._git("update-server-info", cwd=source.bare)
    async with http_remote(source, user="bob", password=PASSWORD) as url:
        assert await repo.main(["repo", "add", url, "--username", "bob", "--password", "wrong", "-n", namespace],
                               client=kube) == 1
        err = capsys.readouterr().err
        assert f"unable to connect to repository {url}" in err and "wrong" not in err
        secrets, _ = await kube.list(SECRET, namespace, label_selector="argocd.argoproj.io/secret-type")
        assert secrets == [], "nothing is stored when the repository refuses the credentials"

        assert await repo.main(["repo", "add", url, "--username", "bob", "--password", PASSWORD, "-n", namespace],
                               client=kube) == 0
        assert capsys.readouterr().out.strip() == f"Repository '{url}' added"
        name = repo.secret_name("repo", url)
        secret = await kube.get(SECRET, name, namespace)
        assert secret["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
        assert _decoded(secret) == {"url": url, "type": "git", "username": "bob", "password": PASSWORD}
        assert await repo.main(["repo", "list", "-n", namespace], client=kube) == 0
        listed = capsys.readouterr().out
        header, row = listed.splitlines()
        assert header.split() == ["TYPE", "NAME", "REPO", "INSECURE", "LFS", "CREDS", "PROJECT"]
        assert row.split() == ["git", url, "false", "false", "true"]
        for output in ("wide", "json", "yaml"):
            assert await repo.main(["repo", "get", url, "-o", output, "-n", namespace], client=kube) == 0
        assert await repo.main(["repocreds", "add", url.rsplit("/", 1)[0], "--username", "bob", "--password",
                                PASSWORD, "-n", namespace], client=kube) == 0
        assert await repo.main(["repocreds", "list", "-n", namespace], client=kube) == 0
        assert await repo.main(["repocreds", "list", "-o", "json", "-n", namespace], client=kube) == 0
        everything = capsys.readouterr()
        assert PASSWORD not in everything.out + everything.err
        creds = await kube.get(SECRET, repo.secret_name("creds", url.rsplit("/", 1)[0]), namespace)
        assert creds["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repo-creds"}

        assert await repo.main(["repo", "rm", url, "-n", namespace], client=kube) == 0
        assert await repo.main(["repocreds", "rm", url.rsplit("/", 1)[0], "-n", namespace], client=kube) == 0
        secrets, _ = await kube.list(SECRET, namespace, label_selector="argocd.argoproj.io/secret-type")
        assert secrets == []


def test_secret_names_are_argo_cd_s() -> None:
    # util/db/repository.go RepoURLToSecretName: prefix + "-" + FNV-1a (32 bit) of URL and project.
    assert repo.fnv32a(b"") == 0x811C9DC5
    assert repo.fnv32a(b"a") == 0xE40C292C
    assert repo.secret_name("repo", "https://github.com/argoproj/argocd-example-apps") == (
        f"repo-{repo.fnv32a(b'https://github.com/argoproj/argocd-example-apps')}")
