"""Exact ALB Ingress annotations and paths written by the ALB router.

The worked examples are Argo Rollouts v1.10.2's own (rollout/trafficrouting/alb/alb_test.go: the ``fakeRollout`` /
``ingress`` fixtures, rollout ``rollout``, services ``stable-svc``/``canary-svc``, ``servicePort: 443``), written
here as the exact objects Argo's reconciler produces for them.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.api.rollout import Rollout
from rollouts.api.validation import check_rollout
from rollouts.traffic.alb import MANAGED_ANNOTATIONS, AlbRouter, go_json
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

A = "alb.ingress.kubernetes.io"
ACTION_STABLE = f"{A}/actions.stable-svc"


def action(weight: int, *, canary: str = "canary-svc", stable: str = "stable-svc", port: int = 443,
           sticky: int | None = None) -> str:
    """Argo's ``actionTemplate`` / ``actionTemplateWithStickyConfig`` as Go marshals them (compact, field order)."""
    text = (f'{{"Type":"forward","ForwardConfig":{{"TargetGroups":[{{"ServiceName":"{canary}","ServicePort":"{port}",'
            f'"Weight":{weight}}},{{"ServiceName":"{stable}","ServicePort":"{port}","Weight":{100 - weight}}}]')
    if sticky is not None:
        text += f',"TargetGroupStickinessConfig":{{"Enabled":true,"DurationSeconds":{sticky}}}'
    return text + "}}"


def use_annotation(service: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "backend": {"service": {"name": service, "port": {"name": "use-annotation"}}}}


def alb_ingress(name: str = "ingress", *, service: str = "stable-svc", annotations: dict[str, str] | None = None,
                rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "resourceVersion": "7"}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
            "spec": {"rules": rules if rules is not None else [{"http": {"paths": [use_annotation(service)]}}]}}


def argo_ingress(weight: int, *, name: str = "ingress", service: str = "stable-svc", sticky: bool = False
                 ) -> dict[str, Any]:
    """Argo's ``ingress(name, STABLE_SVC, CANARY_SVC, service, 443, weight, "rollout", sticky)`` fixture."""
    return alb_ingress(name, service=service, annotations={
        f"{A}/actions.{service}": action(weight, sticky=300 if sticky else None),
        MANAGED_ANNOTATIONS: go_json({"rollout": [f"{A}/actions.{service}"]}),
    })


def router(alb: dict[str, Any], **kw: Any) -> AlbRouter:
    routing = {"alb": {"servicePort": 443, **alb}, **kw.pop("routing", {})}
    (found,) = routers_for(rollout(routing, name="rollout", stable="stable-svc", canary="canary-svc", **kw))
    assert isinstance(found, AlbRouter)
    return found


def ref(name: str = "ingress") -> ObjectRef:
    return ObjectRef(RouteKind.INGRESS, NS, name)


def apply(live: dict[ObjectRef, Any], changes: list[Any]) -> dict[ObjectRef, Any]:
    """What the API server stores after the JSON patches (resourceVersion bumped as a write would)."""
    result = dict(live)
    for change in changes:
        assert isinstance(change, JsonPatch)
        patched = jsonpatch.apply_patch(result[change.ref], list(change.ops))
        patched["metadata"]["resourceVersion"] = str(int(patched["metadata"]["resourceVersion"]) + 1)
        result[change.ref] = patched
    return result


def test_initial_weight_writes_action_and_managed_annotation() -> None:
    # TestSetInitialDesiredWeight: the Ingress has no annotations; SetWeight(10) patches it once.
    live = {ref(): alb_ingress(annotations={})}
    (change,) = router({"ingress": "ingress"}).desired_changes(10, [], live)
    after = apply(live, [change])[ref()]
    assert after["metadata"]["annotations"] == {
        ACTION_STABLE: action(10),
        MANAGED_ANNOTATIONS: '{"rollout":["alb.ingress.kubernetes.io/actions.stable-svc"]}',
    }
    assert change.ops[0] == {"op": "test", "path": "/metadata/resourceVersion", "value": "7"}
    assert after["spec"] == live[ref()]["spec"]


def test_no_changes_when_the_action_is_already_in_effect() -> None:
    # TestNoChanges / TestNoChangesMultiIngress: weight 10 already written -> no API call.
    r = router({"ingresses": ["ingress", "multi-ingress"]})
    live = {ref(): argo_ingress(10), ref("multi-ingress"): argo_ingress(10, name="multi-ingress")}
    assert r.desired_changes(10, [], live) == []
    assert r.in_effect(live) == InEffect(weight=10)


