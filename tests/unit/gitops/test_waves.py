from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.application import HealthStatusCode as H
from rollouts.api.application import HookType
from rollouts.gitops.health import Health
from rollouts.gitops.waves import (
    HookDeletePolicy,
    SyncPhase,
    delete_policies,
    group_waves,
    is_ready_for_next_wave,
    parse_sync_options,
    sync_tasks,
    sync_wave,
)


def res(kind: str, name: str, *, api: str = "v1", **annotations: str) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "annotations": annotations}}


def test_order_is_phase_then_wave_then_kind_then_name() -> None:
    manifests = [
        res("Deployment", "b", api="apps/v1"),
        res("Deployment", "a", api="apps/v1"),
        res("Service", "svc"),
        res("Namespace", "ns"),
        res("Widget", "w", api="example.com/v1"),
        res("CustomResourceDefinition", "widgets.example.com", api="apiextensions.k8s.io/v1"),
        res("Rollout", "r", api="argoproj.io/v1alpha1", **{"argocd.argoproj.io/sync-wave": "-1"}),
        res("Job", "migrate", api="batch/v1", **{"argocd.argoproj.io/hook": "PreSync"}),
        res("Job", "smoke", api="batch/v1", **{"argocd.argoproj.io/hook": "PostSync"}),
        res("Job", "cleanup", api="batch/v1", **{"argocd.argoproj.io/hook": "SyncFail"}),
        res("ConfigMap", "skipped", **{"argocd.argoproj.io/hook": "Skip"}),
    ]
    order = [(t.phase.value, t.wave, t.key.name) for t in sync_tasks(manifests)]
    assert order == [
        ("PreSync", 0, "migrate"),
        ("Sync", -1, "r"),
        ("Sync", 0, "ns"),
        ("Sync", 0, "widgets.example.com"),
        ("Sync", 0, "svc"),
        ("Sync", 0, "a"),
        ("Sync", 0, "b"),
        ("Sync", 0, "w"),
        ("PostSync", 0, "smoke"),
        ("SyncFail", 0, "cleanup"),
    ]


def test_waves_group_consecutive_phase_and_wave_without_sync_fail() -> None:
    manifests = [res("ConfigMap", "a", **{"argocd.argoproj.io/sync-wave": "1"}), res("ConfigMap", "b"),
                 res("ConfigMap", "c", **{"argocd.argoproj.io/hook": "SyncFail"})]
    waves = group_waves(sync_tasks(manifests))
    assert [(w.phase, w.wave, [t.key.name for t in w.tasks]) for w in waves] == [
        (SyncPhase.SYNC, 0, ["b"]), (SyncPhase.SYNC, 1, ["a"])]


def test_hook_with_two_types_runs_in_both_phases() -> None:
    tasks = sync_tasks([res("Pod", "p", **{"argocd.argoproj.io/hook": "PreSync,PostSync"})])
    assert [t.hook_type for t in tasks] == [HookType.PRE_SYNC, HookType.POST_SYNC]


@pytest.mark.parametrize(("value", "message"), [("soon", "not an integer"), ("1.5", "not an integer")])
def test_bad_wave_is_an_error_naming_the_resource(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"ConfigMap/x: .*{message}"):
        sync_wave(res("ConfigMap", "x", **{"argocd.argoproj.io/sync-wave": value}))


def test_unknown_hook_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown hook type 'Later'"):
        sync_tasks([res("Pod", "p", **{"argocd.argoproj.io/hook": "Later"})])


def test_delete_policy_defaults_to_before_hook_creation() -> None:
    assert delete_policies(res("Pod", "p")) == {HookDeletePolicy.BEFORE_HOOK_CREATION}
    both = res("Pod", "p", **{"argocd.argoproj.io/hook-delete-policy": "HookSucceeded,HookFailed"})
    assert delete_policies(both) == {HookDeletePolicy.HOOK_SUCCEEDED, HookDeletePolicy.HOOK_FAILED}


def test_parse_sync_options() -> None:
    assert parse_sync_options(["CreateNamespace=true", " PruneLast = true ", ""]) == {
        "CreateNamespace": "true", "PruneLast": "true"}


PAUSED_ROLLOUT = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"},
                  "status": {"phase": "Paused", "pauseConditions": [{"reason": "CanaryPauseStep"}]}}


@pytest.mark.parametrize(
    ("health", "live", "paused_ok", "ready"),
    [
        pytest.param(Health(H.HEALTHY), {}, False, True, id="healthy"),
        pytest.param(None, {"kind": "ConfigMap"}, False, True, id="no-health-check-exists"),
        pytest.param(None, None, False, False, id="no-health-check-missing"),
        pytest.param(Health(H.PROGRESSING), {}, True, False, id="progressing"),
        pytest.param(Health(H.SUSPENDED), PAUSED_ROLLOUT, False, False, id="paused-rollout-default"),
        pytest.param(Health(H.SUSPENDED), PAUSED_ROLLOUT, True, True, id="paused-rollout-option"),
        pytest.param(Health(H.SUSPENDED), {**PAUSED_ROLLOUT, "metadata": {"name": "r", "annotations": {
            "rollouts.argoproj.io/wave-ready-when-paused": "true"}}}, False, True, id="paused-rollout-annotation"),
    ],
)
def test_ready_for_next_wave(health: Health | None, live: dict[str, Any] | None, paused_ok: bool,
                             ready: bool) -> None:
    assert is_ready_for_next_wave(health, live, paused_is_ready=paused_ok) is ready


