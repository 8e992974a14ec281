"""The canary ``experiment`` step: the Experiment it runs, what its phase means for the Rollout, and clean-up.

Why this module exists: an experiment step hands its templates to an Experiment (``rollouts.planning.experiment``
plans that one) and waits for its verdict, as Argo's rollout/experiment.go does:

* the Experiment is named ``<rollout>-<podHash>-<revision>-<stepIndex>`` (``-1``, ``-2``... when that name is
  taken by an earlier, finished one, e.g. after a retry), is controlled by the Rollout, carries the Rollout's
  labels plus ``rollouts-pod-template-hash`` and the ``rollout.argoproj.io/revision`` annotation;
* each template copies the pod template (and minReadySeconds, selector) of the stable or the canary
  ReplicaSet (``specRef``); ``metadata`` adds pod labels (also to the selector) and annotations; a ``weight``
  or ``service`` asks the Experiment for a Service;
* analysis args are resolved against the Rollout (``podTemplateHashValue``, ``fieldRef``); the
  ``{{templates.<t>.podTemplateHash}}`` placeholders are left for the Experiment to fill in;
* Successful completes the step, Failed/Error aborts the update ("Experiment analysis phase is error/failed:
  <message>"), Inconclusive pauses it (``InconclusiveExperiment``); while it runs, ``status.canary.
  currentExperiment`` names it;
* an abort or a full promotion terminates every Experiment of the Rollout; leaving the step (the next step, a
  new revision, changed steps) terminates the ones no longer current; finished ones beyond the analysis history
  limits, or whose revision's ReplicaSet is gone, are deleted.

Level-based like the AnalysisRuns: the current Experiment is the one ``status.canary.currentExperiment`` names,
else one of this step still running (created just before a crash); a finished one that status no longer names
is history, so the step runs a new one (Argo's name-collision rule gives the same ``-1`` name).

Example: Rollout ``web`` at revision 2 (hash ``6f9c8d7b5``), steps ``[experiment{baseline: stable, canary:
canary}, pause]`` at index 0 -> CreateExperiment ``web-6f9c8d7b5-2-0``, event ``ExperimentCreated``, status
``canary.currentExperiment: web-6f9c8d7b5-2-0``; once it is Successful the step completes (index 1).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rollouts.api.experiment import API_VERSION as EXPERIMENT_API_VERSION
from rollouts.api.experiment import KIND as EXPERIMENT_KIND
from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION
from rollouts.api.owners import controller_reference
from rollouts.api.rollout import (
    API_VERSION,
    KIND,
    CanaryStep,
    ReplicaSetSpecRef,
    RolloutExperimentStep,
    RolloutExperimentTemplate,
)
from rollouts.planning.analysis_manifest import COMPLETED_PHASES, FAILED_PHASES, rollout_args
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.observed import ObservedReplicaSet, OwnedExperiment
from rollouts.planning.plan import CreateExperiment, DeleteExperiment, TerminateExperiment
from rollouts.planning.status import add_pause
from rollouts.planning.steps import current_step
from rollouts.planning.vocabulary import Pause

EXPERIMENT_CREATED = "ExperimentCreated"
FAILED_MESSAGE = "Experiment analysis phase is error/failed"


@dataclass(frozen=True, slots=True)
class ExperimentVerdict:
    """What the current step's Experiment means for this reconcile."""

    abort_detail: str | None = None
    inconclusive: bool = False
    step_passed: bool = False


