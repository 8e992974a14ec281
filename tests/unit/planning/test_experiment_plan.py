"""plan_experiment by tables: phases, messages, actions and events as Argo's experiment controller produces them.

Expected values are Argo's (experiments/experiment.go, experiments/conditions.go, utils/experiment,
utils/conditions/experiments.go of v1.10.2), written here as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.api.experiment import Experiment
from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL, SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.planning.experiment import plan_experiment
from rollouts.planning.experiment_context import ObservedExperiment
from rollouts.planning.observed import ObservedAnalysisRun, ObservedReplicaSet, ObservedService, format_timestamp
from rollouts.planning.plan import (
    CreateAnalysisRun,
    CreateReplicaSet,
    CreateService,
    DeleteService,
    EmitEvent,
    Plan,
    ScaleReplicaSet,
    TerminateAnalysisRun,
)

NOW = datetime(2026, 1, 1, 10, 0, 0, tzinfo=UTC)
T = format_timestamp


def ago(seconds: int) -> str:
    return T(NOW - timedelta(seconds=seconds))


def template(name: str, *, replicas: int = 1, service: dict[str, Any] | None = None,
             selector: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name, "replicas": replicas,
        "selector": {"matchLabels": {"app": name}} if selector is None else selector,
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "c", "image": f"img:{name}",
                                              "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]}},
    }
    if service is not None:
        out["service"] = service
    return out


def experiment(*, templates: list[dict[str, Any]] | None = None, status: dict[str, Any] | None = None,
               **spec: Any) -> Experiment:
    doc: dict[str, Any] = {"metadata": {"name": "ex", "namespace": "ns", "uid": "u1"},
                           "spec": {"templates": templates or [template("baseline")], **spec}}
    if status is not None:
        doc["status"] = status
    return Experiment.model_validate(doc)


def rs(name: str = "baseline", *, spec: int = 1, available: int = 1, annotations: dict[str, str] | None = None
       ) -> ObservedReplicaSet:
    return ObservedReplicaSet(
        name=f"ex-{name}", pod_template_hash=f"h-{name}", revision=0, spec_replicas=spec, status_replicas=available,
        ready_replicas=available, available_replicas=available,
        template=template(name)["template"], labels={"app": name, POD_TEMPLATE_HASH_LABEL: f"h-{name}"},
        annotations=annotations or {})


def ts(name: str = "baseline", status: str = "Running", *, available: int = 1, since: str | None = None,
       **extra: Any) -> dict[str, Any]:
    return {"name": name, "status": status, "replicas": available, "updatedReplicas": available,
            "readyReplicas": available, "availableReplicas": available,
            "lastTransitionTime": since or ago(5), **extra}


def run(name: str, phase: str, message: str = "", terminate: bool = False) -> ObservedAnalysisRun:
    return ObservedAnalysisRun(name=name, phase=phase, message=message, terminate=terminate)


TEMPLATE_SPEC = {"metrics": [{"name": "m", "provider": {"web": {"url": "http://x"}}}],
                 "args": [{"name": "canary-hash"}, {"name": "fixed", "value": "1"}]}


@dataclass(frozen=True)
class Case:
    id: str
    ex: Experiment
    replica_sets: dict[str, ObservedReplicaSet] = field(default_factory=dict)
    runs: dict[str, ObservedAnalysisRun] = field(default_factory=dict)
    services: dict[str, ObservedService] = field(default_factory=dict)
    templates: dict[tuple[str, bool], Any] = field(default_factory=dict)
    phase: str | None = None
    message: str | None = None
    actions: tuple[type, ...] = ()
    events: tuple[str, ...] = ()


CASES = [
    Case("new experiment: ReplicaSet created empty, phase Pending", experiment(),
         phase="Pending", actions=(CreateReplicaSet,), events=("TemplateProgressing", "ExperimentPending")),
    Case("created ReplicaSet is scaled to the template's replicas", experiment(status={
        "phase": "Pending", "templateStatuses": [ts(status="Progressing", available=0)]}),
         replica_sets={"baseline": rs(spec=0, available=0)}, phase="Pending", actions=(ScaleReplicaSet,),
         events=("ScalingReplicaSet",)),
    Case("all templates available: Running", experiment(status={
        "phase": "Pending", "templateStatuses": [ts(status="Progressing", available=0)]}),
         replica_sets={"baseline": rs()}, phase="Running", events=("TemplateRunning", "ExperimentRunning")),
    Case("one template still progressing: Pending", experiment(
        templates=[template("baseline"), template("canary")], status={
            "phase": "Pending", "templateStatuses": [ts(), ts("canary", "Progressing", available=0)]}),
         replica_sets={"baseline": rs(), "canary": rs("canary", available=0)}, phase="Pending"),
    Case("duration passed, no analyses: Successful (the scale-down is the next pass's)",
         experiment(duration="60s", status={"phase": "Running", "availableAt": ago(61), "templateStatuses": [ts()]}),
         replica_sets={"baseline": rs()}, phase="Successful", events=("TemplateSuccessful", "ExperimentSuccessful")),
    Case("progress deadline exceeded: Failed with Argo's message", experiment(progressDeadlineSeconds=30, status={
        "phase": "Pending", "templateStatuses": [ts(status="Progressing", available=0, since=ago(31))]}),
         replica_sets={"baseline": rs(available=0)}, phase="Failed",
         message="Template 'baseline' exceeded its progressDeadlineSeconds (30)",
         events=("TemplateFailed", "ExperimentFailed")),
    Case("terminate while running: templates Successful as they scale down", experiment(terminate=True, status={
        "phase": "Running", "availableAt": ago(10), "templateStatuses": [ts()]}),
         replica_sets={"baseline": rs()}, phase="Successful", actions=(ScaleReplicaSet,),
         events=("TemplateSuccessful", "ExperimentSuccessful")),
    Case("analysis template missing before availableAt: analysis Error",
         experiment(analyses=[{"name": "a", "templateName": "t"}], status={
             "phase": "Pending", "templateStatuses": [ts(status="Progressing", available=0)]}),
         replica_sets={"baseline": rs(available=0)}, phase="Error",
         message="AnalysisTemplate verification failed for analysis 'a': analysistemplate.argoproj.io \"t\" not found",
         events=("AnalysisRunError", "ExperimentError")),
    Case("available: AnalysisRun created with the template hash argument",
         experiment(analyses=[{"name": "a", "templateName": "t", "args": [
             {"name": "canary-hash", "value": "{{templates.baseline.podTemplateHash}}"}]}],
             status={"phase": "Running", "availableAt": ago(1), "templateStatuses": [ts()]}),
         replica_sets={"baseline": rs()}, templates={("t", False): {"spec": TEMPLATE_SPEC}}, phase="Running",
         actions=(CreateAnalysisRun,), events=("AnalysisRunPending",)),
    Case("unresolved argument: analysis Error naming it",
         experiment(analyses=[{"name": "a", "templateName": "t"}],
                    status={"phase": "Running", "availableAt": ago(1), "templateStatuses": [ts()]}),
         replica_sets={"baseline": rs()}, templates={("t", False): {"spec": TEMPLATE_SPEC}}, phase="Error",
         message="Failed to create AnalysisRun for analysis 'a': args.canary-hash was not resolved",
         events=("AnalysisRunError", "ExperimentError")),
    Case("required analysis Successful: Experiment ends Successful early",
         experiment(analyses=[{"name": "a", "templateName": "t", "requiredForCompletion": True}], status={
             "phase": "Running", "availableAt": ago(5), "templateStatuses": [ts()],
             "analysisRuns": [{"name": "a", "analysisRun": "ex-a", "phase": "Running"}]}),
         replica_sets={"baseline": rs()}, runs={"ex-a": run("ex-a", "Successful")},
         templates={("t", False): {"spec": TEMPLATE_SPEC}}, phase="Successful",
         message="Required AnalysisRuns completed", events=("AnalysisRunSuccessful", "ExperimentSuccessful")),
    Case("analysis Failed: Experiment Failed with the run's message",
         experiment(analyses=[{"name": "a", "templateName": "t"}], status={
             "phase": "Running", "availableAt": ago(5), "templateStatuses": [ts()],
             "analysisRuns": [{"name": "a", "analysisRun": "ex-a", "phase": "Running"}]}),
         replica_sets={"baseline": rs()}, runs={"ex-a": run("ex-a", "Failed", "metric 'm' assessed Failed")},
         templates={("t", False): {"spec": TEMPLATE_SPEC}}, phase="Failed", message="metric 'm' assessed Failed",
         events=("AnalysisRunFailed", "ExperimentFailed")),
    Case("analysis Inconclusive: Experiment Inconclusive",
         experiment(analyses=[{"name": "a", "templateName": "t"}], status={
             "phase": "Running", "availableAt": ago(5), "templateStatuses": [ts()],
             "analysisRuns": [{"name": "a", "analysisRun": "ex-a", "phase": "Running"}]}),
         replica_sets={"baseline": rs()}, runs={"ex-a": run("ex-a", "Inconclusive")},
         templates={("t", False): {"spec": TEMPLATE_SPEC}}, phase="Inconclusive",
         events=("AnalysisRunInconclusive", "ExperimentInconclusive")),
    Case("terminated Experiment terminates its running AnalysisRun (templates decide: Successful)",
         experiment(terminate=True, analyses=[{"name": "a", "templateName": "t"}], status={
             "phase": "Running", "availableAt": ago(5), "templateStatuses": [ts()],
             "analysisRuns": [{"name": "a", "analysisRun": "ex-a", "phase": "Running"}]}),
         replica_sets={"baseline": rs()}, runs={"ex-a": run("ex-a", "Running")},
         templates={("t", False): {"spec": TEMPLATE_SPEC}}, phase="Successful",
         actions=(ScaleReplicaSet, TerminateAnalysisRun),
         events=("TemplateSuccessful", "AnalysisRunTerminating", "ExperimentSuccessful")),
    Case("template service: created named after the ReplicaSet",
         experiment(templates=[template("baseline", service={})], status={
             "phase": "Running", "availableAt": ago(1), "templateStatuses": [ts()]}),
         replica_sets={"baseline": rs()}, phase="Running", actions=(CreateService,)),
    Case("service deleted once the finished template has no pods",
         experiment(templates=[template("baseline", service={})], status={
             "phase": "Successful", "availableAt": ago(90),
             "templateStatuses": [ts(status="Successful", serviceName="ex-baseline")]}),
         replica_sets={"baseline": rs(spec=0, available=0)},
         services={"baseline": ObservedService("ex-baseline")}, phase="Successful",
         actions=(ScaleReplicaSet, DeleteService)),  # Argo annotates the deadline even on an empty ReplicaSet
    Case("service deleted in the pass that scales its pods to 0 (deadline passed)",
         experiment(templates=[template("baseline", service={})], status={
             "phase": "Successful", "availableAt": ago(90),
             "templateStatuses": [ts(status="Successful", serviceName="ex-baseline")]}),
         replica_sets={"baseline": rs(annotations={SCALE_DOWN_DEADLINE_ANNOTATION: ago(1)})},
         services={"baseline": ObservedService("ex-baseline")}, phase="Successful",
         actions=(ScaleReplicaSet, DeleteService), events=("ScalingReplicaSet",)),
    Case("missing selector: InvalidSpec only, in Argo's words", experiment(
        templates=[{"name": "baseline", "template": {}}]), phase=None),
]


def _plan(case: Case) -> Plan:
    return plan_experiment(ObservedExperiment(
        experiment=case.ex, replica_sets=case.replica_sets, services=case.services, analysis_runs=case.runs,
        analysis_templates=case.templates), NOW)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan_experiment(case: Case) -> None:
    plan = _plan(case)
    assert plan.status.get("phase") == case.phase
    if case.message is not None:
        assert plan.status.get("message") == case.message
    assert tuple(type(a) for a in plan.mutations) == case.actions
    assert tuple(e.reason for e in plan.events) == case.events


def test_replica_set_manifest_is_argos() -> None:
    plan = _plan(CASES[0])
    manifest = plan.mutations[0].manifest  # type: ignore[union-attr]
    meta = manifest["metadata"]
    assert meta["name"] == "ex-baseline"
    assert meta["annotations"] == {"experiment.argoproj.io/name": "ex", "experiment.argoproj.io/template-name":
                                   "baseline"}
    assert meta["ownerReferences"][0]["kind"] == "Experiment" and meta["ownerReferences"][0]["uid"] == "u1"
    pod_hash = meta["labels"][POD_TEMPLATE_HASH_LABEL]
    assert manifest["spec"]["replicas"] == 0
    assert manifest["spec"]["selector"] == {"matchLabels": {"app": "baseline", POD_TEMPLATE_HASH_LABEL: pod_hash}}
    assert manifest["spec"]["template"]["metadata"]["labels"] == {"app": "baseline", POD_TEMPLATE_HASH_LABEL: pod_hash}


def test_scale_down_waits_for_the_deadline_then_scales_to_zero() -> None:
    finished = {"phase": "Successful", "availableAt": ago(90), "templateStatuses": [ts(status="Successful")]}
    first = plan_experiment(ObservedExperiment(experiment(status=finished), replica_sets={"baseline": rs()}), NOW)
    (scale,) = first.mutations
    assert isinstance(scale, ScaleReplicaSet) and scale.replicas == 1
    assert scale.annotations == {SCALE_DOWN_DEADLINE_ANNOTATION: T(NOW + timedelta(seconds=30))}
    assert first.requeue_after == 30
    due = rs(annotations={SCALE_DOWN_DEADLINE_ANNOTATION: ago(1)})
    later = plan_experiment(ObservedExperiment(experiment(status=finished), replica_sets={"baseline": due}), NOW)
    (scale,) = later.mutations
    assert isinstance(scale, ScaleReplicaSet) and scale.replicas == 0
    assert [e.message for e in later.events] == ["Scaled down ReplicaSet ex-baseline from 1 to 0"]


def test_analysis_run_manifest() -> None:
    case = next(c for c in CASES if c.id.startswith("available: AnalysisRun"))
    (create,) = _plan(case).mutations
    assert isinstance(create, CreateAnalysisRun)
    assert create.manifest["metadata"]["name"] == "ex-a"
    assert create.manifest["metadata"]["ownerReferences"][0]["kind"] == "Experiment"
    assert create.manifest["spec"]["args"] == [{"name": "canary-hash", "value": "h-baseline"},
                                               {"name": "fixed", "value": "1"}]


def test_running_condition_and_requeue_at_the_end_of_the_duration() -> None:
    ex = experiment(duration="60s", status={"phase": "Running", "availableAt": ago(20), "templateStatuses": [ts()]})
    plan = plan_experiment(ObservedExperiment(ex, replica_sets={"baseline": rs()}), NOW)
    (condition,) = plan.status["conditions"]
    assert (condition["type"], condition["status"], condition["reason"], condition["message"]) == (
        "Progressing", "True", "NewReplicaSetAvailable", 'Experiment "ex" is running.')
    assert plan.requeue_after == 41
    assert not plan.actions


@pytest.mark.parametrize(("templates", "message"), [
    ([{"name": "a", "template": {}}], "Rollout has missing field '.Spec.Templates[0].Selector'"),
    ([template("a", selector={})], "This experiment is selecting all pods at index 0. A non-empty selector is required."),
    ([template("a"), template("a")], "Experiment ex has repeated template name 'a' in templates"),
    ([template("")], "Experiment ex has empty template name at index 0"),
], ids=["missing selector", "select all", "repeated name", "empty name"])
def test_invalid_spec(templates: list[dict[str, Any]], message: str) -> None:
    plan = plan_experiment(ObservedExperiment(experiment(templates=templates)), NOW)
    assert plan.actions == ()
    (condition,) = plan.status["conditions"]
    assert (condition["type"], condition["status"], condition["reason"], condition["message"]) == (
        "InvalidSpec", "True", "InvalidSpec", message)


def test_restarted_controller_adopts_the_run_it_created() -> None:
    case = next(c for c in CASES if c.id.startswith("available: AnalysisRun"))
    plan = plan_experiment(ObservedExperiment(case.ex, replica_sets=case.replica_sets, analysis_templates=case.templates,
                                              analysis_runs={"ex-a": run("ex-a", "Running")}), NOW)
    assert not [a for a in plan.mutations if isinstance(a, CreateAnalysisRun)]
    assert plan.status["analysisRuns"] == [{"name": "a", "analysisRun": "ex-a", "phase": "Pending"}]
    assert [e for e in plan.events if isinstance(e, EmitEvent) and e.reason == "AnalysisRunPending"]
