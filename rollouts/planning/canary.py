"""The canary strategy: walk the steps, size the canary and stable, move traffic, promote or abort.

One call plans one reconcile, in Argo's order: restart pods, prune history, point the stable/canary Services,
set the traffic weight, reconcile analysis, scale ReplicaSets (stable first, then canary, then old ones, and
stop there if anything was scaled), handle a pause step, then advance the step / promote / abort in status.
Traffic and Services live in ``canary_traffic``, ReplicaSet sizes in ``canary_scaling``, the weights in force
in ``canary_state``.

Level-based by construction: the step index, pause start times, abort flag and step hash are read from the
observed status and written back in the plan's status, and scale-down deadlines live on the ReplicaSets, so a
controller killed between any two actions re-plans the same next move.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from rollouts.api.rollout import PING, PONG, CanaryStep, PodTemplateMetadata, WeightDestination
from rollouts.planning import analysis as analysis_planning
from rollouts.planning.canary_scaling import at_desired_counts, reconcile_replica_sets
from rollouts.planning.canary_state import CanaryState, desired_weight
from rollouts.planning.canary_traffic import reconcile_services, reconcile_traffic
from rollouts.planning.context import PlanContext
from rollouts.planning.ephemeral import sync_ephemeral_metadata
from rollouts.planning.experiment_step import reconcile_experiments
from rollouts.planning.observed import parse_timestamp
from rollouts.planning.outcome import Outcome, finalize
from rollouts.planning.replicasets import (
    classify_revisions,
    create_replica_set,
    prune_history,
    revision_label,
    rollback_within_window,
)
from rollouts.planning.restart import plan_restart
from rollouts.planning.spec_facts import spec_facts
from rollouts.planning.status import (
    abort_in_force,
    add_pause,
    base_status,
    clear_pauses,
    is_unpausing,
    note_abort,
    note_retry,
    pause_condition,
    remove_pause,
    reset_for_update,
    set_counts,
)
from rollouts.planning.steps import (
    current_step,
    step_text,
)
from rollouts.planning.vocabulary import Event, Pause


def plan_canary(ctx: PlanContext, template: Mapping[str, Any], current_hash: str) -> None:
    strategy = ctx.spec.strategy.canary
    assert strategy is not None
    steps = list(strategy.steps or ())
    old = ctx.old
    sets = classify_revisions(ctx, template, current_hash)
    current_hash = sets.current_hash  # the found ReplicaSet's label, when it was found by another hash
    ctx.status = base_status(ctx, current_hash)
    facts = spec_facts(ctx.rollout)
    ctx.status["currentStepHash"] = facts.steps_hash
    state = CanaryState(strategy, steps, sets, abort_in_force(old), facts.max_surge, facts.max_unavailable)
    _carry_canary_status(ctx)

    within_window = rollback_within_window(ctx, sets)
    # A step hash written by this project's earlier versions counts as unchanged steps (upgrade in place).
    steps_changed = old.current_step_hash not in (facts.steps_hash, facts.legacy_steps_hash)
    if old.current_pod_hash != current_hash or steps_changed:
        _start_update(ctx, state, within_window=within_window)
        if sets.new is None:
            create_replica_set(ctx, template, sets, pod_metadata=_new_pod_metadata(ctx, state))
        _finish(ctx, state, abort_message=None, strategy_progress=True)
        return
    if sets.new is None:
        create_replica_set(ctx, template, sets, pod_metadata=_new_pod_metadata(ctx, state))
        _finish(ctx, state, abort_message=None, strategy_progress=False)
        return
    abort_message = _reconcile(ctx, state, within_window=within_window)
    _finish(ctx, state, abort_message=abort_message, strategy_progress=False)


def _start_update(ctx: PlanContext, state: CanaryState, *, within_window: bool) -> None:
    """A new pod template or new steps: start the steps over, or skip them when going back to the stable
    ReplicaSet (or to one still up within ``rollbackWindow``), as Argo's SkipSteps events say."""
    old, sets, steps = ctx.old, state.sets, state.steps
    back_to_stable = old.stable_rs == sets.current_hash
    reset_for_update(ctx, len(steps), back_to_stable=back_to_stable or within_window)
    analysis_planning.reset_canary_runs(ctx)
    if old.current_pod_hash == sets.current_hash:
        return  # only the steps changed
    ctx.event(Event.ROLLOUT_UPDATED, f"Rollout updated to revision {sets.revision}")
    if back_to_stable and steps and old.current_pod_hash:
        ctx.event("SkipSteps", "Rollback to stable ReplicaSets")
    elif within_window and steps:
        ctx.event("SkipSteps", "Rollback to active ReplicaSets within RollbackWindow")


