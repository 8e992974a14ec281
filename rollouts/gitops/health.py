"""Resource health with the outcomes Argo CD gives for the same live objects.

Why this module exists: users read ``status.health`` the way Argo CD taught them, and wave ordering waits on
it, so every rule here follows Argo CD's built-in checks (gitops-engine) and its Lua scripts for Argo
Rollouts kinds: a Rollout in phase Paused is *Suspended*, an AnalysisRun that is Inconclusive is *Unknown*.
Kinds without a rule have no health (``None``), exactly as in Argo CD, and do not count toward the
application's health. Pure functions over plain dicts: no client, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.api.application import HealthStatusCode

Obj = Mapping[str, Any]

# Argo CD's order, best to worst: the application's health is the worst of its resources'.
HEALTH_ORDER: tuple[HealthStatusCode, ...] = (
    HealthStatusCode.HEALTHY,
    HealthStatusCode.SUSPENDED,
    HealthStatusCode.PROGRESSING,
    HealthStatusCode.MISSING,
    HealthStatusCode.DEGRADED,
    HealthStatusCode.UNKNOWN,
)


@dataclass(frozen=True, slots=True)
class Health:
    status: HealthStatusCode
    message: str = ""


def is_worse(current: HealthStatusCode, candidate: HealthStatusCode) -> bool:
    """Whether ``candidate`` is worse than ``current`` in Argo CD's order (Degraded is worse than Missing)."""
    return HEALTH_ORDER.index(candidate) > HEALTH_ORDER.index(current)


def worst(healths: Iterable[Health | None]) -> Health:
    """The application's health: the worst resource health, Healthy when nothing has a health."""
    result = Health(HealthStatusCode.HEALTHY)
    for health in healths:
        if health is not None and is_worse(result.status, health.status):
            result = health
    return result


