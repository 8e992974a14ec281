"""The canary ``experiment`` step, planned: the Experiment it creates and what each outcome does to the update.

Expected values are Argo v1.10.2's, read from rollout/experiment.go, utils/experiment/filter.go and their tests
(TestRolloutCreateExperiment, TestAbortRolloutAfterFailedExperiment, TestPauseRolloutAfterInconclusiveExperiment,
TestRolloutExperimentScaleDownExperimentFromPreviousStep, TestCancelExperimentWhenAborted,
TestRolloutCreateExperimentWithService, TestRolloutCreateWeightlessExperimentWithServiceAndName,
TestRolloutDoNotCreateExperimentWithoutStableRS, TestFilterExperimentsToDelete).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rollouts.api.rollout import Rollout
from rollouts.api.validation import validate_rollout
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.experiment_step import experiments_to_delete
from rollouts.planning.observed import EPOCH, ObservedReplicaSet, ObservedRollout, OwnedExperiment
from rollouts.planning.plan import CreateExperiment, TerminateExperiment
from tests.unit.planning.world import START, World, canary_rollout

EXPERIMENT_STEP: dict[str, Any] = {
    "experiment": {
        "duration": "5m",
        "templates": [
            {"name": "baseline", "specRef": "stable", "replicas": 2, "metadata": {"labels": {"role": "baseline"}}},
            {"name": "canary", "specRef": "canary", "metadata": {"annotations": {"note": "new"}}},
        ],
        "analyses": [{
            "name": "compare",
            "templateName": "judge",
            "requiredForCompletion": True,
            "args": [
                {"name": "stable-hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
                {"name": "latest-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
                {"name": "baseline-hash", "value": "{{templates.baseline.podTemplateHash}}"},
                {"name": "rollout", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            ],
        }],
        "dryRun": [{"metricName": "latency"}],
        "analysisRunMetadata": {"labels": {"team": "shop"}},
        "scaleDownDelaySeconds": 10,
    }
}


def updating(steps: list[dict[str, Any]], **canary: Any) -> World:
    """A Rollout of 4 replicas at web:1, updated to web:2 and planned until it rests at the experiment step."""
    raw = canary_rollout(replicas=4, steps=steps, **canary)
    raw["metadata"]["labels"] = {"app": "web", "team": "shop"}
    world = World(raw)
    if "trafficRouting" in canary:
        world.services = {"web-stable": {"app": "web"}, "web-canary": {"app": "web"}}
        world.traffic_routed = True
    world.run()
    world.set_template("web:2")
    world.run()
    return world


def only_experiment(world: World) -> dict[str, Any]:
    assert len(world.experiments) == 1, f"expected one Experiment, got {sorted(world.experiments)}"
    return next(iter(world.experiments.values()))


def finish(world: World, phase: str, message: str = "") -> None:
    ex = world.experiments[world.status["canary"]["currentExperiment"]]
    ex["status"] = {"phase": phase, **({"message": message} if message else {})}


def test_experiment_step_creates_argos_experiment_from_the_stable_and_canary_replica_sets() -> None:
    world = updating([{"setWeight": 25}, EXPERIMENT_STEP, {"pause": {}}])
    v1, v2 = world.hash_of("web:1"), world.hash_of("web:2")
    ex = only_experiment(world)
    meta = ex["metadata"]
    assert meta["name"] == f"web-{v2}-2-1"
    assert meta["labels"] == {"app": "web", "team": "shop", "rollouts-pod-template-hash": v2}
    assert meta["annotations"] == {"rollout.argoproj.io/revision": "2"}
    assert [(o["kind"], o["name"], o["controller"]) for o in meta["ownerReferences"]] == [("Rollout", "web", True)]
    spec = ex["spec"]
    assert {k: spec[k] for k in ("duration", "dryRun", "analysisRunMetadata", "scaleDownDelaySeconds")} == {
        "duration": "5m", "dryRun": [{"metricName": "latency"}], "analysisRunMetadata": {"labels": {"team": "shop"}},
        "scaleDownDelaySeconds": 10,
    }
    assert "progressDeadlineSeconds" not in spec  # not set on the Rollout: the Experiment's own default applies
    baseline, canary = spec["templates"]
    stable_rs, new_rs = world.replica_sets[f"web-{v1}"], world.replica_sets[f"web-{v2}"]
    assert baseline["replicas"] == 2 and "replicas" not in canary
    assert baseline["template"]["spec"] == stable_rs["spec"]["template"]["spec"]
    assert canary["template"]["spec"] == new_rs["spec"]["template"]["spec"]
    assert baseline["template"]["metadata"]["labels"] == {
        "app": "web", "rollouts-pod-template-hash": v1, "role": "baseline"}
    assert baseline["selector"] == {"matchLabels": {"app": "web", "rollouts-pod-template-hash": v1, "role": "baseline"}}
    assert canary["template"]["metadata"]["annotations"] == {"note": "new"}
    assert canary["selector"] == new_rs["spec"]["selector"]
    assert "service" not in baseline and "service" not in canary
    assert spec["analyses"] == [{
        "name": "compare", "templateName": "judge", "requiredForCompletion": True,
        "args": [
            {"name": "stable-hash", "value": v1},
            {"name": "latest-hash", "value": v2},
            {"name": "baseline-hash", "value": "{{templates.baseline.podTemplateHash}}"},
            {"name": "rollout", "value": "web"},
        ],
    }]
    assert world.status["currentStepIndex"] == 1
    assert world.status["canary"]["currentExperiment"] == meta["name"]
    assert [e.message for e in world.events if e.reason == "ExperimentCreated"] == [f"Created Experiment '{meta['name']}'"]
    # the canary keeps the weight of the step before; re-planning creates nothing new
    assert world.counts() == {"web:1": 3, "web:2": 1}
    assert not any(isinstance(a, CreateExperiment) for a in world.plan().actions)


def test_progress_deadline_of_the_rollout_is_given_to_the_experiment_when_set() -> None:
    world = World(canary_rollout(replicas=2, steps=[EXPERIMENT_STEP], progressDeadlineSeconds=None))
    world.rollout["spec"]["progressDeadlineSeconds"] = 120
    world.run()
    world.set_template("web:2")
    world.run()
    assert only_experiment(world)["spec"]["progressDeadlineSeconds"] == 120


@pytest.mark.parametrize(
    ("template", "service"),
    [
        pytest.param({"weight": 10}, {}, id="weight-gives-a-service-named-by-the-experiment"),
        pytest.param({"service": {}}, {}, id="service-without-name"),
        pytest.param({"service": {"name": "preview"}}, {"name": "preview"}, id="service-with-name"),
        pytest.param({"weight": 5, "service": {"name": "exp-svc"}}, {"name": "exp-svc"}, id="weight-and-named"),
    ],
)
def test_weight_or_service_asks_the_experiment_for_a_service(template: dict[str, Any], service: dict[str, Any]
                                                              ) -> None:
    step = {"experiment": {"templates": [{"name": "canary", "specRef": "canary", **template}]}}
    world = updating([step], trafficRouting={"smi": {}}, canaryService="web-canary", stableService="web-stable")
    assert only_experiment(world)["spec"]["templates"][0]["service"] == service


@pytest.mark.parametrize(
    ("phase", "message", "expected"),
    [
        pytest.param("Running", "", {"index": 1, "current": True, "phase": "Progressing", "pauses": []},
                     id="running-is-current-and-waits"),
        pytest.param("Pending", "", {"index": 1, "current": True, "phase": "Progressing", "pauses": []},
                     id="pending-is-current-and-waits"),
        pytest.param("Successful", "", {"index": 2, "current": False, "phase": "Progressing", "pauses": []},
                     id="successful-completes-the-step"),
        pytest.param("Inconclusive", "", {"index": 1, "current": False, "phase": "Paused",
                                          "pauses": ["InconclusiveExperiment"]},
                     id="inconclusive-pauses"),
        pytest.param("Failed", "Metric \"p99\" assessed Failed", {
            "index": 0, "current": False, "phase": "Degraded", "pauses": [],
            "message": 'RolloutAborted: Rollout aborted update to revision 2: Experiment analysis phase is '
                       'error/failed: Metric "p99" assessed Failed'}, id="failed-aborts-with-its-message"),
        pytest.param("Error", "", {
            "index": 0, "current": False, "phase": "Degraded", "pauses": [],
            "message": "RolloutAborted: Rollout aborted update to revision 2: Experiment analysis phase is "
                       "error/failed"}, id="error-aborts"),
    ],
)
def test_what_the_experiments_phase_does_to_the_step(phase: str, message: str, expected: dict[str, Any]) -> None:
    world = updating([{"setWeight": 25}, EXPERIMENT_STEP, {"pause": {}}])
    finish(world, phase, message)
    world.step()
    status = world.status
    assert status["currentStepIndex"] == expected["index"]
    assert ("currentExperiment" in status["canary"]) is expected["current"]
    assert status["phase"] == expected["phase"]
    assert [p["reason"] for p in status.get("pauseConditions") or ()] == expected["pauses"]
    if "message" in expected:
        assert status["message"] == expected["message"]
        assert status["abort"] is True
        world.run()
        assert world.counts() == {"web:1": 4}  # the abort went back to stable


def test_abort_terminates_the_running_experiment() -> None:
    world = updating([EXPERIMENT_STEP, {"pause": {}}])
    name = only_experiment(world)["metadata"]["name"]
    world.rollout["status"]["abort"] = True
    plan = world.plan()
    assert TerminateExperiment(name) in plan.actions
    assert "currentExperiment" not in plan.status["canary"]


def test_full_promotion_terminates_the_running_experiment_and_completes() -> None:
    world = updating([EXPERIMENT_STEP, {"pause": {}}])
    name = only_experiment(world)["metadata"]["name"]
    world.rollout["status"]["promoteFull"] = True
    world.run()
    assert world.experiments[name]["spec"]["terminate"] is True
    assert world.status["stableRS"] == world.hash_of("web:2")


def test_a_new_revision_terminates_the_experiment_of_the_old_one_and_starts_its_own() -> None:
    world = updating([EXPERIMENT_STEP, {"pause": {}}])
    old_name = only_experiment(world)["metadata"]["name"]
    world.set_template("web:3")
    world.run()
    assert world.experiments[old_name]["spec"]["terminate"] is True
    v3 = world.hash_of("web:3")
    assert world.status["canary"]["currentExperiment"] == f"web-{v3}-3-0"
    assert set(world.experiments) == {old_name, f"web-{v3}-3-0"}


def test_leaving_the_step_by_hand_terminates_it() -> None:
    """Argo's TestRolloutExperimentScaleDownExperimentFromPreviousStep: the step index moved past the experiment
    (e.g. a `promote`), the Experiment still runs -> terminated."""
    world = updating([EXPERIMENT_STEP, {"setWeight": 50}, {"pause": {}}])
    name = only_experiment(world)["metadata"]["name"]
    world.rollout["status"]["currentStepIndex"] = 1
    assert TerminateExperiment(name) in world.plan().actions


def test_retry_after_a_failed_experiment_runs_a_new_one_with_a_collision_suffix() -> None:
    world = updating([EXPERIMENT_STEP, {"pause": {}}])
    name = only_experiment(world)["metadata"]["name"]
    finish(world, "Failed", "boom")
    world.run()
    assert world.status["abort"] is True
    world.patch_status(abort=None)  # `kubectl argo rollouts retry rollout`
    world.run()
    assert world.status["canary"]["currentExperiment"] == f"{name}-1"
    assert set(world.experiments) == {name, f"{name}-1"}
    assert world.status["phase"] == "Progressing"


def test_inconclusive_is_history_the_step_runs_it_again_as_argo_does() -> None:
    """Argo records only a running Experiment as current; after Inconclusive (paused) the step creates the
    next one of the same step (``-1``), and a promote completes the step once that one succeeds."""
    world = updating([EXPERIMENT_STEP, {"pause": {}}])
    name = only_experiment(world)["metadata"]["name"]
    finish(world, "Inconclusive")
    world.run()
    assert [p["reason"] for p in world.status["pauseConditions"]] == ["InconclusiveExperiment"]
    assert world.status["canary"]["currentExperiment"] == f"{name}-1"
    world.rollout["status"]["pauseConditions"] = []  # promote
    world.experiments[f"{name}-1"]["status"] = {"phase": "Successful"}
    world.run()
    assert world.status["currentStepIndex"] == 1


def test_no_experiment_before_a_stable_replica_set_exists() -> None:
    world = World(canary_rollout(replicas=2, steps=[EXPERIMENT_STEP]))
    world.run()
    assert world.experiments == {}
    assert world.status["stableRS"] == world.hash_of("web:1")


def test_experiment_replica_sets_are_not_revisions_of_the_rollout() -> None:
    """The Experiment's ReplicaSets are owned by the Experiment, so they never reach the Rollout's observation;
    the Rollout scales only its own two revisions while the experiment step runs."""
    world = updating([{"setWeight": 50}, EXPERIMENT_STEP])
    assert sorted(world.replica_sets) == sorted([f"web-{world.hash_of('web:1')}", f"web-{world.hash_of('web:2')}"])
    finish(world, "Successful")
    world.run()
    assert world.counts() == {"web:2": 4}


def test_progress_deadline_does_not_run_out_during_an_experiment_step() -> None:
    world = updating([EXPERIMENT_STEP], progressDeadlineSeconds=None)
    world.rollout["spec"]["progressDeadlineSeconds"] = 30
    world.advance(3600)
    world.run()
    assert world.status["phase"] == "Progressing"
    assert world.status["conditions"][0]["reason"] != "ProgressDeadlineExceeded"
    assert all(c.get("reason") != "ProgressDeadlineExceeded" for c in world.status["conditions"])


def _owned(name: str, phase: str, pod_hash: str | None, minute: int) -> OwnedExperiment:
    labels = {"rollouts-pod-template-hash": pod_hash} if pod_hash else {}
    return OwnedExperiment(name=name, phase=phase, labels=labels, created_at=START + timedelta(minutes=minute))


@pytest.mark.parametrize(
    ("experiments", "limits", "deleted"),
    [
        pytest.param([_owned("a", "Successful", "h1", 1)], None, [], id="within-limits-kept"),
        pytest.param([_owned("a", "Successful", None, 1)], None, ["a"], id="no-hash-label"),
        pytest.param([_owned("a", "Running", "gone", 1)], None, ["a"], id="revision-gone"),
        pytest.param([_owned(f"s{i}", "Successful", "h1", i) for i in range(7)], None, ["s1", "s0"],
                     id="six-and-seven-successful-beyond-five"),
        pytest.param([_owned("f1", "Failed", "h1", 1), _owned("e2", "Error", "h1", 2),
                      _owned("i3", "Inconclusive", "h1", 3)], {"unsuccessfulRunHistoryLimit": 1}, ["e2", "f1"],
                     id="unsuccessful-limit-one-keeps-newest"),
        pytest.param([_owned("r", "Running", "h1", 1), _owned("s", "Successful", "h1", 2)],
                     {"successfulRunHistoryLimit": 0}, ["s"], id="running-never-counted"),
    ],
)
def test_experiments_to_delete(experiments: list[OwnedExperiment], limits: dict[str, int] | None,
                               deleted: list[str]) -> None:
    raw = canary_rollout(replicas=1)
    if limits is not None:
        raw["spec"]["analysis"] = limits
    ctx = PlanContext(ObservedRollout(rollout=Rollout.model_validate(raw)), START)
    rs = ObservedReplicaSet(name="web-h1", pod_template_hash="h1", revision=1, spec_replicas=1, status_replicas=1,
                            ready_replicas=1, available_replicas=1, template={}, created_at=EPOCH)
    sets = RevisionSets(current_hash="h1", new=rs, stable=rs, others=(), revision=1)
    assert [ex.name for ex in experiments_to_delete(ctx, experiments, sets)] == deleted


@pytest.mark.parametrize(
    ("template", "canary", "problem"),
    [
        pytest.param({"specRef": "baseline"}, {}, ("spec.strategy.canary.steps[0].experiment.templates[0].specRef",
                                                   "Invalid template step SpecRef: must be canary or stable"),
                     id="spec-ref-neither-stable-nor-canary"),
        pytest.param({"specRef": "canary", "weight": 10}, {},
                     ("spec.strategy.canary.steps[0].experiment.templates[0].weight",
                      "Experiment template weight cannot be set unless TrafficRouting is enabled"),
                     id="weight-without-traffic-routing"),
        pytest.param({"specRef": "canary", "weight": 10},
                     {"trafficRouting": {"nginx": {"stableIngress": "web"}}, "canaryService": "c",
                      "stableService": "s"},
                     ("spec.strategy.canary.steps[0].experiment.templates[0].weight",
                      "Experiment template weight is only available for TrafficRouting with SMI, ALB, Istio and "
                      "Plugins at this time"),
                     id="weight-with-nginx"),
    ],
)
def test_experiment_step_validation(template: dict[str, Any], canary: dict[str, Any], problem: tuple[str, str]
                                    ) -> None:
    step = {"experiment": {"templates": [{"name": "t", **template}]}}
    rollout = Rollout.model_validate(canary_rollout(replicas=1, steps=[step], **canary))
    found = [(p.field, p.message) for p in validate_rollout(rollout)]
    assert any(path == problem[0] and problem[1] in message for path, message in found), found


@pytest.mark.parametrize(
    "canary",
    [
        pytest.param({"trafficRouting": {"smi": {}}}, id="smi"),
        pytest.param({"trafficRouting": {"istio": {"virtualService": {"name": "vs"}}}}, id="istio"),
        pytest.param({"trafficRouting": {"alb": {"ingress": "web", "servicePort": 80}}}, id="alb"),
    ],
)
def test_weight_is_accepted_with_the_routers_argo_allows(canary: dict[str, Any]) -> None:
    step = {"experiment": {"templates": [{"name": "t", "specRef": "canary", "weight": 10}]}}
    rollout = Rollout.model_validate(canary_rollout(replicas=1, steps=[step], canaryService="c", stableService="s",
                                                    **canary))
    assert [p for p in validate_rollout(rollout) if "experiment" in p.field] == []
