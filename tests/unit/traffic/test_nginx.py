"""Exact canary Ingresses built by the NGINX router from a stable Ingress and a weight."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.traffic.nginx import HEADER_ROUTE_ANNOTATION, NginxRouter, canary_ingress_name
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import (
    ApplyObject,
    HeaderMatch,
    HeaderRoute,
    InEffect,
    MatchKind,
    ObjectRef,
    RouteKind,
    TrafficConfigError,
)
from tests.unit.traffic.builders import NS, UID, ingress, owner, path, rollout

P = "nginx.ingress.kubernetes.io"


def nginx_router(config: dict[str, Any], **kw: Any) -> NginxRouter:
    (router,) = routers_for(rollout({"nginx": config, **kw.pop("routing", {})}, **kw))
    assert isinstance(router, NginxRouter)
    return router


def ref(name: str) -> ObjectRef:
    return ObjectRef(RouteKind.INGRESS, NS, name)


def canary_ingress(annotations: dict[str, str], spec: dict[str, Any], name: str = "shop-web-canary") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations, "ownerReferences": [owner()]},
        "spec": spec,
    }


WEB = ingress("web", [{"host": "shop.example.com", "http": {"paths": [path("shop-stable")]}}])

CASES: list[tuple[str, dict[str, Any], dict[str, Any], int, dict[str, Any]]] = [
    (
        "single-host",
        {"stableIngress": "web"},
        WEB,
        10,
        canary_ingress(
            {f"{P}/canary": "true", f"{P}/canary-weight": "10"},
            {"rules": [{"host": "shop.example.com", "http": {"paths": [path("shop-canary")]}}]},
        ),
    ),
    (
        "tls-and-class-name",
        {"stableIngress": "web"},
        ingress(
            "web",
            [{"host": "a.example.com", "http": {"paths": [path("shop-stable")]}}],
            ingressClassName="nginx",
            tls=[{"hosts": ["a.example.com"], "secretName": "a-tls"}],
            annotations={f"{P}/rewrite-target": "/", "team": "payments"},
        ),
        50,
        canary_ingress(
            {f"{P}/canary": "true", f"{P}/canary-weight": "50"},
            {
                "ingressClassName": "nginx",
                "rules": [{"host": "a.example.com", "http": {"paths": [path("shop-canary")]}}],
                "tls": [{"hosts": ["a.example.com"], "secretName": "a-tls"}],
            },
        ),
    ),
    (
        "class-annotation-copied",
        {"stableIngress": "web"},
        ingress(
            "web",
            [{"http": {"paths": [path("shop-stable")]}}],
            annotations={"kubernetes.io/ingress.class": "nginx-internal", f"{P}/ssl-redirect": "false"},
        ),
        0,
        canary_ingress(
            {"kubernetes.io/ingress.class": "nginx-internal", f"{P}/canary": "true", f"{P}/canary-weight": "0"},
            {"rules": [{"http": {"paths": [path("shop-canary")]}}]},
        ),
    ),
    (
        "multiple-hosts-other-services-excluded",
        {"stableIngress": "web"},
        ingress(
            "web",
            [
                {"host": "a.example.com", "http": {"paths": [path("shop-stable"), path("search", "/search")]}},
                {"host": "b.example.com", "http": {"paths": [path("shop-stable", "/shop", 8080)]}},
                {"host": "c.example.com", "http": {"paths": [path("blog")]}},
                {"host": "d.example.com"},
            ],
        ),
        100,
        canary_ingress(
            {f"{P}/canary": "true", f"{P}/canary-weight": "100"},
            {
                "rules": [
                    {"host": "a.example.com", "http": {"paths": [path("shop-canary")]}},
                    {"host": "b.example.com", "http": {"paths": [path("shop-canary", "/shop", 8080)]}},
                ]
            },
        ),
    ),
    (
        "additional-and-canary-annotations-custom-prefix",
        {
            "stableIngress": "web",
            "annotationPrefix": "custom.nginx.org",
            "additionalIngressAnnotations": {"canary-by-header": "X-Canary", "custom.nginx.org/load-balance": "ewma"},
            "canaryIngressAnnotations": {"example.com/team": "payments", "custom.nginx.org/canary-weight": "99"},
        },
        WEB,
        25,
        canary_ingress(
            {
                "custom.nginx.org/canary-by-header": "X-Canary",
                "custom.nginx.org/load-balance": "ewma",
                "example.com/team": "payments",
                "custom.nginx.org/canary": "true",
                "custom.nginx.org/canary-weight": "25",
            },
            {"rules": [{"host": "shop.example.com", "http": {"paths": [path("shop-canary")]}}]},
        ),
    ),
]


@pytest.mark.parametrize(("config", "stable", "weight", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_canary_ingress_is_exact(
    config: dict[str, Any], stable: dict[str, Any], weight: int, expected: dict[str, Any]
) -> None:
    router = nginx_router(config)
    changes = router.desired_changes(weight, [], {ref("web"): stable})
    assert changes == [ApplyObject(RouteKind.INGRESS, expected, summary=changes[0].summary)]
    assert changes[0].ref == ref("shop-web-canary")


def test_max_traffic_weight_sets_weight_total() -> None:
    router = nginx_router({"stableIngress": "web"}, routing={"maxTrafficWeight": 1000})
    (change,) = router.desired_changes(250, [], {ref("web"): WEB})
    assert isinstance(change, ApplyObject)
    annotations = change.obj["metadata"]["annotations"]
    assert annotations[f"{P}/canary-weight"] == "250"
    assert annotations[f"{P}/canary-weight-total"] == "1000"
    with pytest.raises(ValueError, match=r"outside 0\.\.1000"):
        router.desired_changes(1001, [], {ref("web"): WEB})


def test_weight_total_absent_without_max_traffic_weight() -> None:
    (change,) = nginx_router({"stableIngress": "web"}).desired_changes(5, [], {ref("web"): WEB})
    assert isinstance(change, ApplyObject)
    assert f"{P}/canary-weight-total" not in change.obj["metadata"]["annotations"]


@pytest.mark.parametrize(
    ("rollout_name", "stable", "expected"),
    [
        ("shop", "web", "shop-web-canary"),
        ("r" * 200, "i" * 100, "r" * 200 + "-" + "i" * 45 + "-canary"),
        ("r" * 246, "web", "r" * 246 + "-canary"),
        ("r" * 253, "web", "r" * 246 + "-canary"),
    ],
    ids=["short", "cut-in-ingress-name", "rollout-fills-prefix", "rollout-alone-too-long"],
)
def test_canary_name_truncated_to_253(rollout_name: str, stable: str, expected: str) -> None:
    assert canary_ingress_name(rollout_name, stable) == expected
    assert len(expected) <= 253


def test_long_names_reach_the_built_object() -> None:
    long_name = "x" * 250
    router = nginx_router({"stableIngress": "web"}, name=long_name)
    (change,) = router.desired_changes(10, [], {ref("web"): WEB})
    assert isinstance(change, ApplyObject)
    assert change.obj["metadata"]["name"] == "x" * 246 + "-canary"
    assert router.references() == [ref("web"), ref("x" * 246 + "-canary")]


def test_several_stable_ingresses_one_canary_each() -> None:
    api = ingress("api", [{"host": "api.example.com", "http": {"paths": [path("shop-stable", "/v1")]}}])
    router = nginx_router({"stableIngresses": ["web", "api"]})
    assert router.references() == [ref("web"), ref("shop-web-canary"), ref("api"), ref("shop-api-canary")]
    changes = router.desired_changes(30, [], {ref("web"): WEB, ref("api"): api})
    assert [c.ref.name for c in changes if isinstance(c, ApplyObject)] == ["shop-web-canary", "shop-api-canary"]


def live_after(router: NginxRouter, weight: int, routes: list[HeaderRoute] | None = None) -> dict[ObjectRef, Any]:
    live: dict[ObjectRef, Any] = {ref("web"): WEB}
    for change in router.desired_changes(weight, routes or [], live):
        assert isinstance(change, ApplyObject)
        live[change.ref] = {**change.obj, "metadata": {**change.obj["metadata"], "resourceVersion": "9"}}
    return live


@given(weight=st.integers(min_value=0, max_value=100))
def test_weight_round_trips_and_converges(weight: int) -> None:
    router = nginx_router({"stableIngress": "web"})
    live = live_after(router, weight)
    assert router.in_effect(live) == InEffect(weight=weight)
    assert router.desired_changes(weight, [], live) == []


def test_in_effect_without_canary_ingress_is_zero_and_unknown_without_stable() -> None:
    router = nginx_router({"stableIngress": "web"})
    assert router.in_effect({ref("web"): WEB}) == InEffect(weight=0)
    assert router.in_effect({}) == InEffect(weight=None)


def test_hand_edited_weight_is_corrected() -> None:
    router = nginx_router({"stableIngress": "web"})
    live = live_after(router, 20)
    edited = live[ref("shop-web-canary")]
    edited["metadata"]["annotations"][f"{P}/canary-weight"] = "90"
    assert router.in_effect(live) == InEffect(weight=90)
    (change,) = router.desired_changes(20, [], live)
    assert isinstance(change, ApplyObject)
    assert change.obj["metadata"]["annotations"][f"{P}/canary-weight"] == "20"


def test_disagreeing_canary_ingresses_report_unknown_weight() -> None:
    api = ingress("api", [{"http": {"paths": [path("shop-stable")]}}])
    router = nginx_router({"stableIngresses": ["web", "api"]})
    live: dict[ObjectRef, Any] = {ref("web"): WEB, ref("api"): api}
    for change in router.desired_changes(40, [], live):
        assert isinstance(change, ApplyObject)
        live[change.ref] = change.obj
    assert router.in_effect(live) == InEffect(weight=40)
    live[ref("shop-api-canary")]["metadata"]["annotations"][f"{P}/canary-weight"] = "0"
    assert router.in_effect(live) == InEffect(weight=None)


def test_stable_ingress_change_is_followed() -> None:
    router = nginx_router({"stableIngress": "web"})
    live = live_after(router, 10)
    live[ref("web")] = ingress("web", [{"host": "new.example.com", "http": {"paths": [path("shop-stable")]}}])
    (change,) = router.desired_changes(10, [], live)
    assert isinstance(change, ApplyObject)
    assert change.obj["spec"]["rules"] == [{"host": "new.example.com", "http": {"paths": [path("shop-canary")]}}]


HEADER = HeaderRoute("canary-users", (HeaderMatch("X-Canary", MatchKind.EXACT, "yes"),))


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        (HeaderMatch("X-Canary", MatchKind.EXACT, "yes"), {f"{P}/canary-by-header-value": "yes"}),
        (HeaderMatch("X-Canary", MatchKind.PREFIX, "v2.1"), {f"{P}/canary-by-header-pattern": r"^v2\.1.*"}),
        (HeaderMatch("X-Canary", MatchKind.REGEX, "(alpha|beta)"), {f"{P}/canary-by-header-pattern": "(alpha|beta)"}),
    ],
    ids=["exact", "prefix", "regex"],
)
def test_header_route_on_and_off(match: HeaderMatch, expected: dict[str, str]) -> None:
    router = nginx_router(
        {"stableIngress": "web", "additionalIngressAnnotations": {"canary-by-header": "X-Old", "load-balance": "ewma"}}
    )
    live = live_after(router, 10, [HeaderRoute("canary-users", (match,))])
    annotations = live[ref("shop-web-canary")]["metadata"]["annotations"]
    assert annotations == {
        f"{P}/load-balance": "ewma",
        f"{P}/canary-by-header": "X-Canary",
        HEADER_ROUTE_ANNOTATION: "canary-users",
        **expected,
        f"{P}/canary": "true",
        f"{P}/canary-weight": "10",
    }
    assert router.in_effect(live) == InEffect(weight=10, header_routes=("canary-users",))
    (off,) = router.desired_changes(10, [], live)
    assert isinstance(off, ApplyObject)
    assert off.obj["metadata"]["annotations"] == {
        f"{P}/canary-by-header": "X-Old",
        f"{P}/load-balance": "ewma",
        f"{P}/canary": "true",
        f"{P}/canary-weight": "10",
    }


def test_header_route_limits_are_config_errors() -> None:
    router = nginx_router({"stableIngress": "web"})
    two = HeaderRoute("two", (HEADER.matches[0], HeaderMatch("X-B", MatchKind.EXACT, "1")))
    with pytest.raises(TrafficConfigError, match="one header match per route"):
        router.desired_changes(10, [two], {ref("web"): WEB})
    with pytest.raises(TrafficConfigError, match="one header route at a time; 2 are in effect"):
        router.desired_changes(10, [HEADER, HeaderRoute("b", HEADER.matches)], {ref("web"): WEB})


def test_steps_with_unsupported_header_routes_are_rejected_up_front() -> None:
    step = {
        "setHeaderRoute": {
            "name": "h",
            "match": [
                {"headerName": "A", "headerValue": {"exact": "1"}},
                {"headerName": "B", "headerValue": {"exact": "2"}},
            ],
        }
    }
    with pytest.raises(TrafficConfigError, match=r"steps\[0\]: setHeaderRoute 'h' has 2 matches"):
        nginx_router({"stableIngress": "web"}, routing={"managedRoutes": [{"name": "h"}]}, steps=[step])


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        ({}, ["stable Ingress 'web' not found in namespace 'prod'"]),
        (
            {ref("web"): ingress("web", [{"http": {"paths": [path("blog")]}}])},
            ["stable Ingress 'web' has no rules using service 'shop-stable' backend"],
        ),
        (
            {
                ref("web"): WEB,
                ref("shop-web-canary"): ingress("shop-web-canary", [{"http": {"paths": [path("x")]}}]),
            },
            ["canary Ingress 'shop-web-canary' already exists and is not controlled by Rollout 'shop'"],
        ),
        ({ref("web"): WEB}, []),
    ],
    ids=["missing", "no-stable-rule", "canary-name-taken", "valid"],
)
def test_validation_messages(live: dict[ObjectRef, Any], expected: list[str]) -> None:
    assert nginx_router({"stableIngress": "web"}).validate(live) == expected


def test_owner_reference_is_the_rollout() -> None:
    (change,) = nginx_router({"stableIngress": "web"}).desired_changes(1, [], {ref("web"): WEB})
    assert isinstance(change, ApplyObject)
    assert change.obj["metadata"]["ownerReferences"] == [owner()]
    assert change.obj["metadata"]["ownerReferences"][0]["uid"] == UID


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "needs stableIngress or a non-empty stableIngresses"),
        ({"stableIngress": "a", "stableIngresses": ["b"]}, "not both"),
        ({"stableIngresses": ["a", "a"]}, "duplicates"),
    ],
    ids=["none", "both", "duplicates"],
)
def test_config_errors(config: dict[str, Any], message: str) -> None:
    with pytest.raises(TrafficConfigError, match=message):
        nginx_router(config)