def reconcile_experiments(
    ctx: PlanContext, sets: RevisionSets, steps: Sequence[CanaryStep], *, aborted: bool
) -> ExperimentVerdict:
    """Create, read and retire the Rollout's Experiments (Argo's reconcileExperiments), in its order."""
    experiments = ctx.observed.experiments
    step = current_step(steps, ctx.status.get("currentStepIndex"))
    if not experiments and (step is None or step.experiment is None):
        return ExperimentVerdict()
    if aborted or ctx.old.promote_full:
        _terminate(ctx, experiments)
        return ExperimentVerdict()
    if any(p.reason == Pause.INCONCLUSIVE_ANALYSIS for p in ctx.old.pause_conditions or ()):
        return ExperimentVerdict()  # Argo leaves Experiments alone while an AnalysisRun's verdict is pending
    current: OwnedExperiment | None = None
    verdict = ExperimentVerdict()
    if step is not None and step.experiment is not None:
        index = int(ctx.status.get("currentStepIndex") or 0)
        base = experiment_name(ctx.rollout.name, sets.current_hash, sets.revision, index)
        current = _find_current(ctx, base)
        if current is None:
            if sets.stable is None or sets.new is None:
                return verdict  # Argo cannot create an Experiment before the stable ReplicaSet exists
            name = _free_name(experiments, base)
            ctx.act(CreateExperiment(experiment_manifest(ctx, step.experiment, sets, name=name)))
            ctx.event(EXPERIMENT_CREATED, f"Created Experiment '{name}'")
            ctx.status["canary"]["currentExperiment"] = name
            current = OwnedExperiment(name=name)
        else:
            verdict = _judge(ctx, current)
    others = [ex for ex in experiments if current is None or ex.name != current.name]
    _terminate(ctx, others)
    for ex in experiments_to_delete(ctx, others, sets):
        ctx.act(DeleteExperiment(ex.name))
    return verdict


def _judge(ctx: PlanContext, ex: OwnedExperiment) -> ExperimentVerdict:
    """Argo's switch on the Experiment's phase: only a running one is recorded as current."""
    if ex.phase == "Inconclusive":
        add_pause(ctx, Pause.INCONCLUSIVE_EXPERIMENT)
        return ExperimentVerdict(inconclusive=True)
    if ex.phase in FAILED_PHASES:
        detail = f"{FAILED_MESSAGE}: {ex.message}" if ex.message else FAILED_MESSAGE
        return ExperimentVerdict(abort_detail=detail)
    if ex.phase == "Successful":
        return ExperimentVerdict(step_passed=True)
    ctx.status["canary"]["currentExperiment"] = ex.name
    return ExperimentVerdict()


def experiment_name(rollout: str, pod_hash: str, revision: int, step_index: int) -> str:
    """``web``, ``6f9c8d7b5``, revision 2, step 0 -> ``web-6f9c8d7b5-2-0`` (Argo's GetExperimentFromTemplate)."""
    return f"{rollout}-{pod_hash}-{revision}-{step_index}"


def _candidates(experiments: Sequence[OwnedExperiment], base: str) -> list[OwnedExperiment]:
    pattern = re.compile(re.escape(base) + r"(-\d+)?")
    return [ex for ex in experiments if pattern.fullmatch(ex.name)]


def _find_current(ctx: PlanContext, base: str) -> OwnedExperiment | None:
    """The one status names, else the newest of this step still running; None: a new one is needed."""
    candidates = _candidates(ctx.observed.experiments, base)
    recorded = ctx.old.canary.current_experiment if ctx.old.canary is not None else None
    for ex in candidates:
        if ex.name == recorded:
            return ex
    running = [ex for ex in candidates if ex.phase not in COMPLETED_PHASES and not ex.terminate]
    return max(running, key=lambda ex: (ex.created_at, ex.name)) if running else None


def _free_name(experiments: Sequence[OwnedExperiment], base: str) -> str:
    """``base``, else ``base-1``, ``base-2``... (Argo's createExperimentWithCollisionHandling)."""
    taken = {ex.name for ex in experiments}
    if base not in taken:
        return base
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _terminate(ctx: PlanContext, experiments: Sequence[OwnedExperiment]) -> None:
    for ex in experiments:
        if not ex.terminate and ex.phase not in COMPLETED_PHASES:
            ctx.act(TerminateExperiment(ex.name))


def experiments_to_delete(
    ctx: PlanContext, experiments: Sequence[OwnedExperiment], sets: RevisionSets
) -> list[OwnedExperiment]:
    """Argo's FilterExperimentsToDelete: those without a revision hash or whose ReplicaSet is gone, and
    finished ones beyond ``spec.analysis`` successful/unsuccessful history limits (5 and 5), newest kept.

    Hashes ``{a, b}`` exist, Experiments of ``a`` (Successful x 6) and ``c`` -> the oldest ``a`` one and ``c``.
    """
    limits = ctx.spec.analysis
    successful_limit = limits.successful_run_history_limit if limits is not None else 5
    unsuccessful_limit = limits.unsuccessful_run_history_limit if limits is not None else 5
    hashes = {rs.pod_template_hash for rs in sets.all}
    kept_successful = kept_unsuccessful = 0
    doomed: list[OwnedExperiment] = []
    for ex in sorted(experiments, key=lambda e: (e.created_at, e.name), reverse=True):
        pod_hash = ex.labels.get(POD_TEMPLATE_HASH_LABEL)
        if not pod_hash or pod_hash not in hashes:
            doomed.append(ex)
        elif ex.phase == "Successful":
            if kept_successful < successful_limit:
                kept_successful += 1
            else:
                doomed.append(ex)
        elif ex.phase in COMPLETED_PHASES:
            if kept_unsuccessful < unsuccessful_limit:
                kept_unsuccessful += 1
            else:
                doomed.append(ex)
    return doomed


