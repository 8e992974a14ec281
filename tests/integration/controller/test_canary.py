"""Canary without traffic routing, end to end on the real control plane with the real controller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import POD, ROLLOUT, SERVICE
from tests.support.rollouts import (
    HASH,
    canary_rollout,
    condition,
    create_services,
    event_reasons,
    get_rollout,
    patch_status,
    replica_sets,
    set_image,
    wait_phase,
    wait_pods,
)
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 40}, {"pause": {"duration": "1s"}},
         {"setWeight": 60}, {"pause": {}}, {"setWeight": 80}, {"pause": {"duration": 1}}]


async def start(kube: KubeClient, ns: str, name: str = "shop", **kw: object) -> dict[str, object]:
    await create_services(kube, ns, name, f"{name}-stable", f"{name}-canary")
    manifest = canary_rollout(name, steps=STEPS, stableService=f"{name}-stable", canaryService=f"{name}-canary",
                              **kw)
    await kube.create(ROLLOUT, manifest, ns)
    return await wait_phase(kube, ns, name, "Healthy")


async def test_initial_deploy_goes_straight_to_healthy(kube: KubeClient, namespace: str,
                                                        controller: Controller) -> None:
    ro = await start(kube, namespace)
    st = ro["status"]
    rss = await replica_sets(kube, namespace, "shop")
    assert list(rss) == [st["currentPodHash"]]
    assert st["stableRS"] == st["currentPodHash"]
    assert st["availableReplicas"] == 5 and st["readyReplicas"] == 5 and st["updatedReplicas"] == 5
    assert st["currentStepIndex"] == len(STEPS)
    assert st["observedGeneration"] == str(ro["metadata"]["generation"])
    rs = rss[st["currentPodHash"]]
    assert rs["metadata"]["name"] == f"shop-{st['currentPodHash']}"
    assert rs["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "1"
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Rollout"
    for svc in ("shop-stable", "shop-canary"):
        got = await kube.get(SERVICE, svc, namespace)
        assert got["spec"]["selector"][HASH] == st["stableRS"]
        assert got["metadata"]["annotations"]["argo-rollouts.argoproj.io/managed-by-rollouts"] == "shop"
    assert condition(ro, "Healthy")["status"] == "True"
    assert condition(ro, "Available")["status"] == "True"


async def test_update_walks_steps_with_expected_pod_counts_and_promotes(kube: KubeClient, namespace: str,
                                                                         controller: Controller) -> None:
    first = await start(kube, namespace)
    stable = first["status"]["stableRS"]
    await set_image(kube, namespace, "shop", "example/app:green")

    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]
    assert canary != stable and ro["status"]["stableRS"] == stable
    assert [c["reason"] for c in ro["status"]["pauseConditions"]] == ["CanaryPauseStep"]
    await wait_pods(kube, namespace, "shop", {stable: 4, canary: 1})
    assert (await kube.get(SERVICE, "shop-canary", namespace))["spec"]["selector"][HASH] == canary
    assert (await kube.get(SERVICE, "shop-stable", namespace))["spec"]["selector"][HASH] == stable

    # promote: clear the pause condition, as `kubectl argo rollouts promote` does
    await patch_status(kube, namespace, "shop", {"pauseConditions": None})
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=5, timeout=90)
    await wait_pods(kube, namespace, "shop", {stable: 2, canary: 3})

    await patch_status(kube, namespace, "shop", {"pauseConditions": None})
    ro = await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    assert ro["status"]["stableRS"] == canary
    assert ro["status"]["currentStepIndex"] == len(STEPS)
    await wait_pods(kube, namespace, "shop", {canary: 5})
    assert (await kube.get(SERVICE, "shop-stable", namespace))["spec"]["selector"][HASH] == canary
    rss = await replica_sets(kube, namespace, "shop")
    assert rss[stable]["spec"]["replicas"] == 0
    assert rss[canary]["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"


async def test_promote_full_skips_remaining_steps(kube: KubeClient, namespace: str, controller: Controller) -> None:
    await start(kube, namespace)
    await set_image(kube, namespace, "shop", "example/app:green")
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]
    await patch_status(kube, namespace, "shop", {"promoteFull": True})
    ro = await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    assert ro["status"]["stableRS"] == canary
    await wait_pods(kube, namespace, "shop", {canary: 5})


async def test_abort_returns_to_stable_and_retry_restarts_the_steps(kube: KubeClient, namespace: str,
                                                                    controller: Controller) -> None:
    first = await start(kube, namespace)
    stable = first["status"]["stableRS"]
    await set_image(kube, namespace, "shop", "example/app:green")
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]

    await patch_status(kube, namespace, "shop", {"abort": True})
    ro = await wait_phase(kube, namespace, "shop", "Degraded")
    assert "RolloutAborted" in ro["status"]["message"]
    assert ro["status"]["abortedAt"]
    assert (await kube.get(SERVICE, "shop-canary", namespace))["spec"]["selector"][HASH] == stable
    await wait_pods(kube, namespace, "shop", {stable: 5})
    assert ro["status"]["stableRS"] == stable

    await patch_status(kube, namespace, "shop", {"abort": False})
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    await wait_pods(kube, namespace, "shop", {stable: 4, canary: 1})
    reasons = await event_reasons(kube, namespace, "shop")
    for expected in ("RolloutUpdated", "NewReplicaSetCreated", "ScalingReplicaSet", "RolloutStepCompleted",
                     "RolloutPaused", "RolloutAborted"):
        assert expected in reasons, f"event {expected} missing from {reasons}"
    assert reasons.index("RolloutPaused") < reasons.index("RolloutAborted")
    # as Argo (TestRolloutAbortRetryPromote): announced once, no RolloutRetry event on a retry
    assert reasons.count("RolloutAddedToInformer") == 1, reasons
    assert "RolloutRetry" not in reasons


async def test_spec_paused_holds_the_rollout_until_resumed(kube: KubeClient, namespace: str,
                                                           controller: Controller) -> None:
    await start(kube, namespace)
    await kube.patch(ROLLOUT, "shop", {"spec": {"paused": True}}, namespace)
    await set_image(kube, namespace, "shop", "example/app:green")
    ro = await wait_phase(kube, namespace, "shop", "Paused")
    assert ro["status"]["currentStepIndex"] == 0
    assert any(c["reason"] == "PausedBySpec" for c in ro["status"].get("pauseConditions") or []) or \
        condition(ro, "Paused") is not None
    await kube.patch(ROLLOUT, "shop", {"spec": {"paused": False}}, namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=1)


async def test_undo_to_the_previous_template_goes_through_the_steps(kube: KubeClient, namespace: str,
                                                                     controller: Controller) -> None:
    first = await start(kube, namespace)
    blue = first["status"]["stableRS"]
    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=1)
    await patch_status(kube, namespace, "shop", {"promoteFull": True})
    green_ro = await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    green = green_ro["status"]["stableRS"]
    # undo: put revision 1's template back; the old ReplicaSet is reused, not duplicated
    await set_image(kube, namespace, "shop", "example/app:blue")
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
    assert ro["status"]["currentPodHash"] == blue
    await wait_pods(kube, namespace, "shop", {green: 4, blue: 1})
    rss = await replica_sets(kube, namespace, "shop")
    assert set(rss) == {blue, green}
    assert rss[blue]["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "3"


async def test_restart_replaces_stable_pods(kube: KubeClient, namespace: str, controller: Controller) -> None:
    ro = await start(kube, namespace, replicas=3)
    stable = ro["status"]["stableRS"]
    before, _ = await kube.list(POD, namespace, label_selector="app=shop")
    names_before = {p["metadata"]["name"] for p in before}
    # restartAt has one-second resolution: ask for "everything created up to now", i.e. after the newest pod's
    # creation second (a restartAt in the future is honoured when it arrives)
    newest = max(datetime.fromisoformat(p["metadata"]["creationTimestamp"].replace("Z", "+00:00")) for p in before)
    restart_at = (max(newest, datetime.now(UTC).replace(microsecond=0)) + timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    await kube.patch(ROLLOUT, "shop", {"spec": {"restartAt": restart_at}}, namespace)

    async def pods_now() -> set[str]:
        items, _ = await kube.list(POD, namespace, label_selector="app=shop")
        return {p["metadata"]["name"] for p in items if not p["metadata"].get("deletionTimestamp")
                and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))}

    await eventually(pods_now, lambda names: len(names) == 3 and not names & names_before, timeout=90,
                     expected="3 ready pods, none of them from before the restart")
    ro = await eventually(lambda: get_rollout(kube, namespace, "shop"),
                          lambda r: bool(r["status"].get("restartedAt")), expected="status.restartedAt set")
    assert ro["status"]["stableRS"] == stable


async def test_invalid_rollout_is_reported_and_does_not_stop_a_healthy_neighbour(
    kube: KubeClient, namespace: str, controller: Controller
) -> None:
    bad = canary_rollout("bad", steps=[{"setWeight": 150}], stableService="missing-svc", canaryService="bad-canary")
    await kube.create(ROLLOUT, bad, namespace)
    await start(kube, namespace, name="good")
    ro = await wait_phase(kube, namespace, "bad", "Degraded")
    cond = condition(ro, "InvalidSpec")
    assert cond is not None and cond["status"] == "True"
    assert "setWeight" in cond["message"] or "missing-svc" in cond["message"]
    assert await replica_sets(kube, namespace, "bad") == {}
    # the neighbour still progresses
    await set_image(kube, namespace, "good", "example/app:green")
    await wait_phase(kube, namespace, "good", "Paused", step=1)
    # fixing the spec clears InvalidSpec
    await kube.patch(ROLLOUT, "bad", {"spec": {"strategy": {"canary": {"steps": [{"setWeight": 50}],
                                                                        "stableService": "bad-stable"}}}},
                     namespace)
    await create_services(kube, namespace, "bad", "bad-stable", "bad-canary")
    ro = await wait_phase(kube, namespace, "bad", "Healthy")
    assert condition(ro, "InvalidSpec") is None


async def test_canary_pods_are_relabelled_with_stable_metadata_at_promotion(kube: KubeClient, namespace: str,
                                                                           controller: Controller) -> None:
    await create_services(kube, namespace, "meta", "meta-stable", "meta-canary")
    manifest = canary_rollout("meta", replicas=2, steps=[{"setWeight": 50}, {"pause": {}}],
                              stableService="meta-stable", canaryService="meta-canary",
                              canaryMetadata={"labels": {"role": "canary"}},
                              stableMetadata={"labels": {"role": "stable"}})
    await kube.create(ROLLOUT, manifest, namespace)
    await wait_phase(kube, namespace, "meta", "Healthy")
    await set_image(kube, namespace, "meta", "example/app:green")
    ro = await wait_phase(kube, namespace, "meta", "Paused", step=1)
    canary = ro["status"]["currentPodHash"]

    async def roles() -> dict[str, str]:
        pods, _ = await kube.list(POD, namespace, label_selector=f"{HASH}={canary}")
        return {p["metadata"]["name"]: p["metadata"]["labels"].get("role", "") for p in pods
                if not p["metadata"].get("deletionTimestamp")}

    before = await eventually(roles, lambda r: bool(r) and set(r.values()) == {"canary"},
                              expected="canary pods labelled role=canary")
    await patch_status(kube, namespace, "meta", {"pauseConditions": None})
    await wait_phase(kube, namespace, "meta", "Healthy", timeout=90)
    after = await eventually(roles, lambda r: bool(r) and set(r.values()) == {"stable"},
                             expected="the promoted pods relabelled role=stable")
    assert set(before) <= set(after), "the canary's pods were relabelled in place, not replaced"
