"""Blue-green updates driven through plan_rollout: preview, pause, promotion, delayed scale-down, abort."""

from __future__ import annotations

from typing import Any

from tests.unit.planning.world import World, blue_green_rollout

HASH = "rollouts-pod-template-hash"


def deployed(**blue_green: Any) -> World:
    world = World(
        blue_green_rollout(replicas=3, previewService="web-preview", **blue_green),
        services={"web-active": {"app": "web"}, "web-preview": {"app": "web"}},
    )
    world.run()
    return world


def promote(world: World) -> None:
    world.patch_status(pauseConditions=None)


def test_initial_deploy_switches_active_without_pausing() -> None:
    world = deployed(autoPromotionEnabled=False)
    v1 = world.hash_of("web:1")
    assert world.counts() == {"web:1": 3}
    assert world.selector("web-active")[HASH] == v1
    assert world.selector("web-preview")[HASH] == v1
    assert world.status["blueGreen"] == {"activeSelector": v1, "previewSelector": v1}
    assert world.status["stableRS"] == v1
    assert world.status["phase"] == "Healthy"


def test_new_revision_waits_behind_preview_until_promoted() -> None:
    world = deployed(autoPromotionEnabled=False)
    v1 = world.hash_of("web:1")
    world.set_template("web:2")
    world.run()
    v2 = world.hash_of("web:2")
    assert world.counts() == {"web:1": 3, "web:2": 3}
    assert world.selector("web-preview")[HASH] == v2
    assert world.selector("web-active")[HASH] == v1
    assert world.status["phase"] == "Paused"
    assert world.status["message"] == "BlueGreenPause"
    assert world.status["blueGreen"] == {"activeSelector": v1, "previewSelector": v2}
    promote(world)
    plan = world.run()
    assert world.selector("web-active")[HASH] == v2
    assert world.status["stableRS"] == v2
    assert "SwitchService" in world.reasons()
    # the old side stays for scaleDownDelaySeconds (30 s default)
    assert world.counts() == {"web:1": 3, "web:2": 3}
    assert plan.requeue_after == 30
    world.advance(30)
    world.run()
    assert world.counts() == {"web:2": 3}
    assert world.status["phase"] == "Healthy"


def test_auto_promotion_switches_as_soon_as_the_preview_is_ready() -> None:
    world = deployed()
    world.set_template("web:2")
    world.run()
    assert world.selector("web-active")[HASH] == world.hash_of("web:2")
    assert "RolloutPaused" not in world.reasons()


def test_auto_promotion_seconds_pauses_then_promotes_by_itself() -> None:
    world = deployed(autoPromotionSeconds=60)
    world.set_template("web:2")
    plan = world.run()
    assert world.status["phase"] == "Paused"
    assert plan.requeue_after == 60
    world.advance(59)
    world.run()
    assert world.status["phase"] == "Paused"
    world.advance(1)
    world.run()
    assert world.selector("web-active")[HASH] == world.hash_of("web:2")
    assert world.status["stableRS"] == world.hash_of("web:2")


def test_preview_replica_count_scales_up_only_on_promotion() -> None:
    world = deployed(autoPromotionEnabled=False, previewReplicaCount=1)
    world.set_template("web:2")
    world.run()
    assert world.counts() == {"web:1": 3, "web:2": 1}
    assert world.selector("web-preview")[HASH] == world.hash_of("web:2")
    promote(world)
    for _ in range(10):
        world.step(settle=False)
        if world.selector("web-active")[HASH] == world.hash_of("web:2"):
            rs = next(r for r in world.replica_sets.values() if r["metadata"]["labels"][HASH] == world.hash_of("web:2"))
            assert rs["status"]["availableReplicas"] == 3, "active switched before the new side was full"
        world.settle()
    assert world.selector("web-active")[HASH] == world.hash_of("web:2")
    assert world.counts()["web:2"] == 3


def test_abort_keeps_active_on_stable_and_scales_the_preview_down_after_the_delay() -> None:
    """The preview Service stays on the aborted revision (Argo's reconcilePreviewService points it at the new
    ReplicaSet whatever the abort; AnalysisSuite/TestBlueGreenAbortAndUpdate: ExpectPreviewRevision("2"))."""
    world = deployed(autoPromotionEnabled=False)
    v1 = world.hash_of("web:1")
    world.set_template("web:2")
    world.run()
    world.patch_status(abort=True)
    plan = world.run()
    assert world.selector("web-active")[HASH] == v1
    assert world.selector("web-preview")[HASH] == world.hash_of("web:2")
    assert world.status["phase"] == "Degraded"
    assert world.status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    assert plan.requeue_after == 30
    world.advance(30)
    world.run()
    assert world.counts() == {"web:1": 3}


