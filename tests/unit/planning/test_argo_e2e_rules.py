"""Planner rules that Argo Rollouts' own e2e suite (v1.10.2, test/e2e) depends on, one test each, with the
Argo source they come from. The suite itself runs with `make conformance`; these keep the rules in `make test`.
"""

from __future__ import annotations

from typing import Any

from rollouts.planning import CreateReplicaSet, EvictPod, ObservedPod, ScaleReplicaSet
from tests.unit.planning.world import World, blue_green_rollout, canary_rollout


def conditions(world: World) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in world.status.get("conditions") or []}


def test_pausing_a_completed_rollout_leaves_progressing_alone() -> None:
    """TestCanaryWithSpecPause; rollout/sync.go checkPausedConditions skips a completed Rollout."""
    world = World(canary_rollout(replicas=3, steps=[{"setWeight": 20}]))
    world.run()
    before = conditions(world)["Progressing"]
    world.rollout["spec"]["paused"] = True
    world.run()
    after = conditions(world)["Progressing"]
    assert (after["status"], after["reason"]) == (before["status"], before["reason"]) == ("True",
                                                                                        "NewReplicaSetAvailable")
    assert world.status["phase"] == "Paused"


def test_pausing_an_update_in_progress_says_so_in_progressing() -> None:
    world = World(canary_rollout(replicas=3, steps=[{"setWeight": 20}, {"pause": {}}]))
    world.run()
    world.set_template("web:2")
    world.run()
    assert (conditions(world)["Progressing"]["status"], conditions(world)["Progressing"]["reason"]) == (
        "Unknown", "RolloutPaused")


def test_a_full_promotion_lifts_an_abort() -> None:
    """TestCanaryPromoteFull: abort at a pause, then `promote --full` completes the update (canary.go:378
    RemoveAbort when status.promoteFull)."""
    world = World(canary_rollout(replicas=2, steps=[{"setWeight": 50}, {"pause": {}}]))
    world.run()
    world.set_template("web:2")
    world.run()
    world.patch_status(abort=True)
    world.run()
    assert world.status["phase"] == "Degraded"
    world.patch_status(promoteFull=True)
    world.run()
    assert world.status["phase"] == "Healthy" and not world.status.get("abort")
    assert world.counts() == {"web:2": 2}


def test_a_full_promotion_lifts_a_blue_green_abort() -> None:
    world = World(blue_green_rollout(replicas=2, autoPromotionEnabled=False), services={"web-active": {"app": "web"}})
    world.run()
    world.set_template("web:2")
    world.run()
    world.patch_status(abort=True)
    world.run()
    world.patch_status(promoteFull=True)
    world.run()
    assert not world.status.get("abort")
    assert world.selector("web-active")["rollouts-pod-template-hash"] == world.hash_of("web:2")


def test_unhealthy_pods_of_an_old_revision_go_first() -> None:
    """TestRolloutGoodToBadUpdate: good -> bad -> bad again with maxSurge 1, maxUnavailable 0 ends with
    revision 1: 4, revision 2: 0, revision 3: 1 (rollout/replicaset.go cleanupUnhealthyReplicas)."""
    world = World(canary_rollout(replicas=4, maxSurge=1, maxUnavailable=0))
    world.run()
    world.unready_images = {"web:2", "web:3"}
    world.set_template("web:2")
    world.run()
    assert world.counts() == {"web:1": 4, "web:2": 1}
    world.set_template("web:3")
    plan = world.run()
    assert world.counts() == {"web:1": 4, "web:3": 1}
    assert not [a for a in plan.actions if isinstance(a, ScaleReplicaSet)]


def test_a_restart_replaces_as_many_pods_at_once_as_max_unavailable_allows() -> None:
    """TestRolloutRestart: 4 replicas, maxUnavailable 75% -> 3 pods evicted at once (rollout/restart.go)."""
    world = World(canary_rollout(replicas=4, maxUnavailable="75%", steps=[{"setWeight": 25}, {"pause": {}}]))
    world.run()
    world.advance(10)
    world.rollout["spec"]["restartAt"] = "2026-01-01T12:00:05Z"
    plan = world.plan()
    evicted = [a for a in plan.actions if isinstance(a, EvictPod)]
    assert len(evicted) == 3
    assert plan.requeue_after is not None and plan.requeue_after <= 30


