"""Representative Rollout states as the API server returns them (plain dicts), for the plugin's
rendering and golden tests. Times are fixed relative to NOW so ages are exact."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


def ts(seconds_ago: int) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class State:
    rollout: dict[str, Any]
    replicasets: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    analysisruns: list[dict[str, Any]] = field(default_factory=list)


ROLLOUT_UID = "uid-rollout"


def rollout(name: str, strategy: dict[str, Any], status: dict[str, Any], *, replicas: int = 4,
            generation: int = 2, paused: bool = False, image: str = "nginx:1.25") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "web", "image": image}]}},
        "strategy": strategy,
    }
    if paused:
        spec["paused"] = True
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": "shop", "uid": ROLLOUT_UID, "generation": generation,
                     "creationTimestamp": ts(3600)},
        "spec": spec,
        "status": {"observedGeneration": str(generation), **status},
    }


def replicaset(rollout_name: str, pod_hash: str, *, revision: int, image: str, replicas: int, ready: int,
               age: int, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{rollout_name}-{pod_hash}",
            "namespace": "shop",
            "uid": f"uid-rs-{pod_hash}",
            "creationTimestamp": ts(age),
            "labels": {"app": rollout_name, "rollouts-pod-template-hash": pod_hash},
            "annotations": {"rollout.argoproj.io/revision": str(revision), **(annotations or {})},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": rollout_name,
                                 "uid": ROLLOUT_UID, "controller": True}],
        },
        "spec": {"replicas": replicas,
                 "template": {"metadata": {"labels": {"app": rollout_name, "rollouts-pod-template-hash": pod_hash}},
                              "spec": {"containers": [{"name": "web", "image": image}]}}},
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready},
    }


def pod(rs: dict[str, Any], suffix: str, *, age: int, ready: bool = True, restarts: int = 0,
        waiting: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{rs['metadata']['name']}-{suffix}",
            "namespace": "shop",
            "creationTimestamp": ts(age),
            "labels": dict(rs["metadata"]["labels"]),
            "ownerReferences": [{"kind": "ReplicaSet", "name": rs["metadata"]["name"],
                                 "uid": rs["metadata"]["uid"], "controller": True}],
        },
        "spec": {"containers": [{"name": "web", "image": "x"}]},
        "status": {"phase": "Pending" if waiting else "Running",
                   "containerStatuses": [{"name": "web", "ready": ready, "restartCount": restarts,
                                          "state": state}]},
    }


def analysisrun(name: str, *, revision: int, phase: str, age: int,
                metrics: list[tuple[str, int, int]]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": ts(age),
                     "annotations": {"rollout.argoproj.io/revision": str(revision)},
                     "ownerReferences": [{"kind": "Rollout", "name": "checkout", "uid": ROLLOUT_UID,
                                          "controller": True}]},
        "status": {"phase": phase,
                   "metricResults": [{"name": m, "successful": s, "failed": f, "count": s + f}
                                     for m, s, f in metrics]},
    }


def progressing_canary_with_analysis() -> State:
    """Step 2 of 5 (setWeight 40 after a passed analysis step), background analysis running."""
    steps = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "success-rate"}]}},
             {"setWeight": 40}, {"pause": {"duration": "10m"}}, {"setWeight": 80}]
    ro = rollout("checkout", {"canary": {"steps": steps}}, {
        "phase": "Progressing",
        "message": "more replicas need to be updated",
        "currentStepIndex": 2,
        "stableRS": "6d4f8b7c9",
        "currentPodHash": "5b8c7d6f4",
        "replicas": 5, "updatedReplicas": 1, "readyReplicas": 4, "availableReplicas": 4,
    }, replicas=4, image="shop/checkout:2.0")
    stable = replicaset("checkout", "6d4f8b7c9", revision=1, image="shop/checkout:1.0", replicas=3, ready=3,
                        age=3600)
    canary = replicaset("checkout", "5b8c7d6f4", revision=2, image="shop/checkout:2.0", replicas=2, ready=1,
                        age=300)
    pods = [pod(stable, "a1b2c", age=3600), pod(stable, "d3e4f", age=3590, restarts=1),
            pod(stable, "g5h6i", age=3580),
            pod(canary, "j7k8l", age=290), pod(canary, "m9n0p", age=30, ready=False, waiting="ContainerCreating")]
    runs = [
        analysisrun("checkout-5b8c7d6f4-2-1", revision=2, phase="Successful", age=240,
                    metrics=[("success-rate", 3, 0)]),
        analysisrun("checkout-5b8c7d6f4-2-bg", revision=2, phase="Running", age=280,
                    metrics=[("latency", 4, 1)]),
    ]
    return State(ro, [canary, stable], pods, runs)


def paused_blue_green() -> State:
    """New revision scaled up behind the preview service, waiting for manual promotion."""
    ro = rollout("storefront", {"blueGreen": {"activeService": "storefront", "previewService": "storefront-preview",
                                              "autoPromotionEnabled": False}}, {
        "phase": "Paused",
        "message": "BlueGreenPause",
        "pauseConditions": [{"reason": "BlueGreenPause", "startTime": ts(120)}],
        "stableRS": "7f9d8c6b5",
        "currentPodHash": "84c6d9f7b",
        "blueGreen": {"activeSelector": "7f9d8c6b5", "previewSelector": "84c6d9f7b"},
        "replicas": 4, "updatedReplicas": 2, "readyReplicas": 4, "availableReplicas": 2,
    }, replicas=2, image="shop/storefront:v8")
    active = replicaset("storefront", "7f9d8c6b5", revision=7, image="shop/storefront:v7", replicas=2, ready=2,
                        age=86400 * 3)
    preview = replicaset("storefront", "84c6d9f7b", revision=8, image="shop/storefront:v8", replicas=2, ready=2,
                         age=150)
    old = replicaset("storefront", "5c4b3a291", revision=6, image="shop/storefront:v6", replicas=0, ready=0,
                     age=86400 * 10)
    pods = [pod(active, "qwert", age=86400 * 3), pod(active, "yuiop", age=86400 * 3),
            pod(preview, "asdfg", age=140), pod(preview, "hjklz", age=140)]
    return State(ro, [active, preview, old], pods, [])


def degraded_after_abort() -> State:
    """Analysis failed at step 1; the controller aborted: canary scaled down after a delay."""
    steps = [{"setWeight": 25}, {"analysis": {"templates": [{"templateName": "error-rate"}]}},
             {"setWeight": 50}, {"pause": {}}]
    ro = rollout("payments", {"canary": {"steps": steps}}, {
        "phase": "Degraded",
        "message": "RolloutAborted: Rollout aborted update to revision 3: Metric \"error-rate\" assessed Failed",
        "abort": True,
        "abortedAt": ts(60),
        "currentStepIndex": 0,
        "stableRS": "9a8b7c6d5",
        "currentPodHash": "3e2f1a0b9",
        "replicas": 4, "updatedReplicas": 0, "readyReplicas": 4, "availableReplicas": 4,
    }, replicas=4, generation=3, image="shop/payments:3.1")
    stable = replicaset("payments", "9a8b7c6d5", revision=2, image="shop/payments:3.0", replicas=4, ready=4,
                        age=7200)
    canary = replicaset("payments", "3e2f1a0b9", revision=3, image="shop/payments:3.1", replicas=0, ready=0,
                        age=600, annotations={"scale-down-deadline": ts(-30)})
    canary["status"]["replicas"] = 1
    pods = [pod(stable, "aaaaa", age=7200), pod(stable, "bbbbb", age=7200), pod(stable, "ccccc", age=7200),
            pod(stable, "ddddd", age=7200),
            pod(canary, "eeeee", age=590, ready=False, restarts=4, waiting="CrashLoopBackOff")]
    runs = [analysisrun("payments-3e2f1a0b9-3-1", revision=3, phase="Failed", age=500,
                        metrics=[("error-rate", 2, 3)])]
    for r in runs:
        r["metadata"]["ownerReferences"][0]["name"] = "payments"
    return State(ro, [stable, canary], pods, runs)
