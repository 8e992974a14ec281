"""The Application planner by tables: status, automated sync, operation bookkeeping and the requeue of a pass.

Before the planner was pure these decisions were reached only by the integration tests: auto-sync and its
refusals (allowEmpty, a failed commit), the self-heal backoff as a requeue, the step of a running operation
(history on success, clearing the operation), comparison and spec errors, the poll schedule with jitter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.api.application import Application, HealthStatusCode
from rollouts.gitops.comparison import Comparison, ComparisonError, ResourceState, SpecError
from rollouts.gitops.diff import ResourceDiff
from rollouts.gitops.health import Health
from rollouts.gitops.plan import ClearRefreshAnnotation, PollTiming, plan_application, plan_invalid_spec
from rollouts.gitops.refresh import PollSchedule
from rollouts.gitops.spec import parse_application
from rollouts.gitops.sync import SyncStep
from rollouts.gitops.tracking import ResourceKey

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
POLL = PollTiming(fetched=False, next_poll_in=170.0)
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def application(automated: dict[str, Any] | None = None, *, status: dict[str, Any] | None = None,
                operation: dict[str, Any] | None = None) -> Application:
    spec: dict[str, Any] = {"source": {"repoURL": "file:///r", "path": "p"}, "destination": {"namespace": "ns"}}
    if automated is not None:
        spec["syncPolicy"] = {"automated": automated}
    return Application.model_validate({"metadata": {"name": "a"}, "spec": spec, "status": status,
                                       "operation": operation})


def comparison(*, out_of_sync: bool = True, desired: int = 1, live: int = 1) -> Comparison[str]:
    resources: list[ResourceState[str]] = []
    for index in range(max(desired, live)):
        key = ResourceKey("", "ConfigMap", "ns", f"cm{index}")
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": key.name}}
        resources.append(ResourceState(key, "cm", obj if index < desired else None, obj if index < live else None,
                                       ResourceDiff(key, out_of_sync), Health(HealthStatusCode.HEALTHY)))
    return Comparison("abc", application().spec.source, "Directory", resources, [])


def last_sync(phase: str, revision: str = "abc", *, attempts: int = 0, finished: datetime) -> dict[str, Any]:
    sync: dict[str, Any] = {"revision": revision}
    if attempts:
        sync["selfHealAttemptsCount"] = attempts
    return {"operationState": {"operation": {"sync": sync}, "phase": phase, "startedAt": "2024-05-01T11:00:00Z",
                               "finishedAt": finished.strftime(STAMP), "message": "boom"}}


@pytest.mark.parametrize(
    ("app", "comp", "starts", "requeue", "condition"),
    [
        pytest.param(application(None), comparison(), False, 170.0, None, id="manual-app-waits-for-the-next-poll"),
        pytest.param(application({}), comparison(out_of_sync=False), False, 170.0, None, id="synced"),
        pytest.param(application({}), comparison(), True, 0.0, None, id="out-of-sync-starts-at-once"),
        pytest.param(application({"prune": True}), comparison(desired=0, live=3), False, 170.0,
                     "Skipping sync attempt to abc: auto-sync will wipe out all resources", id="refuses-to-wipe"),
        pytest.param(application({"prune": True, "allowEmpty": True}), comparison(desired=0, live=3), True, 0.0,
                     None, id="allow-empty-wipes"),
        pytest.param(application({}, status=last_sync("Failed", finished=NOW - timedelta(minutes=5))),
                     comparison(), False, 170.0, "Skipping auto-sync: failed previous sync attempt to abc: boom",
                     id="never-again-for-a-failed-commit"),
        pytest.param(application({"selfHeal": True}, status=last_sync("Succeeded", attempts=3, finished=NOW)),
                     comparison(), False, 4.0, None, id="self-heal-backoff-is-the-requeue"),
        pytest.param(application({"selfHeal": True}, status=last_sync("Succeeded", attempts=3,
                                                                      finished=NOW - timedelta(seconds=1))),
                     comparison(), False, 3.0, None, id="self-heal-backoff-counts-down"),
        pytest.param(application({"selfHeal": True}, status=last_sync("Succeeded", attempts=3,
                                                                      finished=NOW - timedelta(minutes=5))),
                     comparison(), True, 0.0, None, id="self-heal-after-the-cool-down"),
    ],
)
def test_auto_sync_decisions(app: Application, comp: Comparison[str], starts: bool, requeue: float,
                             condition: str | None) -> None:
    plan = plan_application(app, comp, None, status=(app.status.model_dump(by_alias=True, mode="json")
                                                     if app.status else {}), now=NOW, poll=POLL)
    assert (plan.new_operation is not None) is starts
    assert plan.requeue == requeue
    conditions = [(c["type"], c["message"]) for c in plan.status.get("conditions", [])]
    assert conditions == ([("SyncError", condition)] if condition else [])
    if starts:
        assert plan.new_operation is not None and plan.new_operation["initiatedBy"] == {"automated": True}


def test_self_heal_operation_counts_its_attempts() -> None:
    app = application({"selfHeal": True}, status=last_sync("Succeeded", attempts=1,
                                                           finished=NOW - timedelta(seconds=5)))
    plan = plan_application(app, comparison(), None, status={}, now=NOW, poll=POLL)
    assert plan.new_operation == {"sync": {"revision": "abc", "prune": False, "selfHealAttemptsCount": 2},
                                  "initiatedBy": {"automated": True}}


@pytest.mark.parametrize(
    ("error", "health"),
    [
        pytest.param(ComparisonError("repository file:///r is not reachable"), "Healthy", id="comparison-error"),
        pytest.param(SpecError("spec.source.chart 'nginx': a Helm chart repository is not supported"), "Unknown",
                     id="invalid-spec-error"),
    ],
)
def test_no_comparison_is_a_condition_and_no_auto_sync(error: ComparisonError, health: str) -> None:
    previous = {"sync": {"status": "Synced", "revision": "old"}, "health": {"status": "Healthy"}}
    plan = plan_application(application({}), error, None, status=previous, now=NOW, poll=POLL)
    assert plan.new_operation is None
    assert plan.status["sync"] == {"status": "Unknown", "revision": "old"}
    assert plan.status["health"] == {"status": health}
    assert plan.status["conditions"] == [{"type": error.condition.value, "message": str(error),
                                          "lastTransitionTime": "2024-05-01T12:00:00Z"}]


def test_conditions_keep_their_time_and_disappear_when_fixed() -> None:
    earlier = {"conditions": [{"type": "ComparisonError", "message": "down", "lastTransitionTime": "2024-01-01T00:00:00Z"}]}
    same = plan_application(application(), ComparisonError("down"), None, status=earlier, now=NOW, poll=POLL)
    assert same.status["conditions"][0]["lastTransitionTime"] == "2024-01-01T00:00:00Z"
    fixed = plan_application(application(), comparison(), None, status=earlier, now=NOW, poll=POLL)
    assert "conditions" not in fixed.status


RUNNING = SyncStep({"phase": "Running", "message": "waiting for healthy state of x"}, done=False, requeue=1.0)
DONE = SyncStep({"phase": "Succeeded", "startedAt": "2024-05-01T11:59:00Z", "message": "ok"}, done=True,
                requeue=None, succeeded=True, revision="abc", source=application().spec.source)
FAILED = SyncStep({"phase": "Failed", "message": "boom"}, done=True)


@pytest.mark.parametrize(
    ("step", "requeue", "clears", "history"),
    [
        pytest.param(RUNNING, 1.0, False, 0, id="running-step-requeues-sooner-than-the-poll"),
        pytest.param(SyncStep({"phase": "Running"}, done=False, requeue=600.0), 170.0, False, 0,
                     id="retry-backoff-longer-than-the-poll"),
        pytest.param(DONE, 0.1, True, 1, id="succeeded-clears-and-records-history"),
        pytest.param(FAILED, 0.1, True, 0, id="failed-clears-without-history"),
    ],
)
def test_operation_step_bookkeeping(step: SyncStep, requeue: float, clears: bool, history: int) -> None:
    app = application({}, operation={"sync": {"revision": "abc"}, "initiatedBy": {"username": "me"}})
    plan = plan_application(app, comparison(), step, status={}, now=NOW, poll=POLL)
    assert plan.status["operationState"] == step.state
    assert plan.requeue == requeue and plan.clear_operation is clears
    assert plan.new_operation is None, "no automated sync while an operation runs"
    assert len(plan.status.get("history", [])) == history
    if history:
        assert plan.status["history"][0] == {
            "id": 0, "revision": "abc", "deployedAt": "2024-05-01T12:00:00Z", "deployStartedAt": "2024-05-01T11:59:00Z",
            "source": {"repoURL": "file:///r", "path": "p"}, "initiatedBy": {"username": "me"}}


def test_reconciled_at_moves_only_when_git_was_read() -> None:
    stored = {"reconciledAt": "2024-05-01T11:00:00Z"}
    assert plan_application(application(), comparison(), None, status=stored, now=NOW,
                            poll=POLL).status["reconciledAt"] == "2024-05-01T11:00:00Z"
    fetched = PollTiming(fetched=True, next_poll_in=185.0, clear_refresh_annotation=True)
    plan = plan_application(application(), comparison(), None, status=stored, now=NOW, poll=fetched)
    assert plan.status["reconciledAt"] == "2024-05-01T12:00:00Z"
    assert plan.actions == (ClearRefreshAnnotation(),) and plan.requeue == 185.0


def test_unreadable_application_gets_an_invalid_spec_condition_only() -> None:
    app, problem = parse_application({"metadata": {"name": "a"}, "spec": {"destination": {}}})
    assert app is None and problem == "invalid Application spec: spec.source or spec.sources is required"
    plan = plan_invalid_spec({"sync": {"status": "Synced"}}, problem, NOW)
    assert plan.status == {"sync": {"status": "Synced"}, "conditions": [
        {"type": "InvalidSpecError", "message": problem, "lastTransitionTime": "2024-05-01T12:00:00Z"}]}
    assert plan.requeue is None and plan.new_operation is None


def test_multi_source_is_read_in_order_and_ref_only_sources_render_nothing() -> None:
    app, problem = parse_application({"metadata": {"name": "a"}, "spec": {
        "sources": [{"repoURL": "file:///values", "ref": "values"},
                    {"repoURL": "https://charts.example.com", "chart": "web", "targetRevision": "^1",
                     "helm": {"valueFiles": ["$values/prod.yaml"]}},
                    {"repoURL": "file:///r", "path": "."}], "destination": {}}})
    assert app is not None and problem == ""
    assert app.spec.has_multiple_sources and app.spec.source is None
    assert [s.renders_nothing() for s in app.spec.source_list()] == [True, False, False]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_poll_schedule_with_injected_clock_and_jitter() -> None:
    clock = Clock()
    polls = PollSchedule(180.0, 0.1, monotonic=clock, rand=lambda: 0.5)
    first = polls.decide("a", None)
    assert first.fetch and first.newer_than == 1000.0 - 45.0  # never polled: due; a shared fetch may be 45 s old
    assert polls.next_poll_in("a", fetched=True) == pytest.approx(189.0)  # 180 * (1 + 0.5 * 0.1)
    clock.now += 100
    assert not polls.decide("a", None).fetch
    assert polls.next_poll_in("a", fetched=False) == pytest.approx(89.0)
    clock.now += 89.0
    assert polls.decide("a", None).fetch
    assert polls.next_poll_in("a", fetched=False) == 0.5, "an overdue poll still waits the minimum requeue"


def test_refreshes_need_a_fetch_newer_than_the_request() -> None:
    clock = Clock()
    polls = PollSchedule(180.0, 0.0, monotonic=clock)
    polls.next_poll_in("a", fetched=True)
    polls.request("a")  # webhook at t=1000
    clock.now += 5
    forced = polls.decide("a", None)
    assert forced.fetch and forced.newer_than == 1000.0 and not forced.annotated
    assert not polls.decide("a", None).fetch, "a request is served once"
    hard = polls.decide("a", "hard")
    assert hard.fetch and hard.hard and hard.annotated and hard.newer_than == 1005.0


def test_a_desired_object_tracked_by_another_application_is_a_shared_resource_warning() -> None:
    comp = comparison()
    comp.resources[0].live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "cm0", "annotations": {"argocd.argoproj.io/tracking-id": "billing:/ConfigMap:ns/cm0"}}}
    plan = plan_application(application(), comp, None, status={}, now=NOW, poll=POLL)
    assert [(c["type"], c["message"]) for c in plan.status["conditions"]] == [
        ("SharedResourceWarning", "ConfigMap/cm0 is part of applications a and billing")]
