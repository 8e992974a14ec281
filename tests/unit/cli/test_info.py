"""What the plugin derives from a Rollout: phase, step, weights, ages, roles."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.api.rollout import RolloutPhase as Phase
from rollouts.cli.info import actual_weight, current_step, reported_phase, rollout_info, set_weight
from rollouts.cli.objects import human_duration
from tests.unit.cli import scenarios
from tests.unit.cli.scenarios import NOW

STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "1m"}}]


def canary(status: dict[str, Any], *, steps: list[dict[str, Any]] | None = None, generation: int = 1,
           paused: bool = False, traffic: bool = False) -> dict[str, Any]:
    strategy: dict[str, Any] = {"steps": STEPS if steps is None else steps}
    if traffic:
        strategy["trafficRouting"] = {"nginx": {"stableIngress": "web"}}
    return {"metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": 4, "paused": paused, "strategy": {"canary": strategy}},
            "status": status}


@pytest.mark.parametrize(("rollout", "phase", "message"), [
    pytest.param(canary({"observedGeneration": "1", "phase": "Healthy"}), Phase.HEALTHY, "", id="status-phase-trusted"),
    pytest.param(canary({"observedGeneration": "1", "phase": "Healthy"}, generation=2), Phase.PROGRESSING,
                 "waiting for rollout spec update to be observed", id="unobserved-spec-is-progressing"),
    pytest.param(canary({}), Phase.PROGRESSING, "waiting for rollout spec update to be observed",
                 id="brand-new-no-status"),
    pytest.param(canary({"observedGeneration": "abc123", "phase": "Paused", "message": "CanaryPauseStep"}),
                 Phase.PAUSED, "CanaryPauseStep", id="legacy-hash-generation-counts-as-observed"),
    # A status without a phase gets the controller's own calculation (Argo's CalculateRolloutPhase, reached
    # from GetRolloutPhase in utils/rollout/rolloututil.go): the abort shows through its condition; a bare
    # abort flag that no controller has acted on is not Degraded yet.
    pytest.param(canary({"observedGeneration": "1", "abort": True}), Phase.PROGRESSING,
                 "more replicas need to be updated", id="derived-abort-flag-alone"),
    pytest.param(canary({"observedGeneration": "1", "abort": True, "conditions": [
        {"type": "Progressing", "status": "False", "reason": "RolloutAborted",
         "message": "Rollout aborted update to revision 2"}]}), Phase.DEGRADED,
        "RolloutAborted: Rollout aborted update to revision 2", id="derived-aborted"),
    pytest.param(canary({"observedGeneration": "1", "phase": "Paused", "message": "CanaryPauseStep",
                         "controllerPause": True}), Phase.PROGRESSING, "waiting for rollout to unpause",
                 id="promoted-not-yet-acted-on"),
    pytest.param(canary({"observedGeneration": "1", "phase": "Paused", "controllerPause": True,
                         "pauseConditions": [{"reason": "CanaryPauseStep"}]}), Phase.PAUSED, "",
                 id="paused-by-the-controller"),
    pytest.param(canary({"observedGeneration": "1", "pauseConditions": ["junk", {"reason": "CanaryPauseStep"}],
                         "updatedReplicas": "four"}), Phase.PAUSED, "CanaryPauseStep", id="derived-tolerates-junk"),
    pytest.param({**canary({"observedGeneration": "1"}), "spec": {"replicas": "many"}}, Phase.DEGRADED,
                 "InvalidSpec: The Rollout is invalid: spec.replicas: Input should be a valid integer, unable to parse "
                 "string as an integer",
                 id="derived-unparseable-spec"),
    pytest.param(canary({"observedGeneration": "1", "pauseConditions": [{"reason": "CanaryPauseStep"}]}),
                 Phase.PAUSED, "CanaryPauseStep", id="derived-paused-step"),
    pytest.param(canary({"observedGeneration": "1"}, paused=True), Phase.PAUSED, "manually paused",
                 id="derived-manual-pause"),
    pytest.param(canary({"observedGeneration": "1", "conditions": [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}]}),
        Phase.DEGRADED, "ProgressDeadlineExceeded: too slow", id="derived-deadline"),
    pytest.param(canary({"observedGeneration": "1", "stableRS": "a", "currentPodHash": "a", "replicas": 4,
                         "updatedReplicas": 4, "availableReplicas": 4}), Phase.HEALTHY, "", id="derived-healthy"),
    pytest.param(canary({"observedGeneration": "1", "stableRS": "a", "currentPodHash": "b", "replicas": 5,
                         "updatedReplicas": 1, "availableReplicas": 4}), Phase.PROGRESSING,
                 "more replicas need to be updated", id="derived-progressing"),
])
def test_rollout_phase(rollout: dict[str, Any], phase: Phase, message: str) -> None:
    report = reported_phase(rollout)
    assert (report.phase, report.message) == (phase, message)


@pytest.mark.parametrize(("status", "steps", "weight", "step"), [
    pytest.param({"currentStepIndex": 0}, STEPS, 20, "0/4", id="first-step"),
    pytest.param({"currentStepIndex": 1}, STEPS, 20, "1/4", id="pause-after-20"),
    pytest.param({"currentStepIndex": 3}, STEPS, 50, "3/4", id="timed-pause-after-50"),
    pytest.param({"currentStepIndex": 4}, STEPS, 100, "4/4", id="all-steps-done"),
    pytest.param({"currentStepIndex": 2, "abort": True}, STEPS, 0, "2/4", id="aborted"),
    pytest.param({}, [{"pause": {}}], 0, "0/1", id="no-setweight-yet"),
    pytest.param({}, [], 100, None, id="no-steps"),
])
def test_set_weight_and_step(status: dict[str, Any], steps: list[dict[str, Any]], weight: int,
                             step: str | None) -> None:
    rollout = canary(status, steps=steps)
    assert set_weight(rollout) == weight
    assert current_step(rollout) == step


@pytest.mark.parametrize(("status", "weight"), [
    pytest.param({"currentStepIndex": 1}, 20, id="step-weight-unchanged"),
    pytest.param({"currentStepIndex": 4}, 1000, id="all-steps-done-is-maxTrafficWeight"),
    pytest.param({"currentStepIndex": 4, "abort": True}, 0, id="aborted"),
])
def test_set_weight_is_out_of_max_traffic_weight(status: dict[str, Any], weight: int) -> None:
    """The CLI asks the planner, which counts out of maxTrafficWeight (Argo: GetCurrentSetWeight returns
    weightutil.MaxTrafficWeight once the steps are done, utils/replicaset/canary.go); it used to say 100."""
    rollout = canary(status, traffic=True)
    rollout["spec"]["strategy"]["canary"]["trafficRouting"]["maxTrafficWeight"] = 1000
    assert set_weight(rollout) == weight


def rs(pod_hash: str, available: int) -> dict[str, Any]:
    return {"metadata": {"labels": {"rollouts-pod-template-hash": pod_hash}},
            "status": {"availableReplicas": available}}


@pytest.mark.parametrize(("rollout", "replicasets", "weight"), [
    pytest.param(canary({"stableRS": "s", "currentPodHash": "c", "availableReplicas": 8}),
                 [rs("s", 6), rs("c", 2)], 25, id="basic-canary-share-of-pods"),
    pytest.param(canary({"stableRS": "s", "currentPodHash": "s", "availableReplicas": 4}),
                 [rs("s", 4)], 100, id="fully-promoted"),
    pytest.param(canary({"stableRS": "s", "currentPodHash": "c", "availableReplicas": 0}),
                 [rs("s", 0), rs("c", 0)], 0, id="nothing-available"),
    pytest.param(canary({"stableRS": "s", "currentPodHash": "c", "availableReplicas": 8,
                         "canary": {"weights": {"canary": {"weight": 30}, "stable": {"weight": 70}}}}, traffic=True),
                 [rs("s", 6), rs("c", 2)], 30, id="traffic-routing-reported-weight"),
    pytest.param(canary({"stableRS": "s", "currentPodHash": "c", "availableReplicas": 8}, traffic=True),
                 [rs("s", 6), rs("c", 2)], 0, id="traffic-routing-not-reported-yet"),
])
def test_actual_weight(rollout: dict[str, Any], replicasets: list[dict[str, Any]], weight: int) -> None:
    assert actual_weight(rollout, replicasets) == weight


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "0s"), (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (150, "2m30s"), (600, "10m"),
    (3600, "60m"), (3 * 3600, "3h"), (5 * 3600 + 600, "5h10m"), (20 * 3600, "20h"), (3 * 86400, "3d"),
    (3 * 86400 + 4 * 3600, "3d4h"), (30 * 86400, "30d"), (800 * 86400, "2y"),
], ids=lambda v: str(v))
def test_human_duration_like_kubectl(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**10))
def test_human_duration_is_short_and_well_formed(seconds: int) -> None:
    text = human_duration(seconds)
    assert 2 <= len(text) <= 8
    assert text[-1] in "smhdy"


@given(st.integers(min_value=0, max_value=10), st.lists(
    st.one_of(st.builds(lambda w: {"setWeight": w}, st.integers(0, 100)), st.just({"pause": {}})), max_size=8))
def test_set_weight_is_a_percentage(index: int, steps: list[dict[str, Any]]) -> None:
    assert 0 <= set_weight(canary({"currentStepIndex": index}, steps=steps)) <= 100


def test_tree_groups_children_by_revision_and_ignores_foreign_objects() -> None:
    state = scenarios.progressing_canary_with_analysis()
    foreign = scenarios.replicaset("other", "ffffffff", revision=9, image="x", replicas=1, ready=1, age=10)
    foreign["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    info = rollout_info(state.rollout, [*state.replicasets, foreign], state.pods, state.analysisruns, now=NOW)
    assert [r.revision for r in info.revisions] == [2, 1]
    newest = info.revisions[0]
    assert [rs.roles for rs in newest.replicasets] == [("canary",)]
    assert [p.status for p in newest.replicasets[0].pods] == ["Running", "ContainerCreating"]
    assert {(a.phase, a.successes, a.failures) for a in newest.analysisruns} == {("Successful", 3, 0),
                                                                                ("Running", 4, 1)}
    assert [(i.image, i.roles) for i in info.images] == [("shop/checkout:1.0", ("stable",)),
                                                         ("shop/checkout:2.0", ("canary",))]