def experiment_manifest(
    ctx: PlanContext, step: RolloutExperimentStep, sets: RevisionSets, *, name: str
) -> dict[str, Any]:
    """The Experiment of an experiment step (Argo's GetExperimentFromTemplate), owned by the Rollout."""
    assert sets.stable is not None and sets.new is not None
    rollout = ctx.rollout
    spec: dict[str, Any] = {
        "templates": [_template(t, sets.stable if t.spec_ref == ReplicaSetSpecRef.STABLE else sets.new)
                      for t in step.templates],
    }
    if step.duration:
        spec["duration"] = step.duration
    if "progress_deadline_seconds" in rollout.spec.model_fields_set:
        spec["progressDeadlineSeconds"] = rollout.spec.progress_deadline_seconds
    if step.dry_run:
        spec["dryRun"] = [d.model_dump(by_alias=True, exclude_none=True) for d in step.dry_run]
    metadata = step.analysis_run_metadata
    if metadata is not None and (metadata.labels or metadata.annotations):
        spec["analysisRunMetadata"] = metadata.model_dump(by_alias=True, exclude_none=True)
    if step.scale_down_delay_seconds is not None:
        spec["scaleDownDelaySeconds"] = step.scale_down_delay_seconds
    analyses = []
    for analysis in step.analyses or ():
        ref: dict[str, Any] = {"name": analysis.name, "templateName": analysis.template_name}
        if analysis.cluster_scope is not None:
            ref["clusterScope"] = analysis.cluster_scope
        args = rollout_args(ctx, analysis.args, stable_hash=sets.stable.pod_template_hash,
                            latest_hash=sets.new.pod_template_hash)
        if args:
            ref["args"] = args
        if analysis.required_for_completion:
            ref["requiredForCompletion"] = True
        analyses.append(ref)
    if analyses:
        spec["analyses"] = analyses
    return {
        "apiVersion": EXPERIMENT_API_VERSION,
        "kind": EXPERIMENT_KIND,
        "metadata": {
            "name": name,
            "namespace": rollout.namespace,
            "labels": {**(rollout.metadata.labels or {}), POD_TEMPLATE_HASH_LABEL: sets.current_hash},
            "annotations": {REVISION_ANNOTATION: str(sets.revision)},
            "ownerReferences": [controller_reference(api_version=API_VERSION, kind=KIND, name=rollout.name,
                                                     uid=rollout.metadata.uid or "")],
        },
        "spec": spec,
    }


def _template(template: RolloutExperimentTemplate, rs: ObservedReplicaSet) -> dict[str, Any]:
    """One template: the ReplicaSet's pod template, minReadySeconds and selector, with the step's metadata."""
    pod_template: dict[str, Any] = copy.deepcopy(dict(rs.template))
    if template.selector is not None:
        selector = template.selector.model_dump(by_alias=True, exclude_none=True)
    else:
        selector = copy.deepcopy(dict(rs.selector))
    extra = template.metadata
    if extra is not None and extra.labels:
        pod_metadata = pod_template.setdefault("metadata", {})
        pod_metadata["labels"] = {**(pod_metadata.get("labels") or {}), **extra.labels}
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), **extra.labels}
    if extra is not None and extra.annotations:
        pod_metadata = pod_template.setdefault("metadata", {})
        pod_metadata["annotations"] = {**(pod_metadata.get("annotations") or {}), **extra.annotations}
    result: dict[str, Any] = {"name": template.name, "selector": selector, "template": pod_template}
    if template.replicas is not None:
        result["replicas"] = template.replicas
    if rs.min_ready_seconds:
        result["minReadySeconds"] = rs.min_ready_seconds
    if template.weight is not None or template.service is not None:
        service: dict[str, Any] = {}
        if template.service is not None and template.service.name:
            service["name"] = template.service.name
        result["service"] = service
    return result