def _reconcile(ctx: PlanContext, state: CanaryState, *, within_window: bool) -> str | None:
    """One step of an update whose ReplicaSet exists, in Argo's order; returns the abort message if aborted."""
    if not state.aborted and note_retry(ctx):
        analysis_planning.reset_canary_runs(ctx)  # the failed runs are history; a retry runs them again
    plan_restart(ctx, state.sets)
    prune_history(ctx, state.sets.others, ctx.spec.revision_history_limit)
    if ctx.old.promote_full or within_window:
        clear_pauses(ctx)
        if state.steps:
            ctx.status["currentStepIndex"] = len(state.steps)
        # Argo's RemoveAbort: a full promotion of an aborted update goes on (TestCanaryPromoteFull).
        if state.aborted:
            state.aborted = False
            ctx.status.pop("abort", None)
            ctx.status.pop("abortedAt", None)
    # Experiments and analysis first (Argo's order): one that just failed aborts in this same plan, so the
    # Services and the traffic below already go back to stable (not one reconcile later, which left the
    # failed canary serving).
    abort_detail: str | None = None
    experiment = reconcile_experiments(ctx, state.sets, state.steps, aborted=state.aborted)
    if experiment.abort_detail is not None and not state.aborted:
        state.aborted = True
        abort_detail = experiment.abort_detail
    verdict = analysis_planning.reconcile_canary_analysis(ctx, state.sets, state.steps, aborted=state.aborted)
    if verdict.abort_detail is not None and not state.aborted:
        state.aborted = True
        abort_detail = verdict.abort_detail
    reconcile_services(ctx, state)
    reconcile_traffic(ctx, state)
    if not (verdict.inconclusive or experiment.inconclusive) and not reconcile_replica_sets(ctx, state):
        _reconcile_pause(ctx, state)
    # Only the current step's kind can pass: an analysis step by its run, an experiment step by its Experiment.
    step_passed = verdict.step_passed or experiment.step_passed
    return _sync_steps(ctx, state, abort_detail=abort_detail, run_step_passed=step_passed)


def _reconcile_pause(ctx: PlanContext, state: CanaryState) -> None:
    if ctx.spec.paused or ctx.status.get("promoteFull") or state.aborted:
        return
    index = ctx.status.get("currentStepIndex")
    step = current_step(state.steps, index)
    if step is None or step.pause is None:
        return
    cond = pause_condition(ctx.status, Pause.CANARY_PAUSE_STEP)
    if cond is None:
        if not is_unpausing(ctx):
            add_pause(ctx, Pause.CANARY_PAUSE_STEP)
            seconds = step.pause.duration_seconds()
            if seconds is not None:
                ctx.wake(ctx.now + timedelta(seconds=seconds))
        return
    seconds = step.pause.duration_seconds()
    if seconds is not None:
        ctx.wake(parse_timestamp(cond.get("startTime")) + timedelta(seconds=seconds))


def _step_completed(ctx: PlanContext, state: CanaryState, step: CanaryStep, run_step_passed: bool) -> bool:
    if ctx.spec.paused:
        return False
    if step.pause is not None:
        cond = pause_condition(ctx.status, Pause.CANARY_PAUSE_STEP)
        if cond is None:
            return is_unpausing(ctx)
        seconds = step.pause.duration_seconds()
        if seconds is None:
            return False
        return ctx.now >= parse_timestamp(cond.get("startTime")) + timedelta(seconds=seconds)
    if step.set_weight is not None or step.set_canary_scale is not None:
        if not at_desired_counts(ctx, state):
            return False
        if step.set_weight is not None and state.traffic_routed:
            traffic = ctx.observed.traffic
            if traffic is not None and traffic.weight is not None:
                return traffic.weight == desired_weight(ctx, state)
            weights = ctx.status["canary"].get("weights") or {}
            return bool(weights.get("canary", {}).get("weight") == desired_weight(ctx, state))
        return True
    if step.analysis is not None or step.experiment is not None:
        return run_step_passed
    return step.set_header_route is not None or step.set_mirror_route is not None


def _should_promote(ctx: PlanContext, state: CanaryState) -> str | None:
    sets = state.sets
    if sets.stable is None:
        return "Initial deploy"
    if state.aborted:
        return None
    if sets.new is None or sets.new.available_replicas != ctx.spec.replicas:
        return None
    if ctx.old.promote_full:
        return "Full promotion requested"
    index = ctx.status.get("currentStepIndex")
    if not state.steps or (index is not None and index >= len(state.steps)):
        return f"Completed all {len(state.steps)} canary steps"
    return None


