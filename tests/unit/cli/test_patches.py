"""The exact patches each action sends and the lines it prints: Argo's plugin's (cmd/promote/promote.go getPatches
and promote_test.go, cmd/abort, cmd/retry, cmd/pause, cmd/restart, cmd/undo, cmd/set)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.cli.patches import (
    SKIP_FLAGS_BLUE_GREEN,
    SKIP_FLAGS_NO_STEPS,
    SKIP_FLAGS_TOGETHER,
    ActionPlan,
    ActionRefused,
    Patch,
    parse_image_assignment,
    plan_abort,
    plan_pause,
    plan_promote,
    plan_restart,
    plan_resume,
    plan_retry,
    plan_set_image,
    plan_terminate_analysisrun,
    plan_undo,
)

ROLLOUT_UID = "uid-rollout"
STEPS = [{"setWeight": 20}, {"pause": {}}, {"analysis": {"templates": [{"templateName": "t"}]}}, {"setWeight": 60}]


def ro(*, status: dict[str, Any] | None = None, paused: bool = False, steps: list[dict[str, Any]] | None = None,
       blue_green: bool = False, containers: list[dict[str, Any]] | None = None,
       workload_ref: str | None = None) -> dict[str, Any]:
    strategy = {"blueGreen": {"activeService": "a"}} if blue_green else {"canary": {"steps": STEPS if steps is None
                                                                                    else steps}}
    spec: dict[str, Any] = {"replicas": 2, "strategy": strategy, "paused": paused,
                            "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": containers or [{"name": "web", "image": "web:1"}]}}}
    if workload_ref:
        del spec["template"]
        spec["workloadRef"] = {"apiVersion": "apps/v1", "kind": workload_ref, "name": "web-deploy"}
    return {"kind": "Rollout", "metadata": {"name": "guestbook", "generation": 2, "uid": ROLLOUT_UID}, "spec": spec,
            "status": {"observedGeneration": "2", "stableRS": "s", "currentPodHash": "c", **(status or {})}}


UNPAUSE = Patch({"spec": {"paused": False}})
PAUSED_STEP = {"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]}


@pytest.mark.parametrize(("rollout", "kwargs", "status", "spec"), [
    pytest.param(ro(status=PAUSED_STEP), {}, {"status": {"pauseConditions": None}}, None, id="paused-at-step"),
    pytest.param(ro(status={"currentStepIndex": 2}), {}, {"status": {"pauseConditions": None, "currentStepIndex": 3}},
                 None, id="TestPromoteCmdSuccesFirstStep-running-step-is-skipped"),
    pytest.param(ro(status={"currentStepIndex": 4}), {}, {"status": {"pauseConditions": None, "currentStepIndex": 4}},
                 None, id="TestPromoteCmdSuccessDoNotGoPastLastStep"),
    pytest.param(ro(status={"currentStepIndex": 1}, paused=True), {},
                 {"status": {"pauseConditions": None, "currentStepIndex": 2}}, UNPAUSE, id="manually-paused-canary"),
    pytest.param(ro(status=PAUSED_STEP, paused=True), {}, {"status": {"pauseConditions": None}}, UNPAUSE,
                 id="TestPromoteCmdSuccessUnpause"),
    pytest.param(ro(status={"currentStepIndex": 2, "controllerPause": True,
                            "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
                            "canary": {"currentStepAnalysisRunStatus": {"status": "Inconclusive"}}}), {},
                 {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 3}}, None,
                 id="inconclusive-analysis-moves-on"),
    pytest.param(ro(blue_green=True, status={"pauseConditions": [{"reason": "BlueGreenPause"}]}), {},
                 {"status": {"pauseConditions": None}}, None, id="blue-green-pre-promotion"),
    pytest.param(ro(blue_green=True), {}, None, None, id="blue-green-not-paused-sends-nothing"),
    pytest.param(ro(status={"currentStepIndex": 1}), {"full": True}, {"status": {"promoteFull": True}}, None,
                 id="full"),
    pytest.param(ro(status={"currentStepIndex": 1}, paused=True), {"full": True}, {"status": {"promoteFull": True}},
                 UNPAUSE, id="full-and-paused"),
    pytest.param(ro(status={"currentPodHash": "s"}, paused=True), {"full": True}, None, UNPAUSE,
                 id="full-when-promoted-only-unpauses"),
    pytest.param(ro(status={"currentStepIndex": 0}), {"skip_current_step": True}, {"status": {"currentStepIndex": 1}},
                 None, id="TestPromoteCmdSuccesFirstStepWithSkipFirstStep"),
    pytest.param(ro(status={"currentStepIndex": 1}), {"skip_all_steps": True}, {"status": {"currentStepIndex": 4}},
                 None, id="TestPromoteCmdSuccesSkipAllSteps"),
])
def test_promote(rollout: dict[str, Any], kwargs: dict[str, bool], status: Any, spec: Patch | None) -> None:
    plan = plan_promote(rollout, **kwargs)
    assert (plan.status.body if plan.status else None) == status
    assert plan.spec == spec
    assert plan.message == ("rollout 'guestbook' fully promoted" if kwargs.get("full") else
                            "rollout 'guestbook' promoted")


def test_promote_without_status_subresource_sends_one_combined_patch() -> None:
    """Argo's unifiedPatch, sent to the main resource when the status subresource answers 404 (v0.9 CRDs)."""
    assert plan_promote(ro(status=PAUSED_STEP, paused=True)).unified == Patch(
        {"spec": {"paused": False}, "status": {"pauseConditions": None}})
    assert plan_promote(ro(status={"currentStepIndex": 2})).unified == Patch(
        {"spec": {"paused": False}, "status": {"pauseConditions": None, "currentStepIndex": 3}})
    assert plan_promote(ro(), full=True).unified == Patch({"spec": {"paused": False}, "status": {"promoteFull": True}})