@pytest.mark.parametrize(
    ("alb", "weight", "expected"),
    [
        ({"ingress": "ingress"}, 10, action(10)),  # TestUpdateDesiredWeight: 5 -> 10
        ({"ingress": "ingress", "stickinessConfig": {"enabled": True, "durationSeconds": 300}}, 10,
         action(10, sticky=300)),  # TestUpdateDesiredWeightWithStickyConfig
        ({"ingress": "ingress", "stickinessConfig": {"enabled": False, "durationSeconds": 0}}, 0,
         action(0)),  # TestGetForwardActionStringMarshalsDisabledStickyConfigCorrectly: "Weight":0 is written
    ],
    ids=["update-weight", "sticky-300", "sticky-disabled-weight-0"],
)
def test_update_desired_weight(alb: dict[str, Any], weight: int, expected: str) -> None:
    live = {ref(): argo_ingress(5)}
    changes = router(alb).desired_changes(weight, [], live)
    after = apply(live, changes)[ref()]
    assert after["metadata"]["annotations"][ACTION_STABLE] == expected
    assert len(changes) == 1


def test_multi_ingress_patches_each_ingress() -> None:
    # TestUpdateDesiredWeightMultiIngress: both Ingresses at 5 -> two patches to 10.
    r = router({"ingresses": ["ingress", "multi-ingress"]})
    live = {ref(): argo_ingress(5), ref("multi-ingress"): argo_ingress(5, name="multi-ingress")}
    changes = r.desired_changes(10, [], live)
    assert [c.ref.name for c in changes] == ["ingress", "multi-ingress"]
    after = apply(live, changes)
    assert all(after[x]["metadata"]["annotations"][ACTION_STABLE] == action(10) for x in (ref(), ref("multi-ingress")))
    assert r.in_effect(after) == InEffect(weight=10)


def test_root_service_names_the_action() -> None:
    # Argo's e2e canary-dynamic-stable-scale.yaml: the action is keyed by rootService, weights go to stable/canary.
    live = {ref(): alb_ingress(service="root", annotations={"kubernetes.io/ingress.class": "alb"})}
    (change,) = router({"ingress": "ingress", "rootService": "root", "servicePort": 80}).desired_changes(25, [], live)
    after = apply(live, [change])[ref()]["metadata"]["annotations"]
    assert after == {
        "kubernetes.io/ingress.class": "alb",
        f"{A}/actions.root": action(25, port=80),
        MANAGED_ANNOTATIONS: '{"rollout":["alb.ingress.kubernetes.io/actions.root"]}',
    }


def test_annotation_prefix_and_other_rollouts_keys_are_kept() -> None:
    other = {"other": ["custom.io/actions.x"]}
    live = {ref(): alb_ingress(annotations={MANAGED_ANNOTATIONS: go_json(other), "custom.io/actions.x": "{}"})}
    (change,) = router({"ingress": "ingress", "annotationPrefix": "custom.io"}).desired_changes(30, [], live)
    after = apply(live, [change])[ref()]["metadata"]["annotations"]
    assert after == {
        "custom.io/actions.x": "{}",
        "custom.io/actions.stable-svc": action(30),
        MANAGED_ANNOTATIONS: '{"other":["custom.io/actions.x"],"rollout":["custom.io/actions.stable-svc"]}',
    }


@pytest.mark.parametrize(
    ("annotation", "reason"),
    [
        (action(10).replace('"Weight":90', '"Weight":80'), "hand-edited stable weight"),
        (action(10, port=8080), "other port"),
        (action(10, sticky=60), "stickiness added by hand"),
        ("not json", "garbage"),
    ],
    ids=["stable-weight", "port", "stickiness", "garbage"],
)
def test_a_hand_edited_action_is_not_in_effect_and_is_corrected(annotation: str, reason: str) -> None:
    r = router({"ingress": "ingress"})
    ingress = argo_ingress(10)
    ingress["metadata"]["annotations"][ACTION_STABLE] = annotation
    live = {ref(): ingress}
    assert r.in_effect(live).weight is None, reason
    after = apply(live, r.desired_changes(10, [], live))
    assert after[ref()]["metadata"]["annotations"][ACTION_STABLE] == action(10)
    assert r.in_effect(after) == InEffect(weight=10)


