"""``plan_experiment(observed, now)``: the pure planner of an Experiment, shaped like ``plan_rollout``.

Observe -> plan -> execute -> one status write: this returns a frozen :class:`Plan` (ReplicaSet, Service and
AnalysisRun actions, Argo's events) with the complete desired Experiment status and when to look again (the
end of ``duration``, a template's progress deadline, a scale-down deadline). Argo's order is kept: templates,
then analyses, then the phase from both, then conditions (experiments/experiment.go reconcile,
experiments/conditions.go). An invalid spec changes nothing but the InvalidSpec condition, as in Argo.

Worked example: Experiment ``ex`` with templates baseline and canary (1 replica each), ``duration: 60s``, one
analysis. Plan 1: create ex-baseline and ex-canary (0 replicas), phase Pending. Plan 2: scale both to 1.
Once both are available: templates Running, phase Running, ``availableAt`` = now, Progressing condition
"Experiment "ex" is running.". Plan after that: create AnalysisRun ex-<analysis>. 60 s after availableAt: the
templates are Successful, their ReplicaSets get a scale-down deadline 30 s out, and the phase becomes the
analysis's (Successful when it passed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from rollouts.api.experiment import Experiment
from rollouts.planning.conditions import conditions_by_type, set_condition
from rollouts.planning.experiment_analysis import reconcile_analysis
from rollouts.planning.experiment_context import ExperimentContext, ObservedExperiment
from rollouts.planning.experiment_status import (
    COMPLETED_MESSAGE,
    PROGRESSING_MESSAGE,
    RUNNING_MESSAGE,
    Status,
    duration_remaining,
    experiment_phase,
    is_terminating,
    passed_duration,
    template_progressed,
)
from rollouts.planning.experiment_templates import desired_replicas, reconcile_template
from rollouts.planning.observed import format_timestamp, parse_timestamp
from rollouts.planning.plan import EmitEvent, Plan

INVALID_SPEC = "InvalidSpec"
PROGRESSING = "Progressing"


def invalid_spec_message(ex: Experiment) -> str | None:
    """Argo's VerifyExperimentSpec, first problem only, in Argo's words (including its "Rollout has missing
    field" for a missing selector)."""
    seen: set[str] = set()
    deadline = ex.spec.effective_progress_deadline_seconds
    for i, template in enumerate(ex.spec.templates):
        if template.selector is None:
            return f"Rollout has missing field '.Spec.Templates[{i}].Selector'"
        if template.selector.is_empty():
            return f"This experiment is selecting all pods at index {i}. A non-empty selector is required."
        if template.min_ready_seconds > deadline:
            return f"MinReadySeconds cannot be longer than ProgressDeadlineSeconds. Check template index {i}"
        if not template.name:
            return f"Experiment {ex.name} has empty template name at index {i}"
        if template.name in seen:
            return f"Experiment {ex.name} has repeated template name '{template.name}' in templates"
        seen.add(template.name)
    return None


def _previous_status(ex: Experiment) -> Status:
    status: Status = ex.status_or_empty.model_dump(by_alias=True, exclude_none=True, mode="json")
    return status


def _with_conditions(status: Status, conditions: dict[str, dict[str, Any]]) -> Status:
    if conditions:
        status["conditions"] = list(conditions.values())
    else:
        status.pop("conditions", None)
    return status


def _invalid(ex: Experiment, message: str, now: datetime) -> Plan:
    status = _previous_status(ex)
    conditions = conditions_by_type(status.get("conditions") or ())
    current = conditions.get(INVALID_SPEC)
    if current is not None and current.get("message") != message:
        del conditions[INVALID_SPEC]
    set_condition(conditions, INVALID_SPEC, "True", INVALID_SPEC, message, format_timestamp(now), touch=True)
    return Plan((), _with_conditions(status, conditions))


def _conditions(ctx: ExperimentContext, status: Status) -> None:
    """Argo's calculateExperimentConditions: Progressing says completed, progressing or running."""
    ex = ctx.experiment
    conditions = conditions_by_type(status.get("conditions") or ())
    conditions.pop(INVALID_SPEC, None)
    now_text = ctx.now_text
    if status.get("phase") == "Successful":
        set_condition(conditions, PROGRESSING, "False", "ExperimentCompleted", COMPLETED_MESSAGE.format(ex.name),
                      now_text)
    elif template_progressed(ctx.previous, status):
        set_condition(conditions, PROGRESSING, "True", "ReplicaSetUpdated", PROGRESSING_MESSAGE.format(ex.name),
                      now_text, touch=True)
    elif ctx.previous.get("availableAt") and not passed_duration(ex.spec, ctx.previous, ctx.now):
        set_condition(conditions, PROGRESSING, "True", "NewReplicaSetAvailable", RUNNING_MESSAGE.format(ex.name),
                      now_text)
    _with_conditions(status, conditions)


def _requeue(ctx: ExperimentContext, status: Status) -> None:
    """Argo's calculateEnqueueDuration: the end of ``duration`` and the templates' progress deadlines."""
    spec = ctx.experiment.spec
    if is_terminating(spec, status):
        return
    remaining = duration_remaining(spec, status, ctx.now)
    if remaining is not None and remaining >= 0:
        ctx.requeue_in(remaining + 1.0)  # Argo's "after" is strict: look again just past the end
    deadline = spec.effective_progress_deadline_seconds
    statuses = {t.get("name"): t for t in status.get("templateStatuses") or ()}
    for template in spec.templates:
        ts = statuses.get(template.name)
        if ts is None or ts.get("status") not in ("Progressing", "Running") or not ts.get("lastTransitionTime"):
            continue
        if ts.get("availableReplicas", 0) != desired_replicas(ctx, template, ts):
            since = parse_timestamp(ts["lastTransitionTime"])
            ctx.requeue_in((since - ctx.now).total_seconds() + deadline + 1.0)


def plan_experiment(observed: ObservedExperiment, now: datetime) -> Plan:
    """The Experiment's next actions and its complete desired status (see the module's worked example)."""
    ex = observed.experiment
    problem = invalid_spec_message(ex)
    if problem is not None:
        return _invalid(ex, problem, now)
    previous = _previous_status(ex)
    ctx = ExperimentContext(observed, now, previous, is_terminating(ex.spec, previous))
    status: Status = dict(previous)
    status["templateStatuses"] = [reconcile_template(ctx, t) for t in ex.spec.templates] or None
    analyses = [reconcile_analysis(ctx, a) for a in ex.spec.analyses or ()]
    status["analysisRuns"] = analyses or previous.get("analysisRuns")
    status = {k: v for k, v in status.items() if v is not None}
    experiment_phase(ex.spec, status, ctx.now_text)
    _conditions(ctx, status)
    _requeue(ctx, status)
    before, after = previous.get("phase") or "", status.get("phase") or ""
    if before != after:
        kind: Literal["Normal", "Warning"] = "Warning" if after in ("Error", "Failed", "Inconclusive") else "Normal"
        ctx.act(EmitEvent(kind, f"Experiment{after}", f"Experiment transitioned from {before} -> {after}"))
    return Plan(tuple(ctx.actions), status, ctx.requeue_after)