def _sync_steps(
    ctx: PlanContext, state: CanaryState, *, abort_detail: str | None, run_step_passed: bool
) -> str | None:
    """Advance the step, promote, or record the abort; returns the abort message when aborted."""
    status, steps = ctx.status, state.steps
    reason = _should_promote(ctx, state)
    if reason is not None:
        clear_pauses(ctx)
        status.pop("abort", None)
        status.pop("abortedAt", None)
        status.pop("promoteFull", None)
        if steps:
            status["currentStepIndex"] = len(steps)
        else:
            status.pop("currentStepIndex", None)
        if status.get("stableRS") != state.sets.current_hash:
            status["stableRS"] = state.sets.current_hash
            if state.strategy.ping_pong is not None:  # the canary ping/pong Service becomes the stable one
                status["canary"]["stablePingPong"] = PONG if status["canary"].get("stablePingPong") == PING else PING
            ctx.event(
                Event.ROLLOUT_COMPLETED,
                f"Rollout completed update to revision {revision_label(state.sets)}: {reason}",
            )
        return None
    if state.aborted:
        if steps:
            status["currentStepIndex"] = 0 if state.has_canary else len(steps)
        return note_abort(ctx, state.sets.revision, abort_detail)
    index = status.get("currentStepIndex")
    step = current_step(steps, index)
    if step is not None and index is not None and _step_completed(ctx, state, step, run_step_passed):
        status["currentStepIndex"] = index + 1
        remove_pause(ctx, Pause.CANARY_PAUSE_STEP)
        analysis_planning.step_completed(ctx)
        ctx.event(
            Event.ROLLOUT_STEP_COMPLETED,
            f"Rollout step {index + 1}/{len(steps)} completed ({step_text(step)})",
        )
        ctx.wake(ctx.now)
    return None


def _carry_canary_status(ctx: PlanContext) -> None:
    canary = ctx.old.canary
    ctx.status["canary"] = {}
    if canary is None:
        return
    if canary.stable_ping_pong:
        ctx.status["canary"]["stablePingPong"] = canary.stable_ping_pong
    weights = canary.weights
    if weights is not None:
        ctx.status["canary"]["weights"] = {
            "canary": _destination(weights.canary),
            "stable": _destination(weights.stable),
        }
    analysis_planning.carry_canary_runs(ctx, canary)


def _destination(destination: WeightDestination) -> dict[str, Any]:
    result: dict[str, Any] = {"weight": destination.weight}
    if destination.pod_template_hash:
        result["podTemplateHash"] = destination.pod_template_hash
    if destination.service_name:
        result["serviceName"] = destination.service_name
    return result


def _new_pod_metadata(ctx: PlanContext, state: CanaryState) -> PodTemplateMetadata | None:
    """canaryMetadata for a canary next to a stable, stableMetadata for a revision that starts as stable."""
    if state.sets.stable is not None and state.sets.stable.pod_template_hash != state.sets.current_hash:
        return state.strategy.canary_metadata
    return state.strategy.stable_metadata


def _sync_role_metadata(ctx: PlanContext, state: CanaryState) -> None:
    """stableMetadata on the stable revision's pods, canaryMetadata on the canary's (roles move at promotion)."""
    strategy, sets = state.strategy, state.sets
    stable_hash = ctx.status.get("stableRS")
    for rs in (sets.new, sets.stable):
        if rs is None or ctx.spec.paused:
            continue
        role = strategy.stable_metadata if rs.pod_template_hash == stable_hash else strategy.canary_metadata
        if rs is sets.stable and rs.pod_template_hash != stable_hash:
            continue  # a former stable (just replaced by this plan's promotion) keeps its pods' labels
        sync_ephemeral_metadata(ctx, rs, role)


def _finish(ctx: PlanContext, state: CanaryState, *, abort_message: str | None, strategy_progress: bool) -> None:
    sets, status, old = state.sets, ctx.status, ctx.old
    _sync_role_metadata(ctx, state)
    if not state.traffic_routed:
        status["canary"].pop("weights", None)
    set_counts(status, sets)
    replicas = ctx.spec.replicas
    index = status.get("currentStepIndex")
    all_steps_done = not state.steps or index is None or index >= len(state.steps)
    stable_is_current = bool(status.get("stableRS")) and status.get("stableRS") == status.get("currentPodHash")
    healthy = (
        status["updatedReplicas"] == replicas
        and status["availableReplicas"] == replicas
        and status["replicas"] == replicas
        and all_steps_done
        and stable_is_current
    )
    progress = (
        strategy_progress
        or status.get("stableRS") != old.stable_rs
        or status.get("currentStepIndex") != old.current_step_index
        or status.get("currentStepHash") != old.current_step_hash
    )
    finalize(
        ctx,
        sets,
        Outcome(
            healthy=healthy,
            available=status["availableReplicas"] >= replicas,
            strategy_progress=progress,
            abort_message=abort_message,
        ),
    )
