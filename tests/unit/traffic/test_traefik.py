"""Exact TraefikService patches of the Traefik router; the worked example is Argo Rollouts v1.10.2's
(rollout/trafficrouting/traefik/traefik_test.go: ``mocks-service`` with ``stable-rollout``/``canary-rollout``)."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import InEffect, JsonPatch, ObjectRef, RouteKind, TrafficConfigError
from rollouts.traffic.traefik import TraefikRouter
from tests.unit.traffic.builders import NS, rollout

REF = ObjectRef(RouteKind.TRAEFIKSERVICE, NS, "mocks-service")


def traefik_service(stable: int = 100, canary: int = 0, **extra: Any) -> dict[str, Any]:
    """Argo's ``traefikService`` test manifest (weighted stable-rollout 100 / canary-rollout 0, port 80)."""
    return {"apiVersion": "traefik.io/v1alpha1", "kind": "TraefikService",
            "metadata": {"name": "mocks-service", "namespace": NS, "resourceVersion": "3",
                         "labels": {"service": "argo-mocks"}},
            "spec": {"weighted": {"services": [{"name": "stable-rollout", "weight": stable, "port": 80},
                                               {"name": "canary-rollout", "weight": canary, "port": 80}], **extra}}}


def router(**kw: Any) -> TraefikRouter:
    (found,) = routers_for(rollout({"traefik": {"weightedTraefikServiceName": "mocks-service"}},
                                   stable="stable-rollout", canary="canary-rollout", **kw))
    assert isinstance(found, TraefikRouter)
    return found


def apply(live: dict[ObjectRef, Any], changes: list[Any]) -> dict[ObjectRef, Any]:
    result = dict(live)
    for change in changes:
        assert isinstance(change, JsonPatch)
        result[change.ref] = jsonpatch.apply_patch(result[change.ref], list(change.ops))
    return result


def test_set_weight_30_patches_both_weights_only() -> None:
    live = {REF: traefik_service()}
    (change,) = router().desired_changes(30, [], live)
    assert change.ops == (
        {"op": "test", "path": "/metadata/resourceVersion", "value": "3"},
        {"op": "add", "path": "/spec/weighted/services/1/weight", "value": 30},
        {"op": "add", "path": "/spec/weighted/services/0/weight", "value": 70},
    )
    after = apply(live, [change])
    assert after[REF] == traefik_service(stable=70, canary=30)
    assert router().in_effect(after) == InEffect(weight=30)
    assert router().desired_changes(30, [], after) == []


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (None, 'traefikservices.traefik.io "mocks-service" not found'),
        ({**traefik_service(), "spec": {}}, "spec.weighted.services was not found in traefik service manifest"),
        ({**traefik_service(), "spec": {"weighted": {"services": [{"name": "stable-rollout", "weight": 100}]}}},
         "traefik canary service was not found"),
        ({**traefik_service(), "spec": {"weighted": {"services": [{"name": "canary-rollout", "weight": 0}]}}},
         "traefik stable service was not found"),
    ],
    ids=["missing", "no-weighted-services", "no-canary", "no-stable"],
)
def test_problems_in_argos_words(obj: dict[str, Any] | None, message: str) -> None:
    live = {} if obj is None else {REF: obj}
    (problem,) = router().validate(live)
    assert problem.startswith(message)
    assert router().in_effect(live) == InEffect(weight=None)


def test_a_hand_edited_weight_is_not_in_effect() -> None:
    assert router().in_effect({REF: traefik_service(stable=50, canary=30)}) == InEffect(weight=None)


def test_config_errors() -> None:
    with pytest.raises(TrafficConfigError, match="weightedTraefikServiceName is required"):
        routers_for(rollout({"traefik": {}}))
    with pytest.raises(TrafficConfigError, match="setHeaderRoute is not supported by the Traefik router"):
        routers_for(rollout({"traefik": {"weightedTraefikServiceName": "x"}, "managedRoutes": [{"name": "h"}]},
                            steps=[{"setHeaderRoute": {"name": "h"}}]))


@given(st.lists(st.integers(0, 100), max_size=6))
def test_any_sequence_of_weights_converges_back(weights: list[int]) -> None:
    original = {REF: traefik_service()}
    live = copy.deepcopy(original)
    for weight in [*weights, 0]:
        live = apply(live, router().desired_changes(weight, [], live))
        assert router().in_effect(live) == InEffect(weight=weight)
    assert live == original
