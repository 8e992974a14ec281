"""How a plan ends: the strategy's outcome turned into the Rollout's conditions, their events, and the phase.

A strategy planner (canary, blue-green) ends by saying what it concluded: is the Rollout healthy (every replica
updated and available, the update promoted), available (at least ``spec.replicas`` available pods), did the
strategy itself make progress this time (a step, a Service switch), and the abort message if it aborted.
``finalize`` writes the rest, in Argo's order: ReplicaFailure, Progressing (``progress.py``, which also takes the
progress-deadline decision), Paused, Available, Healthy, Completed, then ``status.phase``/``message``
(``conditions.rollout_phase``). A condition only changes, and its event is only emitted, on a transition.

Example: 4 replicas, the canary at step 2/4 with 1 of 4 pods updated and all available -> Available True,
Healthy False, Completed False (RolloutNotCompleted event once, when the update started), phase Progressing
"more replicas need to be updated"; after promotion, 4 of 4 updated -> Healthy True, Completed True, Healthy "".
"""

from __future__ import annotations

from dataclasses import dataclass

from rollouts.planning.conditions import (
    AVAILABLE_MESSAGE,
    HEALTHY_MESSAGE,
    NOT_AVAILABLE_MESSAGE,
    NOT_HEALTHY_MESSAGE,
    PAUSED_MESSAGE,
    RESUMED_MESSAGE,
    rollout_phase,
    set_condition,
)
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.progress import ProgressFacts, reconcile_progressing, was_paused
from rollouts.planning.status import is_paused
from rollouts.planning.vocabulary import Condition, Event, Reason


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the strategy concluded in this plan (see the module docstring)."""

    healthy: bool
    available: bool
    strategy_progress: bool
    abort_message: str | None


def finalize(ctx: PlanContext, sets: RevisionSets, outcome: Outcome) -> None:
    """Set ReplicaFailure/Progressing/Paused/Available/Healthy/Completed, emit their transition events, then
    phase and message."""
    ctx.conditions.pop(Condition.INVALID_SPEC, None)
    _replica_failure(ctx, sets)
    paused, previously = is_paused(ctx), was_paused(ctx.old)
    reconcile_progressing(ctx, sets, ProgressFacts(
        healthy=outcome.healthy, strategy_progress=outcome.strategy_progress, abort_message=outcome.abort_message,
        paused=paused, was_paused=previously,
    ))
    _paused(ctx, paused=paused, resumed=previously and not paused and outcome.abort_message is None,
            aborted=outcome.abort_message is not None or _was_aborted(ctx))
    _availability(ctx, outcome)
    _completed(ctx, sets, paused=paused)
    phase, message = rollout_phase(ctx.spec, ctx.status, conditions=ctx.conditions.values())
    ctx.status["phase"] = str(phase)
    ctx.status["message"] = message


def _replica_failure(ctx: PlanContext, sets: RevisionSets) -> None:
    """A ReplicaSet's ReplicaFailure (quota, admission webhook) is the Rollout's, with its reason and message."""
    failure = next((rs.failure for rs in sets.all if rs.failure is not None), None)
    if failure is not None:
        set_condition(ctx.conditions, Condition.REPLICA_FAILURE, "True", failure[0], failure[1], ctx.now_text)
    else:
        ctx.conditions.pop(Condition.REPLICA_FAILURE, None)


def _was_aborted(ctx: PlanContext) -> bool:
    return any(c.type == Condition.PROGRESSING and c.reason == Reason.ROLLOUT_ABORTED
               for c in ctx.old.conditions or ())


def _paused(ctx: PlanContext, *, paused: bool, resumed: bool, aborted: bool) -> None:
    """Argo's checkPausedConditions: the Paused condition changes only when pausedness does, True or False
    always with reason RolloutPaused and "Rollout is paused"; never while aborted (an aborted update keeps the
    condition it had). A Rollout never paused has none. Paused at a step, then promoted: Paused False
    RolloutPaused (the comparison with Argo's controller, tests/integration/conformance)."""
    conditions, now_text = ctx.conditions, ctx.now_text
    current = conditions.get(Condition.PAUSED)
    currently_true = current is not None and current.get("status") == "True"
    if paused != currently_true and not aborted:
        set_condition(conditions, Condition.PAUSED, "True" if paused else "False", Reason.ROLLOUT_PAUSED,
                      PAUSED_MESSAGE, now_text)
    if resumed:
        ctx.event(Event.ROLLOUT_RESUMED, RESUMED_MESSAGE)


def _availability(ctx: PlanContext, outcome: Outcome) -> None:
    available, healthy = outcome.available, outcome.healthy
    set_condition(
        ctx.conditions,
        Condition.AVAILABLE,
        "True" if available else "False",
        Reason.AVAILABLE,
        AVAILABLE_MESSAGE if available else NOT_AVAILABLE_MESSAGE,
        ctx.now_text,
    )
    set_condition(
        ctx.conditions,
        Condition.HEALTHY,
        "True" if healthy else "False",
        Reason.ROLLOUT_HEALTHY,
        HEALTHY_MESSAGE if healthy else NOT_HEALTHY_MESSAGE,
        ctx.now_text,
    )


def _completed(ctx: PlanContext, sets: RevisionSets, *, paused: bool) -> None:
    """Completed once the current revision is stable (and not paused); RolloutNotCompleted whenever the
    condition becomes False, also when it is first set (Argo's calculateRolloutConditions: a canary's first
    reconcile says "Rollout not completed, started update to revision 1", TestRolloutAbortRetryPromote)."""
    status = ctx.status
    completed = not paused and bool(status.get("stableRS")) and status.get("stableRS") == status.get("currentPodHash")
    previous = ctx.conditions.get(Condition.COMPLETED)
    changed = set_condition(
        ctx.conditions,
        Condition.COMPLETED,
        "True" if completed else "False",
        Reason.ROLLOUT_COMPLETED,
        Reason.ROLLOUT_COMPLETED,
        ctx.now_text,
    )
    if changed and not completed and (previous is None or previous.get("status") == "True"):
        ctx.event(
            Event.ROLLOUT_NOT_COMPLETED,
            f"Rollout not completed, started update to revision {sets.revision} ({sets.current_hash})",
        )
