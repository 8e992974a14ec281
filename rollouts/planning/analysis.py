"""AnalysisRuns of a Rollout: when to create them, what they contain, and what their verdicts mean.

The Rollout planner never measures anything; it creates AnalysisRun objects (the analysis controller runs
them) and reads back their phase:

* canary ``analysis`` steps: one run per (revision, step index); Successful completes the step.
* canary background analysis (``strategy.canary.analysis``): one run per revision from ``startingStep`` until
  the update completes (then it is terminated).
* blue-green ``prePromotionAnalysis`` (must succeed before the active Service switches) and
  ``postPromotionAnalysis`` (must succeed before the new ReplicaSet becomes stable).

Failed or Error -> abort, with a message naming the run and carrying its message (which names the metric);
Inconclusive -> pause with reason ``InconclusiveAnalysisRun`` (a promote resumes and accepts it).

Runs are found again by their labels (``rollouts-pod-template-hash``, ``rollout-type``, ``step-index``), so
a restarted controller neither duplicates nor forgets them. Manifests are plain dicts (camelCase) built from
the observed (Cluster)AnalysisTemplates: metrics, dryRun and measurementRetention are concatenated, and
arguments are the templates' defaults overridden by the Rollout's ``args`` (``value`` or
``valueFrom.podTemplateHashValue``/``fieldRef``). Unresolvable arguments are reported by
``rollouts.planning.references`` as InvalidSpec before any run is created.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.analysis import API_VERSION as ANALYSIS_API_VERSION
from rollouts.api.rollout import (
    API_VERSION,
    KIND,
    CanaryStatus,
    CanaryStep,
    PodTemplateHashValue,
    RolloutAnalysis,
    RolloutAnalysisBackground,
)
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.observed import POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, ObservedAnalysisRun
from rollouts.planning.plan import CreateAnalysisRun, DeleteAnalysisRun, TerminateAnalysisRun
from rollouts.planning.status import add_pause, is_unpausing, run_status_dict
from rollouts.planning.vocabulary import Pause

ROLLOUT_TYPE_LABEL = "rollout-type"
STEP_INDEX_LABEL = "step-index"
TYPE_STEP = "Step"
TYPE_BACKGROUND = "Background"
TYPE_PRE_PROMOTION = "PrePromotion"
TYPE_POST_PROMOTION = "PostPromotion"
COMPLETED_PHASES = frozenset({"Successful", "Failed", "Error", "Inconclusive"})
FAILED_PHASES = frozenset({"Failed", "Error"})


class AnalysisArgumentError(ValueError):
    """A template argument has no value and the Rollout does not supply one."""


@dataclass(frozen=True, slots=True)
class AnalysisVerdict:
    """What the runs mean for this reconcile."""

    abort_detail: str | None = None
    inconclusive: bool = False
    step_passed: bool = False
    pre_promotion_passed: bool = False
    post_promotion_passed: bool = False


# --- building runs -----------------------------------------------------------------------------------------


def template_spec(ctx: PlanContext, name: str, cluster_scope: bool) -> Mapping[str, Any] | None:
    raw = ctx.observed.analysis_templates.get((name, cluster_scope))
    if raw is None:
        return None
    spec = raw.get("spec") if "spec" in raw else raw
    return spec if isinstance(spec, Mapping) else None


_FIELD = re.compile(r"^(?P<head>[A-Za-z0-9_.]+?)(?:\[['\"](?P<key>[^'\"]+)['\"]\])?$")


def _field_value(document: Mapping[str, Any], path: str) -> str | None:
    """Resolve ``metadata.labels['app']`` or ``spec.template.metadata.name`` against a manifest."""
    match = _FIELD.match(path)
    if match is None:
        return None
    current: Any = document
    for part in match.group("head").split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    key = match.group("key")
    if key is not None:
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return None if isinstance(current, Mapping | list) else str(current)


def resolve_args(
    ctx: PlanContext,
    analysis: RolloutAnalysis,
    templates: Sequence[Mapping[str, Any]],
    *,
    stable_hash: str,
    latest_hash: str,
) -> list[dict[str, Any]]:
    """Template args (defaults first) overridden by the Rollout's args; raises AnalysisArgumentError."""
    merged: dict[str, dict[str, Any]] = {}
    for spec in templates:
        for arg in spec.get("args") or ():
            name = str(arg.get("name"))
            if name not in merged or "value" not in merged[name]:
                merged[name] = dict(arg)
    document: Mapping[str, Any] | None = None
    for arg in analysis.args or ():
        value: str | None = arg.value
        source = arg.value_from
        if source is not None and source.pod_template_hash_value is not None:
            value = stable_hash if source.pod_template_hash_value == PodTemplateHashValue.STABLE else latest_hash
        elif source is not None and source.field_ref is not None:
            document = document if document is not None else ctx.rollout.to_dict()
            value = _field_value(document, source.field_ref.field_path)
            if value is None:
                raise AnalysisArgumentError(
                    f"args.{arg.name}: fieldRef {source.field_ref.field_path!r} does not resolve on the Rollout"
                )
        merged[arg.name] = {"name": arg.name, "value": value if value is not None else ""}
    for name, arg in merged.items():
        if "value" not in arg and "valueFrom" not in arg:
            raise AnalysisArgumentError(f"args.{name} was not resolved: no value in the template or the Rollout")
    return [merged[name] for name in sorted(merged)]


