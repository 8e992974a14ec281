"""AnalysisRuns of a Rollout: when to create them, what they contain, and what their verdicts mean.

The Rollout planner never measures anything; it creates AnalysisRun objects (the analysis controller runs
them) and reads back their phase:

* canary ``analysis`` steps: one run per (revision, step index); Successful completes the step.
* canary background analysis (``strategy.canary.analysis``): one run per revision from ``startingStep`` until
  the update completes (then it is terminated).
* blue-green ``prePromotionAnalysis`` (must succeed before the active Service switches) and
  ``postPromotionAnalysis`` (must succeed before the new ReplicaSet becomes stable).

Failed or Error -> abort, with a message naming the run and carrying its message (which names the metric);
Inconclusive -> pause with reason ``InconclusiveAnalysisRun`` (a promote resumes and accepts it, and the run
is marked terminated so it is not judged again). Building and finding runs is ``analysis_manifest``'s job;
unresolvable template arguments are reported by ``references`` as InvalidSpec before any run is created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.rollout import (
    CanaryStatus,
    CanaryStep,
    RolloutAnalysisBackground,
)
from rollouts.planning.analysis_manifest import (
    COMPLETED_PHASES,
    FAILED_PHASES,
    TYPE_BACKGROUND,
    TYPE_POST_PROMOTION,
    TYPE_PRE_PROMOTION,
    TYPE_STEP,
    ensure_run,
)
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.observed import ObservedAnalysisRun
from rollouts.planning.plan import DeleteAnalysisRun, TerminateAnalysisRun
from rollouts.planning.status import add_pause, is_unpausing, run_status_dict
from rollouts.planning.vocabulary import Pause


@dataclass(frozen=True, slots=True)
class AnalysisVerdict:
    """What the runs mean for this reconcile."""

    abort_detail: str | None = None
    inconclusive: bool = False
    step_passed: bool = False
    pre_promotion_passed: bool = False
    post_promotion_passed: bool = False


def run_status(run: ObservedAnalysisRun | str) -> dict[str, Any]:
    if isinstance(run, str):
        return {"name": run, "status": "Pending"}
    result: dict[str, Any] = {"name": run.name, "status": run.phase or "Pending"}
    if run.message:
        result["message"] = run.message
    return result


def failure_detail(run: ObservedAnalysisRun) -> str:
    """``AnalysisRun 'web-abc-2-1' Failed: Metric "success-rate" assessed Failed due to ...``."""
    text = f"AnalysisRun '{run.name}' {run.phase}"
    return f"{text}: {run.message}" if run.message else text


def record_run_status(ctx: PlanContext, status: dict[str, Any], key: str, run: ObservedAnalysisRun | str,
                      run_type: str) -> None:
    """Write the run's status under ``key`` and, when it reached a final phase, say so on the Rollout.

    Argo Rollouts records ``AnalysisRun<Phase>`` events on the Rollout (emitAnalysisRunStatusChanges; a
    Warning for Failed and Error), which is where event exporters and the notification triggers
    ``on-analysis-run-failed`` / ``on-analysis-run-error`` look. Only final phases are emitted here: the
    run's creation already emits AnalysisRunRunning (analysis_manifest.ensure_run).
    """
    recorded = status.get(key) or {}
    status[key] = run_status(run)
    if isinstance(run, str) or run.phase not in COMPLETED_PHASES:
        return
    previous = recorded.get("status")
    if recorded and (recorded.get("name") != run.name or previous == run.phase):
        return
    ctx.event(f"AnalysisRun{run.phase}",
              f"{run_type} Analysis Run '{run.name}' Status New: '{run.phase}' Previous: "
              f"'{previous or 'NoPreviousStatus'}'", warning=run.phase in FAILED_PHASES)


def terminate(ctx: PlanContext, run: ObservedAnalysisRun) -> None:
    if not run.terminate and run.phase not in COMPLETED_PHASES:
        ctx.act(TerminateAnalysisRun(run.name))


def _judge(ctx: PlanContext, run: ObservedAnalysisRun | str) -> tuple[str | None, bool, bool]:
    """(abort detail, inconclusive-and-paused, passed) for one run."""
    if isinstance(run, str):
        return None, False, False
    if run.phase == "Successful":
        return None, False, True
    if run.phase in FAILED_PHASES:
        return failure_detail(run), False, False
    if run.phase == "Inconclusive":
        if run.terminate:
            return None, False, True  # accepted by an earlier promote (see below)
        if is_unpausing(ctx):
            # A promote resumed the inconclusive run: accept it, and mark it so it is not judged again.
            ctx.act(TerminateAnalysisRun(run.name))
            return None, False, True
        add_pause(ctx, Pause.INCONCLUSIVE_ANALYSIS)
        return None, True, False
    return None, False, False


# --- canary --------------------------------------------------------------------------------------------------


def carry_canary_runs(ctx: PlanContext, canary: CanaryStatus) -> None:
    for key, value in (
        ("currentStepAnalysisRunStatus", run_status_dict(canary.current_step_analysis_run_status)),
        ("currentBackgroundAnalysisRunStatus", run_status_dict(canary.current_background_analysis_run_status)),
    ):
        if value is not None:
            ctx.status["canary"][key] = value


def reset_canary_runs(ctx: PlanContext) -> None:
    ctx.status["canary"].pop("currentStepAnalysisRunStatus", None)
    ctx.status["canary"].pop("currentBackgroundAnalysisRunStatus", None)


def step_completed(ctx: PlanContext) -> None:
    ctx.status["canary"].pop("currentStepAnalysisRunStatus", None)


def _terminate_stale(ctx: PlanContext, keep: set[str]) -> None:
    for run in ctx.observed.analysis_runs:
        if run.name not in keep:
            terminate(ctx, run)


def reconcile_canary_analysis(
    ctx: PlanContext, sets: RevisionSets, steps: Sequence[CanaryStep], *, aborted: bool
) -> AnalysisVerdict:
    """Create, read and retire the step and background runs of a canary update.

    Steps ``[setWeight 20, analysis, setWeight 50]`` at index 1 of revision 2: the run ``<rollout>-<hash>-2-1`` is
    created (or read); Successful -> ``step_passed``, Failed/Error -> ``abort_detail``, Inconclusive ->
    ``inconclusive``. A background ``analysis`` with ``startingStep: 1`` runs from index 1 until promotion; either
    run failing aborts.
    """
    strategy = ctx.spec.strategy.canary
    assert strategy is not None
    if not ctx.observed.analysis_runs and strategy.analysis is None and not any(s.analysis for s in steps):
        return AnalysisVerdict()
    updating = sets.stable is not None and not sets.stable_is_new and not ctx.status.get("promoteFull")
    keep: set[str] = set()
    verdict = AnalysisVerdict()
    if updating and not aborted:
        index = ctx.status.get("currentStepIndex") or 0
        stable_hash = sets.stable.pod_template_hash if sets.stable is not None else sets.current_hash
        step = _step_run(ctx, sets, steps, index, stable_hash, keep)
        background = _background_run(ctx, sets, strategy.analysis, index, stable_hash, keep)
        verdict = AnalysisVerdict(
            abort_detail=step.abort_detail or background.abort_detail,
            inconclusive=step.inconclusive or background.inconclusive,
            step_passed=step.step_passed,
        )
    _terminate_stale(ctx, keep)
    prune_runs(ctx, keep)
    return verdict


def _step_run(
    ctx: PlanContext, sets: RevisionSets, steps: Sequence[CanaryStep], index: int, stable_hash: str, keep: set[str]
) -> AnalysisVerdict:
    """The run of the current step when it is an ``analysis`` step."""
    step_analysis = steps[index].analysis if index < len(steps) else None
    if step_analysis is None:
        return AnalysisVerdict()
    run = ensure_run(
        ctx,
        step_analysis,
        sets=sets,
        run_type=TYPE_STEP,
        suffix=f"-{index}",
        stable_hash=stable_hash,
        recorded=ctx.status["canary"].get("currentStepAnalysisRunStatus"),
        step_index=index,
    )
    keep.add(run if isinstance(run, str) else run.name)
    record_run_status(ctx, ctx.status["canary"], "currentStepAnalysisRunStatus", run, TYPE_STEP)
    detail, inconclusive, passed = _judge(ctx, run)
    return AnalysisVerdict(abort_detail=detail, inconclusive=inconclusive, step_passed=passed)


def _background_run(
    ctx: PlanContext,
    sets: RevisionSets,
    background: RolloutAnalysisBackground | None,
    index: int,
    stable_hash: str,
    keep: set[str],
) -> AnalysisVerdict:
    """The background run, from ``startingStep`` on."""
    if background is None or not background.templates or index < (background.starting_step or 0):
        return AnalysisVerdict()
    run = ensure_run(
        ctx,
        background,
        sets=sets,
        run_type=TYPE_BACKGROUND,
        suffix="",
        stable_hash=stable_hash,
        recorded=ctx.status["canary"].get("currentBackgroundAnalysisRunStatus"),
    )
    keep.add(run if isinstance(run, str) else run.name)
    record_run_status(ctx, ctx.status["canary"], "currentBackgroundAnalysisRunStatus", run, TYPE_BACKGROUND)
    detail, inconclusive, _ = _judge(ctx, run)
    return AnalysisVerdict(abort_detail=detail, inconclusive=inconclusive)


def prune_runs(ctx: PlanContext, keep: set[str]) -> None:
    """Delete completed runs beyond ``spec.analysis`` successful/unsuccessful history limits, oldest first."""
    limits = ctx.spec.analysis
    successful_limit = limits.successful_run_history_limit if limits is not None else 5
    unsuccessful_limit = limits.unsuccessful_run_history_limit if limits is not None else 5
    done = sorted(
        (r for r in ctx.observed.analysis_runs if r.phase in COMPLETED_PHASES and r.name not in keep),
        key=lambda r: (r.created_at, r.name),
        reverse=True,
    )
    successful = [r for r in done if r.phase == "Successful"]
    unsuccessful = [r for r in done if r.phase != "Successful"]
    for run in successful[max(0, successful_limit) :] + unsuccessful[max(0, unsuccessful_limit) :]:
        ctx.act(DeleteAnalysisRun(run.name))


# --- blue-green ----------------------------------------------------------------------------------------------


def reconcile_promotion_analysis(
    ctx: PlanContext,
    sets: RevisionSets,
    *,
    pre: bool,
    post: bool,
    aborted: bool,
    cancel: bool = False,
) -> AnalysisVerdict:
    """Pre-promotion (before the switch) and post-promotion (after it) runs of a blue-green update.

    ``cancel`` (a full promotion, Argo's shouldCancelCurrentAnalysis): no run is created and the running ones
    are terminated; status keeps reporting them."""
    strategy = ctx.spec.strategy.blue_green
    assert strategy is not None
    keep: set[str] = set()
    detail: str | None = None
    inconclusive = pre_passed = post_passed = False
    stable_hash = sets.stable.pod_template_hash if sets.stable is not None else sets.current_hash
    blue_green = ctx.status.setdefault("blueGreen", {})
    if pre and not aborted and strategy.pre_promotion_analysis is not None:
        run = ensure_run(
            ctx,
            strategy.pre_promotion_analysis,
            sets=sets,
            run_type=TYPE_PRE_PROMOTION,
            suffix="-pre",
            stable_hash=stable_hash,
            recorded=blue_green.get("prePromotionAnalysisRunStatus"),
        )
        keep.add(run if isinstance(run, str) else run.name)
        record_run_status(ctx, blue_green, "prePromotionAnalysisRunStatus", run, TYPE_PRE_PROMOTION)
        detail, inconclusive, pre_passed = _judge(ctx, run)
    if post and not aborted and strategy.post_promotion_analysis is not None:
        run = ensure_run(
            ctx,
            strategy.post_promotion_analysis,
            sets=sets,
            run_type=TYPE_POST_PROMOTION,
            suffix="-post",
            stable_hash=stable_hash,
            recorded=blue_green.get("postPromotionAnalysisRunStatus"),
        )
        keep.add(run if isinstance(run, str) else run.name)
        record_run_status(ctx, blue_green, "postPromotionAnalysisRunStatus", run, TYPE_POST_PROMOTION)
        post_detail, post_inconclusive, post_passed = _judge(ctx, run)
        detail = detail or post_detail
        inconclusive = inconclusive or post_inconclusive
    # Keep the runs status still reports (a pre-promotion success must not be pruned while it matters).
    for key in ("prePromotionAnalysisRunStatus", "postPromotionAnalysisRunStatus"):
        recorded = blue_green.get(key)
        if recorded:
            keep.add(str(recorded.get("name")))
    _terminate_stale(ctx, set() if cancel else keep)
    prune_runs(ctx, keep)
    return AnalysisVerdict(
        abort_detail=detail,
        inconclusive=inconclusive,
        pre_promotion_passed=pre_passed,
        post_promotion_passed=post_passed,
    )
