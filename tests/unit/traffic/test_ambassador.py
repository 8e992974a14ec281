"""Exact canary Mappings of the Ambassador router; the worked examples are Argo Rollouts v1.10.2's
(rollout/trafficrouting/ambassador/ambassador_test.go: ``baseMapping``, ``baseMappingNoPort``,
``baseMappingWithWeight``, stableService ``main-service``, canaryService ``canary-service``)."""

from __future__ import annotations

import copy
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


def test_weight_0_deletes_the_canary_mapping() -> None:
    live = apply({BASE: mapping()}, router().desired_changes(20, [], {BASE: mapping()}))
    (change,) = router().desired_changes(0, [], live)
    assert change == DeleteObject(CANARY, "u-canary", summary="delete canary Mapping 'myapp-mapping-canary' (weight 0)")
    assert router().in_effect(apply(live, [change])) == InEffect(weight=0)
    assert router().desired_changes(0, [], {BASE: mapping()}) == []


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
        live = apply(live, router().desired_changes(weight, [], live))
        assert router().in_effect(live) == InEffect(weight=weight)
    assert live == original