def run_manifest(
    ctx: PlanContext,
    analysis: RolloutAnalysis,
    *,
    name: str,
    labels: Mapping[str, str],
    sets: RevisionSets,
    stable_hash: str,
) -> dict[str, Any]:
    """An AnalysisRun owned by the Rollout, merged from the referenced templates."""
    templates: list[Mapping[str, Any]] = []
    for ref in analysis.templates or ():
        spec = template_spec(ctx, ref.template_name, ref.cluster_scope)
        if spec is None:
            kind = "ClusterAnalysisTemplate" if ref.cluster_scope else "AnalysisTemplate"
            raise AnalysisArgumentError(f"{kind} {ref.template_name!r} not found")
        templates.append(spec)
    spec_out: dict[str, Any] = {
        "metrics": [m for t in templates for m in t.get("metrics") or ()],
        "args": resolve_args(ctx, analysis, templates, stable_hash=stable_hash, latest_hash=sets.current_hash),
    }
    dry_run = [d for t in templates for d in t.get("dryRun") or ()]
    dry_run += [d.model_dump(by_alias=True) for d in analysis.dry_run or ()]
    if dry_run:
        spec_out["dryRun"] = dry_run
    retention = [r for t in templates for r in t.get("measurementRetention") or ()]
    retention += [r.model_dump(by_alias=True) for r in analysis.measurement_retention or ()]
    if retention:
        spec_out["measurementRetention"] = retention
    metadata = analysis.analysis_run_metadata
    all_labels = {**(metadata.labels if metadata and metadata.labels else {}), **labels}
    annotations = {**(metadata.annotations if metadata and metadata.annotations else {})}
    annotations[REVISION_ANNOTATION] = str(sets.revision)
    rollout = ctx.rollout
    return {
        "apiVersion": ANALYSIS_API_VERSION,
        "kind": "AnalysisRun",
        "metadata": {
            "name": name,
            "namespace": rollout.namespace,
            "labels": all_labels,
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": KIND,
                    "name": rollout.name,
                    "uid": rollout.metadata.uid or "",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec_out,
    }


def _find_run(
    ctx: PlanContext, current_hash: str, run_type: str, step_index: int | None, current_name: str | None
) -> ObservedAnalysisRun | None:
    """The run of this kind for the current revision: the one status names, else one still running.

    A finished run that status no longer names (cleared by a retry) is history: a new run is needed.
    """
    unfinished: ObservedAnalysisRun | None = None
    for run in ctx.observed.analysis_runs:
        labels = run.labels
        if labels.get(POD_TEMPLATE_HASH_LABEL) != current_hash or labels.get(ROLLOUT_TYPE_LABEL) != run_type:
            continue
        if step_index is not None and labels.get(STEP_INDEX_LABEL) != str(step_index):
            continue
        if run.name == current_name:
            return run
        if unfinished is None and run.phase not in COMPLETED_PHASES and not run.terminate:
            unfinished = run
    return unfinished


def _free_name(ctx: PlanContext, base: str) -> str:
    """``base``, or ``base.1``, ``base.2``... when a run of that name already exists (a retry)."""
    taken = {run.name for run in ctx.observed.analysis_runs}
    if base not in taken:
        return base
    n = 1
    while f"{base}.{n}" in taken:
        n += 1
    return f"{base}.{n}"


def ensure_run(
    ctx: PlanContext,
    analysis: RolloutAnalysis,
    *,
    sets: RevisionSets,
    run_type: str,
    suffix: str,
    stable_hash: str,
    recorded: Mapping[str, Any] | None,
    step_index: int | None = None,
) -> ObservedAnalysisRun | str:
    """The observed run of this kind for the current revision, or the name of the run just planned.

    ``recorded`` is the run status this kind of run has in the Rollout status (``{"name": ...}``), if any.
    """
    current_name = str(recorded.get("name")) if recorded else None
    run = _find_run(ctx, sets.current_hash, run_type, step_index, current_name)
    if run is not None:
        return run
    name = _free_name(ctx, f"{ctx.rollout.name}-{sets.current_hash}-{sets.revision}{suffix}")
    labels = {POD_TEMPLATE_HASH_LABEL: sets.current_hash, ROLLOUT_TYPE_LABEL: run_type}
    if step_index is not None:
        labels[STEP_INDEX_LABEL] = str(step_index)
    ctx.act(
        CreateAnalysisRun(run_manifest(ctx, analysis, name=name, labels=labels, sets=sets, stable_hash=stable_hash))
    )
    ctx.event("AnalysisRunRunning", f"{run_type} Analysis Run '{name}' Status New: ''")
    return name


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
    """Create, read and retire the step and background runs of a canary update."""
    strategy = ctx.spec.strategy.canary
    assert strategy is not None
    if not ctx.observed.analysis_runs and strategy.analysis is None and not any(s.analysis for s in steps):
        return AnalysisVerdict()
    updating = sets.stable is not None and not sets.stable_is_new and not ctx.status.get("promoteFull")
    keep: set[str] = set()
    detail: str | None = None
    inconclusive = step_passed = False
    index = ctx.status.get("currentStepIndex") or 0
    stable_hash = sets.stable.pod_template_hash if sets.stable is not None else sets.current_hash
    if updating and not aborted and index < len(steps) and steps[index].analysis is not None:
        step_analysis = steps[index].analysis
        assert step_analysis is not None
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
        ctx.status["canary"]["currentStepAnalysisRunStatus"] = run_status(run)
        detail, inconclusive, step_passed = _judge(ctx, run)
    background: RolloutAnalysisBackground | None = strategy.analysis
    if (
        updating
        and not aborted
        and background is not None
        and background.templates
        and index >= (background.starting_step or 0)
    ):
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
        ctx.status["canary"]["currentBackgroundAnalysisRunStatus"] = run_status(run)
        bg_detail, bg_inconclusive, _ = _judge(ctx, run)
        detail = detail or bg_detail
        inconclusive = inconclusive or bg_inconclusive
    _terminate_stale(ctx, keep)
    prune_runs(ctx, keep)
    return AnalysisVerdict(abort_detail=detail, inconclusive=inconclusive, step_passed=step_passed)


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
) -> AnalysisVerdict:
    """Pre-promotion (before the switch) and post-promotion (after it) runs of a blue-green update."""
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
        blue_green["prePromotionAnalysisRunStatus"] = run_status(run)
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
        blue_green["postPromotionAnalysisRunStatus"] = run_status(run)
        post_detail, post_inconclusive, post_passed = _judge(ctx, run)
        detail = detail or post_detail
        inconclusive = inconclusive or post_inconclusive
    # Keep the runs status still reports (a pre-promotion success must not be pruned while it matters).
    for key in ("prePromotionAnalysisRunStatus", "postPromotionAnalysisRunStatus"):
        recorded = blue_green.get(key)
        if recorded:
            keep.add(str(recorded.get("name")))
    _terminate_stale(ctx, keep)
    prune_runs(ctx, keep)
    return AnalysisVerdict(
        abort_detail=detail,
        inconclusive=inconclusive,
        pre_promotion_passed=pre_passed,
        post_promotion_passed=post_passed,
    )
