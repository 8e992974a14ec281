"""The Application planner: from what one pass observed, the status to write, the operation to start or
clear, and when to look again. Pure: ``now`` and the poll timing are parameters.

Why this module exists: it is every decision of the Application reconciler in one place that tables can
test (``reconciler.py`` only observes and executes). A pass observed a comparison (or why there is none) and,
when an operation runs, the step the sync runner took; this module turns that into Argo CD's status (sync,
health, resources, operationState, history, conditions with stable transition times), an automated sync
when the policy asks for one (``autosync.py``), and the requeue: the next poll, sooner while an operation
runs or a self-heal backoff expires, at once after an operation finished (to show the post-sync state).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollouts.api.application import Application, ApplicationConditionType, HealthStatusCode, SyncStatusCode
from rollouts.api.appproject import SyncWindow
from rollouts.api.common import format_time
from rollouts.gitops.autosync import decide_auto_sync
from rollouts.gitops.comparison import ClusterError, Comparison, ComparisonError, Outcome, SpecError
from rollouts.gitops.operation import next_history
from rollouts.gitops.orphans import orphans_message
from rollouts.gitops.status import apply_comparison, conditions_with_times, shared_resources, started_at
from rollouts.gitops.sync import SyncStep
from rollouts.gitops.windows import can_sync

Obj = dict[str, Any]
Condition = tuple[str, str]
AFTER_OPERATION = 0.1
"""Seconds: an operation finished; compare again at once so the status shows the synced state."""
START_OPERATION = 0.0
WINDOW_RECHECK = 60.0
"""Seconds: an automated sync held back by a sync window looks again (windows open on minute boundaries)."""


@dataclass(frozen=True, slots=True)
class PollTiming:
    """What the pass did with Git and when the poll schedule wants the next look."""

    fetched: bool
    next_poll_in: float
    clear_refresh_annotation: bool = False


@dataclass(frozen=True, slots=True)
class ClearRefreshAnnotation:
    """The ``argocd.argoproj.io/refresh`` request was served: remove the annotation."""


AppAction = ClearRefreshAnnotation


@dataclass(frozen=True, slots=True)
class ApplicationPlan:
    status: Obj
    """The whole status to write (a write happens only when it differs from the stored one)."""
    clear_operation: bool = False
    """The operation is over: remove ``operation`` (guarded, so a newer request is never lost)."""
    new_operation: Obj | None = None
    """An automated sync to start."""
    actions: tuple[AppAction, ...] = ()
    requeue: float | None = None


def _comparison_status(status: Obj, app: Application, comparison: Outcome) -> list[Condition]:
    if isinstance(comparison, ComparisonError):
        status["sync"] = {**(status.get("sync") or {}), "status": SyncStatusCode.UNKNOWN.value}
        if isinstance(comparison, SpecError | ClusterError) or not status.get("health"):
            status["health"] = {"status": HealthStatusCode.UNKNOWN.value}
        return [(comparison.condition.value, message) for message in comparison.messages or (str(comparison),)]
    apply_comparison(status, app, comparison)
    found = [(ApplicationConditionType.SHARED_RESOURCE_WARNING.value, m) for m in shared_resources(app, comparison)]
    for key, count in sorted(comparison.repeated.items(), key=lambda item: str(item[0])):
        found.append((ApplicationConditionType.REPEATED_RESOURCE_WARNING.value,
                      f"Resource {key.group}/{key.kind}/{key.namespace}/{key.name} appeared {count} times among "
                      "application resources."))
    if comparison.orphaned:
        found.append((ApplicationConditionType.ORPHANED_RESOURCE_WARNING.value,
                      orphans_message(len(comparison.orphaned))))
    return found


def _operation_status(status: Obj, app: Application, step: SyncStep, now: datetime, requeue: float) -> float:
    """Write the step's operationState (and a history entry on success); the requeue it asks for."""
    status["operationState"] = step.state
    if step.succeeded and step.revision is not None and step.source is not None:
        assert app.operation is not None
        status["history"] = next_history(
            app.status.history or [] if app.status else [], revision=step.revision, source=step.source,
            deployed_at=now, started_at=started_at(step.state), initiated_by=app.operation.initiated_by,
            limit=app.spec.revision_history_limit, metadata=step.revision_metadata, revisions=step.revisions,
            sources=step.sources)
    if step.done:
        return AFTER_OPERATION
    return min(requeue, step.requeue) if step.requeue is not None else requeue


