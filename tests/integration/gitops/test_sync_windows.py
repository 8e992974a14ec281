"""Sync windows on the real control plane: `proj windows add|list|update|delete|enable-manual-sync|
disable-manual-sync`, an active deny holding back automated and
manual syncs ("Sync operation blocked by sync window"), and manualSync letting a manual sync through."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.cli import proj
from rollouts.cli.app import main as app_cli
from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION, APPPROJECT
from tests.integration.gitops.conftest import app_probe, application, cm, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration
SERVER = "https://kubernetes.default.svc"


async def test_deny_window(kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo,
                           capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("app/cm.yaml", cm("frozen"))
    sha = repo.commit()
    assert await proj.main(["create", "frozen", "--dest", f"{SERVER},{namespace}", "--src", repo.url,
                            "-n", namespace], client=kube) == 0
    assert await proj.main(["windows", "add", "frozen", "--kind", "deny", "--schedule", "* * * * *", "--duration",
                            "1h", "--applications", "*", "-n", namespace], client=kube) == 0
    assert await proj.main(["windows", "add", "frozen", "--kind", "sometimes", "--schedule", "* * * * *",
                            "--duration", "1h", "-n", namespace], client=kube) == 2
    assert "kind 'sometimes' mismatch: can only be allow or deny" in capsys.readouterr().err
    assert await proj.main(["windows", "list", "frozen", "-n", namespace], client=kube) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:5] == ["ID", "STATUS", "KIND", "SCHEDULE", "DURATION"]
    assert row.split() == ["0", "Active", "deny", "*", "*", "*", "*", "*", "1h", "*", "-", "-", "Disabled",
                           "Disabled", "UTC", "Disabled"]

    body = application("frozen", repo, namespace, automated={})
    body["spec"]["project"] = "frozen"
    await kube.create(APPLICATION, body, namespace)
    probe = app_probe(kube, "frozen", namespace)
    app = await eventually(probe, lambda a: (status_of(a).get("sync") or {}).get("status") == "OutOfSync",
                           timeout=60, expected="compared: OutOfSync")
    assert app.get("operation") is None and "operationState" not in status_of(app), "no sync inside a deny window"
    assert await app_cli(["get", "frozen", "-n", namespace], client=kube) == 0
    assert "SyncWindow:    Sync Denied" in capsys.readouterr().out

    await kube.patch(APPLICATION, "frozen", {"operation": {"sync": {"revision": sha},
                                                           "initiatedBy": {"username": "me"}}}, namespace)

    def blocked(a: dict[str, Any]) -> bool:
        op = status_of(a).get("operationState") or {}
        return op.get("phase") == "Running" and op.get("message") == "Sync operation blocked by sync window"

    await eventually(probe, blocked, timeout=30, expected="the manual sync held by the window")
    assert await proj.main(["windows", "enable-manual-sync", "frozen", "0", "-n", namespace], client=kube) == 0
    await eventually(probe, synced_at(sha), timeout=60, expected="the manual sync through once manualSync is on")
    assert await app_cli(["get", "frozen", "-n", namespace], client=kube) == 0
    assert "SyncWindow:    Manual Allowed" in capsys.readouterr().out

    # argocd's other window verbs: update (only the fields given), disable-manual-sync, delete, and their errors.
    assert await proj.main(["windows", "update", "frozen", "0", "--duration", "2h", "--namespaces", "prod-*",
                            "-n", namespace], client=kube) == 0
    assert await proj.main(["windows", "update", "frozen", "0", "-n", namespace], client=kube) == 1
    assert "cannot update: require one or more of schedule, duration" in capsys.readouterr().err
    assert await proj.main(["windows", "disable-manual-sync", "frozen", "0", "-n", namespace], client=kube) == 0
    assert await proj.main(["windows", "enable-sync-overrun", "frozen", "0", "-n", namespace], client=kube) == 0
    (window,) = (await kube.get(APPPROJECT, "frozen", namespace))["spec"]["syncWindows"]
    assert (window["duration"], window["namespaces"], window["applications"], window["manualSync"],
            window["syncOverrun"]) == ("2h", ["prod-*"], ["*"], False, True)
    assert await proj.main(["windows", "delete", "frozen", "3", "-n", namespace], client=kube) == 1
    assert "window with id '3' not found" in capsys.readouterr().err
    assert await proj.main(["windows", "delete", "frozen", "0", "-n", namespace], client=kube) == 0
    assert (await kube.get(APPPROJECT, "frozen", namespace))["spec"].get("syncWindows") in (None, [])
    assert await app_cli(["get", "frozen", "-n", namespace], client=kube) == 0
    assert "SyncWindow:    Sync Allowed" in capsys.readouterr().out