INCONCLUSIVE = {"controllerPause": True, "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
                "canary": {"currentStepAnalysisRunStatus": {"status": "Inconclusive"}}}


@pytest.mark.parametrize(("rollout", "kwargs", "status", "unified"), [
    pytest.param(ro(status={**INCONCLUSIVE, "currentStepIndex": 4}), {},
                 {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 4},
                 {"spec": {"paused": False}, "status": {"pauseConditions": None}}, id="inconclusive-at-last-step"),
    pytest.param(ro(status={**INCONCLUSIVE, "currentStepIndex": 2}, steps=[]), {}, None,
                 {"spec": {"paused": False}, "status": {"pauseConditions": None}}, id="inconclusive-without-steps"),
    pytest.param(ro(status={"currentStepIndex": 4}), {"skip_current_step": True}, {"currentStepIndex": 4},
                 {"status": {"currentStepIndex": 4}}, id="skip-current-at-last-step-stays"),
    pytest.param(ro(status={"currentStepIndex": 1}), {"skip_all_steps": True}, {"currentStepIndex": 4},
                 {"status": {"currentStepIndex": 4}}, id="skip-all-steps"),
    pytest.param(ro(blue_green=True, paused=True), {}, None,
                 {"spec": {"paused": False}, "status": {"pauseConditions": None}}, id="blue-green-paused"),
    pytest.param(ro(status={"currentStepIndex": 1}, paused=True), {"full": True}, {"promoteFull": True},
                 {"spec": {"paused": False}, "status": {"promoteFull": True}}, id="full-and-paused"),
])
def test_promote_status_and_unified_patch(rollout: dict[str, Any], kwargs: dict[str, bool], status: Any,
                                          unified: dict[str, Any]) -> None:
    plan = plan_promote(rollout, **kwargs)
    assert (plan.status.body["status"] if plan.status else None) == status
    assert plan.unified == Patch(unified)


@pytest.mark.parametrize(("rollout", "kwargs", "message"), [
    pytest.param(ro(), {"skip_current_step": True, "skip_all_steps": True}, SKIP_FLAGS_TOGETHER,
                 id="TestPromoteSkipFlagOnBothSteps"),
    pytest.param(ro(blue_green=True), {"skip_current_step": True}, SKIP_FLAGS_BLUE_GREEN,
                 id="TestPromoteSkipFlagOnBlueGreen"),
    pytest.param(ro(steps=[]), {"skip_all_steps": True}, SKIP_FLAGS_NO_STEPS, id="TestPromoteNoStepCanary"),
])
def test_promote_refused(rollout: dict[str, Any], kwargs: dict[str, bool], message: str) -> None:
    with pytest.raises(ActionRefused, match=message):
        plan_promote(rollout, **kwargs)