def _status(obj: Obj) -> dict[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def _spec(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _meta(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def _generation_observed(obj: Obj) -> bool:
    return _int(_meta(obj).get("generation")) <= _int(_status(obj).get("observedGeneration"))


def _conditions(obj: Obj) -> list[dict[str, Any]]:
    conds = _status(obj).get("conditions")
    return [c for c in conds if isinstance(c, dict)] if isinstance(conds, list) else []


# -- apps/v1 ------------------------------------------------------------------------------------------------


def deployment_health(obj: Obj) -> Health:
    """Paused -> Suspended; deadline exceeded -> Degraded; replicas still moving -> Progressing.

    replicas 3, updated 2 -> Progressing "Waiting for rollout to finish: 2 out of 3 new replicas have been
    updated..."; updated 3, available 3, no old ones -> Healthy.
    """
    spec, status, name = _spec(obj), _status(obj), _meta(obj).get("name", "")
    if spec.get("paused"):
        return Health(HealthStatusCode.SUSPENDED, "Deployment is paused")
    if not _generation_observed(obj):
        return Health(HealthStatusCode.PROGRESSING,
                      "Waiting for rollout to finish: observed deployment generation less than desired generation")
    for cond in _conditions(obj):
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return Health(HealthStatusCode.DEGRADED, f'Deployment "{name}" exceeded its progress deadline')
    replicas = spec.get("replicas")
    updated = _int(status.get("updatedReplicas"))
    total = _int(status.get("replicas"))
    available = _int(status.get("availableReplicas"))
    if replicas is not None and updated < _int(replicas):
        return Health(HealthStatusCode.PROGRESSING,
                      f"Waiting for rollout to finish: {updated} out of {_int(replicas)} new replicas have been "
                      "updated...")
    if total > updated:
        return Health(HealthStatusCode.PROGRESSING,
                      f"Waiting for rollout to finish: {total - updated} old replicas are pending termination...")
    if available < updated:
        return Health(HealthStatusCode.PROGRESSING,
                      f"Waiting for rollout to finish: {available} of {updated} updated replicas are available...")
    return Health(HealthStatusCode.HEALTHY)


def statefulset_health(obj: Obj) -> Health:
    spec, status = _spec(obj), _status(obj)
    observed = _int(status.get("observedGeneration"))
    if observed == 0 or _int(_meta(obj).get("generation")) > observed:
        return Health(HealthStatusCode.PROGRESSING, "Waiting for statefulset spec update to be observed...")
    replicas = spec.get("replicas")
    ready = _int(status.get("readyReplicas"))
    if replicas is not None and ready < _int(replicas):
        return Health(HealthStatusCode.PROGRESSING, f"Waiting for {_int(replicas) - ready} pods to be ready...")
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") == "RollingUpdate" and replicas is not None:
        partition = (strategy.get("rollingUpdate") or {}).get("partition")
        if partition is not None:
            expected = _int(replicas) - _int(partition)
            updated = _int(status.get("updatedReplicas"))
            if updated < expected:
                return Health(HealthStatusCode.PROGRESSING,
                              f"Waiting for partitioned roll out to finish: {updated} out of {expected} new pods "
                              "have been updated...")
            return Health(HealthStatusCode.HEALTHY,
                          f"partitioned roll out complete: {updated} new pods have been updated...")
    if strategy.get("type") == "OnDelete":
        return Health(HealthStatusCode.HEALTHY, f"statefulset has {ready} ready pods")
    current, update = status.get("currentRevision"), status.get("updateRevision")
    if current != update:
        return Health(HealthStatusCode.PROGRESSING,
                      f"waiting for statefulset rolling update to complete {_int(status.get('updatedReplicas'))} "
                      f"pods at revision {update}...")
    return Health(HealthStatusCode.HEALTHY,
                  f"statefulset rolling update complete {_int(status.get('currentReplicas'))} pods at revision "
                  f"{current}...")


def daemonset_health(obj: Obj) -> Health:
    spec, status, name = _spec(obj), _status(obj), _meta(obj).get("name", "")
    observed = _int(status.get("observedGeneration"))
    if observed == 0 or _int(_meta(obj).get("generation")) > observed:
        return Health(HealthStatusCode.PROGRESSING, "Waiting for daemon set spec update to be observed...")
    desired = _int(status.get("desiredNumberScheduled"))
    updated = _int(status.get("updatedNumberScheduled"))
    if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
        return Health(HealthStatusCode.HEALTHY,
                      f"daemon set {updated} out of {desired} new pods have been updated")
    if updated < desired:
        return Health(HealthStatusCode.PROGRESSING,
                      f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods '
                      "have been updated...")
    available = _int(status.get("numberAvailable"))
    if available < desired:
        return Health(HealthStatusCode.PROGRESSING,
                      f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods '
                      "are available...")
    return Health(HealthStatusCode.HEALTHY)


def replicaset_health(obj: Obj) -> Health:
    spec, status = _spec(obj), _status(obj)
    if not _generation_observed(obj):
        return Health(HealthStatusCode.PROGRESSING,
                      "Waiting for rollout to finish: observed replica set generation less than desired generation")
    for cond in _conditions(obj):
        if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
            return Health(HealthStatusCode.DEGRADED, str(cond.get("message") or ""))
    replicas = spec.get("replicas")
    available = _int(status.get("availableReplicas"))
    if replicas is not None and available < _int(replicas):
        return Health(HealthStatusCode.PROGRESSING,
                      f"Waiting for rollout to finish: {available} out of {_int(replicas)} new replicas are "
                      "available...")
    return Health(HealthStatusCode.HEALTHY)


# -- core/v1 ------------------------------------------------------------------------------------------------


def _pod_ready(status: Mapping[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in status.get("conditions") or [] if isinstance(c, dict))


def _container_fail_message(ctr: Mapping[str, Any]) -> str:
    terminated = (ctr.get("state") or {}).get("terminated")
    if not terminated:
        return ""
    if terminated.get("message"):
        return str(terminated["message"])
    if terminated.get("reason") == "OOMKilled":
        return "OOMKilled"
    code = _int(terminated.get("exitCode"))
    if code != 0:
        return f'container "{ctr.get("name", "")}" failed with exit code {code}'
    return ""


def pod_health(obj: Obj) -> Health:
    """Waiting on Err*/…Error/…BackOff -> Degraded (restartPolicy Always only, so hook pods are not failed
    early); Succeeded -> Healthy; Running and Ready -> Healthy; a run-to-completion pod that is Running is
    Progressing."""
    spec, status = _spec(obj), _status(obj)
    message = str(status.get("message") or "")
    restart = spec.get("restartPolicy", "Always")
    containers = [c for c in status.get("containerStatuses") or [] if isinstance(c, dict)]
    if restart == "Always":
        messages = []
        for ctr in containers:
            waiting = (ctr.get("state") or {}).get("waiting") or {}
            reason = str(waiting.get("reason") or "")
            if waiting and (reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff")):
                messages.append(str(waiting.get("message") or ""))
        if messages:
            return Health(HealthStatusCode.DEGRADED, ", ".join(messages))
    phase = status.get("phase")
    if phase == "Pending":
        return Health(HealthStatusCode.PROGRESSING, message)
    if phase == "Succeeded":
        return Health(HealthStatusCode.HEALTHY, message)
    if phase == "Failed":
        if message:
            return Health(HealthStatusCode.DEGRADED, message)
        inits = [c for c in status.get("initContainerStatuses") or [] if isinstance(c, dict)]
        for ctr in inits + containers:
            fail = _container_fail_message(ctr)
            if fail:
                return Health(HealthStatusCode.DEGRADED, fail)
        return Health(HealthStatusCode.DEGRADED, "")
    if phase == "Running":
        if restart == "Always":
            if _pod_ready(status):
                return Health(HealthStatusCode.HEALTHY, message)
            if any((c.get("lastState") or {}).get("terminated") for c in containers):
                return Health(HealthStatusCode.DEGRADED, message)
            return Health(HealthStatusCode.PROGRESSING, message)
        return Health(HealthStatusCode.PROGRESSING, message)
    return Health(HealthStatusCode.UNKNOWN, message)


def service_health(obj: Obj) -> Health:
    if _spec(obj).get("type") == "LoadBalancer":
        if ((_status(obj).get("loadBalancer") or {}).get("ingress")):
            return Health(HealthStatusCode.HEALTHY)
        return Health(HealthStatusCode.PROGRESSING)
    return Health(HealthStatusCode.HEALTHY)


def ingress_health(obj: Obj) -> Health:
    if (_status(obj).get("loadBalancer") or {}).get("ingress"):
        return Health(HealthStatusCode.HEALTHY)
    return Health(HealthStatusCode.PROGRESSING)


def pvc_health(obj: Obj) -> Health:
    phase = _status(obj).get("phase")
    if phase == "Lost":
        return Health(HealthStatusCode.DEGRADED)
    if phase == "Pending":
        return Health(HealthStatusCode.PROGRESSING)
    if phase == "Bound":
        return Health(HealthStatusCode.HEALTHY)
    return Health(HealthStatusCode.UNKNOWN)


# -- batch, autoscaling ---------------------------------------------------------------------------------------


def job_health(obj: Obj) -> Health:
    failed = complete = suspended = False
    message = fail_message = ""
    for cond in _conditions(obj):
        kind = cond.get("type")
        if kind == "Failed":
            failed = complete = True
            fail_message = str(cond.get("message") or "")
        elif kind == "Complete":
            complete = True
            message = str(cond.get("message") or "")
        elif kind == "Suspended":
            complete = True
            message = str(cond.get("message") or "")
            suspended = cond.get("status") == "True"
    if not complete:
        return Health(HealthStatusCode.PROGRESSING, message)
    if failed:
        return Health(HealthStatusCode.DEGRADED, fail_message)
    if suspended:
        return Health(HealthStatusCode.SUSPENDED, fail_message)
    return Health(HealthStatusCode.HEALTHY, message)


_HPA_DEGRADED = {("AbleToScale", "FailedGetScale"), ("AbleToScale", "FailedUpdateScale"),
                 ("ScalingActive", "FailedGetResourceMetric"), ("ScalingActive", "InvalidSelector")}
_HPA_HEALTHY = {("AbleToScale", "SucceededRescale"), ("ScalingLimited", "DesiredWithinRange"),
                ("ScalingLimited", "TooFewReplicas"), ("ScalingLimited", "TooManyReplicas")}


def hpa_health(obj: Obj) -> Health:
    """The first condition that is a known failure (status False) or a known steady state (status True)."""
    for cond in _conditions(obj):
        key = (cond.get("type"), cond.get("reason"))
        if cond.get("status") == "False" and key in _HPA_DEGRADED:
            return Health(HealthStatusCode.DEGRADED, str(cond.get("message") or ""))
        if cond.get("status") == "True" and key in _HPA_HEALTHY:
            return Health(HealthStatusCode.HEALTHY, str(cond.get("message") or ""))
    return Health(HealthStatusCode.PROGRESSING, "Waiting to Autoscale")


# -- argoproj.io --------------------------------------------------------------------------------------------


def _rollout_generation_observed(obj: Obj) -> bool:
    status = obj.get("status")
    if not isinstance(status, dict):
        return False
    try:
        observed = int(status.get("observedGeneration"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True  # pre-v0.10 Rollouts wrote a hash here: nothing to compare
    generation = _int(_meta(obj).get("generation"))
    return observed > generation or observed == generation


def _rollout_workload_observed(obj: Obj) -> bool:
    annotations = _meta(obj).get("annotations")
    if _spec(obj).get("workloadRef") is None or not isinstance(annotations, dict):
        return True
    wanted = annotations.get("rollout.argoproj.io/workload-generation")
    return str(wanted) == str(_status(obj).get("workloadObservedGeneration"))


def _rollout_legacy_health(obj: Obj) -> Health:
    """Rollouts older than v1.0 have no ``status.phase``: Argo CD derives health from replicas and hashes."""
    spec, status = _spec(obj), _status(obj)
    for cond in _conditions(obj):
        if cond.get("type") == "InvalidSpec" or (
            cond.get("type") == "Progressing" and cond.get("reason") in ("RolloutAborted", "ProgressDeadlineExceeded")
        ):
            return Health(HealthStatusCode.DEGRADED, str(cond.get("message") or ""))
    if status.get("pauseConditions") or spec.get("paused"):
        return Health(HealthStatusCode.SUSPENDED, "Rollout is paused")
    current = status.get("currentPodHash")
    if current is None:
        return Health(HealthStatusCode.PROGRESSING,
                      "Waiting for rollout to finish: status has not been reconciled.")
    desired = _int(spec.get("replicas"), 1)
    total, updated = _int(status.get("replicas")), _int(status.get("updatedReplicas"))
    available = _int(status.get("availableReplicas"))
    if updated < desired:
        return Health(HealthStatusCode.PROGRESSING, "Waiting for roll out to finish: More replicas need to be updated")
    if available < updated:
        return Health(HealthStatusCode.PROGRESSING,
                      "Waiting for roll out to finish: updated replicas are still becoming available")
    strategy = spec.get("strategy") or {}
    stable = status.get("stableRS") or (status.get("canary") or {}).get("stableRS") or ""
    if strategy.get("blueGreen") is not None:
        if (status.get("blueGreen") or {}).get("activeSelector") != current:
            return Health(HealthStatusCode.PROGRESSING, "active service cutover pending")
        if stable and stable != current:
            return Health(HealthStatusCode.PROGRESSING, "waiting for analysis to complete")
    elif strategy.get("canary") is not None:
        if total > updated:
            return Health(HealthStatusCode.PROGRESSING,
                          "Waiting for roll out to finish: old replicas are pending termination")
        if not stable or stable != current:
            return Health(HealthStatusCode.PROGRESSING, "Waiting for rollout to finish steps")
    return Health(HealthStatusCode.HEALTHY)


def rollout_health(obj: Obj) -> Health:
    """Argo CD's Rollout script: an unobserved spec is Progressing; from Rollouts v1.0 on, the controller's
    ``status.phase`` and ``status.message`` are surfaced as they are, with Paused shown as Suspended."""
    if not _rollout_generation_observed(obj) or not _rollout_workload_observed(obj):
        return Health(HealthStatusCode.PROGRESSING, "Waiting for rollout spec update to be observed")
    status = _status(obj)
    phase = status.get("phase")
    if phase is not None:
        code = HealthStatusCode.SUSPENDED if phase == "Paused" else _code(str(phase))
        return Health(code, str(status.get("message") or ""))
    return _rollout_legacy_health(obj)


def _code(phase: str) -> HealthStatusCode:
    try:
        return HealthStatusCode(phase)
    except ValueError:
        return HealthStatusCode.UNKNOWN


_ANALYSIS_RUN: dict[str, tuple[HealthStatusCode, str, bool]] = {
    "Pending": (HealthStatusCode.PROGRESSING, "Analysis run is running", False),
    "Running": (HealthStatusCode.PROGRESSING, "Analysis run is running", False),
    "Successful": (HealthStatusCode.HEALTHY, "Analysis run completed successfully", True),
    "Failed": (HealthStatusCode.DEGRADED, "Analysis run failed", True),
    "Error": (HealthStatusCode.DEGRADED, "Analysis run had an error", True),
    "Inconclusive": (HealthStatusCode.UNKNOWN, "Analysis run was inconclusive", True),
}


def analysis_run_health(obj: Obj) -> Health:
    status = obj.get("status")
    if not isinstance(status, dict):
        return Health(HealthStatusCode.PROGRESSING,
                      "Waiting for analysis run to finish: status has not been reconciled.")
    entry = _ANALYSIS_RUN.get(str(status.get("phase")))
    if entry is None:
        # Argo CD's script returns an empty health for an unknown phase, which it reports as Unknown.
        return Health(HealthStatusCode.UNKNOWN)
    code, default, uses_message = entry
    return Health(code, str(status.get("message") or default) if uses_message else default)


HealthCheck = Callable[[Obj], Health]

HEALTH_CHECKS: dict[tuple[str, str], HealthCheck] = {
    ("apps", "Deployment"): deployment_health,
    ("extensions", "Deployment"): deployment_health,
    ("apps", "StatefulSet"): statefulset_health,
    ("apps", "DaemonSet"): daemonset_health,
    ("extensions", "DaemonSet"): daemonset_health,
    ("apps", "ReplicaSet"): replicaset_health,
    ("extensions", "ReplicaSet"): replicaset_health,
    ("", "Pod"): pod_health,
    ("", "Service"): service_health,
    ("", "PersistentVolumeClaim"): pvc_health,
    ("networking.k8s.io", "Ingress"): ingress_health,
    ("extensions", "Ingress"): ingress_health,
    ("batch", "Job"): job_health,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa_health,
    ("argoproj.io", "Rollout"): rollout_health,
    ("argoproj.io", "AnalysisRun"): analysis_run_health,
}


def group_of(obj: Obj) -> str:
    api_version = str(obj.get("apiVersion") or "")
    return api_version.rpartition("/")[0]


def resource_health(obj: Obj | None) -> Health | None:
    """Health of one live object; ``None`` for a kind Argo CD has no check for (ConfigMap, Secret, ...).

    A missing object is Missing; one being deleted is Progressing "Pending deletion", like Argo CD.
    """
    if obj is None:
        return Health(HealthStatusCode.MISSING)
    if _meta(obj).get("deletionTimestamp"):
        return Health(HealthStatusCode.PROGRESSING, "Pending deletion")
    check = HEALTH_CHECKS.get((group_of(obj), str(obj.get("kind") or "")))
    return check(obj) if check else None


def is_paused_on_step(obj: Obj) -> bool:
    """A Rollout that waits on a pause step of its canary (``pauseConditions`` reason CanaryPauseStep).

    Used by the ``rollouts.argoproj.io/wave-ready-when-paused`` option: such a Rollout counts as done for wave
    progression although Argo CD would show it Suspended.
    """
    if group_of(obj) != "argoproj.io" or obj.get("kind") != "Rollout":
        return False
    conditions = _status(obj).get("pauseConditions") or []
    return any(isinstance(c, dict) and c.get("reason") == "CanaryPauseStep" for c in conditions)