@pytest.mark.parametrize(
    ("live", "message"),
    [
        ({}, 'alb.ingress: ingress.networking.k8s.io "ingress" not found'),  # TestIngressNotFound
        ({ref(): alb_ingress(service="other")},
         "alb.ingress: ingress `ingress` has no rules using service stable-svc backend"),  # TestServiceNotFoundInIngress
        ({ref(): alb_ingress(annotations={MANAGED_ANNOTATIONS: "test"})},
         f"annotation {MANAGED_ANNOTATIONS} is not valid JSON"),  # TestErrorOnInvalidManagedBy
    ],
    ids=["ingress-not-found", "service-not-in-rules", "malformed-managed-annotation"],
)
def test_validate(live: dict[ObjectRef, Any], message: str) -> None:
    (problem,) = router({"ingress": "ingress"}).validate(live)
    assert message in problem


@pytest.mark.parametrize(
    ("alb", "message"),
    [
        ({"ingress": "a", "ingresses": ["b"]}, "Either Ingress or Ingresses must be configured. Both are configured."),
        ({}, "Either Ingress or Ingresses must be configured. Neither are configured."),
        ({"ingress": "a", "stickinessConfig": {"enabled": True, "durationSeconds": 0}},
         "TargetGroupStickinessConfig's duration must be between 1 and 604800 seconds (7 days)!"),
        ({"ingress": "a", "stickinessConfig": {"enabled": True, "durationSeconds": 604801}},
         "TargetGroupStickinessConfig's duration must be between 1 and 604800 seconds (7 days)!"),
    ],
    ids=["both", "neither", "sticky-0", "sticky-too-long"],
)
def test_config_errors_in_argos_words(alb: dict[str, Any], message: str) -> None:
    with pytest.raises(TrafficConfigError) as err:
        router(alb)
    assert message in str(err.value)
    spec = rollout({"alb": {"servicePort": 443, **alb}})
    assert any(message in p.message for p in check_rollout(spec.model_dump(by_alias=True, exclude_none=True))[1])


HEADER_ROUTE = HeaderRoute("header-route", (HeaderMatch("Custom-Header", MatchKind.EXACT, "Mozilla*"),))
MANAGED = {"managedRoutes": [{"name": "header-route"}]}


def test_header_route_on_then_off() -> None:
    # Argo's e2e header-routing/alb-header-route.yaml (rootService action1) and TestSetHeaderRoute: the route's
    # forward action (100 to the canary), its http-header condition and a use-annotation path placed first.
    r = router({"ingress": "ingress", "rootService": "action1"}, routing=MANAGED)
    path = {"path": "/*", "pathType": "ImplementationSpecific"}
    live = {ref(): alb_ingress(rules=[{"http": {"paths": [use_annotation("action1", **path)]}}], annotations={})}
    on = apply(live, r.desired_changes(20, [HEADER_ROUTE], live))
    ingress = on[ref()]
    assert ingress["metadata"]["annotations"] == {
        f"{A}/actions.action1": action(20),
        f"{A}/actions.header-route":
            '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc","ServicePort":"443",'
            '"Weight":100}]}}',
        f"{A}/conditions.header-route":
            '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Custom-Header","values":["Mozilla*"]}}]',
        MANAGED_ANNOTATIONS: '{"rollout":["alb.ingress.kubernetes.io/actions.action1",'
                             '"alb.ingress.kubernetes.io/actions.header-route",'
                             '"alb.ingress.kubernetes.io/conditions.header-route"]}',
    }
    assert ingress["spec"]["rules"] == [{"http": {"paths": [use_annotation("header-route", **path),
                                                            use_annotation("action1", **path)]}}]
    assert r.in_effect(on) == InEffect(weight=20, header_routes=("header-route",))
    assert r.desired_changes(20, [HEADER_ROUTE], on) == []
    off = apply(on, r.desired_changes(20, [], on))
    assert off[ref()]["spec"] == live[ref()]["spec"]
    assert set(off[ref()]["metadata"]["annotations"]) == {f"{A}/actions.action1", MANAGED_ANNOTATIONS}
    assert off[ref()]["metadata"]["annotations"][MANAGED_ANNOTATIONS] == (
        '{"rollout":["alb.ingress.kubernetes.io/actions.action1"]}')
    assert r.in_effect(off) == InEffect(weight=20)


