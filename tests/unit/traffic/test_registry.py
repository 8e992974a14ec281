"""Choosing routers from trafficRouting, header routes from steps, and the combined observation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from rollouts.api.rollout import SetHeaderRoute
from rollouts.planning.observed import ObservedTraffic
from rollouts.traffic.gatewayapi import GatewayApiRouter
from rollouts.traffic.header_routes import header_routes
from rollouts.traffic.nginx import NginxRouter
from rollouts.traffic.registry import observe_traffic, routers_for
from rollouts.traffic.router import HeaderMatch, HeaderRoute, MatchKind, ObjectRef, RouteKind, TrafficConfigError
from tests.unit.traffic.builders import NS, ingress, path, rollout

PLUGIN = "argoproj-labs/gatewayAPI"


def test_no_traffic_routing_means_no_routers() -> None:
    assert routers_for(rollout({})) == []


def test_several_routers_at_once() -> None:
    routers = routers_for(
        rollout({"nginx": {"stableIngress": "web"}, "plugins": {PLUGIN: {"httpRoute": "shop"}}, "maxTrafficWeight": 50})
    )
    assert [type(r) for r in routers] == [NginxRouter, GatewayApiRouter]
    assert [r.name for r in routers] == ["nginx", PLUGIN]
    assert all(r.ctx.max_traffic_weight == 50 for r in routers if isinstance(r, NginxRouter | GatewayApiRouter))


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"appMesh": {}}, "trafficRouting.appMesh is not supported"),
        ({"istio": {}}, "trafficRouting.istio: either VirtualService or VirtualServices must be configured"),
        ({"plugins": {"acme/mesh": {}}}, "trafficRouting.plugins.acme/mesh is not supported"),
        ({"nginx": {}, "appMesh": {}}, "appMesh is not supported.*needs stableIngress"),
        ({"maxTrafficWeight": 0, "nginx": {"stableIngress": "w"}}, "maxTrafficWeight must be a positive integer"),
        ({"managedRoutes": []}, "names no traffic provider"),
    ],
    ids=["unsupported", "istio-without-virtual-service", "unknown-plugin", "all-problems-at-once", "bad-max-weight", "no-provider"],
)
def test_config_errors(routing: dict[str, Any], message: str) -> None:
    with pytest.raises(TrafficConfigError, match=message):
        routers_for(rollout(routing))


def test_services_are_required() -> None:
    with pytest.raises(TrafficConfigError, match=r"requires both canary\.stableService and canary\.canaryService"):
        routers_for(rollout({"nginx": {"stableIngress": "w"}}, canary=""))
    with pytest.raises(TrafficConfigError, match="must differ"):
        routers_for(rollout({"nginx": {"stableIngress": "w"}}, canary="shop-stable"))


STEPS: list[dict[str, Any]] = [
    {"setWeight": 10},
    {"setHeaderRoute": {"name": "a", "match": [{"headerName": "X-A", "headerValue": {"exact": "1"}}]}},
    {"setHeaderRoute": {"name": "b", "match": [{"headerName": "X-B", "headerValue": {"prefix": "v"}}]}},
    {"pause": {}},
    {"setHeaderRoute": {"name": "a"}},
    {"setWeight": 50},
]
A = HeaderRoute("a", (HeaderMatch("X-A", MatchKind.EXACT, "1"),))


def test_header_route_must_be_managed() -> None:
    with pytest.raises(TrafficConfigError, match=r"steps\[1\]: setHeaderRoute 'a' is not listed"):
        routers_for(rollout({"nginx": {"stableIngress": "w"}, "managedRoutes": [{"name": "b"}]}, steps=STEPS[:3]))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"match": []}, "needs a non-empty name"),
        ({"name": "x", "match": [{"headerValue": {"exact": "1"}}]}, "needs a non-empty headerName"),
        ({"name": "x", "match": [{"headerName": "H", "headerValue": {"exact": "1", "regex": "2"}}]}, "exactly one"),
        ({"name": "x", "match": [{"headerName": "H", "headerValue": {}}]}, "exactly one of exact, prefix, regex"),
    ],
    ids=["no-name", "no-header-name", "two-kinds", "no-kind"],
)
def test_header_route_parse_errors(body: dict[str, Any], message: str) -> None:
    """A route without a name or a match without headerName no longer parses as a step (the Rollout is
    InvalidSpec when it is parsed once at observe time); the rest is caught when the step becomes a route."""
    try:
        step = SetHeaderRoute.model_validate(body)
    except ValidationError:
        assert "name" in message.lower()
        return
    with pytest.raises(TrafficConfigError, match=message):
        header_routes([step])


def test_plan_shaped_header_routes_parse() -> None:
    raw = [STEPS[1]["setHeaderRoute"], {"name": "gone"}]
    assert header_routes([SetHeaderRoute.model_validate(r) for r in raw]) == [A]


def test_observe_traffic_combines_routers() -> None:
    routers = routers_for(rollout({"nginx": {"stableIngresses": ["web", "api"]}}))
    web = ingress("web", [{"http": {"paths": [path("shop-stable")]}}])
    live = {ObjectRef(RouteKind.INGRESS, NS, "web"): web}
    assert observe_traffic(routers, live) == ObservedTraffic(
        weight=None, header_routes=(), error="stable Ingress 'api' not found in namespace 'prod'"
    )
    live[ObjectRef(RouteKind.INGRESS, NS, "api")] = ingress("api", [{"http": {"paths": [path("shop-stable")]}}])
    assert observe_traffic(routers, live) == ObservedTraffic(weight=0)


def test_every_route_kind_is_an_api_resource_the_controller_knows() -> None:
    """The controller addresses a router's kind by apiVersion and plural; they must be the API server's."""
    from rollouts.controller.traffic import resource_kind
    from rollouts.kube.resources import (
        APISIXROUTE,
        DESTINATIONRULES,
        HTTPROUTE,
        INGRESS,
        MAPPING,
        SERVICE,
        TRAEFIKSERVICE,
        TRAFFICSPLITS,
        VIRTUALSERVICES,
    )

    assert {kind: resource_kind(kind) for kind in RouteKind} == {
        RouteKind.INGRESS: INGRESS, RouteKind.HTTPROUTE: HTTPROUTE, RouteKind.SERVICE: SERVICE,
        **dict(zip((RouteKind.VIRTUALSERVICE, RouteKind.VIRTUALSERVICE_V1BETA1, RouteKind.VIRTUALSERVICE_V1),
                   VIRTUALSERVICES, strict=True)),
        **dict(zip((RouteKind.DESTINATIONRULE, RouteKind.DESTINATIONRULE_V1BETA1, RouteKind.DESTINATIONRULE_V1),
                   DESTINATIONRULES, strict=True)),
        RouteKind.TRAEFIKSERVICE: TRAEFIKSERVICE, RouteKind.APISIXROUTE: APISIXROUTE, RouteKind.MAPPING: MAPPING,
        **dict(zip((RouteKind.TRAFFICSPLIT_V1ALPHA1, RouteKind.TRAFFICSPLIT_V1ALPHA2, RouteKind.TRAFFICSPLIT_V1ALPHA3),
                   TRAFFICSPLITS, strict=True))}
