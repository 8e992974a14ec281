"""`app get` and `app list` output, line by line, for the shapes an Application's status takes.

The reading side is pure (the Application's spec and status -> lines and rows); the API is reached only for
the Application itself and its project's sync windows, answered here by a small in-memory reader (the real
round trip is tests/integration/gitops/test_cli.py)."""

from __future__ import annotations

import argparse
import copy
from typing import Any

import pytest

from rollouts.cli.app import cmd_get, cmd_list
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, APPPROJECT

SHA = "0123456789abcdef0123456789abcdef01234567"
FULL: dict[str, Any] = {
    "metadata": {"name": "shop", "namespace": "argocd"},
    "spec": {"project": "team", "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
             "source": {"repoURL": "https://git.example/shop.git", "path": "deploy", "targetRevision": "main"},
             "syncPolicy": {"automated": {"prune": True}}},
    "status": {
        "sync": {"status": "Synced", "revision": SHA,
                 "revisionMetadata": {"author": "Ann <ann@example.org>", "date": "2026-12-01T10:00:00Z",
                                      "tags": ["v1"], "message": "Bump the shop\n\nso it sells more\n"}},
        "health": {"status": "Degraded", "message": "1 pod crashing"},
        "operationState": {"phase": "Succeeded", "startedAt": "2026-12-01T10:01:00Z",
                           "finishedAt": "2026-12-01T10:01:05Z", "message": "successfully synced",
                           "syncResult": {"revision": SHA}},
        "conditions": [{"type": "SyncError", "message": "boom", "lastTransitionTime": "2026-12-01T10:02:00Z"},
                       {"type": "OrphanedResourceWarning", "message": "2 orphans"}],
        "resources": [{"group": "apps", "kind": "Deployment", "namespace": "web", "name": "shop", "status": "Synced",
                       "health": {"status": "Degraded", "message": "1 pod crashing"}},
                      {"kind": "ConfigMap", "namespace": "web", "name": "old", "status": "OutOfSync",
                       "requiresPruning": True}],
    },
}
BARE: dict[str, Any] = {"metadata": {"name": "bare", "namespace": "argocd"},
                        "spec": {"destination": {"name": "in-cluster"}, "source": {"repoURL": "https://g/x.git"}}}
CHART: dict[str, Any] = {"metadata": {"name": "chart", "namespace": "argocd"},
                         "spec": {"project": "default", "destination": {"server": "https://k", "namespace": "c"},
                                  "source": {"repoURL": "https://charts.example", "chart": "redis",
                                             "targetRevision": "1.2.3"},
                                  "syncPolicy": {"automated": {}}},
                         "status": {"sync": {"status": "OutOfSync", "revision": "1.2.3"},
                                    "health": {"status": "Healthy"}}}


class Reader:
    """The two reads `app get`/`app list` make: Applications, and an AppProject (absent here: Sync Allowed)."""

    def __init__(self, *apps: dict[str, Any]) -> None:
        self.apps = {a["metadata"]["name"]: a for a in apps}

    async def get(self, kind: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
        if kind == APPLICATION and name in self.apps:
            return self.apps[name]
        assert kind in (APPLICATION, APPPROJECT), kind
        raise NotFound(404, "NotFound", f"{name} not found")

    async def list(self, kind: Any, namespace: str | None = None, **_: Any) -> tuple[list[dict[str, Any]], str]:
        assert kind == APPLICATION
        return list(self.apps.values()), "1"


def _args(**kw: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"namespace": "argocd", "output": None, "refresh": False, "hard_refresh": False,
                                 **kw})


