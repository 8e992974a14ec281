"""InvalidSpec checks that need the observed world, on top of the API's static ``validate_rollout``.

A Rollout naming a Service, a workloadRef Deployment or an (Cluster)AnalysisTemplate that does not exist, or
a Service already managed by another Rollout, must stop with InvalidSpec *before* anything is changed: the
planner then emits no mutating action at all, so nothing is half-applied. Each problem names the field.

What a spec references is collected once per spec generation (``collect_references``, memoised with the other
spec facts); each plan only looks the names up in the observation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rollouts.api.labels import MANAGED_BY_ANNOTATION
from rollouts.api.rollout import Rollout, RolloutAnalysis
from rollouts.api.validation import SpecProblem
from rollouts.planning.observed import ObservedRollout


@dataclass(frozen=True, slots=True)
class TemplateReference:
    path: str
    name: str
    cluster_scope: bool
    provided_args: frozenset[str]


@dataclass(frozen=True, slots=True)
class References:
    """Everything outside the Rollout that its spec names, with the field path that names it."""

    services: tuple[tuple[str, str], ...]
    templates: tuple[TemplateReference, ...]
    unsupported: tuple[SpecProblem, ...]


def collect_references(rollout: Rollout) -> References:
    spec = rollout.spec
    services: list[tuple[str, str | None]] = []
    analyses: list[tuple[str, RolloutAnalysis | None]] = []
    unsupported: list[SpecProblem] = []
    canary, blue_green = spec.strategy.canary, spec.strategy.blue_green
    if canary is not None:
        base = "spec.strategy.canary"
        services += [(f"{base}.stableService", canary.stable_service), (f"{base}.canaryService", canary.canary_service)]
        if canary.ping_pong is not None:
            services += [(f"{base}.pingPong.pingService", canary.ping_pong.ping_service),
                         (f"{base}.pingPong.pongService", canary.ping_pong.pong_service)]
        analyses.append((f"{base}.analysis", canary.analysis))
        for i, step in enumerate(canary.steps or ()):
            analyses.append((f"{base}.steps[{i}].analysis", step.analysis))
            if step.plugin is not None:
                unsupported.append(
                    SpecProblem(f"{base}.steps[{i}].plugin", "plugin steps are not supported by this controller")
                )
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
    templates: list[TemplateReference] = []
    for path, analysis in analyses:
        if analysis is None:
            continue
        provided = frozenset(arg.name for arg in analysis.args or ())
        for i, ref in enumerate(analysis.templates or ()):
            templates.append(
                TemplateReference(f"{path}.templates[{i}]", ref.template_name, ref.cluster_scope, provided)
            )
    return References(
        services=tuple((path, name) for path, name in services if name),
        templates=tuple(templates),
        unsupported=tuple(unsupported),
    )


def reference_problems(observed: ObservedRollout, references: References) -> list[SpecProblem]:
    """Problems with what the spec references, given what was observed (empty when all is well)."""
    return list(_problems(observed, references))


def _problems(observed: ObservedRollout, references: References) -> Iterator[SpecProblem]:
    rollout = observed.rollout
    spec = rollout.spec
    yield from references.unsupported
    if spec.workload_ref is not None and observed.workload_template is None:
        kind = spec.workload_ref.kind or "Deployment"
        yield SpecProblem("spec.workloadRef", f"{kind} {spec.workload_ref.name!r} not found")
    traffic = observed.traffic
    if traffic is not None and traffic.error and spec.strategy.canary is not None:
        yield SpecProblem("spec.strategy.canary.trafficRouting", traffic.error)
    yield from _service_problems(observed, references)
    for ref in references.templates:
        yield from _template_problems(observed, ref)


def _service_problems(observed: ObservedRollout, references: References) -> Iterator[SpecProblem]:
    """A named Service that does not exist, or that another Rollout already manages."""
    for path, name in references.services:
        service = observed.services.get(name)
        if service is None:
            yield SpecProblem(path, f"Service {name!r} not found")
            continue
        owner = service.annotations.get(MANAGED_BY_ANNOTATION)
        if owner and owner != observed.rollout.name:
            yield SpecProblem(path, f"Service {name!r} is managed by another Rollout ({owner})")


def _template_problems(observed: ObservedRollout, ref: TemplateReference) -> Iterator[SpecProblem]:
    """A template that does not exist, or an argument it requires that neither it nor the Rollout gives."""
    raw = observed.analysis_templates.get((ref.name, ref.cluster_scope))
    kind = "ClusterAnalysisTemplate" if ref.cluster_scope else "AnalysisTemplate"
    if raw is None:
        yield SpecProblem(ref.path, f"{kind} {ref.name!r} not found")
        return
    spec_raw = raw.get("spec") if "spec" in raw else raw
    for arg in (spec_raw or {}).get("args") or ():
        name = arg.get("name")
        if name in ref.provided_args or "value" in arg or "valueFrom" in arg:
            continue
        yield SpecProblem(
            ref.path.rsplit(".templates[", 1)[0] + ".args",
            f"argument {name!r} required by {kind} {ref.name!r} has no value",
        )
