"""Live objects for the health conformance tests: a cited table, Argo's own test data, generated variations.

The table's expected values are Argo CD v3.6.1's answers (gitops-engine ``pkg/health/<file>.go`` for built-in
kinds, ``resource_customizations/<group>/<kind>/health.lua`` for scripted ones), written here as data; the
oracle test checks every one of them against Argo CD's code as well as against ours. The generators build many
valid variations per kind (a fixed seed, so a failure is reproducible by its id).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

ENGINE = "gitops-engine pkg/health"
LUA = "argo-cd resource_customizations"


@dataclass(frozen=True)
class Case:
    id: str
    obj: Obj
    status: str | None  # None: no health
    message: str
    rule: str


def obj(api: str, kind: str, spec: Obj | None = None, status: Obj | None = None, **meta: Any) -> Obj:
    out: Obj = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "namespace": "ns", **meta}}
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    return out


def cond(kind: str, status: str, reason: str | None = None, message: str | None = None) -> Obj:
    c: Obj = {"type": kind, "status": status}
    if reason is not None:
        c["reason"] = reason
    if message is not None:
        c["message"] = message
    return c


def pod(restart: str | None, phase: str, *, ready: bool = False, waiting: str | None = None,
        annotations: Obj | None = None, last_terminated: bool = False, message: str | None = None) -> Obj:
    spec: Obj = {"containers": [{"name": "c", "image": "i"}]}
    if restart is not None:
        spec["restartPolicy"] = restart
    ctr: Obj = {"name": "c", "ready": ready, "restartCount": 0, "image": "i", "imageID": "", "state": {}}
    if waiting:
        ctr["state"] = {"waiting": {"reason": waiting, "message": f"{waiting} for c"}}
    if last_terminated:
        ctr["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
    status: Obj = {"phase": phase, "containerStatuses": [ctr],
                   "conditions": [cond("Ready", "True" if ready else "False")]}
    if message:
        status["message"] = message
    meta = {"annotations": annotations} if annotations else {}
    return obj("v1", "Pod", spec, status, **meta)


HPA_V1_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"


def hpa_v1(conditions: list[Obj] | None) -> Obj:
    import json

    meta = {} if conditions is None else {"annotations": {HPA_V1_ANNOTATION: json.dumps(conditions)}}
    return obj("autoscaling/v1", "HorizontalPodAutoscaler", {"maxReplicas": 3}, {"currentReplicas": 1}, **meta)


def hpa_v2(conditions: list[Obj]) -> Obj:
    return obj("autoscaling/v2", "HorizontalPodAutoscaler", {"maxReplicas": 3}, {"conditions": conditions})


TABLE: list[Case] = [
    # -- health_deployment.go
    Case("deploy-healthy", obj("apps/v1", "Deployment", {"replicas": 2}, {"observedGeneration": 1, "replicas": 2,
         "updatedReplicas": 2, "availableReplicas": 2}, generation=1), "Healthy", "", f"{ENGINE}/health_deployment.go"),
    Case("deploy-paused", obj("apps/v1", "Deployment", {"paused": True}), "Suspended", "Deployment is paused",
         f"{ENGINE}/health_deployment.go: Spec.Paused"),
    Case("deploy-deadline", obj("apps/v1", "Deployment", {"replicas": 1}, {"observedGeneration": 1, "conditions": [
         cond("Progressing", "False", "ProgressDeadlineExceeded")]}, generation=1), "Degraded",
         'Deployment "x" exceeded its progress deadline', f"{ENGINE}/health_deployment.go"),
    Case("deploy-old-pending", obj("apps/v1", "Deployment", {"replicas": 2}, {"observedGeneration": 2, "replicas": 3,
         "updatedReplicas": 2, "availableReplicas": 2}, generation=2), "Progressing",
         "Waiting for rollout to finish: 1 old replicas are pending termination...", f"{ENGINE}/health_deployment.go"),
    Case("deploy-v1beta2", obj("apps/v1beta2", "Deployment", {"replicas": 1}), "Unknown",
         "unsupported Deployment GVK: apps/v1beta2, Kind=Deployment", f"{ENGINE}/health_deployment.go: default case"),
    Case("deploy-extensions-no-check", obj("extensions/v1beta1", "Deployment", {"replicas": 1}), None, "",
         f"{ENGINE}/health.go GetHealthCheckFunc: extensions has only Ingress"),
    # -- health_statefulset.go
    Case("sts-partition-complete-without-partition", obj("apps/v1", "StatefulSet", {"replicas": 2, "updateStrategy": {
         "type": "RollingUpdate", "rollingUpdate": {}}}, {"observedGeneration": 1, "readyReplicas": 2,
         "updatedReplicas": 1}, generation=1), "Healthy", "partitioned roll out complete: 1 new pods have been updated...",
         f"{ENGINE}/health_statefulset.go: RollingUpdate != nil"),
    Case("sts-partition-waiting", obj("apps/v1", "StatefulSet", {"replicas": 5, "updateStrategy": {
         "type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}, {"observedGeneration": 1, "readyReplicas": 5,
         "updatedReplicas": 1}, generation=1), "Progressing",
         "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...",
         f"{ENGINE}/health_statefulset.go"),
    Case("sts-no-type-revisions", obj("apps/v1", "StatefulSet", {"replicas": 1}, {"observedGeneration": 1,
         "readyReplicas": 1, "currentRevision": "a", "updateRevision": "b", "updatedReplicas": 0}, generation=1),
         "Progressing", "waiting for statefulset rolling update to complete 0 pods at revision b...",
         f"{ENGINE}/health_statefulset.go"),
    Case("sts-unobserved", obj("apps/v1", "StatefulSet", {"replicas": 1}, {}), "Progressing",
         "Waiting for statefulset spec update to be observed...", f"{ENGINE}/health_statefulset.go"),
    # -- health_daemonset.go
    Case("ds-unobserved", obj("apps/v1", "DaemonSet", {}, {"observedGeneration": 1}, generation=2), "Progressing",
         "Waiting for rollout to finish: observed daemon set generation less than desired generation",
         f"{ENGINE}/health_daemonset.go"),
    Case("ds-ondelete", obj("apps/v1", "DaemonSet", {"updateStrategy": {"type": "OnDelete"}}, {
         "desiredNumberScheduled": 3, "updatedNumberScheduled": 1}), "Healthy",
         "daemon set 1 out of 3 new pods have been updated", f"{ENGINE}/health_daemonset.go"),
    # -- health_replicaset.go
    Case("rs-failure", obj("apps/v1", "ReplicaSet", {"replicas": 2}, {"conditions": [
         cond("ReplicaFailure", "True", "FailedCreate", "quota exceeded")]}), "Degraded", "quota exceeded",
         f"{ENGINE}/health_replicaset.go"),
    # -- health_pod.go
    Case("pod-crashloop", pod("Always", "Running", waiting="CrashLoopBackOff"), "Degraded",
         "CrashLoopBackOff for c", f"{ENGINE}/health_pod.go + testdata/pod-crashloop.yaml"),
    Case("pod-never-backoff-is-progressing", pod("Never", "Pending", waiting="ImagePullBackOff"), "Progressing", "",
         f"{ENGINE}/health_pod.go: hooks are not failed early"),
    Case("pod-never-ignore-restart-policy-backoff", pod("Never", "Running", waiting="ImagePullBackOff",
         annotations={"argocd.argoproj.io/ignore-restart-policy": "true"}), "Degraded", "ImagePullBackOff for c",
         f"{ENGINE}/testdata/pod-running-restart-never-with-ignore-annotation-backoff.yaml"),
    Case("pod-never-ignore-restart-policy-ready", pod("Never", "Running", ready=True,
         annotations={"argocd.argoproj.io/ignore-restart-policy": "true"}), "Healthy", "",
         f"{ENGINE}/testdata/pod-running-restart-never-with-ignore-annotation.yaml"),
    Case("pod-hook-ignores-ignore-restart-policy", pod("Never", "Running", ready=True, annotations={
         "argocd.argoproj.io/ignore-restart-policy": "true", "argocd.argoproj.io/hook": "PreSync"}), "Progressing", "",
         f"{ENGINE}/testdata/pod-running-restart-never-hook-with-ignore-annotation.yaml"),
    Case("pod-skip-hook-is-not-a-hook", pod("Never", "Running", ready=True, annotations={
         "argocd.argoproj.io/ignore-restart-policy": "true", "argocd.argoproj.io/hook": "Skip"}), "Healthy", "",
         f"{ENGINE}/pkg/sync/hook/hook.go IsHook: Skip alone is not a hook"),
    Case("pod-helm-hook", pod("Never", "Running", ready=True, annotations={
         "argocd.argoproj.io/ignore-restart-policy": "true", "helm.sh/hook": "pre-install"}), "Progressing", "",
         f"{ENGINE}/pkg/sync/hook/helm/hook.go IsHook"),
    Case("pod-running-not-ready-restarted", pod("Always", "Running", last_terminated=True, message="m"), "Degraded",
         "m", f"{ENGINE}/health_pod.go: LastTerminationState"),
    Case("pod-no-restart-policy-running", pod(None, "Running", ready=True), "Unknown", "",
         f"{ENGINE}/health_pod.go: an empty restartPolicy matches no case"),
    Case("pod-failed-exit-code", obj("v1", "Pod", {"restartPolicy": "Never"}, {"phase": "Failed", "containerStatuses": [
         {"name": "main", "state": {"terminated": {"exitCode": 3}}}]}), "Degraded",
         'container "main" failed with exit code 3', f"{ENGINE}/health_pod.go getFailMessage"),
    Case("pod-deleting-with-finalizers", obj("v1", "Pod", {"restartPolicy": "Always"}, {"phase": "Running"},
         deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["example.com/a", "example.com/b"]), "Progressing",
         "Pending deletion; blocked by finalizers: example.com/a, example.com/b",
         f"{ENGINE}/health_test.go TestPendingDeletionHealth"),
    Case("pod-deleting-hook-finalizer", obj("v1", "Pod", {"restartPolicy": "Never"}, {"phase": "Succeeded"},
         deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["argocd.argoproj.io/hook-finalizer"]), "Healthy", "",
         f"{ENGINE}/health_test.go: hook finalizer skips pending deletion"),
    Case("widget-deleting", obj("widgets.example.com/v1", "Widget", deletionTimestamp="2024-01-01T00:00:00Z"),
         "Progressing", "Pending deletion", f"{ENGINE}/health_test.go: no health check uses default pending deletion"),
    Case("pod-v2-unsupported-not-overlaid", obj("v2", "Pod", deletionTimestamp="2024-01-01T00:00:00Z"), "Unknown",
         "unsupported Pod GVK: /v2, Kind=Pod", f"{ENGINE}/health.go: an error is returned before the overlay"),
    # -- health_service.go, health_ingress.go, health_pvc.go
    Case("svc-lb-pending", obj("v1", "Service", {"type": "LoadBalancer"}, {"loadBalancer": {}}), "Progressing", "",
         f"{ENGINE}/testdata/svc-loadbalancer-unassigned.yaml"),
    Case("ingress-any-version", obj("extensions/v1beta1", "Ingress", {}, {"loadBalancer": {"ingress": [
         {"ip": "1.2.3.4"}]}}), "Healthy", "", f"{ENGINE}/health_ingress.go"),
    Case("pvc-no-phase", obj("v1", "PersistentVolumeClaim", {}, {}), "Unknown", "", f"{ENGINE}/health_pvc.go"),
    # -- health_job.go
    Case("job-suspended", obj("batch/v1", "Job", {}, {"conditions": [cond("Suspended", "True", "JobSuspended",
         "Job suspended")]}), "Suspended", "Job suspended", f"{ENGINE}/health_test.go TestJob (job-suspended.yaml)"),
    Case("job-resumed", obj("batch/v1", "Job", {}, {"conditions": [cond("Suspended", "False", "JobResumed",
         "Job resumed")]}), "Healthy", "Job resumed", f"{ENGINE}/health_job.go: Suspended counts as complete"),
    # -- health_hpa.go
    Case("hpa-v2-steady", hpa_v2([cond("AbleToScale", "True", "ReadyForNewScale", "recommended size matches"),
         cond("ScalingActive", "True", "ValidMetricFound"), cond("ScalingLimited", "False", "DesiredWithinRange")]),
         "Healthy", "recommended size matches", f"{ENGINE}/health_hpa.go isHealthy: AbleToScale True"),
    Case("hpa-v2-object-metric", hpa_v2([cond("AbleToScale", "True", "SucceededGetScale", "ok"),
         cond("ScalingActive", "False", "FailedGetObjectMetric", "no metrics")]), "Degraded", "no metrics",
         f"{ENGINE}/health_hpa.go isDegraded"),
    Case("hpa-v2-compute-replicas", hpa_v2([cond("ScalingActive", "False", "FailedComputeMetricsReplicas",
         "invalid metrics")]), "Degraded", "invalid metrics", f"{ENGINE}/health_hpa.go isDegraded"),
    Case("hpa-v1-steady", hpa_v1([cond("AbleToScale", "True", "SucceededRescale", "rescaled")]), "Healthy",
         "rescaled", f"{ENGINE}/testdata/hpa-v1-healthy.yaml"),
    Case("hpa-v1-no-annotation", hpa_v1(None), "Progressing", "Waiting to Autoscale",
         f"{ENGINE}/testdata/hpa-v1-progressing-with-no-annotations.yaml"),
    Case("hpa-v2beta2-unsupported", obj("autoscaling/v2beta2", "HorizontalPodAutoscaler", {}, {}), "Unknown",
         "unsupported HPA GVK: autoscaling/v2beta2, Kind=HorizontalPodAutoscaler", f"{ENGINE}/health_hpa.go"),
    # -- health_apiservice.go, health_argo.go
    Case("apiservice-available", obj("apiregistration.k8s.io/v1", "APIService", {}, {"conditions": [
         cond("Available", "True", "Passed", "all checks passed")]}), "Healthy", "Passed: all checks passed",
         f"{ENGINE}/testdata/apiservice-v1-true.yaml"),
    Case("apiservice-waiting", obj("apiregistration.k8s.io/v1beta1", "APIService", {}, {}), "Progressing",
         "Waiting to be processed", f"{ENGINE}/health_apiservice.go"),
    Case("workflow-failed", obj("argoproj.io/v1alpha1", "Workflow", {}, {"phase": "Failed", "message": "step x"}),
         "Degraded", "step x", f"{ENGINE}/health_argo.go"),
    Case("configmap-no-health", obj("v1", "ConfigMap"), None, "", f"{ENGINE}/health.go GetHealthCheckFunc"),
    # -- Argo CD's Lua scripts
    Case("rollout-paused", obj("argoproj.io/v1alpha1", "Rollout", {}, {"observedGeneration": "1", "phase": "Paused",
         "message": "CanaryPauseStep"}, generation=1), "Suspended", "CanaryPauseStep",
         f"{LUA}/argoproj.io/Rollout/health.lua"),
    Case("rollout-bad-phase", obj("argoproj.io/v1alpha1", "Rollout", {}, {"observedGeneration": 1, "phase": "Weird"},
         generation=1), "Unknown", "Lua returned an invalid health status", "argo-cd util/lua/lua.go ExecuteHealthLua"),
    Case("analysisrun-empty-message", obj("argoproj.io/v1alpha1", "AnalysisRun", {}, {"phase": "Failed",
         "message": ""}), "Degraded", "", f"{LUA}/argoproj.io/AnalysisRun/health.lua messageOrDefault"),
    Case("analysisrun-unknown-phase", obj("argoproj.io/v1alpha1", "AnalysisRun", {}, {"phase": "Odd"}), None, "",
         "argo-cd util/lua/lua.go: an empty table is an empty health"),
    Case("pdb-insufficient-pods", obj("policy/v1", "PodDisruptionBudget", {}, {"conditions": [
         cond("DisruptionAllowed", "False", "InsufficientPods")]}), "Healthy", "PodDisruptionBudget has InsufficientPods",
         f"{LUA}/policy/PodDisruptionBudget/health.lua"),
    Case("certificate-issuing-first", obj("cert-manager.io/v1", "Certificate", {}, {"conditions": [
         cond("Ready", "True", "Ready", "ok"), cond("Issuing", "True", "Renewing", "renewing")]}), "Progressing",
         "renewing", f"{LUA}/cert-manager.io/Certificate/health.lua"),
    Case("scaledobject-paused", obj("keda.sh/v1alpha1", "ScaledObject", {}, {"conditions": [
         cond("Ready", "True", message="ready"), cond("Paused", "True", message="paused")]}), "Suspended", "paused",
         f"{LUA}/keda.sh/ScaledObject/health.lua"),
    Case("crossplane-composition", obj("apiextensions.crossplane.io/v1", "Composition", {}), "Healthy",
         "Resource is up-to-date.", f"{LUA}/_.crossplane.io/_/health.lua"),
    Case("crossplane-managed-synced-false", obj("ec2.aws.crossplane.io/v1beta1", "VPC", {}, {"conditions": [
         cond("Ready", "True"), cond("Synced", "False", message="cannot create")]}), "Degraded", "cannot create",
         f"{LUA}/_.crossplane.io/_/health.lua (wildcard)"),
    Case("helmrelease-suspended", obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", {"suspend": True}), "Suspended",
         "HelmRelease is suspended", f"{LUA}/helm.toolkit.fluxcd.io/HelmRelease/health.lua"),
    Case("cronjob-never-scheduled", obj("batch/v1", "CronJob", {"schedule": "* * * * *"}, {}), "Healthy",
         "CronJob has not been scheduled yet", f"{LUA}/batch/CronJob/health.lua"),
    Case("istio-virtualservice-no-health", obj("networking.istio.io/v1", "VirtualService", {}), None, "",
         "argo-cd resource_customizations: no script for networking.istio.io"),
]


# -- generated variations ----------------------------------------------------------------------------------------

Gen = Callable[[random.Random], Obj]
STATUSES = ("True", "False", "Unknown")
MESSAGES = (None, "", "all good", "waiting for x", "failed: y")


def _maybe(r: random.Random, value: Any, p: float = 0.8) -> Any:
    return value if r.random() < p else None


def _drop_none(d: Obj) -> Obj:
    return {k: v for k, v in d.items() if v is not None}


def _conds(r: random.Random, types: tuple[str, ...], reasons: tuple[str, ...] = ("", "Some", "Other"),
           n: int = 4) -> list[Obj]:
    out = []
    for _ in range(r.randint(0, n)):
        c = {"type": r.choice(types), "status": r.choice(STATUSES), "reason": _maybe(r, r.choice(reasons) or None),
             "message": r.choice(MESSAGES)}
        out.append(_drop_none(c))
    return out


def _meta(r: random.Random, *, generation: bool = True) -> Obj:
    meta: Obj = {"name": r.choice(["web", "db"]), "namespace": "ns"}
    if generation and r.random() < 0.9:
        meta["generation"] = r.randint(1, 3)
    roll = r.random()
    if roll < 0.08:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    elif roll < 0.12:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
        meta["finalizers"] = r.choice([["example.com/f"], ["argocd.argoproj.io/hook-finalizer"], ["a", "b"]])
    return meta


def _small(r: random.Random, top: int = 4) -> int:
    return r.randint(0, top)


def gen_deployment(r: random.Random) -> Obj:
    spec = _drop_none({"replicas": _maybe(r, _small(r)), "paused": _maybe(r, r.random() < 0.15, 0.3)})
    status = _drop_none({"observedGeneration": _maybe(r, r.randint(0, 3)), "replicas": _maybe(r, _small(r, 5)),
                         "updatedReplicas": _maybe(r, _small(r)), "availableReplicas": _maybe(r, _small(r)),
                         "conditions": _conds(r, ("Progressing", "Available"),
                                              ("ProgressDeadlineExceeded", "NewReplicaSetAvailable"))})
    api = r.choice(["apps/v1"] * 9 + ["apps/v1beta2"])
    return {"apiVersion": api, "kind": "Deployment", "metadata": _meta(r), "spec": spec, "status": status}


def gen_statefulset(r: random.Random) -> Obj:
    strategy: Obj = r.choice([{}, {"type": "OnDelete"}, {"type": "RollingUpdate"},
                              {"type": "RollingUpdate", "rollingUpdate": {}},
                              {"type": "RollingUpdate", "rollingUpdate": {"partition": _small(r, 3)}},
                              {"rollingUpdate": {"partition": 1}}])
    spec = _drop_none({"replicas": _maybe(r, _small(r)), "updateStrategy": strategy or None})
    rev = ["web-1", "web-2"]
    status = _drop_none({"observedGeneration": _maybe(r, r.randint(0, 3)), "readyReplicas": _small(r),
                         "updatedReplicas": _small(r), "currentReplicas": _small(r),
                         "currentRevision": _maybe(r, r.choice(rev)), "updateRevision": _maybe(r, r.choice(rev))})
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(r), "spec": spec, "status": status}


def gen_daemonset(r: random.Random) -> Obj:
    spec = _drop_none({"updateStrategy": _maybe(r, {"type": r.choice(["OnDelete", "RollingUpdate"])}, 0.5)})
    status = _drop_none({"observedGeneration": _maybe(r, r.randint(0, 3)), "desiredNumberScheduled": _small(r),
                         "updatedNumberScheduled": _small(r), "numberAvailable": _small(r)})
    return {"apiVersion": r.choice(["apps/v1"] * 5 + ["extensions/v1beta1"]), "kind": "DaemonSet",
            "metadata": _meta(r), "spec": spec, "status": status}


def gen_replicaset(r: random.Random) -> Obj:
    spec = _drop_none({"replicas": _maybe(r, _small(r))})
    status = _drop_none({"observedGeneration": _maybe(r, r.randint(0, 3)), "availableReplicas": _small(r),
                         "conditions": _conds(r, ("ReplicaFailure",), ("FailedCreate",), 2)})
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": _meta(r), "spec": spec, "status": status}


WAITING = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
           "ContainerCreating", "PodInitializing", "InvalidImageName", "RunContainerError")


def _container(r: random.Random, name: str) -> Obj:
    state: Obj = r.choice([{}, {"running": {}}, {"waiting": _drop_none({"reason": r.choice(WAITING),
                           "message": _maybe(r, f"msg {name}")})},
                           {"terminated": _drop_none({"exitCode": r.choice([0, 0, 1, 137]),
                                                      "reason": _maybe(r, r.choice(["Error", "OOMKilled",
                                                                                    "Completed"])),
                                                      "message": _maybe(r, "died", 0.3)})}])
    ctr: Obj = {"name": name, "ready": r.random() < 0.5, "restartCount": 0, "image": "i", "imageID": "",
                "state": state}
    if r.random() < 0.3:
        ctr["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
    return ctr


def gen_pod(r: random.Random) -> Obj:
    annotations: Obj = {}
    if r.random() < 0.4:
        annotations["argocd.argoproj.io/ignore-restart-policy"] = r.choice(["true", "false", "True"])
    hook = r.random()
    if hook < 0.15:
        annotations["argocd.argoproj.io/hook"] = r.choice(["PreSync", "Skip", "Skip,PostSync", "garbage", ""])
    elif hook < 0.25:
        annotations["helm.sh/hook"] = r.choice(["pre-install", "crd-install", "test"])
    meta = _meta(r, generation=False)
    if annotations:
        meta["annotations"] = annotations
    spec = _drop_none({"containers": [{"name": "a", "image": "i"}],
                       "restartPolicy": _maybe(r, r.choice(["Always", "OnFailure", "Never"]), 0.9)})
    status = _drop_none({
        "phase": _maybe(r, r.choice(["Pending", "Running", "Succeeded", "Failed", "Unknown"]), 0.95),
        "message": _maybe(r, "node lost", 0.2),
        "conditions": [{"type": "Ready", "status": r.choice(["True", "False"])}] if r.random() < 0.8 else None,
        "containerStatuses": [_container(r, n) for n in ("a", "b")[:r.randint(0, 2)]],
        "initContainerStatuses": [_container(r, "init")] if r.random() < 0.2 else None,
    })
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def gen_service(r: random.Random) -> Obj:
    spec = {"type": r.choice(["ClusterIP", "LoadBalancer", "NodePort"])}
    status = {"loadBalancer": r.choice([{}, {"ingress": []}, {"ingress": [{"ip": "10.0.0.1"}]}])}
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(r), "spec": spec, "status": status}


def gen_ingress(r: random.Random) -> Obj:
    status = r.choice([{}, {"loadBalancer": {}}, {"loadBalancer": {"ingress": [{"hostname": "h"}]}}])
    return {"apiVersion": r.choice(["networking.k8s.io/v1", "extensions/v1beta1"]), "kind": "Ingress",
            "metadata": _meta(r), "spec": {}, "status": status}


def gen_pvc(r: random.Random) -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(r), "spec": {},
            "status": _drop_none({"phase": _maybe(r, r.choice(["Bound", "Pending", "Lost", "Other"]))})}


def gen_job(r: random.Random) -> Obj:
    status = {"conditions": _conds(r, ("Complete", "Failed", "Suspended", "FailureTarget", "SuccessCriteriaMet"))}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(r), "spec": {}, "status": status}


HPA_REASONS = ("FailedGetScale", "FailedUpdateScale", "FailedGetResourceMetric", "FailedGetObjectMetric",
               "FailedGetPodsMetric", "FailedGetExternalMetric", "FailedComputeMetricsReplicas", "InvalidSelector",
               "SucceededRescale", "ReadyForNewScale", "ValidMetricFound", "DesiredWithinRange", "TooFewReplicas",
               "TooManyReplicas", "ScaleDownStabilized")


def gen_hpa(r: random.Random) -> Obj:
    conditions = _conds(r, ("AbleToScale", "ScalingActive", "ScalingLimited"), HPA_REASONS)
    version = r.choice(["v1", "v2", "v2", "v2beta2"])
    if version == "v1":
        import json

        which = r.random()
        meta = _meta(r)
        if which < 0.8:
            meta["annotations"] = {HPA_V1_ANNOTATION: json.dumps(conditions)}
        elif which < 0.9:
            meta["annotations"] = {HPA_V1_ANNOTATION: "[]"}
        return {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": meta,
                "spec": {"maxReplicas": 3}, "status": {"currentReplicas": 1}}
    return {"apiVersion": f"autoscaling/{version}", "kind": "HorizontalPodAutoscaler", "metadata": _meta(r),
            "spec": {"maxReplicas": 3}, "status": {"conditions": conditions}}


def gen_apiservice(r: random.Random) -> Obj:
    return {"apiVersion": r.choice(["apiregistration.k8s.io/v1", "apiregistration.k8s.io/v1beta1"]),
            "kind": "APIService", "metadata": _meta(r), "spec": {},
            "status": {"conditions": _conds(r, ("Available", "Other"), ("Passed", "FailedDiscoveryCheck"))}}


def gen_workflow(r: random.Random) -> Obj:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": _meta(r), "spec": {},
            "status": _drop_none({"phase": _maybe(r, r.choice(["Pending", "Running", "Succeeded", "Failed",
                                                               "Error", "Odd"])), "message": r.choice(MESSAGES)})}


def gen_rollout(r: random.Random) -> Obj:
    strategy = r.choice([{"canary": {}}, {"blueGreen": {"activeService": "a"}}])
    hashes = ["abc", "def"]
    status = _drop_none({
        "observedGeneration": r.choice([1, 2, "1", "2", "6f8f"]),
        "phase": _maybe(r, r.choice(["Healthy", "Paused", "Progressing", "Degraded"]), 0.5),
        "message": _maybe(r, r.choice(["CanaryPauseStep", "more replicas need to be updated"])),
        "replicas": _small(r), "updatedReplicas": _small(r), "availableReplicas": _small(r),
        "currentPodHash": _maybe(r, r.choice(hashes)), "stableRS": _maybe(r, r.choice(hashes)),
        "blueGreen": {"activeSelector": r.choice(hashes)} if "blueGreen" in strategy else None,
        "pauseConditions": [{"reason": "CanaryPauseStep"}] if r.random() < 0.2 else None,
        "conditions": _conds(r, ("Progressing", "InvalidSpec", "Available"),
                             ("RolloutAborted", "ProgressDeadlineExceeded", "NewReplicaSetAvailable"), 2),
    })
    spec = _drop_none({"replicas": _maybe(r, _small(r)), "strategy": strategy,
                       "paused": _maybe(r, True, 0.1)})
    meta = _meta(r, generation=False)
    meta["generation"] = r.randint(1, 2)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": meta, "spec": spec,
            "status": status}


def gen_phase_kind(kind: str, phases: tuple[str, ...]) -> Gen:
    def gen(r: random.Random) -> Obj:
        out: Obj = {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": _meta(r), "spec": {}}
        if r.random() < 0.9:
            out["status"] = _drop_none({"phase": _maybe(r, r.choice(phases), 0.95), "message": r.choice(MESSAGES)})
        return out

    return gen


def gen_conditions_kind(api: str, kind: str, types: tuple[str, ...], reasons: tuple[str, ...] = ("", "Some"),
                        spec: Callable[[random.Random], Obj] | None = None) -> Gen:
    def gen(r: random.Random) -> Obj:
        out: Obj = {"apiVersion": api, "kind": kind, "metadata": _meta(r), "spec": spec(r) if spec else {}}
        roll = r.random()
        if roll < 0.8:
            out["status"] = {"conditions": _conds(r, types, reasons)}
        elif roll < 0.9:
            out["status"] = {}
        return out

    return gen


def _suspend(r: random.Random) -> Obj:
    return _drop_none({"suspend": _maybe(r, r.random() < 0.5, 0.3),
                       "type": _maybe(r, "oci", 0.2)})


def gen_crossplane(api: str, kinds: tuple[str, ...]) -> Gen:
    def gen(r: random.Random) -> Obj:
        out: Obj = {"apiVersion": api, "kind": r.choice(kinds), "metadata": _meta(r),
                    "spec": _drop_none({"state": _maybe(r, "Active", 0.3)})}
        roll = r.random()
        if roll < 0.7:
            out["status"] = {"conditions": _conds(r, ("Ready", "Synced", "LastAsyncOperation", "Healthy",
                                                      "Established", "Offered", "ValidPipeline"),
                                                  ("InactiveManagedResource", "Available", "ReconcileError"))}
        elif roll < 0.85:
            out["status"] = {"users": 2} if r.random() < 0.5 else {}
        return out

    return gen


def gen_knative(r: random.Random) -> Obj:
    # Knative always writes type and status on a condition (the script concatenates both).
    return gen_conditions_kind("serving.knative.dev/v1", "Service", ("ConfigurationsReady", "RoutesReady", "Ready",
                                                                     "Other"), ("RevisionMissing", ""))(r)


def gen_cronjob(r: random.Random) -> Obj:
    times = ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"]
    status = _drop_none({"lastScheduleTime": _maybe(r, r.choice(times)),
                         "lastSuccessfulTime": _maybe(r, r.choice(times)),
                         "active": _maybe(r, r.choice([[], [{"name": "j"}]]))})
    out: Obj = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta(r),
                "spec": _drop_none({"schedule": "* * * * *", "suspend": _maybe(r, r.random() < 0.3, 0.5)})}
    if r.random() < 0.9:
        out["status"] = status
    return out


def gen_pdb(r: random.Random) -> Obj:
    out: Obj = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(r), "spec": {}}
    if r.random() < 0.9:
        conditions = [{"type": "DisruptionAllowed", "status": r.choice(STATUSES),
                       "reason": r.choice(["SufficientPods", "InsufficientPods", "SyncFailed"])}
                      for _ in range(r.randint(0, 2))]
        out["status"] = {"conditions": conditions}
    return out


def gen_provider(r: random.Random) -> Obj:
    return gen_conditions_kind("pkg.crossplane.io/v1", "Provider", ("Installed", "Healthy"),
                               ("ActivePackageRevision", "HealthyPackageRevision", "UnhealthyPackageRevision"))(r)


GENERATORS: dict[str, tuple[Gen, int]] = {
    "Deployment": (gen_deployment, 250), "StatefulSet": (gen_statefulset, 200), "DaemonSet": (gen_daemonset, 120),
    "ReplicaSet": (gen_replicaset, 100), "Pod": (gen_pod, 400), "Service": (gen_service, 40),
    "Ingress": (gen_ingress, 30), "PVC": (gen_pvc, 30), "Job": (gen_job, 150), "HPA": (gen_hpa, 250),
    "APIService": (gen_apiservice, 60), "Workflow": (gen_workflow, 50), "Rollout": (gen_rollout, 250),
    "AnalysisRun": (gen_phase_kind("AnalysisRun", ("Pending", "Running", "Successful", "Failed", "Error",
                                                   "Inconclusive", "Odd")), 80),
    "Experiment": (gen_phase_kind("Experiment", ("Pending", "Running", "Successful", "Failed", "Error", "Odd")), 50),
    "CronWorkflow": (gen_conditions_kind("argoproj.io/v1alpha1", "CronWorkflow",
                                         ("SpecError", "SubmissionError", "Completed", "Other")), 50),
    "ApplicationSet": (gen_conditions_kind("argoproj.io/v1alpha1", "ApplicationSet",
                                           ("ErrorOccurred", "ResourcesUpToDate", "RolloutProgressing",
                                            "ParametersGenerated")), 60),
    "EventBus": (gen_conditions_kind("argoproj.io/v1alpha1", "EventBus", ("Deployed", "Configured")), 40),
    "Certificate": (gen_conditions_kind("cert-manager.io/v1", "Certificate", ("Ready", "Issuing")), 80),
    "CertificateRequest": (gen_conditions_kind("cert-manager.io/v1", "CertificateRequest",
                                               ("Ready", "Denied", "InvalidRequest", "Approved"),
                                               ("Pending", "Failed", "Issued")), 60),
    "Issuer": (gen_conditions_kind("cert-manager.io/v1", "Issuer", ("Ready", "Other")), 40),
    "ClusterIssuer": (gen_conditions_kind("cert-manager.io/v1", "ClusterIssuer", ("Ready", "Other")), 40),
    "ExternalSecret": (gen_conditions_kind("external-secrets.io/v1", "ExternalSecret", ("Ready", "Deleted")), 40),
    "SecretStore": (gen_conditions_kind("external-secrets.io/v1", "SecretStore", ("Ready",)), 30),
    "ClusterSecretStore": (gen_conditions_kind("external-secrets.io/v1", "ClusterSecretStore", ("Ready",)), 30),
    "PushSecret": (gen_conditions_kind("external-secrets.io/v1alpha1", "PushSecret", ("Ready",)), 30),
    "ClusterExternalSecret": (gen_conditions_kind("external-secrets.io/v1", "ClusterExternalSecret",
                                                  ("Ready", "PartiallyReady", "NotReady")), 50),
    "ScaledObject": (gen_conditions_kind("keda.sh/v1alpha1", "ScaledObject", ("Ready", "Active", "Fallback",
                                                                              "Paused")), 80),
    "ScaledJob": (gen_conditions_kind("keda.sh/v1alpha1", "ScaledJob", ("Ready", "Active", "Paused")), 60),
    "Crossplane": (gen_crossplane("apiextensions.crossplane.io/v1", ("Composition", "CompositeResourceDefinition",
                                                                     "XPostgres", "ProviderConfig")), 80),
    "CrossplaneManaged": (gen_crossplane("ec2.aws.crossplane.io/v1beta1", ("VPC", "ProviderConfig")), 60),
    "Upbound": (gen_crossplane("s3.aws.upbound.io/v1beta1", ("Bucket", "ProviderConfig", "StoreConfig")), 60),
    "Provider": (gen_provider, 50),
    "KnativeService": (gen_knative, 80),
    "HelmRelease": (gen_conditions_kind("helm.toolkit.fluxcd.io/v2", "HelmRelease",
                                        ("Ready", "Reconciling", "Released", "TestSuccess", "Remediated"),
                                        ("InstallSucceeded", "Progressing", "UpgradeFailed"), _suspend), 80),
    "Kustomization": (gen_conditions_kind("kustomize.toolkit.fluxcd.io/v1", "Kustomization",
                                          ("Ready", "Reconciling", "Healthy"),
                                          ("ReconciliationSucceeded", "Progressing", "BuildFailed"), _suspend), 60),
    "GitRepository": (gen_conditions_kind("source.toolkit.fluxcd.io/v1", "GitRepository",
                                          ("Ready", "Reconciling", "ArtifactInStorage", "ArtifactOutdated"),
                                          ("Succeeded", "Progressing", "NewRevision"), _suspend), 60),
    "HelmRepository": (gen_conditions_kind("source.toolkit.fluxcd.io/v1", "HelmRepository",
                                           ("Ready", "Reconciling", "ArtifactInStorage", "ArtifactOutdated"),
                                           ("Succeeded", "Progressing", "NewRevision"), _suspend), 50),
    "PDB": (gen_pdb, 60),
    "CronJob": (gen_cronjob, 60),
}


def generated(seed: int = 15) -> Iterator[tuple[str, Obj]]:
    for name, (gen, count) in GENERATORS.items():
        r = random.Random(f"{seed}-{name}")
        for i in range(count):
            yield f"{name}-{i}", gen(r)
