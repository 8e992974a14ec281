"""The exact patches each action sends (Argo's plugin bodies) and the actions refused as senseless."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.cli.patches import (
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
    plan_undo,
)
from tests.unit.cli import scenarios

STEPS = [{"setWeight": 20}, {"pause": {}}, {"analysis": {"templates": [{"templateName": "t"}]}},
         {"setWeight": 60}]


def ro(*, status: dict[str, Any] | None = None, paused: bool = False, steps: list[dict[str, Any]] | None = None,
       blue_green: bool = False, containers: list[dict[str, Any]] | None = None,
       workload_ref: bool = False) -> dict[str, Any]:
    strategy = {"blueGreen": {"activeService": "a"}} if blue_green else {"canary": {"steps": STEPS if steps is None
                                                                                    else steps}}
    spec: dict[str, Any] = {"replicas": 2, "strategy": strategy, "paused": paused,
                            "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": containers or [{"name": "web", "image": "web:1"}]}}}
    if workload_ref:
        del spec["template"]
        spec["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-deploy"}
    return {"metadata": {"name": "web", "generation": 2, "uid": scenarios.ROLLOUT_UID}, "spec": spec,
            "status": {"observedGeneration": "2", "stableRS": "s", "currentPodHash": "c", **(status or {})}}


HEALTHY = {"stableRS": "s", "currentPodHash": "s", "currentStepIndex": 4}


@pytest.mark.parametrize(("rollout", "full", "patches"), [
    pytest.param(ro(status={"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]}), False,
                 [Patch({"status": {"pauseConditions": None}}, subresource="status")], id="paused-at-step"),
    pytest.param(ro(status={"currentStepIndex": 2}), False,
                 [Patch({"status": {"pauseConditions": None, "currentStepIndex": 3}}, subresource="status")],
                 id="running-analysis-step-is-skipped"),
    pytest.param(ro(status={"currentStepIndex": 1}, paused=True), False,
                 [Patch({"spec": {"paused": False}})], id="manually-paused"),
    pytest.param(ro(status={"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]}, paused=True),
                 False, [Patch({"spec": {"paused": False}}),
                         Patch({"status": {"pauseConditions": None}}, subresource="status")], id="both-pauses"),
    pytest.param(ro(status={"pauseConditions": [{"reason": "BlueGreenPause"}]}, blue_green=True), False,
                 [Patch({"status": {"pauseConditions": None}}, subresource="status")], id="blue-green-pause"),
    pytest.param(ro(status={"currentStepIndex": 1}), True,
                 [Patch({"status": {"promoteFull": True}}, subresource="status")], id="full"),
    pytest.param(ro(status={"currentStepIndex": 1}, paused=True), True,
                 [Patch({"status": {"promoteFull": True}}, subresource="status"), Patch({"spec": {"paused": False}})],
                 id="full-while-manually-paused"),
])
def test_promote(rollout: dict[str, Any], full: bool, patches: list[Patch]) -> None:
    plan = plan_promote(rollout, full=full)
    assert list(plan.patches) == patches
    assert plan.message.startswith("rollout 'web' ")


@pytest.mark.parametrize(("rollout", "full", "reason"), [
    pytest.param(ro(status=HEALTHY), False, "is Healthy and fully promoted", id="healthy"),
    pytest.param(ro(status=HEALTHY), True, "is Healthy and fully promoted", id="healthy-full"),
    pytest.param(ro(status={"abort": True}), False, "is aborted; run 'kubectl rollouts retry rollout web'",
                 id="aborted"),
    pytest.param(ro(status={"currentStepIndex": 4}), False, "already past its last step", id="past-last-step"),
    pytest.param(ro(blue_green=True), False, "is not paused", id="blue-green-not-paused"),
])
def test_promote_refused(rollout: dict[str, Any], full: bool, reason: str) -> None:
    with pytest.raises(ActionRefused, match="rollout 'web' ") as err:
        plan_promote(rollout, full=full)
    assert reason in str(err.value)


def test_promote_of_unobserved_spec_waits_for_the_controller() -> None:
    rollout = ro(status=HEALTHY)
    rollout["metadata"]["generation"] = 3  # e.g. right after `set image`: the controller has not looked yet
    with pytest.raises(ActionRefused, match="has not observed yet"):
        plan_promote(rollout)
    rollout["spec"]["paused"] = True  # unpausing never depends on the step state
    assert list(plan_promote(rollout).patches) == [Patch({"spec": {"paused": False}})]


@pytest.mark.parametrize(("planner", "rollout", "patch"), [
    pytest.param(plan_abort, ro(status={"currentStepIndex": 1}),
                 Patch({"status": {"abort": True}}, subresource="status"), id="abort"),
    pytest.param(plan_retry, ro(status={"abort": True}),
                 Patch({"status": {"abort": False}}, subresource="status"), id="retry"),
    pytest.param(plan_pause, ro(), Patch({"spec": {"paused": True}}), id="pause"),
    pytest.param(plan_resume, ro(paused=True), Patch({"spec": {"paused": False}}), id="resume"),
])
def test_simple_actions(planner: Any, rollout: dict[str, Any], patch: Patch) -> None:
    assert plan_abort is not planner or patch.subresource == "status"
    assert list(planner(rollout).patches) == [patch]


@pytest.mark.parametrize(("planner", "rollout", "reason"), [
    pytest.param(plan_abort, ro(status={"abort": True}), "already aborted", id="abort-twice"),
    pytest.param(plan_abort, ro(status=HEALTHY), "no update in progress", id="abort-healthy"),
    pytest.param(plan_retry, ro(), "is not aborted", id="retry-not-aborted"),
    pytest.param(plan_pause, ro(paused=True), "already paused", id="pause-twice"),
    pytest.param(plan_resume, ro(), "is not paused", id="resume-not-paused"),
    pytest.param(plan_resume, ro(status={"pauseConditions": [{"reason": "CanaryPauseStep"}]}),
                 "use 'kubectl rollouts promote web'", id="resume-step-pause"),
])
def test_senseless_actions_refused(planner: Any, rollout: dict[str, Any], reason: str) -> None:
    with pytest.raises(ActionRefused, match=reason):
        planner(rollout)


def test_restart_sets_restart_at_in_utc_seconds() -> None:
    plan = plan_restart(ro(), at=datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC))
    assert list(plan.patches) == [Patch({"spec": {"restartAt": "2026-03-04T05:06:07Z"}})]


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
    ("=nginx", "container name before '=' is empty"),
    ("web=", "image after '=' is empty"),
    ("web=Nginx:1", "repository names must be lower-case"),
    ("web=nginx:1 2", "not a valid image reference"),
    ("web=nginx::1", "not a valid image reference"),
    ("Web=nginx", "not a valid container name"),
    ("web=nginx:" + "x" * 200, "not a valid image reference"),
], ids=["no-equals", "no-container", "no-image", "upper-case", "space", "double-colon", "bad-container",
        "tag-too-long"])
def test_parse_image_assignment_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="invalid image argument") as err:
        parse_image_assignment(text)
    assert reason in str(err.value)


TWO = [{"name": "web", "image": "web:1"}, {"name": "proxy", "image": "envoy:1"}]


def test_set_image_patch_guards_the_container_name() -> None:
    plan = plan_set_image(ro(containers=TWO), "proxy", "envoy:2")
    assert list(plan.patches) == [Patch([
        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "proxy"},
        {"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "envoy:2"},
    ], patch_type="json")]


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


def test_set_image_refusals() -> None:
    with pytest.raises(ActionRefused, match=r"no container named 'db' \(containers: web, proxy\)"):
        plan_set_image(ro(containers=TWO), "db", "pg:16")
    with pytest.raises(ActionRefused, match=r"Deployment 'web-deploy' \(spec.workloadRef\)"):
        plan_set_image(ro(workload_ref=True), "web", "web:2")
    same = plan_set_image(ro(), "web", "web:1")
    assert same.patches == () and "unchanged" in same.message


# --- undo ---------------------------------------------------------------------------------------


def history() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rollout = ro(containers=[{"name": "web", "image": "shop/checkout:3.0"}])
    rss = [scenarios.replicaset("web", h, revision=rev, image=f"shop/checkout:{rev}.0", replicas=1, ready=1, age=60)
           for h, rev in (("aaa", 1), ("bbb", 2), ("ccc", 3))]
    for r in rss:  # the API server defaults the ReplicaSet's copy of the template
        r["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
        r["spec"]["template"]["spec"]["dnsPolicy"] = "ClusterFirst"
    return rollout, rss


def test_undo_restores_previous_revision_without_hash_label() -> None:
    rollout, rss = history()
    plan = plan_undo(rollout, rss)
    (patch,) = plan.patches
    assert patch.patch_type == "json" and patch.subresource is None
    (op,) = patch.body
    assert op["op"] == "replace" and op["path"] == "/spec/template"
    assert op["value"]["spec"]["containers"][0]["image"] == "shop/checkout:2.0"
    assert "rollouts-pod-template-hash" not in op["value"]["metadata"]["labels"]
    assert op["value"]["metadata"]["labels"] == {"app": "web"}
    assert "revision 2" in plan.message


def test_undo_to_revision_and_refusals() -> None:
    rollout, rss = history()
    plan = plan_undo(rollout, rss, to_revision=1)
    assert plan.patches[0].body[0]["value"]["spec"]["containers"][0]["image"] == "shop/checkout:1.0"
    with pytest.raises(ActionRefused, match=r"has no revision 7 \(revisions in history: 3, 2, 1\)"):
        plan_undo(rollout, rss, to_revision=7)
    with pytest.raises(ActionRefused, match="already runs the template of revision 3"):
        plan_undo(rollout, rss, to_revision=3)  # defaults added by the API server do not count as a change
    with pytest.raises(ActionRefused, match="no earlier revision"):
        plan_undo(rollout, rss[:1])
    with pytest.raises(ActionRefused, match=r"spec\.workloadRef"):
        plan_undo(ro(workload_ref=True), rss)
