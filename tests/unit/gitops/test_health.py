"""Health conformance: for representative live objects the health equals what Argo CD reports.

Expected values come from Argo CD's built-in checks (gitops-engine pkg/health) and its Lua health scripts for
argoproj.io Rollout and AnalysisRun (resource_customizations/argoproj.io/*/health.lua and their test data).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.api.application import HealthStatusCode as H
from rollouts.gitops.health import HEALTH_ORDER, Health, is_paused_on_step, resource_health, worst


def obj(api: str, kind: str, spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None,
        generation: int = 1, **meta: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"apiVersion": api, "kind": kind,
                           "metadata": {"name": "x", "namespace": "ns", "generation": generation, **meta}}
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    return out


def rollout(phase: str | None, message: str = "", *, generation: int = 3, observed: Any = 3,
            **status: Any) -> dict[str, Any]:
    st_: dict[str, Any] = {"observedGeneration": observed, **status}
    if phase is not None:
        st_["phase"] = phase
    if message:
        st_["message"] = message
    return obj("argoproj.io/v1alpha1", "Rollout", {"replicas": 3, "strategy": {"canary": {"steps": []}}}, st_,
               generation=generation)


CASES: list[tuple[str, dict[str, Any] | None, H, str]] = [
    # Deployment
    ("deploy-healthy", obj("apps/v1", "Deployment", {"replicas": 2},
                           {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
     H.HEALTHY, ""),
    ("deploy-updating", obj("apps/v1", "Deployment", {"replicas": 3},
                            {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 3}),
     H.PROGRESSING, "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."),
    ("deploy-old-pending", obj("apps/v1", "Deployment", {"replicas": 2},
                               {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 2,
                                "availableReplicas": 2}),
     H.PROGRESSING, "Waiting for rollout to finish: 1 old replicas are pending termination..."),
    ("deploy-unavailable", obj("apps/v1", "Deployment", {"replicas": 2},
                               {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                                "availableReplicas": 1}),
     H.PROGRESSING, "Waiting for rollout to finish: 1 of 2 updated replicas are available..."),
    ("deploy-paused", obj("apps/v1", "Deployment", {"replicas": 2, "paused": True}, {"observedGeneration": 1}),
     H.SUSPENDED, "Deployment is paused"),
    ("deploy-deadline", obj("apps/v1", "Deployment", {"replicas": 2},
                            {"observedGeneration": 1, "conditions": [
                                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
     H.DEGRADED, 'Deployment "x" exceeded its progress deadline'),
    ("deploy-unobserved", obj("apps/v1", "Deployment", {"replicas": 2}, {"observedGeneration": 1}, generation=2),
     H.PROGRESSING, "Waiting for rollout to finish: observed deployment generation less than desired generation"),
    # StatefulSet
    ("sts-healthy", obj("apps/v1", "StatefulSet", {"replicas": 2},
                        {"observedGeneration": 1, "readyReplicas": 2, "currentReplicas": 2,
                         "currentRevision": "r1", "updateRevision": "r1"}),
     H.HEALTHY, "statefulset rolling update complete 2 pods at revision r1..."),
    ("sts-not-ready", obj("apps/v1", "StatefulSet", {"replicas": 3}, {"observedGeneration": 1, "readyReplicas": 1}),
     H.PROGRESSING, "Waiting for 2 pods to be ready..."),
    ("sts-rolling", obj("apps/v1", "StatefulSet", {"replicas": 1},
                        {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 0,
                         "currentRevision": "r1", "updateRevision": "r2"}),
     H.PROGRESSING, "waiting for statefulset rolling update to complete 0 pods at revision r2..."),
    ("sts-unobserved", obj("apps/v1", "StatefulSet", {"replicas": 1}, {}),
     H.PROGRESSING, "Waiting for statefulset spec update to be observed..."),
    # DaemonSet
    ("ds-healthy", obj("apps/v1", "DaemonSet", {}, {"observedGeneration": 1, "desiredNumberScheduled": 2,
                                                    "updatedNumberScheduled": 2, "numberAvailable": 2}),
     H.HEALTHY, ""),
    ("ds-updating", obj("apps/v1", "DaemonSet", {}, {"observedGeneration": 1, "desiredNumberScheduled": 2,
                                                     "updatedNumberScheduled": 1, "numberAvailable": 2}),
     H.PROGRESSING, 'Waiting for daemon set "x" rollout to finish: 1 out of 2 new pods have been updated...'),
    # ReplicaSet
    ("rs-healthy", obj("apps/v1", "ReplicaSet", {"replicas": 2}, {"observedGeneration": 1, "availableReplicas": 2}),
     H.HEALTHY, ""),
    ("rs-failure", obj("apps/v1", "ReplicaSet", {"replicas": 2}, {"observedGeneration": 1, "conditions": [
        {"type": "ReplicaFailure", "status": "True", "message": "quota exceeded"}]}), H.DEGRADED, "quota exceeded"),
    # Pod
    ("pod-running-ready", obj("v1", "Pod", {"restartPolicy": "Always"}, {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True"}]}), H.HEALTHY, ""),
    ("pod-crashloop", obj("v1", "Pod", {"restartPolicy": "Always"}, {"phase": "Running", "containerStatuses": [
        {"name": "a", "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m"}}}]}),
     H.DEGRADED, "back-off 5m"),
    ("pod-imagepull", obj("v1", "Pod", {"restartPolicy": "Always"}, {"phase": "Pending", "containerStatuses": [
        {"name": "a", "state": {"waiting": {"reason": "ErrImagePull", "message": "not found"}}}]}),
     H.DEGRADED, "not found"),
    ("pod-hook-imagepull-progressing", obj("v1", "Pod", {"restartPolicy": "Never"}, {"phase": "Pending",
        "containerStatuses": [{"name": "a", "state": {"waiting": {"reason": "ErrImagePull"}}}]}),
     H.PROGRESSING, ""),
    ("pod-succeeded", obj("v1", "Pod", {"restartPolicy": "Never"}, {"phase": "Succeeded"}), H.HEALTHY, ""),
    ("pod-failed-exit", obj("v1", "Pod", {"restartPolicy": "Never"}, {"phase": "Failed", "containerStatuses": [
        {"name": "main", "state": {"terminated": {"exitCode": 3}}}]}),
     H.DEGRADED, 'container "main" failed with exit code 3'),
    ("pod-running-job", obj("v1", "Pod", {"restartPolicy": "OnFailure"}, {"phase": "Running"}), H.PROGRESSING, ""),
    ("pod-unknown", obj("v1", "Pod", {}, {"phase": "Unknown"}), H.UNKNOWN, ""),
    # Service / Ingress / PVC
    ("svc-clusterip", obj("v1", "Service", {"type": "ClusterIP"}, {}), H.HEALTHY, ""),
    ("svc-lb-pending", obj("v1", "Service", {"type": "LoadBalancer"}, {"loadBalancer": {}}), H.PROGRESSING, ""),
    ("svc-lb-ready", obj("v1", "Service", {"type": "LoadBalancer"},
                         {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}), H.HEALTHY, ""),
    ("ingress-pending", obj("networking.k8s.io/v1", "Ingress", {}, {}), H.PROGRESSING, ""),
    ("ingress-ready", obj("networking.k8s.io/v1", "Ingress", {},
                          {"loadBalancer": {"ingress": [{"hostname": "lb"}]}}), H.HEALTHY, ""),
    ("pvc-bound", obj("v1", "PersistentVolumeClaim", {}, {"phase": "Bound"}), H.HEALTHY, ""),
    ("pvc-pending", obj("v1", "PersistentVolumeClaim", {}, {"phase": "Pending"}), H.PROGRESSING, ""),
    ("pvc-lost", obj("v1", "PersistentVolumeClaim", {}, {"phase": "Lost"}), H.DEGRADED, ""),
    # Job
    ("job-running", obj("batch/v1", "Job", {}, {"active": 1}), H.PROGRESSING, ""),
    ("job-complete", obj("batch/v1", "Job", {}, {"conditions": [{"type": "Complete", "status": "True"}]}),
     H.HEALTHY, ""),
    ("job-failed", obj("batch/v1", "Job", {}, {"conditions": [
        {"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}), H.DEGRADED,
     "BackoffLimitExceeded"),
    ("job-suspended", obj("batch/v1", "Job", {}, {"conditions": [{"type": "Suspended", "status": "True"}]}),
     H.SUSPENDED, ""),
    # HPA
    ("hpa-within-range", obj("autoscaling/v2", "HorizontalPodAutoscaler", {}, {"conditions": [
        {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"},
        {"type": "ScalingLimited", "status": "True", "reason": "DesiredWithinRange", "message": "ok"}]}),
     H.HEALTHY, ""),  # the first healthy condition (AbleToScale) has no message
    ("hpa-failed-metric", obj("autoscaling/v2", "HorizontalPodAutoscaler", {}, {"conditions": [
        {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric", "message": "no metrics"}]}),
     H.DEGRADED, "no metrics"),
    ("hpa-new", obj("autoscaling/v2", "HorizontalPodAutoscaler", {}, {}), H.PROGRESSING, "Waiting to Autoscale"),
    # Rollout (Argo CD's Lua script, Rollouts >= v1.0 surface status.phase/message)
    ("rollout-no-status", obj("argoproj.io/v1alpha1", "Rollout", {"replicas": 1}),
     H.PROGRESSING, "Waiting for rollout spec update to be observed"),
    ("rollout-new-generation", rollout("Healthy", generation=4, observed=3),
     H.PROGRESSING, "Waiting for rollout spec update to be observed"),
    ("rollout-healthy", rollout("Healthy"), H.HEALTHY, ""),
    ("rollout-progressing", rollout("Progressing", "more replicas need to be updated"),
     H.PROGRESSING, "more replicas need to be updated"),
    ("rollout-paused-step", rollout("Paused", "CanaryPauseStep", pauseConditions=[{"reason": "CanaryPauseStep"}]),
     H.SUSPENDED, "CanaryPauseStep"),
    ("rollout-aborted", rollout("Degraded", "RolloutAborted: Rollout aborted update to revision 2"),
     H.DEGRADED, "RolloutAborted: Rollout aborted update to revision 2"),
    ("rollout-deadline", rollout("Degraded", "ProgressDeadlineExceeded: ReplicaSet \"x\" has timed out progressing."),
     H.DEGRADED, "ProgressDeadlineExceeded: ReplicaSet \"x\" has timed out progressing."),
    ("rollout-legacy-hash-generation", rollout(None, observed="7d4b9c", currentPodHash="abc", stableRS="abc",
                                               replicas=3, updatedReplicas=3, availableReplicas=3),
     H.HEALTHY, ""),
    ("rollout-legacy-paused", rollout(None, currentPodHash="abc", pauseConditions=[{"reason": "CanaryPauseStep"}]),
     H.SUSPENDED, "Rollout is paused"),
    ("rollout-legacy-aborted", rollout(None, conditions=[
        {"type": "Progressing", "reason": "RolloutAborted", "message": "Rollout is aborted"}]),
     H.DEGRADED, "Rollout is aborted"),
    # AnalysisRun
    ("ar-no-status", obj("argoproj.io/v1alpha1", "AnalysisRun", {}), H.PROGRESSING,
     "Waiting for analysis run to finish: status has not been reconciled."),
    ("ar-running", obj("argoproj.io/v1alpha1", "AnalysisRun", {}, {"phase": "Running"}), H.PROGRESSING,
     "Analysis run is running"),
    ("ar-successful", obj("argoproj.io/v1alpha1", "AnalysisRun", {}, {"phase": "Successful"}), H.HEALTHY,
     "Analysis run completed successfully"),
    ("ar-failed-message", obj("argoproj.io/v1alpha1", "AnalysisRun", {}, {"phase": "Failed", "message": "p95 high"}),
     H.DEGRADED, "p95 high"),
    ("ar-error", obj("argoproj.io/v1alpha1", "AnalysisRun", {}, {"phase": "Error"}), H.DEGRADED,
     "Analysis run had an error"),
    ("ar-inconclusive", obj("argoproj.io/v1alpha1", "AnalysisRun", {}, {"phase": "Inconclusive"}), H.UNKNOWN,
     "Analysis run was inconclusive"),
    # generic
    ("missing", None, H.MISSING, ""),
    ("deleting", obj("apps/v1", "Deployment", {}, {}, deletionTimestamp="2024-01-01T00:00:00Z"),
     H.PROGRESSING, "Pending deletion"),
]


@pytest.mark.parametrize(("live", "status", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_health_matches_argo_cd(live: dict[str, Any] | None, status: H, message: str) -> None:
    health = resource_health(live)
    assert health == Health(status, message)


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret", "ServiceAccount"])
def test_kinds_without_a_check_have_no_health(kind: str) -> None:
    assert resource_health(obj("v1", kind)) is None


def test_app_health_is_the_worst_in_argo_cd_order() -> None:
    healths = [Health(H.HEALTHY), None, Health(H.SUSPENDED), Health(H.DEGRADED, "bad"), Health(H.MISSING)]
    assert worst(healths) == Health(H.DEGRADED, "bad")
    assert worst([None, None]) == Health(H.HEALTHY)


@given(st.lists(st.sampled_from(HEALTH_ORDER)))
def test_worst_is_never_better_than_any_member(codes: list[H]) -> None:
    result = worst(Health(c) for c in codes)
    assert all(HEALTH_ORDER.index(result.status) >= HEALTH_ORDER.index(c) for c in codes)


def test_paused_on_step_only_for_canary_pause_step() -> None:
    assert is_paused_on_step(rollout("Paused", pauseConditions=[{"reason": "CanaryPauseStep"}]))
    assert not is_paused_on_step(rollout("Paused", pauseConditions=[{"reason": "BlueGreenPause"}]))
    assert not is_paused_on_step(rollout("Healthy"))
