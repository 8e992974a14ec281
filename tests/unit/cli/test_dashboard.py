"""The dashboard's pure page data (tables) and its HTTP server's security checks and JSON answers.

The server is started for real (aiohttp's test server on a free loopback port) on a Hub whose caches are
filled directly; what the dashboard does against a cluster is proven in tests/integration/dashboard/.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from rollouts.cli.dashboard import pages
from rollouts.cli.dashboard.hub import Hub
from rollouts.cli.dashboard.server import CSP, HUB, SECRET_HIDDEN, SETTINGS, Settings, make_app

UID = "ro-uid"


def rollout(**status: Any) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "shop", "uid": UID, "generation": 2,
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "app", "image": "app:green"}]}},
                     "strategy": {"canary": {"steps": [{"setWeight": 25}, {"pause": {}},
                                                       {"pause": {"duration": "30s"}}]}}},
            "status": {"observedGeneration": "2", "phase": "Paused", "message": "CanaryPauseStep",
                       "currentStepIndex": 1, "stableRS": "aaa", "currentPodHash": "bbb", "replicas": 5,
                       "readyReplicas": 5, "availableReplicas": 5, "updatedReplicas": 1,
                       "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:01:00Z"}],
                       **status}}


def replicaset(name: str, pod_hash: str, revision: int, image: str, replicas: int) -> dict[str, Any]:
    return {"kind": "ReplicaSet", "metadata": {
        "name": name, "namespace": "shop", "uid": f"{name}-uid", "generation": 1,
        "labels": {"rollouts-pod-template-hash": pod_hash},
        "annotations": {"rollout.argoproj.io/revision": str(revision)},
        "ownerReferences": [{"uid": UID, "controller": True, "kind": "Rollout", "name": "web"}]},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
        "status": {"observedGeneration": 1, "replicas": replicas, "availableReplicas": replicas}}


def pod(name: str, rs: str) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "shop", "uid": f"{name}-uid",
                                        "ownerReferences": [{"uid": f"{rs}-uid", "controller": True}]},
            "spec": {"containers": [{"name": "app"}]},
            "status": {"phase": "Running", "containerStatuses": [{"ready": True, "state": {"running": {}}}]}}


REPLICASETS = [replicaset("web-aaa", "aaa", 1, "app:blue", 4), replicaset("web-bbb", "bbb", 2, "app:green", 1)]
PODS = [pod("web-aaa-1", "web-aaa"), pod("web-bbb-1", "web-bbb")]


@pytest.mark.parametrize(("step", "text"), [
    ({"setWeight": 20}, "Set weight 20%"),
    ({"pause": {}}, "Pause (until promoted)"),
    ({"pause": {"duration": "30s"}}, "Pause 30s"),
    ({"analysis": {"templates": [{"templateName": "ok"}, {"templateName": "slo"}]}}, "Analysis: ok, slo"),
    ({"setCanaryScale": {"replicas": 2}}, 'setCanaryScale: {"replicas":2}'),
], ids=["weight", "manual-pause", "timed-pause", "analysis", "other"])
def test_describe_step(step: dict[str, Any], text: str) -> None:
    assert pages.describe_step(step) == text


def test_rollout_row_uses_the_plugins_words() -> None:
    [row] = pages.RowCache().rows([rollout()], REPLICASETS, PODS)
    assert (row["status"], row["step"], row["setWeight"], row["actualWeight"], row["ready"]) == (
        "Paused", "1/3", "25", "20", "5/5")  # 1 canary of 5 available pods -> 20
    assert row["images"] == [{"image": "app:blue", "tags": ["stable"]}, {"image": "app:green", "tags": ["canary"]}]


def test_row_cache_recomputes_a_row_when_a_replicaset_changed() -> None:
    cache = pages.RowCache()
    ro = {**rollout(), "metadata": {**rollout()["metadata"], "resourceVersion": "7"}}
    canary = {**REPLICASETS[1], "metadata": {**REPLICASETS[1]["metadata"], "resourceVersion": "1"}}
    assert cache.rows([ro], [REPLICASETS[0], canary], PODS)[0]["actualWeight"] == "20"
    assert cache.rows([ro], [REPLICASETS[0], canary], PODS)[0]["actualWeight"] == "20"  # from the cache
    scaled = {**canary, "metadata": {**canary["metadata"], "resourceVersion": "2"},
              "status": {**canary["status"], "availableReplicas": 2}}
    assert cache.rows([ro], [REPLICASETS[0], scaled], PODS)[0]["actualWeight"] == "40"  # 2 of 5 available


def test_rollout_detail_steps_revisions_and_pause() -> None:
    ro = rollout(currentStepIndex=2)
    detail = pages.rollout_detail(ro, REPLICASETS, PODS, [], [
        {"involvedObject": {"kind": "Rollout", "name": "web"}, "reason": "RolloutPaused", "message": "paused",
         "type": "Normal", "lastTimestamp": "2026-01-01T00:01:00Z"},
        {"involvedObject": {"kind": "Rollout", "name": "other"}, "reason": "Nope"}])
    assert [s["state"] for s in detail["steps"]] == ["done", "done", "current"]
    assert detail["steps"][2]["pauseSeconds"] == 30.0
    assert detail["steps"][2]["pauseStarted"] == "2026-01-01T00:01:00Z"
    assert [r["revision"] for r in detail["revisions"]] == [2, 1]
    assert detail["revisions"][0]["replicasets"][0]["roles"] == ["canary"]
    assert [p["name"] for p in detail["revisions"][1]["replicasets"][0]["pods"]] == ["web-aaa-1"]
    assert [e["reason"] for e in detail["events"]] == ["RolloutPaused"]


def test_analysis_run_measurements_and_judge_score() -> None:
    run = {"metadata": {"name": "web-bbb-2", "namespace": "shop", "uid": "ar",
                        "annotations": {"rollout.argoproj.io/revision": "2"},
                        "ownerReferences": [{"uid": UID}]},
           "status": {"phase": "Failed", "metricResults": [{"name": "judge", "phase": "Failed", "failed": 1,
                                                           "measurements": [
               {"phase": "Failed", "value": '{"score":12.5,"metrics":{"errors":"Fail"}}', "message": "worse",
                "metadata": {"errors": "canary 3% vs 0%"}}]}]}}
    detail = pages.rollout_detail(rollout(), REPLICASETS, PODS, [run], [])
    [ar] = detail["revisions"][0]["analysisruns"]
    [metric] = ar["metrics"]
    assert metric["counts"] == {"successful": 0, "failed": 1, "inconclusive": 0, "error": 0}
    assert metric["measurements"][0]["judge"] == {"score": 12.5, "metrics": {"errors": "Fail"}, "series": {}}
    assert pages.judge_value("1") is None and pages.judge_value("{bad") is None


def test_judge_series_keeps_numbers_only() -> None:
    value = json.dumps({"score": 40, "metrics": {"errors": "High"}, "series": {
        "errors": {"start": "2026-01-01T12:00:00+00:00", "step": 30, "control": [0, 1, None],
                   "canary": [3, "x", True], "controlTotal": [100, 100, 100], "canaryTotal": [99, 98, 97]},
        "broken": "not a mapping"}})
    assert pages.judge_value(value) == {"score": 40, "metrics": {"errors": "High"}, "series": {"errors": {
        "start": "2026-01-01T12:00:00+00:00", "step": 30.0, "control": [0.0, 1.0, None],
        "canary": [3.0, None, None], "controlTotal": [100.0, 100.0, 100.0], "canaryTotal": [99.0, 98.0, 97.0]}}}


def test_application_row_carries_the_synced_commit() -> None:
    app = {"metadata": {"name": "guestbook", "namespace": "argocd", "labels": {"team": "a"}},
           "spec": {"project": "shop", "source": {"repoURL": "https://git/x.git", "path": "app",
                                                  "targetRevision": "main"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"}},
           "status": {"sync": {"status": "Synced", "revision": "abc123",
                               "revisionMetadata": {"author": "Ann <a@x>", "date": "2026-01-01T00:00:00Z",
                                                    "message": "<script>alert(1)</script>"}},
                      "health": {"status": "Healthy"}}}
    row = pages.application_row(app)
    assert (row["sync"], row["health"], row["project"], row["targetRevision"], row["syncedRevision"]) == (
        "Synced", "Healthy", "shop", "main", "abc123")
    assert row["commit"]["message"] == "<script>alert(1)</script>"  # data; the page writes it as text


# ---------------------------------------------------------------------------------------------------
# the server

TOKEN = "t0ken"


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    hub = Hub(client=None, namespace=None)  # type: ignore[arg-type]  # caches filled below, never watched
    hub.informers["rollouts"].upsert(rollout())
    for rs in REPLICASETS:
        hub.informers["replicasets"].upsert(rs)
    server = TestServer(make_app(hub, None, Settings(address="127.0.0.1", port=0, token=TOKEN)),  # type: ignore[arg-type]
                        host="127.0.0.1")
    async with TestClient(server) as test_client:
        yield test_client


def _origin(c: TestClient[Any, Any]) -> str:
    return f"http://127.0.0.1:{c.server.port}"


async def test_host_check_and_headers(client: TestClient[Any, Any]) -> None:
    page = await client.get("/", headers={"Host": f"127.0.0.1:{client.server.port}"})
    assert page.status == 200
    html = await page.text()
    assert f'content="{TOKEN}"' in html and page.headers["Content-Security-Policy"] == CSP
    rebound = await client.get("/api/rollouts", headers={"Host": f"evil.example:{client.server.port}"})
    assert rebound.status == 403 and "not this dashboard's address" in (await rebound.json())["error"]
    listing = await client.get("/api/rollouts", headers={"Host": f"localhost:{client.server.port}"})
    [row] = (await listing.json())["items"]
    assert (row["name"], row["status"], row["step"]) == ("web", "Paused", "1/3")


async def test_actions_need_same_origin_and_the_token(client: TestClient[Any, Any]) -> None:
    url = "/api/rollouts/shop/web/promote"
    host = {"Host": f"127.0.0.1:{client.server.port}"}
    no_origin = await client.post(url, headers={**host, "X-CSRF-Token": TOKEN})
    assert no_origin.status == 403 and "cross-origin" in (await no_origin.json())["error"]
    foreign = await client.post(url, headers={**host, "Origin": "http://evil.example", "X-CSRF-Token": TOKEN})
    assert foreign.status == 403
    no_token = await client.post(url, headers={**host, "Origin": _origin(client)})
    assert no_token.status == 403 and "CSRF" in (await no_token.json())["error"]
    unknown = await client.post("/api/rollouts/shop/web/explode", data=json.dumps({}),
                                headers={**host, "Origin": _origin(client), "X-CSRF-Token": TOKEN})
    assert unknown.status == 404 and "unknown action 'explode'" in (await unknown.json())["error"]


async def test_read_only_refuses_actions(client: TestClient[Any, Any]) -> None:
    client.server.app[SETTINGS].read_only = True
    refused = await client.post("/api/rollouts/shop/web/abort", headers={
        "Host": f"127.0.0.1:{client.server.port}", "Origin": _origin(client), "X-CSRF-Token": TOKEN})
    assert refused.status == 403 and "read-only" in (await refused.json())["error"]


async def test_missing_rollout_and_static_files(client: TestClient[Any, Any]) -> None:
    host = {"Host": f"127.0.0.1:{client.server.port}"}
    missing = await client.get("/api/rollouts/shop/nope", headers=host)
    assert missing.status == 404 and (await missing.json())["error"] == "rollout 'nope' not found in namespace 'shop'"
    script = await client.get("/static/app.js", headers=host)
    assert script.status == 200 and script.content_type == "text/javascript"
    text = await script.text()
    assert not any(sink in text for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"))
    assert (await client.get("/static/..%2Fserver.py", headers=host)).status == 404


async def test_list_answers_are_revalidated_and_follow_their_kinds(client: TestClient[Any, Any]) -> None:
    host = {"Host": f"127.0.0.1:{client.server.port}"}
    first = await client.get("/api/rollouts", headers=host)
    etag = first.headers["ETag"]
    assert first.status == 200 and first.headers["Cache-Control"] == "no-cache"
    same = await client.get("/api/rollouts", headers={**host, "If-None-Match": etag})
    assert same.status == 304 and await same.read() == b""

    hub = client.server.app[HUB]
    # what the watch does for each event it receives: cache the object and tell the hub
    hub.informers["events"]._apply("ADDED", {"metadata": {"name": "e1", "namespace": "shop"}, "reason": "X"})
    assert (await client.get("/api/rollouts", headers={**host, "If-None-Match": etag})).status == 304

    aborted = rollout(phase="Degraded", message="RolloutAborted", abort=True)
    hub.informers["rollouts"]._apply("MODIFIED", {**aborted, "metadata": {**aborted["metadata"], "resourceVersion": "9"}})
    changed = await client.get("/api/rollouts", headers={**host, "If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    [row] = (await changed.json())["items"]
    assert row["status"] == "Degraded"


async def test_applications_list_follows_its_kind(client: TestClient[Any, Any]) -> None:
    host = {"Host": f"127.0.0.1:{client.server.port}"}
    empty = await client.get("/api/applications", headers=host)
    assert (await empty.json())["items"] == []
    client.server.app[HUB].informers["applications"]._apply("ADDED", {
        "metadata": {"name": "guestbook", "namespace": "argocd"}, "spec": {}, "status": {}})
    listed = await client.get("/api/applications", headers={**host, "If-None-Match": empty.headers["ETag"]})
    assert listed.status == 200
    assert [(a["name"], a["health"]) for a in (await listed.json())["items"]] == [("guestbook", "Unknown")]


async def test_diff_withholds_secret_contents(client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from rollouts.cli import app as app_cli

    async def changes(_client: Any, name: str, namespace: str, **_: Any) -> list[app_cli.ResourceChange]:
        assert (name, namespace) == ("guestbook", "argocd")
        return [app_cli.ResourceChange("Secret", "Secret/shop/creds", "modify", "-  password: aHVudGVyMg==\n"),
                app_cli.ResourceChange("ConfigMap", "ConfigMap/shop/settings", "modify", "-  key: a\n+  key: b\n")]

    monkeypatch.setattr(app_cli, "app_changes", changes)
    answer = await client.get("/api/applications/argocd/guestbook/diff",
                              headers={"Host": f"127.0.0.1:{client.server.port}"})
    body = await answer.json()
    assert answer.status == 200 and "aHVudGVy" not in json.dumps(body)
    assert [(c["kind"], c["text"]) for c in body["resources"]] == [
        ("Secret", SECRET_HIDDEN), ("ConfigMap", "-  key: a\n+  key: b\n")]


@pytest.mark.parametrize("entry", ["1", None, True, 1.5], ids=["string", "missing", "bool", "float"])
async def test_rollback_needs_a_history_entry_number(client: TestClient[Any, Any], entry: Any) -> None:
    answer = await client.post("/api/applications/argocd/guestbook/rollback", data=json.dumps({"id": entry}), headers={
        "Host": f"127.0.0.1:{client.server.port}", "Origin": _origin(client), "X-CSRF-Token": TOKEN})
    assert answer.status == 400
    assert (await answer.json())["error"] == f"id must be the history entry's number, not {entry!r}"


def test_cached_list_items_get_their_api_version_and_kind() -> None:
    """A list's items come without apiVersion and kind; the tree's health rules need both (a Pod read from a
    list showed Unknown, "unsupported Pod GVK", before)."""
    hub = Hub(client=None, namespace=None)  # type: ignore[arg-type]
    ready = [p | {"spec": {**p["spec"], "restartPolicy": "Always"},
                  "status": {**p["status"], "conditions": [{"type": "Ready", "status": "True"}]}} for p in PODS]
    for plural, objs in (("rollouts", [rollout()]), ("replicasets", REPLICASETS), ("pods", ready)):
        for obj in objs:
            hub.informers[plural].upsert({k: v for k, v in obj.items() if k not in ("kind", "apiVersion")})
    [ro] = hub.items("rollouts")
    assert (ro["apiVersion"], ro["kind"]) == ("argoproj.io/v1alpha1", "Rollout")
    assert hub.get("pods", "shop", "web-aaa-1") == next(p for p in hub.items("pods") if p["metadata"]["name"] == "web-aaa-1")
    app = {"metadata": {"name": "a", "namespace": "argocd"}, "status": {"resources": [
        {"kind": "Rollout", "group": "argoproj.io", "version": "v1alpha1", "namespace": "shop", "name": "web"}]}}
    tree = pages.application_detail(app, {("Rollout", "shop", "web"): ro}, hub.items("replicasets") + hub.items("pods"),
                                    [])["tree"]

    def pods(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [n for node in nodes for n in ([node] if node["kind"] == "Pod" else []) + pods(node["children"])]

    assert sorted((p["name"], p["health"]) for p in pods(tree)) == [("web-aaa-1", "Healthy"), ("web-bbb-1", "Healthy")]
