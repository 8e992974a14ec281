"""What the plugin derives from a Rollout and its children, by the rules of Argo's plugin (`info` package,
`GetRolloutPhase`, `GetCurrentSetWeight`) and kubectl's (pod STATUS, ages)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.api.rollout import RolloutPhase as Phase
from rollouts.cli.children import pod_info, replicaset_status
from rollouts.cli.info import actual_weight, current_step, list_row, reported_phase, rollout_info, set_weight
from rollouts.cli.objects import human_duration
from rollouts.cli.render import list_table, rollout_text

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "1m"}}]


def canary(status: dict[str, Any], *, steps: list[dict[str, Any]] | None = None, generation: int = 1,
           paused: bool = False, traffic: dict[str, Any] | None = None) -> dict[str, Any]:
    strategy: dict[str, Any] = {"steps": STEPS if steps is None else steps}
    if traffic is not None:
        strategy["trafficRouting"] = traffic
    return {"metadata": {"name": "web", "namespace": "shop", "generation": generation, "uid": "ro-uid"},
            "spec": {"replicas": 4, "paused": paused, "strategy": {"canary": strategy}},
            "status": status}


@pytest.mark.parametrize(("rollout", "phase", "message"), [
    pytest.param(canary({"observedGeneration": "1", "phase": "Healthy"}), Phase.HEALTHY, "", id="status-phase-trusted"),
    pytest.param(canary({"observedGeneration": "1", "phase": "Healthy"}, generation=2), Phase.PROGRESSING,
                 "waiting for rollout spec update to be observed", id="unobserved-spec-is-progressing"),
    pytest.param(canary({"observedGeneration": "abc123", "phase": "Paused", "message": "CanaryPauseStep"}),
                 Phase.PAUSED, "CanaryPauseStep", id="legacy-hash-generation-counts-as-observed"),
    pytest.param(canary({"observedGeneration": "1", "phase": "Paused", "controllerPause": True}), Phase.PROGRESSING,
                 "waiting for rollout to unpause", id="promoted-not-yet-unpaused"),
    pytest.param(canary({"observedGeneration": "1", "conditions": [
        {"type": "Progressing", "reason": "RolloutAborted", "message": "Rollout aborted update to revision 2"}]}),
        Phase.DEGRADED, "RolloutAborted: Rollout aborted update to revision 2", id="assessed-aborted"),
    pytest.param(canary({"observedGeneration": "1", "pauseConditions": [{"reason": "CanaryPauseStep"}]}),
                 Phase.PAUSED, "CanaryPauseStep", id="assessed-paused-step"),
    pytest.param(canary({"observedGeneration": "1"}, paused=True), Phase.PAUSED, "manually paused",
                 id="assessed-manual-pause"),
    pytest.param(canary({"observedGeneration": "1", "conditions": [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}]}),
        Phase.DEGRADED, "ProgressDeadlineExceeded: too slow", id="assessed-deadline"),
    pytest.param(canary({"observedGeneration": "1", "conditions": [{"type": "InvalidSpec", "status": "True",
                                                                  "message": "bad"}]}),
                 Phase.DEGRADED, "InvalidSpec: bad", id="assessed-invalid"),
    pytest.param(canary({"observedGeneration": "1", "stableRS": "a", "currentPodHash": "a", "replicas": 4,
                         "updatedReplicas": 4, "availableReplicas": 4}), Phase.HEALTHY, "", id="assessed-healthy"),
    pytest.param(canary({"observedGeneration": "1", "stableRS": "a", "currentPodHash": "b", "replicas": 5,
                         "updatedReplicas": 1, "availableReplicas": 4}), Phase.PROGRESSING,
                 "more replicas need to be updated", id="assessed-progressing"),
    pytest.param(canary({"observedGeneration": "1", "stableRS": "a", "currentPodHash": "b", "replicas": 5,
                         "updatedReplicas": 4, "availableReplicas": 4}), Phase.PROGRESSING,
                 "old replicas are pending termination", id="assessed-old-replicas"),
    pytest.param(canary({"observedGeneration": "1", "stableRS": "a", "currentPodHash": "b", "replicas": 4,
                         "updatedReplicas": 4, "availableReplicas": 4}), Phase.PROGRESSING,
                 "waiting for all steps to complete", id="assessed-steps-left"),
    # the controller's own calculation (Argo's CalculateRolloutPhase): a bare abort flag no controller has acted
    # on is not Degraded yet
    pytest.param(canary({"observedGeneration": "1", "abort": True}), Phase.PROGRESSING,
                 "more replicas need to be updated", id="assessed-abort-flag-alone"),
    pytest.param(canary({"observedGeneration": "1", "phase": "Paused", "controllerPause": True,
                         "pauseConditions": [{"reason": "CanaryPauseStep"}]}), Phase.PAUSED, "",
                 id="paused-by-the-controller"),
    pytest.param(canary({"observedGeneration": "1", "pauseConditions": ["junk", {"reason": "CanaryPauseStep"}],
                         "updatedReplicas": "four"}), Phase.PAUSED, "CanaryPauseStep", id="assessed-tolerates-junk"),
    pytest.param({**canary({"observedGeneration": "1"}), "spec": {"replicas": "many"}}, Phase.DEGRADED,
                 "InvalidSpec: The Rollout is invalid: spec.replicas: Input should be a valid integer, unable to parse "
                 "string as an integer", id="assessed-unparseable-spec"),
    pytest.param(canary({"observedGeneration": "1", "phase": "Scaling", "message": "new words"}), "Scaling",
                 "new words", id="unknown-phase-shown-as-written"),
])
def test_rollout_phase(rollout: dict[str, Any], phase: Phase, message: str) -> None:
    report = reported_phase(rollout)
    assert (report.phase, report.message) == (phase, message)


@pytest.mark.parametrize(("status", "steps", "weight", "step"), [
    pytest.param({"currentStepIndex": 0}, STEPS, 20, "0/4", id="first-step"),
    pytest.param({"currentStepIndex": 1}, STEPS, 20, "1/4", id="pause-after-20"),
    pytest.param({"currentStepIndex": 3}, STEPS, 50, "3/4", id="timed-pause-after-50"),
    pytest.param({"currentStepIndex": 4}, STEPS, 100, "4/4", id="all-steps-done"),
    pytest.param({"currentStepIndex": 2, "abort": True}, STEPS, 0, "2/4", id="aborted"),
    pytest.param({"currentStepIndex": 0}, [{"pause": {}}], 0, "0/1", id="no-setweight-yet"),
    pytest.param({}, STEPS, 20, "", id="no-index-written-yet"),
    pytest.param({}, [], 100, "", id="no-steps"),
])
def test_set_weight_and_step(status: dict[str, Any], steps: list[dict[str, Any]], weight: int, step: str) -> None:
    rollout = canary(status, steps=steps)
    assert set_weight(rollout) == weight
    assert current_step(rollout) == step


@pytest.mark.parametrize(("status", "weight"), [
    pytest.param({"currentStepIndex": 1}, 20, id="step-weight-unchanged"),
    pytest.param({"currentStepIndex": 4}, 1000, id="all-steps-done-is-maxTrafficWeight"),
    pytest.param({"currentStepIndex": 4, "abort": True}, 0, id="aborted"),
])
def test_set_weight_is_out_of_max_traffic_weight(status: dict[str, Any], weight: int) -> None:
    """The CLI asks the planner, which counts out of maxTrafficWeight (Argo: GetCurrentSetWeight returns
    weightutil.MaxTrafficWeight once the steps are done, utils/replicaset/canary.go)."""
    rollout = canary(status, traffic={"nginx": {"stableIngress": "web"}, "maxTrafficWeight": 1000})
    assert set_weight(rollout) == weight
    if not status.get("abort"):
        assert actual_weight(rollout, ()) == (1000 if status["currentStepIndex"] == 4 else 0)


def _rs(pod_hash: str, replicas: int, available: int, *, revision: int) -> dict[str, Any]:
    return {"metadata": {"name": f"web-{pod_hash}", "uid": f"rs-{pod_hash}",
                         "labels": {"rollouts-pod-template-hash": pod_hash},
                         "annotations": {"rollout.argoproj.io/revision": str(revision)},
                         "ownerReferences": [{"uid": "ro-uid", "controller": True}]},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app",
                                                                                "image": f"app:{pod_hash}"}]}}},
            "status": {"replicas": replicas, "availableReplicas": available}}


@pytest.mark.parametrize(("status", "traffic", "weight"), [
    pytest.param({"currentStepIndex": 1, "stableRS": "s", "currentPodHash": "c", "availableReplicas": 8}, None, 25,
                 id="basic-canary-share-of-pods"),
    pytest.param({"currentStepIndex": 1, "stableRS": "s", "currentPodHash": "c", "availableReplicas": 3}, None, 66,
                 id="rounded-down-like-go"),
    pytest.param({"currentStepIndex": 4, "stableRS": "s", "currentPodHash": "s", "availableReplicas": 4}, None, 100,
                 id="steps-done"),
    pytest.param({"currentStepIndex": 1, "stableRS": "s", "currentPodHash": "c", "availableReplicas": 0}, None, 0,
                 id="nothing-available"),
    pytest.param({"currentStepIndex": 1, "stableRS": "s", "currentPodHash": "c", "availableReplicas": 8,
                  "canary": {"weights": {"canary": {"weight": 30}, "stable": {"weight": 70}}}},
                 {"nginx": {"stableIngress": "web"}}, 30, id="traffic-routing-reported-weight"),
    pytest.param({"currentStepIndex": 1, "stableRS": "s", "currentPodHash": "c", "availableReplicas": 8},
                 {"nginx": {"stableIngress": "web"}}, 20, id="traffic-routing-not-reported-yet-is-set-weight"),
])
def test_actual_weight(status: dict[str, Any], traffic: dict[str, Any] | None, weight: int) -> None:
    rollout = canary(status, traffic=traffic)
    info = rollout_info(rollout, [_rs("s", 6, 6, revision=1), _rs("c", 2, 2, revision=2)], [], [])
    assert info.actual_weight == str(weight)


def _pod(phase: str = "Running", *, statuses: list[dict[str, Any]] | None = None, inits: list[dict[str, Any]] | None
         = None, init_specs: int = 0, deleting: bool = False, reason: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "containerStatuses": statuses or []}
    if reason:
        status["reason"] = reason
    if inits is not None:
        status["initContainerStatuses"] = inits
    meta: dict[str, Any] = {"name": "p"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-15T11:59:00Z"
    return {"metadata": meta, "spec": {"containers": [{"name": "app"}],
                                       "initContainers": [{"name": f"i{i}"} for i in range(init_specs)]},
            "status": status}


RUNNING = {"ready": True, "state": {"running": {}}}


@pytest.mark.parametrize(("pod", "status", "icon", "ready"), [
    pytest.param(_pod(statuses=[RUNNING]), "Running", "✔", "1/1", id="running"),
    pytest.param(_pod(statuses=[{"ready": False, "state": {"waiting": {"reason": "ContainerCreating"}}}],
                      phase="Pending"), "ContainerCreating", "◌", "0/1", id="creating"),
    pytest.param(_pod(statuses=[{"ready": False, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]),
                 "ImagePullBackOff", "⚠", "0/1", id="image-pull-back-off"),
    pytest.param(_pod(statuses=[{"ready": False, "restartCount": 3, "state": {"waiting": {
        "reason": "CrashLoopBackOff"}}}]), "CrashLoopBackOff", "✖", "0/1", id="crash-loop"),
    pytest.param(_pod(statuses=[{"ready": False, "state": {"terminated": {"exitCode": 137}}}]), "ExitCode:137", "✖",
                 "0/1", id="exit-code"),
    pytest.param(_pod(statuses=[{"ready": False, "state": {"terminated": {"exitCode": 0, "signal": 9}}}]), "Signal:9",
                 "✖", "0/1", id="signal"),
    pytest.param(_pod(phase="Pending", inits=[{"name": "i0", "state": {"running": {}}}], init_specs=2), "Init:0/2",
                 "◌", "0/1", id="init-running"),
    pytest.param(_pod(phase="Pending", inits=[{"name": "i0", "state": {"terminated": {"exitCode": 1,
                                                                                       "reason": "Error"}}}],
                      init_specs=1), "Init:Error", "◌", "0/1", id="init-failed"),
    pytest.param(_pod(statuses=[RUNNING], deleting=True), "Terminating", "◌", "1/1", id="terminating"),
    pytest.param(_pod(statuses=[RUNNING], deleting=True, reason="NodeLost"), "Unknown", "?", "1/1", id="node-lost"),
    pytest.param(_pod(phase="Failed", reason="Evicted"), "Evicted", " ", "0/1", id="evicted"),
])
def test_pod_status_like_kubectl(pod: dict[str, Any], status: str, icon: str, ready: str) -> None:
    info = pod_info(pod)
    assert (info.status, info.icon, info.ready) == (status, icon, ready)


@pytest.mark.parametrize(("rs", "status"), [
    pytest.param({"metadata": {"generation": 2}, "spec": {"replicas": 3},
                  "status": {"observedGeneration": 1, "availableReplicas": 3}}, "Progressing", id="unobserved"),
    pytest.param({"spec": {"replicas": 3}, "status": {"availableReplicas": 2}}, "Progressing", id="not-available"),
    pytest.param({"spec": {"replicas": 3}, "status": {"availableReplicas": 3, "conditions": [
        {"type": "ReplicaFailure", "status": "True"}]}}, "ReplicaFailure", id="failure"),
    pytest.param({"spec": {"replicas": 0}, "status": {}}, "ScaledDown", id="scaled-down"),
    pytest.param({"spec": {"replicas": 3}, "status": {"availableReplicas": 3}}, "Healthy", id="healthy"),
])
def test_replicaset_status(rs: dict[str, Any], status: str) -> None:
    assert replicaset_status(rs) == status


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "<invalid>"), (-1.5, "0s"), (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (150, "2m30s"),
    (600, "10m"), (3600, "60m"), (3 * 3600, "3h"), (5 * 3600 + 600, "5h10m"), (20 * 3600, "20h"), (3 * 86400, "3d"),
    (3 * 86400 + 4 * 3600, "3d4h"), (30 * 86400, "30d"), (800 * 86400, "2y70d"), (3 * 365 * 86400, "3y"),
    (9 * 365 * 86400, "9y"),
], ids=lambda v: str(v))
def test_human_duration_like_apimachinery(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**10))
def test_human_duration_is_short_and_well_formed(seconds: int) -> None:
    text = human_duration(seconds)
    assert 2 <= len(text) <= 8
    assert text[-1] in "smhdy"


@given(st.integers(min_value=0, max_value=10), st.lists(
    st.one_of(st.builds(lambda w: {"setWeight": w}, st.integers(0, 100)), st.just({"pause": {}})), max_size=8))
def test_set_weight_is_a_percentage(index: int, steps: list[dict[str, Any]]) -> None:
    assert 0 <= set_weight(canary({"currentStepIndex": index}, steps=steps)) <= 100


def test_children_of_other_owners_are_ignored() -> None:
    foreign = _rs("f", 1, 1, revision=9)
    foreign["metadata"]["ownerReferences"] = [{"uid": "someone-else"}]
    info = rollout_info(canary({"stableRS": "s", "currentPodHash": "c"}),
                        [_rs("s", 3, 3, revision=1), _rs("c", 1, 1, revision=2), foreign], [], [])
    assert [(rs.name, rs.revision, rs.stable, rs.canary) for rs in info.replicasets] == [
        ("web-c", 2, False, True), ("web-s", 1, True, False)]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
STATUS_KEYS = ["phase", "message", "abort", "pauseConditions", "currentStepIndex", "stableRS", "currentPodHash",
               "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "observedGeneration",
               "conditions", "canary", "blueGreen", "controllerPause", "restartedAt"]


@settings(max_examples=150, deadline=None)
@given(status=st.dictionaries(st.sampled_from(STATUS_KEYS), JSON, max_size=8),
       steps=st.one_of(JSON, st.lists(st.dictionaries(st.sampled_from(["setWeight", "pause", "analysis"]), JSON,
                                                      max_size=2), max_size=4)),
       generation=JSON, replicas=JSON)
def test_any_status_renders_without_error(status: dict[str, object], steps: object, generation: object,
                                          replicas: object) -> None:
    """Whatever a (buggy or newer) controller writes into status, `get` and `list` still draw something."""
    rollout = canary({})
    rollout["status"] = status
    rollout["metadata"]["generation"] = generation
    rollout["spec"]["replicas"] = replicas
    rollout["spec"]["strategy"] = {"canary": {"steps": steps}}
    text = rollout_text(rollout_info(rollout, [_rs("s", 1, 1, revision=1)], [], []), NOW)
    assert "Name:            web" in text
    list_table([list_row(rollout)], all_namespaces=True, timestamp=None)
