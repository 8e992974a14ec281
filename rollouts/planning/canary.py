"""The canary strategy: walk the steps, size the canary and stable, move traffic, promote or abort.

One call plans one reconcile, in Argo's order: restart pods, prune history, point the stable/canary Services,
set the traffic weight, reconcile analysis, scale ReplicaSets (stable first, then canary, then old ones, and
stop there if anything was scaled), handle a pause step, then advance the step / promote / abort in status.

Level-based by construction: the step index, pause start times, abort flag and step hash are read from the
observed status and written back in the plan's status, and scale-down deadlines live on the ReplicaSets, so a
controller killed between any two actions re-plans the same next move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rollouts.api.rollout import CanaryStep, CanaryStrategy, WeightDestination
from rollouts.planning import analysis as analysis_planning
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.observed import ObservedReplicaSet, parse_timestamp
from rollouts.planning.plan import SetCanaryWeight, SetServiceSelector
from rollouts.planning.replicas import (
    CanaryCounts,
    all_desired_available,
    all_desired_created,
    basic_canary_counts,
    traffic_routed_canary_counts,
    weight_to_replicas,
)
from rollouts.planning.replicasets import (
    classify,
    clear_deadline,
    create_replica_set,
    prune_history,
    revision_label,
    scale,
    scale_down_after_delay,
    scale_down_deadline,
    scale_with_revision,
)
from rollouts.planning.restart import plan_restart
from rollouts.planning.spec_facts import spec_facts
from rollouts.planning.status import (
    add_pause,
    base_status,
    clear_pauses,
    finalize,
    is_unpausing,
    note_abort,
    note_retry,
    pause_condition,
    remove_pause,
    reset_for_update,
    set_counts,
)
from rollouts.planning.steps import (
    canary_scale_in_force,
    current_step,
    header_routes_in_force,
    set_weight_in_force,
    step_text,
)
from rollouts.planning.vocabulary import Event, Pause


@dataclass(slots=True)
class CanaryState:
    """What this reconcile knows about the update, shared by the phases of the canary plan."""

    strategy: CanaryStrategy
    steps: list[CanaryStep]
    sets: RevisionSets
    aborted: bool
    max_surge: int
    max_unavailable: int
    traffic_routed: bool = False
    has_canary: bool = False
    """There is a distinct stable to canary against (not an initial deploy, not back at stable)."""
    counts: CanaryCounts | None = None
    counts_key: tuple[object, ...] = ()
    """Desired counts, computed once per plan (keyed by what can change while planning)."""

    def __post_init__(self) -> None:
        self.traffic_routed = self.strategy.traffic_routing is not None
        self.has_canary = self.sets.stable is not None and not self.sets.stable_is_new


def plan_canary(ctx: PlanContext, template: Mapping[str, Any], current_hash: str) -> None:
    strategy = ctx.spec.strategy.canary
    assert strategy is not None
    steps = list(strategy.steps or ())
    old = ctx.old
    sets = classify(ctx.observed.replica_sets, current_hash=current_hash, stable_hash=old.stable_rs, template=template)
    ctx.status = base_status(ctx, current_hash)
    facts = spec_facts(ctx.rollout)
    step_hash = facts.steps_hash
    ctx.status["currentStepHash"] = step_hash
    state = CanaryState(strategy, steps, sets, bool(old.abort), facts.max_surge, facts.max_unavailable)
    _carry_canary_status(ctx)

    if old.current_pod_hash != current_hash or old.current_step_hash != step_hash:
        back_to_stable = old.stable_rs == current_hash
        reset_for_update(ctx, len(steps), back_to_stable=back_to_stable)
        analysis_planning.reset_canary_runs(ctx)
        if old.current_pod_hash != current_hash:
            ctx.event(Event.ROLLOUT_UPDATED, f"Rollout updated to revision {sets.revision}")
            if back_to_stable and steps and old.current_pod_hash:
                ctx.event("SkipSteps", "Rollback to stable ReplicaSets")
        if sets.new is None:
            create_replica_set(ctx, template, sets, pod_metadata=_new_pod_metadata(ctx, state))
        _finish(ctx, state, abort_message=None, strategy_progress=True)
        return
    if sets.new is None:
        create_replica_set(ctx, template, sets, pod_metadata=_new_pod_metadata(ctx, state))
        _finish(ctx, state, abort_message=None, strategy_progress=False)
        return

    if not state.aborted and note_retry(ctx):
        analysis_planning.reset_canary_runs(ctx)  # the failed runs are history; a retry runs them again
    plan_restart(ctx, sets)
    prune_history(ctx, sets.others, ctx.spec.revision_history_limit)
    if old.promote_full:
        clear_pauses(ctx)
        if steps:
            ctx.status["currentStepIndex"] = len(steps)
    _reconcile_services(ctx, state)
    _reconcile_traffic(ctx, state)
    verdict = analysis_planning.reconcile_canary_analysis(ctx, state.sets, state.steps, aborted=state.aborted)
    abort_detail: str | None = None
    if verdict.abort_detail is not None and not state.aborted:
        state.aborted = True
        abort_detail = verdict.abort_detail
    scaled = False
    if not verdict.inconclusive:
        scaled = _reconcile_replica_sets(ctx, state)
        if not scaled:
            _reconcile_pause(ctx, state)
    abort_message = _sync_steps(ctx, state, abort_detail=abort_detail, analysis_step_passed=verdict.step_passed)
    _finish(ctx, state, abort_message=abort_message, strategy_progress=False)


# --- services and traffic ------------------------------------------------------------------------------------


def _fully_available(rs: ObservedReplicaSet | None) -> bool:
    return rs is not None and rs.spec_replicas > 0 and rs.available_replicas >= rs.spec_replicas


def _point_service(ctx: PlanContext, service_name: str | None, rs: ObservedReplicaSet | None) -> None:
    """Pin a Service to ``rs``'s hash, but only once its pods are all available (never to an empty set)."""
    if not service_name or rs is None:
        return
    service = ctx.observed.services.get(service_name)
    if service is None or service.selector.get("rollouts-pod-template-hash") == rs.pod_template_hash:
        return
    if _fully_available(rs):
        ctx.act(SetServiceSelector(service_name, rs.pod_template_hash))