def test_a_restart_honours_max_unavailable_zero_one_at_a_time() -> None:
    world = World(canary_rollout(replicas=3, maxUnavailable=0, maxSurge=1))
    world.run()
    world.advance(10)
    world.rollout["spec"]["restartAt"] = "2026-01-01T12:00:05Z"
    assert len([a for a in world.plan().actions if isinstance(a, EvictPod)]) == 1


def test_pod_availability_counts_min_ready_seconds() -> None:
    pod = ObservedPod.from_object({"metadata": {"name": "p", "creationTimestamp": "2026-01-01T12:00:00Z"},
                                   "status": {"conditions": [{"type": "Ready", "status": "True",
                                                              "lastTransitionTime": "2026-01-01T12:00:03Z"}]}})
    assert pod.ready and pod.ready_since is not None and pod.ready_since.second == 3


def test_the_first_blue_green_revision_is_created_with_active_metadata() -> None:
    """BlueGreenSuite/TestEphemeralMetadata checks the pods as soon as status.replicas=2: the first ReplicaSet is
    created with activeMetadata (rollout/sync.go getNewReplicaSet: no stable RS -> ActiveMetadata), a later
    one with previewMetadata, which becomes activeMetadata once it is status.stableRS."""
    world = World(blue_green_rollout(replicas=2, autoPromotionEnabled=False,
                                     previewMetadata={"labels": {"role": "preview"}},
                                     activeMetadata={"labels": {"role": "active"}}),
                  services={"web-active": {"app": "web"}})
    plan = world.step(settle=False)
    created = [a.manifest for a in plan.actions if isinstance(a, CreateReplicaSet)]
    assert [m["spec"]["template"]["metadata"]["labels"].get("role") for m in created] == ["active"]
    world.run()
    world.set_template("web:2")
    plan = world.step(settle=False)
    created = [a.manifest for a in plan.actions if isinstance(a, CreateReplicaSet)]
    assert [m["spec"]["template"]["metadata"]["labels"].get("role") for m in created] == ["preview"]


def test_progress_deadline_abort_set_after_the_deadline_passed_aborts() -> None:
    """TestBlueGreenExceedProgressDeadlineAbort: Degraded by the deadline with progressDeadlineAbort false, then
    set to true: the update aborts and the new ReplicaSet goes to 0 (rollout/sync.go evaluateProgressDeadlineAbort
    with conditions.RolloutTimedOut, which is true for a condition already ProgressDeadlineExceeded)."""
    world = World(blue_green_rollout(replicas=1, abortScaleDownDelaySeconds=2), services={"web-active": {"app": "web"}})
    world.run()
    world.rollout["spec"]["progressDeadlineSeconds"] = 1
    world.unready_images = {"web:2"}
    world.set_template("web:2")
    world.run()
    world.advance(2)
    world.run()
    assert conditions(world)["Progressing"]["reason"] == "ProgressDeadlineExceeded"
    assert not world.status.get("abort") and world.counts() == {"web:1": 1, "web:2": 1}
    world.rollout["spec"]["progressDeadlineAbort"] = True
    world.run()
    assert world.status.get("abort") is True
    world.advance(3)
    world.run()
    assert world.counts().get("web:2", 0) == 0 and world.counts()["web:1"] == 1


