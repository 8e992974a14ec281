"""Exact canary Mappings of the Ambassador router; the worked examples are Argo Rollouts v1.10.2's
(rollout/trafficrouting/ambassador/ambassador_test.go: ``baseMapping``, ``baseMappingNoPort``,
``baseMappingWithWeight``, stableService ``main-service``, canaryService ``canary-service``)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.traffic.ambassador import AmbassadorRouter, canary_mapping_name
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import ApplyObject, DeleteObject, InEffect, ObjectRef, RouteKind, TrafficConfigError
from tests.unit.traffic.builders import NS, owner, rollout

BASE = ObjectRef(RouteKind.MAPPING, NS, "myapp-mapping")
CANARY = ObjectRef(RouteKind.MAPPING, NS, "myapp-mapping-canary")


def mapping(service: str = "main-service:8080", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "getambassador.io/v2", "kind": "Mapping",
            "metadata": {"name": "myapp-mapping", "namespace": NS, "uid": "u-base"},
            "spec": {"prefix": "/myapp/", "rewrite": "/myapp/", "service": service, **spec}}


def router() -> AmbassadorRouter:
    (found,) = routers_for(rollout({"ambassador": {"mappings": ["myapp-mapping"]}}, stable="main-service",
                                   canary="canary-service"))
    assert isinstance(found, AmbassadorRouter)
    return found


def apply(live: dict[ObjectRef, Any], changes: list[Any]) -> dict[ObjectRef, Any]:
    result = dict(live)
    for change in changes:
        if isinstance(change, ApplyObject):
            result[change.ref] = {**copy.deepcopy(dict(change.obj)),
                                  "metadata": {**change.obj["metadata"], "uid": "u-canary"}}
        else:
            assert isinstance(change, DeleteObject) and result[change.ref]["metadata"]["uid"] == change.uid
            del result[change.ref]
    return result


@pytest.mark.parametrize(
    ("service", "canary_service"),
    [("main-service:8080", "canary-service:8080"), ("main-service", "canary-service")],
    ids=["with-port", "no-port"],
)
def test_weight_13_creates_the_canary_mapping(service: str, canary_service: str) -> None:
    live = {BASE: mapping(service)}
    (change,) = router().desired_changes(13, [], live)
    assert change == ApplyObject(RouteKind.MAPPING, {
        "apiVersion": "getambassador.io/v2", "kind": "Mapping",
        "metadata": {"name": "myapp-mapping-canary", "namespace": NS, "ownerReferences": [owner()]},
        "spec": {"prefix": "/myapp/", "rewrite": "/myapp/", "service": canary_service, "weight": 13},
    }, summary="set canary Mapping 'myapp-mapping-canary' weight 13")
    after = apply(live, [change])
    assert router().in_effect(after) == InEffect(weight=13)
    assert router().desired_changes(13, [], after) == []


WRITTEN = "2026-12-03T10:00:00Z"  # the API server's managedFields time of our last apply


def written_by_us(obj: dict[str, Any], at: str = WRITTEN) -> dict[str, Any]:
    managed = [{"manager": "kubectl-edit", "operation": "Update", "time": "2026-12-03T10:00:30Z"},
               {"manager": "rollouts-controller", "operation": "Apply", "time": at}]
    return {**obj, "metadata": {**obj["metadata"], "managedFields": managed}}


def test_weight_0_sets_the_canary_mapping_to_0_then_deletes_it_5s_after_that_write() -> None:
    """ambassador.go handleCanaryMapping: weight 0 is written first; the delete follows 5 s later ("sleep 5 sec
    for propagation of mapping update"), counted here from the API server's record of that write."""
    at_20 = apply({BASE: mapping()}, router().desired_changes(20, [], {BASE: mapping()}))
    (to_zero,) = router().desired_changes(0, [], at_20)
    assert isinstance(to_zero, ApplyObject) and to_zero.obj["spec"]["weight"] == 0
    assert to_zero.summary == "set canary Mapping 'myapp-mapping-canary' weight 0 (deleted 5 s later)"
    at_0 = apply(at_20, [to_zero])
    at_0[CANARY] = written_by_us(at_0[CANARY])
    due = datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC)
    assert router().in_effect(at_0) == InEffect(weight=None, settles_at=due)  # not scaled down before the delete
    (delete,) = router().desired_changes(0, [], at_0)
    assert delete == DeleteObject(CANARY, "u-canary", summary="delete canary Mapping 'myapp-mapping-canary' (weight 0)",
                                  not_before=due)
    assert router().in_effect(apply(at_0, [delete])) == InEffect(weight=0)
    assert router().desired_changes(0, [], {BASE: mapping()}) == []


def test_a_canary_mapping_at_0_not_written_by_us_is_deleted_at_once() -> None:
    live = {BASE: mapping(), CANARY: {**mapping("canary-service:8080", weight=0),
                                      "metadata": {"name": "myapp-mapping-canary", "namespace": NS, "uid": "u-canary",
                                                   "ownerReferences": [owner()]}}}
    assert router().in_effect(live) == InEffect(weight=None)
    (delete,) = router().desired_changes(0, [], live)
    assert isinstance(delete, DeleteObject) and delete.not_before is None


def test_the_earliest_settling_mapping_wakes_the_planner() -> None:
    from rollouts.traffic.registry import observe_traffic

    live = {BASE: mapping(), CANARY: written_by_us({**mapping("canary-service:8080", weight=0), "metadata": {
        "name": "myapp-mapping-canary", "namespace": NS, "uid": "u-canary", "ownerReferences": [owner()]}})}
    observed = observe_traffic([router()], live)
    assert (observed.weight, observed.settles_at) == (None, datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC))


@pytest.mark.parametrize(
    ("live", "message"),
    [({}, 'Ambassador mapping "myapp-mapping" not found'),
     ({BASE: mapping(weight=20)}, 'Ambassador mapping "myapp-mapping" can not define weight'),
     ({BASE: mapping(), CANARY: {**mapping(weight=5), "metadata": {"name": "myapp-mapping-canary"}}},
      "canary Mapping 'myapp-mapping-canary' already exists and is not controlled by Rollout 'shop'")],
    ids=["base-missing", "base-with-weight", "foreign-canary"],
)
def test_problems(live: dict[ObjectRef, Any], message: str) -> None:
    assert router().validate(live) == [message]


def test_hand_edits_are_read_back_and_corrected() -> None:
    live = apply({BASE: mapping()}, router().desired_changes(20, [], {BASE: mapping()}))
    live[CANARY]["spec"]["weight"] = 60
    assert router().in_effect(live) == InEffect(weight=60)
    live[CANARY]["spec"]["service"] = "elsewhere:80"
    assert router().in_effect(live) == InEffect(weight=None)
    assert apply(live, router().desired_changes(20, [], live))[CANARY]["spec"]["service"] == "canary-service:8080"


def test_name_and_config() -> None:
    assert canary_mapping_name("m" * 300) == "m" * 246 + "-canary"
    with pytest.raises(TrafficConfigError, match="must name at least one Mapping"):
        routers_for(rollout({"ambassador": {"mappings": []}}))


@given(st.lists(st.integers(0, 100), max_size=6))
def test_any_sequence_of_weights_converges_back(weights: list[int]) -> None:
    original = {BASE: mapping()}
    live = copy.deepcopy(original)
    for weight in [*weights, 0]:
        for _ in range(2):  # one reconcile each, as the controller re-plans; weight 0 takes two (0, then delete)
            live = apply(live, router().desired_changes(weight, [], live))
        assert router().in_effect(live) == InEffect(weight=weight)
        assert router().desired_changes(weight, [], live) == []
    assert live == original
