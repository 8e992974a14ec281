"""Building a Rollout's AnalysisRuns from (Cluster)AnalysisTemplates, and finding them again.

Runs are found by their labels (``rollouts-pod-template-hash``, ``rollout-type``, ``step-index``) and by the
name the Rollout status records, so a restarted controller neither duplicates a run it created just before
dying nor mistakes a failed run from before a retry for the current one (a retry gets ``<name>.1``).
Manifests are plain camelCase dicts: metrics, dryRun and measurementRetention are concatenated from the
templates; arguments are the templates' defaults overridden by the Rollout's ``args`` (``value`` or
``valueFrom.podTemplateHashValue``/``fieldRef``). Names and labels follow Argo:
``<rollout>-<hash>-<revision>-<step>`` (step), ``<rollout>-<hash>-<revision>`` (background), ``...-pre`` and
``...-post`` (blue-green).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rollouts.api.analysis import API_VERSION as ANALYSIS_API_VERSION
from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION
from rollouts.api.owners import controller_reference
from rollouts.api.rollout import (
    API_VERSION,
    KIND,
    AnalysisRunArgument,
    PodTemplateHashValue,
    RolloutAnalysis,
)
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.observed import ObservedAnalysisRun
from rollouts.planning.plan import CreateAnalysisRun

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
    for arg in rollout_args(ctx, analysis.args, stable_hash=stable_hash, latest_hash=latest_hash):
        merged[arg["name"]] = arg
    for name, arg in merged.items():
        if "value" not in arg and "valueFrom" not in arg:
            raise AnalysisArgumentError(f"args.{name} was not resolved: no value in the template or the Rollout")
    return [merged[name] for name in sorted(merged)]


def rollout_args(
    ctx: PlanContext, args: Sequence[AnalysisRunArgument] | None, *, stable_hash: str, latest_hash: str
) -> list[dict[str, str]]:
    """The Rollout's ``args`` as plain ``{name, value}`` (Argo's BuildArgumentsForRolloutAnalysisRun):
    ``valueFrom.podTemplateHashValue`` is the stable or latest hash, ``fieldRef`` a field of the Rollout;
    raises AnalysisArgumentError for a fieldRef that does not resolve."""
    document: Mapping[str, Any] | None = None
    resolved: list[dict[str, str]] = []
    for arg in args or ():
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
        resolved.append({"name": arg.name, "value": value if value is not None else ""})
    return resolved


def run_manifest(
    ctx: PlanContext,
    analysis: RolloutAnalysis,
    *,
    name: str,
    labels: Mapping[str, str],
    sets: RevisionSets,
    stable_hash: str,
) -> dict[str, Any]:
    """An AnalysisRun owned by the Rollout, merged from the referenced templates: their metrics in template
    order, the args resolved against the Rollout, and dryRun / measurementRetention from templates and Rollout."""
    templates = _referenced_templates(ctx, analysis)
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
    return {
        "apiVersion": ANALYSIS_API_VERSION,
        "kind": "AnalysisRun",
        "metadata": _run_metadata(ctx, analysis, name=name, labels=labels, revision=sets.revision),
        "spec": spec_out,
    }


def _referenced_templates(ctx: PlanContext, analysis: RolloutAnalysis) -> list[Mapping[str, Any]]:
    templates: list[Mapping[str, Any]] = []
    for ref in analysis.templates or ():
        spec = template_spec(ctx, ref.template_name, ref.cluster_scope)
        if spec is None:
            kind = "ClusterAnalysisTemplate" if ref.cluster_scope else "AnalysisTemplate"
            raise AnalysisArgumentError(f"{kind} {ref.template_name!r} not found")
        templates.append(spec)
    return templates


def _run_metadata(
    ctx: PlanContext, analysis: RolloutAnalysis, *, name: str, labels: Mapping[str, str], revision: int
) -> dict[str, Any]:
    """analysisRunMetadata's labels and annotations, ours on top, the revision, and the Rollout as controller."""
    metadata = analysis.analysis_run_metadata
    rollout = ctx.rollout
    annotations = {**(metadata.annotations if metadata and metadata.annotations else {})}
    annotations[REVISION_ANNOTATION] = str(revision)
    return {
        "name": name,
        "namespace": rollout.namespace,
        "labels": {**(metadata.labels if metadata and metadata.labels else {}), **labels},
        "annotations": annotations,
        "ownerReferences": [
            controller_reference(api_version=API_VERSION, kind=KIND, name=rollout.name, uid=rollout.metadata.uid or "")
        ],
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
