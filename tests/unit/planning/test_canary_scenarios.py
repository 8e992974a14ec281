"""Whole canary updates (no traffic routing) driven through plan_rollout in a simulated world."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.planning import CreateReplicaSet, ScaleReplicaSet
from tests.unit.planning.world import World, canary_rollout

STEPS_20_40_60_80: list[dict[str, Any]] = [
    {"setWeight": 20},
    {"pause": {}},
    {"setWeight": 40},
    {"pause": {}},
    {"setWeight": 60},
    {"pause": {}},
    {"setWeight": 80},
    {"pause": {}},
]


def deployed(**kwargs: object) -> World:
    world = World(canary_rollout(**kwargs))  # type: ignore[arg-type]
    world.run()
    return world


def promote(world: World) -> None:
    """What ``kubectl argo rollouts promote`` patches: the pause conditions go away."""
    world.patch_status(pauseConditions=None)


def test_initial_deploy_goes_straight_to_full_size_and_healthy() -> None:
    world = World(canary_rollout(replicas=5, steps=STEPS_20_40_60_80))
    world.run()
    assert world.counts() == {"web:1": 5}
    status = world.status
    assert status["phase"] == "Healthy"
    assert status["stableRS"] == status["currentPodHash"] == world.hash_of("web:1")
    assert status["currentStepIndex"] == len(STEPS_20_40_60_80)
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"]) == (5, 5, 5)
    # Argo's list (TestRolloutAbortRetryPromote): the first reconcile also says RolloutNotCompleted
    assert world.reasons() == ["RolloutUpdated", "NewReplicaSetCreated", "RolloutNotCompleted", "ScalingReplicaSet",
                               "RolloutCompleted"]
    assert world.condition("Completed")["status"] == "True"
    assert world.condition("Healthy")["status"] == "True"
    assert world.condition("Available")["status"] == "True"
    assert world.condition("Progressing")["reason"] == "NewReplicaSetAvailable"


def test_replica_set_is_named_labelled_owned_and_annotated_like_argo() -> None:
    world = World(canary_rollout(replicas=2))
    plan = world.plan()
    creates = [a for a in plan.actions if isinstance(a, CreateReplicaSet)]
    assert len(creates) == 1
    manifest = creates[0].manifest
    pod_hash = plan.status["currentPodHash"]
    assert manifest["metadata"]["name"] == f"web-{pod_hash}"
    assert manifest["metadata"]["labels"]["rollouts-pod-template-hash"] == pod_hash
    assert manifest["spec"]["selector"]["matchLabels"] == {"app": "web", "rollouts-pod-template-hash": pod_hash}
    assert manifest["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"] == pod_hash
    assert manifest["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "1"
    owner = manifest["metadata"]["ownerReferences"][0]
    assert owner == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "web",
        "uid": world.rollout["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_five_replicas_walk_20_40_60_80_with_expected_pods_at_each_pause() -> None:
    world = deployed(replicas=5, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    seen = []
    for _ in range(4):
        world.run()
        assert world.status["phase"] == "Paused"
        assert world.status["message"] == "CanaryPauseStep"
        seen.append((world.counts().get("web:1", 0), world.counts().get("web:2", 0)))
        promote(world)
    world.run()
    assert seen == [(4, 1), (3, 2), (2, 3), (1, 4)]
    assert world.counts() == {"web:2": 5}
    assert world.status["phase"] == "Healthy"
    assert world.status["stableRS"] == world.hash_of("web:2")
    assert world.reasons()[-1] == "RolloutCompleted"


@pytest.mark.parametrize(
    ("replicas", "weight", "expected"),
    [
        pytest.param(10, 15, (8, 2), id="10-replicas-weight-15-no-surge"),
        pytest.param(3, 10, (3, 1), id="3-replicas-weight-10-surge-1"),
    ],
)
def test_worked_examples_at_rest(replicas: int, weight: int, expected: tuple[int, int]) -> None:
    surge = 0 if replicas == 10 else 1
    world = deployed(replicas=replicas, steps=[{"setWeight": weight}, {"pause": {}}], maxSurge=surge, maxUnavailable=1)
    world.set_template("web:2")
    world.run()
    assert (world.counts().get("web:1", 0), world.counts().get("web:2", 0)) == expected


def test_step_completes_only_when_its_pods_are_available() -> None:
    world = deployed(replicas=5, steps=[{"setWeight": 40}, {"pause": {}}])
    world.set_template("web:2")
    for _ in range(10):
        world.step(settle=False)  # pods never become available
    assert world.status["currentStepIndex"] == 0
    assert "RolloutStepCompleted" not in world.reasons()
    world.run()
    assert world.status["currentStepIndex"] == 1


def test_timed_pause_waits_its_duration_and_survives_a_restart() -> None:
    world = deployed(replicas=2, steps=[{"setWeight": 50}, {"pause": {"duration": "1m"}}])
    world.set_template("web:2")
    plan = world.run()
    assert world.status["phase"] == "Paused"
    assert plan.requeue_after == 60
    pause = world.status["pauseConditions"][0]
    assert pause["reason"] == "CanaryPauseStep" and pause["startTime"] == "2026-01-01T12:00:00Z"
    world.advance(59)
    # A "restarted controller" plans from the observed objects alone and still knows the deadline.
    plan = world.run()
    assert world.status["phase"] == "Paused"
    assert plan.requeue_after == 1
    world.advance(1)
    world.run()
    assert world.status["phase"] == "Healthy"
    assert world.counts() == {"web:2": 2}


def test_replanning_the_same_observation_gives_the_same_plan_at_every_stage() -> None:
    world = deployed(replicas=5, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    for _ in range(40):
        first, second = world.plan(), world.plan()
        assert first == second
        world.apply(first)
        world.settle()
        if world.status.get("pauseConditions"):
            promote(world)
    assert world.status["phase"] == "Healthy"


def test_a_plan_applied_then_replanned_creates_nothing_twice() -> None:
    world = deployed(replicas=5, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    for _ in range(30):
        plan = world.step()
        again = world.plan()
        created = {a.manifest["metadata"]["name"] for a in plan.actions if isinstance(a, CreateReplicaSet)}
        recreated = {a.manifest["metadata"]["name"] for a in again.actions if isinstance(a, CreateReplicaSet)}
        assert not created & recreated
        if world.status.get("pauseConditions"):
            promote(world)
    assert len(world.replica_sets) == 2


def test_at_rest_a_replan_changes_nothing_and_emits_nothing() -> None:
    world = deployed(replicas=5, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    world.run()
    plan = world.plan()
    assert plan.mutations == ()
    assert plan.events == ()
    assert dict(plan.status) == world.status


def test_never_more_than_replicas_plus_surge_pods_nor_fewer_available_than_allowed() -> None:
    world = deployed(replicas=10, steps=[{"setWeight": 30}, {"pause": {}}, {"setWeight": 70}, {"pause": {}}])
    world.set_template("web:2")
    for _ in range(60):
        world.step(settle=False)
        total = sum(rs["spec"]["replicas"] for rs in world.replica_sets.values())
        available = sum(rs["status"]["availableReplicas"] for rs in world.replica_sets.values())
        assert total <= 10 + 3, f"surge exceeded: {world.counts()}"  # 25% of 10 rounds up to 3
        assert available >= 10 - 2, f"too few available: {available}"  # 25% of 10 rounds down to 2
        world.settle()
        if world.status.get("pauseConditions"):
            promote(world)
        if world.status.get("phase") == "Healthy":
            break
    assert world.counts() == {"web:2": 10}


def test_promote_full_skips_the_remaining_steps() -> None:
    world = deployed(replicas=5, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    world.run()
    world.patch_status(promoteFull=True)
    world.run()
    assert world.counts() == {"web:2": 5}
    status = world.status
    assert status["phase"] == "Healthy"
    assert "promoteFull" not in status and "pauseConditions" not in status
    assert status["currentStepIndex"] == len(STEPS_20_40_60_80)


def test_manual_pause_holds_everything_until_unpaused() -> None:
    world = deployed(replicas=5, steps=[{"setWeight": 40}, {"setWeight": 80}])
    world.set_template("web:2")
    world.rollout["spec"]["paused"] = True
    world.run()
    assert world.status["phase"] == "Paused"
    assert world.status["message"] == "manually paused"
    assert world.counts() == {"web:1": 5}
    world.rollout["spec"]["paused"] = False
    world.run()
    assert world.counts() == {"web:2": 5}
    assert world.status["phase"] == "Healthy"


def test_changing_the_steps_mid_update_restarts_them() -> None:
    world = deployed(replicas=5, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    world.run()
    promote(world)
    world.run()
    assert world.status["currentStepIndex"] == 3
    old_hash = world.status["currentStepHash"]
    world.rollout["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}]
    world.run()
    assert world.status["currentStepHash"] != old_hash
    assert world.status["currentStepIndex"] == 1
    assert world.counts() == {"web:1": 4, "web:2": 1}


def test_undo_to_the_stable_template_skips_the_steps() -> None:
    world = deployed(replicas=5, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    world.run()
    world.set_template("web:1")
    world.run()
    assert world.counts() == {"web:1": 5}
    assert world.status["phase"] == "Healthy"
    assert world.status["currentStepIndex"] == len(STEPS_20_40_60_80)
    assert "SkipSteps" in world.reasons()


def test_undo_to_an_older_revision_reuses_its_replica_set_and_bumps_its_revision() -> None:
    world = deployed(replicas=3, steps=[{"setWeight": 50}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    promote(world)
    world.run()
    world.set_template("web:3")
    world.run()
    promote(world)
    world.run()
    assert world.counts() == {"web:3": 3}
    v1 = world.hash_of("web:1")
    world.set_template("web:1")
    world.run()
    promote(world)
    world.run()
    assert world.counts() == {"web:1": 3}
    assert len(world.replica_sets) == 3, "the old ReplicaSet was reused, not duplicated"
    v1_rs = next(
        rs for rs in world.replica_sets.values() if rs["metadata"]["labels"]["rollouts-pod-template-hash"] == v1
    )
    assert v1_rs["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "4"


def test_revision_history_limit_prunes_the_oldest_idle_replica_sets() -> None:
    world = deployed(replicas=1, revisionHistoryLimit=1)
    world.rollout["spec"]["revisionHistoryLimit"] = 1
    for image in ("web:2", "web:3", "web:4"):
        world.set_template(image)
        world.run()
    images = sorted(rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in world.replica_sets.values())
    assert images == ["web:3", "web:4"]


def test_abort_returns_to_stable_and_retry_starts_the_steps_again() -> None:
    world = deployed(replicas=5, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    world.run()
    promote(world)
    world.run()
    assert world.counts() == {"web:1": 3, "web:2": 2}
    world.patch_status(abort=True)
    world.run()
    assert world.counts() == {"web:1": 5}
    status = world.status
    assert status["phase"] == "Degraded"
    assert status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    assert status["currentStepIndex"] == 0
    assert status["abortedAt"] == "2026-01-01T12:00:00Z"
    assert world.condition("Progressing")["reason"] == "RolloutAborted"
    aborted_events = [e for e in world.events if e.reason == "RolloutAborted"]
    assert len(aborted_events) == 1 and aborted_events[0].type == "Warning"
    # retry: the plugin clears status.abort
    world.patch_status(abort=None)
    world.run()
    assert world.status["phase"] == "Paused"
    assert world.status["currentStepIndex"] == 1
    assert world.counts() == {"web:1": 4, "web:2": 1}
    assert "abortedAt" not in world.status


def test_abort_retry_promote_event_story_matches_argo_order() -> None:
    world = deployed(replicas=2, steps=[{"setWeight": 50}, {"pause": {}}])
    world.events.clear()
    world.set_template("web:2")
    world.run()
    world.patch_status(abort=True)
    world.run()
    world.patch_status(abort=None)
    world.run()
    promote(world)
    world.run()
    story = [r for r in world.reasons() if r != "ScalingReplicaSet"]
    assert story == [
        "RolloutUpdated",
        "NewReplicaSetCreated",
        "RolloutNotCompleted",
        "RolloutStepCompleted",
        "RolloutPaused",
        "RolloutAborted",
        "RolloutStepCompleted",
        "RolloutPaused",
        "RolloutStepCompleted",
        "RolloutResumed",
        "RolloutCompleted",
    ]


def test_progress_deadline_exceeded_and_progress_deadline_abort() -> None:
    world = deployed(
        replicas=2,
        steps=[{"setWeight": 50}, {"pause": {}}],
    )
    world.rollout["spec"]["progressDeadlineSeconds"] = 60
    world.rollout["spec"]["progressDeadlineAbort"] = True
    world.set_template("web:2")
    for _ in range(5):
        plan = world.step(settle=False)  # the canary pod never becomes available
    assert plan.requeue_after == 60
    world.advance(61)
    world.step(settle=False)
    cond = world.condition("Progressing")
    assert (cond["status"], cond["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert world.status["abort"] is True
    world.step(settle=False)
    assert world.status["phase"] == "Degraded"
    assert world.status["message"].startswith("RolloutAborted: Rollout aborted update to revision 2")
    assert "ProgressDeadlineExceeded" in world.reasons()


def test_restart_replaces_old_pods_one_at_a_time() -> None:
    world = deployed(replicas=3)
    old_pods = set(world.pods)
    world.advance(10)
    world.rollout["spec"]["restartAt"] = "2026-01-01T12:00:05Z"
    deletions = 0
    for _ in range(20):
        plan = world.step(settle=False)
        deleted = [a for a in plan.actions if type(a).__name__ == "EvictPod"]
        assert len(deleted) <= 1
        unavailable = sum(
            rs["spec"]["replicas"] - rs["status"]["availableReplicas"] for rs in world.replica_sets.values()
        )
        assert unavailable <= 1
        deletions += len(deleted)
        world.settle()
        if world.status.get("restartedAt"):
            break
    assert deletions == 3
    assert not old_pods & set(world.pods)
    assert world.status["restartedAt"] == "2026-01-01T12:00:05Z"
    assert world.run().mutations == ()
    assert world.status["phase"] == "Healthy"


def test_restart_in_the_future_requeues_until_then() -> None:
    world = deployed(replicas=1)
    world.rollout["spec"]["restartAt"] = "2026-01-01T12:05:00Z"
    plan = world.step()
    assert plan.requeue_after == 300
    assert not any(type(a).__name__ == "EvictPod" for a in plan.actions)


def test_scale_actions_only_ever_target_existing_replica_sets() -> None:
    world = deployed(replicas=4, steps=STEPS_20_40_60_80)
    world.set_template("web:2")
    for _ in range(20):
        plan = world.plan()
        names = {a.name for a in plan.actions if isinstance(a, ScaleReplicaSet)}
        assert names <= set(world.replica_sets)
        world.apply(plan)
        world.settle()


def test_rollback_window_fast_tracks_a_recent_revision_only() -> None:
    world = deployed(replicas=2, steps=[{"setWeight": 50}, {"pause": {}}])
    world.rollout["spec"]["rollbackWindow"] = {"revisions": 1}
    for image in ("web:2", "web:3", "web:4"):
        world.advance(60)
        world.set_template(image)
        world.run()
        promote(world)
        world.run()
    assert world.counts() == {"web:4": 2}
    # back to web:3: nothing was created between it and the stable web:4 -> within the window
    world.advance(60)
    world.set_template("web:3")
    world.run()
    assert world.status["phase"] == "Healthy"
    assert world.counts() == {"web:3": 2}
    assert world.reasons().count("SkipSteps") == 1
    # back to web:1 from the stable web:3: web:2 was created in between -> outside a window of 1 -> steps run
    world.advance(60)
    world.set_template("web:1")
    world.run()
    assert world.status["phase"] == "Paused"
    assert world.counts() == {"web:1": 1, "web:3": 1}


def test_replica_failure_of_a_replica_set_is_reported_and_cleared() -> None:
    world = deployed(replicas=2, steps=[{"setWeight": 50}, {"pause": {}}])
    world.set_template("web:2")
    world.step(settle=False)
    world.step(settle=False)
    world.fail_pods("web:2", 'pods "web-x" is forbidden: exceeded quota: compute')
    world.step(settle=False)
    cond = world.condition("ReplicaFailure")
    assert (cond["status"], cond["reason"]) == ("True", "FailedCreate")
    assert "exceeded quota" in cond["message"]
    world.heal_pods()
    world.run()
    assert all(c["type"] != "ReplicaFailure" for c in world.status["conditions"])
    assert world.status["phase"] == "Paused"


def test_canary_metadata_moves_to_stable_metadata_at_promotion_without_new_pods() -> None:
    """Argo's ephemeral metadata: canary pods carry canaryMetadata; once promoted, the same pods carry
    stableMetadata instead (re-labelled in place, not replaced)."""
    world = World(canary_rollout(replicas=4, steps=[{"setWeight": 25}, {"pause": {}}],
                                 canaryMetadata={"labels": {"role": "canary"}},
                                 stableMetadata={"labels": {"role": "stable"}, "annotations": {"tier": "gold"}}))
    world.run()
    v1 = world.hash_of("web:1")
    first = next(rs for rs in world.replica_sets.values() if rs["metadata"]["labels"]["rollouts-pod-template-hash"] == v1)
    assert first["spec"]["template"]["metadata"]["labels"]["role"] == "stable"
    world.set_template("web:2")
    world.run()
    v2 = world.hash_of("web:2")
    canary = next(rs for rs in world.replica_sets.values() if rs["metadata"]["labels"]["rollouts-pod-template-hash"] == v2)
    assert canary["spec"]["template"]["metadata"]["labels"]["role"] == "canary"
    assert "tier" not in (canary["spec"]["template"]["metadata"].get("annotations") or {})
    world.patch_status(pauseConditions=None)
    world.run()
    assert world.status["stableRS"] == v2
    meta = canary["spec"]["template"]["metadata"]
    assert meta["labels"]["role"] == "stable"
    assert meta["annotations"]["tier"] == "gold"
    assert canary["metadata"]["annotations"]["rollout.argoproj.io/ephemeral-metadata"] == \
        '{"annotations":{"tier":"gold"},"labels":{"role":"stable"}}'
    # converged: re-planning asks for nothing more
    from rollouts.planning import SetEphemeralMetadata

    assert not any(isinstance(a, SetEphemeralMetadata) for a in world.plan().actions)
