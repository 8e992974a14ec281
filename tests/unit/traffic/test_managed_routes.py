"""setHeaderRoute / setMirrorRoute steps as router data, and the registry refusing a mirror no router can make."""

from __future__ import annotations

import pytest

from rollouts.api.rollout import CanaryStep, SetMirrorRoute
from rollouts.traffic.header_routes import mirror_route, mirror_route_problems
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import MatchKind, MirrorMatch, MirrorRoute, TrafficConfigError, ValueMatch
from tests.unit.traffic.builders import rollout


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param({"name": "m"}, None, id="no-match-removes"),
        pytest.param(
            {"name": "m", "match": [{"method": {"exact": "GET"}}]},
            MirrorRoute("m", (MirrorMatch(method=ValueMatch(MatchKind.EXACT, "GET")),), 100),
            id="percentage-defaults-to-100",
        ),
        pytest.param(
            {"name": "m", "percentage": 40, "match": [
                {"path": {"prefix": "/api"}, "headers": {"b": {"regex": "x.*"}, "a": {"exact": "1"}}}]},
            MirrorRoute("m", (MirrorMatch(path=ValueMatch(MatchKind.PREFIX, "/api"), headers=(
                ("a", ValueMatch(MatchKind.EXACT, "1")), ("b", ValueMatch(MatchKind.REGEX, "x.*")))),), 40),
            id="path-and-headers-sorted-by-name",
        ),
    ],
)
def test_mirror_route(raw: dict[str, object], expected: MirrorRoute | None) -> None:
    assert mirror_route(SetMirrorRoute.model_validate(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param({"name": "m", "match": [{"method": {"exact": "GET", "prefix": "G"}}]},
                     "setMirrorRoute 'm': method must set exactly one of exact, prefix, regex", id="two-kinds"),
        pytest.param({"name": "m", "percentage": 101, "match": [{"method": {"exact": "GET"}}]},
                     "setMirrorRoute 'm': percentage must be between 0 and 100", id="percentage"),
    ],
)
def test_malformed_mirror_routes_are_refused(raw: dict[str, object], message: str) -> None:
    with pytest.raises(TrafficConfigError, match=message):
        mirror_route(SetMirrorRoute.model_validate(raw))


def test_mirror_route_problems_name_the_step() -> None:
    steps = [CanaryStep.model_validate(s) for s in (
        {"setWeight": 10}, {"setMirrorRoute": {"name": "other", "match": [{"method": {"exact": "GET"}}]}})]
    assert mirror_route_problems(steps, ["m"]) == [
        "steps[1]: setMirrorRoute 'other' is not listed in spec.strategy.canary.trafficRouting.managedRoutes"]


def test_a_mirror_route_needs_a_router_that_mirrors() -> None:
    steps = [{"setMirrorRoute": {"name": "m", "match": [{"method": {"exact": "GET"}}]}}]
    with pytest.raises(TrafficConfigError) as err:
        routers_for(rollout({"nginx": {"stableIngress": "web"}, "managedRoutes": [{"name": "m"}]}, steps=steps))
    assert str(err.value) == (
        "steps[0]: setMirrorRoute 'm' needs trafficRouting.istio (no other configured router mirrors traffic)")
