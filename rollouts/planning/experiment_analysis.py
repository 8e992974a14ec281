"""An Experiment's analyses -> AnalysisRuns and their phases in the Experiment status, as Argo keeps them.

Why this module exists: an Experiment's runs are not a Rollout's. Each is ``<experiment>-<analysis>``, owned
by the Experiment, created only once every template is available (``status.availableAt``), never created
while the Experiment is terminating, and terminated (``spec.terminate``) when it ends early. Arguments are
the templates' own, overridden by the analysis's ``args`` (an argument the templates do not declare is
ignored, as Argo's MergeArgs), whose values may name ``{{templates.<t>.podTemplateHash}}``,
``{{templates.<t>.replicaset.name}}``, ``{{experiment.availableAt}}`` and ``{{experiment.finishedAt}}``
(experiments/experiment.go reconcileAnalysisRun, utils/template ResolveExperimentArgsValue).

Example: analysis ``{name: compare, templateName: judge, args: [{name: canary-hash, value:
"{{templates.canary.podTemplateHash}}"}]}`` on Experiment ``ex`` -> run ``ex-compare`` with
``canary-hash = <the hash label of ReplicaSet ex-canary>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from rollouts.api.analysis import API_VERSION as ANALYSIS_API_VERSION
from rollouts.api.common import parse_duration
from rollouts.api.experiment import ExperimentAnalysisTemplateRef
from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.planning.experiment_context import ExperimentContext
from rollouts.planning.experiment_status import Status, by_name, is_completed
from rollouts.planning.experiment_templates import owner
from rollouts.planning.observed import format_timestamp, parse_timestamp
from rollouts.planning.plan import CreateAnalysisRun, TerminateAnalysisRun

INSTANCE_ID_LABEL = "argo-rollouts.argoproj.io/controller-instance-id"
_TAG = re.compile(r"\{\{(.*?)\}\}")


class RunNotBuilt(ValueError):
    """The run cannot be built (a template or an argument is missing); the message is Argo's."""


def _template(ctx: ExperimentContext, ref: ExperimentAnalysisTemplateRef) -> Mapping[str, Any] | None:
    raw = ctx.observed.analysis_templates.get((ref.template_name, ref.is_cluster_scope))
    if raw is None:
        return None
    spec = raw.get("spec") if "spec" in raw else raw
    return spec if isinstance(spec, Mapping) else None


def _not_found(ref: ExperimentAnalysisTemplateRef) -> str:
    kind = "clusteranalysistemplate" if ref.is_cluster_scope else "analysistemplate"
    return f'{kind}.argoproj.io "{ref.template_name}" not found'


def _placeholders(ctx: ExperimentContext) -> dict[str, str]:
    values: dict[str, str] = {}
    available = ctx.previous.get("availableAt")
    spec = ctx.experiment.spec
    if available:
        values["experiment.availableAt"] = str(available)
        if spec.duration:
            ends = parse_timestamp(available) + timedelta(seconds=parse_duration(spec.duration))
            values["experiment.finishedAt"] = format_timestamp(ends)
    for name, rs in ctx.observed.replica_sets.items():
        values[f"templates.{name}.podTemplateHash"] = rs.labels.get(POD_TEMPLATE_HASH_LABEL, "")
        values[f"templates.{name}.replicaset.name"] = rs.name
    return values


