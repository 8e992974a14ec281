"""The desired Rollout status: carried-forward fields, pause and abort bookkeeping, and pod counts.

A plan always writes the *complete* status (Argo's camelCase JSON), built from the observed status plus this
plan's decisions. Everything the controller must remember between reconciles lives there: the pause start times
(so a timed pause survives a restart), ``controllerPause`` (so a cleared pause is recognised as a promotion),
``abortedAt``, the step index and step hash, and the Progressing condition's ``lastUpdateTime`` (the
progress-deadline clock). The conditions and phase a plan ends with are written by ``outcome.finalize``; the
Progressing condition and the progress deadline by ``progress.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.api.rollout import (
    RolloutAnalysisRunStatus,
    RolloutCondition,
    RolloutStatus,
)
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.observed import format_timestamp
from rollouts.planning.spec_facts import spec_facts
from rollouts.planning.vocabulary import Condition, Event, Reason


def _condition_dict(cond: RolloutCondition) -> dict[str, Any]:
    result: dict[str, Any] = {"type": str(cond.type), "status": str(cond.status)}
    if cond.reason is not None:
        result["reason"] = cond.reason
    if cond.message is not None:
        result["message"] = cond.message
    if cond.last_update_time is not None:
        result["lastUpdateTime"] = format_timestamp(cond.last_update_time)
    if cond.last_transition_time is not None:
        result["lastTransitionTime"] = format_timestamp(cond.last_transition_time)
    return result


def run_status_dict(run: RolloutAnalysisRunStatus | None) -> dict[str, Any] | None:
    if run is None:
        return None
    result: dict[str, Any] = {"name": run.name, "status": str(run.status)}
    if run.message:
        result["message"] = run.message
    return result


def abort_in_force(old: RolloutStatus) -> bool:
    """``status.abort``, unless the Rollout is fully promoted (``stableRS == currentPodHash``): Argo lifts the
    abort of a fully promoted Rollout ("Removing abort condition from fully promoted rollout", rollout/
    controller.go), so aborting a Healthy Rollout, with no update to abort, leaves it Healthy.

    stable a1, current a1, abort true -> False (lifted); stable a1, current b2 (an update), abort true -> True."""
    return bool(old.abort) and (old.stable_rs or "") != (old.current_pod_hash or "")


def base_status(ctx: PlanContext, current_hash: str) -> dict[str, Any]:
    """The observed status carried forward, with this generation observed and the current pod hash."""
    old: RolloutStatus = ctx.old
    status: dict[str, Any] = {
        "observedGeneration": str(ctx.rollout.metadata.generation or 0),
        "currentPodHash": current_hash,
    }
    if old.stable_rs:
        status["stableRS"] = old.stable_rs
    if old.pause_conditions:
        status["pauseConditions"] = [
            {"reason": str(p.reason), "startTime": format_timestamp(p.start_time)} for p in old.pause_conditions
        ]
    if old.controller_pause:
        status["controllerPause"] = True
    if abort_in_force(old):
        status["abort"] = True
        if old.aborted_at is not None:
            status["abortedAt"] = format_timestamp(old.aborted_at)
    if old.promote_full:
        status["promoteFull"] = True
    ctx.conditions = {str(c.type): _condition_dict(c) for c in old.conditions or ()}
    if old.restarted_at is not None:
        status["restartedAt"] = format_timestamp(old.restarted_at)
    if old.collision_count is not None:
        status["collisionCount"] = old.collision_count
    if old.current_step_index is not None:
        status["currentStepIndex"] = old.current_step_index
    if old.current_step_hash is not None:
        status["currentStepHash"] = old.current_step_hash
    if old.workload_observed_generation is not None:
        status["workloadObservedGeneration"] = old.workload_observed_generation
    status["selector"] = spec_facts(ctx.rollout).selector
    return status


# --- pauses ---------------------------------------------------------------------------------------------------


def pause_condition(status: Mapping[str, Any], reason: str) -> Mapping[str, Any] | None:
    for pause in status.get("pauseConditions") or ():
        if pause.get("reason") == reason:
            return pause  # type: ignore[no-any-return]
    return None


def add_pause(ctx: PlanContext, reason: str) -> None:
    """Pause for ``reason`` (start time now) unless already paused for it; sets ``controllerPause``."""
    if pause_condition(ctx.status, reason) is not None:
        return
    ctx.status["pauseConditions"] = [
        *(ctx.status.get("pauseConditions") or ()),
        {"reason": str(reason), "startTime": ctx.now_text},
    ]
    ctx.status["controllerPause"] = True
    ctx.event(Event.ROLLOUT_PAUSED, f"Rollout is paused ({reason})")


def remove_pause(ctx: PlanContext, reason: str) -> None:
    remaining = [p for p in ctx.status.get("pauseConditions") or () if p.get("reason") != reason]
    _set_pauses(ctx, remaining)


def clear_pauses(ctx: PlanContext) -> None:
    _set_pauses(ctx, [])


def _set_pauses(ctx: PlanContext, pauses: list[dict[str, Any]]) -> None:
    if pauses:
        ctx.status["pauseConditions"] = pauses
        return
    ctx.status.pop("pauseConditions", None)
    # With no pause left the controller is no longer pausing (Argo drops controllerPause with the last one).
    ctx.status.pop("controllerPause", None)


def is_unpausing(ctx: PlanContext) -> bool:
    """The user promoted: the controller had paused (``controllerPause``) and every pause condition is gone.

    This is how ``kubectl argo rollouts promote`` resumes a Rollout (Argo's ``IsUnpausing``)."""
    old = ctx.old
    return bool(old.controller_pause) and not old.pause_conditions


def is_paused(ctx: PlanContext) -> bool:
    return bool(ctx.status.get("pauseConditions")) or ctx.spec.paused


def reset_for_update(ctx: PlanContext, step_count: int, *, back_to_stable: bool) -> None:
    """A new pod template or new steps: start the update over (Argo's ``resetRolloutStatus``)."""
    clear_pauses(ctx)
    for key in ("abort", "abortedAt", "promoteFull"):
        ctx.status.pop(key, None)
    if step_count:
        ctx.status["currentStepIndex"] = step_count if back_to_stable else 0
    else:
        ctx.status.pop("currentStepIndex", None)


# --- abort ----------------------------------------------------------------------------------------------------


def note_abort(ctx: PlanContext, revision: int, detail: str | None) -> str:
    """Record an abort (``abortedAt``, a Warning event the first time) and return the condition message."""
    message = f"Rollout aborted update to revision {revision}"
    if detail:
        message = f"{message}: {detail}"
    elif (prev := ctx.conditions.get(Condition.PROGRESSING)) is not None and prev.get(
        "reason"
    ) == Reason.ROLLOUT_ABORTED:
        message = str(prev.get("message") or message)
    ctx.status["abort"] = True
    clear_pauses(ctx)
    if "abortedAt" not in ctx.status:
        ctx.status["abortedAt"] = ctx.now_text
        ctx.event(Event.ROLLOUT_ABORTED, message, warning=True)
    return message


def note_retry(ctx: PlanContext) -> bool:
    """``status.abort`` was cleared by the user after an abort: start the update again (True if so)."""
    if "abortedAt" in ctx.status and not ctx.status.get("abort"):
        ctx.status.pop("abortedAt", None)
        # No event: Argo says "Retrying Rollout after abort" in the Progressing condition only (its e2e
        # TestRolloutAbortRetryPromote lists the events and RolloutRetry is not among them).
        return True
    return False


# --- counts, conditions, phase -------------------------------------------------------------------------------


def set_counts(status: dict[str, Any], sets: RevisionSets, *, active: str | None = None) -> None:
    """Pod counts as Argo reports them.

    Blue-green (``active`` given) reports the active ReplicaSet: its available, ready and current pods, and
    a ``selector`` that includes its hash, so an HPA scaling the Rollout counts only the active pods. With no
    active ReplicaSet yet, everything is counted against the spec's selector.
    """
    replicas = ready = available = 0
    active_rs = None
    for rs in sets.all:
        replicas += rs.status_replicas
        ready += rs.ready_replicas
        available += rs.available_replicas
        if active is not None and rs.pod_template_hash == active:
            active_rs = rs
    status["replicas"] = replicas
    status["updatedReplicas"] = sets.new.status_replicas if sets.new is not None else 0
    status["readyReplicas"] = ready
    if active_rs is None:
        status["availableReplicas"] = available
        status["HPAReplicas"] = replicas
        return
    status["availableReplicas"] = active_rs.available_replicas
    status["readyReplicas"] = active_rs.ready_replicas
    status["HPAReplicas"] = active_rs.status_replicas
    status["selector"] = _with_hash(status.get("selector") or "", active_rs.pod_template_hash)


def _with_hash(selector: str, pod_template_hash: str) -> str:
    """``app=web`` + hash -> ``app=web,rollouts-pod-template-hash=<hash>`` (requirements sorted by key)."""
    parts = _requirements(selector)
    parts.append(f"{POD_TEMPLATE_HASH_LABEL}={pod_template_hash}")
    return ",".join(sorted(parts, key=_requirement_key))


def _requirements(selector: str) -> list[str]:
    """Split a selector string at the commas between requirements (not those inside ``in (a,b)``)."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(selector):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(selector[start:i])
            start = i + 1
    if selector[start:]:
        parts.append(selector[start:])
    return parts


def _requirement_key(requirement: str) -> str:
    text = requirement.lstrip("!")
    for separator in ("!=", "=", " "):
        if separator in text:
            return text.split(separator, 1)[0]
    return text
