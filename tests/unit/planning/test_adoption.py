"""Finding the current ReplicaSet as Argo's FindNewReplicaSet does, so taking Rollouts over restarts no pod.

Tiers: Argo's hash label, then the hash label this project wrote before it hashed like Argo, then template
equality (utils/replicaset/replicaset.go PodTemplateEqualIgnoreHash) against the defaulted template, ignoring
the hash label, the ephemeral metadata a ReplicaSet records having injected, and the injected anti-affinity.
"""

from __future__ import annotations

import copy
from typing import Any

from rollouts.planning import CreateReplicaSet, ObservedReplicaSet, ScaleReplicaSet
from rollouts.planning.hashing import legacy_pod_template_hash, legacy_step_hash, pod_template_hash, step_hash
from rollouts.planning.replicasets import classify, find_new_replica_set, needs_defaulted_template
from tests.unit.planning.world import World, canary_rollout, template

STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]


def replica_set(name: str, tmpl: dict[str, Any], label: str, *, revision: int, replicas: int,
                annotations: dict[str, str] | None = None, created: str = "2026-01-01T10:00:00Z") -> dict[str, Any]:
    pod_template = copy.deepcopy(tmpl)
    pod_template["metadata"]["labels"]["rollouts-pod-template-hash"] = label
    return {
        "metadata": {
            "name": name, "labels": {"app": "web", "rollouts-pod-template-hash": label},
            "annotations": {"rollout.argoproj.io/revision": str(revision), **(annotations or {})},
            "creationTimestamp": created,
            "ownerReferences": [{"uid": "uid-1", "controller": True}],
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web", "rollouts-pod-template-hash": label}},
                 "template": pod_template},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }


def world_paused_mid_update(stable_label: str, canary_label: str, step_hash_value: str) -> World:
    """A canary Rollout another controller took to step 2 (20% weight, paused) and left."""
    world = World(canary_rollout(replicas=5, steps=STEPS, image="web:2"),
                  services={})
    world.replica_sets = {
        f"web-{stable_label}": replica_set(f"web-{stable_label}", template("web:1"), stable_label, revision=1,
                                           replicas=4),
        f"web-{canary_label}": replica_set(f"web-{canary_label}", template("web:2"), canary_label, revision=2,
                                           replicas=1, created="2026-01-01T11:00:00Z"),
    }
    world.rollout["status"] = {
        "currentPodHash": canary_label, "stableRS": stable_label, "currentStepIndex": 1,
        "currentStepHash": step_hash_value, "observedGeneration": "1",
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T11:00:05Z"}],
        "controllerPause": True, "phase": "Paused",
    }
    return world


def assert_continues_where_it_stood(world: World, canary_label: str) -> None:
    plan = world.plan()
    assert not [a for a in plan.actions if isinstance(a, CreateReplicaSet)], "no new ReplicaSet"
    assert not [a for a in plan.actions if isinstance(a, ScaleReplicaSet) and a.replicas != world.replica_sets[
        a.name]["spec"]["replicas"]], "no ReplicaSet rescaled"
    assert plan.status["currentPodHash"] == canary_label
    assert plan.status["currentStepIndex"] == 1
    assert plan.status.get("pauseConditions"), "still paused at its step"


def test_argo_hashes_are_ours_now() -> None:
    world = world_paused_mid_update(pod_template_hash(template("web:1")), pod_template_hash(template("web:2")),
                                    step_hash(STEPS))
    assert_continues_where_it_stood(world, pod_template_hash(template("web:2")))


def test_replica_sets_labelled_by_our_earlier_versions_are_kept() -> None:
    """An upgrade of this controller in place: old hash labels, old steps hash, nothing restarts."""
    canary = legacy_pod_template_hash(template("web:2"))
    world = world_paused_mid_update(legacy_pod_template_hash(template("web:1")), canary, legacy_step_hash(STEPS))
    assert_continues_where_it_stood(world, canary)


def test_replica_sets_under_any_other_hash_are_found_by_their_template() -> None:
    """E.g. labelled by an Argo built with other Kubernetes libraries: the template decides."""
    world = world_paused_mid_update("6d5f8c7b9", "8b7f5d4c6", step_hash(STEPS))
    assert_continues_where_it_stood(world, "8b7f5d4c6")
    world.step()
    assert world.status["currentPodHash"] == "8b7f5d4c6"