def test_manual_pause_holds_a_blue_green_update() -> None:
    world = deployed()
    world.rollout["spec"]["paused"] = True
    world.set_template("web:2")
    world.run()
    assert world.counts() == {"web:1": 3}
    assert world.status["phase"] == "Paused"
    world.rollout["spec"]["paused"] = False
    world.run()
    assert world.selector("web-active")[HASH] == world.hash_of("web:2")


def test_missing_preview_service_is_invalid_spec() -> None:
    world = World(
        blue_green_rollout(replicas=3, previewService="web-preview"),
        services={"web-active": {"app": "web"}, "web-preview": None},
    )
    plan = world.plan()
    assert plan.mutations == ()
    assert plan.status["phase"] == "Degraded"
    assert "spec.strategy.blueGreen.previewService" in plan.status["message"]
    assert "'web-preview' not found" in plan.status["message"]


def test_a_preview_overtaken_by_a_newer_revision_is_scaled_down_after_the_delay() -> None:
    """Argo's scaleDownOldReplicaSetsForBlueGreen treats it as any old revision: once no selector references
    it, it gets a scale-down deadline (scaleDownDelaySeconds, 30 by default) and goes to 0 when it passes."""
    world = deployed(autoPromotionEnabled=False)
    world.set_template("web:2")
    world.run()
    world.set_template("web:3")
    world.run()
    assert world.counts() == {"web:1": 3, "web:2": 3, "web:3": 3}
    world.advance(31)
    world.run()
    assert world.counts() == {"web:1": 3, "web:3": 3}
    assert world.selector("web-preview")[HASH] == world.hash_of("web:3")
    assert world.status["phase"] == "Paused"


def test_a_hand_edited_active_selector_is_put_back() -> None:
    world = deployed(autoPromotionEnabled=False)
    v1 = world.hash_of("web:1")
    world.set_template("web:2")
    world.run()
    world.selector("web-active")[HASH] = world.hash_of("web:2")  # someone edits the Service by hand
    world.run()
    assert world.selector("web-active")[HASH] == v1
    switches = [e.message for e in world.events if e.reason == "SwitchService"]
    assert switches[-1] == f"Switched selector for service 'web-active' from '{world.hash_of('web:2')}' to '{v1}'"


def test_progress_deadline_abort_returns_a_stuck_preview_to_stable() -> None:
    world = deployed(autoPromotionEnabled=False)
    world.rollout["spec"]["progressDeadlineSeconds"] = 120
    world.rollout["spec"]["progressDeadlineAbort"] = True
    world.set_template("web:2")
    for _ in range(4):
        world.step(settle=False)  # the new pods never become available
    world.advance(121)
    for _ in range(3):
        world.step(settle=False)
    assert world.status["phase"] == "Degraded"
    assert world.status["message"].startswith("RolloutAborted: Rollout aborted update to revision 2")
    assert world.selector("web-active")[HASH] == world.hash_of("web:1")
    assert "ProgressDeadlineExceeded" in world.reasons()


def test_going_back_to_a_revision_still_up_is_fast_tracked() -> None:
    world = deployed(autoPromotionEnabled=False)
    world.set_template("web:2")
    world.run()
    promote(world)
    world.run()
    assert world.counts() == {"web:1": 3, "web:2": 3}  # web:1 waits for its scale-down deadline
    world.set_template("web:1")
    world.run()
    assert world.selector("web-active")[HASH] == world.hash_of("web:1")
    assert world.status["phase"] == "Healthy"
    assert world.status["stableRS"] == world.hash_of("web:1")


def test_status_counts_and_selector_follow_the_active_replica_set() -> None:
    world = deployed(autoPromotionEnabled=False)
    world.set_template("web:2")
    world.run()
    status = world.status
    assert status["selector"] == f"app=web,rollouts-pod-template-hash={world.hash_of('web:1')}"
    assert (status["replicas"], status["availableReplicas"], status["HPAReplicas"]) == (6, 3, 3)


def test_preview_metadata_becomes_active_metadata_when_the_revision_goes_active() -> None:
    world = deployed(autoPromotionEnabled=False, previewMetadata={"labels": {"role": "preview"}},
                     activeMetadata={"labels": {"role": "active"}})
    v1 = world.hash_of("web:1")

    def role(pod_hash: str) -> str:
        rs = next(r for r in world.replica_sets.values() if r["metadata"]["labels"]["rollouts-pod-template-hash"] == pod_hash)
        return str(rs["spec"]["template"]["metadata"]["labels"].get("role"))

    assert role(v1) == "active", "the first revision goes active at once"
    world.set_template("web:2")
    world.run()
    v2 = world.hash_of("web:2")
    assert role(v2) == "preview"
    promote(world)
    world.run()
    assert world.status["stableRS"] == v2
    assert role(v2) == "active"
