"""Which operationState a sync step works on: new, continued, finished, or waiting for a retry backoff."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.api.application import Application
from rollouts.gitops.sync import begin_operation, fail_operation
from rollouts.kube.workqueue import WorkQueue

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
OP = {"sync": {"revision": "abc"}, "retry": {"limit": 2}}


def app(state: dict[str, Any] | None, operation: dict[str, Any] | None = OP) -> Application:
    return Application.model_validate({
        "metadata": {"name": "a"}, "operation": operation,
        "spec": {"source": {"repoURL": "file:///r"}, "destination": {"namespace": "ns"}},
        "status": {"operationState": state} if state else None})


def state(phase: str, *, retry_count: int = 0, finished: datetime | None = None,
          operation: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"operation": operation or OP, "phase": phase, "startedAt": "2024-05-01T11:00:00Z",
                           "message": "boom"}
    if retry_count:
        out["retryCount"] = retry_count
    if finished:
        out["finishedAt"] = finished.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out



@pytest.mark.parametrize(
    "previous",
    [
        pytest.param(None, id="no-previous-state"),
        pytest.param(state("Succeeded", finished=NOW), id="same-operation-after-success"),
        pytest.param(state("Failed", finished=NOW), id="same-operation-after-failure"),
        pytest.param(state("Running", operation={"sync": {"revision": "other"}}), id="replaced-operation"),
    ],
)
def test_new_operation_starts_a_new_state(previous: dict[str, Any] | None) -> None:
    a = app(previous)
    assert a.operation is not None
    work, done = begin_operation(a, a.operation, NOW)
    assert done is None and work is not None
    assert work["phase"] == "Running" and work["startedAt"] == "2024-05-01T12:00:00Z"
    assert "retryCount" not in work


def test_running_state_is_continued() -> None:
    a = app(state("Running"))
    assert a.operation is not None
    work, done = begin_operation(a, a.operation, NOW)
    assert done is None and work is not None and work["startedAt"] == "2024-05-01T11:00:00Z"


def test_retry_waits_until_its_start_time() -> None:
    pending = state("Running", retry_count=1)
    pending["startedAt"] = "2024-05-01T12:00:07Z"
    a = app(pending)
    assert a.operation is not None
    work, done = begin_operation(a, a.operation, NOW)
    assert work is None and done is not None and not done.done and done.requeue == 7.0
    work, done = begin_operation(a, a.operation, NOW + timedelta(seconds=8))
    assert done is None and work is not None and work["retryCount"] == 1


@pytest.mark.parametrize(
    ("retry_count", "outcome", "delay"),
    [
        pytest.param(0, "retry", 5.0, id="first-retry-in-5s"),
        pytest.param(1, "retry", 10.0, id="second-retry-in-10s"),
        pytest.param(2, "failed", None, id="limit-reached"),
    ],
)
def test_failure_retries_with_backoff_then_fails(retry_count: int, outcome: str, delay: float | None) -> None:
    a = app(state("Running", retry_count=retry_count))
    assert a.operation is not None
    work = state("Running", retry_count=retry_count)
    work["syncResult"] = {"revision": "abc", "resources": [{"kind": "ConfigMap", "name": "x"}]}
    step, _ = fail_operation(a.operation, work, "boom", NOW, sync_fail_hooks=None)
    if outcome == "retry":
        assert not step.done and step.requeue == delay
        assert step.state["phase"] == "Running" and step.state["retryCount"] == retry_count + 1
        assert step.state["message"].startswith(f"Retrying attempt #{retry_count + 1}")
        assert "syncResult" not in step.state
    else:
        assert step.done and step.state["phase"] == "Failed" and step.state["message"] == "boom"


async def test_queue_coalesces_and_requeues_keys_added_while_processing() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.add("a")
    assert len(queue) == 1
    key = await queue.get()
    queue.add("a")  # a change seen while "a" is being reconciled
    assert len(queue) == 0
    queue.done(key)
    assert len(queue) == 1
    timers = asyncio.create_task(queue.run_timers())
    try:
        await queue.get()
        queue.done("a")
        queue.add_after("b", 0.05)
        queue.add_after("b", 10)  # the earliest pending time wins
        assert await asyncio.wait_for(queue.get(), 2) == "b"
    finally:
        timers.cancel()
