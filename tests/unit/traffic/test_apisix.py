"""Exact ApisixRoute patches and header-route ApisixRoutes of the APISIX router. The objects are Argo Rollouts
v1.10.2's e2e manifests (test/e2e/apisix/rollout-apisix-canary*.yaml) and the expected values are what Argo's
reconciler writes for them (rollout/trafficrouting/apisix/apisix.go, apisix_test.go)."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.traffic.apisix import ApisixRouter
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import (
    ApplyObject,
    DeleteObject,
    HeaderMatch,
    HeaderRoute,
    InEffect,
    JsonPatch,
    MatchKind,
    ObjectRef,
    RouteKind,
    TrafficConfigError,
)
from tests.unit.traffic.builders import NS, UID, owner, rollout

STABLE, CANARY = "rollout-apisix-canary-stable", "rollout-apisix-canary-canary"
BASE = ObjectRef(RouteKind.APISIXROUTE, NS, "rollouts-apisix-route")
HEADER = ObjectRef(RouteKind.APISIXROUTE, NS, "set-header")
MATCH = {"paths": ["/*"], "methods": ["GET", "POST", "PUT", "DELETE", "PATCH"], "hosts": ["rollouts-demo.apisix.local"]}
SET_HEADER = HeaderRoute("set-header", (HeaderMatch("trace", MatchKind.EXACT, "debug"),))


def apisix_route(stable: int = 100, canary: int = 0) -> dict[str, Any]:
    return {"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute",
            "metadata": {"name": "rollouts-apisix-route", "namespace": NS, "resourceVersion": "5", "uid": "u-base"},
            "spec": {"http": [{"name": "rollouts-apisix", "match": copy.deepcopy(MATCH), "backends": [
                {"serviceName": STABLE, "servicePort": 80, "weight": stable},
                {"serviceName": CANARY, "servicePort": 80, "weight": canary}]}]}}


def router(**routing: Any) -> ApisixRouter:
    config = {"apisix": {"route": {"name": "rollouts-apisix-route", "rules": ["rollouts-apisix"]}},
              "managedRoutes": [{"name": "set-header"}], **routing}
    (found,) = routers_for(rollout(config, stable=STABLE, canary=CANARY))
    assert isinstance(found, ApisixRouter)
    return found


def apply(live: dict[ObjectRef, Any], changes: list[Any]) -> dict[ObjectRef, Any]:
    result = dict(live)
    for change in changes:
        if isinstance(change, JsonPatch):
            result[change.ref] = jsonpatch.apply_patch(result[change.ref], list(change.ops))
        elif isinstance(change, ApplyObject):
            result[change.ref] = {**copy.deepcopy(dict(change.obj)),
                                  "metadata": {**change.obj["metadata"], "uid": "u-header"}}
        else:
            assert isinstance(change, DeleteObject)
            assert result[change.ref]["metadata"]["uid"] == change.uid
            del result[change.ref]
    return result


def test_set_weight_5_then_50() -> None:
    # TestAPISIXCanaryStep: stable/canary 100/0 -> 95/5 -> 50/50 -> back to 100/0.
    live = {BASE: apisix_route()}
    (change,) = router().desired_changes(5, [], live)
    assert change.ops == ({"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
                          {"op": "add", "path": "/spec/http/0/backends/1/weight", "value": 5},
                          {"op": "add", "path": "/spec/http/0/backends/0/weight", "value": 95})
    live = apply(live, [change])
    assert live[BASE] == apisix_route(95, 5)
    assert router().in_effect(live) == InEffect(weight=5)
    live = apply(live, router().desired_changes(50, [], live))
    assert live[BASE] == apisix_route(50, 50)
    assert apply(live, router().desired_changes(0, [], live))[BASE] == apisix_route()


def test_header_route_is_a_copy_sending_matching_requests_to_the_canary() -> None:
    # TestAPISIXCanarySetHeaderStep / checkSetHeader: ApisixRoute "set-header", one expr Equal trace=debug.
    live = {BASE: apisix_route()}
    changes = router().desired_changes(0, [SET_HEADER], live)
    assert [type(c) for c in changes] == [ApplyObject]
    assert changes[0].obj == {
        "apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute",
        "metadata": {"name": "set-header", "namespace": NS, "ownerReferences": [owner()]},
        "spec": {"http": [{"name": "rollouts-apisix", "priority": 1,
                           "match": {**MATCH, "exprs": [{"subject": {"scope": "Header", "name": "trace"},
                                                         "op": "Equal", "value": "debug"}]},
                           "backends": [{"serviceName": CANARY, "servicePort": 80, "weight": 100}]}]},
    }
    live = apply(live, changes)
    live[HEADER]["metadata"]["ownerReferences"][0]["uid"] = UID
    assert router().in_effect(live) == InEffect(weight=0, header_routes=("set-header",))
    assert router().desired_changes(0, [SET_HEADER], live) == []
    (delete,) = router().desired_changes(0, [], live)
    assert delete == DeleteObject(HEADER, "u-header", summary="delete header-route ApisixRoute 'set-header'")


@pytest.mark.parametrize(
    ("kind", "value", "expr"),
    [(MatchKind.EXACT, "debug", {"op": "Equal", "value": "debug"}),
     (MatchKind.REGEX, "de.*", {"op": "RegexMatch", "value": "de.*"}),
     (MatchKind.PREFIX, "deb", {"op": "RegexMatch", "value": "^deb.*"})],
    ids=["exact", "regex", "prefix"],
)
def test_exprs_as_argo_writes_them(kind: MatchKind, value: str, expr: dict[str, str]) -> None:
    from rollouts.traffic.apisix import exprs

    assert exprs(HeaderRoute("r", (HeaderMatch("trace", kind, value),))) == [
        {"subject": {"scope": "Header", "name": "trace"}, **expr}]


@pytest.mark.parametrize(
    ("live", "message"),
    [
        ({}, 'apisixroutes.apisix.apache.org "rollouts-apisix-route" not found'),
        ({BASE: {**apisix_route(), "spec": {}}}, "spec.http was not found in Apisix Route manifest"),
        ({BASE: {**apisix_route(), "spec": {"http": [{"name": "other", "backends": []}]}}},
         "Apisix http route rule rollouts-apisix not found"),
        ({BASE: {**apisix_route(), "spec": {"http": [{"name": "rollouts-apisix"}]}}},
         "Apisix http route backends not found"),
        ({BASE: {**apisix_route(), "spec": {"http": [{"name": "rollouts-apisix", "backends": [
            {"serviceName": STABLE, "weight": 100}]}]}}},
         f"apisix route {CANARY} backend was not found"),
        ({BASE: apisix_route(), HEADER: {**apisix_route(), "metadata": {"name": "set-header", "namespace": NS}}},
         "duplicate ApisixRoute [set-header] already exists"),
    ],
    ids=["missing", "no-http", "no-rule", "no-backends", "no-canary-backend", "name-taken"],
)
def test_problems_in_argos_words(live: dict[ObjectRef, Any], message: str) -> None:
    assert router().validate(live) == [message]


def test_rules_default_to_the_route_name_and_config_errors() -> None:
    (found,) = routers_for(rollout({"apisix": {"route": {"name": "r"}}}))
    assert isinstance(found, ApisixRouter) and found.rules == ("r",)
    with pytest.raises(TrafficConfigError, match=r"apisix.route.name is required"):
        routers_for(rollout({"apisix": {}}))


@given(st.lists(st.tuples(st.integers(0, 100), st.booleans()), max_size=6))
def test_any_sequence_converges_back_to_the_original_objects(requests: list[tuple[int, bool]]) -> None:
    original = {BASE: apisix_route()}
    live = copy.deepcopy(original)
    for weight, with_route in [*requests, (0, False)]:
        live = apply(live, router().desired_changes(weight, [SET_HEADER] if with_route else [], live))
        if HEADER in live:
            live[HEADER]["metadata"]["ownerReferences"][0]["uid"] = UID
        assert router().in_effect(live).weight == weight
    assert live == original
