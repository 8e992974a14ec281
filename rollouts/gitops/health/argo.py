"""Health of Argo's own kinds as Argo CD's built-in Lua scripts assess them (``resource_customizations/argoproj.io``).

Why this module exists: Argo CD ships Lua health scripts for Rollout, AnalysisRun, Experiment, CronWorkflow,
ApplicationSet and EventBus; users of either product see these answers, and sync waves wait on them. These are
our own rules with the scripts' outcomes, checked on the scripts' test data and by the Go oracle (which runs
the scripts themselves). Two Lua behaviours carry over: a status that is not a health code becomes Unknown
"Lua returned an invalid health status", and a script that returns an empty table gives no health (``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.api.application import HealthStatusCode as H
from rollouts.gitops.health.model import (
    Health,
    HealthCheck,
    Obj,
    code_of,
    conditions_of,
    mapping,
    meta_of,
    spec_of,
    status_of,
    text,
)

INVALID_STATUS = "Lua returned an invalid health status"


def _number(value: Any) -> float | None:
    """Lua's ``tonumber``: numbers and numeric strings; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _generation_observed(obj: Obj) -> bool:
    if not isinstance(obj.get("status"), Mapping):
        return False
    observed = _number(status_of(obj).get("observedGeneration"))
    generation = _number(meta_of(obj).get("generation"))
    if observed is None:
        return True  # pre-v0.10 Rollouts wrote a hash here: nothing to compare
    return generation is None or observed >= generation


def _workload_observed(obj: Obj) -> bool:
    annotations = meta_of(obj).get("annotations")
    if spec_of(obj).get("workloadRef") is None or not isinstance(annotations, Mapping):
        return True
    wanted = _number(annotations.get("rollout.argoproj.io/workload-generation"))
    return wanted == _number(status_of(obj).get("workloadObservedGeneration"))


def _legacy_stopped(obj: Obj) -> Health | None:
    """Degraded on an invalid spec or an aborted / timed-out rollout, Suspended while paused, else None."""
    for cond in conditions_of(obj):
        if cond.get("type") == "InvalidSpec" or (
                cond.get("type") == "Progressing" and cond.get("reason") in ("RolloutAborted",
                                                                             "ProgressDeadlineExceeded")):
            return Health(H.DEGRADED, text(cond.get("message")))
    pauses = status_of(obj).get("pauseConditions")
    if (isinstance(pauses, list) and pauses) or spec_of(obj).get("paused") is True:
        return Health(H.SUSPENDED, "Rollout is paused")
    return None


def _legacy_strategy_progress(spec: Mapping[str, Any], status: Mapping[str, Any], current: object, *,
                              total: float, updated: float) -> Health | None:
    """Progressing while a blue-green cutover or a canary's steps are not finished, else None."""
    strategy = mapping(spec.get("strategy"))
    stable = status.get("stableRS")
    if stable is None:
        stable = mapping(status.get("canary")).get("stableRS", "")
    if strategy.get("blueGreen") is not None:
        if mapping(status.get("blueGreen")).get("activeSelector") != current:
            return Health(H.PROGRESSING, "active service cutover pending")
        if stable not in ("", None) and stable != current:
            return Health(H.PROGRESSING, "waiting for analysis to complete")
    elif strategy.get("canary") is not None:
        if total > updated:
            return Health(H.PROGRESSING, "Waiting for roll out to finish: old replicas are pending termination")
        if stable in ("", None) or stable != current:
            return Health(H.PROGRESSING, "Waiting for rollout to finish steps")
    return None


def _legacy_rollout_health(obj: Obj) -> Health:
    """Rollouts older than v1.0 have no ``status.phase``: health from conditions, replicas and pod hashes."""
    stopped = _legacy_stopped(obj)
    if stopped is not None:
        return stopped
    spec, status = spec_of(obj), status_of(obj)
    current = status.get("currentPodHash")
    if current is None:
        return Health(H.PROGRESSING, "Waiting for rollout to finish: status has not been reconciled.")
    desired = _number(spec.get("replicas"))
    desired = 1 if desired is None else desired
    total, updated = _number(status.get("replicas")) or 0, _number(status.get("updatedReplicas")) or 0
    available = _number(status.get("availableReplicas")) or 0
    if updated < desired:
        return Health(H.PROGRESSING, "Waiting for roll out to finish: More replicas need to be updated")
    if available < updated:
        return Health(H.PROGRESSING, "Waiting for roll out to finish: updated replicas are still becoming available")
    progress = _legacy_strategy_progress(spec, status, current, total=total, updated=updated)
    return progress if progress is not None else Health(H.HEALTHY)


