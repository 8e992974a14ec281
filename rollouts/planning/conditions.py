"""Rollout conditions, phase and message, computed the way Argo computes them.

Tools that read Argo status (kubectl-argo-rollouts, Argo CD's health check) look at ``status.phase``,
``status.message`` and the ``Progressing``/``Available``/``Healthy``/``Completed``/``Paused``/``InvalidSpec``
conditions, so the reasons and messages here are Argo's words.

Two details matter for a level-based controller:

* A condition whose status, reason and message are unchanged is carried forward untouched (same
  ``lastUpdateTime``), so a re-plan of an unchanged world yields an identical status and no write.
* ``Progressing`` is refreshed (``lastUpdateTime = now``) whenever progress is observed; the progress deadline
  counts from that time, so ``ProgressDeadlineExceeded`` survives a controller restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.common import AnalysisPhase, LabelSelector, LabelSelectorOperator
from rollouts.api.rollout import RolloutPhase, RolloutSpec
from rollouts.planning.observed import format_timestamp, parse_timestamp
from rollouts.planning.vocabulary import Condition, Reason

AVAILABLE_MESSAGE = "Rollout has minimum availability"
NOT_AVAILABLE_MESSAGE = "Rollout does not have minimum availability"
PAUSED_MESSAGE = "Rollout is paused"
RESUMED_MESSAGE = "Rollout is resumed"
RETRY_MESSAGE = "Retrying Rollout after abort"
HEALTHY_MESSAGE = "Rollout is healthy"
NOT_HEALTHY_MESSAGE = "Rollout is not healthy"

Status = dict[str, Any]
Conditions = dict[str, dict[str, Any]]
"""Conditions keyed by type while a plan is built (Argo's order is the dict's order); the plan's status
carries them as a list."""


def conditions_by_type(items: Iterable[Mapping[str, Any]]) -> Conditions:
    return {str(c.get("type")): dict(c) for c in items}


def set_condition(
    conditions: Conditions,
    cond_type: str,
    cond_status: str,
    reason: str,
    message: str,
    now_text: str,
    *,
    touch: bool = False,
) -> bool:
    """Set one condition; returns True when its status or reason changed (a transition).

    Unchanged status/reason/message keeps the old condition as is, unless ``touch`` asks to record that the
    condition was re-confirmed now (used for Progressing when progress is seen). ``lastTransitionTime`` only
    moves when the status changes; a changed condition moves to the end, as Argo appends it.
    """
    current = conditions.get(cond_type)
    transition_time = now_text
    same = False
    if current is not None:
        same = current.get("status") == cond_status and current.get("reason") == reason
        if same and current.get("message") == message and not touch:
            return False
        if current.get("status") == cond_status:
            transition_time = current.get("lastTransitionTime") or now_text
        del conditions[cond_type]
    conditions[cond_type] = {
        "type": cond_type,
        "status": cond_status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": now_text,
        "lastTransitionTime": transition_time,
    }
    return not same


def progress_timed_out(conditions: Conditions, deadline_seconds: int) -> datetime | None:
    """When the Progressing condition will time out (a past time means it already has); None if it cannot.

    Paused, aborted, completed or already-timed-out rollouts do not time out (again).
    """
    cond = conditions.get(Condition.PROGRESSING)
    if cond is None:
        return None
    if cond.get("reason") in (
        Reason.ROLLOUT_PAUSED,
        Reason.ROLLOUT_ABORTED,
        Reason.NEW_REPLICA_SET_AVAILABLE,
        Reason.PROGRESS_DEADLINE_EXCEEDED,
    ):
        return None
    return parse_timestamp(cond.get("lastUpdateTime")) + timedelta(seconds=deadline_seconds)


def selector_string(selector: LabelSelector | None) -> str:
    """``metav1.FormatLabelSelector``: ``app=web,tier in (a,b)``, requirements sorted by key."""
    if selector is None:
        return ""
    parts: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in (selector.match_labels or {}).items()]
    for req in selector.match_expressions or ():
        values = ",".join(sorted(req.values or ()))
        if req.operator is LabelSelectorOperator.IN:
            parts.append((req.key, f"{req.key} in ({values})"))
        elif req.operator is LabelSelectorOperator.NOT_IN:
            parts.append((req.key, f"{req.key} notin ({values})"))
        elif req.operator is LabelSelectorOperator.EXISTS:
            parts.append((req.key, req.key))
        else:
            parts.append((req.key, f"!{req.key}"))
    return ",".join(text for _, text in sorted(parts))


def rollout_phase(
    spec: RolloutSpec,
    status: Mapping[str, Any],
    *,
    conditions: Iterable[Mapping[str, Any]] | None = None,
) -> tuple[RolloutPhase, str]:
    """Argo's ``CalculateRolloutPhase``: the one-word phase and the message shown next to it.

    The one place the phase is calculated: the planner writes it into status, and the CLI calls it for a status
    that carries none (written by a controller older than Argo v1.0). ``conditions`` are the conditions being
    planned (default: ``status["conditions"]``). Checked in Argo's order, the first answer wins:

    * an InvalidSpec condition, or a RolloutAborted / ProgressDeadlineExceeded reason -> Degraded
      ("RolloutAborted: Rollout aborted update to revision 2");
    * ``spec.paused`` -> Paused "manually paused"; a pause condition -> Paused with its reason ("CanaryPauseStep");
    * a pending ``restartAt``, or replica counts still moving -> Progressing ("more replicas need to be updated"
      for 3 replicas with 1 updated);
    * the strategy's own last steps (active Service cutover, post-promotion analysis, old canary replicas,
      steps left) -> Progressing; otherwise Healthy "".
    """
    found = _degraded(status.get("conditions") or () if conditions is None else conditions)
    return found or _paused(spec, status) or _replicas_progressing(spec, status) or _strategy_phase(spec, status)


def _degraded(conditions: Iterable[Mapping[str, Any]]) -> tuple[RolloutPhase, str] | None:
    for cond in conditions:
        if cond.get("type") == Condition.INVALID_SPEC and cond.get("status") == "True":
            return RolloutPhase.DEGRADED, f"{Condition.INVALID_SPEC}: {cond.get('message', '')}"
        if cond.get("reason") in (Reason.ROLLOUT_ABORTED, Reason.PROGRESS_DEADLINE_EXCEEDED):
            return RolloutPhase.DEGRADED, f"{cond['reason']}: {cond.get('message', '')}"
    return None


def _paused(spec: RolloutSpec, status: Mapping[str, Any]) -> tuple[RolloutPhase, str] | None:
    if spec.paused:
        return RolloutPhase.PAUSED, "manually paused"
    for pause in status.get("pauseConditions") or ():
        return RolloutPhase.PAUSED, str(pause.get("reason", ""))
    return None


def _replicas_progressing(spec: RolloutSpec, status: Mapping[str, Any]) -> tuple[RolloutPhase, str] | None:
    if spec.restart_at is not None and status.get("restartedAt") != format_timestamp(spec.restart_at):
        return RolloutPhase.PROGRESSING, "rollout is restarting"
    updated = int(status.get("updatedReplicas") or 0)
    if updated < spec.replicas:
        return RolloutPhase.PROGRESSING, "more replicas need to be updated"
    if int(status.get("availableReplicas") or 0) < updated:
        return RolloutPhase.PROGRESSING, "updated replicas are still becoming available"
    return None


def _strategy_phase(spec: RolloutSpec, status: Mapping[str, Any]) -> tuple[RolloutPhase, str]:
    current = status.get("currentPodHash") or ""
    fully_promoted = bool(status.get("stableRS")) and status.get("stableRS") == current
    blue_green, canary = spec.strategy.blue_green, spec.strategy.canary
    if blue_green is not None:
        active = (status.get("blueGreen") or {}).get("activeSelector") or ""
        if not active or active != current:
            return RolloutPhase.PROGRESSING, "active service cutover pending"
        if not fully_promoted:
            if blue_green.post_promotion_analysis is not None and not _post_promotion_run_completed(status):
                return RolloutPhase.PROGRESSING, "waiting for analysis to complete"
            return RolloutPhase.PROGRESSING, "waiting for post-promotion verification to complete"
    elif canary is not None:
        # Only a basic canary waits for old pods: with traffic routing (or blue-green) the old ReplicaSet
        # stays up for scaleDownDelaySeconds on purpose.
        updated = int(status.get("updatedReplicas") or 0)
        if canary.traffic_routing is None and int(status.get("replicas") or 0) > updated:
            return RolloutPhase.PROGRESSING, "old replicas are pending termination"
        if not fully_promoted:
            return RolloutPhase.PROGRESSING, "waiting for all steps to complete"
    return RolloutPhase.HEALTHY, ""


_COMPLETED_RUN_PHASES = frozenset(str(p) for p in AnalysisPhase if p.is_completed())


def _post_promotion_run_completed(status: Mapping[str, Any]) -> bool:
    run = (status.get("blueGreen") or {}).get("postPromotionAnalysisRunStatus") or {}
    return run.get("status") in _COMPLETED_RUN_PHASES