@dataclass(frozen=True, slots=True)
class _AutoSync:
    operation: Obj | None
    requeue: float
    conditions: list[Condition]


def _auto_sync(app: Application, comparison: Comparison[Any], now: datetime, requeue: float,
               windows: Sequence[SyncWindow]) -> _AutoSync:
    decision = decide_auto_sync(app, sync_status=comparison.sync_status, revision=comparison.revision,
                                desired_count=len(comparison.desired()), owned_count=comparison.owned_count(),
                                now=now, revisions=comparison.revisions)
    conditions = [(ApplicationConditionType.SYNC_ERROR.value, decision.reason)] if decision.error else []
    if decision.operation is not None and not can_sync(windows, app, manual=False, now=now).allowed:
        # As Argo CD: the automated sync waits for the window, without a condition; look again in a minute.
        return _AutoSync(None, min(requeue, WINDOW_RECHECK), conditions)
    if decision.operation is not None:
        return _AutoSync(decision.operation, START_OPERATION, conditions)
    if decision.retry_after is not None:
        requeue = min(requeue or decision.retry_after, decision.retry_after)
    return _AutoSync(None, requeue, conditions)


def _with_conditions(status: Obj, conditions: list[Condition], now: datetime) -> None:
    previous = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    if conditions or previous:
        status["conditions"] = conditions_with_times(previous, conditions, now)
    if not status.get("conditions"):
        status.pop("conditions", None)


def plan_application(
    app: Application,
    comparison: Outcome,
    sync_progress: SyncStep | None,
    *,
    status: Mapping[str, Any],
    now: datetime,
    poll: PollTiming,
    sync_windows: Sequence[SyncWindow] = (),
) -> ApplicationPlan:
    """The pass's decisions. ``status`` is the stored status (unknown fields are kept as they are).

    OutOfSync at abc, automated, nothing running -> new_operation sync abc, requeue 0; Synced, next poll in
    170 s -> requeue 170; an operation step waiting 1 s for a wave -> requeue 1; the step finished -> clear
    the operation, requeue 0.1; ComparisonError -> condition, sync Unknown, no auto-sync.
    """
    out = dict(status)
    conditions = _comparison_status(out, app, comparison)
    if poll.fetched or not out.get("reconciledAt"):
        out["reconciledAt"] = format_time(now)
    requeue = poll.next_poll_in
    new_operation = None
    if sync_progress is not None:
        requeue = _operation_status(out, app, sync_progress, now, requeue)
    elif not isinstance(comparison, ComparisonError):
        auto = _auto_sync(app, comparison, now, requeue, sync_windows)
        conditions += auto.conditions
        new_operation, requeue = auto.operation, auto.requeue
    _with_conditions(out, conditions, now)
    return ApplicationPlan(
        status=out, clear_operation=sync_progress is not None and sync_progress.done, new_operation=new_operation,
        actions=(ClearRefreshAnnotation(),) if poll.clear_refresh_annotation else (), requeue=requeue)


def plan_invalid_spec(status: Mapping[str, Any], problem: str, now: datetime) -> ApplicationPlan:
    """An Application that cannot be read: an InvalidSpecError condition naming the field, nothing else."""
    previous = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    conditions = conditions_with_times(previous, [(ApplicationConditionType.INVALID_SPEC_ERROR.value, problem)], now)
    return ApplicationPlan(status={**status, "conditions": conditions})
