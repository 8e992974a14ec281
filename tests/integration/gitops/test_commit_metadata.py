"""The synced commit's author, date, message and tags: in status, and shown by app get, list and history."""

from __future__ import annotations

import re

import pytest

from rollouts.cli.app import main as app_cli
from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION
from tests.integration.gitops.conftest import app_probe, application, cm, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


async def test_author_date_message_and_tags_of_the_synced_commit(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("app/cm.yaml", cm("meta"))
    sha = repo.commit("deploy blue\n\nthe first version")
    repo.tag("v1.0.0")
    await kube.create(APPLICATION, application("meta", repo, namespace, automated={}), namespace)
    app = await eventually(app_probe(kube, "meta", namespace),
                           lambda a: synced_at(sha)(a) and bool(status_of(a)["sync"].get("revisionMetadata")),
                           timeout=60, expected="Synced with the commit's metadata")
    meta = status_of(app)["sync"]["revisionMetadata"]
    assert meta["author"] == "t <t@example.com>"
    assert meta["message"] == "deploy blue\n\nthe first version" and meta["tags"] == ["v1.0.0"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["date"]), meta["date"]
    assert status_of(app)["history"][-1]["revisionMetadata"] == meta

    assert await app_cli(["get", "meta", "-n", namespace], client=kube) == 0
    shown = capsys.readouterr().out
    assert "Author:        t <t@example.com>" in shown and "Message:       deploy blue" in shown
    assert "Tags:          v1.0.0" in shown and f"Date:          {meta['date']}" in shown
    assert await app_cli(["list", "-n", namespace], client=kube) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert row.rstrip().endswith("t <t@example.com>  deploy blue"), row
    assert await app_cli(["history", "meta", "-n", namespace], client=kube) == 0
    history = capsys.readouterr().out.splitlines()
    assert history[0].split() == ["ID", "DATE", "REVISION", "AUTHOR", "COMMITTED", "TAGS", "MESSAGE"]
    assert "t <t@example.com>" in history[1] and "v1.0.0" in history[1] and history[1].rstrip().endswith(
        "deploy blue")