def test_exact_matches_of_one_header_merge_into_one_condition() -> None:
    # TestSetHeaderRouteWithDuplicateHeaderNameMatches and ...WithDifferentHeaderNames.
    route = HeaderRoute("r", (HeaderMatch("origin", MatchKind.EXACT, "https://www.fake-origin1.com"),
                              HeaderMatch("Agent", MatchKind.EXACT, "Chrome"),
                              HeaderMatch("origin", MatchKind.EXACT, "https://www.fake-origin2.com")))
    assert AlbRouter.conditions(route) == (
        '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"origin","values":'
        '["https://www.fake-origin1.com","https://www.fake-origin2.com"]}},'
        '{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Agent","values":["Chrome"]}}]')


def test_remove_managed_routes_from_every_rule() -> None:
    # TestRemoveManagedRoutes: the route's path sits in a second rule; it is removed with both annotations.
    r = router({"ingress": "ingress", "rootService": "action1"}, routing=MANAGED)
    annotations = {
        f"{A}/actions.action1": action(10), f"{A}/actions.header-route": "{}", f"{A}/conditions.header-route": "{}",
        MANAGED_ANNOTATIONS: go_json({"rollout": [f"{A}/actions.action1", f"{A}/actions.header-route",
                                                  f"{A}/conditions.header-route"]}),
    }
    rules = [{"http": {"paths": [use_annotation("action1")]}}, {"http": {"paths": [use_annotation("header-route")]}}]
    live = {ref(): alb_ingress(annotations=annotations, rules=rules)}
    assert r.in_effect(live) == InEffect(weight=10, header_routes=("header-route",))  # so the planner removes it
    after = apply(live, r.desired_changes(10, [], live))[ref()]
    assert after["spec"]["rules"] == [{"http": {"paths": [use_annotation("action1")]}}, {"http": {"paths": []}}]
    assert after["metadata"]["annotations"] == {
        f"{A}/actions.action1": action(10),
        MANAGED_ANNOTATIONS: '{"rollout":["alb.ingress.kubernetes.io/actions.action1"]}',
    }


def test_paths_follow_managed_routes_order() -> None:
    r = router({"ingress": "ingress", "rootService": "action1"},
               routing={"managedRoutes": [{"name": "first"}, {"name": "second"}]})
    first = HeaderRoute("first", (HeaderMatch("X", MatchKind.EXACT, "1"),))
    second = HeaderRoute("second", (HeaderMatch("Y", MatchKind.EXACT, "2"),))
    live = {ref(): alb_ingress(service="action1", annotations={})}
    after = apply(live, r.desired_changes(0, [second, first], live))
    names = [p["backend"]["service"]["name"] for p in after[ref()]["spec"]["rules"][0]["http"]["paths"]]
    assert names == ["first", "second", "action1"]


def test_prefix_header_match_is_rejected_in_argos_words() -> None:
    spec = rollout({"alb": {"ingress": "i", "servicePort": 80}, **MANAGED}, steps=[
        {"setHeaderRoute": {"name": "header-route", "match": [{"headerName": "A", "headerValue": {"prefix": "C"}}]}}])
    problems = check_rollout(spec.model_dump(by_alias=True, exclude_none=True))[1]
    assert [str(p) for p in problems if "steps" in p.field] == [
        "spec.strategy.canary.steps[0].setHeaderRoute.match[0]: Invalid value: {\"prefix\":\"C\"}: "
        "SetHeaderRoute match value invalid. ALB supports 'exact' value only"]
    with pytest.raises(TrafficConfigError, match="ALB supports 'exact' value only"):
        AlbRouter.conditions(HeaderRoute("r", (HeaderMatch("A", MatchKind.PREFIX, "C"),)))


def test_go_json_escapes_as_go_does() -> None:
    assert go_json({"v": ["a<b>&c", "é"]}) == '{"v":["a\\u003cb\\u003e\\u0026c","é"]}'


@given(st.lists(st.tuples(st.integers(0, 100), st.booleans()), max_size=6))
def test_any_sequence_converges_to_what_a_direct_reset_gives(requests: list[tuple[int, bool]]) -> None:
    r = router({"ingress": "ingress", "rootService": "action1"}, routing=MANAGED)
    original = {ref(): alb_ingress(service="action1", annotations={"kubernetes.io/ingress.class": "alb"})}
    live = copy.deepcopy(original)
    for weight, with_route in requests:
        routes = [HEADER_ROUTE] if with_route else []
        live = apply(live, r.desired_changes(weight, routes, live))
        assert r.in_effect(live) == InEffect(weight=weight, header_routes=("header-route",) if with_route else ())
        assert r.desired_changes(weight, routes, live) == []
    live = apply(live, r.desired_changes(0, [], live))
    direct = apply(original, r.desired_changes(0, [], original))
    assert live[ref()]["spec"] == original[ref()]["spec"] == direct[ref()]["spec"]
    assert live[ref()]["metadata"]["annotations"] == direct[ref()]["metadata"]["annotations"]


