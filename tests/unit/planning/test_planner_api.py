"""The planner's public surface: observed-state parsing, workloadRef, unparseable objects, the spec memo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.api.validation import SpecProblem
from rollouts.planning import (
    CreateReplicaSet,
    ObservedAnalysisRun,
    ObservedPod,
    ObservedReplicaSet,
    ObservedService,
    ScaleWorkload,
    plan_unparseable,
)
from rollouts.planning.observed import format_timestamp
from tests.unit.planning.world import START, World, canary_rollout, template

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_observed_replica_set_from_a_manifest() -> None:
    rs = ObservedReplicaSet.from_object(
        {
            "metadata": {
                "name": "web-abc",
                "labels": {"rollouts-pod-template-hash": "abc"},
                "annotations": {"rollout.argoproj.io/revision": "3"},
                "creationTimestamp": "2026-01-01T00:00:00Z",
            },
            "spec": {"replicas": 4, "template": {"spec": {}}},
            "status": {"replicas": 4, "readyReplicas": 3, "availableReplicas": 2},
        }
    )
    assert (rs.name, rs.pod_template_hash, rs.revision) == ("web-abc", "abc", 3)
    assert (rs.spec_replicas, rs.status_replicas, rs.ready_replicas, rs.available_replicas) == (4, 4, 3, 2)
    assert rs.created_at == NOW


def test_observed_objects_tolerate_missing_fields() -> None:
    rs = ObservedReplicaSet.from_object({"metadata": {"name": "x"}})
    assert (rs.revision, rs.spec_replicas, rs.available_replicas) == (0, 1, 0)
    assert ObservedService.from_object({"metadata": {"name": "s"}}).selector == {}
    run = ObservedAnalysisRun.from_object({"metadata": {"name": "r"}, "spec": {"terminate": True}})
    assert (run.phase, run.terminate) == ("", True)
    pod = ObservedPod.from_object(
        {
            "metadata": {"name": "p", "labels": {"rollouts-pod-template-hash": "h"}, "deletionTimestamp": "x"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
    )
    assert (pod.replica_set_hash, pod.ready, pod.deleting) == ("h", True, True)


def test_workload_ref_takes_the_template_from_the_deployment() -> None:
    raw = canary_rollout(replicas=2)
    del raw["spec"]["template"]
    raw["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    world = World(raw)
    plan = world.plan()
    assert plan.mutations == ()
    assert "spec.workloadRef: Deployment 'web' not found" in plan.status["message"]
    world.workload_template = template("web:7")
    plan = world.plan()
    created = [a for a in plan.actions if isinstance(a, CreateReplicaSet)]
    assert created and created[0].manifest["spec"]["template"]["spec"]["containers"][0]["image"] == "web:7"
    world.run()
    assert world.counts() == {"web:7": 2}
    world.workload_template = template("web:8")
    world.run()
    assert world.counts() == {"web:8": 2}


@pytest.mark.parametrize(
    ("scale_down", "expected"),
    [
        pytest.param(None, [], id="default-never"),
        pytest.param("never", [], id="never"),
        pytest.param("onsuccess", [0], id="onsuccess-once-healthy"),
        pytest.param("progressively", [0], id="progressively-ends-at-zero"),
    ],
)
def test_workload_ref_scale_down_retires_the_deployment(scale_down: str | None, expected: list[int]) -> None:
    raw = canary_rollout(replicas=4)
    del raw["spec"]["template"]
    raw["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    if scale_down:
        raw["spec"]["workloadRef"]["scaleDown"] = scale_down
    world = World(raw)
    world.workload_template = template("web:1")
    world.workload_replicas = 4
    seen: list[int] = []
    for _ in range(30):
        plan = world.plan()
        seen += [a.replicas for a in plan.actions if isinstance(a, ScaleWorkload)]
        world.apply(plan)
        world.settle()
    assert world.status["phase"] == "Healthy"
    assert (seen[-1:] if seen else []) == expected
    if scale_down == "progressively":
        assert seen == sorted(seen, reverse=True), f"the Deployment only shrinks: {seen}"
    if scale_down == "onsuccess":
        assert seen == [0], "scaled once, when the Rollout is Healthy"


def test_unparseable_rollout_gets_invalid_spec_status_and_one_event() -> None:
    problems = [SpecProblem("spec.replicas", 'Invalid value: "three": must be an integer')]
    plan = plan_unparseable({}, problems, generation=4, now=START)
    assert plan.status["phase"] == "Degraded"
    assert plan.status["observedGeneration"] == "4"
    assert plan.status["message"].startswith("InvalidSpec: The Rollout is invalid: spec.replicas")
    assert [e.reason for e in plan.events] == ["InvalidSpec"]
    again = plan_unparseable(plan.status, problems, generation=4, now=START)
    assert again.events == ()
    assert again.status == plan.status


def test_spec_facts_follow_the_generation() -> None:
    world = World(canary_rollout(replicas=2, steps=[{"setWeight": 50}, {"pause": {}}]))
    world.run()
    first = world.status["currentStepHash"]
    world.rollout["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 10}]
    world.run()
    assert world.status["currentStepHash"] != first
    assert world.rollout["metadata"]["generation"] == 2


def test_service_managed_by_another_rollout_is_invalid() -> None:
    raw: dict[str, Any] = canary_rollout(replicas=1, stableService="shared")
    world = World(raw, services={"shared": {"app": "web"}})
    world.service_annotations["shared"] = {"argo-rollouts.argoproj.io/managed-by-rollouts": "other"}
    plan = world.plan()
    assert plan.mutations == ()
    assert "is managed by another Rollout (other)" in plan.status["message"]


def test_format_timestamp_matches_kubernetes() -> None:
    assert format_timestamp(datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)) == "2026-03-04T05:06:07Z"


def test_canary_metadata_labels_the_canary_pods_and_is_remembered_on_the_replica_set() -> None:
    world = World(
        canary_rollout(
            replicas=2, steps=[{"setWeight": 50}, {"pause": {}}], canaryMetadata={"labels": {"role": "canary"}}
        )
    )
    world.run()
    world.set_template("web:2")
    plan = world.plan()
    manifest = next(a.manifest for a in plan.actions if isinstance(a, CreateReplicaSet))
    assert manifest["spec"]["template"]["metadata"]["labels"]["role"] == "canary"
    assert (
        manifest["metadata"]["annotations"]["rollout.argoproj.io/ephemeral-metadata"] == '{"labels":{"role":"canary"}}'
    )
    # the hash is of the Rollout's template, not of the injected labels
    assert manifest["metadata"]["labels"]["rollouts-pod-template-hash"] == plan.status["currentPodHash"]
    assert "role" not in manifest["metadata"]["labels"]
