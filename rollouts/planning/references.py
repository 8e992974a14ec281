"""InvalidSpec checks that need the observed world, on top of the API's static ``validate_rollout``.

A Rollout naming a Service, a workloadRef Deployment or an (Cluster)AnalysisTemplate that does not exist, or
a Service already managed by another Rollout, must stop with InvalidSpec *before* anything is changed: the
planner then emits no mutating action at all, so nothing is half-applied. Each problem names the field.
"""

from __future__ import annotations

from collections.abc import Iterator

from rollouts.api.rollout import RolloutAnalysis
from rollouts.api.validation import SpecProblem
from rollouts.planning.observed import ObservedRollout
from rollouts.planning.plan import MANAGED_BY_ANNOTATION
from rollouts.planning.spec_facts import spec_facts


def spec_problems(observed: ObservedRollout) -> list[SpecProblem]:
    """Static problems first; reference problems only for a statically valid spec (they would be noise)."""
    problems = spec_facts(observed.rollout).problems
    if problems:
        return list(problems)
    return list(_reference_problems(observed))


def _reference_problems(observed: ObservedRollout) -> Iterator[SpecProblem]:
    rollout = observed.rollout
    spec = rollout.spec
    if spec.workload_ref is not None and observed.workload_template is None:
        kind = spec.workload_ref.kind or "Deployment"
        yield SpecProblem("spec.workloadRef", f"{kind} {spec.workload_ref.name!r} not found")
    services: list[tuple[str, str | None]] = []
    analyses: list[tuple[str, RolloutAnalysis | None]] = []
    canary, blue_green = spec.strategy.canary, spec.strategy.blue_green
    if canary is not None:
        base = "spec.strategy.canary"
        services += [(f"{base}.stableService", canary.stable_service), (f"{base}.canaryService", canary.canary_service)]
        analyses.append((f"{base}.analysis", canary.analysis))
        for i, step in enumerate(canary.steps or ()):
            analyses.append((f"{base}.steps[{i}].analysis", step.analysis))
            for kind in ("experiment", "plugin", "setMirrorRoute"):
                if getattr(step, "set_mirror_route" if kind == "setMirrorRoute" else kind) is not None:
                    yield SpecProblem(f"{base}.steps[{i}].{kind}", f"{kind} steps are not supported by this controller")
        if canary.traffic_routing is not None and observed.traffic is not None and observed.traffic.error:
            yield SpecProblem(f"{base}.trafficRouting", observed.traffic.error)
    if blue_green is not None:
        base = "spec.strategy.blueGreen"
        services += [
            (f"{base}.activeService", blue_green.active_service),
            (f"{base}.previewService", blue_green.preview_service),
        ]
        analyses += [
            (f"{base}.prePromotionAnalysis", blue_green.pre_promotion_analysis),
            (f"{base}.postPromotionAnalysis", blue_green.post_promotion_analysis),
        ]
    for path, name in services:
        if not name:
            continue
        service = observed.services.get(name)
        if service is None:
            yield SpecProblem(path, f"Service {name!r} not found")
            continue
        owner = service.annotations.get(MANAGED_BY_ANNOTATION)
        if owner and owner != rollout.name:
            yield SpecProblem(path, f"Service {name!r} is managed by another Rollout ({owner})")
    for path, analysis in analyses:
        if analysis is None:
            continue
        yield from _analysis_problems(observed, path, analysis)


def _analysis_problems(observed: ObservedRollout, path: str, analysis: RolloutAnalysis) -> Iterator[SpecProblem]:
    provided = {arg.name for arg in analysis.args or ()}
    for i, ref in enumerate(analysis.templates or ()):
        raw = observed.analysis_templates.get((ref.template_name, ref.cluster_scope))
        kind = "ClusterAnalysisTemplate" if ref.cluster_scope else "AnalysisTemplate"
        if raw is None:
            yield SpecProblem(f"{path}.templates[{i}]", f"{kind} {ref.template_name!r} not found")
            continue
        spec = raw.get("spec") if "spec" in raw else raw
        for arg in (spec or {}).get("args") or ():
            name = arg.get("name")
            if name in provided or "value" in arg or "valueFrom" in arg:
                continue
            yield SpecProblem(
                f"{path}.args",
                f"argument {name!r} required by {kind} {ref.template_name!r} has no value",
            )
