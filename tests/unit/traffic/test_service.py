"""Service selector merge patches: pin to a revision, no-op when pinned, refuse another Rollout's Service."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.traffic.router import MergePatch, ObjectRef, RouteKind, TrafficConfigError
from rollouts.traffic.service import pin_service_selector, release_service_selector, selector_hash_in_effect
from tests.unit.traffic.builders import NS

MANAGED = "argo-rollouts.argoproj.io/managed-by-rollouts"
HASH_LABEL = "rollouts-pod-template-hash"


def service(selector: dict[str, str], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "shop-stable", "namespace": NS}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"selector": selector}}


REF = ObjectRef(RouteKind.SERVICE, NS, "shop-stable")


def test_pin_builds_a_merge_patch_that_keeps_the_users_selector() -> None:
    patch = pin_service_selector(service({"app": "shop"}), rollout="shop", pod_template_hash="6d8f9b7c4d")
    assert patch == MergePatch(
        REF,
        {"metadata": {"annotations": {MANAGED: "shop"}}, "spec": {"selector": {HASH_LABEL: "6d8f9b7c4d"}}},
        summary="point Service 'shop-stable' at pods of revision 6d8f9b7c4d",
    )


@pytest.mark.parametrize(
    ("selector", "annotations", "expect_patch"),
    [
        ({"app": "shop", HASH_LABEL: "abc"}, {MANAGED: "shop"}, False),
        ({"app": "shop", HASH_LABEL: "old"}, {MANAGED: "shop"}, True),
        ({"app": "shop", HASH_LABEL: "abc"}, None, True),
    ],
    ids=["already-pinned", "other-revision", "unclaimed"],
)
def test_pin_is_none_only_when_in_effect(
    selector: dict[str, str], annotations: dict[str, str] | None, expect_patch: bool
) -> None:
    patch = pin_service_selector(service(selector, annotations), rollout="shop", pod_template_hash="abc")
    assert (patch is not None) is expect_patch


def test_pin_refuses_another_rollouts_service() -> None:
    with pytest.raises(TrafficConfigError, match="Service 'shop-stable' is managed by Rollout 'other', not 'shop'"):
        pin_service_selector(service({}, {MANAGED: "other"}), rollout="shop", pod_template_hash="abc")


def test_selector_hash_in_effect() -> None:
    assert selector_hash_in_effect(service({"app": "shop", HASH_LABEL: "abc"}, {MANAGED: "shop"})) == "abc"
    assert selector_hash_in_effect(service({"app": "shop"})) is None


@pytest.mark.parametrize(("selector", "annotations", "released"), [
    pytest.param({"app": "shop", HASH_LABEL: "6d8f9b7c4d"}, {MANAGED: "shop"}, True, id="ours"),
    pytest.param({"app": "shop", HASH_LABEL: "6d8f9b7c4d"}, {MANAGED: "other"}, False, id="another-rollouts"),
    pytest.param({"app": "shop"}, {MANAGED: "shop"}, True, id="annotation-only"),
    pytest.param({"app": "shop"}, None, False, id="nothing-to-release"),
])
def test_release_takes_only_our_key_off(selector: dict[str, str], annotations: dict[str, str] | None,
                                        released: bool) -> None:
    """Argo's service controller (service/service.go removeSelectorAndManagedByPatch): blueGreen -> canary."""
    change = release_service_selector(service(selector, annotations), rollout="shop")
    if not released:
        assert change is None
        return
    assert isinstance(change, MergePatch)
    assert change.body == {"metadata": {"annotations": {MANAGED: None}}, "spec": {"selector": {HASH_LABEL: None}}}
