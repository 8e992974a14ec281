"""The fast part of the Argo-controller comparison (tests/integration/conformance/test_controller_parity.py): what
is masked between two runs and what is reported as a difference."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.controller_parity import NAMESPACE, TIME, differences, mask, snapshot

NS = "argo-canary-1234"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        pytest.param({"lastTransitionTime": "2026-12-03T10:00:00Z", "reason": "RolloutPaused"},
                     {"lastTransitionTime": TIME, "reason": "RolloutPaused"}, id="condition-time"),
        pytest.param({"pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-12-03T10:00:00Z"}]},
                     {"pauseConditions": [{"reason": "CanaryPauseStep", "startTime": TIME}]}, id="pause-start"),
        pytest.param({"restartedAt": None}, {"restartedAt": None}, id="absent-time-stays-null"),
        pytest.param({"message": f"ReplicaSet in {NS}"}, {"message": f"ReplicaSet in {NAMESPACE}"}, id="namespace"),
        pytest.param({"stableRS": "5d4f8c"}, {"stableRS": "5d4f8c"}, id="hash-kept"),
    ],
)
def test_mask(value: dict[str, Any], masked: dict[str, Any]) -> None:
    assert mask(value, NS) == masked


def _rs(name: str, replicas: int, revision: str, deadline: str | None = None) -> dict[str, Any]:
    annotations = {"rollout.argoproj.io/revision": revision}
    if deadline:
        annotations["argo-rollouts.argoproj.io/scale-down-deadline"] = deadline
    return {"metadata": {"name": name, "uid": "u-1", "resourceVersion": "7", "labels": {"app": "shop"},
                         "annotations": annotations,
                         "ownerReferences": [{"kind": "Rollout", "name": "shop", "uid": "u-0", "controller": True}]},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"image": "app:blue"}]}}},
            "status": {"replicas": replicas}}


def _picture(*rs: dict[str, Any], conditions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rollout = {"metadata": {"name": "shop", "uid": "x", "generation": 3},
               "spec": {"replicas": 4}, "status": {"phase": "Healthy", "conditions": conditions or []}}
    return snapshot(rollout, list(rs), [], NS)


def test_two_runs_of_the_same_state_compare_equal() -> None:
    """uids, resourceVersions and the scale-down deadline's time differ between runs; nothing else here does."""
    one = _picture(_rs("shop-5d4f8c", 0, "1", "2026-12-03T10:00:30Z"))
    two = _rs("shop-5d4f8c", 0, "1", "2026-12-03T11:11:11Z")
    two["metadata"]["uid"], two["metadata"]["resourceVersion"] = "u-2", "99"
    assert differences(one, _picture(two)) == []


def test_condition_order_is_not_a_difference() -> None:
    a = [{"type": "Paused", "status": "False"}, {"type": "Available", "status": "True"}]
    assert differences(_picture(conditions=a), _picture(conditions=list(reversed(a)))) == []


@pytest.mark.parametrize(
    ("ours", "argos", "expected"),
    [
        pytest.param(_picture(_rs("shop-aaa", 4, "3")), _picture(_rs("shop-aaa", 4, "1")),
                     [("replicaSets.shop-aaa.metadata.annotations.rollout.argoproj.io/revision", "3", "1")],
                     id="undo-bumps-revision"),
        pytest.param(_picture(_rs("shop-aaa", 4, "1"), _rs("shop-bbb", 4, "3")), _picture(_rs("shop-aaa", 4, "3")),
                     [("replicaSets.shop-aaa.metadata.annotations.rollout.argoproj.io/revision", "1", "3"),
                      ("replicaSets.shop-bbb", "ANY", "<absent>")], id="new-rs-instead-of-reuse"),
        pytest.param(_picture(conditions=[{"type": "Paused", "status": "True", "reason": "RolloutResumed"}]),
                     _picture(conditions=[{"type": "Paused", "status": "False", "reason": "RolloutPaused"}]),
                     [("rollout.status.conditions[0].reason", "RolloutResumed", "RolloutPaused"),
                      ("rollout.status.conditions[0].status", "True", "False")], id="condition-fields"),
    ],
)
def test_differences_name_the_field(ours: dict[str, Any], argos: dict[str, Any],
                                    expected: list[tuple[str, Any, Any]]) -> None:
    found = differences(ours, argos)
    assert [(p, o if e[1] != "ANY" else "ANY", a) for (p, o, a), e in zip(found, expected, strict=True)] == expected


def test_message_absent_differs_from_empty() -> None:
    """Argo omits an empty status.message: "" and absent are different answers."""
    assert differences({"message": ""}, {}) == [("message", "", "<absent>")]