# gitops-engine pkg/sync/sync_tasks_test.go (argo-cd v3.6.1's gitops-engine), as data.
def task_names(manifests: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(t.phase.value, t.wave, f"{t.key.kind}/{t.key.name}") for t in sync_tasks(manifests)]


def test_kind_order_is_gitops_engines() -> None:
    # Test_syncTasks_kindOrder: Namespace first (-35), APIService last of the known kinds (-1), others after.
    from rollouts.gitops.waves import KIND_ORDER, kind_rank

    assert len(KIND_ORDER) == 35 and KIND_ORDER[0] == "Namespace" and KIND_ORDER[-1] == "APIService"
    assert kind_rank("Namespace") < kind_rank("APIService") < kind_rank("MyCRD")


def test_namespace_before_a_custom_resource() -> None:
    # TestSyncNamespaceAgainstCRD
    assert task_names([res("Workflow", "w", api="argoproj.io/v1alpha1"), res("Namespace", "n")]) == [
        ("Sync", 0, "Namespace/n"), ("Sync", 0, "Workflow/w")]


def test_two_unknown_kinds_tie_on_kind_and_sort_by_name() -> None:
    # syncTasks.Less: kindOrder of an unknown kind is 0 for all, so the name decides.
    assert task_names([res("Widget", "b", api="x.io/v1"), res("Gadget", "c", api="x.io/v1"),
                       res("Widget", "a", api="x.io/v1")]) == [
        ("Sync", 0, "Widget/a"), ("Sync", 0, "Widget/b"), ("Sync", 0, "Gadget/c")]


def test_namespace_moves_before_the_first_object_in_it_with_its_phase_and_wave() -> None:
    # TestSyncTasksSort_NamespaceAndObjectInNamespace
    def job(name: str, namespace: str) -> dict[str, Any]:
        obj = res("Job", name, api="batch/v1", **{"argocd.argoproj.io/hook": "PreSync"})
        obj["metadata"]["namespace"] = namespace
        return obj

    manifests = [job("mySyncHookJob1", "myNamespace1"), job("mySyncHookJob2", "myNamespace2"),
                 res("Namespace", "myNamespace1", **{"argocd.argoproj.io/sync-wave": "1"}),
                 res("Namespace", "myNamespace2", **{"argocd.argoproj.io/sync-wave": "2"})]
    assert task_names(manifests) == [
        ("PreSync", 0, "Namespace/myNamespace1"), ("PreSync", 0, "Job/mySyncHookJob1"),
        ("PreSync", 0, "Namespace/myNamespace2"), ("PreSync", 0, "Job/mySyncHookJob2")]


def test_crd_moves_before_its_custom_resources() -> None:
    # TestSyncTasksSort_CRDAndCR
    cr = res("Workflow", "w", api="argoproj.io/v1", **{"argocd.argoproj.io/hook": "PreSync"})
    crd = res("CustomResourceDefinition", "workflows.argoproj.io", api="apiextensions.k8s.io/v1")
    crd["spec"] = {"group": "argoproj.io", "names": {"kind": "Workflow"}}
    assert task_names([cr, crd]) == [("PreSync", 0, "CustomResourceDefinition/workflows.argoproj.io"),
                                     ("PreSync", 0, "Workflow/w")]


def test_sort_sync_task_phases_waves_kinds_names() -> None:
    # TestSortSyncTask: PreSync, then Sync wave -1, then wave 0 by kind (ConfigMap, PersistentVolume, Service,
    # Pod, an unknown kind) and name, then wave 1, then PostSync, then SyncFail.
    manifests = [
        res("Pod", "pod"), res("Service", "svc"), res("ConfigMap", "cm", **{"argocd.argoproj.io/sync-wave": "1"}),
        res("PersistentVolume", "pv"), res("ConfigMap", "cm0"), res("Thing", "b", api="x.io/v1"),
        res("Thing", "a", api="x.io/v1"), res("Pod", "early", **{"argocd.argoproj.io/sync-wave": "-1"}),
        res("Pod", "post", **{"argocd.argoproj.io/hook": "PostSync"}),
        res("Pod", "fail", **{"argocd.argoproj.io/hook": "SyncFail"}),
        res("Pod", "pre", **{"argocd.argoproj.io/hook": "PreSync"}),
    ]
    assert task_names(manifests) == [
        ("PreSync", 0, "Pod/pre"), ("Sync", -1, "Pod/early"), ("Sync", 0, "ConfigMap/cm0"),
        ("Sync", 0, "PersistentVolume/pv"), ("Sync", 0, "Service/svc"), ("Sync", 0, "Pod/pod"),
        ("Sync", 0, "Thing/a"), ("Sync", 0, "Thing/b"), ("Sync", 1, "ConfigMap/cm"), ("PostSync", 0, "Pod/post"),
        ("SyncFail", 0, "Pod/fail")]
