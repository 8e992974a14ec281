from __future__ import annotations

from datetime import UTC, datetime

from rollouts.api.application import Application, HealthStatusCode
from rollouts.gitops.comparison import Comparison, ResourceState
from rollouts.gitops.diff import ResourceDiff
from rollouts.gitops.health import Health
from rollouts.gitops.status import apply_comparison, conditions_with_times, resource_statuses, started_at
from rollouts.gitops.tracking import ResourceKey

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
APP = Application.model_validate({"metadata": {"name": "a"}, "spec": {
    "source": {"repoURL": "file:///r", "path": "p"}, "destination": {"namespace": "ns"}}})


def comparison() -> Comparison:
    web = ResourceKey("apps", "Deployment", "ns", "web")
    old = ResourceKey("", "ConfigMap", "ns", "old")
    cfg = ResourceKey("", "ConfigMap", "ns", "cfg")
    return Comparison("abc", APP.spec.source, "Directory", [
        ResourceState(web, None, {"apiVersion": "apps/v1"}, {"apiVersion": "apps/v1"}, ResourceDiff(web, False),
                      Health(HealthStatusCode.PROGRESSING, "1 of 2 updated"), wave=2),
        ResourceState(old, None, None, {"apiVersion": "v1"}, ResourceDiff(old, True), None),
        ResourceState(cfg, None, {"apiVersion": "v1"}, None, ResourceDiff(cfg, True), Health(HealthStatusCode.MISSING)),
    ], [])


def test_resource_statuses_as_argo_cd_writes_them() -> None:
    assert resource_statuses(comparison()) == [
        {"group": "", "kind": "ConfigMap", "name": "cfg", "status": "OutOfSync", "version": "v1", "namespace": "ns",
         "health": {"status": "Missing"}},
        {"group": "", "kind": "ConfigMap", "name": "old", "status": "OutOfSync", "version": "v1", "namespace": "ns",
         "requiresPruning": True},
        {"group": "apps", "kind": "Deployment", "name": "web", "status": "Synced", "version": "v1",
         "namespace": "ns", "health": {"status": "Progressing", "message": "1 of 2 updated"}, "syncWave": 2},
    ]


def test_app_status_is_out_of_sync_and_health_as_argo_cd_aggregates_it() -> None:
    status: dict[str, object] = {}
    apply_comparison(status, APP, comparison())
    assert status["sync"] == {"status": "OutOfSync", "revision": "abc", "comparedTo": {
        "source": {"repoURL": "file:///r", "path": "p"}, "destination": {"namespace": "ns"}}}
    # Argo CD v3.6 controller/health.go: a resource not created yet does not make the app Missing (OutOfSync
    # says so); the message names the resources that caused the status.
    assert status["health"] == {"status": "Progressing", "message": "Caused by apps/Deployment:ns/web"}
    assert status["sourceType"] == "Directory"


def test_conditions_keep_their_transition_time_while_unchanged() -> None:
    earlier = [{"type": "ComparisonError", "message": "boom", "lastTransitionTime": "2024-01-01T00:00:00Z"}]
    kept = conditions_with_times(earlier, [("ComparisonError", "boom")], NOW)
    assert kept[0]["lastTransitionTime"] == "2024-01-01T00:00:00Z"
    changed = conditions_with_times(earlier, [("ComparisonError", "other")], NOW)
    assert changed[0]["lastTransitionTime"] == "2024-05-01T12:00:00Z"
    assert conditions_with_times(earlier, [], NOW) == []


def test_started_at() -> None:
    assert started_at({"startedAt": "2024-05-01T12:00:00Z"}) == NOW
    assert started_at({}) is None