@pytest.mark.parametrize(("planner", "status", "spec", "message"), [
    (plan_abort, {"status": {"abort": True}}, None, "rollout 'guestbook' aborted"),
    (plan_retry, {"status": {"abort": False}}, None, "rollout 'guestbook' retried"),
    (plan_pause, None, {"spec": {"paused": True}}, "rollout 'guestbook' paused"),
    (plan_resume, None, {"spec": {"paused": False}}, "rollout 'guestbook' resumed"),
], ids=["abort", "retry", "pause", "resume"])
def test_simple_actions_never_refuse(planner: Any, status: Any, spec: Any, message: str) -> None:
    """As Argo's plugin: the patch is sent whatever the state (aborting twice, retrying a healthy rollout)."""
    for state in (ro(), ro(status={"abort": True}), ro(paused=True), ro(status={"currentPodHash": "s"})):
        plan: ActionPlan = planner(state)
        assert (plan.status.body if plan.status else None, plan.spec.body if plan.spec else None) == (status, spec)
        assert plan.message == message


def test_restart_sets_restart_at_in_utc_seconds() -> None:
    plan = plan_restart(ro(), at=datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC), delay_text="10m")
    assert plan.spec == Patch({"spec": {"restartAt": "2026-03-04T05:06:07Z"}})
    assert plan.message == "rollout 'guestbook' restarts in 10m"  # TestRestartCmdSuccessWithDelay


def test_terminate_analysisrun() -> None:
    plan = plan_terminate_analysisrun({"metadata": {"name": "guestbook"}})
    assert (plan.kind, plan.spec, plan.message) == ("analysisruns", Patch({"spec": {"terminate": True}}),
                                                    "analysisRun 'guestbook' terminated")


# --- set image ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("web=nginx:1.25", ("web", "nginx:1.25")),
    ("web=nginx", ("web", "nginx")),
    ("*=registry.example.com:5000/team/app:v2.1-rc.1", ("*", "registry.example.com:5000/team/app:v2.1-rc.1")),
    ("side-car=ghcr.io/org/img@sha256:" + "a" * 64, ("side-car", "ghcr.io/org/img@sha256:" + "a" * 64)),
    ("web=localhost/app:latest", ("web", "localhost/app:latest")),
], ids=["tag", "bare", "registry-port-all", "digest", "localhost"])
def test_parse_image_assignment(text: str, expected: tuple[str, str]) -> None:
    assert parse_image_assignment(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("web", "expected CONTAINER=IMAGE"),
    ("web=a=b", "expected CONTAINER=IMAGE"),
    ("=nginx", "container name before '=' is empty"),
    ("web=", "image after '=' is empty"),
    ("web=Nginx:1", "repository names must be lower-case"),
    ("web=nginx:1 2", "not a valid image reference"),
    ("web=nginx::1", "not a valid image reference"),
    ("Web=nginx", "not a valid container name"),
    ("web=nginx:" + "x" * 200, "not a valid image reference"),
], ids=["no-equals", "two-equals", "no-container", "no-image", "upper-case", "space", "double-colon",
        "bad-container", "tag-too-long"])
def test_parse_image_assignment_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="invalid image argument") as err:
        parse_image_assignment(text)
    assert reason in str(err.value)


TWO = [{"name": "web", "image": "web:1"}, {"name": "proxy", "image": "envoy:1"}]


def test_set_image_patch_guards_the_container_name() -> None:
    plan = plan_set_image(ro(containers=TWO), "proxy", "envoy:2")
    assert plan.spec == Patch([
        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "proxy"},
        {"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "envoy:2"},
    ], patch_type="json")
    assert plan.message == 'rollout "guestbook" image updated'


