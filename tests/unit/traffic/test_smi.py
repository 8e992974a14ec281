"""SMI router tables: the TrafficSplit the Rollout owns, as Argo Rollouts v1.10.2's
rollout/trafficrouting/smi/smi_test.go expects it (TestReconcileCreateNewTrafficSplit and the patch cases), as data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import ApplyObject, InEffect, ObjectRef, RouteKind, RouterOptions, TrafficConfigError
from rollouts.traffic.smi import SmiRouter
from tests.unit.traffic.builders import NS, UID, owner, rollout


def smi(config: dict[str, Any] | None = None, *, version: str = "v1alpha1",
        steps: list[dict[str, Any]] | None = None) -> SmiRouter:
    found = routers_for(rollout({"smi": config or {}}, stable="stable-service", canary="canary-service", steps=steps),
                        RouterOptions(traffic_split_api_version=version))
    assert len(found) == 1 and isinstance(found[0], SmiRouter)
    return found[0]


def stored(change: ApplyObject) -> dict[str, Any]:
    obj = dict(change.obj)
    return {**obj, "metadata": {**obj["metadata"], "resourceVersion": "9", "uid": "ts-uid"}}


@pytest.mark.parametrize(
    ("version", "config", "name", "root", "canary", "stable"),
    [
        # v1alpha1: no trafficSplitName -> the Rollout's name; no rootService -> stableService; quantity strings
        pytest.param("v1alpha1", {}, "shop", "stable-service", "10", "90", id="v1alpha1-defaults"),
        pytest.param("v1alpha2", {"rootService": "root-service", "trafficSplitName": "traffic-split-name"},
                     "traffic-split-name", "root-service", 10, 90, id="v1alpha2"),
        pytest.param("v1alpha3", {"rootService": "root-service", "trafficSplitName": "traffic-split-name"},
                     "traffic-split-name", "root-service", 10, 90, id="v1alpha3"),
    ],
)
def test_create_new_traffic_split(version: str, config: dict[str, Any], name: str, root: str,
                                  canary: int | str, stable: int | str) -> None:
    router = smi(config, version=version)
    assert router.references() == [ObjectRef(router.kind, NS, name)]
    assert router.in_effect({}) == InEffect(weight=None)
    changes = router.desired_changes(10, [], {})
    assert changes == [ApplyObject(router.kind, {
        "apiVersion": f"split.smi-spec.io/{version}", "kind": "TrafficSplit",
        "metadata": {"name": name, "namespace": NS, "ownerReferences": [owner()]},
        "spec": {"service": root, "backends": [{"service": "canary-service", "weight": canary},
                                               {"service": "stable-service", "weight": stable}]},
    }, summary=f"set TrafficSplit '{name}' canary weight 10")]
    live = {router.ref: stored(changes[0])}  # type: ignore[arg-type]
    assert router.validate(live) == []
    assert router.in_effect(live) == InEffect(weight=10)
    assert router.desired_changes(10, [], live) == []  # TestReconcilePatchExistingTrafficSplitNoChange
    patched = router.desired_changes(40, [], live)  # TestReconcilePatchExistingTrafficSplit
    assert [b["weight"] for b in patched[0].obj["spec"]["backends"]] == (  # type: ignore[union-attr]
        ["40", "60"] if version == "v1alpha1" else [40, 60])


def test_a_traffic_split_the_rollout_does_not_own_is_refused() -> None:
    """TestReconcileRolloutDoesNotOwnTrafficSplitError."""
    router = smi(version="v1alpha2")
    foreign = {"metadata": {"name": "shop", "namespace": NS, "ownerReferences": [
        {**owner(), "uid": "someone-else"}]}, "spec": {"service": "x", "backends": []}}
    assert router.validate({router.ref: foreign}) == ["Rollout does not own TrafficSplit `shop`"]
    unowned = {"metadata": {"name": "shop", "namespace": NS}, "spec": {}}
    assert router.validate({router.ref: unowned}) == ["Rollout does not own TrafficSplit `shop`"]
    with pytest.raises(TrafficConfigError):
        router.desired_changes(0, [], {router.ref: unowned})


def test_unsupported_api_version() -> None:
    """TestUnsupportedTrafficSplitApiVersionError."""
    with pytest.raises(TrafficConfigError, match="Unsupported TrafficSplit API version `does-not-exist`"):
        smi(version="does-not-exist")


def test_a_header_route_step_is_refused() -> None:
    steps = [{"setHeaderRoute": {"name": "h", "match": [{"headerName": "x", "headerValue": {"exact": "y"}}]}}]
    with pytest.raises(TrafficConfigError, match=r"cannot be realised with trafficRouting\.smi"):
        routers_for(rollout({"smi": {}, "managedRoutes": [{"name": "h"}]}, steps=steps))


def test_a_hand_edit_is_seen_and_reapplied() -> None:
    router = smi(version="v1alpha3")
    live = {router.ref: stored(router.desired_changes(30, [], {})[0])}  # type: ignore[arg-type]
    live[router.ref]["spec"]["backends"][1]["weight"] = 50
    assert router.in_effect(live) == InEffect(weight=None)
    assert [c.obj["spec"]["backends"] for c in router.desired_changes(30, [], live)] == [  # type: ignore[union-attr]
        [{"service": "canary-service", "weight": 30}, {"service": "stable-service", "weight": 70}]]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 100), max_size=10), st.sampled_from(["v1alpha1", "v1alpha2", "v1alpha3"]))
def test_any_sequence_of_weights_and_an_abort_converges(weights: list[int], version: str) -> None:
    router = smi(version=version)
    live: dict[ObjectRef, Any] = {}
    for weight in [*weights, 0]:  # ... then abort (or promotion): weight 0
        for change in router.desired_changes(weight, [], live):
            assert isinstance(change, ApplyObject) and change.ref == router.ref
            live[router.ref] = stored(change)
        assert router.in_effect(live) == InEffect(weight=weight)
    assert live[router.ref]["spec"] == router.traffic_split(0)["spec"]
    assert live[router.ref]["metadata"]["ownerReferences"][0]["uid"] == UID
    assert RouteKind(router.kind).kind_name == "TrafficSplit"
