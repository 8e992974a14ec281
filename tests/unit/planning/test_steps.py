"""Reading canary steps: weight in force, canary scale, header routes, and Argo's step names."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.rollout import CanaryStep
from rollouts.planning.spec_facts import jsonable
from rollouts.planning.steps import (
    canary_scale_in_force,
    current_step,
    header_routes_in_force,
    mirror_routes_in_force,
    set_weight_in_force,
    step_text,
)


def steps(*raw: dict[str, Any]) -> list[CanaryStep]:
    return [CanaryStep.model_validate(s) for s in raw]


STEPS = steps(
    {"setWeight": 20},
    {"pause": {}},
    {"setCanaryScale": {"replicas": 2}},
    {"setWeight": 60},
    {"pause": {"duration": "1h30m"}},
)


@pytest.mark.parametrize(
    ("index", "weight"),
    [
        pytest.param(None, 20, id="no-index-means-first-step"),
        pytest.param(0, 20, id="at-setWeight"),
        pytest.param(1, 20, id="pause-keeps-previous-weight"),
        pytest.param(2, 20, id="setCanaryScale-keeps-weight"),
        pytest.param(3, 60, id="next-setWeight"),
        pytest.param(5, 100, id="all-steps-done"),
    ],
)
def test_set_weight_in_force(index: int | None, weight: int) -> None:
    assert set_weight_in_force(STEPS, index, max_weight=100) == weight


def test_weight_before_any_set_weight_is_zero() -> None:
    assert set_weight_in_force(steps({"pause": {}}, {"setWeight": 50}), 0, max_weight=100) == 0


def test_canary_scale_in_force_until_match_traffic_weight() -> None:
    raw = steps(
        {"setCanaryScale": {"replicas": 3}}, {"setWeight": 10}, {"setCanaryScale": {"matchTrafficWeight": True}}
    )
    assert canary_scale_in_force(raw, 1) is not None
    assert canary_scale_in_force(raw, 1).replicas == 3  # type: ignore[union-attr]
    assert canary_scale_in_force(raw, 2) is None
    assert canary_scale_in_force(raw, 3) is None


def test_header_routes_accumulate_and_a_route_without_match_removes_it() -> None:
    match = [{"headerName": "x-beta", "headerValue": {"exact": "1"}}]
    raw = steps(
        {"setHeaderRoute": {"name": "a", "match": match}},
        {"setHeaderRoute": {"name": "b", "match": match}},
        {"setHeaderRoute": {"name": "a"}},
        {"pause": {}},
    )
    assert [r.name for r in header_routes_in_force(raw, 1)] == ["a", "b"]
    assert [r.name for r in header_routes_in_force(raw, 3)] == ["b"]
    assert header_routes_in_force(raw, 4) == ()
    assert jsonable(header_routes_in_force(raw, 0)[0]) == {"name": "a", "match": match}


def test_mirror_routes_in_force_are_set_at_their_step_and_removed_by_a_step_without_match() -> None:
    """As Argo's MirrorRoute e2e: set at its step, kept through later steps, removed by a step without match."""
    match = [{"method": {"exact": "GET"}, "path": {"prefix": "/"}}]
    raw = steps(
        {"setWeight": 20},
        {"setMirrorRoute": {"name": "m1", "percentage": 35, "match": match}},
        {"setHeaderRoute": {"name": "h", "match": [{"headerName": "x", "headerValue": {"exact": "y"}}]}},
        {"setMirrorRoute": {"name": "m2", "match": match}},
        {"setMirrorRoute": {"name": "m1"}},
        {"pause": {}},
    )
    assert mirror_routes_in_force(raw, 0) == ()
    assert [(r.name, r.percentage) for r in mirror_routes_in_force(raw, 2)] == [("m1", 35)]
    assert [r.name for r in mirror_routes_in_force(raw, 3)] == ["m1", "m2"]
    assert [r.name for r in mirror_routes_in_force(raw, 5)] == ["m2"]
    assert mirror_routes_in_force(raw, 6) == ()
    assert [r.name for r in header_routes_in_force(raw, 5)] == ["h"]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        pytest.param({"setWeight": 20}, "setWeight: 20", id="setWeight"),
        pytest.param({"pause": {}}, "pause", id="pause"),
        pytest.param({"pause": {"duration": "1h30m"}}, "pause: 1h30m0s", id="pause-duration"),
        pytest.param({"pause": {"duration": 30}}, "pause: 30s", id="pause-int-seconds"),
        pytest.param({"setCanaryScale": {"weight": 10}}, "setCanaryScale{weight: 10}", id="scale-weight"),
        pytest.param({"setCanaryScale": {"replicas": 2}}, "setCanaryScale{replicas: 2}", id="scale-replicas"),
        pytest.param({"analysis": {"templates": [{"templateName": "x"}]}}, "analysis", id="analysis"),
        pytest.param({"setHeaderRoute": {"name": "h"}}, "setHeaderRoute: h", id="header-route"),
        # utils/rollout/rolloututil.go StepLabel (Argo v1.10.2)
        pytest.param({"setMirrorRoute": {"name": "m"}}, "setMirrorRoute: m", id="mirror-route"),
    ],
)
def test_step_text_matches_argo(raw: dict[str, Any], text: str) -> None:
    assert step_text(CanaryStep.model_validate(raw)) == text


def test_current_step() -> None:
    assert current_step(STEPS, 1) is STEPS[1]
    assert current_step(STEPS, 5) is None
    assert current_step([], None) is None
