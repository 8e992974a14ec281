"""The kinds gitops-engine assesses in Go (its ``pkg/health``, as pinned by Argo CD v3.6): same rules, same messages.

Why this module exists: Argo CD's health of a Deployment, Pod, Job, HPA... is this code's answer, and users read
it in ``status.health`` and wait on it between sync waves. gitops-engine converts the object to its typed Go
struct first, so only the versions it knows are assessed (``apps/v1`` Deployment; ``autoscaling/v1`` and
``v2`` HPA; ``apiregistration.k8s.io/v1`` and ``v1beta1`` APIService...), another version of a known kind is
*Unknown* with the message ``unsupported <Kind> GVK: <group/version, Kind=...>``, and a field that is absent
reads as Go's zero value (a Pod without ``restartPolicy`` is not "Always"). Every rule is checked against the
Go code itself by tests/unit/gitops/test_health_oracle.py. Pure functions over plain dicts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rollouts.api.application import HealthStatusCode as H
from rollouts.gitops.health.model import (
    Health,
    HealthCheck,
    Obj,
    annotations_of,
    conditions_of,
    gvk_text,
    integer,
    items,
    mapping,
    meta_of,
    optional_integer,
    spec_of,
    status_of,
    text,
    version_of,
)

HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"
HOOK_TYPES = frozenset({"PreSync", "Sync", "PostSync", "SyncFail", "Skip"})


class UnsupportedVersion(Exception):
    """A known kind at a version gitops-engine has no typed struct for: Argo CD reports it Unknown."""


def _only(obj: Obj, *versions: str, kind: str) -> None:
    if version_of(obj) not in versions:
        raise UnsupportedVersion(f"unsupported {kind} GVK: {gvk_text(obj)}")


def _generation(obj: Obj) -> int:
    return integer(meta_of(obj).get("generation"))


# -- apps/v1 --------------------------------------------------------------------------------------------------


def deployment_health(obj: Obj) -> Health:
    """Paused -> Suspended; unobserved generation, or replicas still moving -> Progressing; deadline -> Degraded.

    replicas 3, updated 2 -> Progressing "Waiting for rollout to finish: 2 out of 3 new replicas have been
    updated..."; updated 3 of 4 total -> "1 old replicas are pending termination..."; all available -> Healthy.
    """
    _only(obj, "v1", kind="Deployment")
    spec, status = spec_of(obj), status_of(obj)
    if spec.get("paused") is True:
        return Health(H.SUSPENDED, "Deployment is paused")
    if _generation(obj) > integer(status.get("observedGeneration")):
        return Health(H.PROGRESSING,
                      "Waiting for rollout to finish: observed deployment generation less than desired generation")
    progressing = next((c for c in conditions_of(obj) if c.get("type") == "Progressing"), None)
    replicas = optional_integer(spec.get("replicas"))
    updated, total = integer(status.get("updatedReplicas")), integer(status.get("replicas"))
    available = integer(status.get("availableReplicas"))
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Health(H.DEGRADED, f'Deployment "{text(meta_of(obj).get("name"))}" exceeded its progress deadline')
    if replicas is not None and updated < replicas:
        return Health(H.PROGRESSING,
                      f"Waiting for rollout to finish: {updated} out of {replicas} new replicas have been updated...")
    if total > updated:
        return Health(H.PROGRESSING,
                      f"Waiting for rollout to finish: {total - updated} old replicas are pending termination...")
    if available < updated:
        return Health(H.PROGRESSING,
                      f"Waiting for rollout to finish: {available} of {updated} updated replicas are available...")
    return Health(H.HEALTHY)


def statefulset_health(obj: Obj) -> Health:
    """Unobserved -> Progressing; fewer ready than replicas -> Progressing; then by update strategy.

    RollingUpdate with a ``rollingUpdate`` block: a partition of 2 of 5 replicas waits for 3 updated pods, then
    Healthy "partitioned roll out complete: 3 new pods have been updated..." (also without a partition);
    OnDelete -> Healthy "statefulset has N ready pods"; otherwise current vs update revision.
    """
    _only(obj, "v1", kind="StatefulSet")
    spec, status = spec_of(obj), status_of(obj)
    observed = integer(status.get("observedGeneration"))
    if observed == 0 or _generation(obj) > observed:
        return Health(H.PROGRESSING, "Waiting for statefulset spec update to be observed...")
    replicas = optional_integer(spec.get("replicas"))
    ready, updated = integer(status.get("readyReplicas")), integer(status.get("updatedReplicas"))
    if replicas is not None and ready < replicas:
        return Health(H.PROGRESSING, f"Waiting for {replicas - ready} pods to be ready...")
    strategy = mapping(spec.get("updateStrategy"))
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "RollingUpdate" and isinstance(rolling, Mapping):
        partition = optional_integer(rolling.get("partition"))
        if replicas is not None and partition is not None and updated < replicas - partition:
            return Health(H.PROGRESSING,
                          f"Waiting for partitioned roll out to finish: {updated} out of {replicas - partition} "
                          "new pods have been updated...")
        return Health(H.HEALTHY, f"partitioned roll out complete: {updated} new pods have been updated...")
    if strategy.get("type") == "OnDelete":
        return Health(H.HEALTHY, f"statefulset has {ready} ready pods")
    current, update = text(status.get("currentRevision")), text(status.get("updateRevision"))
    if update != current:
        return Health(H.PROGRESSING,
                      f"waiting for statefulset rolling update to complete {updated} pods at revision {update}...")
    return Health(H.HEALTHY,
                  f"statefulset rolling update complete {integer(status.get('currentReplicas'))} pods at revision "
                  f"{current}...")


def daemonset_health(obj: Obj) -> Health:
    """desired 3, updated 2 -> Progressing "... 2 out of 3 new pods have been updated..."; OnDelete -> Healthy."""
    _only(obj, "v1", kind="DaemonSet")
    spec, status, name = spec_of(obj), status_of(obj), text(meta_of(obj).get("name"))
    if _generation(obj) > integer(status.get("observedGeneration")):
        return Health(H.PROGRESSING,
                      "Waiting for rollout to finish: observed daemon set generation less than desired generation")
    desired, updated = integer(status.get("desiredNumberScheduled")), integer(status.get("updatedNumberScheduled"))
    if mapping(spec.get("updateStrategy")).get("type") == "OnDelete":
        return Health(H.HEALTHY, f"daemon set {updated} out of {desired} new pods have been updated")
    if updated < desired:
        return Health(H.PROGRESSING,
                      f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods have '
                      "been updated...")
    available = integer(status.get("numberAvailable"))
    if available < desired:
        return Health(H.PROGRESSING,
                      f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods '
                      "are available...")
    return Health(H.HEALTHY)


def replicaset_health(obj: Obj) -> Health:
    _only(obj, "v1", kind="ReplicaSet")
    spec, status = spec_of(obj), status_of(obj)
    if _generation(obj) > integer(status.get("observedGeneration")):
        return Health(H.PROGRESSING,
                      "Waiting for rollout to finish: observed replica set generation less than desired generation")
    failure = next((c for c in conditions_of(obj) if c.get("type") == "ReplicaFailure"), None)
    replicas = optional_integer(spec.get("replicas"))
    available = integer(status.get("availableReplicas"))
    if failure is not None and failure.get("status") == "True":
        return Health(H.DEGRADED, text(failure.get("message")))
    if replicas is not None and available < replicas:
        return Health(H.PROGRESSING,
                      f"Waiting for rollout to finish: {available} out of {replicas} new replicas are available...")
    return Health(H.HEALTHY)


# -- core/v1 --------------------------------------------------------------------------------------------------


def _csv(value: Any) -> list[str]:
    seen: list[str] = []
    for part in text(value).split(","):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def is_hook(obj: Obj) -> bool:
    """gitops-engine ``hook.IsHook``: an Argo CD hook annotation that is not only ``Skip``, or a Helm hook."""
    annotations = annotations_of(obj)
    if HOOK_ANNOTATION in annotations:
        types = [t for t in _csv(annotations.get(HOOK_ANNOTATION)) if t in HOOK_TYPES]
        return not ("Skip" in types and len(types) == 1)
    return HELM_HOOK_ANNOTATION in annotations and annotations.get(HELM_HOOK_ANNOTATION) != "crd-install"


def _container_fail_message(ctr: Mapping[str, Any]) -> str:
    terminated = mapping(ctr.get("state")).get("terminated")
    if not isinstance(terminated, Mapping):
        return ""
    if text(terminated.get("message")):
        return text(terminated.get("message"))
    if terminated.get("reason") == "OOMKilled":
        return "OOMKilled"
    code = integer(terminated.get("exitCode"))
    if code != 0:
        return f'container "{text(ctr.get("name"))}" failed with exit code {code}'
    return ""


def _waiting_error_messages(containers: list[Mapping[str, Any]]) -> list[str]:
    """Messages of containers waiting on Err*/*Error/*BackOff (ErrImagePull, CreateContainerError,
    CrashLoopBackOff...)."""
    found = []
    for ctr in containers:
        waiting = mapping(ctr.get("state")).get("waiting")
        if not isinstance(waiting, Mapping):
            continue
        reason = text(waiting.get("reason"))
        if reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff"):
            found.append(text(waiting.get("message")))
    return found


def _failed_pod_message(message: str, status: Mapping[str, Any], containers: list[Mapping[str, Any]]) -> str:
    """The pod's message, else the first failed (init) container's, else empty."""
    if message:
        return message
    for ctr in items(status.get("initContainerStatuses")) + containers:
        fail = _container_fail_message(ctr)
        if fail:
            return fail
    return ""


def _running_pod_health(obj: Obj, *, long_running: bool, policy: object, message: str,
                        containers: list[Mapping[str, Any]]) -> Health:
    if long_running:
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions_of(obj)):
            return Health(H.HEALTHY, message)
        if any(isinstance(mapping(c.get("lastState")).get("terminated"), Mapping) for c in containers):
            return Health(H.DEGRADED, message)
        return Health(H.PROGRESSING, message)
    if policy in ("OnFailure", "Never"):
        return Health(H.PROGRESSING, message)
    return Health(H.UNKNOWN, message)


def pod_health(obj: Obj) -> Health:
    """A long-running pod (restartPolicy Always, or ``argocd.argoproj.io/ignore-restart-policy: "true"`` on a pod
    that is not a hook) waiting on Err*/*Error/*BackOff -> Degraded with the waiting messages; Pending ->
    Progressing; Succeeded -> Healthy; Failed -> Degraded (pod message, else the first failed container's);
    Running -> Healthy when Ready for a long-running pod, Progressing for a run-to-completion one."""
    _only(obj, "v1", kind="Pod")
    spec, status = spec_of(obj), status_of(obj)
    message = text(status.get("message"))
    policy = spec.get("restartPolicy")
    long_running = policy == "Always" or (annotations_of(obj).get(IGNORE_RESTART_POLICY) == "true"
                                          and not is_hook(obj))
    containers = items(status.get("containerStatuses"))
    waiting_messages = _waiting_error_messages(containers) if long_running else []
    if waiting_messages:
        return Health(H.DEGRADED, ", ".join(waiting_messages))
    phase = status.get("phase")
    if phase == "Pending":
        return Health(H.PROGRESSING, message)
    if phase == "Succeeded":
        return Health(H.HEALTHY, message)
    if phase == "Failed":
        return Health(H.DEGRADED, _failed_pod_message(message, status, containers))
    if phase == "Running":
        return _running_pod_health(obj, long_running=long_running, policy=policy, message=message,
                                   containers=containers)
    return Health(H.UNKNOWN, message)


def service_health(obj: Obj) -> Health:
    _only(obj, "v1", kind="Service")
    if spec_of(obj).get("type") == "LoadBalancer" and not items(
            mapping(status_of(obj).get("loadBalancer")).get("ingress")):
        return Health(H.PROGRESSING)
    return Health(H.HEALTHY)


def pvc_health(obj: Obj) -> Health:
    _only(obj, "v1", kind="PersistentVolumeClaim")
    phase = status_of(obj).get("phase")
    codes = {"Lost": H.DEGRADED, "Pending": H.PROGRESSING, "Bound": H.HEALTHY}
    return Health(codes.get(phase, H.UNKNOWN) if isinstance(phase, str) else H.UNKNOWN)


def ingress_health(obj: Obj) -> Health:
    """Any version: Healthy once the load balancer lists an ingress point."""
    ingress = mapping(status_of(obj).get("loadBalancer")).get("ingress")
    return Health(H.HEALTHY if isinstance(ingress, list) and ingress else H.PROGRESSING)


# -- batch/v1, autoscaling, apiregistration.k8s.io -------------------------------------------------------------


def job_health(obj: Obj) -> Health:
    """Failed -> Degraded (its message); Complete -> Healthy; Suspended True -> Suspended "Job suspended";
    no terminal condition -> Progressing."""
    _only(obj, "v1", kind="Job")
    failed = complete = suspended = False
    message = fail_message = ""
    for cond in conditions_of(obj):
        kind = cond.get("type")
        if kind == "Failed":
            failed = complete = True
            fail_message = text(cond.get("message"))
        elif kind == "Complete":
            complete = True
            message = text(cond.get("message"))
        elif kind == "Suspended":
            complete = True
            message = text(cond.get("message"))
            suspended = suspended or cond.get("status") == "True"
    if not complete:
        return Health(H.PROGRESSING, message)
    if failed:
        return Health(H.DEGRADED, fail_message)
    if suspended:
        return Health(H.SUSPENDED, message)
    return Health(H.HEALTHY, message)


_HPA_DEGRADED = frozenset({
    ("AbleToScale", "FailedGetScale"), ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"), ("ScalingActive", "FailedGetObjectMetric"),
    ("ScalingActive", "FailedGetPodsMetric"), ("ScalingActive", "FailedGetExternalMetric"),
    ("ScalingActive", "FailedComputeMetricsReplicas"), ("ScalingActive", "InvalidSelector"),
})
_HPA_WAITING = Health(H.PROGRESSING, "Waiting to Autoscale")


def _hpa_conditions_annotation(obj: Obj) -> list[Mapping[str, Any]] | None:
    """autoscaling/v1 keeps conditions in an annotation; Go's JSON decoder matches its keys case-insensitively."""
    raw = annotations_of(obj).get("autoscaling.alpha.kubernetes.io/conditions")
    if raw is None:
        return None
    try:
        decoded = json.loads(text(raw))
    except ValueError as exc:
        raise UnsupportedVersion(f"failed to convert conditions annotation to typed: {exc}") from None
    if decoded is None:
        return []
    if not isinstance(decoded, list) or not all(isinstance(c, dict) for c in decoded):
        raise UnsupportedVersion("failed to convert conditions annotation to typed: not a list of conditions")
    fields = ("type", "reason", "message", "status")
    conditions: list[Mapping[str, Any]] = []
    for cond in decoded:
        lowered = {str(k).lower(): v for k, v in cond.items()}
        conditions.append({f: text(lowered.get(f)) for f in fields})
    return conditions


def hpa_health(obj: Obj) -> Health:
    """Any condition that is a known failure reason (whatever its status) -> Degraded with its message; else an
    ``AbleToScale`` or ``ScalingLimited`` condition that is True -> Healthy (the steady state); else Progressing
    "Waiting to Autoscale". autoscaling/v1 reads the conditions from its annotation."""
    _only(obj, "v1", "v2", kind="HPA")
    if version_of(obj) == "v1":
        annotated = _hpa_conditions_annotation(obj)
        if not annotated:
            return _HPA_WAITING
        conditions: list[Mapping[str, Any]] = annotated
    else:
        conditions = conditions_of(obj)
    for cond in conditions:
        if (cond.get("type"), cond.get("reason")) in _HPA_DEGRADED:
            return Health(H.DEGRADED, text(cond.get("message")))
    for cond in conditions:
        if cond.get("type") in ("AbleToScale", "ScalingLimited") and cond.get("status") == "True":
            return Health(H.HEALTHY, text(cond.get("message")))
    return _HPA_WAITING


def apiservice_health(obj: Obj) -> Health:
    """The ``Available`` condition: True -> Healthy, otherwise Progressing, message "<reason>: <message>"."""
    _only(obj, "v1", "v1beta1", kind="APIService")
    for cond in conditions_of(obj):
        if cond.get("type") == "Available":
            code = H.HEALTHY if cond.get("status") == "True" else H.PROGRESSING
            return Health(code, f"{text(cond.get('reason'))}: {text(cond.get('message'))}")
    return Health(H.PROGRESSING, "Waiting to be processed")


def workflow_health(obj: Obj) -> Health:
    """Argo Workflows' Workflow (any version): phase "", Pending, Running -> Progressing; Succeeded -> Healthy;
    Failed, Error -> Degraded; the workflow's own message."""
    status = status_of(obj)
    phase, message = status.get("phase"), text(status.get("message"))
    phase = phase if isinstance(phase, str) else ""
    if phase in ("", "Pending", "Running"):
        return Health(H.PROGRESSING, message)
    if phase == "Succeeded":
        return Health(H.HEALTHY, message)
    if phase in ("Failed", "Error"):
        return Health(H.DEGRADED, message)
    return Health(H.UNKNOWN, message)


# (group, kind) -> check, exactly gitops-engine's GetHealthCheckFunc switch.
BUILTIN_CHECKS: dict[tuple[str, str], HealthCheck] = {
    ("apps", "Deployment"): deployment_health,
    ("apps", "StatefulSet"): statefulset_health,
    ("apps", "ReplicaSet"): replicaset_health,
    ("apps", "DaemonSet"): daemonset_health,
    ("extensions", "Ingress"): ingress_health,
    ("networking.k8s.io", "Ingress"): ingress_health,
    ("argoproj.io", "Workflow"): workflow_health,
    ("apiregistration.k8s.io", "APIService"): apiservice_health,
    ("", "Service"): service_health,
    ("", "PersistentVolumeClaim"): pvc_health,
    ("", "Pod"): pod_health,
    ("batch", "Job"): job_health,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa_health,
}