def _resolve(text: str, values: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        tag = match.group(1)
        if tag.strip() not in values:
            raise RunNotBuilt(f"failed to resolve {{{{{tag}}}}}")
        return values[tag.strip()]

    return _TAG.sub(one, text)


def _arguments(ctx: ExperimentContext, ref: ExperimentAnalysisTemplateRef, specs: list[Mapping[str, Any]]
               ) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for spec in specs:
        for arg in spec.get("args") or ():
            merged.setdefault(str(arg.get("name")), dict(arg))
    values = _placeholders(ctx)
    for arg in ref.args or ():
        if arg.name not in merged:
            continue
        if arg.value is not None:
            merged[arg.name] = {"name": arg.name, "value": _resolve(arg.value, values)}
        elif arg.value_from is not None:
            merged[arg.name] = {"name": arg.name, "valueFrom": arg.value_from.model_dump(by_alias=True,
                                                                                           exclude_none=True)}
    for name, arg in merged.items():
        if "value" not in arg and "valueFrom" not in arg:
            raise RunNotBuilt(f"args.{name} was not resolved")
    return list(merged.values())


def _run_metadata(ctx: ExperimentContext, name: str) -> dict[str, Any]:
    """analysisRunMetadata's labels and annotations, the controller instance id, the Experiment as owner."""
    ex = ctx.experiment
    run_metadata = ex.spec.analysis_run_metadata
    labels = dict(run_metadata.labels or {}) if run_metadata else {}
    instance = ex.metadata.label(INSTANCE_ID_LABEL)
    if instance:
        labels[INSTANCE_ID_LABEL] = instance
    metadata: dict[str, Any] = {"name": name, "namespace": ex.namespace, "ownerReferences": [owner(ctx)]}
    if labels:
        metadata["labels"] = labels
    if run_metadata and run_metadata.annotations:
        metadata["annotations"] = dict(run_metadata.annotations)
    return metadata


def run_manifest(ctx: ExperimentContext, ref: ExperimentAnalysisTemplateRef, name: str) -> dict[str, Any]:
    """The AnalysisRun of one analysis; raises RunNotBuilt with Argo's words."""
    template = _template(ctx, ref)
    if template is None:
        raise RunNotBuilt(_not_found(ref))
    ex = ctx.experiment
    spec: dict[str, Any] = {"metrics": list(template.get("metrics") or ()),
                            "args": _arguments(ctx, ref, [template])}
    dry_run = [*(template.get("dryRun") or ()), *(d.model_dump(by_alias=True) for d in ex.spec.dry_run or ())]
    retention = [*(template.get("measurementRetention") or ()),
                 *(r.model_dump(by_alias=True) for r in ex.spec.measurement_retention or ())]
    if dry_run:
        spec["dryRun"] = dry_run
    if retention:
        spec["measurementRetention"] = retention
    return {"apiVersion": ANALYSIS_API_VERSION, "kind": "AnalysisRun", "metadata": _run_metadata(ctx, name),
            "spec": spec}


def _advance(ctx: ExperimentContext, ref: ExperimentAnalysisTemplateRef, status: Status) -> None:
    """Before availableAt: verify the template; then create the run once; then follow (or end) it."""
    if not ctx.previous.get("availableAt"):
        if _template(ctx, ref) is None:
            kind = "ClusterAnalysisTemplate" if ref.is_cluster_scope else "AnalysisTemplate"
            status.update(phase="Error", message=f"{kind} verification failed for analysis '{ref.name}': "
                                                 f"{_not_found(ref)}")
        return
    if not status.get("analysisRun"):
        if ctx.terminating:
            return
        name = f"{ctx.experiment.name}-{ref.name}"
        try:
            manifest = run_manifest(ctx, ref, name)
        except RunNotBuilt as exc:
            status.update(phase="Error", message=f"Failed to create AnalysisRun for analysis '{ref.name}': {exc}")
            return
        if name not in ctx.observed.analysis_runs:  # created before a restart: adopted, not created twice
            ctx.act(CreateAnalysisRun(manifest))
        status.update(phase="Pending", analysisRun=name)
        return
    if is_completed(status.get("phase")):
        return
    run = ctx.observed.analysis_runs.get(str(status["analysisRun"]))
    if run is None:
        status.update(phase="Error", message=f'analysisruns.argoproj.io "{status["analysisRun"]}" not found')
        return
    if ctx.terminating:
        if not is_completed(run.phase) and not run.terminate:
            ctx.event("Normal", "AnalysisRunTerminating", f"Terminating {ref.name} ({run.name})")
            ctx.act(TerminateAnalysisRun(run.name))
        return
    status["phase"] = run.phase or "Pending"
    if run.message:
        status["message"] = run.message
    else:
        status.pop("message", None)


def reconcile_analysis(ctx: ExperimentContext, ref: ExperimentAnalysisTemplateRef) -> Status:
    previous = by_name(ctx.previous.get("analysisRuns")).get(ref.name) or {"name": ref.name}
    status: Status = dict(previous)
    status.setdefault("analysisRun", "")
    _advance(ctx, ref, status)
    status.setdefault("phase", "")
    if previous.get("phase") != status["phase"] and status["phase"]:
        message = f"AnalysisRun '{ref.name}' transitioned from {previous.get('phase') or ''} -> {status['phase']}"
        if status.get("message"):
            message += f": {status['message']}"
        warning = status["phase"] in ("Failed", "Error", "Inconclusive")
        kind: Literal["Normal", "Warning"] = "Warning" if warning else "Normal"
        ctx.event(kind, f"AnalysisRun{status['phase']}", message)
    return status
