"""The one ownerReference builder and its readers agree with each other and with what the API server stores."""

from __future__ import annotations

from rollouts.api.owners import controller_name, controller_reference, is_controlled_by


def test_controller_reference_is_what_the_garbage_collector_needs() -> None:
    ref = controller_reference(api_version="argoproj.io/v1alpha1", kind="Rollout", name="shop", uid="u1")
    assert ref == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "shop", "uid": "u1",
                   "controller": True, "blockOwnerDeletion": True}


def test_readers_find_the_controller_and_ignore_other_owners() -> None:
    other = {"apiVersion": "v1", "kind": "Rollout", "name": "old", "uid": "u0"}  # an owner, not the controller
    child = {"metadata": {"ownerReferences": [other, controller_reference(
        api_version="argoproj.io/v1alpha1", kind="Rollout", name="shop", uid="u1")]}}
    assert is_controlled_by(child, "u1")
    assert not is_controlled_by(child, "u0")
    assert controller_name(child, "Rollout") == "shop"
    assert controller_name(child, "AnalysisRun") is None
    assert controller_name({"metadata": {}}, "Rollout") is None
