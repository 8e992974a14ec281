"""AnalysisRuns created by the Rollout planner and what their verdicts do to the update."""

from __future__ import annotations

from typing import Any

from rollouts.planning import CreateAnalysisRun, TerminateAnalysisRun
from tests.unit.planning.world import World, blue_green_rollout, canary_rollout

TEMPLATE: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AnalysisTemplate",
    "metadata": {"name": "success-rate"},
    "spec": {
        "args": [{"name": "service"}, {"name": "hash"}, {"name": "threshold", "value": "0.95"}],
        "metrics": [{"name": "success-rate", "provider": {"web": {"url": "http://metrics/{{args.service}}"}}}],
    },
}
ARGS = [
    {"name": "service", "value": "web"},
    {"name": "hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
]
ANALYSIS_STEP = {"analysis": {"templates": [{"templateName": "success-rate"}], "args": ARGS}}


def analysed(steps: list[dict[str, Any]], **canary: Any) -> World:
    world = World(canary_rollout(replicas=4, steps=steps, **canary))
    world.analysis_templates = {("success-rate", False): TEMPLATE}
    world.run()
    return world


def finish_run(world: World, phase: str, message: str = "") -> str:
    running = [name for name, run in world.runs.items() if run["status"]["phase"] == "Running"]
    assert len(running) == 1, f"expected one running run, got {running}"
    world.runs[running[0]]["status"] = {"phase": phase, "message": message}
    return running[0]


def test_analysis_step_creates_one_labelled_owned_run_and_waits_for_it() -> None:
    world = analysed([{"setWeight": 25}, ANALYSIS_STEP, {"setWeight": 75}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    v2, v1 = world.hash_of("web:2"), world.hash_of("web:1")
    assert list(world.runs) == [f"web-{v2}-2-1"]
    run = world.runs[f"web-{v2}-2-1"]
    assert run["metadata"]["labels"] == {"rollouts-pod-template-hash": v2, "rollout-type": "Step", "step-index": "1"}
    assert run["metadata"]["ownerReferences"][0]["kind"] == "Rollout"
    assert run["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    assert run["spec"]["metrics"] == TEMPLATE["spec"]["metrics"]
    assert run["spec"]["args"] == [
        {"name": "hash", "value": v2},
        {"name": "service", "value": "web"},
        {"name": "threshold", "value": "0.95"},
    ]
    assert v1 != v2
    assert world.status["currentStepIndex"] == 1
    assert world.status["canary"]["currentStepAnalysisRunStatus"] == {"name": f"web-{v2}-2-1", "status": "Running"}
    assert world.status["phase"] == "Progressing"
    # re-planning does not create the run again
    assert not any(isinstance(a, CreateAnalysisRun) for a in world.plan().actions)
    finish_run(world, "Successful")
    world.run()
    assert world.status["currentStepIndex"] == 3
    assert world.counts() == {"web:1": 1, "web:2": 3}


def test_failed_step_analysis_aborts_naming_the_run_and_metric() -> None:
    world = analysed([{"setWeight": 25}, ANALYSIS_STEP, {"setWeight": 75}])
    world.set_template("web:2")
    world.run()
    name = finish_run(world, "Failed", 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)')
    world.run()
    assert world.counts() == {"web:1": 4}
    status = world.status
    assert status["phase"] == "Degraded"
    assert status["message"] == (
        f"RolloutAborted: Rollout aborted update to revision 2: AnalysisRun '{name}' Failed: "
        'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)'
    )
    assert status["abort"] is True


def test_inconclusive_analysis_pauses_and_a_promote_accepts_it() -> None:
    world = analysed([{"setWeight": 25}, ANALYSIS_STEP, {"setWeight": 75}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    finish_run(world, "Inconclusive")
    world.run()
    assert world.status["phase"] == "Paused"
    assert world.status["message"] == "InconclusiveAnalysisRun"
    world.patch_status(pauseConditions=None)
    world.run()
    assert world.status["currentStepIndex"] == 3
    assert world.status["message"] == "CanaryPauseStep"


def test_background_analysis_starts_at_its_step_and_is_terminated_at_promotion() -> None:
    background = {"templates": [{"templateName": "success-rate"}], "args": ARGS, "startingStep": 2}
    world = analysed([{"setWeight": 25}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}], analysis=background)
    world.set_template("web:2")
    world.run()
    assert world.runs == {}
    world.patch_status(pauseConditions=None)
    world.run()
    v2 = world.hash_of("web:2")
    assert list(world.runs) == [f"web-{v2}-2"]
    assert world.runs[f"web-{v2}-2"]["metadata"]["labels"]["rollout-type"] == "Background"
    assert world.status["canary"]["currentBackgroundAnalysisRunStatus"]["status"] == "Running"
    world.patch_status(pauseConditions=None)
    plans_before = len(world.plans)
    world.run()
    assert any(isinstance(a, TerminateAnalysisRun) for plan in world.plans[plans_before:] for a in plan.actions), (
        "the background run was not terminated at promotion"
    )
    assert world.status["phase"] == "Healthy"


def test_failed_background_analysis_aborts() -> None:
    background = {"templates": [{"templateName": "success-rate"}], "args": ARGS}
    world = analysed([{"setWeight": 25}, {"pause": {}}], analysis=background)
    world.set_template("web:2")
    world.run()
    finish_run(
        world, "Error", 'Metric "success-rate" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4)'
    )
    world.run()
    assert world.status["phase"] == "Degraded"
    assert "consecutiveErrorLimit" in world.status["message"]


def test_missing_template_and_unresolved_argument_are_invalid_spec() -> None:
    world = World(canary_rollout(replicas=2, steps=[ANALYSIS_STEP]))
    plan = world.plan()
    assert plan.mutations == ()
    assert (
        "spec.strategy.canary.steps[0].analysis.templates[0]: AnalysisTemplate 'success-rate' not found"
        in (plan.status["message"])
    )
    world.analysis_templates = {("success-rate", False): TEMPLATE}
    world.rollout["spec"]["strategy"]["canary"]["steps"] = [
        {"analysis": {"templates": [{"templateName": "success-rate"}]}}
    ]
    plan = world.plan()
    assert plan.mutations == ()
    assert "argument 'service' required by AnalysisTemplate 'success-rate' has no value" in plan.status["message"]


def test_invalid_spec_warns_once_and_recovers_when_the_template_appears() -> None:
    world = World(canary_rollout(replicas=2, steps=[ANALYSIS_STEP]))
    world.step()
    world.step()
    assert [e.reason for e in world.events] == ["InvalidSpec"]
    assert world.events[0].type == "Warning"
    world.analysis_templates = {("success-rate", False): TEMPLATE}
    world.run()
    assert world.status["phase"] == "Healthy"
    assert all(c["type"] != "InvalidSpec" for c in world.status["conditions"])


def test_blue_green_pre_promotion_analysis_gates_the_switch() -> None:
    world = World(
        blue_green_rollout(
            replicas=2,
            prePromotionAnalysis={"templates": [{"templateName": "success-rate"}], "args": ARGS},
        ),
        services={"web-active": {"app": "web"}},
    )
    world.analysis_templates = {("success-rate", False): TEMPLATE}
    world.run()
    world.set_template("web:2")
    world.run()
    v1, v2 = world.hash_of("web:1"), world.hash_of("web:2")
    assert world.selector("web-active")["rollouts-pod-template-hash"] == v1
    run_name = f"web-{v2}-2-pre"
    assert world.runs[run_name]["metadata"]["labels"]["rollout-type"] == "PrePromotion"
    assert world.status["blueGreen"]["prePromotionAnalysisRunStatus"]["status"] == "Running"
    finish_run(world, "Successful")
    world.run()
    assert world.selector("web-active")["rollouts-pod-template-hash"] == v2


def test_blue_green_failed_post_promotion_analysis_switches_back() -> None:
    world = World(
        blue_green_rollout(
            replicas=2,
            postPromotionAnalysis={"templates": [{"templateName": "success-rate"}], "args": ARGS},
        ),
        services={"web-active": {"app": "web"}},
    )
    world.analysis_templates = {("success-rate", False): TEMPLATE}
    world.run()
    world.set_template("web:2")
    world.run()
    v1, v2 = world.hash_of("web:1"), world.hash_of("web:2")
    assert world.selector("web-active")["rollouts-pod-template-hash"] == v2
    assert world.status["stableRS"] == v1
    assert world.status["message"] == "waiting for analysis to complete"
    finish_run(world, "Failed", 'Metric "success-rate" assessed Failed')
    world.run()
    assert world.selector("web-active")["rollouts-pod-template-hash"] == v1
    assert world.status["phase"] == "Degraded"


def test_retry_after_a_failed_analysis_runs_it_again_under_a_new_name() -> None:
    world = analysed([{"setWeight": 25}, ANALYSIS_STEP, {"setWeight": 75}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    failed = finish_run(world, "Failed", "boom")
    world.run()
    assert world.status["phase"] == "Degraded"
    world.patch_status(abort=None)
    world.run()
    assert world.runs[failed]["status"]["phase"] == "Failed", "history is kept"
    assert f"{failed}.1" in world.runs
    assert world.status["canary"]["currentStepAnalysisRunStatus"]["name"] == f"{failed}.1"
    assert world.status["phase"] == "Progressing"
    finish_run(world, "Successful")
    world.run()
    assert world.status["message"] == "CanaryPauseStep"


def test_a_run_created_just_before_a_crash_is_adopted_not_duplicated() -> None:
    world = analysed([{"setWeight": 25}, ANALYSIS_STEP])
    world.set_template("web:2")
    world.run()
    name = next(iter(world.runs))
    # lose the status that named the run, as if the controller died before writing it
    world.rollout["status"]["canary"].pop("currentStepAnalysisRunStatus")
    plan = world.plan()
    assert not any(isinstance(a, CreateAnalysisRun) for a in plan.actions)
    assert plan.status["canary"]["currentStepAnalysisRunStatus"]["name"] == name


def test_accepted_inconclusive_background_run_does_not_pause_again() -> None:
    background = {"templates": [{"templateName": "success-rate"}], "args": ARGS}
    world = analysed(
        [{"setWeight": 25}, {"pause": {"duration": 60}}, {"setWeight": 50}, {"pause": {}}], analysis=background
    )
    world.set_template("web:2")
    world.run()
    finish_run(world, "Inconclusive")
    world.run()
    assert [p["reason"] for p in world.status["pauseConditions"]] == ["CanaryPauseStep", "InconclusiveAnalysisRun"]
    world.patch_status(pauseConditions=None)  # promote
    world.run()
    world.advance(60)
    world.run()
    assert [p["reason"] for p in world.status["pauseConditions"]] == ["CanaryPauseStep"]
    assert world.status["currentStepIndex"] == 3


def test_failed_analysis_sends_traffic_and_the_canary_service_back_to_stable_in_the_same_plan() -> None:
    """The plan that records the abort also resets the router and the canary Service: a failed canary must
    not keep serving until some later reconcile happens to run."""
    from rollouts.planning import SetCanaryWeight, SetServiceSelector

    world = World(
        canary_rollout(replicas=4, steps=[{"setWeight": 25}, ANALYSIS_STEP, {"setWeight": 75}],
                       stableService="web-stable", canaryService="web-canary",
                       trafficRouting={"nginx": {"stableIngress": "web"}}),
        services={"web-stable": {"app": "web"}, "web-canary": {"app": "web"}},
        traffic_routed=True,
    )
    world.analysis_templates = {("success-rate", False): TEMPLATE}
    world.run()
    world.set_template("web:2")
    world.run()
    assert world.weight == 25
    finish_run(world, "Failed", 'Metric "success-rate" assessed Failed')
    plan = world.plan()
    assert plan.status["abort"] is True
    assert [a.weight for a in plan.actions if isinstance(a, SetCanaryWeight)] == [0]
    stable = world.hash_of("web:1")
    assert [(a.service, a.pod_template_hash) for a in plan.actions if isinstance(a, SetServiceSelector)] == [
        ("web-canary", stable)
    ]


def test_a_full_blue_green_promotion_skips_and_cancels_promotion_analysis() -> None:
    """TestBlueGreenPromoteFull: `promote --full` while the pre-promotion run is Running switches at once,
    terminates the run and starts no post-promotion run: one AnalysisRun in all (rollout/analysis.go
    reconcileAnalysisRuns cancels every current run while status.promoteFull)."""
    analysis = {"templates": [{"templateName": "success-rate"}], "args": ARGS}
    world = World(blue_green_rollout(replicas=2, prePromotionAnalysis=analysis, postPromotionAnalysis=analysis),
                  services={"web-active": {"app": "web"}})
    world.analysis_templates = {("success-rate", False): TEMPLATE}
    world.run()
    world.set_template("web:2")
    world.run()
    v2 = world.hash_of("web:2")
    assert list(world.runs) == [f"web-{v2}-2-pre"]
    world.patch_status(promoteFull=True)
    plan = world.run()
    assert world.selector("web-active")["rollouts-pod-template-hash"] == v2
    assert world.status["stableRS"] == v2 and world.status["phase"] == "Healthy", plan.status
    assert list(world.runs) == [f"web-{v2}-2-pre"]
    assert world.runs[f"web-{v2}-2-pre"]["spec"].get("terminate") is True