GET_FULL = """\
Name:          argocd/shop
Project:       team
Server:        https://kubernetes.default.svc
Namespace:     web
Repo:          https://git.example/shop.git
Target:        main
Path:          deploy
SyncWindow:    Sync Allowed
Sync Policy:   Automated (Prune)
Sync Status:   Synced to main (0123456)
Health Status: Degraded (1 pod crashing)
Author:        Ann <ann@example.org>
Date:          2026-12-01T10:00:00Z
Tags:          v1
Message:       Bump the shop
               so it sells more

Operation:     Sync
Sync Revision: 0123456789abcdef0123456789abcdef01234567
Phase:         Succeeded
Start:         2026-12-01T10:01:00Z
Finished:      2026-12-01T10:01:05Z
Message:       successfully synced
"""
GET_BARE = f"""\
Name:          argocd/bare
Project:       default
Server:        in-cluster
Namespace:{' ' * 5}
Repo:          https://g/x.git
Target:        HEAD
Path:          .
SyncWindow:    Sync Allowed
Sync Policy:   Manual
Sync Status:   Unknown to HEAD
Health Status: Unknown
"""
GET_CHART = """\
Name:          argocd/chart
Project:       default
Server:        https://k
Namespace:     c
Repo:          https://charts.example
Target:        1.2.3
Chart:         redis
SyncWindow:    Sync Allowed
Sync Policy:   Automated
Sync Status:   OutOfSync to 1.2.3
Health Status: Healthy
"""


@pytest.mark.parametrize(("app", "expected"), [(FULL, GET_FULL), (BARE, GET_BARE), (CHART, GET_CHART)],
                         ids=["full", "bare", "chart-version-not-shortened"])
async def test_get_summary(capsys: pytest.CaptureFixture[str], app: dict[str, Any], expected: str) -> None:
    assert await cmd_get(Reader(app), _args(name=app["metadata"]["name"])) == 0
    out = capsys.readouterr().out
    assert out.startswith(expected), out


async def test_get_conditions_and_resources(capsys: pytest.CaptureFixture[str]) -> None:
    assert await cmd_get(Reader(FULL), _args(name="shop")) == 0
    tables = capsys.readouterr().out.split("Message:       successfully synced\n", 1)[1]
    rows = [line.split() for line in tables.splitlines() if line.strip()]
    assert rows == [
        ["CONDITION", "MESSAGE", "LAST", "TRANSITION"],
        ["SyncError", "boom", "2026-12-01T10:02:00Z"],
        ["OrphanedResourceWarning", "2", "orphans"],
        ["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "MESSAGE"],
        ["apps", "Deployment", "web", "shop", "Synced", "Degraded", "1", "pod", "crashing"],
        ["ConfigMap", "web", "old", "OutOfSync", "(requires", "pruning)"],
    ]


async def test_get_missing_application_names_it() -> None:
    from rollouts.cli.errors import CliError

    with pytest.raises(CliError, match="application 'nope' not found in namespace 'argocd'"):
        await cmd_get(Reader(FULL), _args(name="nope"))


async def test_list_rows(capsys: pytest.CaptureFixture[str]) -> None:
    shop = copy.deepcopy(FULL)  # narrower, so that no cell folds in the 200-column table of a pipe
    shop["spec"]["destination"]["server"] = "https://k8s"
    shop["status"]["sync"]["revisionMetadata"]["author"] = "ann"
    assert await cmd_list(Reader(shop, BARE, CHART), _args()) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        ["NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY", "CONDITIONS", "REPO", "PATH",
         "TARGET", "AUTHOR", "MESSAGE"],
        ["argocd/bare", "in-cluster", "default", "Unknown", "Unknown", "Manual", "<none>", "https://g/x.git",
         "HEAD"],
        ["argocd/chart", "https://k", "c", "default", "OutOfSync", "Healthy", "Auto", "<none>",
         "https://charts.example", "1.2.3"],
        ["argocd/shop", "https://k8s", "web", "team", "Synced", "Degraded", "Auto-Prune",
         "OrphanedResourceWarning,SyncError", "https://git.example/shop.git", "deploy", "main", "ann", "Bump", "the",
         "shop"],
    ]


@pytest.mark.parametrize("output", ["json", "yaml", "name"])
async def test_list_machine_outputs(capsys: pytest.CaptureFixture[str], output: str) -> None:
    import json

    import yaml

    assert await cmd_list(Reader(FULL, BARE), _args(output=output)) == 0
    out = capsys.readouterr().out
    if output == "name":
        assert out == "argocd/shop\nargocd/bare\n"
    else:
        assert (json.loads(out) if output == "json" else yaml.safe_load(out)) == [FULL, BARE]