def test_promotion_continues_after_taking_over() -> None:
    world = world_paused_mid_update("6d5f8c7b9", "8b7f5d4c6", step_hash(STEPS))
    world.rollout["status"]["pauseConditions"] = []
    world.rollout["status"]["controllerPause"] = False
    world.rollout["status"]["currentStepIndex"] = 2
    world.run()  # step 3 (setWeight 60) and the pause after it
    assert world.counts() == {"web:1": 2, "web:2": 3}
    assert world.status["currentStepIndex"] == 3
    world.rollout["status"]["pauseConditions"] = []
    world.rollout["status"]["controllerPause"] = False
    world.rollout["status"]["currentStepIndex"] = 4
    world.run()
    assert world.counts() == {"web:2": 5}
    assert set(world.replica_sets) == {"web-6d5f8c7b9", "web-8b7f5d4c6"}, "the same two ReplicaSets"
    assert world.status["stableRS"] == "8b7f5d4c6"


def observed(rs: dict[str, Any]) -> ObservedReplicaSet:
    return ObservedReplicaSet.from_object(rs)


DESIRED = {"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [{"name": "web", "image": "web:2", "resources": {"limits": {"cpu": "1"}}}]}}
DEFAULTED = {"metadata": {"labels": {"app": "web"}}, "spec": {
    "containers": [{"name": "web", "image": "web:2", "resources": {"limits": {"cpu": "1"}},
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent"}],
    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
    "securityContext": {}, "schedulerName": "default-scheduler"}}


def live_of(defaulted: dict[str, Any]) -> dict[str, Any]:
    """What the API server holds: the defaulted template, values spelled its way, serviceAccount filled in."""
    live = copy.deepcopy(defaulted)
    live["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1000m"
    live["spec"]["serviceAccount"] = "default"
    live["spec"]["serviceAccountName"] = "default"
    return live


def test_template_equality_needs_the_defaulted_template() -> None:
    live = {**live_of(DEFAULTED), "spec": {**live_of(DEFAULTED)["spec"]}}
    del live["spec"]["serviceAccountName"]
    rs = observed(replica_set("web-x", live, "x", revision=3, replicas=2))
    assert needs_defaulted_template([rs], DESIRED, pod_template_hash(DESIRED))
    assert find_new_replica_set([rs], current_hash=pod_template_hash(DESIRED), template=DESIRED) is None
    found = find_new_replica_set([rs], current_hash=pod_template_hash(DESIRED), template=DESIRED,
                                 defaulted_template=DEFAULTED)
    assert found is rs
    sets = classify([rs], current_hash=pod_template_hash(DESIRED), stable_hash="x", template=DESIRED,
                    defaulted_template=DEFAULTED)
    assert (sets.current_hash, sets.new, sets.revision) == ("x", rs, 3)


def test_a_real_difference_is_not_adopted() -> None:
    other = copy.deepcopy(DEFAULTED)
    other["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "2"
    rs = observed(replica_set("web-x", other, "x", revision=3, replicas=2))
    assert find_new_replica_set([rs], current_hash="h", template=DESIRED, defaulted_template=DEFAULTED) is None


def test_ephemeral_metadata_and_injected_anti_affinity_are_ignored() -> None:
    live = copy.deepcopy(DEFAULTED)
    live["metadata"]["labels"]["role"] = "canary"
    live["metadata"]["annotations"] = {"note": "injected"}
    live["spec"]["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 1, "podAffinityTerm": {
            "labelSelector": {"matchExpressions": [
                {"key": "rollouts-pod-template-hash", "operator": "In", "values": ["old"]}]},
            "namespaces": ["default"], "topologyKey": "kubernetes.io/hostname"}}]}}
    record = '{"labels":{"role":"canary"},"annotations":{"note":"injected"}}'
    rs = observed(replica_set("web-x", live, "x", revision=3, replicas=2,
                              annotations={"rollout.argoproj.io/ephemeral-metadata": record}))
    anti = {"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 1}}
    assert find_new_replica_set([rs], current_hash="h", template=DESIRED, defaulted_template=DEFAULTED) is None
    found = find_new_replica_set([rs], current_hash="h", template=DESIRED, defaulted_template=DEFAULTED,
                                 anti_affinity=anti)
    assert found is rs


def test_the_oldest_equal_replica_set_wins_and_the_hash_label_first() -> None:
    a = observed(replica_set("web-a", DEFAULTED, "a", revision=1, replicas=0, created="2026-01-01T09:00:00Z"))
    b = observed(replica_set("web-b", DEFAULTED, "b", revision=2, replicas=0, created="2026-01-01T08:00:00Z"))
    ours = observed(replica_set("web-h", template("web:9"), "h", revision=3, replicas=1))
    assert find_new_replica_set([a, b], current_hash="h", template=DESIRED, defaulted_template=DEFAULTED) is b
    assert find_new_replica_set([a, b, ours], current_hash="h", template=DESIRED,
                                defaulted_template=DEFAULTED) is ours