def rollout_health(obj: Obj) -> Health:
    """An unobserved spec is Progressing; from Rollouts v1.0 on, the controller's ``status.phase`` and
    ``status.message`` are surfaced as they are, with Paused shown as Suspended."""
    if not _generation_observed(obj) or not _workload_observed(obj):
        return Health(H.PROGRESSING, "Waiting for rollout spec update to be observed")
    status = status_of(obj)
    phase = status.get("phase")
    if phase is not None:
        code = H.SUSPENDED if phase == "Paused" else code_of(phase)
        return Health(code, text(status.get("message"))) if code else Health(H.UNKNOWN, INVALID_STATUS)
    return _legacy_rollout_health(obj)


_ANALYSIS_RUN: dict[str, tuple[H, str | None]] = {
    "Pending": (H.PROGRESSING, None),
    "Running": (H.PROGRESSING, None),
    "Successful": (H.HEALTHY, "Analysis run completed successfully"),
    "Failed": (H.DEGRADED, "Analysis run failed"),
    "Error": (H.DEGRADED, "Analysis run had an error"),
    "Inconclusive": (H.UNKNOWN, "Analysis run was inconclusive"),
}


def analysis_run_health(obj: Obj) -> Health | None:
    """Pending/Running -> Progressing "Analysis run is running"; a finished run shows its own message (or a
    default); an unknown phase has no health."""
    if not isinstance(obj.get("status"), Mapping):
        return Health(H.PROGRESSING, "Waiting for analysis run to finish: status has not been reconciled.")
    status = status_of(obj)
    entry = _ANALYSIS_RUN.get(str(status.get("phase")))
    if entry is None:
        return None
    code, default = entry
    if default is None:
        return Health(code, "Analysis run is running")
    message = status.get("message")
    return Health(code, default if message is None else text(message))


_EXPERIMENT: dict[str, Health] = {
    "Pending": Health(H.PROGRESSING, "Experiment is pending"),
    "Running": Health(H.PROGRESSING, "Experiment is running"),
    "Successful": Health(H.HEALTHY, "Experiment is successful"),
    "Failed": Health(H.DEGRADED, "Experiment has failed"),
    "Error": Health(H.DEGRADED, "Experiment had an error"),
}


def experiment_health(obj: Obj) -> Health | None:
    if not isinstance(obj.get("status"), Mapping):
        return Health(H.PROGRESSING, "Waiting for experiment to finish: status has not been reconciled.")
    return _EXPERIMENT.get(str(status_of(obj).get("phase")))


def cron_workflow_health(obj: Obj) -> Health:
    """The first SpecError/SubmissionError (Degraded) or Completed (Healthy) condition that is True."""
    for cond in conditions_of(obj):
        if cond.get("status") != "True":
            continue
        if cond.get("type") in ("SpecError", "SubmissionError"):
            return Health(H.DEGRADED, text(cond.get("message")))
        if cond.get("type") == "Completed":
            return Health(H.HEALTHY, text(cond.get("message")))
    return Health(H.HEALTHY, "CronWorkflow is healthy.")


def application_set_health(obj: Obj) -> Health:
    """ErrorOccurred True, then ResourcesUpToDate False -> Degraded; RolloutProgressing True -> Progressing;
    ResourcesUpToDate True -> Healthy; each pass over all conditions in that order."""
    conditions = conditions_of(obj)
    passes = ((("ErrorOccurred", "True"), H.DEGRADED), (("ResourcesUpToDate", "False"), H.DEGRADED),
              (("RolloutProgressing", "True"), H.PROGRESSING), (("ResourcesUpToDate", "True"), H.HEALTHY))
    for (kind, wanted), code in passes:
        for cond in conditions:
            if cond.get("type") == kind and cond.get("status") == wanted:
                return Health(code, text(cond.get("message")))
    return Health(H.PROGRESSING, "Waiting for the status to be reported")


def event_bus_health(obj: Obj) -> Health:
    for cond in conditions_of(obj):
        if cond.get("type") == "Deployed" and cond.get("status") in ("True", "False"):
            message = cond.get("message")
            message = cond.get("reason") if message is None else message
            return Health(H.HEALTHY if cond.get("status") == "True" else H.DEGRADED, text(message))
    return Health(H.PROGRESSING, "Waiting for initialization")


ARGO_CHECKS: dict[tuple[str, str], HealthCheck] = {
    ("argoproj.io", "Rollout"): rollout_health,
    ("argoproj.io", "AnalysisRun"): analysis_run_health,
    ("argoproj.io", "Experiment"): experiment_health,
    ("argoproj.io", "CronWorkflow"): cron_workflow_health,
    ("argoproj.io", "ApplicationSet"): application_set_health,
    ("argoproj.io", "EventBus"): event_bus_health,
}
