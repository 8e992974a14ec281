"""The blue-green strategy: bring the new revision up behind the preview Service, pause or wait, promote by
switching the active Service, keep the old revision around for ``scaleDownDelaySeconds``.

The state lives in status (``blueGreen.activeSelector``/``previewSelector``, ``pauseConditions`` with their
start times, ``blueGreen.scaleUpPreviewCheckPoint``, ``stableRS``) and in the ``scale-down-deadline``
annotation of the old ReplicaSet, so a restarted controller continues exactly where it was.

One call plans one reconcile, split by concept as the canary planner is: a new pod template starts an update
(``_start_update``); otherwise the analysis verdict may abort (``_abort``), else the sizes are held
(``_hold_sizes``), the first revision goes live at once (``_initial_cutover``), a previewed revision is promoted
when allowed (``_promote_when_ready``), and a promoted one becomes stable and retires the old ReplicaSets
(``_after_cutover``). ``_finish`` then writes counts, conditions and phase.

* 3 replicas, previewReplicaCount 1, autoPromotionEnabled false: the new ReplicaSet gets 1 pod, the preview
  Service points at it, the rollout pauses (BlueGreenPause); on promote it is first scaled to 3
  (``scaleUpPreviewCheckPoint``), then the active Service switches, and the old ReplicaSet is scaled to 0 30 s
  later (``scaleDownDelaySeconds``).
* autoPromotionSeconds 60: the pause ends by itself 60 s after it started (the deadline is in status).
* An abort puts both Services back on the stable hash and scales the new ReplicaSet to 0 after
  ``abortScaleDownDelaySeconds`` (30 by default; 0 leaves it up for inspection).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from rollouts.api.labels import SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.api.rollout import BlueGreenStrategy, PodTemplateMetadata
from rollouts.planning import analysis as analysis_planning
from rollouts.planning.analysis import AnalysisVerdict
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.ephemeral import sync_ephemeral_metadata
from rollouts.planning.hashing import replica_set_name
from rollouts.planning.observed import ObservedReplicaSet, parse_timestamp
from rollouts.planning.outcome import Outcome, finalize
from rollouts.planning.replicasets import (
    classify_revisions,
    clear_deadline,
    create_replica_set,
    prune_history,
    revision_label,
    rollback_within_window,
    scale,
    scale_down_after_delay,
    scale_down_deadline,
    scale_down_old_after_delay,
    scale_with_revision,
)
from rollouts.planning.restart import plan_restart
from rollouts.planning.services import switch_service
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
    run_status_dict,
    set_counts,
)
from rollouts.planning.vocabulary import Event, Pause


@dataclass(slots=True)
class BlueGreenState:
    """What this reconcile knows about the update, shared by the phases of the blue-green plan.

    ``status`` is the ``status.blueGreen`` block being written. ``initial``: no active revision yet (or no stable
    ReplicaSet), so the first one goes live without a pause. ``within_window``: a rollback that skips the
    pause and pre-promotion analysis (within ``rollbackWindow``, or back to a ReplicaSet still up waiting for
    its scale-down deadline: Argo's isBlueGreenFastTracked). ``promoted``: the active Service selects the
    current revision. ``halted``: ``spec.paused`` or an inconclusive analysis; nothing is scaled.
    """

    strategy: BlueGreenStrategy
    sets: RevisionSets
    status: dict[str, Any]
    aborted: bool = False
    abort_detail: str | None = None
    abort_message: str | None = None
    initial: bool = False
    within_window: bool = False
    promoted: bool = False
    halted: bool = False
    verdict: AnalysisVerdict = field(default_factory=AnalysisVerdict)


def plan_blue_green(ctx: PlanContext, template: Mapping[str, Any], current_hash: str) -> None:
    strategy = ctx.spec.strategy.blue_green
    assert strategy is not None
    sets = classify_revisions(ctx, template, current_hash)
    current_hash = sets.current_hash  # the found ReplicaSet's label, when it was found by another hash
    ctx.status = base_status(ctx, current_hash)
    ctx.status.pop("currentStepIndex", None)
    ctx.status.pop("currentStepHash", None)
    state = BlueGreenState(strategy, sets, _carry_blue_green(ctx))
    if ctx.old.current_pod_hash != current_hash:
        _start_update(ctx, state, template)
    elif sets.new is None:
        _create_new(ctx, strategy, template, sets)
    else:
        _reconcile(ctx, state, sets.new)
    _finish(ctx, state)


def _start_update(ctx: PlanContext, state: BlueGreenState, template: Mapping[str, Any]) -> None:
    """A new pod template: start over (pauses, abort, previous analysis gone) and create its ReplicaSet."""
    sets = state.sets
    reset_for_update(ctx, 0, back_to_stable=ctx.old.stable_rs == sets.current_hash)
    for key in ("scaleUpPreviewCheckPoint", "prePromotionAnalysisRunStatus", "postPromotionAnalysisRunStatus"):
        state.status.pop(key, None)
    ctx.event(Event.ROLLOUT_UPDATED, f"Rollout updated to revision {sets.revision}")
    if sets.new is None:
        _create_new(ctx, state.strategy, template, sets)


def _create_new(ctx: PlanContext, strategy: BlueGreenStrategy, template: Mapping[str, Any], sets: RevisionSets) -> None:
    """The new revision's ReplicaSet: at 0 next to a stable one (it is scaled to its preview size next), or,
    for the first revision, at full size and stable at once, as Argo's one reconcile does (created, scaled,
    "Initial deploy" before the active Service switches: TestBlueGreenUpdate's event list)."""
    if sets.stable is not None:
        create_replica_set(ctx, template, sets, pod_metadata=strategy.preview_metadata)
        return
    replicas = ctx.spec.replicas
    create_replica_set(ctx, template, sets, replicas=replicas, pod_metadata=strategy.active_metadata)
    if replicas:
        name = replica_set_name(ctx.rollout.name, sets.current_hash)
        message = f"Scaled up ReplicaSet {name} (revision {sets.revision}) from 0 to {replicas}"
        ctx.event(Event.SCALING_REPLICA_SET, message)
    _promote(ctx, sets, "Initial deploy")


def _role_metadata(ctx: PlanContext, strategy: BlueGreenStrategy, sets: RevisionSets) -> PodTemplateMetadata | None:
    """activeMetadata once the current revision is the stable one (or none is yet), else previewMetadata: the
    role follows status.stableRS, not the active Service, as Argo's reconcileEphemeralMetadata."""
    if not ctx.old.stable_rs or ctx.old.stable_rs == sets.current_hash:
        return strategy.active_metadata
    return strategy.preview_metadata


def _reconcile(ctx: PlanContext, state: BlueGreenState, new: ObservedReplicaSet) -> None:
    """One step of an update whose ReplicaSet exists, in Argo's order."""
    _observe_update(ctx, state, new)
    _judge(ctx, state, new)
    if state.aborted:
        state.abort_message = _abort(ctx, state.strategy, state.sets, state.abort_detail)
        return
    if ctx.old.promote_full:
        clear_pauses(ctx)
    state.halted = bool(ctx.spec.paused) or state.verdict.inconclusive
    size = _hold_sizes(ctx, state, new)
    if state.initial:
        _initial_cutover(ctx, state, new)
        return
    _promote_when_ready(ctx, state, new, size)
    _after_cutover(ctx, state)


def _observe_update(ctx: PlanContext, state: BlueGreenState, new: ObservedReplicaSet) -> None:
    """Retry, restart and history first; then what the status says about the cutover so far."""
    # A full promotion (or a rollback within the window) lifts an abort, as Argo's RemoveAbort does.
    state.aborted = abort_in_force(ctx.old) and not (ctx.old.promote_full or rollback_within_window(ctx, state.sets))
    if ctx.old.abort and not state.aborted:
        ctx.status.pop("abort", None)
        ctx.status.pop("abortedAt", None)
    if not state.aborted and note_retry(ctx):
        state.status.pop("prePromotionAnalysisRunStatus", None)  # a retry runs the analysis again
        state.status.pop("postPromotionAnalysisRunStatus", None)
    plan_restart(ctx, state.sets)
    prune_history(ctx, state.sets.others, ctx.spec.revision_history_limit)
    active_hash = state.status.get("activeSelector") or ""
    state.initial = not active_hash or state.sets.stable is None
    state.within_window = rollback_within_window(ctx, state.sets) or scale_down_deadline(new) is not None
    state.promoted = active_hash == state.sets.current_hash
    if active_hash and state.strategy.active_service:
        switch_service(ctx, state.strategy.active_service, active_hash)  # a hand edit is put back


def _judge(ctx: PlanContext, state: BlueGreenState, new: ObservedReplicaSet) -> None:
    """Pre-promotion analysis once the preview is at size, post-promotion once the active Service switched;
    a failed run aborts in this same plan."""
    if state.initial:
        return
    # A full promotion skips both analyses and cancels a running one (Argo's reconcileAnalysisRuns with
    # status.promoteFull; TestBlueGreenPromoteFull counts one AnalysisRun): promoteFull stays set until stable.
    full = bool(ctx.old.promote_full)
    previewed = _at_size(new, _new_size(ctx, state.strategy, state.promoted))
    state.verdict = analysis_planning.reconcile_promotion_analysis(
        ctx,
        state.sets,
        pre=not full and not state.promoted and not state.within_window and previewed,
        post=not full and state.promoted and not _stable_is_current(ctx),
        aborted=state.aborted,
        cancel=full,
    )
    if state.verdict.abort_detail is not None and not state.aborted:
        state.aborted, state.abort_detail = True, state.verdict.abort_detail


def _hold_sizes(ctx: PlanContext, state: BlueGreenState, new: ObservedReplicaSet) -> int:
    """Keep the active side at full size and the new ReplicaSet at its size; returns that size.

    5 replicas, previewReplicaCount 2, not yet promoted: the stable ReplicaSet stays at 5 and the new one is
    scaled to 2, and the preview Service switches to it once 2 pods are available.
    """
    stable, sets = state.sets.stable, state.sets
    if not state.halted and stable is not None and not sets.stable_is_new:
        if state.promoted:
            clear_deadline(ctx, stable)
        else:
            # The active side stays at full size (and loses any deadline from an earlier update).
            scale(ctx, stable, ctx.spec.replicas, annotations={SCALE_DOWN_DEADLINE_ANNOTATION: None})
    size = _new_size(ctx, state.strategy, state.promoted or state.initial)
    if not state.halted:
        scale_with_revision(ctx, new, size, sets)
    _point(ctx, state.strategy.preview_service, new, state.status, "previewSelector", require=_at_size(new, size))
    return size


def _initial_cutover(ctx: PlanContext, state: BlueGreenState, new: ObservedReplicaSet) -> None:
    """The first revision: the active Service switches as soon as every pod is available, no pause."""
    at_size = _at_size(new, ctx.spec.replicas)
    _point(ctx, state.strategy.active_service, new, state.status, "activeSelector", require=at_size)
    if state.status.get("activeSelector") == state.sets.current_hash:
        _promote(ctx, state.sets, "Initial deploy")


def _promote_when_ready(ctx: PlanContext, state: BlueGreenState, new: ObservedReplicaSet, size: int) -> None:
    """A previewed revision at its size is promoted once allowed: after a passed pre-promotion analysis, then
    by auto-promotion, a user's promote or a rollback fast track. With previewReplicaCount 1 of 3 it is first
    scaled to 3 (``scaleUpPreviewCheckPoint``) and the active Service switches on a later reconcile."""
    if state.promoted or state.halted or not _at_size(new, size):
        return
    strategy = state.strategy
    waiting = strategy.pre_promotion_analysis is not None and not state.verdict.pre_promotion_passed
    if waiting and not (state.within_window or ctx.old.promote_full):
        return  # wait for the pre-promotion analysis
    if not (state.within_window or _ready_to_promote(ctx, strategy)):
        return
    if size < ctx.spec.replicas:
        state.status["scaleUpPreviewCheckPoint"] = True
        scale_with_revision(ctx, new, ctx.spec.replicas, state.sets)
        return
    _point(ctx, strategy.active_service, new, state.status, "activeSelector", require=True)
    state.promoted = state.status.get("activeSelector") == state.sets.current_hash


def _after_cutover(ctx: PlanContext, state: BlueGreenState) -> None:
    """Promoted: mark stable (after a passed post-promotion analysis) and retire the old ReplicaSets after
    ``scaleDownDelaySeconds``. Not promoted: a revision neither active nor previewed serves nothing."""
    strategy, sets = state.strategy, state.sets
    if state.promoted:
        if strategy.post_promotion_analysis is None or state.verdict.post_promotion_passed or ctx.old.promote_full:
            _promote(ctx, sets, "Completed blue-green update")
        if _stable_is_current(ctx) and not state.halted:
            scale_down_old_after_delay(
                ctx, sets.others, strategy.scale_down_delay_seconds, strategy.scale_down_delay_revision_limit
            )
    elif not state.halted:
        # Old revisions neither active nor previewed (v2 overtaken by v3, or the ones a promotion left behind)
        # keep their pods until their scale-down deadline, within scaleDownDelayRevisionLimit, as Argo's
        # scaleDownOldReplicaSetsForBlueGreen does on every reconcile (TestBlueGreenScaleDownDelay: revision 2
        # stays up while revision 4 is previewed next to the active revision 3).
        active = state.status.get("activeSelector")
        scale_down_old_after_delay(
            ctx,
            [rs for rs in sets.others if rs.pod_template_hash != active],
            strategy.scale_down_delay_seconds,
            strategy.scale_down_delay_revision_limit,
        )


def _carry_blue_green(ctx: PlanContext) -> dict[str, Any]:
    old = ctx.old.blue_green
    result: dict[str, Any] = {}
    if old is not None:
        if old.active_selector:
            result["activeSelector"] = old.active_selector
        if old.preview_selector:
            result["previewSelector"] = old.preview_selector
        if old.scale_up_preview_check_point:
            result["scaleUpPreviewCheckPoint"] = True
        for key, run in (
            ("prePromotionAnalysisRunStatus", old.pre_promotion_analysis_run_status),
            ("postPromotionAnalysisRunStatus", old.post_promotion_analysis_run_status),
        ):
            value = run_status_dict(run)
            if value is not None:
                result[key] = value
    ctx.status["blueGreen"] = result
    return result


def _stable_is_current(ctx: PlanContext) -> bool:
    return bool(ctx.status.get("stableRS")) and ctx.status.get("stableRS") == ctx.status.get("currentPodHash")


def _new_size(ctx: PlanContext, strategy: BlueGreenStrategy, promoted: bool) -> int:
    """previewReplicaCount while in preview, full size once promotion started."""
    preview = strategy.preview_replica_count
    if preview is None or promoted or ctx.status["blueGreen"].get("scaleUpPreviewCheckPoint"):
        return ctx.spec.replicas
    if ctx.status.get("stableRS") == ctx.status.get("currentPodHash"):
        return ctx.spec.replicas
    return min(preview, ctx.spec.replicas)


def _at_size(rs: ObservedReplicaSet, size: int) -> bool:
    return rs.spec_replicas == size and rs.available_replicas >= size


def _point(
    ctx: PlanContext,
    service_name: str | None,
    rs: ObservedReplicaSet,
    blue_green: dict[str, Any],
    key: str,
    *,
    require: bool,
) -> None:
    """Switch a Service to ``rs`` once ``require`` holds and record it in status; until then keep the Service
    on the hash status records (so a hand edit is corrected)."""
    if not service_name:
        return
    recorded = blue_green.get(key)
    if recorded != rs.pod_template_hash and not require:
        if recorded:
            switch_service(ctx, service_name, recorded)
        return
    switch_service(ctx, service_name, rs.pod_template_hash)
    blue_green[key] = rs.pod_template_hash


def _ready_to_promote(ctx: PlanContext, strategy: BlueGreenStrategy) -> bool:
    """Auto-promotion, a user promote (pause cleared), a full promote, or autoPromotionSeconds elapsed."""
    if ctx.old.promote_full:
        return True
    if strategy.auto_promotion_enabled and not strategy.auto_promotion_seconds:
        return True
    cond = pause_condition(ctx.status, Pause.BLUE_GREEN_PAUSE)
    if cond is None:
        if is_unpausing(ctx):
            return True  # the user removed the pause: promote
        add_pause(ctx, Pause.BLUE_GREEN_PAUSE)
        if strategy.auto_promotion_enabled and strategy.auto_promotion_seconds:
            ctx.wake(ctx.now + timedelta(seconds=strategy.auto_promotion_seconds))
        return False
    if strategy.auto_promotion_enabled and strategy.auto_promotion_seconds:
        deadline = parse_timestamp(cond.get("startTime")) + timedelta(seconds=strategy.auto_promotion_seconds)
        if ctx.now >= deadline:
            remove_pause(ctx, Pause.BLUE_GREEN_PAUSE)
            return True
        ctx.wake(deadline)
    return False


def _promote(ctx: PlanContext, sets: RevisionSets, reason: str) -> None:
    clear_pauses(ctx)
    for key in ("abort", "abortedAt", "promoteFull"):
        ctx.status.pop(key, None)
    ctx.status["blueGreen"].pop("scaleUpPreviewCheckPoint", None)
    if ctx.status.get("stableRS") != sets.current_hash:
        ctx.status["stableRS"] = sets.current_hash
        ctx.event(Event.ROLLOUT_COMPLETED, f"Rollout completed update to revision {revision_label(sets)}: {reason}")


def _abort(ctx: PlanContext, strategy: BlueGreenStrategy, sets: RevisionSets, detail: str | None) -> str:
    """Back to stable: the active Service to the stable hash, the new ReplicaSet down after the abort delay.
    The preview Service keeps selecting the aborted revision (Argo's reconcilePreviewService always points it
    at the new ReplicaSet; TestBlueGreenAbortAndUpdate expects the preview on revision 2 after the abort)."""
    message = note_abort(ctx, sets.revision, detail)
    stable, new = sets.stable, sets.new
    blue_green = ctx.status["blueGreen"]
    blue_green.pop("scaleUpPreviewCheckPoint", None)
    if stable is not None and new is not None and not sets.stable_is_new:
        scale(ctx, stable, ctx.spec.replicas)
        _point(ctx, strategy.active_service, stable, blue_green, "activeSelector", require=True)
        _point(ctx, strategy.preview_service, new, blue_green, "previewSelector", require=True)
        if strategy.abort_scale_down_delay_seconds != 0 and not ctx.spec.paused:
            # abortScaleDownDelaySeconds: 0 leaves the new ReplicaSet up for inspection.
            scale_down_after_delay(ctx, new, strategy.abort_scale_down_delay_seconds)
    return message


def _finish(ctx: PlanContext, state: BlueGreenState) -> None:
    strategy, sets, abort_message = state.strategy, state.sets, state.abort_message
    status, old = ctx.status, ctx.old
    blue_green = status["blueGreen"]
    active = blue_green.get("activeSelector")
    if sets.new is not None and not ctx.spec.paused:
        # previewMetadata while the revision is previewed, activeMetadata once it is the stable one (in place,
        # as Argo's reconcileEphemeralMetadata: the role follows status.stableRS, not the active Service)
        sync_ephemeral_metadata(ctx, sets.new, _role_metadata(ctx, strategy, sets))
    set_counts(status, sets, active=active or sets.current_hash)
    replicas = ctx.spec.replicas
    current = status["currentPodHash"]
    preview_ok = not strategy.preview_service or blue_green.get("previewSelector") == current
    healthy = (
        status["updatedReplicas"] == replicas
        and status["availableReplicas"] == replicas
        and active == current
        and preview_ok
    )
    old_bg = old.blue_green
    progress = (
        old_bg is None
        or old_bg.active_selector != blue_green.get("activeSelector")
        or old_bg.preview_selector != blue_green.get("previewSelector")
        or status.get("stableRS") != old.stable_rs
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