def test_typed_model_round_trips() -> None:
    raw = {"ingress": "i", "servicePort": 80, "rootService": "r", "stickinessConfig": {"enabled": True,
                                                                                      "durationSeconds": 5}}
    parsed = rollout({"alb": raw})
    assert isinstance(parsed, Rollout)
    canary = parsed.spec.strategy.canary
    assert canary is not None and canary.traffic_routing is not None and canary.traffic_routing.alb is not None
    assert canary.traffic_routing.alb.model_dump(by_alias=True, exclude_unset=True) == raw


def ping_pong_router(stable_ping_pong: str | None) -> AlbRouter:
    manifest = rollout({"alb": {"ingress": "ingress", "servicePort": 443, "rootService": "root-service"}},
                       name="rollout", stable="", canary="").model_dump(by_alias=True, exclude_none=True)
    manifest["spec"]["strategy"]["canary"]["pingPong"] = {"pingService": "ping-service", "pongService": "pong-service"}
    if stable_ping_pong is not None:
        manifest["status"] = {"canary": {"stablePingPong": stable_ping_pong}}
    (found,) = routers_for(Rollout.model_validate(manifest))
    assert isinstance(found, AlbRouter)
    return found


@pytest.mark.parametrize(
    ("stable_ping_pong", "stable", "canary"),
    [("pong-service", "pong-service", "ping-service"),  # TestSetWeightPingPong: not "ping" -> pong is stable
     ("ping", "ping-service", "pong-service"), ("pong", "pong-service", "ping-service"),
     (None, "pong-service", "ping-service")],
    ids=["argo-test-value", "ping", "pong", "unset"],
)
def test_ping_pong_weights_go_to_ping_and_pong(stable_ping_pong: str | None, stable: str, canary: str) -> None:
    r = ping_pong_router(stable_ping_pong)
    live = {ref(): alb_ingress(service="root-service", annotations={})}
    after = apply(live, r.desired_changes(10, [], live))
    assert after[ref()]["metadata"]["annotations"][f"{A}/actions.root-service"] == action(10, canary=canary,
                                                                                         stable=stable)
    assert r.in_effect(after) == InEffect(weight=10)


@pytest.mark.parametrize(
    ("routing", "message"),
    [({"nginx": {"stableIngress": "w"}},
      "spec.strategy.canary.trafficRouting.alb: Invalid value: null: "
      "Ping-pong feature works with the ALB, Istio, and plugin-based traffic routers only"),
     ({"alb": {"ingress": "i", "servicePort": 80}},
      'spec.strategy.canary.trafficRouting.alb.rootService: Invalid value: "": '
      "Root service field is required for the configuration with ALB and ping-pong feature enabled")],
    ids=["nginx", "alb-without-root-service"],
)
def test_ping_pong_validation_in_argos_words(routing: dict[str, Any], message: str) -> None:
    manifest = rollout(routing, stable="", canary="").model_dump(by_alias=True, exclude_none=True)
    manifest["spec"]["strategy"]["canary"]["pingPong"] = {"pingService": "ping", "pongService": "pong"}
    assert message in [str(p) for p in check_rollout(manifest)[1]]


def test_target_group_verification_asked_for_is_a_clear_problem_and_nothing_is_written() -> None:
    from rollouts.traffic.alb import VERIFY_UNAVAILABLE
    from rollouts.traffic.registry import observe_traffic
    from rollouts.traffic.router import RouterOptions

    spec = rollout({"alb": {"ingress": "ingress", "servicePort": 443}}, name="rollout", stable="stable-svc",
                   canary="canary-svc")
    live = {ref(): argo_ingress(10)}
    assert observe_traffic(routers_for(spec), live).error is None
    observed = observe_traffic(routers_for(spec, RouterOptions(verify_alb_target_groups=True)), live)
    assert observed.error == f"alb: {VERIFY_UNAVAILABLE}"
