"""Is the update moving? The Progressing condition, and the decision taken when the progress deadline passes.

Argo keeps the progress clock in the Progressing condition itself: its ``lastUpdateTime`` is refreshed
("touched") whenever progress is seen, so ``progressDeadlineSeconds`` counts from the last progress and survives
a controller restart. The condition is decided in Argo's order, the first match wins:

=========================================================  ===========  ==========================
situation                                                  Progressing  reason
=========================================================  ===========  ==========================
the update is aborted                                      False        RolloutAborted (its message)
paused (a pause condition or ``spec.paused``), the update  Unknown      RolloutPaused
not complete yet
paused, the update complete (stableRS == currentPodHash)   unchanged    (Argo's checkPausedConditions)
healthy                                                    True         NewReplicaSetAvailable
it was paused and no longer is                             Unknown      RolloutResumed
replica counts moved, or the strategy made progress        True         ReplicaSetUpdated (touched)
no Progressing condition yet                               True         ReplicaSetUpdated
a retry: no longer aborted, the condition says aborted     Unknown      RolloutRetry
otherwise                                                  the progress deadline decides (below)
=========================================================  ===========  ==========================

Worked example: ``progressDeadlineSeconds: 600``, last progress at 10:00:00. At 10:04 nothing has moved: the
plan asks to be woken at 10:10:00. At 10:10:00: Progressing False ProgressDeadlineExceeded ``ReplicaSet
"web-6d8f9b7c4d" has timed out progressing.`` and a Warning event; with ``progressDeadlineAbort: true`` the
status also gets ``abort: true`` and the plan asks to run again at once, so the next plan aborts back to stable
exactly as a user's ``kubectl argo rollouts abort`` would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.api.labels import SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.api.rollout import RolloutStatus
from rollouts.planning.conditions import (
    PAUSED_MESSAGE,
    RESUMED_MESSAGE,
    RETRY_MESSAGE,
    progress_timed_out,
    set_condition,
)
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.steps import current_step
from rollouts.planning.vocabulary import Condition, Event, Reason

Progressing = tuple[str, str, str, bool]
"""(condition status, reason, message, touch): the Progressing condition to set."""


@dataclass(frozen=True, slots=True)
class ProgressFacts:
    """What the Progressing table is decided from (each computed once per plan by ``outcome.finalize``)."""

    healthy: bool
    strategy_progress: bool
    abort_message: str | None
    paused: bool
    """Paused now: a pause condition in the planned status, or ``spec.paused``."""
    was_paused: bool
    """The observed status was paused (``was_paused(ctx.old)``)."""


def reconcile_progressing(ctx: PlanContext, sets: RevisionSets, facts: ProgressFacts) -> None:
    """Set the Progressing condition by the table above (the deadline decides when nothing else does)."""
    rs_name = sets.new.name if sets.new is not None else ctx.rollout.name
    chosen = _progressing(ctx, rs_name, facts)
    if chosen is None:
        if not waiting_for_scale_down(sets) and not at_indefinite_step(ctx):
            decide_progress_deadline(ctx, rs_name)
        return
    cond_status, reason, message, touch = chosen
    set_condition(ctx.conditions, Condition.PROGRESSING, cond_status, reason, message, ctx.now_text, touch=touch)


def _progressing(ctx: PlanContext, rs_name: str, facts: ProgressFacts) -> Progressing | None:
    if facts.abort_message is not None:
        return "False", Reason.ROLLOUT_ABORTED, facts.abort_message, False
    if facts.paused:
        old = ctx.old
        if old.stable_rs and old.stable_rs == old.current_pod_hash:  # TestCanaryWithSpecPause
            return None
        return "Unknown", Reason.ROLLOUT_PAUSED, PAUSED_MESSAGE, False
    if facts.healthy:
        return "True", Reason.NEW_REPLICA_SET_AVAILABLE, f'ReplicaSet "{rs_name}" has successfully progressed.', False
    if facts.was_paused:
        return "Unknown", Reason.ROLLOUT_RESUMED, RESUMED_MESSAGE, False
    if facts.strategy_progress or made_progress(ctx.old, ctx.status):
        return "True", Reason.REPLICA_SET_UPDATED, f'ReplicaSet "{rs_name}" is progressing.', True
    current = ctx.conditions.get(Condition.PROGRESSING)
    if current is None:
        return "True", Reason.REPLICA_SET_UPDATED, f'ReplicaSet "{rs_name}" is progressing.', False
    if not ctx.status.get("abort") and current.get("reason") == Reason.ROLLOUT_ABORTED:
        # A retry whose first step moves no pod (an experiment or analysis step at weight 0): Argo's
        # RolloutRetry, else the update would stay Degraded until some replica count moved.
        return "Unknown", Reason.ROLLOUT_RETRY, RETRY_MESSAGE, False
    return None


def at_indefinite_step(ctx: PlanContext) -> bool:
    """Argo's isIndefiniteStep: an experiment, analysis or pause step takes as long as it takes, so the
    progress deadline does not run out during it (an experiment with ``duration: 15m`` under the default 600 s
    deadline is not "timed out progressing")."""
    canary = ctx.spec.strategy.canary
    if canary is None:
        return False
    step = current_step(canary.steps or (), ctx.old.current_step_index)
    return step is not None and (step.experiment is not None or step.analysis is not None or step.pause is not None)


def waiting_for_scale_down(sets: RevisionSets) -> bool:
    """An old ReplicaSet (neither new nor stable) still waits for its scale-down deadline: Argo's
    isWaitingForReplicaSetScaleDown, under which the progress deadline does not run. A completed canary whose
    previous stable keeps its pods for scaleDownDelaySeconds is not "not progressing" (TestCanaryScaleDownDelay-
    WithProgressDeadline: progressDeadlineSeconds 5, the default 30 s delay, still Healthy after 10 s)."""
    return any(SCALE_DOWN_DEADLINE_ANNOTATION in rs.annotations for rs in sets.others)


def decide_progress_deadline(ctx: PlanContext, rs_name: str) -> None:
    """Nothing moved: wake at the deadline, or, once it has passed, report it and (with
    ``progressDeadlineAbort``) abort the update. Paused, aborted, completed or already timed-out updates have no
    deadline (``progress_timed_out``)."""
    if _timed_out_already(ctx):
        if ctx.spec.progress_deadline_abort and not ctx.old.abort:
            # progressDeadlineAbort set after the deadline passed: Argo's evaluateProgressDeadlineAbort reads
            # the observed condition, and ProgressDeadlineExceeded counts as timed out (TestBlueGreenExceed-
            # ProgressDeadlineAbort patches it in after the update is already Degraded).
            ctx.status["abort"] = True
            ctx.wake(ctx.now)
        return
    deadline = progress_timed_out(ctx.conditions, ctx.spec.progress_deadline_seconds)
    if deadline is None:
        return
    if deadline > ctx.now:
        ctx.wake(deadline)
        return
    message = f'ReplicaSet "{rs_name}" has timed out progressing.'
    set_condition(ctx.conditions, Condition.PROGRESSING, "False", Reason.PROGRESS_DEADLINE_EXCEEDED, message,
                  ctx.now_text)
    ctx.event(Event.PROGRESS_DEADLINE_EXCEEDED, message, warning=True)
    if ctx.spec.progress_deadline_abort:
        ctx.status["abort"] = True  # the next plan aborts, as a user's abort does
        ctx.wake(ctx.now)


def _timed_out_already(ctx: PlanContext) -> bool:
    cond = ctx.conditions.get(Condition.PROGRESSING)
    return cond is not None and cond.get("reason") == Reason.PROGRESS_DEADLINE_EXCEEDED


def was_paused(old: RolloutStatus) -> bool:
    """The observed status was paused: it had pause conditions, or Progressing said RolloutPaused."""
    if old.pause_conditions:
        return True
    for cond in old.conditions or ():
        if cond.type == Condition.PROGRESSING:
            return cond.reason == Reason.ROLLOUT_PAUSED
    return False


def made_progress(old: RolloutStatus, new: Mapping[str, Any]) -> bool:
    """Argo's ``RolloutProgressing`` for the generic counts (strategy-specific checks are passed in): 4 updated
    of 4 before and 4 now with one more available pod (3 -> 4) is progress; the same counts again are not."""
    old_replicas, old_updated = old.replicas or 0, old.updated_replicas or 0
    new_replicas, new_updated = int(new.get("replicas") or 0), int(new.get("updatedReplicas") or 0)
    return (
        new_updated != old_updated
        or (new_replicas - new_updated) < (old_replicas - old_updated)
        or int(new.get("readyReplicas") or 0) > (old.ready_replicas or 0)
        or int(new.get("availableReplicas") or 0) > (old.available_replicas or 0)
    )