def test_set_image_covers_init_and_ephemeral_containers() -> None:
    """TestSetImageCmdStar: '*' sets every container of every kind."""
    rollout = ro(containers=copy.deepcopy(TWO))
    rollout["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "image": "busybox:1"}]
    rollout["spec"]["template"]["spec"]["ephemeralContainers"] = [{"name": "debug", "image": "busybox:1"}]
    assert plan_set_image(rollout, "*", "x:2").spec is not None
    after = jsonpatch.apply_patch(rollout, plan_set_image(rollout, "*", "x:2").spec.body)  # type: ignore[union-attr]
    pod = after["spec"]["template"]["spec"]
    assert {c["image"] for field in ("initContainers", "containers", "ephemeralContainers") for c in pod[field]} == {
        "x:2"}


@given(st.sampled_from(["web", "proxy", "*"]), st.from_regex(r"\A[a-z0-9]{1,10}:[a-z0-9]{1,5}\Z"))
def test_set_image_applied_changes_exactly_the_targeted_images(container: str, image: str) -> None:
    rollout = ro(containers=copy.deepcopy(TWO))
    plan = plan_set_image(rollout, container, image)
    after = rollout
    for patch in plan.patches:
        after = jsonpatch.apply_patch(after, patch.body)
    got = {c["name"]: c["image"] for c in after["spec"]["template"]["spec"]["containers"]}
    before = {c["name"]: c["image"] for c in TWO}
    assert got == {n: (image if container in ("*", n) else before[n]) for n in before}


def test_set_image_of_the_workload_ref_deployment() -> None:
    deployment = {"kind": "Deployment", "metadata": {"name": "web-deploy"},
                  "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}
    plan = plan_set_image(deployment, "web", "web:2")
    assert (plan.kind, plan.name, plan.message) == ("deployments", "web-deploy", 'deployment "web-deploy" image updated')


def test_set_image_unknown_container() -> None:
    with pytest.raises(ActionRefused, match=r'unable to find container named "db" \(containers of rollout '
                                            r"'guestbook': web, proxy\)"):
        plan_set_image(ro(containers=TWO), "db", "pg:16")


# --- undo ---------------------------------------------------------------------------------------


def replicaset(pod_hash: str, revision: int, image: str) -> dict[str, Any]:
    return {"metadata": {"name": f"guestbook-{pod_hash}", "uid": f"rs-{pod_hash}",
                         "labels": {"app": "web", "rollouts-pod-template-hash": pod_hash},
                         "annotations": {"rollout.argoproj.io/revision": str(revision)},
                         "ownerReferences": [{"uid": ROLLOUT_UID, "controller": True}]},
            "spec": {"template": {"metadata": {"labels": {"app": "web", "rollouts-pod-template-hash": pod_hash}},
                                  # the API server defaults the ReplicaSet's copy of the template
                                  "spec": {"containers": [{"name": "web", "image": image,
                                                           "imagePullPolicy": "IfNotPresent"}],
                                           "dnsPolicy": "ClusterFirst"}}}}


def history() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rollout = ro(containers=[{"name": "web", "image": "shop/checkout:3.0"}])
    return rollout, [replicaset(h, rev, f"shop/checkout:{rev}.0") for h, rev in (("aaa", 1), ("bbb", 2), ("ccc", 3))]


def test_undo_restores_previous_revision_without_hash_label() -> None:
    rollout, rss = history()
    plan = plan_undo(rollout, rss)
    assert plan.spec is not None and plan.spec.patch_type == "json" and plan.status is None
    (op,) = plan.spec.body
    assert op["op"] == "replace" and op["path"] == "/spec/template"
    assert op["value"]["spec"]["containers"][0]["image"] == "shop/checkout:2.0"
    assert op["value"]["metadata"]["labels"] == {"app": "web"}
    assert plan.message == "rollout 'guestbook' undo"


def test_undo_to_revision_and_errors() -> None:
    """TestUndoCmdToRevision, TestUndoCmdToRevisionSkipped, TestUndoCmdToRevisionNotFound, TestUndoCmdNoRevision."""
    rollout, rss = history()
    plan = plan_undo(rollout, rss, to_revision=1)
    assert plan.spec is not None and plan.spec.body[0]["value"]["spec"]["containers"][0]["image"] == "shop/checkout:1.0"
    skipped = plan_undo(rollout, rss, to_revision=3)  # defaults added by the API server do not count as a change
    assert (skipped.patches, skipped.message) == ((), "skipped rollback (current template already matches revision 3)")
    with pytest.raises(ActionRefused, match="unable to find specified revision 7 in history"):
        plan_undo(rollout, rss, to_revision=7)
    with pytest.raises(ActionRefused, match='no revision found for rollout "guestbook"'):
        plan_undo(rollout, rss[:1])
    foreign = [{**rs, "metadata": {**rs["metadata"], "ownerReferences": [{"uid": "x", "controller": True}]}}
               for rs in rss]
    with pytest.raises(ActionRefused, match="no revision found"):
        plan_undo(rollout, foreign)


@pytest.mark.parametrize(("kind", "plural"), [("Deployment", "deployments"), ("ReplicaSet", "replicasets"),
                                              ("PodTemplate", "podtemplates")])
def test_undo_of_a_workload_ref_patches_the_workload(kind: str, plural: str) -> None:
    _, rss = history()
    plan = plan_undo(ro(workload_ref=kind), rss)
    assert (plan.kind, plan.name, plan.message) == (plural, "web-deploy", "rollout 'guestbook' undo")
    with pytest.raises(ActionRefused, match="workload of type StatefulSet is not supported"):
        plan_undo(ro(workload_ref="StatefulSet"), rss)