def _reconcile_services(ctx: PlanContext, state: CanaryState) -> None:
    sets = state.sets
    stable = sets.stable if sets.stable is not None else sets.new
    _point_service(ctx, state.strategy.stable_service, stable)
    canary_target = sets.new
    if state.aborted or not state.has_canary:
        canary_target = stable
    _point_service(ctx, state.strategy.canary_service, canary_target)


def _step_weight(ctx: PlanContext, state: CanaryState) -> int:
    """The weight the steps ask for now, out of maxTrafficWeight: the nearest setWeight at or before the
    current step, or the whole (maxTrafficWeight) once every step is done or promoteFull is set."""
    index = ctx.status.get("currentStepIndex")
    if ctx.status.get("promoteFull") or not state.steps or (index or 0) >= len(state.steps):
        return state.strategy.effective_max_traffic_weight()
    return set_weight_in_force(state.steps, index)


def _desired_weight(ctx: PlanContext, state: CanaryState) -> int:
    """The canary traffic weight for this reconcile (0 when aborted or fully promoted).

    With dynamicStableScale an abort can only hand traffic back as fast as the stable has available pods:
    10 replicas, 4 stable pods available -> canary keeps 60.
    """
    if state.aborted and state.strategy.dynamic_stable_scale and state.sets.stable is not None:
        max_weight = state.strategy.effective_max_traffic_weight()
        replicas = max(1, ctx.spec.replicas)
        stable_available = min(state.sets.stable.available_replicas, replicas)
        return min(_previous_weight(ctx), max(0, max_weight - stable_available * max_weight // replicas))
    if state.aborted or not state.has_canary:
        return 0
    return _step_weight(ctx, state)


def _previous_weight(ctx: PlanContext) -> int:
    canary = ctx.old.canary
    if canary is None or canary.weights is None:
        return 0
    return canary.weights.canary.weight


def _reconcile_traffic(ctx: PlanContext, state: CanaryState) -> None:
    if not state.traffic_routed:
        return
    strategy, sets = state.strategy, state.sets
    weight = _desired_weight(ctx, state)
    previous = _previous_weight(ctx)
    if weight > previous and not _canary_pods_ready(ctx, state):
        # Traffic moves up only once the canary has the pods for it.
        weight = previous
    routes = (
        ()
        if state.aborted or not state.has_canary
        else header_routes_in_force(state.steps, ctx.status.get("currentStepIndex"))
    )
    max_weight = strategy.effective_max_traffic_weight()
    stable_hash = sets.stable.pod_template_hash if sets.stable is not None else sets.current_hash
    ctx.status["canary"]["weights"] = {
        "canary": {
            "weight": weight,
            "podTemplateHash": sets.current_hash,
            **({"serviceName": strategy.canary_service} if strategy.canary_service else {}),
        },
        "stable": {
            "weight": max_weight - weight,
            "podTemplateHash": stable_hash,
            **({"serviceName": strategy.stable_service} if strategy.stable_service else {}),
        },
    }
    traffic = ctx.observed.traffic
    route_names = tuple(sorted(str(route["name"]) for route in routes))
    in_effect = traffic is not None and traffic.weight == weight and tuple(sorted(traffic.header_routes)) == route_names
    if not in_effect:
        ctx.act(SetCanaryWeight(weight, routes))
    if weight != previous:
        ctx.event(Event.TRAFFIC_WEIGHT_UPDATED, f"Traffic weight updated from {previous} to {weight}")


def _canary_pods_ready(ctx: PlanContext, state: CanaryState) -> bool:
    counts = _desired_counts(ctx, state)
    return all_desired_available(state.sets.new, counts.canary)


# --- replica sets ----------------------------------------------------------------------------------------------


def _desired_counts(ctx: PlanContext, state: CanaryState) -> CanaryCounts:
    """Desired canary/stable sizes for this reconcile (basic or traffic-routed arithmetic)."""
    key = (ctx.status.get("currentStepIndex"), state.aborted, bool(ctx.status.get("promoteFull")))
    if state.counts is not None and state.counts_key == key:
        return state.counts
    state.counts, state.counts_key = _compute_counts(ctx, state), key
    return state.counts


def _compute_counts(ctx: PlanContext, state: CanaryState) -> CanaryCounts:
    replicas = ctx.spec.replicas
    sets = state.sets
    if not state.has_canary:
        return CanaryCounts(replicas, 0)
    weight = 0 if state.aborted else _step_weight(ctx, state)
    if not state.traffic_routed:
        return basic_canary_counts(
            replicas=replicas,
            weight=weight,
            max_surge=state.max_surge,
            max_unavailable=state.max_unavailable,
            canary_rs=sets.new,
            stable_rs=sets.stable,
            other_rss=sets.others,
        )
    strategy = state.strategy
    scale_step = None
    if not ctx.status.get("promoteFull"):
        scale_step = canary_scale_in_force(state.steps, ctx.status.get("currentStepIndex"))
    if state.aborted and strategy.effective_abort_scale_down_delay_seconds() != 0:
        scale_step = None  # an abort scales the canary by traffic, unless told to keep it (delay 0)
    canary_pods: int | None = None
    if scale_step is not None and scale_step.replicas is not None:
        canary_pods = scale_step.replicas
    elif scale_step is not None and scale_step.weight is not None:
        canary_pods = weight_to_replicas(replicas, scale_step.weight)
    traffic = ctx.observed.traffic
    actual = traffic.weight if traffic is not None and traffic.weight is not None else _previous_weight(ctx)
    max_weight = strategy.effective_max_traffic_weight()
    return traffic_routed_canary_counts(
        replicas=replicas,
        weight=weight,
        max_weight=max_weight,
        canary_scale_replicas=canary_pods,
        min_pods_per_replica_set=strategy.min_pods_per_replica_set,
        dynamic_stable_scale=strategy.dynamic_stable_scale,
        actual_stable_weight=max_weight - actual,
        actual_canary_weight=actual,
        aborted=state.aborted,
    )


def _reconcile_replica_sets(ctx: PlanContext, state: CanaryState) -> bool:
    """Scale stable, then canary, then old ReplicaSets; stop at the first that changes (Argo's order)."""
    if ctx.spec.paused:
        return False
    sets = state.sets
    new = sets.new
    assert new is not None
    cleared = clear_deadline(ctx, sets.stable)
    if not sets.stable_is_new and not state.aborted:
        # The canary carries a deadline only while aborted; a retry or a newer update takes it back.
        cleared = clear_deadline(ctx, new) or cleared
    if cleared:
        return True
    counts = _desired_counts(ctx, state)
    if state.has_canary and sets.stable is not None and scale(ctx, sets.stable, counts.stable):
        return True
    if state.aborted and state.traffic_routed and state.has_canary:
        delay = state.strategy.effective_abort_scale_down_delay_seconds()
        if delay == 0:
            return False  # abortScaleDownDelaySeconds: 0 keeps the canary up
        return scale_down_after_delay(ctx, new, delay)
    if scale_with_revision(ctx, new, counts.canary, sets):
        return True
    return _scale_down_old(ctx, state)


def _scale_down_old(ctx: PlanContext, state: CanaryState) -> bool:
    sets = state.sets
    available = sum(rs.available_replicas for rs in sets.all)
    room = available - (ctx.spec.replicas - state.max_unavailable)
    if room <= 0:
        return False
    fully_promoted = not state.has_canary
    changed = False
    for rs in sets.others:
        if rs.spec_replicas == 0:
            continue
        if state.traffic_routed:
            if fully_promoted or scale_down_deadline(rs) is not None:
                if state.strategy.dynamic_stable_scale:
                    changed |= scale(ctx, rs, 0)
                else:
                    changed |= scale_down_after_delay(ctx, rs, state.strategy.effective_scale_down_delay_seconds())
                continue
            target = 0  # an intermediate revision (v1 -> v2 -> v3): no traffic reaches it
        else:
            if room <= 0:
                break
            target = max(0, rs.spec_replicas - room)
        room -= rs.spec_replicas - target
        changed |= scale(ctx, rs, target)
    return changed


# --- pauses, steps, promotion ---------------------------------------------------------------------------------


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


def _step_completed(ctx: PlanContext, state: CanaryState, step: CanaryStep, analysis_step_passed: bool) -> bool:
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
        if not _at_desired_counts(ctx, state):
            return False
        if step.set_weight is not None and state.traffic_routed:
            traffic = ctx.observed.traffic
            if traffic is not None and traffic.weight is not None:
                return traffic.weight == _desired_weight(ctx, state)
            weights = ctx.status["canary"].get("weights") or {}
            return bool(weights.get("canary", {}).get("weight") == _desired_weight(ctx, state))
        return True
    if step.analysis is not None:
        return analysis_step_passed
    return step.set_header_route is not None


def _at_desired_counts(ctx: PlanContext, state: CanaryState) -> bool:
    """Argo's ``AtDesiredReplicaCountsForCanary``: the step's pods exist and are available."""
    counts = _desired_counts(ctx, state)
    sets = state.sets
    if not all_desired_available(sets.new, counts.canary):
        return False
    checks_stable = not state.traffic_routed or not state.strategy.dynamic_stable_scale
    if checks_stable and state.has_canary and not all_desired_created(sets.stable, counts.stable):
        return False
    if not state.traffic_routed:
        return sum(rs.available_replicas for rs in sets.others) == 0
    return True


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
    ctx: PlanContext, state: CanaryState, *, abort_detail: str | None, analysis_step_passed: bool
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
    if step is not None and index is not None and _step_completed(ctx, state, step, analysis_step_passed):
        status["currentStepIndex"] = index + 1
        remove_pause(ctx, Pause.CANARY_PAUSE_STEP)
        analysis_planning.step_completed(ctx)
        ctx.event(
            Event.ROLLOUT_STEP_COMPLETED,
            f"Rollout step {index + 1}/{len(steps)} completed ({step_text(step)})",
        )
        ctx.wake(ctx.now)
    return None


# --- status -----------------------------------------------------------------------------------------------------


def _carry_canary_status(ctx: PlanContext) -> None:
    canary = ctx.old.canary
    ctx.status["canary"] = {}
    if canary is None:
        return
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


def _new_pod_metadata(ctx: PlanContext, state: CanaryState) -> Any:
    if state.sets.stable is not None and state.sets.stable.pod_template_hash != state.sets.current_hash:
        return state.strategy.canary_metadata
    return state.strategy.stable_metadata


def _finish(ctx: PlanContext, state: CanaryState, *, abort_message: str | None, strategy_progress: bool) -> None:
    sets, status, old = state.sets, ctx.status, ctx.old
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
        healthy=healthy,
        available=status["availableReplicas"] >= replicas,
        strategy_progress=progress,
        abort_message=abort_message,
        traffic_routed=state.traffic_routed,
    )
    if not status["canary"]:
        status["canary"] = {}
