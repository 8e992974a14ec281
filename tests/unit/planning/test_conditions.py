"""Phase/message like Argo's CalculateRolloutPhase, condition bookkeeping, selector strings."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.common import LabelSelector
from rollouts.api.rollout import RolloutSpec
from rollouts.planning.conditions import rollout_phase, selector_string, set_condition


def spec(**fields: Any) -> RolloutSpec:
    raw: dict[str, Any] = {"replicas": 3, "strategy": {"canary": {}}}
    raw.update(fields)
    return RolloutSpec.model_validate(raw)


HEALTHY = {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "currentPodHash": "a", "stableRS": "a"}


@pytest.mark.parametrize(
    ("spec_fields", "status", "expected"),
    [
        pytest.param({}, HEALTHY, ("Healthy", ""), id="healthy"),
        pytest.param(
            {},
            {**HEALTHY, "conditions": [{"type": "InvalidSpec", "status": "True", "message": "bad"}]},
            ("Degraded", "InvalidSpec: bad"),
            id="invalid-spec",
        ),
        pytest.param(
            {},
            {
                **HEALTHY,
                "conditions": [
                    {
                        "type": "Progressing",
                        "reason": "RolloutAborted",
                        "message": "Rollout aborted update to revision 2",
                    }
                ],
            },
            ("Degraded", "RolloutAborted: Rollout aborted update to revision 2"),
            id="aborted",
        ),
        pytest.param(
            {},
            {**HEALTHY, "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "x"}]},
            ("Degraded", "ProgressDeadlineExceeded: x"),
            id="timed-out",
        ),
        pytest.param({"paused": True}, HEALTHY, ("Paused", "manually paused"), id="spec-paused"),
        pytest.param(
            {},
            {**HEALTHY, "pauseConditions": [{"reason": "CanaryPauseStep"}]},
            ("Paused", "CanaryPauseStep"),
            id="pause-step",
        ),
        pytest.param(
            {"restartAt": "2026-01-01T00:00:00Z"}, HEALTHY, ("Progressing", "rollout is restarting"), id="restarting"
        ),
        pytest.param(
            {"restartAt": "2026-01-01T00:00:00Z"},
            {**HEALTHY, "restartedAt": "2026-01-01T00:00:00Z"},
            ("Healthy", ""),
            id="restarted",
        ),
        pytest.param(
            {}, {**HEALTHY, "updatedReplicas": 1}, ("Progressing", "more replicas need to be updated"), id="updating"
        ),
        pytest.param(
            {},
            {**HEALTHY, "availableReplicas": 2},
            ("Progressing", "updated replicas are still becoming available"),
            id="becoming-available",
        ),
        pytest.param(
            {}, {**HEALTHY, "replicas": 4}, ("Progressing", "old replicas are pending termination"), id="old-pending"
        ),
        pytest.param(
            {}, {**HEALTHY, "stableRS": "b"}, ("Progressing", "waiting for all steps to complete"), id="steps"
        ),
        pytest.param(
            {"strategy": {"blueGreen": {"activeService": "a"}}},
            {**HEALTHY, "blueGreen": {"activeSelector": "b"}},
            ("Progressing", "active service cutover pending"),
            id="bluegreen-cutover",
        ),
    ],
)
def test_rollout_phase(spec_fields: dict[str, Any], status: dict[str, Any], expected: tuple[str, str]) -> None:
    assert rollout_phase(spec(**spec_fields), status) == expected


BLUE_GREEN_POST = {"blueGreen": {"activeService": "a", "postPromotionAnalysis": {"templates": [{"templateName": "t"}]}}}


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (None, "waiting for analysis to complete"),
        ({"name": "r", "status": "Running"}, "waiting for analysis to complete"),
        ({"name": "r", "status": "Successful"}, "waiting for post-promotion verification to complete"),
        ({"name": "r", "status": "Inconclusive"}, "waiting for post-promotion verification to complete"),
    ],
    ids=["no-run-yet", "running", "successful", "inconclusive"],
)
def test_blue_green_waits_for_post_promotion_analysis_only_while_it_runs(
    run: dict[str, Any] | None, message: str
) -> None:
    """Argo's waitingForBlueGreenPostPromotionAnalysis (utils/rollout/rolloututil.go): a completed run no longer
    counts as "waiting for analysis" while the active ReplicaSet is not yet marked stable."""
    blue_green: dict[str, Any] = {"activeSelector": "b"}
    if run is not None:
        blue_green["postPromotionAnalysisRunStatus"] = run
    status = {**HEALTHY, "currentPodHash": "b", "stableRS": "a", "blueGreen": blue_green}
    assert rollout_phase(spec(strategy=BLUE_GREEN_POST), status) == ("Progressing", message)


def test_traffic_routed_canary_tolerates_old_replicas() -> None:
    status = {**HEALTHY, "replicas": 6}
    routed = spec(strategy={"canary": {"trafficRouting": {"nginx": {"stableIngress": "web"}}}})
    assert rollout_phase(routed, status) == ("Healthy", "")


def test_set_condition_keeps_unchanged_conditions_and_transition_times() -> None:
    conditions: dict[str, dict[str, Any]] = {}
    assert set_condition(conditions, "Available", "True", "AvailableReason", "ok", "t1") is True
    first = dict(conditions["Available"])
    assert set_condition(conditions, "Available", "True", "AvailableReason", "ok", "t2") is False
    assert conditions["Available"] == first
    assert set_condition(conditions, "Available", "True", "AvailableReason", "ok", "t3", touch=True) is False
    assert conditions["Available"]["lastUpdateTime"] == "t3"
    assert conditions["Available"]["lastTransitionTime"] == "t1"
    assert set_condition(conditions, "Available", "False", "AvailableReason", "no", "t4") is True
    assert conditions["Available"]["lastTransitionTime"] == "t4"


def test_a_changed_condition_moves_to_the_end_like_argo_appends_it() -> None:
    conditions: dict[str, dict[str, Any]] = {}
    set_condition(conditions, "Progressing", "True", "ReplicaSetUpdated", "x", "t1")
    set_condition(conditions, "Available", "True", "AvailableReason", "ok", "t1")
    set_condition(conditions, "Progressing", "True", "NewReplicaSetAvailable", "y", "t2")
    assert list(conditions) == ["Available", "Progressing"]


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        pytest.param({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2", id="labels-sorted"),
        pytest.param(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["y", "x"]}],
            },
            "app=web,tier in (x,y)",
            id="in",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "DoesNotExist"}]},
            "a,!b",
            id="exists",
        ),
    ],
)
def test_selector_string(selector: dict[str, Any], text: str) -> None:
    assert selector_string(LabelSelector.model_validate(selector)) == text


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("app=web", "app=web,rollouts-pod-template-hash=h", id="labels"),
        pytest.param("zone=a", "rollouts-pod-template-hash=h,zone=a", id="sorted-by-key"),
        pytest.param(
            "app=web,tier in (a,b)", "app=web,rollouts-pod-template-hash=h,tier in (a,b)", id="set-based-kept-whole"
        ),
        pytest.param("", "rollouts-pod-template-hash=h", id="empty"),
    ],
)
def test_blue_green_selector_includes_the_active_hash(selector: str, expected: str) -> None:
    from rollouts.planning.status import _with_hash

    assert _with_hash(selector, "h") == expected
