"""Prune planning, automated sync decisions, retries and history: the pure policy of a sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.api.application import (
    Application,
    ApplicationSource,
    Backoff,
    RetryStrategy,
    RevisionHistory,
    SyncStatusCode,
)
from rollouts.gitops.autosync import decide_auto_sync, self_heal_delay
from rollouts.gitops.operation import can_retry, next_history, retry_delay
from rollouts.gitops.prune import plan_prune
from rollouts.gitops.tracking import ResourceKey, key_of, owning_app, parse_tracking_id, tracking_id, with_tracking

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def key(kind: str, name: str) -> ResourceKey:
    return ResourceKey("apps" if kind == "Deployment" else "", kind, "ns", name)


def live(kind: str, name: str, **annotations: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1" if kind == "Deployment" else "v1", "kind": kind,
            "metadata": {"name": name, "namespace": "ns", "annotations": annotations}}


def test_prune_in_reverse_sync_order_and_respects_prune_false() -> None:
    owned = {key("ConfigMap", "a"): live("ConfigMap", "a"), key("ConfigMap", "b"): live("ConfigMap", "b"),
             key("Deployment", "c"): live("Deployment", "c"),
             key("Service", "keep"): live("Service", "keep", **{"argocd.argoproj.io/sync-options": "Prune=false"})}
    plan = plan_prune({key("ConfigMap", "a")}, owned, prune_enabled=True)
    assert plan.prune == (key("Deployment", "c"), key("ConfigMap", "b"))
    assert [k for k, _ in plan.skipped] == [key("Service", "keep")]


def test_prune_disabled_only_reports() -> None:
    plan = plan_prune(set(), {key("ConfigMap", "b"): live("ConfigMap", "b")}, prune_enabled=False)
    assert plan.prune == ()
    assert plan.skipped == ((key("ConfigMap", "b"), "ignored (requires pruning)"),)


def test_tracking_id_round_trip_and_copy_protection() -> None:
    obj = with_tracking(live("Deployment", "web"), "guestbook")
    value = obj["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"]
    assert value == "guestbook:apps/Deployment:ns/web"
    assert parse_tracking_id(value) == ("guestbook", key_of(obj))
    assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == "guestbook"
    assert owning_app(obj) == "guestbook"
    copied = {**obj, "metadata": {**obj["metadata"], "name": "copy"}}
    assert owning_app(copied) is None
    assert tracking_id("a", ResourceKey("", "Service", "", "s")) == "a:/Service:/s"


def app(automated: dict[str, Any] | None = None, status: dict[str, Any] | None = None,
        **extra: Any) -> Application:
    spec: dict[str, Any] = {"source": {"repoURL": "file:///r", "path": "p"}, "destination": {"namespace": "ns"}}
    if automated is not None:
        spec["syncPolicy"] = {"automated": automated, "syncOptions": ["PruneLast=true"],
                              "retry": {"limit": 2}}
    return Application.model_validate({"metadata": {"name": "a"}, "spec": spec, "status": status, **extra})


def op_state(phase: str, revision: str, *, attempts: int = 0, finished: datetime | None = None) -> dict[str, Any]:
    sync: dict[str, Any] = {"revision": revision}
    if attempts:
        sync["selfHealAttemptsCount"] = attempts
    return {"operationState": {"operation": {"sync": sync}, "phase": phase, "startedAt": "2024-05-01T11:00:00Z",
                               "finishedAt": (finished or NOW - timedelta(minutes=1)).strftime(
                                   "%Y-%m-%dT%H:%M:%SZ"), "message": "boom"}}


@pytest.mark.parametrize(
    ("application", "status", "starts", "reason"),
    [
        pytest.param(app(None), SyncStatusCode.OUT_OF_SYNC, False, "disabled", id="manual-app"),
        pytest.param(app({}), SyncStatusCode.SYNCED, False, "sync status is Synced", id="already-synced"),
        pytest.param(app({}), SyncStatusCode.OUT_OF_SYNC, True, "auto-sync to abc", id="out-of-sync"),
        pytest.param(app({}, operation={"sync": {}}), SyncStatusCode.OUT_OF_SYNC, False, "in progress",
                     id="operation-pending"),
        pytest.param(app({}, op_state("Failed", "abc")), SyncStatusCode.OUT_OF_SYNC, False,
                     "failed previous sync attempt to abc", id="failed-same-commit"),
        pytest.param(app({}, op_state("Failed", "old")), SyncStatusCode.OUT_OF_SYNC, True, "auto-sync",
                     id="failed-older-commit"),
        pytest.param(app({}, op_state("Succeeded", "abc")), SyncStatusCode.OUT_OF_SYNC, False,
                     "self-heal is disabled", id="drift-without-self-heal"),
        pytest.param(app({}, {"operationState": {**op_state("Succeeded", "")["operationState"],
                                                 "operation": {"sync": {}}, "syncResult": {"revision": "abc"}}}),
                     SyncStatusCode.OUT_OF_SYNC, False, "self-heal is disabled", id="manual-sync-synced-commit"),
        pytest.param(app({"selfHeal": True}, op_state("Succeeded", "abc")), SyncStatusCode.OUT_OF_SYNC, True,
                     "(self-heal)", id="self-heal"),
        pytest.param(app({"selfHeal": True}, op_state("Succeeded", "abc", attempts=3, finished=NOW)),
                     SyncStatusCode.OUT_OF_SYNC, False, "backing off", id="self-heal-backoff"),
        pytest.param(app({"selfHeal": True}, op_state("Succeeded", "abc", attempts=3,
                                                      finished=NOW - timedelta(seconds=30))),
                     SyncStatusCode.OUT_OF_SYNC, True, "(self-heal)", id="self-heal-after-cooldown"),
    ],
)
def test_auto_sync_decision(application: Application, status: SyncStatusCode, starts: bool, reason: str) -> None:
    decision = decide_auto_sync(application, sync_status=status, revision="abc", desired_count=2, owned_count=2,
                                now=NOW)
    assert (decision.operation is not None) is starts
    assert reason in decision.reason


def test_auto_sync_operation_carries_prune_options_retry_and_attempts() -> None:
    decision = decide_auto_sync(app({"prune": True, "selfHeal": True}, op_state(
        "Succeeded", "abc", attempts=1, finished=NOW - timedelta(seconds=2))),
                                sync_status=SyncStatusCode.OUT_OF_SYNC, revision="abc", desired_count=1,
                                owned_count=1, now=NOW)
    assert decision.operation == {
        "sync": {"revision": "abc", "prune": True, "syncOptions": ["PruneLast=true"], "selfHealAttemptsCount": 2},
        "initiatedBy": {"automated": True}, "retry": {"limit": 2}}


@pytest.mark.parametrize(("synced", "starts"), [
    pytest.param({"syncResult": {"revision": "", "revisions": ["abc", "1.2.0"]}}, False, id="same-revisions"),
    pytest.param({"syncResult": {"revision": "", "revisions": ["abc", "1.1.0"]}}, True, id="chart-moved-on"),
    pytest.param({"operation": {"sync": {"revisions": ["abc", "1.2.0"]}}}, False, id="operation-revisions"),
])
def test_multi_source_auto_sync_compares_and_requests_revisions(synced: dict[str, Any], starts: bool) -> None:
    state = op_state("Succeeded", "")["operationState"]
    multi = app({"prune": True}, {"operationState": {**state, **synced}})
    decision = decide_auto_sync(multi, sync_status=SyncStatusCode.OUT_OF_SYNC, revision="abc,1.2.0",
                                desired_count=1, owned_count=1, now=NOW, revisions=("abc", "1.2.0"))
    assert (decision.operation is not None) is starts, decision.reason
    if starts:
        assert decision.operation is not None and decision.operation["sync"]["revisions"] == ["abc", "1.2.0"]
        assert "revision" not in decision.operation["sync"]


def test_auto_sync_refuses_to_wipe_everything_unless_allow_empty() -> None:
    refused = decide_auto_sync(app({"prune": True}), sync_status=SyncStatusCode.OUT_OF_SYNC, revision="abc",
                               desired_count=0, owned_count=3, now=NOW)
    assert refused.operation is None and refused.error and "wipe out all resources" in refused.reason
    allowed = decide_auto_sync(app({"prune": True, "allowEmpty": True}), sync_status=SyncStatusCode.OUT_OF_SYNC,
                               revision="abc", desired_count=0, owned_count=3, now=NOW)
    assert allowed.operation is not None


@pytest.mark.parametrize(("attempts", "delay"), [(0, 0.0), (1, 1.0), (2, 2.0), (5, 16.0), (30, 300.0)])
def test_self_heal_delay(attempts: int, delay: float) -> None:
    assert self_heal_delay(attempts) == delay


@pytest.mark.parametrize(
    ("retry", "count", "allowed", "delay"),
    [
        pytest.param(None, 0, False, 5.0, id="no-policy"),
        pytest.param(RetryStrategy(limit=2), 1, True, 10.0, id="second-retry"),
        pytest.param(RetryStrategy(limit=2), 2, False, 20.0, id="exhausted"),
        pytest.param(RetryStrategy(limit=-1), 50, True, 180.0, id="unlimited-capped"),
        pytest.param(RetryStrategy(limit=3, backoff=Backoff(duration="1s", factor=3, max_duration="1m")), 2, True,
                     9.0, id="custom-backoff"),
    ],
)
def test_retry(retry: RetryStrategy | None, count: int, allowed: bool, delay: float) -> None:
    assert can_retry(retry, count) is allowed
    assert retry_delay(retry, count) == delay


def test_history_ids_grow_and_limit_applies() -> None:
    source = ApplicationSource(repo_url="file:///r", path="p")
    history = [RevisionHistory(id=i, revision=f"r{i}", deployed_at=NOW) for i in range(3)]
    out = next_history(history, revision="r3", source=source, deployed_at=NOW, started_at=None, initiated_by=None,
                       limit=2)
    assert [h["id"] for h in out] == [2, 3]
    assert out[-1]["revision"] == "r3" and out[-1]["deployedAt"] == "2024-05-01T12:00:00Z"
