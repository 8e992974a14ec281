"""`kubectl rollouts dashboard` against the real control plane: the Rollout page's data, the live event stream,
the buttons sending the plugin's patches, and a forbidden action as a clear message."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from tests.support.dashboard import dashboard
from tests.support.plugin import MANUAL_STEPS, Kubectl, create, service_account_token, write_token_kubeconfig
from tests.support.rollouts import get_rollout, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


async def _next_change(stream: aiohttp.StreamReader, timeout: float) -> int:
    """The version of the next `event: change` on the event stream."""
    async def read() -> int:
        while True:
            line = (await stream.readline()).decode()
            if line.startswith("data: "):
                return int(line[6:])
    return await asyncio.wait_for(read(), timeout)


async def test_rollout_page_data_live_stream_and_promote(kube: KubeClient, namespace: str, kubeconfig: Path,
                                                         controller: Controller) -> None:
    await create(kube, namespace, "web", MANUAL_STEPS)
    await set_image(kube, namespace, "web", "example/app:green")
    await wait_phase(kube, namespace, "web", "Paused", timeout=60)
    async with dashboard(kubeconfig, "-n", namespace) as ui:
        detail = await eventually(lambda: ui.get(f"api/rollouts/{namespace}/web"),
                                  lambda got: got[0] == 200 and got[1]["status"] == "Paused", timeout=30,
                                  expected="the paused canary on the Rollout page")
        ro = detail[1]
        assert (ro["step"], ro["setWeight"], ro["strategy"]) == ("1/4", "20", "Canary")
        assert [s["state"] for s in ro["steps"]] == ["done", "current", "pending", "pending"]
        assert [r["revision"] for r in ro["revisions"]] == [2, 1] and ro["problems"] == []
        assert {i["image"]: i["tags"] for i in ro["images"]} == {"example/app:blue": ["stable"],
                                                                  "example/app:green": ["canary"]}

        async with ui.session.get(ui.url + "api/stream") as stream:
            assert stream.headers["Content-Type"] == "text/event-stream"
            first = await _next_change(stream.content, 5)
            status, answer = await ui.post(f"api/rollouts/{namespace}/web/promote")
            assert (status, answer) == (200, {"message": "rollout 'web' promoted"})
            assert await _next_change(stream.content, 10) > first, "the page is told the Rollout changed"
        promoted = await eventually(lambda: get_rollout(kube, namespace, "web"),
                                    lambda r: r["status"].get("currentStepIndex", 0) >= 3, timeout=60,
                                    expected="the canary past the first pause after Promote")
        assert promoted["status"]["currentStepIndex"] == 3

        status, answer = await ui.post(f"api/rollouts/{namespace}/web/abort")
        assert (status, answer) == (200, {"message": "rollout 'web' aborted"})
        await wait_phase(kube, namespace, "web", "Degraded", timeout=60)
        bad = await ui.post(f"api/rollouts/{namespace}/web/set-image", {"assignment": "no-equals-sign"})
        assert bad[0] == 400 and "CONTAINER=IMAGE" in bad[1]["error"].upper(), bad


async def test_forbidden_reads_and_actions_are_sentences(kube: KubeClient, namespace: str, kubeconfig: Path,
                                                        kubectl_bin: str, crds: None, tmp_path: Path) -> None:
    await create_rollout_only(kube, namespace)
    token = await service_account_token(kube, Kubectl(kubectl_bin, kubeconfig), namespace)
    reader = write_token_kubeconfig(kubeconfig, token, tmp_path / "reader.kubeconfig")
    async with dashboard(reader, "-n", namespace) as ui:
        listed = await eventually(lambda: ui.get("api/rollouts"), lambda got: bool(got[1]["items"]) and bool(
            got[1]["problems"]), timeout=30, expected="the Rollout listed and the forbidden kinds named")
        assert listed[1]["items"][0]["name"] == "web"
        assert any(p.startswith("permission denied (RBAC 403) to list replicasets in namespace "
                                f"'{namespace}'") for p in listed[1]["problems"]), listed[1]["problems"]
        status, answer = await ui.post(f"api/rollouts/{namespace}/web/pause")
        assert status == 403, answer
        assert answer["error"].startswith(f"permission denied (RBAC 403) to pause rollout 'web' in namespace "
                                          f"'{namespace}'"), answer


async def create_rollout_only(kube: KubeClient, namespace: str) -> None:
    from rollouts.kube.resources import ROLLOUT
    from tests.support.rollouts import canary_rollout

    await kube.create(ROLLOUT, canary_rollout("web", replicas=1, steps=[{"pause": {}}]), namespace)


async def test_application_sync_and_refresh_buttons(kube: KubeClient, namespace: str, kubeconfig: Path, crds: None,
                                                    tmp_path: Path) -> None:
    from rollouts.gitops.reconciler import GitopsConfig
    from rollouts.kube.resources import APPLICATION, CONFIGMAP
    from tests.integration.gitops.conftest import application, cm, reconciler_running
    from tests.unit.gitops.gitrepo import GitRepo

    repo = GitRepo(tmp_path / "git")
    repo.write("app/cm.yaml", cm("settings"))
    sha = repo.commit("settings")
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=2.0, cache_dir=tmp_path / "cache")
    async with reconciler_running(kube, config), dashboard(kubeconfig, "-n", namespace) as ui:
        await kube.create(APPLICATION, application("manual", repo, namespace), namespace)
        listed = await eventually(lambda: ui.get("api/applications"), lambda got: bool(got[1]["items"]) and (
            got[1]["items"][0]["sync"] == "OutOfSync"), timeout=60, expected="the manual Application OutOfSync")
        assert listed[1]["items"][0]["targetRevision"] == "HEAD"
        assert await ui.post(f"api/applications/{namespace}/manual/explode") == (
            404, {"error": "unknown action 'explode'; one of sync, refresh, hard-refresh, rollback"})
        assert await ui.post(f"api/applications/{namespace}/manual/sync") == (
            200, {"message": "sync of application 'manual' requested"})
        synced = await eventually(lambda: ui.get(f"api/applications/{namespace}/manual"),
                                  lambda got: got[1].get("sync") == "Synced", timeout=60,
                                  expected="Synced after the Sync button")
        assert synced[1]["syncedRevision"] == sha and synced[1]["history"][0]["revision"] == sha
        assert (await kube.get(CONFIGMAP, "settings", namespace))["data"] == {"key": "v"}
        assert [n["kind"] for n in synced[1]["tree"]] == ["ConfigMap"]
        assert await ui.post(f"api/applications/{namespace}/manual/hard-refresh") == (
            200, {"message": "hard-refresh of application 'manual' requested"})


async def test_network_view_shows_the_weights_in_effect(kube: KubeClient, namespace: str, kubeconfig: Path,
                                                        controller: Controller, crds: None, tmp_path: Path) -> None:
    """From a Git commit to the canary weight on the network view's edges: an Application holding an NGINX
    traffic-routed Rollout, its Services and stable Ingress; a new image in Git pauses the canary at 20 %."""
    from rollouts.gitops.reconciler import GitopsConfig
    from rollouts.kube.resources import APPLICATION
    from tests.integration.gitops.conftest import application, reconciler_running
    from tests.integration.traffic.test_canary_traffic import stable_ingress
    from tests.support.rollouts import canary_rollout, service
    from tests.unit.gitops.gitrepo import GitRepo

    def manifests(image: str) -> list[dict[str, object]]:
        rollout = canary_rollout("shop", image=image, replicas=4, steps=[{"setWeight": 20}, {"pause": {}}],
                                 stableService="shop-stable", canaryService="shop-canary",
                                 trafficRouting={"nginx": {"stableIngress": "web"}})
        return [service("shop-stable", "shop"), service("shop-canary", "shop"), stable_ingress(), rollout]

    repo = GitRepo(tmp_path / "git")
    repo.write("app/all.yaml", manifests("example/app:blue"))
    repo.commit("blue")
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=2.0, cache_dir=tmp_path / "cache")
    async with reconciler_running(kube, config), dashboard(kubeconfig, "-n", namespace) as ui:
        await kube.create(APPLICATION, application("shop", repo, namespace, automated={}), namespace)
        await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
        repo.write("app/all.yaml", manifests("example/app:green"))
        repo.commit("green")
        await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)

        def traffic(got: tuple[int, dict[str, object]]) -> dict[str, str]:
            net = got[1].get("network") or {}
            names = {n["id"]: n["name"] for n in net.get("nodes", [])}  # type: ignore[attr-defined]
            return {f"{names[e['source']]}->{names[e['target']]}": e["label"]
                    for e in net.get("edges", []) if e["label"]}  # type: ignore[attr-defined]

        got = await eventually(lambda: ui.get(f"api/applications/{namespace}/shop"),
                               lambda got: traffic(got).get("shop-web-canary->shop-canary") == "20% canary",
                               timeout=60, expected="the canary Ingress's 20 % on the network view")
        edges = traffic(got)
        assert edges["web->shop-stable"] == "80% stable", edges
        # ceil(4 x 20 %) = 1 canary pod, all that the canary Service selects
        assert [label for edge, label in edges.items() if edge.startswith("shop-canary->")] == ["100% · 1 ready"], edges
        assert got[1]["network"]["weights"][0]["source"] == "routers"


async def test_outofsync_diff_hides_secrets_and_rollback_to_a_history_entry(
        kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path) -> None:
    """The diff is `app diff`'s (live vs Git through a server-side dry run) with a Secret's contents withheld;
    Rollback sends what `app rollback NAME ID` sends and the cluster goes back to that entry's revision."""
    from rollouts.gitops.reconciler import GitopsConfig
    from rollouts.kube.resources import APPLICATION, CONFIGMAP
    from tests.integration.gitops.conftest import application, cm, reconciler_running
    from tests.unit.gitops.gitrepo import GitRepo

    def secret(password: str) -> dict[str, object]:
        return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"password": password}}

    repo = GitRepo(tmp_path / "git")
    repo.write("app/all.yaml", [cm("settings", "first"), secret("hunter2-first")])
    first = repo.commit("first")
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=2.0, cache_dir=tmp_path / "cache")
    async with reconciler_running(kube, config), dashboard(kubeconfig, "-n", namespace) as ui:
        await kube.create(APPLICATION, application("manual", repo, namespace), namespace)
        await eventually(lambda: ui.get(f"api/applications/{namespace}/manual"),
                         lambda got: got[1].get("sync") == "OutOfSync", timeout=60, expected="OutOfSync before a sync")
        assert (await ui.post(f"api/applications/{namespace}/manual/sync"))[0] == 200
        await eventually(lambda: ui.get(f"api/applications/{namespace}/manual"),
                         lambda got: got[1].get("syncedRevision") == first and got[1].get("sync") == "Synced",
                         timeout=60, expected="Synced at the first commit")

        repo.write("app/all.yaml", [cm("settings", "second"), secret("hunter2-second")])
        second = repo.commit("second")
        await eventually(lambda: ui.get(f"api/applications/{namespace}/manual"),
                         lambda got: got[1].get("sync") == "OutOfSync", timeout=60,
                         expected="OutOfSync after the second commit")
        status, diff = await ui.get(f"api/applications/{namespace}/manual/diff")
        assert status == 200, diff
        by_kind = {c["kind"]: c for c in diff["resources"]}
        assert sorted(by_kind) == ["ConfigMap", "Secret"], diff
        assert "-  key: first" in by_kind["ConfigMap"]["text"] and "+  key: second" in by_kind["ConfigMap"]["text"]
        assert by_kind["ConfigMap"]["change"] == "modify"
        assert "hunter2" not in json.dumps(diff) and "aHVudGVy" not in json.dumps(diff), "Secret data in the diff"

        assert (await ui.post(f"api/applications/{namespace}/manual/sync"))[0] == 200
        synced = await eventually(lambda: ui.get(f"api/applications/{namespace}/manual"),
                                  lambda got: got[1].get("syncedRevision") == second and len(got[1]["history"]) == 2,
                                  timeout=60, expected="Synced at the second commit, two history entries")
        first_entry = synced[1]["history"][-1]
        assert first_entry["revision"] == first
        assert await ui.post(f"api/applications/{namespace}/manual/rollback", {"id": "one"}) == (
            400, {"error": "id must be the history entry's number, not 'one'"})
        assert await ui.post(f"api/applications/{namespace}/manual/rollback", {"id": first_entry["id"]}) == (
            200, {"message": f"rollback of application 'manual' to {first[:7]} requested"})
        await eventually(lambda: kube.get(CONFIGMAP, "settings", namespace),
                         lambda got: got["data"] == {"key": "first"}, timeout=60,
                         expected="the ConfigMap back at the first commit's value")
