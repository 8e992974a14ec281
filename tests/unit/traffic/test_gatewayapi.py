"""Exact HTTPRoutes after the Gateway API router's JSON patches: weights, header routes, read-back."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.traffic.gatewayapi import MANAGED_ROUTES_ANNOTATION, GatewayApiRouter, rule_signature
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import (
    HeaderMatch,
    HeaderRoute,
    InEffect,
    JsonPatch,
    MatchKind,
    ObjectRef,
    RouteKind,
    TrafficConfigError,
)
from tests.unit.traffic.builders import NS, rollout

PLUGIN = "argoproj-labs/gatewayAPI"


def backend(name: str, weight: int | None = None, port: int = 80) -> dict[str, Any]:
    ref: dict[str, Any] = {"group": "", "kind": "Service", "name": name, "port": port}
    if weight is not None:
        ref["weight"] = weight
    return ref


def http_route(name: str, rules: list[dict[str, Any]], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "resourceVersion": "11"}
    if annotations is not None:
        meta["annotations"] = annotations
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": meta,
        "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["shop.example.com"], "rules": rules},
    }


def ref(name: str = "shop") -> ObjectRef:
    return ObjectRef(RouteKind.HTTPROUTE, NS, name)


MAIN_RULE = {
    "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
    "filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x-a", "value": "1"}]}}],
    "backendRefs": [backend("shop-stable", 100), backend("shop-canary", 0)],
}
OTHER_RULE = {"matches": [{"path": {"type": "PathPrefix", "value": "/blog"}}], "backendRefs": [backend("blog")]}
STABLE_ONLY = {"matches": [{"path": {"type": "Exact", "value": "/health"}}], "backendRefs": [backend("shop-stable")]}


def route() -> dict[str, Any]:
    return http_route("shop", [copy.deepcopy(MAIN_RULE), copy.deepcopy(OTHER_RULE), copy.deepcopy(STABLE_ONLY)])


def gw_router(config: dict[str, Any] | None = None, **kw: Any) -> GatewayApiRouter:
    routing = {"plugins": {PLUGIN: {"httpRoute": "shop"} if config is None else config}, **kw.pop("routing", {})}
    (router,) = routers_for(rollout(routing, **kw))
    assert isinstance(router, GatewayApiRouter)
    return router


def apply(live: dict[ObjectRef, Any], changes: list[Any]) -> dict[ObjectRef, Any]:
    """What the API server would store after the JSON patches (resourceVersion bumped, empty maps omitted)."""
    result = dict(live)
    for change in changes:
        assert isinstance(change, JsonPatch)
        patched = jsonpatch.apply_patch(result[change.ref], list(change.ops))  # raises on a failed test
        patched["metadata"]["resourceVersion"] = str(int(patched["metadata"]["resourceVersion"]) + 1)
        if patched["metadata"].get("annotations") == {}:
            del patched["metadata"]["annotations"]  # the API server omits an empty map
        result[change.ref] = patched
    return result


def test_weight_patch_is_minimal_and_guarded() -> None:
    (change,) = gw_router().desired_changes(30, [], {ref(): route()})
    assert change == JsonPatch(
        ref(),
        (
            {"op": "test", "path": "/metadata/resourceVersion", "value": "11"},
            {"op": "add", "path": "/spec/rules/0/backendRefs/0/weight", "value": 70},
            {"op": "add", "path": "/spec/rules/0/backendRefs/1/weight", "value": 30},
        ),
        summary="set HTTPRoute 'shop' canary weight 30",
    )


def test_route_after_weight_change_is_exact() -> None:
    live = apply({ref(): route()}, gw_router().desired_changes(30, [], {ref(): route()}))
    expected = route()
    expected["metadata"]["resourceVersion"] = "12"
    expected["spec"]["rules"][0]["backendRefs"] = [backend("shop-stable", 70), backend("shop-canary", 30)]
    assert live[ref()] == expected


def test_weights_relative_to_max_traffic_weight_and_unset_weights() -> None:
    obj = http_route("shop", [{"backendRefs": [backend("shop-stable"), backend("shop-canary")]}])
    router = gw_router(routing={"maxTrafficWeight": 1000})
    live = apply({ref(): obj}, router.desired_changes(125, [], {ref(): obj}))
    assert live[ref()]["spec"]["rules"][0]["backendRefs"] == [backend("shop-stable", 875), backend("shop-canary", 125)]
    assert router.in_effect(live) == InEffect(weight=125)


@given(first=st.integers(0, 100), second=st.integers(0, 100))
def test_weight_round_trips_and_converges(first: int, second: int) -> None:
    router = gw_router()
    live = apply({ref(): route()}, router.desired_changes(first, [], {ref(): route()}))
    assert router.in_effect(live).weight == first
    live = apply(live, router.desired_changes(second, [], live))
    assert router.in_effect(live) == InEffect(weight=second)
    assert router.desired_changes(second, [], live) == []
    untouched = route()
    for rule_index in (1, 2):
        assert live[ref()]["spec"]["rules"][rule_index] == untouched["spec"]["rules"][rule_index]
    assert live[ref()]["spec"]["rules"][0]["filters"] == MAIN_RULE["filters"]


def test_hand_edit_is_seen_and_corrected() -> None:
    router = gw_router()
    live = apply({ref(): route()}, router.desired_changes(20, [], {ref(): route()}))
    live[ref()]["spec"]["rules"][0]["backendRefs"][1]["weight"] = 55
    assert router.in_effect(live) == InEffect(weight=None)
    (fix,) = router.desired_changes(20, [], live)
    assert isinstance(fix, JsonPatch)
    assert fix.ops[1:] == ({"op": "add", "path": "/spec/rules/0/backendRefs/1/weight", "value": 20},)
    assert router.in_effect(apply(live, [fix])) == InEffect(weight=20)


def test_stale_read_fails_the_resource_version_test() -> None:
    router = gw_router()
    changes = router.desired_changes(20, [], {ref(): route()})
    newer = route()
    newer["metadata"]["resourceVersion"] = "12"
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        apply({ref(): newer}, changes)


HEADER = HeaderRoute(
    "beta-users",
    (HeaderMatch("X-Beta", MatchKind.EXACT, "yes"), HeaderMatch("User-Agent", MatchKind.PREFIX, "Mozilla/5")),
)


def test_header_route_rule_is_exact_and_recorded() -> None:
    router = gw_router(routing={"managedRoutes": [{"name": "beta-users"}]})
    live = apply({ref(): route()}, router.desired_changes(10, [HEADER], {ref(): route()}))
    rules = live[ref()]["spec"]["rules"]
    assert len(rules) == 4
    expected_rule = {
        "matches": [
            {
                "path": {"type": "PathPrefix", "value": "/api"},
                "headers": [
                    {"name": "X-Beta", "type": "Exact", "value": "yes"},
                    {"name": "User-Agent", "type": "RegularExpression", "value": r"^Mozilla/5.*"},
                ],
            }
        ],
        "backendRefs": [{"group": "", "kind": "Service", "name": "shop-canary", "port": 80}],
    }
    assert rules[3] == expected_rule
    assert rules[0]["backendRefs"] == [backend("shop-stable", 90), backend("shop-canary", 10)]
    recorded = json.loads(live[ref()]["metadata"]["annotations"][MANAGED_ROUTES_ANNOTATION])
    assert recorded == {"shop": {"beta-users": rule_signature(expected_rule)}}
    assert router.in_effect(live) == InEffect(weight=10, header_routes=("beta-users",))
    assert router.desired_changes(10, [HEADER], live) == []


def test_header_route_removed_at_the_end_leaves_route_as_before() -> None:
    router = gw_router(routing={"managedRoutes": [{"name": "beta-users"}]})
    live = apply({ref(): route()}, router.desired_changes(10, [HEADER], {ref(): route()}))
    live = apply(live, router.desired_changes(0, [], live))
    expected = route()
    expected["metadata"]["resourceVersion"] = "13"
    assert live[ref()] == expected
    assert router.in_effect(live) == InEffect(weight=0)


def test_header_rule_survives_server_defaults_and_other_rollouts_entries() -> None:
    router = gw_router(routing={"managedRoutes": [{"name": "beta-users"}]})
    start = route()
    start["metadata"]["annotations"] = {MANAGED_ROUTES_ANNOTATION: json.dumps({"other": {"x": "abc"}}), "a": "b"}
    live = apply({ref(): start}, router.desired_changes(10, [HEADER], {ref(): start}))
    live[ref()]["spec"]["rules"][3]["backendRefs"][0]["weight"] = 1  # defaulted by the API server
    assert router.in_effect(live) == InEffect(weight=10, header_routes=("beta-users",))
    assert router.desired_changes(10, [HEADER], live) == []
    live = apply(live, router.desired_changes(10, [], live))
    assert len(live[ref()]["spec"]["rules"]) == 3
    assert live[ref()]["metadata"]["annotations"] == {
        MANAGED_ROUTES_ANNOTATION: json.dumps({"other": {"x": "abc"}}, separators=(",", ":")),
        "a": "b",
    }


def test_changed_header_route_replaces_its_rule() -> None:
    router = gw_router(routing={"managedRoutes": [{"name": "beta-users"}]})
    live = apply({ref(): route()}, router.desired_changes(10, [HEADER], {ref(): route()}))
    changed = HeaderRoute("beta-users", (HeaderMatch("X-Beta", MatchKind.REGEX, "y.*"),))
    live = apply(live, router.desired_changes(10, [changed], live))
    rules = live[ref()]["spec"]["rules"]
    assert len(rules) == 4
    assert rules[3]["matches"][0]["headers"] == [{"name": "X-Beta", "type": "RegularExpression", "value": "y.*"}]


def test_header_routes_only_on_routes_that_use_them() -> None:
    config = {"httpRoutes": [{"name": "shop", "useHeaderRoutes": True}, {"name": "internal"}], "namespace": NS}
    router = gw_router(config, routing={"managedRoutes": [{"name": "beta-users"}]})
    internal = http_route("internal", [copy.deepcopy(MAIN_RULE)])
    live = {ref(): route(), ref("internal"): internal}
    live = apply(live, router.desired_changes(40, [HEADER], live))
    assert len(live[ref()]["spec"]["rules"]) == 4
    assert len(live[ref("internal")]["spec"]["rules"]) == 1
    assert live[ref("internal")]["spec"]["rules"][0]["backendRefs"][1]["weight"] == 40
    assert router.in_effect(live) == InEffect(weight=40, header_routes=("beta-users",))


ROUTES = [
    HEADER,
    HeaderRoute("mobile", (HeaderMatch("X-Client", MatchKind.REGEX, "ios|android"),)),
    HeaderRoute("twin", HEADER.matches),
]


@given(
    st.lists(
        st.tuples(st.integers(0, 100), st.lists(st.sampled_from(ROUTES), unique_by=lambda r: r.name)),
        max_size=6,
    )
)
def test_any_sequence_of_states_converges_and_ends_as_the_original(
    states: list[tuple[int, list[HeaderRoute]]],
) -> None:
    router = gw_router(routing={"managedRoutes": [{"name": r.name} for r in ROUTES]})
    live: dict[ObjectRef, Any] = {ref(): route()}
    for weight, routes in states:
        live = apply(live, router.desired_changes(weight, routes, live))
        assert router.in_effect(live) == InEffect(weight=weight, header_routes=tuple(sorted(r.name for r in routes)))
        assert router.desired_changes(weight, routes, live) == []
        rules = live[ref()]["spec"]["rules"]
        assert rules[:3] == [
            {**route()["spec"]["rules"][0], "backendRefs": rules[0]["backendRefs"]},
            OTHER_RULE,
            STABLE_ONLY,
        ]
        assert len(rules) == 3 + len({rule_signature(router.header_rule(MAIN_RULE, r)) for r in routes})
    live = apply(live, router.desired_changes(100, [], live))
    live = apply(live, router.desired_changes(0, [], live))
    assert live[ref()]["spec"] == route()["spec"]
    assert "annotations" not in live[ref()]["metadata"]


def test_rule_limit_is_a_config_error() -> None:
    full = http_route("shop", [copy.deepcopy(MAIN_RULE)] + [copy.deepcopy(OTHER_RULE) for _ in range(15)])
    with pytest.raises(TrafficConfigError, match="limit of 16 rules"):
        gw_router().desired_changes(10, [HEADER], {ref(): full})


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        ({}, ["HTTPRoute 'prod/shop' not found"]),
        (
            {ref(): http_route("shop", [copy.deepcopy(STABLE_ONLY)])},
            [
                "HTTPRoute 'prod/shop' has no rule with backendRefs to both stableService 'shop-stable' and "
                "canaryService 'shop-canary'"
            ],
        ),
        ({ref(): route()}, []),
    ],
    ids=["missing", "no-split-rule", "valid"],
)
def test_validation_messages(live: dict[ObjectRef, Any], expected: list[str]) -> None:
    assert gw_router().validate(live) == expected


def test_route_in_another_namespace() -> None:
    router = gw_router({"httpRoute": "shop", "namespace": "gateways"})
    assert router.references() == [ObjectRef(RouteKind.HTTPROUTE, "gateways", "shop")]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "needs httpRoute or a non-empty httpRoutes"),
        ({"httpRoute": "a", "httpRoutes": [{"name": "b"}]}, "not both"),
        ({"httpRoutes": [{"useHeaderRoutes": True}]}, r"httpRoutes\[0\] needs a name"),
        ({"grpcRoute": "g"}, "grpcRoute is not supported"),
    ],
    ids=["none", "both", "unnamed", "grpc"],
)
def test_config_errors(config: dict[str, Any], message: str) -> None:
    with pytest.raises(TrafficConfigError, match=message):
        gw_router(config)
