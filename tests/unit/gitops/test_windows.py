"""Sync windows as Argo CD decides them: schedule activity, which windows apply, CanSync.

Cases are Argo CD v3.4.0's, written as data from pkg/apis/application/v1alpha1/types_test.go
(TestSyncWindow_Active, TestSyncWindows_CanSync, TestSyncWindows_Matches[_AND_Operator]).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from rollouts.api.application import Application
from rollouts.api.appproject import SyncWindow
from rollouts.gitops.windows import can_sync, is_active, matching_windows, parse_schedule

TODAY = datetime(2024, 5, 1, tzinfo=UTC)


def window(kind: str = "allow", schedule: str = "* 10 * * *", duration: str = "2h", **fields: Any) -> SyncWindow:
    return SyncWindow.model_validate({"kind": kind, "schedule": schedule, "duration": duration,
                                      "applications": ["*"], **fields})


@pytest.mark.parametrize(
    ("kind", "hour", "zone", "active"),
    [("allow", 11, UTC, True), ("allow", 13, UTC, False), ("deny", 11, UTC, True), ("deny", 13, UTC, False),
     ("allow", 7, timezone(timedelta(hours=-4)), True), ("allow", 9, timezone(timedelta(hours=-4)), False)],
    ids=["allow-active", "allow-inactive", "deny-active", "deny-inactive", "allow-active-non-utc",
         "allow-inactive-non-utc"])
def test_window_active(kind: str, hour: int, zone: timezone, active: bool) -> None:
    # TestSyncWindow_Active: "* 10 * * *" for 2h is active at 11:00 UTC (07:00 at UTC-4), not at 13:00.
    assert is_active(window(kind), TODAY.replace(hour=hour, tzinfo=zone)) is active


@pytest.mark.parametrize(("schedule", "duration"), [("* 10 * * 7", "2h"), ("* 10 * * *", "2a"), ("@daily", "1h"),
                                                    ("61 * * * *", "1h")],
                         ids=["day-of-week-7", "bad-duration", "descriptor", "minute-out-of-range"])
def test_invalid_windows_are_errors(schedule: str, duration: str) -> None:
    with pytest.raises(ValueError):
        is_active(window(schedule=schedule, duration=duration), TODAY)


def test_schedule_syntax() -> None:
    friday_evening = parse_schedule("0 18-23/2 * * fri")
    assert friday_evening.matches(datetime(2024, 5, 3, 20, 0))
    assert not friday_evening.matches(datetime(2024, 5, 3, 19, 0))
    either = parse_schedule("0 0 1 * mon")  # day of month and day of week both set: either matches
    assert either.matches(datetime(2024, 5, 6)) and either.matches(datetime(2024, 5, 1))
    assert not either.matches(datetime(2024, 5, 2))


NOON = TODAY.replace(hour=11)
ACTIVE, INACTIVE = "* 10 * * *", "* 20 * * *"


def app(name: str = "web", namespace: str = "shop", server: str = "https://kubernetes.default.svc") -> Application:
    return Application.model_validate({"metadata": {"name": name}, "spec": {
        "source": {"repoURL": "file:///r"}, "destination": {"server": server, "namespace": namespace}}})


@pytest.mark.parametrize(
    ("windows", "manual", "allowed"),
    [
        ([window("deny", INACTIVE, manualSync=True)], True, True),
        ([window("deny", INACTIVE)], True, True),
        ([window("allow", INACTIVE)], True, False),
        ([window("allow", ACTIVE, manualSync=True)], True, True),
        ([window("allow", ACTIVE)], True, True),
        ([window("allow", ACTIVE)], False, True),
        ([window("allow", ACTIVE), window("deny", INACTIVE)], True, True),
        ([window("allow", INACTIVE)], False, False),
        ([window("allow", INACTIVE, manualSync=True)], True, True),
        ([window("allow", INACTIVE, manualSync=True)], False, False),
        ([window("allow", INACTIVE), window("deny", INACTIVE)], True, False),
        ([window("allow", ACTIVE), window("allow", INACTIVE)], False, True),
        ([window("deny", ACTIVE)], True, False),
        ([window("deny", ACTIVE)], False, False),
        ([window("deny", ACTIVE, manualSync=True)], True, True),
        ([window("deny", ACTIVE, manualSync=True)], False, False),
        ([window("deny", ACTIVE, manualSync=True), window("deny", ACTIVE)], True, False),
        ([window("deny", ACTIVE), window("allow", ACTIVE)], True, False),
        ([window("deny", ACTIVE, manualSync=True), window("allow", ACTIVE, manualSync=True)], True, True),
        ([window("deny", ACTIVE, manualSync=True), window("allow", ACTIVE, manualSync=True)], False, False),
        ([window("deny", "bad schedule")], False, False),
        ([], False, True),
    ],
)
def test_can_sync(windows: list[SyncWindow], manual: bool, allowed: bool) -> None:
    assert can_sync(windows, app(), manual=manual, now=NOON).allowed is allowed


def test_which_windows_apply() -> None:
    by_app = window(applications=["web*"])
    by_ns = window(applications=None, namespaces=["shop"])
    by_cluster = window(applications=None, clusters=["https://kubernetes.default.svc"])
    other = window(applications=["billing"])
    both = window(applications=["web"], namespaces=["payments"], andOperator=True)
    assert matching_windows([by_app, by_ns, by_cluster, other, both], app()) == [by_app, by_ns, by_cluster]
    assert matching_windows([both], app(namespace="payments")) == [both]
    assert can_sync([window("deny", ACTIVE, applications=["billing"])], app(), manual=False, now=NOON).allowed


def test_an_active_deny_window_holds_back_automated_and_manual_syncs() -> None:
    from rollouts.api.appproject import AppProjectSpec
    from rollouts.gitops.plan import PollTiming, plan_application
    from rollouts.gitops.sync import BLOCKED_BY_WINDOW, Progressing, SyncObservation, plan_sync_step
    from tests.unit.gitops.test_plan import application, comparison

    deny = window("deny", "* * * * *", "1h")
    auto = plan_application(application({}), comparison(), None, status={}, now=NOON,
                            poll=PollTiming(False, 170.0), sync_windows=[deny])
    assert auto.new_operation is None and auto.requeue == 60.0 and "conditions" not in auto.status
    free = plan_application(application({}), comparison(), None, status={}, now=NOON,
                            poll=PollTiming(False, 170.0), sync_windows=[window("deny", INACTIVE)])
    assert free.new_operation is not None

    manual = application(operation={"sync": {"revision": "abc"}, "initiatedBy": {"username": "me"}})
    state = {"phase": "Running", "message": "syncing", "startedAt": "2024-05-01T11:00:00Z"}
    for windows, blocked in (([deny], True), ([window("deny", "* * * * *", "1h", manualSync=True)], False)):
        step = plan_sync_step(manual, comparison(), state, SyncObservation(),
                              AppProjectSpec.model_validate({"syncWindows": [w.model_dump(by_alias=True)
                                                                             for w in windows]}), now=NOON)
        assert (step.outcome == Progressing(BLOCKED_BY_WINDOW, 10.0)) is blocked


# syncOverrun, from Argo CD's docs/user-guide/sync_windows.md "Transition Scenarios" (v3.6.1): deny 12:00-13:00,
# allow 10:00-12:00; a running sync started at `started`, asked again at 12:30.
DENY_NOON = "0 12 * * *"
ALLOW_MORNING = "0 10 * * *"


@pytest.mark.parametrize(
    ("windows", "started_hour", "allowed"),
    [
        pytest.param([window("deny", DENY_NOON, "1h", syncOverrun=True)], 11, True, id="no-window-to-deny-overrun"),
        pytest.param([window("deny", DENY_NOON, "1h")], 11, False, id="no-window-to-deny"),
        pytest.param([window("deny", DENY_NOON, "1h", syncOverrun=True)], 12, False, id="started-inside-deny"),
        pytest.param([window("allow", ALLOW_MORNING, "2h", syncOverrun=True),
                      window("deny", DENY_NOON, "1h", syncOverrun=True)], 11, True, id="allow-overrun-to-deny-overrun"),
        pytest.param([window("allow", ALLOW_MORNING, "2h", syncOverrun=True),
                      window("deny", DENY_NOON, "1h")], 11, False, id="allow-overrun-to-deny"),
        pytest.param([window("allow", ALLOW_MORNING, "2h"),
                      window("deny", DENY_NOON, "1h", syncOverrun=True)], 11, True, id="allow-to-deny-overrun"),
        pytest.param([window("allow", ALLOW_MORNING, "2h", syncOverrun=True)], 11, True, id="allow-overrun-ends"),
        pytest.param([window("allow", ALLOW_MORNING, "2h")], 11, False, id="allow-ends"),
        pytest.param([window("allow", ALLOW_MORNING, "2h", syncOverrun=True),
                      window("allow", "0 6 * * *", "1h")], 11, False, id="not-every-allow-overruns"),
        pytest.param([window("allow", ALLOW_MORNING, "2h", syncOverrun=True)], 9, False, id="started-before-allow"),
    ],
)
def test_sync_overrun(windows: list[SyncWindow], started_hour: int, allowed: bool) -> None:
    now = TODAY.replace(hour=12, minute=30)
    started = TODAY.replace(hour=started_hour, minute=30)
    assert can_sync(windows, app(), manual=False, now=now, started_at=started).allowed is allowed
    assert not can_sync(windows, app(), manual=False, now=now).allowed, "a new sync is never let through"
