"""The sync planner by tables: which actions one step of an operation asks for, and what the step ends as.

These transitions were reachable only through the integration tests before the planner was pure: waves and
their health gates, hooks in phases, prune ordering and PruneLast, CreateNamespace, ApplyOutOfSyncOnly,
partial syncs, retries and the SyncFail hooks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.api.application import Application, HealthStatusCode
from rollouts.gitops.comparison import Comparison, ComparisonError, ResourceState, SpecError
from rollouts.gitops.diff import ResourceDiff
from rollouts.gitops.health import resource_health
from rollouts.gitops.hooks import hook_name
from rollouts.gitops.sync import (
    ApplyWave,
    CreateNamespace,
    DeleteHooks,
    Failed,
    Progressing,
    Prune,
    Report,
    RunHooks,
    Succeeded,
    SyncObservation,
    SyncStepPlan,
    begin_operation,
    conclude_step,
    plan_sync_step,
    readiness_targets,
    sync_context,
)
from rollouts.gitops.tracking import ResourceKey, key_of
from rollouts.gitops.waves import HookDeletePolicy, SyncPhase

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NS = "ns"
WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"


def cm(name: str, wave: int = 0, **annotations: str) -> dict[str, Any]:
    if wave:
        annotations[WAVE] = str(wave)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS,
                                                                  "annotations": annotations}}


def deploy(name: str, wave: int = 0) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
        "name": name, "namespace": NS, "annotations": {WAVE: str(wave)} if wave else {}}}


def job(name: str, hook: str, **annotations: str) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {
        "name": name, "namespace": NS, "annotations": {HOOK: hook, **annotations}}}


HEALTHY_DEPLOY = {"metadata": {"generation": 1}, "spec": {"replicas": 1},
                  "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}}
ROLLING_DEPLOY = {"metadata": {"generation": 2}, "spec": {"replicas": 1}, "status": {"observedGeneration": 1}}
JOB_RUNNING: dict[str, Any] = {"status": {"active": 1}}
JOB_DONE = {"status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}}
JOB_FAILED = {"status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "message": "boom"}]}}


def live_of(manifest: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
    body = body or {}
    return {**manifest, **body, "metadata": {**manifest["metadata"], **body.get("metadata", {})}}


def comparison(desired: list[dict[str, Any]], *, extra: list[dict[str, Any]] = (),  # type: ignore[assignment]
               hooks: list[dict[str, Any]] = (), in_sync: tuple[str, ...] = ()) -> Comparison[str]:  # type: ignore[assignment]
    resources: list[ResourceState[str]] = []
    for obj in desired:
        key = key_of(obj)
        resources.append(ResourceState(key, obj["kind"], obj, None, ResourceDiff(key, key.name not in in_sync),
                                       None))
    for obj in extra:
        key = key_of(obj)
        resources.append(ResourceState(key, obj["kind"], None, obj, ResourceDiff(key, True), None))
    return Comparison("abc123", APP_SOURCE, "Directory", resources, [(h["kind"], h) for h in hooks],
                      {r.key: r.kind for r in resources if r.kind})


APP_SOURCE = Application.model_validate({"metadata": {"name": "a"}, "spec": {
    "source": {"repoURL": "file:///r", "path": "p"}, "destination": {"namespace": NS}}}).spec.source


def app(*, prune: bool = False, options: tuple[str, ...] = (), retry: int = 0, dry_run: bool = False,
        resources: list[dict[str, str]] | None = None, policy_options: tuple[str, ...] = ()) -> Application:
    sync: dict[str, Any] = {"revision": "abc123", "prune": prune}
    if options:
        sync["syncOptions"] = list(options)
    if dry_run:
        sync["dryRun"] = True
    if resources is not None:
        sync["resources"] = resources
    operation: dict[str, Any] = {"sync": sync}
    if retry:
        operation["retry"] = {"limit": retry}
    spec: dict[str, Any] = {"source": {"repoURL": "file:///r", "path": "p"}, "destination": {"namespace": NS}}
    if policy_options:
        spec["syncPolicy"] = {"syncOptions": list(policy_options)}
    return Application.model_validate({"metadata": {"name": "a"}, "spec": spec, "operation": operation})


def started(application: Application) -> dict[str, Any]:
    assert application.operation is not None
    state, waiting = begin_operation(application, application.operation, NOW)
    assert state is not None and waiting is None
    return state


def record(obj: dict[str, Any], *, phase: str = "Sync", **fields: Any) -> dict[str, Any]:
    key = key_of(obj)
    return {"group": key.group, "version": "v1", "kind": key.kind, "namespace": key.namespace, "name": key.name,
            "syncPhase": phase, "status": "Synced", **fields}


def with_records(state: dict[str, Any], *records: dict[str, Any]) -> dict[str, Any]:
    return {**state, "syncResult": {"revision": "abc123", "resources": list(records)}}


def plan(application: Application, comp: Comparison[str] | ComparisonError, state: dict[str, Any],
         observed: SyncObservation | None = None) -> SyncStepPlan:
    return plan_sync_step(application, comp, state, observed or SyncObservation())


def keys(*objs: dict[str, Any]) -> tuple[ResourceKey, ...]:
    return tuple(key_of(o) for o in objs)


def applied(result: SyncStepPlan) -> list[str]:
    waves = [a for a in result.actions if isinstance(a, ApplyWave)]
    return [t.key.name for w in waves for t in w.tasks]


# -- waves ---------------------------------------------------------------------------------------------------


def test_first_step_applies_wave_zero_only() -> None:
    a, comp = app(), comparison([cm("late", 1), cm("first"), deploy("web")])
    result = plan(a, comp, started(a))
    assert applied(result) == ["first", "web"]  # kind order inside the wave: ConfigMap before Deployment
    assert result.outcome == Progressing(None, 0.2)


@pytest.mark.parametrize(
    ("live", "outcome"),
    [
        pytest.param(HEALTHY_DEPLOY, "apply-next", id="healthy-lets-the-next-wave-start"),
        pytest.param(ROLLING_DEPLOY, "wait", id="progressing-blocks-the-next-wave"),
        pytest.param(None, "wait", id="missing-blocks-the-next-wave"),
    ],
)
def test_a_wave_waits_for_the_health_of_the_previous_one(live: dict[str, Any] | None, outcome: str) -> None:
    web, late = deploy("web"), cm("late", 1)
    a, comp = app(), comparison([web, late])
    state = with_records(started(a), record(web))
    observed = SyncObservation(live={key_of(web): live_of(web, live) if live is not None else None})
    result = plan(a, comp, state, observed)
    if outcome == "apply-next":
        assert applied(result) == ["late"]
    else:
        assert applied(result) == [] and isinstance(result.outcome, Progressing)
        assert result.outcome.message is not None and result.outcome.requeue == 1.0
        assert result.outcome.message.startswith("waiting for healthy state of apps/Deployment/ns/web")
        assert result.outcome.message.endswith("(Sync wave 0)")


def test_the_last_wave_is_not_waited_for() -> None:
    web = deploy("web")
    a, comp = app(), comparison([web])
    result = plan(a, comp, with_records(started(a), record(web)),
                  SyncObservation(live={key_of(web): live_of(web, ROLLING_DEPLOY)}))
    assert isinstance(result.outcome, Succeeded) and result.outcome.message == "successfully synced (all tasks run)"
    assert result.actions == (DeleteHooks(HookDeletePolicy.HOOK_SUCCEEDED),)


def test_readiness_targets_are_the_recorded_objects_that_gate_a_later_wave() -> None:
    web, late, pre = deploy("web"), cm("late", 1), job("migrate", "PreSync")
    a = app()
    comp = comparison([web, late], hooks=[pre])
    state = started(a)
    name = hook_name(sync_context(a, comp).tasks[0], state)
    state = with_records(state, record(pre, phase="PreSync", name=name, hookPhase="Running"), record(web))
    targets = [(t.key.name, k.name) for t, k in readiness_targets(sync_context(a, comp), state)]
    assert targets == [("migrate", name), ("web", "web")]  # not "late": nothing of its wave was applied


# -- hooks -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        pytest.param(JOB_RUNNING, "wait", id="running-hook-waits"),
        pytest.param(JOB_DONE, "next", id="completed-hook-lets-the-sync-phase-start"),
        pytest.param(JOB_FAILED, "fail", id="failed-hook-fails-the-sync"),
        pytest.param(None, "deleted", id="deleted-hook-fails-the-sync"),
    ],
)
def test_pre_sync_hook_gates_the_sync_phase(live: dict[str, Any] | None, expected: str) -> None:
    pre, main = job("migrate", "PreSync"), cm("main")
    a = app()
    comp = comparison([main], hooks=[pre])
    state = with_records(started(a), record(pre, phase="PreSync", hookType="PreSync", hookPhase="Running"))
    observed = SyncObservation(live={key_of(pre): live_of(pre, live) if live is not None else None})
    result = plan(a, comp, state, observed)
    rec = result.state["syncResult"]["resources"][0]
    if expected == "wait":
        assert isinstance(result.outcome, Progressing) and "Job/migrate" in (result.outcome.message or "")
    elif expected == "next":
        assert applied(result) == ["main"] and rec["hookPhase"] == "Succeeded"
    elif expected == "fail":
        assert result.outcome == Failed("PreSync hook Job/migrate failed: boom") and rec["hookPhase"] == "Failed"
    else:
        assert result.outcome == Failed("hook Job/migrate was deleted before it completed")
    assert state["syncResult"]["resources"][0]["hookPhase"] == "Running", "the planner must not edit its input"


def test_hooks_run_in_phase_order_and_sync_fail_hooks_only_on_failure() -> None:
    pre, post, fail = job("pre", "PreSync"), job("post", "PostSync"), job("cleanup", "SyncFail")
    a = app()
    comp = comparison([cm("main")], hooks=[post, fail, pre])
    result = plan(a, comp, started(a))
    assert applied(result) == ["pre"]
    assert [t.key.name for t in result.sync_fail_hooks] == ["cleanup"]


def test_generate_name_hook_gets_a_name_fixed_for_the_attempt() -> None:
    hook = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "smoke-", "namespace": NS,
                                                                   "annotations": {HOOK: "PostSync"}}}
    a = app()
    comp = comparison([cm("main")], hooks=[hook])
    task = sync_context(a, comp).tasks[-1]
    first = hook_name(task, {"startedAt": "2024-05-01T12:00:00Z"})
    assert first.startswith("smoke-") and len(first) == len("smoke-") + 5
    assert hook_name(task, {"startedAt": "2024-05-01T12:00:00Z"}) == first
    assert hook_name(task, {"startedAt": "2024-05-01T12:05:00Z"}) != first


# -- prune -------------------------------------------------------------------------------------------------


def test_prune_runs_after_the_last_wave_in_reverse_sync_order() -> None:
    keep, old_cm, old_deploy = cm("keep"), cm("old-cm"), deploy("old-web")
    a = app(prune=True)
    comp = comparison([keep], extra=[old_cm, old_deploy])
    result = plan(a, comp, with_records(started(a), record(keep)))
    assert result.actions[0] == Prune(keys(old_deploy, old_cm))  # a Deployment goes before a ConfigMap
    assert isinstance(result.outcome, Succeeded)


def test_prune_disabled_reports_what_requires_pruning() -> None:
    keep = cm("keep")
    a = app(prune=False)
    result = plan(a, comparison([keep], extra=[cm("old")]), with_records(started(a), record(keep)))
    assert not any(isinstance(x, Prune) for x in result.actions)
    assert result.outcome == Succeeded("successfully synced (all tasks run); 1 resource(s) require pruning")


@pytest.mark.parametrize(("prune_last", "before_post_sync"), [(False, True), (True, False)],
                         ids=["prunes-before-post-sync", "prune-last-prunes-after-post-sync"])
def test_prune_last(prune_last: bool, before_post_sync: bool) -> None:
    main, post, old = cm("main"), job("post", "PostSync"), cm("old")
    a = app(prune=True, options=("PruneLast=true",) if prune_last else ())
    comp = comparison([main], extra=[old], hooks=[post])
    result = plan(a, comp, with_records(started(a), record(main)), SyncObservation(live={key_of(main): main}))
    assert (result.actions[0] == Prune(keys(old))) is before_post_sync
    assert applied(result) == ["post"]
    assert any(isinstance(x, Prune) for x in result.actions) is before_post_sync


def test_an_object_is_pruned_once_even_when_two_prune_points_fall_in_one_step() -> None:
    main, post, old = cm("main"), job("post", "PostSync"), cm("old")
    a = app(prune=True)
    comp = comparison([main], extra=[old], hooks=[post])
    state = started(a)
    hook = hook_name(sync_context(a, comp).tasks[-1], state)
    state = with_records(state, record(main), record(post, phase="PostSync", name=hook, hookType="PostSync",
                                                     hookPhase="Succeeded"))
    result = plan(a, comp, state, SyncObservation(live={key_of(main): main}))
    assert [x for x in result.actions if isinstance(x, Prune)] == [Prune(keys(old))]


def test_already_pruned_objects_are_not_pruned_again() -> None:
    main, old = cm("main"), cm("old")
    a = app(prune=True)
    state = with_records(started(a), record(main), record(old, status="Pruned", message="pruned"))
    result = plan(a, comparison([main], extra=[old]), state)
    assert not any(isinstance(x, Prune) for x in result.actions)


# -- options and shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exists", "error", "options", "expected"),
    [
        pytest.param(True, None, (), None, id="exists"),
        pytest.param(False, None, (), "namespace 'ns' does not exist: create it or add the sync option "
                     "CreateNamespace=true", id="missing"),
        pytest.param(False, None, ("CreateNamespace=true",), CreateNamespace(NS), id="created-with-the-option"),
        pytest.param(False, "forbidden: cannot get namespaces", (), "forbidden: cannot get namespaces",
                     id="unreadable"),
    ],
)
def test_destination_namespace(exists: bool, error: str | None, options: tuple[str, ...], expected: Any) -> None:
    a = app(options=options)
    result = plan(a, comparison([cm("x")]), started(a), SyncObservation(namespace_exists=exists,
                                                                        namespace_error=error))
    if expected is None:
        assert not any(isinstance(x, CreateNamespace) for x in result.actions)
    elif isinstance(expected, CreateNamespace):
        assert result.actions[0] == expected and applied(result) == ["x"]
    else:
        assert result.outcome == Failed(expected) and result.actions == ()


def test_a_namespace_in_git_is_applied_first_without_create_namespace() -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    a = app()
    result = plan(a, comparison([cm("x"), namespace]), started(a), SyncObservation(namespace_exists=False))
    assert applied(result) == [NS, "x"], "gitops-engine's kind order puts the Namespace first"
    assert not any(isinstance(x, CreateNamespace) for x in result.actions)
    assert result.outcome == Progressing(None, 0.2)


def test_create_namespace_from_the_sync_policy_options_too() -> None:
    a = app(policy_options=("CreateNamespace=true",))
    result = plan(a, comparison([cm("x")]), started(a), SyncObservation(namespace_exists=False))
    assert result.actions[0] == CreateNamespace(NS)


def test_apply_out_of_sync_only_marks_unchanged_objects() -> None:
    a = app(options=("ApplyOutOfSyncOnly=true",))
    result = plan(a, comparison([cm("same"), cm("changed")], in_sync=("same",)), started(a))
    (wave,) = [x for x in result.actions if isinstance(x, ApplyWave)]
    assert [t.key.name for t in wave.tasks] == ["changed", "same"]
    assert wave.unchanged == frozenset(keys(cm("same")))


def test_partial_sync_applies_only_the_named_resources_and_no_hooks() -> None:
    a = app(resources=[{"kind": "ConfigMap", "name": "b"}])
    result = plan(a, comparison([cm("a"), cm("b")], hooks=[job("pre", "PreSync")]), started(a))
    assert applied(result) == ["b"]


def test_dry_run_applies_nothing() -> None:
    a = app(dry_run=True)
    result = plan(a, comparison([cm("a")]), started(a))
    assert result.actions == () and result.outcome == Succeeded("successfully synced (dry run: nothing applied)")


@pytest.mark.parametrize("error", [ComparisonError("repo down"), SpecError("spec.source.chart 'x': ...")],
                         ids=["comparison-error", "invalid-spec"])
def test_no_comparison_fails_without_sync_fail_hooks(error: ComparisonError) -> None:
    a = app()
    result = plan(a, error, started(a))
    assert result.outcome == Failed(f"{error.condition}: {error}", run_sync_fail_hooks=False)


def test_paused_rollout_is_ready_for_the_next_wave_with_wave_ready_when_paused() -> None:
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r", "namespace": NS}}
    paused = live_of(rollout, {"status": {"phase": "Paused", "pauseConditions": [{"reason": "CanaryPauseStep"}]}})
    assert resource_health(paused) is not None and resource_health(paused).status is HealthStatusCode.SUSPENDED  # type: ignore[union-attr]
    for options, ready in (((), False), (("WaveReadyWhenPaused=true",), True)):
        a = app(options=options)
        result = plan(a, comparison([rollout, cm("after", 1)]), with_records(started(a), record(rollout)),
                      SyncObservation(live={key_of(rollout): paused}))
        assert (applied(result) == ["after"]) is ready


# -- conclude ----------------------------------------------------------------------------------------------


def test_after_applying_the_step_reports_what_was_applied() -> None:
    a = app()
    result = plan(a, comparison([cm("a")]), started(a))
    assert a.operation is not None
    step, more = conclude_step(result, Report(note="applied ConfigMap/ns/a"), a.operation, now=NOW)
    assert not step.done and step.requeue == 0.2 and step.state["message"] == "applied ConfigMap/ns/a"
    assert more == ()


def test_an_object_that_failed_to_apply_fails_the_step_and_runs_sync_fail_hooks() -> None:
    a = app()
    result = plan(a, comparison([cm("a")], hooks=[job("cleanup", "SyncFail")]), started(a))
    assert a.operation is not None
    result.state["syncResult"]["resources"].append(record(cm("a"), status="SyncFailed", message="denied"))
    step, more = conclude_step(result, Report(note="applied"), a.operation, now=NOW)
    assert step.done and step.state["phase"] == "Failed"
    assert step.state["message"] == "one or more objects failed to apply: ConfigMap/a: denied"
    assert [type(x) for x in more] == [RunHooks, DeleteHooks]
    assert more[1] == DeleteHooks(HookDeletePolicy.HOOK_FAILED)
    assert [t.key.name for t in more[0].tasks] == ["cleanup"]  # type: ignore[union-attr]


def test_a_failed_action_with_a_retry_policy_retries_after_the_backoff() -> None:
    a = app(retry=3)
    result = plan(a, comparison([cm("a")]), started(a))
    assert a.operation is not None
    step, more = conclude_step(result, Report(failure="failed to prune ConfigMap/ns/old: denied"), a.operation,
                               now=NOW)
    assert not step.done and step.requeue == 5.0 and more == ()
    assert step.state["message"] == "Retrying attempt #1 in 5s: failed to prune ConfigMap/ns/old: denied"
    assert step.state["startedAt"] == "2024-05-01T12:00:05Z" and "syncResult" not in step.state


def test_success_carries_the_synced_revision_for_history() -> None:
    main = cm("main")
    a = app()
    result = plan(a, comparison([main]), with_records(started(a), record(main)))
    assert a.operation is not None
    step, _ = conclude_step(result, Report(), a.operation, now=NOW)
    assert step.done and step.succeeded and step.revision == "abc123" and step.source == APP_SOURCE
    assert step.state["finishedAt"] == "2024-05-01T12:00:00Z" and step.state["phase"] == "Succeeded"


def test_sync_fail_phase_is_never_a_wave() -> None:
    a = app()
    ctx = sync_context(a, comparison([cm("a")], hooks=[job("cleanup", "SyncFail")]))
    assert [w.phase for w in ctx.waves] == [SyncPhase.SYNC]


def test_a_kind_the_project_forbids_fails_the_sync_before_anything_is_applied() -> None:
    from rollouts.api.appproject import AppProjectSpec

    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}}
    project = AppProjectSpec.model_validate({"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": NS}]})
    a = app(options=("CreateNamespace=true",))
    result = plan_sync_step(a, comparison([cm("x"), role]), started(a), SyncObservation(namespace_exists=False),
                            project)
    assert result.actions == (), "not even the namespace is created"
    assert result.outcome == Failed("one or more synchronization tasks are not valid: ClusterRole/reader: resource "
                                    "rbac.authorization.k8s.io:ClusterRole is not permitted in project default")
    (rec,) = result.state["syncResult"]["resources"]
    assert rec["status"] == "SyncFailed" and rec["kind"] == "ClusterRole"


def test_fail_on_shared_resource_refuses_an_object_another_app_tracks() -> None:
    shared = cm("settings")
    theirs = live_of(shared, {"metadata": {"annotations": {
        "argocd.argoproj.io/tracking-id": "billing:/ConfigMap:ns/settings"}}})
    comp = comparison([shared])
    comp.resources[0].live = theirs
    for options, refused in (((), False), (("FailOnSharedResource=true",), True)):
        a = app(options=options)
        result = plan(a, comp, started(a))
        assert (result.outcome == Failed(
            "Shared resource found: ConfigMap/settings is part of applications a and billing")) is refused
        assert (applied(result) == ["settings"]) is not refused


def test_replace_and_force_options_from_the_app_or_the_resource() -> None:
    mine = cm("mine", **{"argocd.argoproj.io/sync-options": "Replace=true,Force=true"})
    plain, opted_out = cm("plain"), cm("opted-out", **{"argocd.argoproj.io/sync-options": "Replace=false"})
    a = app(options=("Replace=true",))
    (wave,) = [x for x in plan(a, comparison([mine, plain, opted_out]), started(a)).actions
               if isinstance(x, ApplyWave)]
    assert wave.replace == frozenset(keys(mine, plain)) and wave.force == frozenset(keys(mine))