def test_scale_down_delay_revision_limit_keeps_old_revisions_while_a_new_one_is_previewed() -> None:
    """TestBlueGreenScaleDownDelay: scaleDownDelaySeconds one day, scaleDownDelayRevisionLimit 2; after four
    revisions, 4, 3 and 2 are up and 1 is not; lowering the limit to 1 scales revision 2 down at once
    (rollout/replicaset.go scaleDownDelayHelper, called for every old ReplicaSet on each reconcile)."""
    world = World(blue_green_rollout(replicas=1, scaleDownDelaySeconds=86400, scaleDownDelayRevisionLimit=2),
                  services={"web-active": {"app": "web"}})
    world.run()
    for image in ("web:2", "web:3", "web:4"):
        world.set_template(image)
        world.run()
    assert world.counts() == {"web:2": 1, "web:3": 1, "web:4": 1}
    world.rollout["spec"]["strategy"]["blueGreen"]["scaleDownDelayRevisionLimit"] = 1
    world.run()
    assert world.counts() == {"web:3": 1, "web:4": 1}


def test_a_first_blue_green_deploy_tells_argos_story() -> None:
    """TestBlueGreenUpdate's exact event list (functional_test.go): the first revision is created, scaled and
    completed ("Initial deploy") before the active Service switches; the second one says RolloutNotCompleted."""
    world = World(blue_green_rollout(replicas=3), services={"web-active": {"app": "web"}})
    world.run()
    assert world.reasons() == ["RolloutUpdated", "NewReplicaSetCreated", "ScalingReplicaSet", "RolloutCompleted",
                               "SwitchService"]
    assert world.status["phase"] == "Healthy"
    world.set_template("web:2")
    world.run()
    assert world.reasons()[5:] == ["RolloutUpdated", "NewReplicaSetCreated", "RolloutNotCompleted",
                                   "ScalingReplicaSet", "SwitchService", "RolloutCompleted"]


ISTIO_HOST_SPLIT: dict[str, Any] = {"istio": {"virtualService": {"name": "vsvc", "routes": ["primary"]}}}


def test_aborting_a_fully_promoted_canary_lifts_the_abort() -> None:
    """TestIstioAbortUpdate (istio-host-split.yaml): abort on a Healthy Rollout, then update, promote and abort
    again after the promotion: both aborts are lifted and the Rollout stays Healthy, as Argo's newRolloutContext
    does ("Removing abort condition from fully promoted rollout", rollout/controller.go)."""
    world = World(canary_rollout(replicas=1, steps=[{"setWeight": 10}, {"pause": {}}], stableService="s",
                                 canaryService="c", trafficRouting=ISTIO_HOST_SPLIT),
                  services={"s": {"app": "web"}, "c": {"app": "web"}}, traffic_routed=True)
    world.run()
    world.patch_status(abort=True)
    world.run()
    assert (world.status["phase"], "abort" in world.status, "abortedAt" in world.status) == ("Healthy", False, False)
    assert "RolloutAborted" not in world.reasons()
    assert world.counts() == {"web:1": 1}
    world.set_template("web:2")
    world.run()
    assert world.status["phase"] == "Paused" and world.weight == 10
    world.patch_status(pauseConditions=None)
    world.run()
    assert world.status["phase"] == "Healthy" and world.weight == 0
    world.patch_status(abort=True)
    world.run()
    assert world.status["phase"] == "Healthy" and "abort" not in world.status
    assert world.status["stableRS"] == world.hash_of("web:2") and world.counts()["web:2"] == 1


def test_an_abort_during_an_update_stays() -> None:
    """The rule is for a fully promoted Rollout only: mid-update the abort goes back to the stable."""
    world = World(canary_rollout(replicas=2, steps=[{"setWeight": 50}, {"pause": {}}]))
    world.run()
    world.set_template("web:2")
    world.run()
    world.patch_status(abort=True)
    world.run()
    assert (world.status["phase"], world.status.get("abort")) == ("Degraded", True)
    assert world.counts().get("web:2", 0) == 0


def test_aborting_a_fully_promoted_blue_green_lifts_the_abort() -> None:
    world = World(blue_green_rollout(replicas=1), services={"web-active": {"app": "web"}})
    world.run()
    assert world.status["phase"] == "Healthy"
    world.patch_status(abort=True)
    world.run()
    assert world.status["phase"] == "Healthy" and "abort" not in world.status
