"""A push webhook refreshes the matching Application at once (polling is set to an hour here)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from rollouts.gitops.reconciler import ApplicationReconciler, GitopsConfig
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION
from tests.integration.gitops.conftest import app_probe, application, cm, reconciler_running, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration
SECRET = "hook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def hooked(kube: KubeClient, namespace: str, crds: None,
                 tmp_path: Path) -> AsyncIterator[ApplicationReconciler]:
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=3600, cache_dir=tmp_path / "cache",
                          webhook_port=free_port(), webhook_secret=SECRET)
    async with reconciler_running(kube, config) as rec:
        yield rec


async def test_push_webhook_refreshes_at_once(
        kube: KubeClient, namespace: str, hooked: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("hooked", "one"))
    first = repo.commit()
    await kube.create(APPLICATION, application("hooked", repo, namespace, automated={}), namespace)
    probe = app_probe(kube, "hooked", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync")
    repo.write("app/cm.yaml", cm("hooked", "two"))
    second = repo.commit()
    body = json.dumps({"ref": "refs/heads/main", "repository": {"url": repo.url, "default_branch": "main"}}).encode()
    url = f"http://127.0.0.1:{hooked.config.webhook_port}/api/webhook"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers={"X-GitHub-Event": "push",
                                                         "X-Hub-Signature-256": "sha256=bad"}) as resp:
            assert resp.status == 401
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        async with session.post(url, data=body, headers={"X-GitHub-Event": "push",
                                                         "X-Hub-Signature-256": signature}) as resp:
            assert resp.status == 200
            assert (await resp.json())["refreshed"] == ["hooked"]
    await eventually(probe, synced_at(second), timeout=10, expected="Synced at the pushed commit within seconds")


async def test_refresh_annotation_fetches_and_is_removed(
        kube: KubeClient, namespace: str, hooked: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("refreshed", "one"))
    first = repo.commit()
    await kube.create(APPLICATION, application("refreshed", repo, namespace, automated={}), namespace)
    probe = app_probe(kube, "refreshed", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync")
    repo.write("app/cm.yaml", cm("refreshed", "two"))
    second = repo.commit()
    await kube.patch(APPLICATION, "refreshed", {"metadata": {"annotations": {
        "argocd.argoproj.io/refresh": "hard"}}}, namespace)
    app = await eventually(probe, synced_at(second), timeout=10, expected="Synced after a hard refresh")
    app = await eventually(probe, lambda a: "argocd.argoproj.io/refresh" not in (
        a["metadata"].get("annotations") or {}), timeout=10, expected="refresh annotation removed")
    assert app["status"]["sync"]["revision"] == second


def _push_payload(repo_url: str, size: int) -> bytes:
    """A GitHub push payload padded with commit messages to exactly `size` bytes."""
    head = {"ref": "refs/heads/main", "repository": {"url": repo_url, "default_branch": "main"}, "commits": []}
    base = len(json.dumps(head).encode())
    message = "x" * (size - base - len('{"message": ""}'))
    head["commits"] = [{"message": message}]
    body = json.dumps(head).encode()
    assert len(body) == size, (len(body), size)
    return body


async def test_a_25mb_push_is_accepted_and_a_larger_one_is_413(
        kube: KubeClient, namespace: str, hooked: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("big-push", "one"))
    first = repo.commit()
    await kube.create(APPLICATION, application("big-push", repo, namespace, automated={}), namespace)
    probe = app_probe(kube, "big-push", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync")
    repo.write("app/cm.yaml", cm("big-push", "two"))
    second = repo.commit()
    url = f"http://127.0.0.1:{hooked.config.webhook_port}/api/webhook"
    async with aiohttp.ClientSession() as session:
        body = _push_payload(repo.url, 25_000_000)  # GitHub's cap on a push payload
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        async with session.post(url, data=body, headers={"X-GitHub-Event": "push",
                                                         "X-Hub-Signature-256": signature}) as resp:
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["refreshed"] == ["big-push"]
        too_big = _push_payload(repo.url, hooked.config.webhook_max_payload_bytes + 1)
        signature = "sha256=" + hmac.new(SECRET.encode(), too_big, hashlib.sha256).hexdigest()
        async with session.post(url, data=too_big, headers={"X-GitHub-Event": "push",
                                                            "X-Hub-Signature-256": signature}) as resp:
            assert resp.status == 413, f"expected 413 above the limit, got {resp.status}"
    await eventually(probe, synced_at(second), timeout=10, expected="Synced at the commit the 25 MB push named")


def test_the_payload_limit_is_a_controller_flag() -> None:
    import argparse

    from rollouts.cli.admin import add_controller_parser

    parser = argparse.ArgumentParser()
    add_controller_parser(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["controller"]).webhook_max_payload_size_mb == 25
    assert parser.parse_args(["controller", "--webhook-max-payload-size-mb", "50"]).webhook_max_payload_size_mb == 50
