"""The planner's side of a ReplicaSet the API server refused, and Argo's tolerant reading of a template."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from rollouts.planning import CreateReplicaSet, plan_rollout
from rollouts.planning.tolerant import is_quantity, tolerant_template
from tests.unit.planning.world import World, canary_rollout

REFUSED = 'ReplicaSet.apps "x" is invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value'


def test_a_refused_create_becomes_argos_condition_a_warning_and_degraded_then_nothing_repeats() -> None:
    world = World(canary_rollout())
    observed = dataclasses.replace(world.observe(), replica_set_create_error=REFUSED)
    plan = plan_rollout(observed, now=world.now)
    assert not [a for a in plan.actions if isinstance(a, CreateReplicaSet)], "no create in the plan that reports it"
    progressing = next(c for c in plan.status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ReplicaSetCreateError")
    assert progressing["message"].startswith('Failed to create new replica set "') and REFUSED in progressing["message"]
    assert plan.status["phase"] == "Degraded"
    assert plan.status["message"] == f"ReplicaSetCreateError: {progressing['message']}"
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "ReplicaSetCreateError")]
    assert plan.requeue_after is not None and plan.requeue_after <= 30
    # the same refusal again, with the status already written: no second event, the same status
    world.rollout["status"] = dict(plan.status)
    world.now += timedelta(seconds=30)
    again = plan_rollout(dataclasses.replace(world.observe(), replica_set_create_error=REFUSED), now=world.now)
    assert not again.events
    # and once the API server accepts it, the normal plan creates the ReplicaSet
    assert any(isinstance(a, CreateReplicaSet) for a in plan_rollout(world.observe(), now=world.now).actions)


@pytest.mark.parametrize(("value", "ok"), [("100Mi", True), ("0.5", True), ("1e3", True), (2, True), ("250m", True),
                                           (".5Gi", True), ("invalid", False), ("1.2.3", False), ("5 MB", False),
                                           (True, False), ("", False)])
def test_quantities_as_kubernetes_parses_them(value: object, ok: bool) -> None:
    assert is_quantity(value) is ok


def test_decoding_stops_at_the_first_malformed_quantity_in_sorted_key_order() -> None:
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {
        "containers": [{"name": "a", "image": "i", "resources": {"requests": {"cpu": "1m", "memory": "invalid"}}},
                       {"name": "b", "image": "j"}],
        "ephemeralContainers": [{"name": "a", "resources": {"requests": {"memory": "invalid"}}}],
        "volumes": [{"name": "v", "emptyDir": {}}]}}
    decoded, bad = tolerant_template(template)
    assert bad == "spec.containers[0].resources.requests.memory"
    assert decoded == {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [
        {"image": "i", "name": "a", "resources": {"requests": {"cpu": "1m"}}}]}}
    valid = {"spec": {"containers": [{"name": "a", "resources": {"limits": {"memory": "1Gi"}}}]}}
    assert tolerant_template(valid) == (valid, None)
